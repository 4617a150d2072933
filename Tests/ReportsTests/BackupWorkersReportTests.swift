import Foundation
import Replay
import Reports
import TestSupport
import Testing
import TraceImport
import TraceModel

/// Issue 13 acceptance (backup workers): on the gloo DDP capture (4 ranks, one data-parallel
/// group) with `rank.1.slowdown=2`, `dp.backup=1` recovers at least 80 % of the slowdown of the
/// job step: (slowdown − backup) / (slowdown − baseline) ≥ 0.8, where the job step under backup
/// workers is the 3rd fastest rank's step and the slowdown's is the slowest per-rank step (the
/// same rule with K = 0). The dropped rank is rank 1 in every step, in the JSON and the text.
@Test func backupWorkerRecoversMostOfAStragglersSlowdown() throws {
  let g = try Ingest.run(paths: [TestPaths.packageRoot + "/Traces/kineto-cpu/ddp-gloo-4rank"]).graph
  let slow = try WhatIfRun(graph: g, scenario: try Scenario.parse(["rank.1.slowdown=2"]))
  let backup = try slow.with(try Scenario.parse(["rank.1.slowdown=2", "dp.backup=1"]))
  let baseline = slow.baselineStep
  let doc = try #require(backup.summary.backupWorkers)
  let recovered = Double((slow.predictedStep - doc.stepNs).rawValue) / Double((slow.predictedStep - baseline).rawValue)
  #expect(slow.predictedStep > baseline + Nanoseconds(rawValue: 5_000_000), "the slowdown costs at least 5 ms")
  #expect(recovered >= 0.8, "baseline \(baseline), slowdown \(slow.predictedStep), backup \(doc.stepNs)")
  #expect(doc.k == 1 && doc.groupSize == 4 && doc.allReduces == 36)
  #expect(doc.droppedRanks.map(\.step) == [1, 2, 3] && doc.droppedRanks.allSatisfy { $0.ranks == [1] })
  // K = 0 is the slowest per-rank step; the JSON has the block only with the knob.
  let none = try slow.with(try Scenario.parse(["rank.1.slowdown=2", "dp.backup=0"]))
  #expect(none.summary.backupWorkers?.stepNs == slow.predictedStep)
  #expect(slow.summary.backupWorkers == nil)
  let json = try backup.summary.json()
  #expect(json.contains(#""droppedRanks""#) && json.contains(#""groupSize": 4"#))
  let text = backup.text()
  #expect(text.contains("dropped: #1 rank 1; #2 rank 1; #3 rank 1"), "\(text)")
  #expect(text.contains("36 data-parallel all-reduces end at arrival 3 of 4"))
}
