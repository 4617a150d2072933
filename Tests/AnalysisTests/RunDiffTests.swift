import Replay
import TestSupport
import Testing
import TraceImport
import TraceModel

@testable import Analysis

/// Issue 12, bug 4: `diff A --whatif host.launch=2us` moved elementwise kernel totals by −11.6 %
/// and dropped a kernel's count from 160 to 114, because work was clipped to each run's step
/// annotations, which the what-if moves. Work is now counted by step membership, as the replay's
/// step times are: a knob that does not touch a class leaves its count and total unchanged.
@Test func aKnobThatDoesNotTouchAClassLeavesItsCountAndTotal() throws {
  let g = try Ingest.run(paths: [TestPaths.dlrm]).graph
  let plan = ReplayPlan(g)
  let baseline = try Replayer().replay(plan)
  let predicted = try Replayer().replay(plan, under: try Scenario.parse(["host.launch=2us"])).timeline
  let diff = RunDiff(a: g, baseline, b: g, predicted)
  let elementwise = try #require(diff.rows.first { $0.key == "kernel:elementwise" })
  #expect(elementwise.aCount > 0 && elementwise.aCount == elementwise.bCount && elementwise.a == elementwise.b)
  // Launch overhead changes no device duration: every kernel, memcpy and memset class and name
  // keeps its count and total.
  let device = diff.rows.filter { !$0.key.hasPrefix("collective:") && $0.key != "sendRecv" }
  #expect(device.count >= 5)
  for r in device { #expect(r.aCount == r.bCount && r.a == r.b, "\(r.key): \(r.aCount)/\(r.a) → \(r.bCount)/\(r.b)") }
  let collectives = diff.rows.filter { $0.key.hasPrefix("collective:") }
  #expect(!collectives.isEmpty && collectives.allSatisfy { $0.aCount == $0.bCount })
  // The step's device work is counted once each: as many events as the replay's steps hold.
  let membership = StepMembership(g)
  let work = (0..<g.eventCount).filter { membership.step[$0] >= 0 && AnalysisIndex.isDeviceWork(g, $0) }.count
  #expect(diff.rows.reduce(0) { $0 + $1.aCount } == work)
}
