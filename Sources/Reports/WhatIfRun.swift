import Analysis
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
  /// Per rank: time its collective and send/recv members waited for late peers.
  public let baselineWait: [RankID: Nanoseconds]
  public let predictedWait: [RankID: Nanoseconds]
  /// Wall time of the baseline replay (for the text; never in the JSON, which stays deterministic).
  public let replaySeconds: Double

  /// Replays `graph` as measured and, when given, under `scenario`.
  /// - Throws: `ReplayError` when the graph cannot be replayed; `RunError.data` when no rank has
  ///   a profiler step or any work to time.
  public init(graph: EventGraph, scenario: Scenario?) throws {
    let plan = ReplayPlan(graph)
    let t0 = DispatchTime.now().uptimeNanoseconds
    let baseline = try Replayer().replay(plan)
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
    try self.init(
      plan: plan, measured: Timeline(measured: graph), baseline: baseline, replaySeconds: seconds, scenario: scenario)
  }

  /// The same run under another scenario: only the scenario is replayed; the plan, the
  /// measured timeline and the baseline replay are this run's.
  /// - Throws: `ReplayError` when the graph cannot be replayed under `scenario`.
  public func with(_ scenario: Scenario?) throws -> WhatIfRun {
    try WhatIfRun(plan: plan, measured: measured, baseline: baseline, replaySeconds: replaySeconds, scenario: scenario)
  }

  private init(plan: ReplayPlan, measured: Timeline, baseline: Timeline, replaySeconds: Double, scenario: Scenario?)
    throws
  {
    (self.plan, self.measured, self.baseline, self.replaySeconds) = (plan, measured, baseline, replaySeconds)
    self.scenario = scenario
    baselineWait = StepMetrics.barrierWait(plan, timeline: baseline, transfers: plan.instanceTransfer)
    if let scenario {
      let (timeline, transfers) = try Replayer().replay(plan, under: scenario)
      predicted = timeline
      predictedWait = StepMetrics.barrierWait(plan, timeline: predicted, transfers: transfers)
    } else {
      predicted = baseline
      predictedWait = baselineWait
    }
    baselineSteps = StepMetrics.stepTimes(plan, measured: measured, predicted: baseline)
    steps = scenario == nil ? baselineSteps : StepMetrics.stepTimes(plan, measured: measured, predicted: predicted)
    if steps.isEmpty {
      let files = plan.graph.ranks.map(\.file).joined(separator: ", ")
      throw RunError.data("\(files): no complete ProfilerStep and no host or device work to time; nothing to replay")
    }
  }

  /// The timeline of `graph` under `scenario` alone: one replay, without the baseline a full
  /// `WhatIfRun` also times (`reprise export chakra --whatif`).
  /// - Throws: `ReplayError` when the graph cannot be replayed.
  public static func predictedTimeline(graph: EventGraph, scenario: Scenario) throws -> Timeline {
    let plan = ReplayPlan(graph)
    return try Replayer().replay(plan, under: scenario).timeline
  }

  /// Job step time: per step number the slowest rank, averaged over the steps.
  public static func jobStep(_ steps: [StepTime], predicted: Bool) -> Nanoseconds {
    var byStep: [Int: Nanoseconds] = [:]
    for s in steps {
      let v = predicted ? s.predicted : s.measured
      byStep[s.step ?? -1] = max(byStep[s.step ?? -1] ?? .zero, v)
    }
    guard !byStep.isEmpty else { return .zero }
    return byStep.values.reduce(.zero, +) / byStep.count
  }

  /// The measured job step time.
  public var measuredStep: Nanoseconds { Self.jobStep(steps, predicted: false) }
  /// The identity replay's job step time.
  public var baselineStep: Nanoseconds { Self.jobStep(baselineSteps, predicted: true) }
  /// The predicted job step time (the baseline's without a scenario).
  public var predictedStep: Nanoseconds { Self.jobStep(steps, predicted: true) }
  /// Baseline over predicted, rounded to 4 decimals; 0 when nothing is predicted.
  public var speedup: Double {
    let p = predictedStep
    return p > .zero ? ((baselineStep / p) * 10000).rounded() / 10000 : 0
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
    func notes(_ t: Timeline) -> TraceAnnotations {
      let index = AnalysisIndex(g, timeline: t)
      return TraceAnnotations(g, bubbles: BubbleAnalysis(index: index), criticalPath: CriticalPath(index: index))
    }
    try ChromeTraceWriter.write(
      graph: g, timelines: [("measured", measured, notes(measured)), ("predicted", predicted, notes(predicted))],
      to: path)
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
  }

  public private(set) var schema = Self.schema
  /// Per rank and step; absent for a schedule swap, which predicts the pipeline as a whole.
  public var ranks: [Rank]?
  public var stepNs: StepTimes
  /// Events replayed.
  public var events: Int
  /// The identity replay's step, with a what-if.
  public var baselineStepNs: Nanoseconds?
  /// The knobs (`KEY: VALUE`, plus `cluster` or `schedule`), with a what-if.
  public var whatIf: [String: String]?
  public var speedup: Double?
  public var pipeline: Pipeline?
  /// The bottleneck verdicts of the predicted timeline, with a what-if (docs/analyses.md).
  public var verdict: VerdictSection?

  /// The document of a replay.
  public init(_ run: WhatIfRun) {
    ranks = run.steps.map { s in
      Rank(
        rank: Int(s.rank.rawValue), step: s.step, measuredStepNs: s.measured, predictedStepNs: s.predicted,
        errorPct: (s.errorPct * 1000).rounded() / 1000, collectiveWaitNs: run.predictedWait[s.rank] ?? .zero)
    }
    stepNs = StepTimes(measured: run.measuredStep, predicted: run.predictedStep)
    events = run.plan.graph.eventCount
    if let scenario = run.scenario {
      baselineStepNs = run.baselineStep
      whatIf = scenario.knobDocument
      speedup = run.speedup
      verdict = run.predictedVerdict
    }
  }

  /// The document of a schedule swap.
  public init(stepNs: StepTimes, events: Int, schedule: String, speedup: Double, pipeline: Pipeline) {
    self.stepNs = stepNs
    self.events = events
    baselineStepNs = stepNs.measured
    whatIf = ["schedule": schedule]
    self.speedup = speedup
    self.pipeline = pipeline
  }
}

extension Scenario {
  /// The knobs as the JSON documents show them: `KEY: VALUE`, plus `cluster` with a cluster spec.
  public var knobDocument: [String: String] {
    var o = knobDictionary()
    if let c = cluster { o["cluster"] = c.name }
    return o
  }
}
