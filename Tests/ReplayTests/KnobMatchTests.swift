import CostModels
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

/// At the V100 spec's own NVLink bandwidth every intra-node transfer keeps its measured time;
/// from the measured bus bandwidth (about 20 GB/s on DLRM) the same knob shortens them.
@Test func intraLinkAtTheSpecBandwidthKeepsEveryTransfer() throws {
  let g = try dlrm()
  let plan = ReplayPlan(g)
  var s = try Scenario.parse(["link.intra.bandwidth=150GB/s"])
  s.hardware = try SpecLibrary.embedded.detectHardware(g)
  #expect(s.hardware?.name == "v100-sxm2-32gb")
  #expect(s.apply(to: plan).transfers == plan.instanceTransfer)
  let baseline = try #require(s.matches(in: plan).first?.baseline)
  #expect(baseline.source == .hardware("v100-sxm2-32gb", link: "NVLink 2") && baseline.gbps == 150)
  s.hardware = nil
  let measured = s.apply(to: plan).transfers
  #expect(zip(measured, plan.instanceTransfer).allSatisfy { $0 < $1 })
  #expect(s.matches(in: plan).first?.baseline?.source == .measured)
}

private func dlrm() throws -> EventGraph { try Ingest.run(paths: [TestPaths.dlrm]).graph }
