import CostModels
import Foundation
import Parallel
import Replay
import Schedules
import TestSupport
import Testing
import TraceImport
import TraceModel

@testable import Reports

private let root = TestPaths.packageRoot
private let specs = SpecLibrary(root: root + "/Models")

private func study(_ path: String, model: String? = nil, hardware: String? = nil) throws -> ParallelStudy {
  let graph = try Ingest.run(paths: [path]).graph
  return try ParallelStudy(
    graph: graph, trace: path, recorded: nil, model: model, hardware: hardware, from: nil, cluster: nil, specs: specs)
}

/// Every (dp, tp, pp, cp) of N, each once: for N = 2^9 the ordered 4-factor splits are C(12, 3).
@Test func planEnumeratesEveryFactorisationOnce() {
  let l = PlanSearch.layouts(512)
  #expect(l.count == 220)
  #expect(Set(l).count == l.count && l.allSatisfy { $0.worldSize == 512 })
  #expect(PlanSearch.layouts(12).count == 40)
  #expect(PlanSearch.microbatches(pp: 4, perReplica: 32) == [4, 8, 16, 32])
  #expect(PlanSearch.microbatches(pp: 3, perReplica: 12) == [3, 6, 12])
  #expect(PlanSearch.microbatches(pp: 1, perReplica: 6) == [1, 2, 6])
  #expect(PlanSearch.microbatches(pp: 8, perReplica: 4).isEmpty)
}

/// The CPU DDP trace on 4 devices: every candidate is predicted, infeasible or refused, the
/// ranking is sorted, and the document is byte-identical when built twice.
@Test func planOnTheCPUTraceIsSortedCountedAndDeterministic() throws {
  let s = try study(root + "/Traces/kineto-cpu/ddp-gloo-4rank")
  let plan = try ParallelPlan(s, cluster: nil, request: PlanRequest(gpus: 4, top: 50))
  let c = plan.counts
  #expect(c.layouts == 10 && c.predicted > 0)
  #expect(c.predicted + c.infeasibleByMemory + c.refused == c.enumerated)
  #expect(c.refusedByReason.filter { $0.level == "layout" }.map(\.count).reduce(0, +) == c.layoutsRefused)
  #expect(plan.plans.count == min(50, c.predicted))
  for (a, b) in zip(plan.plans, plan.plans.dropFirst()) {
    #expect((a.stepNs.rawValue, a.layout.pp, a.name) < (b.stepNs.rawValue, b.layout.pp, b.name))
  }
  #expect(plan.plans.map(\.rank) == Array(1...plan.plans.count))
  #expect(Set(plan.plans.map(\.name)).count == plan.plans.count)
  // Every schedule is tried for the pipelines.
  #expect(Set(plan.plans.filter { $0.layout.pp > 1 }.map(\.layout.schedule)).count > 3)
  let again = try ParallelPlan(
    try study(root + "/Traces/kineto-cpu/ddp-gloo-4rank"), cluster: nil, request: .init(gpus: 4, top: 50))
  #expect(try plan.json() == again.json())
  // Each plan is the prediction `whatif --parallel` gives for it.
  let top = plan.plans[0]
  let l = top.layout
  let w = try ParallelWhatIf(
    s, target: ParallelLayout(dp: l.dp, tp: l.tp, pp: l.pp, cp: l.cp),
    options: ParallelOptions(schedule: l.pp > 1 ? l.schedule : nil, microbatches: l.microbatches))
  #expect(w.stepNs.predicted == top.stepNs && w.stepNs.low == top.lowNs && w.stepNs.high == top.highNs)
}

/// A 7B model on 80 GB devices: full replicas (dp = 8) do not fit (16 bytes per parameter of
/// states alone); those are counted with their overshoot and never ranked; every ranked plan's
/// memory is the memory `whatif --parallel` computes for it.
@Test func memoryInfeasibleLayoutsAreNeverRanked() throws {
  let s = try study(TestPaths.h100, model: "llama-2-7b", hardware: "h100-sxm5-80gb")
  let plan = try ParallelPlan(s, cluster: nil, request: PlanRequest(gpus: 8, top: 1000))
  #expect(plan.counts.infeasibleByMemory > 0)
  #expect(plan.counts.largestOverBytes > .zero && plan.counts.largestOver != nil)
  #expect(!plan.plans.isEmpty)
  #expect(!plan.plans.contains { $0.layout.dp == 8 })
  for e in plan.plans {
    let m = try #require(e.memory)
    #expect(m.fits && e.headroomBytes == m.hbmBytes - m.peakBytesPerRank)
    let l = e.layout
    let p = try s.predictor.predict(
      ParallelLayout(dp: l.dp, tp: l.tp, pp: l.pp, cp: l.cp),
      ParallelOptions(schedule: l.pp > 1 ? l.schedule : nil, microbatches: l.microbatches))
    #expect(try s.memory(p, options: ParallelOptions(), activations: .tensorSequenceSelective).memory == m)
  }
  #expect(plan.text().contains("do not fit"))
}

/// The GPT validation set (one process) planned on 2 devices with its calibrated CPU spec and
/// loopback link: all four layouts are predicted, each with its memory checked.
@Test func planOnTheGPTSetPredictsEveryTwoProcessLayout() throws {
  let dir = root + "/Traces/kineto-cpu/gpt-parallel"
  let graph = try Ingest.run(paths: [dir + "/single"]).graph
  let s = try ParallelStudy(
    graph: graph, trace: "single", recorded: nil, model: dir + "/gpt-tiny.json", hardware: dir + "/cpu-calibrated.json",
    from: nil, cluster: dir + "/cpu-gloo-loopback.json", specs: specs)
  let plan = try ParallelPlan(s, cluster: "cpu-gloo-loopback", request: PlanRequest(gpus: 2, top: 100))
  #expect(plan.counts.layouts == 4 && plan.counts.layoutsRefused == 0 && plan.counts.refused == 0)
  let layouts = Set(plan.plans.map { "\($0.layout.dp)\($0.layout.tp)\($0.layout.pp)\($0.layout.cp)" })
  #expect(layouts == ["2111", "1211", "1121", "1112"])
  #expect(plan.plans.allSatisfy { $0.memory?.fits == true && $0.tokensPerSecond > 0 })
  #expect(plan.globalBatch == plan.recorded.layout.globalBatch && plan.sequence == 100)
}
