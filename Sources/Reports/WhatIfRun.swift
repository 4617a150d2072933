import Analysis
import CostModels
import Dispatch
import Foundation
import Rendering
import Replay
import TraceModel

/// A recorded run replayed as measured (the baseline) and, with a scenario, under its what-if
/// knobs: `reprise replay` and `reprise whatif`.
///
/// Holds both timelines, the step time of every rank and step under each, the time each rank
/// waited in collectives, and the per-class comparison of baseline and prediction (`diff`). The
/// JSON contract is `summary` (`reprise.replay/v1`); `text()` is the table the CLI prints.
public struct WhatIfRun: Sendable {
  public let plan: ReplayPlan
  public let measured: Timeline
  /// The identity replay (measured durations).
  public let baseline: Timeline
  /// The replay under `scenario`; the baseline when there is none.
  public let predicted: Timeline
  public let baselineSteps: [StepTime]
  /// Measured against predicted, per rank and step.
  public let steps: [StepTime]
  public let scenario: Scenario?
  /// The step times of docs/Glossary.md (per-rank step, job step, job window) under the
  /// measured, baseline and predicted timelines; work belongs to the same step in all three.
  public let measuredSpans: StepSpans
  public let baselineSpans: StepSpans
  public let predictedSpans: StepSpans
  /// Per rank: time its collective and send/recv members waited for late peers.
  public let baselineWait: [RankID: Nanoseconds]
  public let predictedWait: [RankID: Nanoseconds]
  /// Wall time of the baseline replay (for the text; never in the JSON, which stays deterministic).
  public let replaySeconds: Double
  /// What each knob of the scenario matched (empty without one).
  public let knobs: [KnobMatch]
  /// Where the hardware for the link knobs' baseline is looked up.
  let specs: SpecLibrary
  /// Class by class, what a hardware transfer did (nil without `--hardware`).
  public let transferSection: TransferSection?
  /// What the network re-timing did (nil without `--cluster`, `--hardware` or `comm.algorithm`).
  public let networkSection: NetworkSection?
  /// The step spans with the cost models' target ceilings × (1 ± `Scenario.modelCeilingError`),
  /// faster first; empty when no cost model re-times anything (for the interval).
  public let modelBoundSpans: [StepSpans]
  /// The symmetric ranks replayed once per class (`--fold-symmetric`, `RankFolding`); nil: every
  /// rank replayed.
  public let folding: RankFolding?

  /// Replays `graph` as measured and, when given, under `scenario`. A link-bandwidth knob
  /// without a cluster or hardware in the scenario scales from the interconnect of the GPU the
  /// trace names in `deviceProperties`, looked up in `specs` (`Scenario.resolvingHardware`).
  /// - Throws: `ReplayError` when the graph cannot be replayed; `RunError.data` when no rank has
  ///   a profiler step or any work to time; `SpecError` when the matching spec is broken.
  /// With `fold`, each class of symmetric ranks is replayed once (`RankFolding`; the ranks a
  /// per-rank knob names are kept apart), in the baseline and the prediction alike.
  public init(graph: EventGraph, scenario: Scenario?, specs: SpecLibrary = .embedded, fold: Bool = false) throws {
    let plan = ReplayPlan(graph)
    let t0 = DispatchTime.now().uptimeNanoseconds
    let folding = fold ? RankFolding(plan, for: scenario) : nil
    let baseline = try Replayer().replay(plan, folding: folding)
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
    try self.init(
      plan: plan, measured: Timeline(measured: graph), baseline: baseline, replaySeconds: seconds, scenario: scenario,
      specs: specs, folding: folding)
  }

  /// The same run under another scenario: only the scenario is replayed; the plan, the
  /// measured timeline and the baseline replay are this run's.
  /// - Throws: `ReplayError` when the graph cannot be replayed under `scenario`.
  /// With folding, the prediction folds again with the new scenario's per-rank knobs kept apart.
  public func with(_ scenario: Scenario?) throws -> WhatIfRun {
    try WhatIfRun(
      plan: plan, measured: measured, baseline: baseline, replaySeconds: replaySeconds, scenario: scenario,
      specs: specs, folding: folding.map { _ in RankFolding(plan, for: scenario) })
  }

  private init(
    plan: ReplayPlan, measured: Timeline, baseline: Timeline, replaySeconds: Double, scenario: Scenario?,
    specs: SpecLibrary, folding: RankFolding?
  ) throws {
    (self.plan, self.measured, self.baseline, self.replaySeconds) = (plan, measured, baseline, replaySeconds)
    (self.specs, self.folding) = (specs, folding)
    let scenario = try scenario?.resolvingHardware(for: plan.graph, specs: specs)
    self.scenario = scenario
    knobs = scenario?.matches(in: plan) ?? []
    baselineWait = StepMetrics.barrierWait(plan, timeline: baseline, transfers: plan.instanceTransfer)
    if let scenario {
      let (timeline, transfers) = try Replayer().replay(plan, under: scenario, folding: folding)
      predicted = timeline
      predictedWait = StepMetrics.barrierWait(
        plan, timeline: predicted, transfers: transfers, backup: scenario.backupWorkers(for: plan))
      transferSection =
        scenario.transfer == nil
        ? nil : TransferSection(plan, scenario: scenario, durations: scenario.apply(to: plan).durations.map(\.rawValue))
      networkSection = NetworkSection(plan, scenario: scenario, transfers: transfers)
    } else {
      predicted = baseline
      predictedWait = baselineWait
      (transferSection, networkSection) = (nil, nil)
    }
    let membership = StepMembership(plan.graph)
    measuredSpans = StepSpans(plan.graph, membership: membership, timeline: measured)
    baselineSpans = StepSpans(plan.graph, membership: membership, timeline: baseline)
    predictedSpans =
      scenario == nil ? baselineSpans : StepSpans(plan.graph, membership: membership, timeline: predicted)
    baselineSteps = StepMetrics.stepTimes(measured: measuredSpans, predicted: baselineSpans)
    steps = scenario == nil ? baselineSteps : StepMetrics.stepTimes(measured: measuredSpans, predicted: predictedSpans)
    modelBoundSpans = try [1 + Scenario.modelCeilingError, 1 - Scenario.modelCeilingError].compactMap { f in
      guard let s = scenario?.perturbingModels(by: f) else { return nil }
      let t = try Replayer().replay(plan, under: s, folding: folding).timeline
      return StepSpans(plan.graph, membership: membership, timeline: t)
    }
    if steps.isEmpty {
      let files = plan.graph.ranks.map(\.file).joined(separator: ", ")
      throw RunError.data("\(files): no complete ProfilerStep and no host or device work to time; nothing to replay")
    }
  }

  /// The timeline of `graph` under `scenario` alone: one replay, without the baseline a full
  /// `WhatIfRun` also times (`reprise export chakra --whatif`).
  /// - Throws: `ReplayError` when the graph cannot be replayed.
  public static func predictedTimeline(graph: EventGraph, scenario: Scenario, specs: SpecLibrary = .embedded) throws
    -> Timeline
  {
    let plan = ReplayPlan(graph)
    return try Replayer().replay(plan, under: try scenario.resolvingHardware(for: graph, specs: specs)).timeline
  }

  /// The slowest per-rank step: per step number the slowest rank, averaged over the steps.
  public static func jobStep(_ steps: [StepTime], predicted: Bool) -> Nanoseconds {
    var byStep: [Int: Nanoseconds] = [:]
    for s in steps {
      let v = predicted ? s.predicted : s.measured
      byStep[s.step ?? -1] = max(byStep[s.step ?? -1] ?? .zero, v)
    }
    guard !byStep.isEmpty else { return .zero }
    return byStep.values.reduce(.zero, +) / byStep.count
  }

  /// One line per knob that matched nothing (`knob KEY=VALUE matched 0 kernels (…)`), for stderr.
  public var knobWarnings: [String] { knobs.compactMap(\.warning) }

  /// The measured slowest per-rank step (docs/Glossary.md; JSON `stepNs.measured`).
  public var measuredStep: Nanoseconds { Self.jobStep(steps, predicted: false) }
  /// The identity replay's slowest per-rank step.
  public var baselineStep: Nanoseconds { Self.jobStep(baselineSteps, predicted: true) }
  /// The predicted slowest per-rank step (the baseline's without a scenario).
  public var predictedStep: Nanoseconds { Self.jobStep(steps, predicted: true) }
  /// Baseline over predicted slowest per-rank step, rounded to 4 decimals; 0 when nothing is
  /// predicted (JSON `speedup`, kept from v1).
  public var speedup: Double { Self.ratio(baselineStep, predictedStep) }

  /// The measured job step (docs/Glossary.md: first rank's entry to the last end of the step's
  /// work, averaged over the steps).
  public var measuredJobStep: Nanoseconds { measuredSpans.meanJobStep }
  /// The identity replay's job step.
  public var baselineJobStep: Nanoseconds { baselineSpans.meanJobStep }
  /// The predicted job step (the baseline's without a scenario).
  public var predictedJobStep: Nanoseconds { predictedSpans.meanJobStep }
  /// Baseline over predicted job step, rounded to 4 decimals; 0 when nothing is predicted.
  public var jobStepSpeedup: Double { Self.ratio(baselineJobStep, predictedJobStep) }

  static func ratio(_ a: Nanoseconds, _ b: Nanoseconds) -> Double {
    b > .zero ? ((a / b) * 10000).rounded() / 10000 : 0
  }

  /// Device time per class and name, baseline against prediction.
  public var diff: RunDiff { RunDiff(a: plan.graph, baseline, b: plan.graph, predicted) }

  /// The bottleneck verdicts of the predicted timeline (the baseline's without a scenario).
  public var predictedVerdict: VerdictSection { VerdictSection(plan.graph, timeline: predicted) }

  /// The `reprise.replay/v1` document.
  public var summary: ReplaySummary { ReplaySummary(self) }

  /// Writes the measured and predicted timelines as Chrome-trace JSON (Perfetto), each with its
  /// bubbles and critical path drawn on top.
  /// - Throws: `ChromeTraceWriter.WriteError` when the file cannot be written.
  public func writeTimeline(to path: String) throws {
    let g = plan.graph
    try ChromeTraceWriter.write(
      graph: g,
      timelines: [
        ("measured", measured, Self.annotations(g, measured)), ("predicted", predicted, Self.annotations(g, predicted)),
      ],
      to: path)
  }

  /// The bubbles and the critical path of `g` under timeline `t`, to draw on a Chrome trace.
  static func annotations(_ g: EventGraph, _ t: Timeline) -> TraceAnnotations {
    let index = AnalysisIndex(g, timeline: t)
    return TraceAnnotations(g, bubbles: BubbleAnalysis(index: index), criticalPath: CriticalPath(index: index))
  }
}

/// A replay as `reprise replay --json` and `reprise whatif --json` write it (`reprise.replay/v1`).
public struct ReplaySummary: JSONContract, Equatable {
  public static let schemaName = "reprise.replay"
  public static let schemaVersion = 1

  public struct Rank: Codable, Sendable, Equatable {
    public var rank: Int
    /// The profiler step, absent when the whole trace is timed.
    public var step: Int?
    public var measuredStepNs: Nanoseconds
    public var predictedStepNs: Nanoseconds
    /// (predicted − measured) / measured × 100, rounded to 3 decimals.
    public var errorPct: Double
    /// Over all steps: time the rank's collectives waited for late peers under the prediction.
    public var collectiveWaitNs: Nanoseconds
  }

  public struct StepTimes: Codable, Sendable, Equatable {
    public var measured: Nanoseconds
    public var predicted: Nanoseconds
    /// The identity replay (a schedule swap: the recorded schedule as simulated, the measured
    /// step), and the prediction's interval (`StepInterval`; docs/replay.md, Interval).
    public var baseline: Nanoseconds?
    public var low: Nanoseconds?
    public var high: Nanoseconds?
  }

  /// The pipeline behind a schedule swap (`whatif --schedule`).
  public struct Pipeline: Codable, Sendable, Equatable {
    public var stages: Int
    public var microbatches: Int
    public var detectedSchedule: String
    public var forwardNs: [Nanoseconds]
    public var backwardNs: [Nanoseconds]
    public var sourceMakespanNs: Nanoseconds
    public var targetMakespanNs: Nanoseconds
    /// How the weight-gradient pass W was taken, when the target schedule runs it on its own.
    public var weight: WeightSplit?
  }

  /// W of a schedule swap whose target runs W on its own (`zb-h1`, `zb-h2`, `zb-v`, `zeropp`).
  public struct WeightSplit: Codable, Sendable, Equatable {
    /// Whether the trace recorded W apart from B (false: the backward is fused).
    public var known: Bool
    /// The share of the recorded backward taken as W.
    public var fraction: Double
    /// Per stage, B and W per micro-batch as simulated.
    public var inputNs: [Nanoseconds]
    public var weightNs: [Nanoseconds]
    public var note: String
  }

  public private(set) var schema = Self.schema
  /// Per rank and step (per-rank steps); absent for a schedule swap, which predicts the pipeline
  /// as a whole.
  public var ranks: [Rank]?
  /// The slowest per-rank step (docs/Glossary.md; the v1 key). A schedule swap: the job step.
  public var stepNs: StepTimes
  /// The job step: first rank's entry to the last end of the step's work on any rank.
  public var jobStepNs: StepTimes?
  /// The job window: the step annotations' span over the ranks; absent for a schedule swap.
  public var jobWindowNs: StepTimes?
  /// Events replayed.
  public var events: Int
  /// The identity replay's slowest per-rank step, with a what-if.
  public var baselineStepNs: Nanoseconds?
  /// The identity replay's job step, with a what-if.
  public var baselineJobStepNs: Nanoseconds?
  /// The knobs (`KEY: VALUE`, plus `cluster` or `schedule`), with a what-if.
  public var whatIf: [String: String]?
  /// Each `--set` knob in order with what it matched, with a what-if.
  public var knobs: [KnobRow]?

  /// Baseline over predicted slowest per-rank step (`baselineStepNs / stepNs.predicted`).
  public var speedup: Double?
  /// Baseline over predicted job step (`baselineJobStepNs / jobStepNs.predicted`).
  public var jobStepSpeedup: Double?
  public var pipeline: Pipeline?
  /// The process groups, with a knob that acts on them (`dp.degree`, `pg.NAME.…`).
  public var processGroups: ProcessGroupsDoc?

  /// A run's process groups and which are data-parallel.
  public struct ProcessGroupsDoc: Codable, Sendable, Equatable {
    public struct Group: Codable, Sendable, Equatable {
      public var name: String
      public var description: String
      public var size: Int
      public var ranks: [Int32]
      public var collectives: Int
      public var dataParallel: Bool
    }
    /// How the data-parallel groups were found, or why they could not be.
    public var dataParallelRule: String
    public var groups: [Group]

    init(_ pgs: ProcessGroups) {
      dataParallelRule = pgs.dataParallelRule
      groups = pgs.groups.map {
        Group(
          name: $0.name, description: $0.description, size: $0.size, ranks: $0.ranks, collectives: $0.instances,
          dataParallel: $0.isDataParallel)
      }
    }
  }

  /// The bottleneck verdicts of the predicted timeline, with a what-if (docs/analyses.md).
  public var verdict: VerdictSection?
  /// Symmetric-rank folding, with `--fold-symmetric` (docs/replay.md, Symmetric-rank folding).
  public var folding: Folding?

  /// How many ranks were replayed through a representative.
  public struct Folding: Codable, Sendable, Equatable {
    /// Ranks in the run.
    public var ranks: Int
    /// Equivalence classes: ranks replayed.
    public var classes: Int
    /// Ranks folded into their class's representative (`ranks − classes`; 0: none symmetric).
    public var foldedRanks: Int
    /// The classes with more than one rank, each as its ranks (the first is replayed).
    public var groups: [[Int32]]
    /// The knob that turned folding off (`rank.N.slowdown`, `dp.backup`), if any.
    public var offBy: String?

    init(_ f: RankFolding) {
      (ranks, classes, foldedRanks) = (f.rankCount, f.classes.count, f.foldedRanks)
      groups = f.classes.filter { $0.count > 1 }.map { $0.map(\.rawValue) }
      offBy = f.offReason
    }
  }
  /// A hardware transfer (`whatif --hardware`), class by class (docs/models/transfer.md).
  public var transfer: TransferSection?
  /// The network re-timing (`whatif --cluster`, `--hardware`, `comm.algorithm`).
  public var network: NetworkSection?
  /// The identity error and what the prediction re-timed (docs/replay.md, Fidelity).
  public var fidelity: Fidelity?
  /// The job step under backup workers and the ranks dropped per step, with `dp.backup`
  /// (WhatIfRun+Backup.swift).
  public var backupWorkers: BackupWorkers?

  /// The document of a replay.
  public init(_ run: WhatIfRun) {
    ranks = run.steps.map { s in
      Rank(
        rank: Int(s.rank.rawValue), step: s.step, measuredStepNs: s.measured, predictedStepNs: s.predicted,
        errorPct: (s.errorPct * 1000).rounded() / 1000, collectiveWaitNs: run.predictedWait[s.rank] ?? .zero)
    }
    (stepNs, jobStepNs) = run.stepTimes
    fidelity = run.fidelity
    jobWindowNs = StepTimes(measured: run.measuredSpans.meanJobWindow, predicted: run.predictedSpans.meanJobWindow)
    events = run.plan.graph.eventCount
    folding = run.folding.map(Folding.init)
    if let scenario = run.scenario {
      baselineStepNs = run.baselineStep
      baselineJobStepNs = run.baselineJobStep
      whatIf = scenario.knobDocument
      knobs = run.knobs.map(KnobRow.init)
      speedup = run.speedup
      jobStepSpeedup = run.jobStepSpeedup
      if scenario.usesProcessGroups { processGroups = ProcessGroupsDoc(run.plan.processGroups) }
      verdict = run.predictedVerdict
      transfer = run.transferSection
      network = run.networkSection
      backupWorkers = run.backupWorkers
    }
  }

  /// The document of a schedule swap.
  /// `stepNs` is the job step here: the pipeline is predicted as a whole, so there is no per-rank
  /// variant; `jobStepNs` and `jobStepSpeedup` repeat it under the job step's names.
  public init(
    stepNs: StepTimes, events: Int, schedule: String, speedup: Double, pipeline: Pipeline, fidelity: Fidelity? = nil
  ) {
    self.stepNs = stepNs
    self.fidelity = fidelity
    jobStepNs = stepNs
    self.events = events
    baselineStepNs = stepNs.measured
    baselineJobStepNs = stepNs.measured
    whatIf = ["schedule": schedule]
    self.speedup = speedup
    jobStepSpeedup = speedup
    self.pipeline = pipeline
  }
}

/// One `--set` knob as the JSON documents show it: what it matched (`KnobMatch`). Exactly one
/// count is present: kernels and other events re-timed, ranks, or collective instances and
/// send/recv pairs whose transfer is re-derived.
public struct KnobRow: Codable, Sendable, Equatable {
  public var key: String
  public var value: String
  public var matchedEvents: Int?
  public var matchedRanks: Int?
  public var matchedTransfers: Int?
  /// Link-bandwidth knobs: where the bandwidth they scale from comes from (`hardware`: the
  /// interconnect of the GPU named in `deviceProperties`; `cluster`; `measured` bus bandwidth),
  /// the spec (`v100-sxm2-32gb NVLink 2`), and its value over the matched transfers.
  public var baselineSource: String?
  public var baselineSpec: String?
  public var baselineGBps: Double?

  init(_ m: KnobMatch) {
    key = m.key
    value = m.value
    baselineSource = m.baseline?.kind
    baselineSpec = m.baseline?.spec
    baselineGBps = m.baseline?.gbps.map { ($0 * 1000).rounded() / 1000 }
    switch m.target {
    case .kernels, .launchCalls, .communicationEvents: matchedEvents = m.matched
    case .ranks: matchedRanks = m.matched
    case .transfers, .allReduces: matchedTransfers = m.matched
    }
  }
}

extension Scenario {
  /// The scenario with `hardware` set to the GPU `graph` names in `deviceProperties` (found in
  /// `specs`) when a link-bandwidth knob needs a baseline and neither a cluster nor a hardware
  /// spec is given: the same GPU and interconnect `report` and `render topology` use.
  /// - Throws: `SpecError` when the matching spec is broken.
  public func resolvingHardware(for graph: EventGraph, specs: SpecLibrary) throws -> Scenario {
    var s = self
    if let transfer {
      // Link knobs scale from the target GPU's interconnect.
      s.hardware = s.hardware ?? transfer.target
    } else if (setsLinkBandwidth && cluster == nil || network != nil) && hardware == nil {
      s.hardware = try specs.detectHardware(graph)
    }
    if s.network != nil, let c = cluster { s.cluster = c.spreading(world: graph.ranks.count) }
    return s
  }

  /// The knobs as the JSON documents show them: `KEY: VALUE`, plus `cluster` with a cluster spec.
  public var knobDocument: [String: String] {
    var o = knobDictionary()
    if let c = cluster { o["cluster"] = c.name }
    if let t = transfer {
      o["hardware"] = t.target.name
      o["from"] = t.source.name
      if t.hostScale != 1 { o["hostScale"] = "\(t.hostScale)" }
    }
    if retimesNetwork, let r = cluster?.ranksPerNode { o["ranksPerNode"] = "\(r)" }
    return o
  }
}
