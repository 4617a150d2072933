import Analysis
import CostModels
import Replay
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
      let measured = Timeline(measured: g)
      let index = AnalysisIndex(g, timeline: measured)
      let link = options.linkGBps ?? options.hardware?.interconnect?.gbpsPerDirection
      let scenario = options.scenario
      let parts: [Part] = try Parallel.map(7) { i in
        switch i {
        case 0:
          return .breakdown(TemporalBreakdown(g, timeline: measured, window: g.steps.isEmpty ? .deviceSpan : .steps))
        case 1: return .bubbles(BubbleAnalysis(index: index))
        case 2:
          return .bandwidth(
            BandwidthAnalysis(g, timeline: measured, linkGBps: link),
            StragglerAnalysis(g, timeline: measured))
        case 3: return .memory(MemoryTimeline(g, timeline: measured))
        case 4: return .criticalPath(CriticalPath(index: index))
        case 5: return .top(RunReport.topSection(index))
        default: return .replay(try WhatIfRun(graph: g, scenario: scenario))
        }
      }
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
      verdict = Verdict(
        account: TimeAccount(index: index, bubbles: bu), stragglers: bw.1, criticalPath: cp, graph: g)
    }
  }

  static func bubbleSection(_ bubbles: BubbleAnalysis, graph g: EventGraph) -> BubbleSection {
    BubbleSection(
      window: bubbles.stepWindows ? "steps" : "deviceSpan", ranks: bubbles.ranks.map(BubbleRankRow.init),
      intervals: (bubbles.rankBubbles + bubbles.laneBubbles).map { BubbleRow($0, graph: g) })
  }

  /// Devices and their samples, at most `maxMemorySamples` per device: evenly spaced, plus the
  /// last sample and the peak.
  static func memorySection(_ mem: MemoryTimeline, modeled: ModelMemory.Breakdown?) -> MemorySection {
    var samples: [MemorySampleRow] = []
    for d in mem.devices {
      let stride = max(1, (d.samples.count + maxMemorySamples - 1) / maxMemorySamples)
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
      maxSamplesPerDevice: maxMemorySamples, modeled: modeled)
  }

  static func criticalPathSection(_ cp: CriticalPath, graph g: EventGraph) -> CriticalPathSection {
    CriticalPathSection(
      step: cp.step, windowStartNs: cp.windowStart, windowEndNs: cp.windowEnd, pathStartNs: cp.pathStart,
      pathEndNs: cp.pathEnd, lengthNs: cp.length, rankChanges: cp.rankChanges,
      byCategoryNs: Dictionary(
        uniqueKeysWithValues: CriticalPath.Category.allCases.map {
          ($0.rawValue, cp.byCategory[$0] ?? .zero)
        }),
      segments: cp.segments.map { CriticalPathRow($0, graph: g) })
  }

  static func whatIfSection(_ run: WhatIfRun, scenario: Scenario) -> WhatIfSection {
    let ranks = run.steps.enumerated().map { i, s in
      WhatIfRankRow(
        rank: Int(s.rank.rawValue), step: s.step, measuredStepNs: s.measured,
        baselineStepNs: run.baselineSteps[i].predicted, predictedStepNs: s.predicted,
        baselineCollectiveWaitNs: run.baselineWait[s.rank] ?? .zero,
        predictedCollectiveWaitNs: run.predictedWait[s.rank] ?? .zero)
    }
    return WhatIfSection(
      knobs: scenario.knobDocument, description: scenario.description, measuredStepNs: run.measuredStep,
      baselineStepNs: run.baselineStep, predictedStepNs: run.predictedStep, speedup: run.speedup, ranks: ranks,
      byClass: run.diff.rows.map(WhatIfClassRow.init))
  }

  static func summary(_ result: IngestResult, inputs: [String], analyses a: Analyses, hardware: HardwareSpec?)
    -> SummaryRow
  {
    let g = result.graph
    let counts = g.countByKind()
    let d = result.diagnostics
    return SummaryRow(
      ranks: g.ranks.count, lanes: g.lanes.count, events: g.eventCount, steps: Set(g.steps.map(\.number)).count,
      measuredStepNs: a.replay.measuredStep, replayedStepNs: a.replay.baselineStep,
      collectiveInstances: g.instances.count, unmatchedCollectives: a.bandwidth.unmatched,
      criticalPathNs: a.criticalPath.length, stragglers: a.stragglers.ranks.filter(\.flagged).count,
      errors: d.count(of: .error), warnings: d.count(of: .warning) + d.count(of: .dataLoss), hardware: hardware?.name,
      inputs: inputs, files: g.ranks.map(\.file),
      eventsByKind: Dictionary(uniqueKeysWithValues: EventKind.allCases.map { ($0.name, counts[$0] ?? 0) }))
  }
}
