import TestSupport
import Testing
import TraceImport
import TraceModel

@testable import Analysis

/// One rank, µs:
///
///     host:   ProfilerStep#1 [0,1000)
///               aten::linear [0,100) ⊃ aten::addmm [10,60) ⊃ cudaLaunchKernel [20,25) → gemm [30,80)
///               autograd::engine::evaluate_function: AddmmBackward0 [200,300)
///                 ⊃ aten::mm [210,260) ⊃ cudaLaunchKernel [220,225) → gemm [230,330)
///               Optimizer.step#SGD.step [400,500) ⊃ aten::add_ [410,420) ⊃ launch [412,414) → add [420,424)
///               aten::relu [600,610)
private func handGraph() -> EventGraph {
  var b = EventGraph.Builder()
  b.ranks.append(RankInfo(rank: RankID(rawValue: 0), file: "hand"))
  b.lanes.append(
    Lane(rank: RankID(rawValue: 0), kind: .hostThread, device: -1, pid: 1, tid: 1, name: b.strings.intern("h")))
  b.lanes.append(
    Lane(rank: RankID(rawValue: 0), kind: .deviceStream, device: 0, pid: 0, tid: 7, name: b.strings.intern("s7")))
  func add(_ n: String, _ lane: Int, _ k: EventKind, _ s: Int64, _ e: Int64, _ p: EventID = .none) -> EventID {
    b.addEvent(
      lane: LaneID(rawValue: UInt32(lane)), name: b.strings.intern(n), kind: k, start: s * 1000,
      duration: (e - s) * 1000,
      parent: p)
  }
  let step = add("ProfilerStep#1", 0, .annotation, 0, 1000)
  b.steps.append(Step(rank: RankID(rawValue: 0), number: 1, start: .zero, end: Nanoseconds(1_000_000), event: step))
  let linear = add("aten::linear", 0, .hostOp, 0, 100, step)
  let addmm = add("aten::addmm", 0, .hostOp, 10, 60, linear)
  b.opShapes.append(OpShape(event: addmm, dims: b.strings.intern("[[8, 16], [16, 32]]"), types: .empty))
  let l1 = add("cudaLaunchKernel", 0, .hostOp, 20, 25, addmm)
  let k1 = add("gemm", 1, .kernel, 30, 80)
  let bwd = add("autograd::engine::evaluate_function: AddmmBackward0", 0, .hostOp, 200, 300, step)
  let mm = add("aten::mm", 0, .hostOp, 210, 260, bwd)
  let l2 = add("cudaLaunchKernel", 0, .hostOp, 220, 225, mm)
  let k2 = add("gemm", 1, .kernel, 230, 330)
  let opt = add("Optimizer.step#SGD.step", 0, .annotation, 400, 500, step)
  let addOp = add("aten::add_", 0, .hostOp, 410, 420, opt)
  let l3 = add("cudaLaunchKernel", 0, .hostOp, 412, 414, addOp)
  let k3 = add("add", 1, .kernel, 420, 424)
  _ = add("aten::relu", 0, .hostOp, 600, 610, step)
  for (l, k) in [(l1, k1), (l2, k2), (l3, k3)] { b.addEdge(from: l, to: k, kind: .launch) }
  return b.build()
}

@Test func phasesComeFromAnnotationsAndStepOrder() {
  let g = handGraph()
  let p = Phase.of(g)
  func phase(_ name: String) -> [Phase] { (0..<g.eventCount).filter { g.strings[g.name[$0]] == name }.map { p[$0] } }
  #expect(phase("aten::linear") == [.forward] && phase("aten::addmm") == [.forward])
  #expect(phase("aten::mm") == [.backward] && phase("aten::add_") == [.optimizer])
  // After the first backward op and unmarked: other. Kernels follow their launch.
  #expect(phase("aten::relu") == [.other] && phase("gemm") == [.forward, .backward] && phase("add") == [.optimizer])
}

@Test func kernelTableSumsCountsAndPercentiles() throws {
  let g = handGraph()
  let t = TopTable(g, timeline: Timeline(measured: g), kind: .kernel)
  #expect(t.names == 2 && t.total.rawValue == 154_000)
  let gemm = try #require(t.rows.first)
  #expect(gemm.name == "gemm" && gemm.count == 2 && gemm.total.rawValue == 150_000 && gemm.selfTime == gemm.total)
  // Nearest rank: p50 of [50, 100] is 50, p99 is 100.
  #expect(gemm.mean.rawValue == 75_000 && gemm.p50.rawValue == 50_000 && gemm.p99.rawValue == 100_000)
  #expect(gemm.category == "kernel:gemm" && gemm.shapes == [TopTable.Shape(dims: "[[8, 16], [16, 32]]", count: 1)])
  let backward = TopTable(g, timeline: Timeline(measured: g), kind: .kernel, phase: .backward)
  #expect(backward.rows.map(\.total.rawValue) == [100_000])
}

@Test func operatorTableHasSelfAndLaunchedDeviceTime() throws {
  let g = handGraph()
  let t = TopTable(g, timeline: Timeline(measured: g), kind: .op, order: .self, limit: 100)
  let rows = Dictionary(uniqueKeysWithValues: t.rows.map { ($0.name, $0) })
  #expect(rows["cudaLaunchKernel"] == nil && rows["Optimizer.step#SGD.step"] == nil)
  let linear = try #require(rows["aten::linear"])
  // 100 µs, of which 50 in aten::addmm; no device work of its own, 50 µs below it.
  #expect(linear.total.rawValue == 100_000 && linear.selfTime.rawValue == 50_000)
  #expect(linear.deviceSelf == .zero && linear.deviceTotal?.rawValue == 50_000 && linear.launches == 0)
  let addmm = try #require(rows["aten::addmm"])
  #expect(addmm.selfTime.rawValue == 45_000 && addmm.deviceSelf?.rawValue == 50_000 && addmm.launches == 1)
  #expect(addmm.shapes.map(\.dims) == ["[[8, 16], [16, 32]]"])
  #expect(
    t.rows.first?.name == "aten::linear"
      && t.rows.map(\.name).contains("autograd::engine::evaluate_function: AddmmBackward0"))
}

/// HTA 0.5.0's `get_gpu_kernel_breakdown` on DLRM (all ranks; `tools/compare_hta.py --kernels`),
/// summed over the ranks, µs.
@Test func dlrmKernelTotalsEqualHTA() throws {
  let g = try Ingest.run(paths: [TestPaths.dlrm]).graph
  let t = TopTable(g, timeline: Timeline(measured: g), kind: .kernel, limit: 4)
  #expect(t.names == 81 && t.total.rawValue == 57_576_000)
  #expect(t.rows.map { $0.total.rawValue / 1000 } == [37935, 10607, 483, 409])
  #expect(t.rows.map(\.count) == [40, 24, 160, 56])
  let rank3 = TopTable(g, timeline: Timeline(measured: g), kind: .kernel, ranks: [3], limit: 1)
  #expect(rank3.rows.first?.name.hasPrefix("ncclKernel_SendRecv") == true)
}

/// TraceLens' ops summary of its H100 Qwen1.5-0.5B trace
/// (`tests/traces/compare_test_e2e/reference/h100_perf_report_csvs/ops_summary.csv`:
/// `total_direct_kernel_time_sum` µs and `Count`), to the nanosecond TraceLens rounds to.
@Test(.needsCorpus) func tracelensOpsSummaryMatches() throws {
  let corpus = try #require(TestPaths.corpus)
  let g = try Ingest.run(paths: [corpus + "/tracelens/tests/traces/h100/Qwen_Qwen1.5-0.5B-Chat__1016005.json.gz"]).graph
  let t = TopTable(g, timeline: Timeline(measured: g), kind: .op, limit: 1000)
  let rows = Dictionary(uniqueKeysWithValues: t.rows.map { ($0.name, $0) })
  let tracelens: [(String, Double, Int)] = [
    ("aten::mul", 6752.89990234375, 220), ("aten::mm", 6668.681640625, 96), ("aten::copy_", 5101.934814453125, 197),
    ("aten::_flash_attention_forward", 2722.704345703125, 24), ("aten::add", 2607.51513671875, 145),
    ("aten::addmm", 2329.075927734375, 72), ("aten::cat", 2017.782958984375, 49), ("aten::pow", 1300.794921875, 49),
    ("aten::silu", 925.11474609375, 24), ("aten::mean", 743.327392578125, 49), ("aten::neg", 587.3271484375, 48),
    ("aten::rsqrt", 79.076416015625, 49), ("aten::index_select", 51.77587890625, 1), ("aten::arange", 1.50390625, 1),
  ]
  for (name, us, count) in tracelens {
    let r = try #require(rows[name], "\(name)")
    let ours = Double(r.deviceSelf?.rawValue ?? -1) / 1000
    #expect(abs(ours - us) <= 0.004 && r.launches == count, "\(name): \(ours) µs × \(r.launches ?? -1)")
  }
}
