import Analysis
import CostModels
import Dispatch
import Foundation
import Rendering
import Replay
import TraceImport
import TraceModel

/// Every analysis of one run in one document (`reprise report`, schema `reprise.report/v2`,
/// described by docs/report.schema.json and docs/report.md).
///
/// Sections: `summary`, `verdict`, `stepTimes`, `top`, `breakdown`, `bubbles`, `bandwidth`,
/// `stragglers`, `memory`, `criticalPath` and `whatIf`. The analyses run once over one measured timeline and one shared
/// `AnalysisIndex`, the independent ones side by side (`Parallel.map`); the result does not
/// depend on which finished first. Every table is also a CSV file (`tables`).
///
/// The document is a summary: the bubbles, the critical path and the collective instances come
/// aggregated, with their `topIntervals` longest rows. The full lists are `detail`, outside the
/// document; `writeJSON(to:detail:)` streams them into it on request (`--detail`) and
/// `writeCSV(to:)` always writes them (`bubbles.csv`, `critical_path.csv`, `bandwidth.csv`).
public struct RunReport: JSONContract, Equatable {
  public static let schemaName = "reprise.report"
  public static let schemaVersion = 2

  /// Rows in `bubbles.longest`, `criticalPath.longestSegments`, `criticalPath.byOp` and
  /// `bandwidth.longest`.
  public static let topIntervals = 50

  /// What the report adds beyond the measurement.
  public struct Options: Sendable {
    /// A what-if to replay and compare (fills `whatIf`).
    public var scenario: Scenario?
    /// Per-rank link bandwidth for % of peak; default: the hardware's interconnect.
    public var linkGBps: Double?
    /// The accelerator (from `deviceProperties` or `--hardware`).
    public var hardware: HardwareSpec?
    /// The modeled training memory (fills `memory.modeled`).
    public var modelMemory: ModelMemory?
    public init(
      scenario: Scenario? = nil, linkGBps: Double? = nil, hardware: HardwareSpec? = nil,
      modelMemory: ModelMemory? = nil
    ) {
      self.scenario = scenario
      self.linkGBps = linkGBps
      self.hardware = hardware
      self.modelMemory = modelMemory
    }
  }

  public struct BreakdownSection: Codable, Sendable, Equatable {
    public var window: String
    public var ranks: [BreakdownRow]
  }

  public struct BubbleSection: Codable, Sendable, Equatable {
    public var window: String
    public var ranks: [BubbleRankRow]
    /// Every idle interval, rank-level and per stream (the length of the full list).
    public var intervalCount: Int
    /// Per cause over all ranks, in `BubbleAnalysis.Cause` order, every cause listed.
    public var byCause: [BubbleCauseRow]
    /// Per rank, lane (−1 first) and cause, in that order; only non-empty rows.
    public var byLane: [BubbleLaneRow]
    /// The `topIntervals` longest intervals, longest first (ties: rank, lane, start).
    public var longest: [BubbleRow]
    /// Every interval, rank-level (lane −1) first then per stream: only in a `--detail`
    /// document (`writeJSON(to:detail:)`), otherwise left out.
    public var intervals: [BubbleRow]?
  }

  public struct BandwidthSection: Codable, Sendable, Equatable {
    @NullWhenAbsent public var linkBandwidthGBps: Double?
    public var unmatched: Int
    public var unmatchedP2P: Int
    /// Every collective instance and send/recv pair (the length of the full list).
    public var instanceCount: Int
    /// Per kind and process group, sorted by kind then group.
    public var byGroup: [BandwidthGroupRow]
    /// The `topIntervals` longest instances, longest first (ties: start, kind, group, sequence).
    public var longest: [BandwidthRow]
    /// Every instance: only in a `--detail` document, otherwise left out.
    public var instances: [BandwidthRow]?
    public var buckets: [BandwidthBucketRow]
  }

  public struct StragglerSection: Codable, Sendable, Equatable {
    public var instances: Int
    public var flagged: [Int]
    public var ranks: [StragglerRow]
  }

  public struct MemorySection: Codable, Sendable, Equatable {
    public var devices: [MemoryDeviceRow]
    public var samples: [MemorySampleRow]
    public var maxSamplesPerDevice: Int
    @NullWhenAbsent public var modeled: ModelMemory.Breakdown?
  }

  /// The critical path of one job step: it spans the job step (`pathStartNs`..`pathEndNs`, so
  /// `lengthNs == jobStepNs`); `windowStartNs`..`windowEndNs` is that step's job window.
  public struct CriticalPathSection: Codable, Sendable, Equatable {
    @NullWhenAbsent public var step: Int?
    public var windowStartNs: Nanoseconds
    public var windowEndNs: Nanoseconds
    /// The job window's length.
    public var jobWindowNs: Nanoseconds
    public var pathStartNs: Nanoseconds
    public var pathEndNs: Nanoseconds
    public var lengthNs: Nanoseconds
    /// The job step the path explains (equals `lengthNs`).
    public var jobStepNs: Nanoseconds
    public var rankChanges: Int
    public var byCategoryNs: [String: Nanoseconds]
    /// Every segment on the path (the length of the full list).
    public var segmentCount: Int
    /// Path time per event name (or `wait`), kind and category: the `topIntervals` largest,
    /// largest first (ties: name, kind, category).
    public var byOp: [CriticalPathOpRow]
    /// The `topIntervals` longest segments, longest first (ties: start, rank, lane).
    public var longestSegments: [CriticalPathRow]
    /// Every segment in path order: only in a `--detail` document, otherwise left out.
    public var segments: [CriticalPathRow]?
    /// Wait time per holder, largest first (at most `maxWaitHolders`).
    public var waitsByHolder: [CriticalPathWaitRow]
  }

  /// Holders listed in `criticalPath.waitsByHolder`.
  public static let maxWaitHolders = 20

  public struct WhatIfSection: Codable, Sendable, Equatable {
    public var knobs: [String: String]
    /// Each knob in order with what it matched (the `knobs` array of `reprise.replay/v1`).
    public var knobMatches: [KnobRow]
    public var description: String
    /// The slowest per-rank step (v1 names; docs/Glossary.md) and its speedup.
    public var measuredStepNs: Nanoseconds
    public var baselineStepNs: Nanoseconds
    public var predictedStepNs: Nanoseconds
    public var speedup: Double
    /// The job step (first rank's entry to the step's last work) and its speedup.
    public var measuredJobStepNs: Nanoseconds
    public var baselineJobStepNs: Nanoseconds
    public var predictedJobStepNs: Nanoseconds
    public var jobStepSpeedup: Double
    /// The slowest per-rank step and the job step with baseline and interval, and the fidelity,
    /// as `reprise whatif --json` writes them (docs/replay.md, Fidelity and Interval).
    public var stepNs: ReplaySummary.StepTimes
    public var jobStepNs: ReplaySummary.StepTimes
    public var fidelity: Fidelity
    public var ranks: [WhatIfRankRow]
    public var byClass: [WhatIfClassRow]
    /// The job step under backup workers and the dropped ranks, with `dp.backup` (as in
    /// `reprise.replay/v1`).
    public var backupWorkers: ReplaySummary.BackupWorkers?
  }

  /// Per rank, the distribution of its step times over all its steps.
  public struct StepTimeSection: Codable, Sendable, Equatable {
    public var ranks: [StepTimeRow]
  }

  /// The top kernels and operators: overall and per training phase present.
  public struct TopSection: Codable, Sendable, Equatable {
    /// Rows per table: `overall` for all phases, `perPhase` for each phase.
    public var overall: Int
    public var perPhase: Int
    public var rows: [TopRow]
  }

  public private(set) var schema = Self.schema
  public var summary: SummaryRow
  public var verdict: VerdictSection
  public var stepTimes: StepTimeSection
  public var top: TopSection
  public var breakdown: BreakdownSection
  public var bubbles: BubbleSection
  public var bandwidth: BandwidthSection
  public var stragglers: StragglerSection
  public var memory: MemorySection
  public var criticalPath: CriticalPathSection
  @NullWhenAbsent public var whatIf: WhatIfSection?
  /// The full interval and segment lists; not part of the encoded document (a decoded report
  /// has an empty one).
  public internal(set) var detail = Detail()

  private enum CodingKeys: String, CodingKey {
    case schema, summary, verdict, stepTimes, top, breakdown, bubbles, bandwidth, stragglers, memory, criticalPath,
      whatIf
  }

  /// Memory samples kept per device in the JSON and CSV (evenly spaced, the peak always kept),
  /// up to 8 devices; beyond, `memorySamplesPerDevice(devices:)` shares 16,000 among them.
  public static let maxMemorySamples = 2000

  /// The display name of lane `l` (-1: the rank's device as a whole).
  static func laneName(_ g: EventGraph, _ l: Int) -> String {
    l < 0 ? "device (all streams)" : g.strings[g.lanes[l].name]
  }

  /// The report of an ingested run.
  /// - Parameter inputs: the paths as the user gave them (recorded in `summary.inputs`).
  /// - Throws: `ReplayError` or `RunError` when the run cannot be replayed.
  public init(_ result: IngestResult, inputs: [String], options: Options = Options()) throws {
    let g = result.graph
    let clock = PhaseClock()
    let started = clock.isEnabled ? DispatchTime.now().uptimeNanoseconds : 0
    let analyses = try Analyses(g, options: options)
    clock.report("analyses", since: started)
    defer { clock.report("analyses and sections", since: started) }
    breakdown = BreakdownSection(
      window: analyses.breakdown.window.rawValue,
      ranks: analyses.breakdown.ranks.map(BreakdownRow.init))
    bubbles = Self.bubbleSection(analyses.bubbles, graph: g)
    detail = Detail(bubbles: analyses.bubbles, criticalPath: analyses.criticalPath, graph: g)
    let instances = analyses.bandwidth.instances.map(BandwidthRow.init)
    bandwidth = Self.bandwidthSection(analyses.bandwidth, rows: instances)
    detail.instanceRows = instances
    stragglers = StragglerSection(
      instances: analyses.stragglers.instances, flagged: analyses.stragglers.ranks.filter(\.flagged).map(\.rank),
      ranks: analyses.stragglers.ranks.map(StragglerRow.init))
    memory = Self.memorySection(analyses.memory, modeled: options.modelMemory?.breakdown())
    criticalPath = Self.criticalPathSection(analyses.criticalPath, graph: g)
    whatIf = options.scenario.map { Self.whatIfSection(analyses.replay, scenario: $0) }
    verdict = VerdictSection(analyses.verdict)
    stepTimes = StepTimeSection(ranks: StepTimeRow.rows(analyses.replay.steps))
    top = analyses.top
    summary = Self.summary(result, inputs: inputs, analyses: analyses, hardware: options.hardware)
    if options.scenario != nil {
      summary.reportWarnings += analyses.replay.knobWarnings
      summary.warnings += analyses.replay.knobWarnings.count
    }
  }
}
