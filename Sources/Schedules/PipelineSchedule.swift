import TraceModel

/// One operation of a pipeline schedule: forward (F), input-gradient backward (B), weight-gradient
/// backward (W), or the fused backward (BW = B+W, as 1F1B-style schedules run it).
public struct PipelineOp: Hashable, Sendable, CustomStringConvertible {
  /// Forward, input-gradient backward, weight-gradient backward, and fused B+W: the Zero Bubble
  /// paper's names, which the diagrams and op labels print.
  // swift-format-ignore: AlwaysUseLowerCamelCase
  public enum Kind: String, Sendable { case F, B, W, BW }
  public var kind: Kind
  public var stage: Int
  /// Model chunk on this stage (0 unless the schedule has v > 1 chunks).
  public var chunk: Int
  public var microbatch: Int
  public var description: String { "\(kind.rawValue)\(microbatch)\(chunk > 0 ? "c\(chunk)" : "")@\(stage)" }
  public init(kind: Kind, stage: Int, chunk: Int, microbatch: Int) {
    self.kind = kind
    self.stage = stage
    self.chunk = chunk
    self.microbatch = microbatch
  }
}

/// Timing and memory inputs of a schedule: per-stage costs per micro-batch (a chunked schedule
/// splits them evenly over its v chunks), stage-to-stage transfer time, activation memory.
public struct PipelineCosts: Sendable, Equatable {
  public var forward: [Nanoseconds]
  public var backward: [Nanoseconds]
  public var weight: [Nanoseconds]
  public var comm: Nanoseconds
  /// Activation memory held from F until B (M_B) and from B until W (M_W), per micro-batch per stage.
  public var memB: Bytes
  public var memW: Bytes

  public init(
    stages p: Int, forward: Nanoseconds, backward: Nanoseconds, weight: Nanoseconds, comm: Nanoseconds = .zero,
    memB: Bytes = Bytes(0), memW: Bytes = Bytes(0)
  ) {
    self.forward = Array(repeating: forward, count: p)
    self.backward = Array(repeating: backward, count: p)
    self.weight = Array(repeating: weight, count: p)
    self.comm = comm
    self.memB = memB
    self.memW = memW
  }

  public init(
    forward: [Nanoseconds], backward: [Nanoseconds], weight: [Nanoseconds], comm: Nanoseconds, memB: Bytes, memW: Bytes
  ) {
    self.forward = forward
    self.backward = backward
    self.weight = weight
    self.comm = comm
    self.memB = memB
    self.memW = memW
  }
}

/// A simulated schedule: when each op ran, and the metrics.
public struct ScheduleResult: Sendable {
  public var name: String
  public var stages: Int
  public var microbatches: Int
  public var chunks: Int
  /// Per stage, its ops in execution order with start and end.
  public var ops: [[(op: PipelineOp, start: Nanoseconds, end: Nanoseconds)]]
  /// Cost as Zero Bubble defines it: max over stages of (last end − first start).
  public var makespan: Nanoseconds
  /// (cost − m·(T_F + T_B + T_W)) / cost, with the slowest stage's per-micro-batch work
  /// (Zero Bubble, Qi et al. ICLR'24, App. G objective (3)).
  public var bubbleRate: Double
  /// Megatron's bubble time fraction: bubble / ideal time = (cost − ideal) / ideal
  /// (Narayanan et al. SC'21 §2.2).
  public var bubbleFraction: Double
  public var busy: [Nanoseconds]
  public var idle: [Nanoseconds]
  public var peakActivation: [Bytes]
  public var peakInFlight: [Int]
  /// PipeOffload: the offload applied, and per stage the activation memory it saves and the
  /// time it adds (zero when no offload was asked for).
  public var offload: Offload? = nil

  public struct Offload: Sendable, Equatable {
    public var ratio: Double
    public var pcieBandwidth: BytesPerSecond
    /// Per stage: activation memory saved, time added, and the peak that remains.
    public var saved: [Bytes]
    public var added: [Nanoseconds]
    public var peakActivationAfter: [Bytes]
  }
}

public enum ScheduleError: Error, CustomStringConvertible, Sendable {
  case unknown(String, known: [String])
  case invalid(String)
  case deadlock(String)
  public var description: String {
    switch self {
    case .unknown(let n, let known): "unknown schedule '\(n)'; known: \(known.joined(separator: ", "))"
    case .invalid(let m): m
    case .deadlock(let m): "schedule cannot proceed: \(m)"
    }
  }
}

/// Where the virtual stages (model chunks) of a micro-batch live.
///
/// Virtual stage k = chunk·p + position. `interleaved` (Megatron): chunk c, position q on stage q.
/// `wave` (Hanayo, Liu et al. SC'23): chunks alternate direction — even chunks run down the stages,
/// odd chunks back up (a V for two chunks, as ZB-V). `bidirectional` (BitPipe, arXiv 2410.19367):
/// even micro-batches follow the V down-then-up, odd ones the mirrored V up-then-down.
public enum Placement: Sendable {
  case interleaved, wave, bidirectional

  public func stage(of k: Int, microbatch j: Int, stages p: Int) -> Int {
    let c = k / p
    let q = k % p
    switch self {
    case .interleaved: return q
    case .wave: return c % 2 == 0 ? q : p - 1 - q
    case .bidirectional:
      let down = c % 2 == 0 ? q : p - 1 - q
      return j % 2 == 0 ? down : p - 1 - down
    }
  }

  public func virtualStage(stage s: Int, chunk c: Int, microbatch j: Int, stages p: Int) -> Int {
    switch self {
    case .interleaved: return c * p + s
    case .wave: return c * p + (c % 2 == 0 ? s : p - 1 - s)
    case .bidirectional:
      let down = j % 2 == 0 ? s : p - 1 - s
      return c * p + (c % 2 == 0 ? down : p - 1 - down)
    }
  }
}
