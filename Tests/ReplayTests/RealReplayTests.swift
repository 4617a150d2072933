import CostModels
import Foundation
import TestSupport
import Testing
import TraceExport
import TraceImport
import TraceModel

@testable import Replay

private let sets = TestPaths.traceSets(corpus: [
  "/hta/tests/data/trace_filter",
  "/hta/tests/data/nccl_parser_config/nccl_data.json.gz",
  "/tracelens/tests/traces/mi300/resnet_act_checkpoint.json.gz",
  "/hta/tests/data/cpu_only/rank-34.Jul_15_10_52_41.1074.pt.trace.json.gz",
  "/kineto/tb_plugin/samples/resnet50_num_workers_0/worker0.pt.trace.json.gz",
])

/// Identity replay reproduces every rank's measured step time within 0.5%.
@Test(arguments: sets)
func identityReplayMatchesMeasuredSteps(path: String) throws {
  let g = try Ingest.run(paths: [path]).graph
  let plan = ReplayPlan(g)
  let t = try Replayer().replay(plan)
  let steps = StepMetrics.stepTimes(plan, measured: Timeline(measured: g), predicted: t)
  #expect(!steps.isEmpty)
  for s in steps { #expect(abs(s.errorPct) <= 0.5, "\(path): rank \(s.rank) step \(s.step ?? -1): \(s.errorPct)%") }
}

@Test func dlrmWhatIfsBoundAndShowStragglers() throws {
  let dir = TestPaths.dlrm
  let g = try Ingest.run(paths: [dir]).graph
  let plan = ReplayPlan(g)
  let measured = Timeline(measured: g)
  func run(_ knobs: [String]) throws -> (step: Int64, wait: [RankID: Nanoseconds]) {
    let (d, tr) = try Scenario.parse(knobs).apply(to: plan)
    let t = try Replayer().replay(plan, durations: d, transfers: tr)
    let step = StepMetrics.stepTimes(plan, measured: measured, predicted: t).map(\.predicted.rawValue).max()!
    return (step, StepMetrics.barrierWait(plan, timeline: t, transfers: tr))
  }
  let base = try run([])
  let computeOnly = try run(["comm.scale=0"])
  let commOnly = try run(["compute.scale=0"])
  let neither = try run(["comm.scale=0", "compute.scale=0"])
  #expect(computeOnly.step <= base.step && commOnly.step <= base.step)
  #expect(neither.step <= computeOnly.step && neither.step <= commOnly.step)
  let straggler = try run(["rank.3.slowdown=1.5"])
  #expect(straggler.step > base.step)
  for r in 0..<8 where r != 3 {
    #expect(straggler.wait[RankID(r)]! > base.wait[RankID(r)]!, "rank \(r) should wait longer for rank 3")
  }
  #expect(straggler.wait[RankID(3)]! < base.wait[RankID(3)]!)
}

@Test func knobsParseUnitsAndRejectNonsense() throws {
  #expect(try Scenario.bandwidth("k", "300GB/s").rawValue == 300e9)
  #expect(try Scenario.bandwidth("k", "400Gb/s").rawValue == 50e9)
  #expect(try Scenario.bandwidth("k", "1GiB/s").rawValue == 1_073_741_824)
  #expect(try Scenario.duration("k", "5us") == Nanoseconds(5_000))
  #expect(try Scenario.duration("k", "1.5ms") == Nanoseconds(1_500_000))
  #expect(try Scenario.size("k", "1GiB") == Bytes(1_073_741_824))
  // Past Int64 nanoseconds or bytes is a usage error, never a trap.
  #expect(throws: ScenarioError.self) { try Scenario.duration("k", "1e30s") }
  #expect(throws: ScenarioError.self) { try Scenario.size("k", "1e30GB") }
  for bad in [
    "compute.scale=x", "rank.a.slowdown=2", "rank.1.slowdown=0", "kernel.match=([,scale=2", "kernel.match=gemm",
    "dp.degree=0", "nope=1", "link.latency=5",
  ] {
    #expect(throws: ScenarioError.self, "\(bad)") { try Scenario.parse([bad]) }
  }
}

@Test func knobsChangeTheRightDurations() throws {
  let g = try Ingest.run(paths: [TestPaths.bundledTraces + "/ddp-4rank"]).graph
  let plan = ReplayPlan(g)
  let (typed, typedTransfers) = try Scenario.parse([
    "compute.gemm.scale=0.5", "kernel.match=flash,scale=0.25", "comm.scale=2", "host.launch=1us", "rank.1.slowdown=2",
  ]).apply(to: plan)
  let d = typed.map(\.rawValue)
  let tr = typedTransfers.map(\.rawValue)
  for e in 0..<g.eventCount where g.rank(of: e) == RankID(0) {
    let name = g.strings[g.name[e]]
    if g.kind[e] == .kernel && name.hasPrefix("sm90_xmma_gemm") {
      #expect(d[e] == (g.duration[e] + 1) / 2 || d[e] == g.duration[e] / 2)
    }
    if g.kind[e] == .kernel && name.contains("flash") { #expect(abs(d[e] - g.duration[e] / 4) <= 1) }
    if name == "cudaLaunchKernel" { #expect(d[e] == 1_000) }
  }
  for e in 0..<g.eventCount
  where g.rank(of: e) == RankID(1) && g.kind[e] == .kernel && g.strings[g.name[e]].contains("layer_norm") {
    #expect(d[e] == 2 * g.duration[e])
  }
  #expect(zip(tr, plan.instanceTransfer).allSatisfy { $0 == 2 * $1.rawValue })
  // dp.degree: all-reduce of 4 ranks → 16 ranks: factor (2·15/16)/(2·3/4) = 1.25.
  let (_, dp) = try Scenario.parse(["dp.degree=16"]).apply(to: plan)
  #expect(zip(dp, plan.instanceTransfer).allSatisfy { abs(Double($0.rawValue) - 1.25 * Double($1.rawValue)) <= 1 })
}

@Test func clusterSpecsBoundByTheSlowestNIC() throws {
  let c = try ClusterSpec.load(TestPaths.packageRoot + "/Models/clusters/mixed-nic-4node.json")
  #expect(c.expandedNodes.count == 4)
  let intra = c.bottleneck(for: [RankID(0), RankID(7)])
  #expect(!intra.crossesNodes && intra.bandwidth.rawValue == 450e9)
  #expect(c.bottleneck(for: [RankID(0), RankID(8)]).bandwidth.rawValue == 50e9)
  #expect(c.bottleneck(for: [RankID(0), RankID(8), RankID(31)]).bandwidth.rawValue == 25e9)
  for name in ["dgx-h100-4node", "v100-dgx1"] {
    #expect(throws: Never.self) { try ClusterSpec.load(TestPaths.packageRoot + "/Models/clusters/\(name).json") }
  }
}

/// Export to Chakra, re-import, replay: the job step time matches the original replay within
/// 0.1 % (µs rounding of start times and durations is all that differs).
@Test(arguments: TestPaths.traceSets())
func chakraRoundTripKeepsTheStepTime(path: String) throws {
  let g = try Ingest.run(paths: [path]).graph
  let dir = FileManager.default.temporaryDirectory.appendingPathComponent("reprise-chakra-\(UUID().uuidString)").path
  defer { try? FileManager.default.removeItem(atPath: dir) }
  let summary = try ChakraExporter.write(g, timeline: Timeline(measured: g), to: dir)
  #expect(summary.files.count == g.ranks.count && summary.droppedDependencies == 0)
  let back = try Ingest.run(paths: [dir])
  #expect(back.diagnostics.count(of: .error) == 0 && back.graph.ranks.count == g.ranks.count)
  #expect(back.graph.instances.count == g.instances.count && back.graph.steps.count == g.steps.count)
  #expect(back.graph.p2p.filter { $0.match != nil }.count == g.p2p.filter { $0.match != nil }.count)
  func step(_ graph: EventGraph) throws -> Double {
    let plan = ReplayPlan(graph)
    let t = try Replayer().replay(plan)
    let steps = StepMetrics.stepTimes(plan, measured: Timeline(measured: graph), predicted: t)
    var byStep: [Int: Int64] = [:]
    for s in steps { byStep[s.step ?? -1] = max(byStep[s.step ?? -1] ?? 0, s.predicted.rawValue) }
    return Double(byStep.values.reduce(0, +)) / Double(max(byStep.count, 1))
  }
  let a = try step(g)
  let b = try step(back.graph)
  #expect(abs(b - a) / a < 0.001, "\(path): \(a) → \(b)")
}
