import CostModels
import Foundation
import Parallel
import Rendering
import Replay
import Schedules
import TraceModel

/// `reprise plan TRACE --gpus N`: every (dp, tp, pp, cp, schedule, micro-batches) layout of N
/// devices predicted from one recorded run, memory checked first, ranked by predicted step
/// (`reprise.plan/v1`; docs/models/parallel.md, "reprise plan").
public struct ParallelPlan: JSONContract, Equatable {
  public static let schemaName = "reprise.plan"
  public static let schemaVersion = 1

  /// One ranked plan.
  public struct Entry: Codable, Sendable, Equatable {
    /// 1 for the fastest.
    public var rank: Int
    /// `dp=A,tp=B,pp=C,cp=D schedule m=M`: unique in the search, the last tie-break.
    public var name: String
    public var layout: ParallelWhatIf.Layout
    public var stepNs: Nanoseconds
    /// The interval as `whatif --parallel` gives it.
    public var lowNs: Nanoseconds
    public var highNs: Nanoseconds
    /// (predicted − baseline) / baseline × 100, 3 decimals.
    public var changePct: Double
    /// Global batch × sequence / step.
    public var tokensPerSecond: Double
    /// HBM − peak bytes per rank (null when the memory was not checked).
    @NullWhenAbsent public var headroomBytes: Bytes?
    @NullWhenAbsent public var memory: ParallelWhatIf.Memory?
    public var bubbleFraction: Double
    /// `prediction.bottleneck`: compute, bubble, tp, cp, dp, pp, optimizer or other.
    public var bottleneck: String
  }

  /// Candidates left out, by reason.
  public struct Refusal: Codable, Sendable, Equatable {
    /// `layout`: a whole (dp, tp, pp, cp) the predictor cannot answer; `candidate`: one
    /// schedule and micro-batch count of a layout.
    public var level: String
    /// The reason with its numbers replaced by N (so that one rule counts once).
    public var reason: String
    public var count: Int
    /// The first refused candidate and its full message.
    public var example: String
  }

  public struct Counts: Codable, Sendable, Equatable {
    /// (dp, tp, pp, cp) with dp·tp·pp·cp = N.
    public var layouts: Int
    /// Layouts refused as a whole (no candidates enumerated for them).
    public var layoutsRefused: Int
    /// Candidates of the other layouts: schedules (pp > 1) × micro-batch counts; each one is
    /// predicted, infeasible by memory or refused.
    public var enumerated: Int
    public var predicted: Int
    public var infeasibleByMemory: Int
    /// The largest overshoot of the device's HBM among the infeasible ones.
    public var largestOverBytes: Bytes
    @NullWhenAbsent public var largestOver: String?
    /// Candidates refused.
    public var refused: Int
    public var refusedByReason: [Refusal]
  }

  /// The recorded run the search starts from.
  public struct Recorded: Codable, Sendable, Equatable {
    public var layout: ParallelWhatIf.Layout
    public var source: String
    public var measuredStepNs: Nanoseconds
    public var baselineStepNs: Nanoseconds
    public var tokensPerSecond: Double
  }

  public private(set) var schema = Self.schema
  public var trace: String
  public var gpus: Int
  public var globalBatch: Int
  /// `as recorded` or `--global-batch`.
  public var globalBatchSource: String
  /// Tokens per sequence (1 when the shapes do not show it: tokens/s then counts sequences).
  public var sequence: Int
  @NullWhenAbsent public var hardware: String?
  @NullWhenAbsent public var cluster: String?
  public var model: String
  public var modelSource: String
  public var schedules: [String]
  /// How the micro-batch counts are chosen.
  public var microbatchRule: String
  public var zeroStage: Int
  public var activations: String
  public var recorded: Recorded
  public var fidelity: Fidelity
  public var modelErrorPct: Double
  public var plans: [Entry]
  public var counts: Counts
  public var notes: [String]
}

/// The inputs of `reprise plan` besides the trace and the study.
public struct PlanRequest: Sendable, Equatable {
  public var gpus: Int
  /// Plans shown.
  public var top: Int
  /// Sequences per step over the job; nil: as recorded.
  public var globalBatch: Int?
  public var zeroStage: Int
  public var activations: Transformer.ActivationConfig
  /// The pipeline schedules tried for pp > 1.
  public var schedules: [String]

  public init(
    gpus: Int, top: Int = 10, globalBatch: Int? = nil, zeroStage: Int = 0,
    activations: Transformer.ActivationConfig = .tensorSequenceSelective, schedules: [String] = ScheduleGenerators.names
  ) {
    (self.gpus, self.top, self.globalBatch, self.zeroStage) = (gpus, top, globalBatch, zeroStage)
    (self.activations, self.schedules) = (activations, schedules)
  }
}

extension ParallelPlan {
  public static let microbatchRule =
    "m in {pp, 2·pp, 4·pp, 8·pp, G/dp} that divide the per-replica batch G/dp (m ≥ pp)"

  /// Searches the layouts of `request.gpus` devices.
  /// - Throws: `ParallelError` for a request no layout can meet (fewer than one GPU, a global
  ///   batch below one).
  public init(_ study: ParallelStudy, cluster: String?, request: PlanRequest) throws {
    guard request.gpus >= 1 else { throw ParallelError("--gpus must be ≥ 1; got \(request.gpus)") }
    guard request.top >= 1 else { throw ParallelError("--top must be ≥ 1; got \(request.top)") }
    if let g = request.globalBatch, g < 1 { throw ParallelError("--global-batch must be ≥ 1; got \(g)") }
    let model = study.predictor
    var search = PlanSearch(study: study, request: request)
    let found = search.run()
    let recordedBatch = try model.batching(model.recorded, ParallelOptions(microbatches: model.recordedMicrobatches))
    trace = study.trace
    gpus = request.gpus
    globalBatch = search.global
    globalBatchSource = request.globalBatch == nil ? "as recorded" : "--global-batch"
    sequence = max(1, model.dims?.sequence ?? 1)
    hardware = study.hardware?.name
    self.cluster = cluster
    let memoryModel = study.memoryModel
    self.model = memoryModel?.name ?? "unknown"
    modelSource = study.modelSource
    schedules = request.schedules
    microbatchRule = Self.microbatchRule
    zeroStage = request.zeroStage
    activations = request.activations.rawValue
    let tokens = Double(sequence)
    recorded = Recorded(
      layout: ParallelWhatIf.Layout(
        dp: model.recorded.dp, tp: model.recorded.tp, pp: model.recorded.pp, cp: model.recorded.cp,
        worldSize: model.recorded.worldSize, schedule: model.recorded.pp > 1 ? model.recordedSchedule : "none",
        microbatches: model.recordedMicrobatches, microBatchSize: recordedBatch.size, globalBatch: recordedBatch.global),
      source: study.recordedSource, measuredStepNs: study.measuredStep, baselineStepNs: study.baselineStep,
      tokensPerSecond: Self.rate(Double(recordedBatch.global) * tokens, study.baselineStep))
    fidelity = Fidelity(
      identityErrorPct: study.identityErrorPct, coverage: study.coverage,
      note: "every plan re-partitioned from the recorded shapes (docs/models/parallel.md)")
    modelErrorPct = ParallelWhatIf.modelError * 100
    let ranked = found.sorted(by: PlanSearch.Found.precedes)
    plans = ranked.prefix(request.top).enumerated().map { i, f in
      Self.entry(f, rank: i + 1, study: study, tokens: Double(search.global) * tokens)
    }
    counts = search.counts
    notes = Self.notes(search, study: study, found: found.count)
  }

  static func rate(_ tokens: Double, _ step: Nanoseconds) -> Double {
    step.rawValue > 0 ? (tokens / (Double(step.rawValue) / 1e9)).rounded() : 0
  }

  static func entry(_ f: PlanSearch.Found, rank: Int, study: ParallelStudy, tokens: Double) -> Entry {
    let p = f.prediction
    let e = ParallelWhatIf.modelError
    let id = abs(study.identityErrorPct) / 100
    let step = Double(p.stepNs.rawValue)
    let changed = Double(p.changedNs.rawValue)
    let l = p.layout
    return Entry(
      rank: rank, name: f.name,
      layout: ParallelWhatIf.Layout(
        dp: l.dp, tp: l.tp, pp: l.pp, cp: l.cp, worldSize: l.worldSize, schedule: p.schedule,
        microbatches: p.microbatches, microBatchSize: p.microBatchSize, globalBatch: p.globalBatch),
      stepNs: p.stepNs, lowNs: Nanoseconds(rawValue: Int64(max(0, step * (1 - id) - e * changed).rounded())),
      highNs: Nanoseconds(rawValue: Int64((step * (1 + id) + e * changed).rounded())),
      changePct: (Fidelity.errorPct(p.stepNs, study.baselineStep) * 1000).rounded() / 1000,
      tokensPerSecond: rate(tokens, p.stepNs),
      headroomBytes: f.memory.map { $0.hbmBytes - $0.peakBytesPerRank }, memory: f.memory,
      bubbleFraction: (p.bubbleFraction * 10000).rounded() / 10000, bottleneck: p.bottleneck)
  }

  static func notes(_ search: PlanSearch, study: ParallelStudy, found: Int) -> [String] {
    var notes: [String] = []
    if let note = study.clusterNote(world: search.request.gpus) { notes.append(note) }
    if let why = search.memoryNote {
      notes.append("memory not checked, every plan is ranked without it: \(why)")
    }
    if study.predictor.dims?.sequence == nil {
      notes.append("the shapes do not show the sequence length: tokens/s counts sequences")
    }
    if found == 0 {
      notes.append(
        "no layout of \(search.request.gpus) devices could be predicted and fits: see the counts"
          + (search.request.globalBatch == nil ? " (a larger --global-batch lets more of them split)" : ""))
    }
    notes.append(
      "ranked by predicted step (the global batch is the same for every plan, so also by tokens/s); "
        + "ties: fewer pipeline stages, then the name")
    return notes
  }

  /// The text report.
  public func text() -> String {
    func ms(_ n: Nanoseconds) -> String { String(format: "%.3f", Double(n.rawValue) / 1e6) }
    let r = recorded.layout
    var lines = [
      "plan: \(trace) on \(gpus) device(s)" + (hardware.map { " (\($0))" } ?? "")
        + (cluster.map { ", cluster \($0)" } ?? "")
        + ", model \(model) [\(modelSource)]",
      "  recorded: dp=\(r.dp) tp=\(r.tp) pp=\(r.pp) cp=\(r.cp) [\(recorded.source)], baseline \(ms(recorded.baselineStepNs)) ms, "
        + "\(TextFormat.compact(recorded.tokensPerSecond)) tokens/s",
      "  global batch \(globalBatch) (\(globalBatchSource)), sequence \(sequence); \(microbatchRule); "
        + "ZeRO-\(zeroStage), \(activations) activations",
      ParallelStudy.fidelityLine(fidelity),
      "  searched \(counts.layouts) layouts (\(counts.layoutsRefused) refused), \(counts.enumerated) candidates: "
        + "\(counts.predicted) predicted, "
        + "\(counts.infeasibleByMemory) do not fit"
        + (counts.largestOver.map { " (largest overshoot \(ParallelWhatIf.gib(counts.largestOverBytes)): \($0))" } ?? "")
        + ", \(counts.refused) refused",
    ]
    lines += counts.refusedByReason.map { "    refused \($0.count) \($0.level)(s): \($0.reason)" }
    let header = [
      "#".leftPadded(3), "layout".padded(22), "schedule".padded(16), "m×size".padded(8), "step ms".leftPadded(10),
      "interval ms".leftPadded(20), "tokens/s".leftPadded(10), "headroom".leftPadded(11), "bubble".leftPadded(7),
      "  bottleneck",
    ]
    lines.append("  " + header.joined(separator: " "))
    for e in plans {
      let l = e.layout
      let room = e.headroomBytes.map { ParallelWhatIf.gib($0) } ?? "unchecked"
      let cells = [
        "\(e.rank)".leftPadded(3), "dp=\(l.dp),tp=\(l.tp),pp=\(l.pp),cp=\(l.cp)".padded(22), l.schedule.padded(16),
        "\(l.microbatches)×\(l.microBatchSize)".padded(8), ms(e.stepNs).leftPadded(10),
        "\(ms(e.lowNs))–\(ms(e.highNs))".leftPadded(20), TextFormat.compact(e.tokensPerSecond).leftPadded(10),
        room.leftPadded(11), String(format: "%.1f%%", (max(0, e.bubbleFraction) + 0) * 100).leftPadded(7),
        "  " + e.bottleneck,
      ]
      lines.append("  " + cells.joined(separator: " "))
    }
    lines += notes.map { "  note: " + $0 }
    return lines.joined(separator: "\n")
  }
}
