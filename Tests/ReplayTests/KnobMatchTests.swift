import Foundation
import Replay
import TestSupport
import Testing
import TraceImport
import TraceModel

/// What a knob reports it matched is what it changes: for each single-knob scenario on DLRM,
/// the events whose duration the scenario changes are exactly the matched count, and a knob
/// that matches nothing changes nothing and says so.
@Test(arguments: [
  "compute.scale=0.5", "compute.gemm.scale=2", "compute.elementwise.scale=0.5", "compute.attention.scale=2",
  "kernel.match=gemm,scale=0.5", "kernel.match=GEMM,scale=0.5", "kernel.match=(?i)GEMM,scale=0.5",
  "kernel.match=^no_such_kernel$,scale=3", "host.launch=2us", "comm.scale=2",
])
func knobMatchCountsAreTheEventsItChanges(knob: String) throws {
  let plan = ReplayPlan(try dlrm())
  let scenario = try Scenario.parse([knob])
  let match = try #require(scenario.matches(in: plan).first)
  let changed = zip(plan.graph.duration, try scenario.apply(to: plan).durations).filter { $0 != $1.rawValue }.count
  let comm = match.target == .communicationEvents
  // comm.scale re-derives matched collectives through their instance transfer, not their duration.
  #expect(
    comm
      ? match.matched == plan.graph.kind.filter { [.collective, .send, .recv].contains($0) }.count
      : changed == match.matched, "\(knob): \(match.matched) matched, \(changed) changed")
  #expect((match.warning == nil) == (match.matched > 0), "\(knob): \(match.warning ?? "no warning")")
}

@Test func caseInsensitiveKernelMatchFindsWhatTheCaseSensitiveOneMisses() throws {
  let plan = ReplayPlan(try dlrm())
  let m = try Scenario.parse(["kernel.match=GEMM,scale=0.5", "kernel.match=(?i)GEMM,scale=0.5"]).matches(in: plan)
  #expect(m[0].matched == 0 && m[1].matched == 256)
  #expect(m[0].warning?.contains("case-sensitive, (?i) makes it ignore case") == true)
}

@Test func rankAndLinkKnobsCountRanksAndTransfers() throws {
  let plan = ReplayPlan(try dlrm())
  let m = try Scenario.parse([
    "rank.99.slowdown=2", "rank.3.slowdown=2", "link.intra.bandwidth=100GB/s", "link.inter.bandwidth=10GB/s",
    "link.latency=5us", "dp.degree=16",
  ]).matches(in: plan)
  #expect(m.map(\.target) == [.ranks, .ranks, .transfers, .transfers, .transfers, .transfers])
  #expect(m.map(\.matched) == [0, 1, 8, 0, 8, 8])
  #expect(m[0].warning == "knob rank.99.slowdown=2 matched 0 ranks (the trace has ranks 0–7)")
  #expect(m[3].warning?.hasPrefix("knob link.inter.bandwidth=10GB/s matched 0 transfers") == true)
}

private func dlrm() throws -> EventGraph { try Ingest.run(paths: [TestPaths.dlrm]).graph }
