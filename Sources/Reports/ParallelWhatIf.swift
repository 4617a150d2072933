import CostModels
import Foundation
import Parallel
import Rendering
import Replay
import Schedules
import TraceModel

/// `reprise whatif TRACE --parallel dp=…,tp=…,pp=…,cp=…`: the recorded run predicted under
/// another layout, with its memory checked (`reprise.parallel/v1`; docs/models/parallel.md).
public struct ParallelWhatIf: JSONContract, Equatable {
  public static let schemaName = "reprise.parallel"
  public static let schemaVersion = 1

  public struct Layout: Codable, Sendable, Equatable {
    public var dp: Int
    public var tp: Int
    public var pp: Int
    public var cp: Int
    public var worldSize: Int
    /// Pipeline schedule (`none` without a pipeline), micro-batches per step and their size.
    public var schedule: String
    public var microbatches: Int
    public var microBatchSize: Int
    public var globalBatch: Int
  }

  public struct Layouts: Codable, Sendable, Equatable {
    public var recorded: Layout
    public var predicted: Layout
    /// How the recorded layout was found (`--recorded`, or the detection's evidence).
    public var recordedSource: String
  }

  /// Step times of the job (ns).
  public struct StepTimes: Codable, Sendable, Equatable {
    /// Mean measured job step.
    public var measured: Nanoseconds
    /// The identity replay of the recording: what the prediction is anchored to.
    public var baseline: Nanoseconds
    public var predicted: Nanoseconds
    /// The interval: the re-timed part × (1 ± `modelErrorPct`), widened by the identity error.
    public var low: Nanoseconds
    public var high: Nanoseconds
  }

  /// Memory per rank of the predicted layout (`reprise model memory` with the same configuration).
  public struct Memory: Codable, Sendable, Equatable {
    public var peakBytesPerRank: Bytes
    public var hbmBytes: Bytes
    public var fits: Bool
    /// Bytes over the device's memory (0 when it fits).
    public var overBytes: Bytes
    public var model: String
    public var modelSource: String
    public var activations: String
    public var zeroStage: Int
    /// Micro-batches of activations the first stage holds at its peak, in whole-stage units.
    public var inFlightMicrobatches: Double
    public var weightBytes: Double
    public var gradientBytes: Double
    public var optimizerBytes: Double
    public var activationBytes: Double
    public var hardware: String
  }

  /// Where the step goes in the predicted layout (ns per step unless said).
  public struct Breakdown: Codable, Sendable, Equatable {
    public var pipelineNs: Nanoseconds
    public var forwardPerMicrobatchNs: Nanoseconds
    public var backwardPerMicrobatchNs: Nanoseconds
    public var tpCommPerMicrobatchNs: Nanoseconds
    public var cpExposedPerMicrobatchNs: Nanoseconds
    public var ppSendNs: Nanoseconds
    public var bubbleFraction: Double
    public var dpCommNs: Nanoseconds
    public var dpExposedNs: Nanoseconds
    public var gradientBytes: Bytes
    public var optimizerNs: Nanoseconds
    public var otherNs: Nanoseconds
    /// Measured − modeled recorded step, kept in every prediction.
    public var residualNs: Nanoseconds
    public var bottleneck: String
  }

  public private(set) var schema = Self.schema
  public var trace: String
  public var layout: Layouts
  public var stepNs: StepTimes
  /// (predicted − baseline) / baseline × 100, 3 decimals.
  public var changePct: Double
  public var fidelity: Fidelity
  /// The ± share applied to the re-timed part for the interval (percent).
  public var modelErrorPct: Double
  @NullWhenAbsent public var memory: Memory?
  /// Why `memory` is null, when it is.
  @NullWhenAbsent public var memoryNote: String?
  public var breakdown: Breakdown
  @NullWhenAbsent public var dims: TransformerDims?
  public var parameters: Double?
  public var parametersSource: String
  /// The recorded ops a TP split leaves whole (ns per step on one rank), longest first.
  public var unsharded: [UnshardedOp]
  public var notes: [String]

  public struct UnshardedOp: Codable, Sendable, Equatable {
    public var op: String
    public var durationNs: Nanoseconds
  }
}

extension ParallelWhatIf {
  /// The share of the re-timed part the interval spans either way (the cost models' ceiling
  /// error, as `whatif --hardware` uses it).
  public static let modelError = Scenario.modelCeilingError

  /// Predicts `target` from `study`.
  /// - Throws: `ParallelError` when the trace cannot answer this layout; `ScheduleError` for a
  ///   schedule that cannot run with these counts.
  public init(
    _ study: ParallelStudy, target: ParallelLayout, options: ParallelOptions,
    activations: Transformer.ActivationConfig = .tensorSequenceSelective
  ) throws {
    let model = study.predictor
    let p = try model.predict(target, options)
    let recordedBatch = try model.batching(model.recorded, ParallelOptions(microbatches: model.recordedMicrobatches))
    func doc(_ l: ParallelLayout, schedule: String, m: Int, size: Int, global: Int) -> Layout {
      Layout(
        dp: l.dp, tp: l.tp, pp: l.pp, cp: l.cp, worldSize: l.worldSize, schedule: schedule, microbatches: m,
        microBatchSize: size, globalBatch: global)
    }
    trace = study.trace
    layout = Layouts(
      recorded: doc(
        model.recorded, schedule: model.recorded.pp > 1 ? model.recordedSchedule : "none",
        m: model.recordedMicrobatches, size: recordedBatch.size, global: recordedBatch.global),
      predicted: doc(p.layout, schedule: p.schedule, m: p.microbatches, size: p.microBatchSize, global: p.globalBatch),
      recordedSource: study.recordedSource)
    let e = Self.modelError
    let id = abs(study.identityErrorPct) / 100
    let modeled = Double(p.modeledNs.rawValue)
    let changed = Double(p.changedNs.rawValue)
    let step = Double(p.stepNs.rawValue)
    stepNs = StepTimes(
      measured: study.measuredStep, baseline: study.baselineStep, predicted: p.stepNs,
      low: Nanoseconds(rawValue: Int64(max(0, step * (1 - id) - e * changed).rounded())),
      high: Nanoseconds(rawValue: Int64((step * (1 + id) + e * changed).rounded())))
    changePct = (Fidelity.errorPct(p.stepNs, study.baselineStep) * 1000).rounded() / 1000
    fidelity = Fidelity(
      identityErrorPct: study.identityErrorPct, coverage: study.coverage,
      note: "layout re-partitioned from the recorded shapes (docs/models/parallel.md); "
        + "\(Self.pct(modeled, step)) of the predicted step re-timed by the models, the rest kept as measured")
    modelErrorPct = e * 100
    let mem = try study.memory(p, options: options, activations: activations)
    memory = mem.memory
    memoryNote = mem.note
    breakdown = Breakdown(
      pipelineNs: p.pipelineNs, forwardPerMicrobatchNs: p.forwardNs, backwardPerMicrobatchNs: p.backwardNs,
      tpCommPerMicrobatchNs: p.tpCommNs, cpExposedPerMicrobatchNs: p.cpExposedNs, ppSendNs: p.ppSendNs,
      bubbleFraction: (p.bubbleFraction * 10000).rounded() / 10000, dpCommNs: p.dpCommNs, dpExposedNs: p.dpExposedNs,
      gradientBytes: p.gradientBytes, optimizerNs: p.optimizerNs, otherNs: p.otherNs, residualNs: p.residualNs,
      bottleneck: p.bottleneck)
    dims = model.dims
    parameters = model.parameters.map { $0.rounded() }
    parametersSource = model.parametersSource
    unsharded = target.tp != model.recorded.tp ? study.unsharded : []
    var notes: [String] = []
    if let m = mem.memory, !m.fits {
      notes.append(
        "infeasible: \(Self.gib(m.peakBytesPerRank)) per rank exceeds the \(m.hardware)'s \(Self.gib(m.hbmBytes)) by \(Self.gib(m.overBytes))"
      )
    }
    if target == model.recorded && options == ParallelOptions() { notes.append("the recorded layout: the baseline") }
    if let note = study.clusterNote(world: target.worldSize) { notes.append(note) }
    self.notes = notes
  }

  static func pct(_ x: Double, _ of: Double) -> String { of > 0 ? String(format: "%.1f%%", x / of * 100) : "0%" }
  static func gib(_ b: Bytes) -> String { String(format: "%.2f GiB", Double(b.rawValue) / 1_073_741_824) }

  /// Whether the layout fits (true when the memory could not be checked).
  public var feasible: Bool { memory?.fits ?? true }

  /// The text report.
  public func text() -> String {
    let r = layout.recorded
    let p = layout.predicted
    func ms(_ n: Nanoseconds) -> String { String(format: "%.3f ms", Double(n.rawValue) / 1e6) }
    func line(_ l: Layout) -> String {
      "dp=\(l.dp) tp=\(l.tp) pp=\(l.pp) cp=\(l.cp) (\(l.worldSize) ranks), "
        + (l.pp > 1 ? "\(l.schedule), " : "")
        + "\(l.microbatches) micro-batch(es) of \(l.microBatchSize), global batch \(l.globalBatch)"
    }
    var lines = [
      "parallel what-if: \(trace)",
      "  recorded:  " + line(r) + " [\(layout.recordedSource)]",
      "  predicted: " + line(p),
      "  step: measured \(ms(stepNs.measured)), baseline \(ms(stepNs.baseline)), predicted \(ms(stepNs.predicted)) "
        + String(format: "(%+.1f%%)", changePct) + ", interval \(ms(stepNs.low)) – \(ms(stepNs.high))",
      ParallelStudy.fidelityLine(fidelity),
    ]
    let b = breakdown
    lines.append(
      "  per micro-batch on the slowest stage: forward \(ms(b.forwardPerMicrobatchNs)), backward \(ms(b.backwardPerMicrobatchNs))"
        + (b.tpCommPerMicrobatchNs > .zero ? ", TP comm \(ms(b.tpCommPerMicrobatchNs))" : "")
        + (b.cpExposedPerMicrobatchNs > .zero ? ", CP exposed \(ms(b.cpExposedPerMicrobatchNs))" : ""))
    lines.append(
      "  step parts: pipeline \(ms(b.pipelineNs))"
        + (p.pp > 1 ? String(format: " (bubble %.1f%%)", b.bubbleFraction * 100) : "")
        + ", DP all-reduce \(ms(b.dpCommNs)) (exposed \(ms(b.dpExposedNs))), optimizer \(ms(b.optimizerNs)), "
        + "other \(ms(b.otherNs)), kept as measured \(ms(b.residualNs)); bottleneck: \(b.bottleneck)")
    if let m = memory {
      lines.append(
        "  memory per rank: \(Self.gib(m.peakBytesPerRank)) of \(Self.gib(m.hbmBytes)) on \(m.hardware) "
          + (m.fits ? "(fits)" : "(DOES NOT FIT: \(Self.gib(m.overBytes)) over)")
          + String(
            format: "; %@ activations, ZeRO-%d, %.2f micro-batches in flight", m.activations, m.zeroStage,
            m.inFlightMicrobatches))
    } else if let memoryNote {
      lines.append("  memory: not checked: \(memoryNote)")
    }
    if !unsharded.isEmpty {
      lines.append(
        "  left whole by TP (per step, one rank): "
          + unsharded.prefix(5).map { "\($0.op) \(ms($0.durationNs))" }.joined(separator: ", "))
    }
    lines += notes.map { "  note: " + $0 }
    return lines.joined(separator: "\n")
  }
}
