import Analysis
import CostModels
import Replay
import Synchronization
import TraceImport
import TraceModel

extension RunReport {
  /// The analyses behind a report, each computed once over the measured timeline; the
  /// independent ones run side by side.
  struct Analyses: Sendable {
    var breakdown: TemporalBreakdown
    var bubbles: BubbleAnalysis
    var bandwidth: BandwidthAnalysis
    var stragglers: StragglerAnalysis
    var memory: MemoryTimeline
    var criticalPath: CriticalPath
    var replay: WhatIfRun
    var verdict: Verdict
    var top: TopSection

    /// One result of `Parallel.map`.
    private enum Part: Sendable {
      case breakdown(TemporalBreakdown)
      case bubbles(BubbleAnalysis)
      case bandwidth(BandwidthAnalysis, StragglerAnalysis)
      case memory(MemoryTimeline)
      case criticalPath(CriticalPath)
      case replay(WhatIfRun)
      case top(TopSection)
    }

    init(_ g: EventGraph, options: Options) throws {
      let clock = PhaseClock()
      let measured = clock.measure("timeline") { Timeline(measured: g) }
      // Built by the first analysis that needs it, while the replay (which does not) runs on
      // another core; the others wait for it.
      let shared = SharedIndex { clock.measure("index") { AnalysisIndex(g, timeline: measured) } }
      let link = options.linkGBps ?? options.hardware?.interconnect?.gbpsPerDirection
      // The link knobs scale from the report's hardware (--hardware, else deviceProperties).
      var withHardware = options.scenario
      if withHardware?.hardware == nil { withHardware?.hardware = options.hardware }
      let scenario = withHardware
      // Ordered so that the longest tasks start first (the cores take them in this order); the
      // results do not depend on the order.
      let parts: [Part] = try Parallel.map(7) { i in
        switch i {
        case 0: return try clock.measure("replay") { .replay(try WhatIfRun(graph: g, scenario: scenario)) }
        case 1: return clock.measure("top") { .top(RunReport.topSection(shared.index)) }
        case 2:
          return clock.measure("breakdown") {
            .breakdown(TemporalBreakdown(g, timeline: measured, window: g.steps.isEmpty ? .deviceSpan : .steps))
          }
        case 3:
          return clock.measure("bandwidth+stragglers") {
            .bandwidth(
              BandwidthAnalysis(g, timeline: measured, linkGBps: link),
              StragglerAnalysis(g, timeline: measured))
          }
        case 4: return clock.measure("memory") { .memory(MemoryTimeline(g, timeline: measured)) }
        case 5: return clock.measure("bubbles") { .bubbles(BubbleAnalysis(index: shared.index)) }
        default: return clock.measure("criticalPath") { .criticalPath(CriticalPath(index: shared.index)) }
        }
      }
      let index = shared.index
      var b: TemporalBreakdown?
      var bu: BubbleAnalysis?
      var bw: (BandwidthAnalysis, StragglerAnalysis)?
      var m: MemoryTimeline?
      var cp: CriticalPath?
      var r: WhatIfRun?
      var top: TopSection?
      for part in parts {
        switch part {
        case .breakdown(let v): b = v
        case .bubbles(let v): bu = v
        case .bandwidth(let v, let s): bw = (v, s)
        case .memory(let v): m = v
        case .criticalPath(let v): cp = v
        case .replay(let v): r = v
        case .top(let v): top = v
        }
      }
      guard let b, let bu, let bw, let m, let cp, let r, let top else {
        throw RunError.data("internal: a report section was not computed")
      }
      (breakdown, bubbles, bandwidth, stragglers, memory, criticalPath, replay) = (b, bu, bw.0, bw.1, m, cp, r)
      self.top = top
      verdict = clock.measure("verdict") {
        Verdict(account: TimeAccount(index: index, bubbles: bu), stragglers: bw.1, criticalPath: cp, graph: g)
      }
    }
  }

  /// The analysis index, built once by whichever thread first asks for it (the others wait).
  final class SharedIndex: Sendable {
    private let make: @Sendable () -> AnalysisIndex
    private let built = Mutex<AnalysisIndex?>(nil)

    init(_ make: @escaping @Sendable () -> AnalysisIndex) { self.make = make }

    var index: AnalysisIndex {
      built.withLock { value in
        if let value { return value }
        let made = make()
        value = made
        return made
      }
    }
  }

  /// The bubbles summarised: per rank, per cause, per lane and cause, and the longest intervals
  /// (the full list is `detail`).
  static func bubbleSection(_ bubbles: BubbleAnalysis, graph g: EventGraph) -> BubbleSection {
    let all = [bubbles.rankBubbles, bubbles.laneBubbles].joined()
    return BubbleSection(
      window: bubbles.stepWindows ? "steps" : "deviceSpan", ranks: bubbles.ranks.map(BubbleRankRow.init),
      intervalCount: bubbles.rankBubbles.count + bubbles.laneBubbles.count, byCause: bubblesByCause(all),
      byLane: bubblesByLane(all, graph: g),
      longest: longestBubbles(all).map { BubbleRow($0, graph: g) }, intervals: nil)
  }

  /// The collective instances summarised: per kind and group, the longest, the size buckets
  /// (the full list is `detail`).
  static func bandwidthSection(_ bw: BandwidthAnalysis, rows: [BandwidthRow]) -> BandwidthSection {
    BandwidthSection(
      linkBandwidthGBps: bw.linkGBps, unmatched: bw.unmatched, unmatchedP2P: bw.unmatchedP2P,
      instanceCount: rows.count, byGroup: bandwidthByGroup(rows), longest: longestInstances(rows), instances: nil,
      buckets: bw.buckets.map(BandwidthBucketRow.init))
  }

  /// Devices and their samples, at most `memorySamplesPerDevice(devices:)` per device: evenly
  /// spaced, plus the last sample and the peak.
  static func memorySection(_ mem: MemoryTimeline, modeled: ModelMemory.Breakdown?) -> MemorySection {
    var samples: [MemorySampleRow] = []
    let perDevice = memorySamplesPerDevice(devices: mem.devices.count)
    for d in mem.devices {
      let stride = max(1, (d.samples.count + perDevice - 1) / perDevice)
      for (k, s) in d.samples.enumerated()
      where k % stride == 0 || k == d.samples.count - 1
        || (s.time == d.peakAllocatedAt && s.allocated == d.peakAllocated)
      {
        samples.append(
          MemorySampleRow(
            rank: d.rank, device: d.device, timeNs: s.time, allocatedBytes: s.allocated,
            reservedBytes: s.reserved))
      }
    }
    return MemorySection(
      devices: mem.devices.map(MemoryDeviceRow.init), samples: samples,
      maxSamplesPerDevice: perDevice, modeled: modeled)
  }

  /// Samples kept per device: `maxMemorySamples`, or fewer when there are more than 8 devices, so
  /// that the section stays near `maxMemorySamples × 8` rows in all (16 per device at least):
  /// 1,024 ranks would otherwise write 2 million rows.
  static func memorySamplesPerDevice(devices: Int) -> Int {
    max(16, min(maxMemorySamples, maxMemorySamples * 8 / max(1, devices)))
  }

  static func criticalPathSection(_ cp: CriticalPath, graph g: EventGraph) -> CriticalPathSection {
    // Holders with the same rank, name, kind and category are one row.
    var rows: [String: CriticalPathWaitRow] = [:]
    for s in cp.segments where s.isWait {
      let name = s.heldBy.map { g.strings[g.name[$0]] }
      let kind = s.heldBy.map { g.kind[$0].name }
      let key = "\(s.rank)\u{0}\(name ?? "")\u{0}\(kind ?? "")\u{0}\(s.category.rawValue)"
      var row =
        rows[key]
        ?? CriticalPathWaitRow(
          rank: s.rank, heldBy: name, heldByKind: kind, category: s.category.rawValue, durationNs: .zero, segments: 0)
      row.durationNs += s.duration
      row.segments += 1
      rows[key] = row
    }
    let waits = rows.values.sorted {
      ($0.durationNs, $1.rank, $1.heldBy ?? "", $1.heldByKind ?? "", $1.category) > (
        $1.durationNs, $0.rank, $0.heldBy ?? "", $0.heldByKind ?? "", $0.category
      )
    }.prefix(maxWaitHolders)
    return CriticalPathSection(
      step: cp.step, windowStartNs: cp.windowStart, windowEndNs: cp.windowEnd,
      jobWindowNs: cp.windowEnd - cp.windowStart, pathStartNs: cp.pathStart, pathEndNs: cp.pathEnd,
      lengthNs: cp.length, jobStepNs: cp.length, rankChanges: cp.rankChanges,
      byCategoryNs: Dictionary(
        uniqueKeysWithValues: CriticalPath.Category.allCases.map {
          ($0.rawValue, cp.byCategory[$0] ?? .zero)
        }),
      segmentCount: cp.segments.count, byOp: criticalPathByOp(cp.segments, graph: g),
      longestSegments: longestSegments(cp.segments).map { CriticalPathRow($0, graph: g) }, segments: nil,
      waitsByHolder: Array(waits))
  }

  static func whatIfSection(_ run: WhatIfRun, scenario: Scenario) -> WhatIfSection {
    let ranks = run.steps.enumerated().map { i, s in
      WhatIfRankRow(
        rank: Int(s.rank.rawValue), step: s.step, measuredStepNs: s.measured,
        baselineStepNs: run.baselineSteps[i].predicted, predictedStepNs: s.predicted,
        baselineCollectiveWaitNs: run.baselineWait[s.rank] ?? .zero,
        predictedCollectiveWaitNs: run.predictedWait[s.rank] ?? .zero)
    }
    let (slowest, job) = run.stepTimes
    var section = WhatIfSection(
      knobs: scenario.knobDocument, knobMatches: run.knobs.map(KnobRow.init), description: scenario.description,
      measuredStepNs: run.measuredStep,
      baselineStepNs: run.baselineStep, predictedStepNs: run.predictedStep, speedup: run.speedup,
      measuredJobStepNs: run.measuredJobStep, baselineJobStepNs: run.baselineJobStep,
      predictedJobStepNs: run.predictedJobStep, jobStepSpeedup: run.jobStepSpeedup, stepNs: slowest,
      jobStepNs: job, fidelity: run.fidelity, ranks: ranks,
      byClass: run.diff.rows.map(WhatIfClassRow.init))
    section.backupWorkers = run.backupWorkers
    return section
  }

  static func summary(_ result: IngestResult, inputs: [String], analyses a: Analyses, hardware: HardwareSpec?)
    -> SummaryRow
  {
    let g = result.graph
    let counts = g.countByKind()
    let d = result.diagnostics
    let reportWarnings = hardware == nil ? [hardwareWarning(g)] : []
    return SummaryRow(
      ranks: g.ranks.count, lanes: g.lanes.count, events: g.eventCount, steps: Set(g.steps.map(\.number)).count,
      measuredStepNs: a.replay.measuredStep, replayedStepNs: a.replay.baselineStep,
      jobStepNs: a.replay.measuredJobStep, replayedJobStepNs: a.replay.baselineJobStep,
      jobWindowNs: a.replay.measuredSpans.meanJobWindow,
      collectiveInstances: g.instances.count, unmatchedCollectives: a.bandwidth.unmatched,
      criticalPathNs: a.criticalPath.length, stragglers: a.stragglers.ranks.filter(\.flagged).count,
      errors: d.count(of: .error), warnings: d.count(of: .warning) + d.count(of: .dataLoss) + reportWarnings.count,
      hardware: hardware?.name, inputs: inputs, files: g.ranks.map(\.file),
      eventsByKind: Dictionary(uniqueKeysWithValues: EventKind.allCases.map { ($0.name, counts[$0] ?? 0) }),
      reportWarnings: reportWarnings)
  }

  /// Why the report has no hardware: the devices the trace names match no spec, or it names none.
  static func hardwareWarning(_ g: EventGraph) -> String {
    let devices = Set(g.ranks.flatMap(\.deviceNames)).sorted()
    let why =
      devices.isEmpty
      ? "the trace names no GPU in deviceProperties"
      : "no hardware spec matches \(devices.joined(separator: ", ")) (deviceProperties)"
    return "hardware unknown: \(why); give --hardware NAME for the link peak (bandwidth.peakPct)"
  }
}
