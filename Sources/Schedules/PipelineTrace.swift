import TraceModel

/// What a recorded pipeline-parallel run looks like: stages, micro-batches, and per-stage
/// forward and backward time per micro-batch, recovered from the host timeline.
///
/// Works on traces of `torch.distributed.pipelining` (and similar): each rank is a stage (in rank
/// order) connected to its neighbours by send/recv; on the thread that holds the
/// `ProfilerStep#N` annotation, the step's top-level work — annotation wrappers such as
/// `Forward i`, `Backward i` or `PP:…` are looked through — is split at communication ops into
/// segments: forward segments (framework ops) and backward segments (`autograd::…`). Each
/// segment's span (first start to last end) is one micro-batch's F or B on that stage.
public struct PipelineProfile: Sendable, Equatable {
  public var stages: Int
  public var microbatches: Int
  /// Forward / backward time per micro-batch per stage.
  public var forward: [Nanoseconds]
  public var backward: [Nanoseconds]
  /// `gpipe` when the trace has ScheduleGPipe's `Backward i` annotations or every forward of a step
  /// precedes every backward on the first stage, else `1f1b`.
  public var detectedSchedule: String
  /// The measured job step (docs/Glossary.md: first rank's entry to the step's last work),
  /// averaged over the steps.
  public var measuredStep: Nanoseconds

  public enum Failure: Error, CustomStringConvertible, Sendable {
    case notPipeline(String)
    public var description: String {
      switch self {
      case .notPipeline(let m): "not a pipeline-parallel trace: \(m)"
      }
    }
  }

  public static func analyze(_ g: EventGraph) throws -> PipelineProfile {
    let ranks = g.ranks.map(\.rank).sorted()
    guard ranks.count >= 2 else {
      throw Failure.notPipeline("needs at least two ranks (one per stage); found \(ranks.count)")
    }
    guard g.p2p.contains(where: { $0.match != nil }) else {
      throw Failure.notPipeline("no matched send/recv between ranks")
    }
    guard !g.steps.isEmpty else { throw Failure.notPipeline("no ProfilerStep annotations to delimit steps") }
    var children = [[Int]](repeating: [], count: g.eventCount)
    for e in 0..<g.eventCount where g.parent[e] != .none { children[g.parent[e].index].append(e) }
    enum Item { case forward, backward, comm }
    func classify(_ e: Int) -> Item? {
      let name = g.strings[g.name[e]]
      switch g.kind[e] {
      case .send, .recv, .collective: return .comm
      case .hostOp:
        if name.hasPrefix("c10d::") || name.hasPrefix("record_param_comms") { return .comm }
        if name.hasPrefix("autograd::") { return .backward }
        if name.hasPrefix("aten::") || name.hasPrefix("torch::") { return .forward }
        return nil
      default: return nil
      }
    }
    func items(_ e: Int) -> [Int] {
      var out: [Int] = []
      for c in children[e].sorted(by: { (g.start[$0], $0) < (g.start[$1], $1) }) {
        if g.kind[c] == .annotation { out += items(c) } else { out.append(c) }
      }
      return out
    }
    var forward: [Int64] = []
    var backward: [Int64] = []
    var microbatches: [Int] = []
    var gpipeLike = true
    // Micro-batches per step: the sends of the first stage (one activation per micro-batch).
    let firstStage = ranks[0]
    let sendsOfFirst = g.p2p.filter { $0.isSend && g.rank(of: $0.event.index) == firstStage }.map {
      g.start[$0.event.index]
    }
    for r in ranks {
      var f: [Int64] = []
      var b: [Int64] = []
      for step in g.steps where step.rank == r {
        if r == firstStage {
          microbatches.append(sendsOfFirst.filter { $0 >= step.start.rawValue && $0 < step.end.rawValue }.count)
        }
        var fTotal: Int64 = 0
        var bTotal: Int64 = 0
        var lastForwardEnd = Int64.min
        var firstBackwardStart = Int64.max
        for e in items(step.event.index) {
          switch classify(e) {
          case .forward?:
            fTotal += g.duration[e]
            lastForwardEnd = max(lastForwardEnd, g.end(e))
          case .backward?:
            bTotal += g.duration[e]
            firstBackwardStart = min(firstBackwardStart, g.start[e])
          default: break
          }
        }
        f.append(fTotal)
        b.append(bTotal)
        if r == firstStage && firstBackwardStart < lastForwardEnd { gpipeLike = false }
      }
      guard !f.isEmpty, f.contains(where: { $0 > 0 }), b.contains(where: { $0 > 0 }) else {
        throw Failure.notPipeline("rank \(r) has no forward or backward work in its steps")
      }
      f.sort()
      b.sort()
      forward.append(f[f.count / 2])
      backward.append(b[b.count / 2])
    }
    // torch.distributed.pipelining's ScheduleGPipe labels its passes `Forward i` / `Backward i`.
    if (0..<g.eventCount).contains(where: { g.kind[$0] == .annotation && g.strings[g.name[$0]].hasPrefix("Backward ") })
    {
      gpipeLike = true
    }
    let m = microbatches.sorted()[microbatches.count / 2]
    guard m >= 1 else { throw Failure.notPipeline("no sends from the first stage: micro-batches unknown") }
    let measured = StepSpans(g, membership: StepMembership(g), timeline: Timeline(measured: g)).meanJobStep
    return PipelineProfile(
      stages: ranks.count, microbatches: m, forward: forward.map { Nanoseconds($0 / Int64(m)) },
      backward: backward.map { Nanoseconds($0 / Int64(m)) }, detectedSchedule: gpipeLike ? "gpipe" : "1f1b",
      measuredStep: measured)
  }

  /// The share of a fused backward taken as the weight-gradient pass W when a schedule runs W
  /// on its own (Zero Bubble's schedules): the recorded backward is B and W together, and the
  /// trace cannot tell them apart, so it is split evenly, B = W (Qi et al., ICLR'24, take
  /// T_B = T_W for transformer layers).
  public static let fusedWeightFraction = 0.5

  /// The per-stage B and W a schedule is simulated with: the recorded backward split by
  /// `fusedWeightFraction`. Schedules that fuse B and W (GPipe, 1F1B, interleaved) run the sum,
  /// which is the recorded backward.
  public var splitBackward: (input: [Nanoseconds], weight: [Nanoseconds]) {
    let weight = backward.map { Nanoseconds(Int64((Double($0.rawValue) * Self.fusedWeightFraction).rounded())) }
    return (zip(backward, weight).map { $0 - $1 }, weight)
  }

  /// The step under another schedule: the measured step minus the simulated source schedule
  /// plus the simulated target (host work and gaps outside the pipeline kept), using the
  /// recorded per-stage F and the backward split into B and W (`splitBackward`).
  public func predict(_ target: String, chunks: Int? = nil, comm: Nanoseconds = .zero) throws
    -> (source: ScheduleResult, target: ScheduleResult, predictedStep: Nanoseconds)
  {
    let (input, weight) = splitBackward
    let costs = PipelineCosts(
      forward: forward, backward: input, weight: weight, comm: comm, memB: Bytes(0), memW: Bytes(0))
    let src = try ScheduleSimulator.simulate(detectedSchedule, stages: stages, microbatches: microbatches, costs: costs)
    let dst = try ScheduleSimulator.simulate(
      target, stages: stages, microbatches: microbatches, chunks: chunks, costs: costs)
    return (src, dst, measuredStep - src.makespan + dst.makespan)
  }
}
