import CostModels
import Foundation
import Reports
import TestSupport
import Testing
import TraceImport
import TraceModel

@testable import Replay

/// A built-in hardware spec with every ceiling (peaks, sustained figures, memory, PCIe and
/// interconnect bandwidth) multiplied by `compute` and `memory`.
func scaledSpec(_ name: String, compute: Double, memory: Double) throws -> HardwareSpec {
  var hw = try SpecLibrary.embedded.hardware(name)
  hw.name += "-scaled"
  hw.peakTFLOPs = hw.peakTFLOPs.mapValues { $0 * compute }
  hw.hbmBandwidthGBps *= memory
  hw.pcie.gbpsPerDirection *= memory
  hw.interconnect?.gbpsPerDirection *= memory
  if var s = hw.sustained {
    s.tflops = s.tflops?.mapValues { $0 * compute }
    s.hbmGBps = s.hbmGBps.map { $0 * memory }
    hw.sustained = s
  }
  return hw
}

/// Device work of `plan` under `scenario` next to its measured time.
func retimed(_ plan: ReplayPlan, _ scenario: Scenario) -> [(measured: Int64, predicted: Int64)] {
  let d = scenario.apply(to: plan).durations
  return (0..<plan.graph.eventCount).filter { HardwareTransfer.workClass(plan, $0) != nil }.map {
    (plan.graph.duration[$0], d[$0].rawValue)
  }
}

/// `--hardware` equal to the recorded GPU predicts the identity replay (within 0.1 %), while
/// still timing the sized kernels through the roofline.
@Test func transferToTheSameGPUIsTheIdentity() throws {
  for path in [TestPaths.h100, TestPaths.mi300] {
    let g = try Ingest.run(paths: [path]).graph
    let source = try #require(try SpecLibrary.embedded.detectHardware(g))
    var scenario = Scenario()
    scenario = try scenario.configuringModels(
      graph: g, hardware: source.name, from: nil, hostScale: nil, ranksPerNode: nil, specs: .embedded)
    let run = try WhatIfRun(graph: g, scenario: scenario)
    let error = abs(Double(run.predictedJobStep.rawValue) / Double(run.baselineJobStep.rawValue) - 1)
    #expect(error < 0.001, "\(path): \(run.predictedJobStep) vs \(run.baselineJobStep)")
    let section = try #require(run.transferSection)
    #expect(section.sourceFrom == "deviceProperties" && section.source == section.target)
    #expect(section.classes.contains { $0.workClass == "gemm" && $0.shapeTimed > 100 })
    #expect(section.boundFlips.isEmpty)
  }
}

/// A target with every ceiling doubled makes no kernel slower (each gets exactly half its time:
/// every term of the roofline halves); doubling compute alone flips memory-near ops and lists them.
@Test func doubledCeilingsMakeNoKernelSlowerAndFlipsAreListed() throws {
  let g = try Ingest.run(paths: [TestPaths.h100]).graph
  let plan = ReplayPlan(g)
  let h100 = try SpecLibrary.embedded.hardware("h100-sxm5-80gb")
  var scenario = Scenario()
  scenario.transfer = HardwareTransfer(
    source: h100, target: try scaledSpec("h100-sxm5-80gb", compute: 2, memory: 2))
  let pairs = retimed(plan, scenario)
  #expect(pairs.count > 1000)
  let host = (0..<g.eventCount).filter { HardwareTransfer.workClass(plan, $0) == .host }.count
  #expect(pairs.filter { $0.predicted > $0.measured }.isEmpty)
  #expect(pairs.filter { $0.predicted < $0.measured }.count >= pairs.count - host - 5)
  let doubled = try WhatIfRun(graph: g, scenario: scenario)
  #expect(doubled.transferSection?.boundFlips.isEmpty == true)
  #expect(doubled.predictedJobStep <= doubled.baselineJobStep)
  // Compute alone: ops near the ridge become memory-bound on the target.
  scenario.transfer = HardwareTransfer(source: h100, target: try scaledSpec("h100-sxm5-80gb", compute: 4, memory: 1))
  let computeOnly = try WhatIfRun(graph: g, scenario: scenario)
  let flips = try #require(computeOnly.transferSection?.boundFlips)
  #expect(!flips.isEmpty && flips.allSatisfy { $0.from == "compute" && $0.to == "memory" })
  #expect(retimed(plan, scenario).allSatisfy { $0.predicted <= $0.measured })
}

/// Host work stays as measured unless `hostScale` says otherwise; then every host leaf scales.
@Test func hostWorkScalesOnlyWithHostScale() throws {
  let g = try Ingest.run(paths: [TestPaths.h100]).graph
  let plan = ReplayPlan(g)
  let h100 = try SpecLibrary.embedded.hardware("h100-sxm5-80gb")
  var scenario = Scenario()
  scenario.transfer = HardwareTransfer(source: h100, target: h100)
  let hosts = (0..<g.eventCount).filter { HardwareTransfer.workClass(plan, $0) == .host }
  var d = scenario.apply(to: plan).durations
  #expect(hosts.allSatisfy { d[$0].rawValue == g.duration[$0] })
  scenario.transfer?.hostScale = 2
  d = scenario.apply(to: plan).durations
  #expect(hosts.allSatisfy { d[$0].rawValue == 2 * g.duration[$0] })
  #expect(try WhatIfRun(graph: g, scenario: scenario).predictedJobStep > Nanoseconds(49_000_000))
}

/// The network model: DLRM's collectives on the mixed-NIC cluster (two nodes at 25 GB/s per GPU)
/// take longer than on four DGX H100 nodes at 50 GB/s; the job spreads over the four nodes.
@Test func mixedNICClusterSlowsCollectives() throws {
  let g = try Ingest.run(paths: [TestPaths.dlrm]).graph
  var totals: [String: Nanoseconds] = [:]
  for name in ["dgx-h100-4node", "mixed-nic-4node"] {
    let s = try Scenario(cluster: try SpecLibrary.embedded.cluster(name)).configuringModels(
      graph: g, hardware: nil, from: nil, hostScale: nil, ranksPerNode: nil, specs: .embedded)
    let run = try WhatIfRun(graph: g, scenario: s)
    let net = try #require(run.networkSection)
    #expect(net.ranksPerNode == 2 && net.retimed == net.instances && net.instances > 0)
    totals[name] = net.predictedTransferNs
  }
  #expect(try #require(totals["mixed-nic-4node"]) > #require(totals["dgx-h100-4node"]))
  // All in one node (8 per node): both clusters give NVLink at 450 GB/s, the same times.
  var packed: [Nanoseconds] = []
  for name in ["dgx-h100-4node", "mixed-nic-4node"] {
    let s = try Scenario(cluster: try SpecLibrary.embedded.cluster(name)).configuringModels(
      graph: g, hardware: nil, from: nil, hostScale: nil, ranksPerNode: 8, specs: .embedded)
    packed.append(try #require(try WhatIfRun(graph: g, scenario: s).networkSection).predictedTransferNs)
  }
  #expect(packed[0] == packed[1] && packed[0] < totals["dgx-h100-4node"]!)
}

/// `comm.algorithm` changes the all-reduces only: tree and hierarchical differ from ring.
@Test func allReduceAlgorithmKnob() throws {
  let g = try Ingest.run(paths: [TestPaths.dlrm]).graph
  let plan = ReplayPlan(g)
  let cluster = try SpecLibrary.embedded.cluster("dgx-h100-4node").spreading(world: 8)
  var out: [String: [Nanoseconds]] = [:]
  for a in ["ring", "tree", "hierarchical"] {
    var s = try Scenario.parse(["comm.algorithm=\(a)"], cluster: cluster)
    s.retimesNetwork = true
    out[a] = s.apply(to: plan).transfers
  }
  let allReduces = (0..<plan.instanceCount).filter { plan.collectiveKind(of: $0) == .allReduce }
  let others = (0..<plan.instanceCount).filter { plan.collectiveKind(of: $0) != .allReduce }
  #expect(!allReduces.isEmpty && !others.isEmpty)
  for i in allReduces { #expect(out["ring"]![i] != out["tree"]![i] && out["ring"]![i] != out["hierarchical"]![i]) }
  for i in others { #expect(out["ring"]![i] == out["tree"]![i] && out["ring"]![i] == out["hierarchical"]![i]) }
  #expect(throws: ScenarioError.self) { try Scenario.parse(["comm.algorithm=butterfly"]) }
}

/// The TraceLens Qwen1.5-0.5B pair: each trace predicted on the other's GPU lands within 15 % of
/// the other's measured job step (docs/models/transfer.md, "Validation").
@Test func qwenPairPredictsTheOtherGPUWithinFifteenPercent() throws {
  let h100 = try Ingest.run(paths: [TestPaths.h100]).graph
  let mi300 = try Ingest.run(paths: [TestPaths.mi300]).graph
  for (a, b, target) in [(h100, mi300, "mi300x"), (mi300, h100, "h100-sxm5-80gb")] {
    let s = try Scenario().configuringModels(
      graph: a, hardware: target, from: nil, hostScale: nil, ranksPerNode: nil, specs: .embedded)
    let check = try TransferCheck(try WhatIfRun(graph: a, scenario: s), measuredOnTarget: b)
    #expect(abs(check.errorPct) < 15, "\(target): \(check.text())")
    let gemm = try #require(check.classes.first { $0.workClass == "gemm" })
    #expect(abs(try #require(gemm.errorPct)) < 25, "\(target) gemm: \(gemm)")
  }
}

/// The interval of a cross-hardware prediction carries the models' ceiling error (±15 %): it is a
/// real range around the prediction, and on the Qwen pair the MI300X trace's range on the H100
/// contains the H100's measured step; onto the recorded GPU itself it stays a point.
@Test func crossHardwareIntervalCarriesTheModelError() throws {
  let mi300 = try Ingest.run(paths: [TestPaths.mi300]).graph
  let h100 = try Ingest.run(paths: [TestPaths.h100]).graph
  let s = try Scenario().configuringModels(
    graph: mi300, hardware: "h100-sxm5-80gb", from: nil, hostScale: nil, ranksPerNode: nil, specs: .embedded)
  let run = try WhatIfRun(graph: mi300, scenario: s)
  let interval = run.jobStepInterval
  #expect(interval.low < run.predictedJobStep && run.predictedJobStep < interval.high)
  #expect(run.modelBoundSpans.count == 2)
  #expect(interval.contains(try WhatIfRun(graph: h100, scenario: nil).measuredJobStep))
  let same = try Scenario().configuringModels(
    graph: mi300, hardware: "mi300x", from: nil, hostScale: nil, ranksPerNode: nil, specs: .embedded)
  let identity = try WhatIfRun(graph: mi300, scenario: same)
  #expect(identity.modelBoundSpans.isEmpty && identity.jobStepInterval.low == identity.jobStepInterval.high)
}
