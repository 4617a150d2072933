import Reports
import TestSupport
import Testing
import TraceImport
import TraceModel

@testable import Replay

/// Nearest-rank percentiles over a rank's steps, and the slowest step named as the outlier.
@Test func stepTimeDistributionPerRank() throws {
  let ms = { (x: Int64) in Nanoseconds(x * 1_000_000) }
  var steps: [StepTime] = []
  for (i, t) in [10, 11, 12, 30, 10, 11, 10, 12, 11, 10].enumerated() {
    steps.append(StepTime(rank: RankID(rawValue: 0), step: i + 1, measured: ms(Int64(t)), predicted: .zero))
  }
  steps.append(StepTime(rank: RankID(rawValue: 1), step: nil, measured: ms(5), predicted: .zero))
  let rows = StepTimeRow.rows(steps)
  let r0 = try #require(rows.first)
  #expect(r0.rank == 0 && r0.steps == 10 && r0.p50Ns == ms(11) && r0.p90Ns == ms(12) && r0.p99Ns == ms(30))
  #expect(r0.maxNs == ms(30) && r0.slowestStep == 4 && r0.maxOverP50 == 2.727 && r0.meanNs == ms(127) / 10)
  #expect(r0.line.contains("slowest: step 4, 2.73× p50"))
  #expect(rows[1].steps == 1 && rows[1].slowestStep == nil && !rows[1].line.contains("slowest"))
}

/// The report carries the verdicts, the step-time distribution and the bounded top tables; the
/// what-if document carries the predicted verdicts.
@Test func reportAndWhatIfCarryVerdicts() throws {
  let ddp = try Ingest.run(paths: [TestPaths.bundledTraces + "/ddp-4rank"])
  let report = try RunReport(ddp, inputs: ["ddp"])
  #expect(report.verdict.job?.kind == "straggler" && report.verdict.ranks.count == 4)
  #expect(report.verdict.job?.line.hasPrefix("straggler-bound: rank 2 arrived last at 6 of 6 collectives") == true)
  #expect(report.stepTimes.ranks.map(\.steps) == [2, 2, 2, 2])
  let top = report.top.rows
  #expect(top.filter { $0.kind == "kernel" && $0.phase == "all" }.count == 5)  // ddp has 5 kernel names
  #expect(top.filter { $0.kind == "op" && $0.phase == "all" }.count == 6)
  #expect(
    top.allSatisfy { $0.phase == "all" ? $0.position <= RunReport.topOverall : $0.position <= RunReport.topPerPhase })
  #expect(Set(top.map(\.phase)) == ["all", "forward", "backward", "optimizer", "other"])
  #expect(try report.tables().map(\.name).prefix(4) == ["summary", "verdict", "step_times", "top"])
  #expect(report.headline().hasPrefix("verdict: straggler-bound"))
  // The comm-bound sample with 20× faster collectives: its path becomes compute.
  let comm = try Ingest.run(paths: [TestPaths.bundledTraces + "/comm-bound-4rank"])
  #expect(try RunReport(comm, inputs: ["comm"]).verdict.job?.kind == "communication")
  let run = try WhatIfRun(graph: comm.graph, scenario: try Scenario.parse(["comm.scale=0.05"]))
  let predicted = try #require(run.summary.verdict?.job)
  #expect(predicted.kind == "compute", "\(predicted.line)")
  #expect(run.text().contains("verdict (predicted): compute-bound"))
  #expect(try WhatIfRun(graph: ddp.graph, scenario: nil).summary.verdict == nil)
}

/// Past 16 ranks the printed lines summarise the rest by kind; the JSON keeps every rank.
@Test func manyRanksPrintASummaryLine() {
  var b = EventGraph.Builder()
  for r in 0..<20 {
    let rank = RankID(rawValue: Int32(r))
    b.ranks.append(RankInfo(rank: rank, file: "r\(r)"))
    b.lanes.append(Lane(rank: rank, kind: .deviceStream, device: 0, pid: 0, tid: 7, name: b.strings.intern("s")))
    b.addEvent(lane: LaneID(rawValue: UInt32(r)), name: b.strings.intern("k"), kind: .kernel, start: 0, duration: 1000)
  }
  let g = b.build()
  let v = VerdictSection(g, timeline: Timeline(measured: g))
  #expect(v.ranks.count == 20 && v.lines.count == 1 + 16 + 1)
  #expect(v.lines.last == "  … 4 more ranks: compute-bound 4 (every rank in the JSON)")
}
