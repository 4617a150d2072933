import Foundation
import Replay
import Reports
import TestSupport
import Testing
import TraceImport
import TraceModel

/// Issue 12 acceptance ("one step time"): the DLRM run reported 19.787 ms (replay: slowest rank),
/// 20.823 ms (diff and the timeline title: job window) and 13.219 ms (critical path) as "step".
/// Now every output gives one job step — the same number in replay, report, diff and the critical
/// path — and names its variants (per-rank steps, slowest per-rank step, job window).
@Test(arguments: [TestPaths.dlrm, TestPaths.megatron])
func oneJobStepWithNamedVariants(path: String) throws {
  let result = try Ingest.run(paths: [path])
  let g = result.graph
  let run = try WhatIfRun(graph: g, scenario: nil)
  let replay = run.summary
  let report = try RunReport(result, inputs: [path])
  let diff = DiffReport(run, labels: ("A", "B"))
  let job = try #require(replay.jobStepNs).measured
  let window = try #require(replay.jobWindowNs).measured

  // One job step everywhere.
  #expect(report.summary.jobStepNs == job && report.criticalPath.jobStepNs == job)
  #expect(replay.jobStepNs?.predicted == report.summary.replayedJobStepNs && diff.aJobStepNs == diff.bJobStepNs)
  #expect(diff.aJobStepNs == report.summary.replayedJobStepNs)
  // The critical path equals it within 0.5 %.
  let gap = abs(Double((report.criticalPath.lengthNs - job).rawValue)) / Double(job.rawValue)
  #expect(gap <= 0.005, "\(path): critical path \(report.criticalPath.lengthNs) ns, job step \(job) ns")
  // The variants are other numbers under other names.
  #expect(replay.stepNs.measured == report.summary.measuredStepNs && replay.stepNs.measured <= job)
  #expect(report.summary.jobWindowNs == window && diff.aStepNs == window)
  #expect(report.criticalPath.jobWindowNs == window)

  // The text says which is which.
  let ms = { (t: Nanoseconds) in String(format: "%.3f ms", t.milliseconds) }
  let text = run.text()
  #expect(text.contains("  job step: measured \(ms(job))"), "\(text)")
  #expect(text.contains("slowest per-rank step: measured \(ms(replay.stepNs.measured))"))
  #expect(text.contains("job window: measured \(ms(window))") && text.contains("per-rank steps"))
  let diffText = diff.text()
  #expect(diffText.contains("job step: A \(ms(diff.aJobStepNs))") && diffText.contains("job window: A \(ms(window))"))
  let step = try #require(report.criticalPath.step)
  let cp = try TraceDiagram.dot(.criticalPath, g, Timeline(measured: g)).dot
  #expect(cp.contains("Critical path of job step \(step): \(ms(job))"))
  let timeline = try TraceDiagram.dot(.timeline, g, Timeline(measured: g)).dot
  #expect(timeline.contains("job window of step \(step): \(String(format: "%.3f", window.milliseconds)) ms"))
}

/// A schedule swap (`whatif --schedule`) predicts from the same job step the replay reports, not
/// from the slowest rank's step window (which left out the ranks' entry skew).
@Test func scheduleSwapStartsFromTheJobStep() throws {
  let g = try Ingest.run(paths: [TestPaths.packageRoot + "/Traces/kineto-cpu/pipeline-1f1b"]).graph
  let swap = try ScheduleSwap(g, target: "gpipe", chunks: 1)
  let run = try WhatIfRun(graph: g, scenario: nil)
  #expect(swap.profile.measuredStep == run.measuredJobStep)
  let summary = swap.summary
  #expect(summary.jobStepNs == summary.stepNs && summary.jobStepNs?.measured == run.measuredJobStep)
  #expect(swap.text().contains(String(format: "job step: measured %.3f ms", run.measuredJobStep.milliseconds)))
}
