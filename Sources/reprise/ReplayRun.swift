import Analysis
import Foundation
import Rendering
import Replay
import TraceModel

/// One replay (identity, or under a scenario) with its baseline, ready to print.
struct ReplayRun {
  let plan: ReplayPlan
  let measured: Timeline
  let baseline: Timeline
  let predicted: Timeline
  let baselineSteps: [StepTime]
  let steps: [StepTime]
  let replaySeconds: Double
  let scenario: Scenario?
  /// Per rank: time its collective/send-recv members spent waiting for late peers (ns), baseline and predicted.
  let baselineWait: [RankID: Int64]
  let predictedWait: [RankID: Int64]

  init(graph: EventGraph, scenario: Scenario?) throws {
    plan = ReplayPlan(graph)
    measured = Timeline(measured: graph)
    let replayer = Replayer()
    let t0 = DispatchTime.now().uptimeNanoseconds
    baseline = try replayer.replay(plan)
    let t1 = DispatchTime.now().uptimeNanoseconds
    replaySeconds = Double(t1 - t0) / 1e9
    self.scenario = scenario
    baselineWait = Self.waits(plan, baseline, plan.instanceTransfer)
    if let scenario {
      let (durations, transfers) = scenario.durations(for: plan)
      predicted = try replayer.replay(plan, durations: durations, transfers: transfers)
      predictedWait = Self.waits(plan, predicted, transfers)
    } else {
      predicted = baseline
      predictedWait = baselineWait
    }
    baselineSteps = StepMetrics.stepTimes(plan, measured: measured, predicted: baseline)
    steps = StepMetrics.stepTimes(plan, measured: measured, predicted: predicted)
    if steps.isEmpty {
      let files = graph.ranks.map(\.file).joined(separator: ", ")
      throw DataError(message: "\(files): no complete ProfilerStep and no host or device work to time; nothing to replay")
    }
  }

  static func waits(_ plan: ReplayPlan, _ t: Timeline, _ transfers: [Int64]) -> [RankID: Int64] {
    StepMetrics.barrierWait(plan, timeline: t, transfers: transfers)
  }

  /// Job step time: per step number, the slowest rank; averaged over steps.
  static func jobStep(_ steps: [StepTime], predicted: Bool) -> Int64 {
    var byStep: [Int: Int64] = [:]
    for s in steps {
      let v = predicted ? s.predicted.rawValue : s.measured.rawValue
      byStep[s.step ?? -1] = max(byStep[s.step ?? -1] ?? 0, v)
    }
    guard !byStep.isEmpty else { return 0 }
    return byStep.values.reduce(0, +) / Int64(byStep.count)
  }

  func json() -> JSONDocument {
    let ranks: [JSONDocument] = steps.map { s in
      var o: [String: JSONDocument] = [
        "rank": .int(Int64(s.rank.rawValue)), "measuredStepNs": .int(s.measured.rawValue),
        "predictedStepNs": .int(s.predicted.rawValue), "errorPct": .double((s.errorPct * 1000).rounded() / 1000),
      ]
      if let n = s.step { o["step"] = .int(n) }
      o["collectiveWaitNs"] = .int(predictedWait[s.rank] ?? 0)
      return .object(o)
    }
    let events = plan.graph.eventCount
    var doc: [String: JSONDocument] = [
      "schema": .string("reprise.replay/v1"),
      "ranks": .array(ranks),
      "stepNs": .object(["measured": .int(Self.jobStep(steps, predicted: false)), "predicted": .int(Self.jobStep(steps, predicted: true))]),
      "events": .int(events),
      "replayEventsPerSecond": .double(replaySeconds > 0 ? (Double(events) / replaySeconds).rounded() : 0),
    ]
    if let scenario {
      let base = Self.jobStep(baselineSteps, predicted: true)
      let pred = Self.jobStep(steps, predicted: true)
      doc["baselineStepNs"] = .int(base)
      doc["whatIf"] = scenario.json()
      doc["speedup"] = .double(pred > 0 ? (Double(base) / Double(pred) * 10000).rounded() / 10000 : 0)
    }
    return .object(doc)
  }

  func text() -> String {
    var lines: [String] = []
    let events = plan.graph.eventCount
    let rate = replaySeconds > 0 ? Double(events) / replaySeconds / 1e6 : 0
    lines.append("replayed \(events) events on \(plan.graph.lanes.count) lanes of \(plan.graph.ranks.count) rank(s) in \(IngestReport.format(replaySeconds * 1000)) ms (\(IngestReport.format(rate)) M events/s)")
    if let scenario { lines.append("what-if: \(scenario.description)") }
    if steps.contains(where: { $0.step == nil }) {
      lines.append("  (ranks without ProfilerStep annotations are timed over the whole trace: step 'all')")
    }
    lines.append("  rank  step      measured ms   \(scenario == nil ? "predicted ms" : "baseline ms   predicted ms")   error  \(scenario == nil ? "coll. wait ms, all steps" : "coll. wait ms, all steps (baseline → predicted)")")
    for (i, s) in steps.enumerated() {
      let step = s.step.map { "#\($0)" } ?? "all"
      let m = String(format: "%13.3f", Double(s.measured.rawValue) / 1e6)
      let p = String(format: "%13.3f", Double(s.predicted.rawValue) / 1e6)
      let b = String(format: "%13.3f", Double(baselineSteps[i].predicted.rawValue) / 1e6)
      let err = String(format: "%+7.2f%%", scenario == nil ? s.errorPct : baselineSteps[i].errorPct)
      let wb = Double(baselineWait[s.rank] ?? 0) / 1e6, wp = Double(predictedWait[s.rank] ?? 0) / 1e6
      let wait = scenario == nil ? String(format: "%10.3f", wp) : String(format: "%10.3f → %.3f", wb, wp)
      lines.append(String(format: "  %4d  %-6@", Int(s.rank.rawValue), step) + m + "  " + (scenario == nil ? p : b + "  " + p) + "  " + err + "  " + wait)
    }
    let jm = Double(Self.jobStep(steps, predicted: false)) / 1e6
    let jp = Double(Self.jobStep(steps, predicted: true)) / 1e6
    if let _ = scenario {
      let jb = Double(Self.jobStep(baselineSteps, predicted: true)) / 1e6
      lines.append(String(format: "  step (slowest rank): measured %.3f ms, baseline %.3f ms, predicted %.3f ms, speedup %.3fx", jm, jb, jp, jp > 0 ? jb / jp : 0))
    } else {
      lines.append(String(format: "  step (slowest rank): measured %.3f ms, predicted %.3f ms", jm, jp))
    }
    return lines.joined(separator: "\n")
  }

  func writeTimeline(to path: String) throws {
    let g = plan.graph
    func notes(_ t: Timeline) -> TraceAnnotations {
      TraceAnnotations(g, bubbles: BubbleAnalysis(g, timeline: t), criticalPath: CriticalPath(g, timeline: t))
    }
    try ChromeTraceWriter.write(graph: g, timelines: [("measured", measured, notes(measured)), ("predicted", predicted, notes(predicted))], to: path)
  }
}

extension Scenario {
  func json() -> JSONDocument {
    var o: [String: JSONDocument] = [:]
    for (k, v) in knobDictionary() { o[k] = .string(v) }
    if let c = cluster { o["cluster"] = .string(c.name) }
    return .object(o)
  }
}
