import Foundation
import TestSupport
import Testing
import TraceImport
import TraceModel

@testable import Replay

/// Symmetric-rank folding (`RankFolding`, `reprise replay|whatif --fold-symmetric`): ranks with
/// the same event sequences replayed once per class.

/// `graph` with every folded rank's events timed exactly as their representative's counterparts:
/// a run of identical replicas.
private func identicalCopies(_ graph: EventGraph) -> EventGraph {
  let folding = RankFolding(ReplayPlan(graph))
  var g = graph
  for e in 0..<g.eventCount {
    let c = Int(folding.counterpart[e])
    (g.start[e], g.duration[e]) = (graph.start[c], graph.duration[c])
  }
  return g
}

/// The full and the folded replay of `plan` under `knobs`, as step spans.
private func fullAndFolded(_ plan: ReplayPlan, _ knobs: [String]) throws -> (StepSpans, StepSpans, RankFolding) {
  let scenario = try Scenario.parse(knobs)
  let folding = RankFolding(plan, for: scenario)
  let membership = StepMembership(plan.graph)
  let full = try Replayer().replay(plan, under: scenario).timeline
  let folded = try Replayer().replay(plan, under: scenario, folding: folding).timeline
  return (
    StepSpans(plan.graph, membership: membership, timeline: full),
    StepSpans(plan.graph, membership: membership, timeline: folded), folding
  )
}

/// A generated data-parallel run (identical op sequences, per-rank jitter in every duration)
/// folds into one class, whose representative is the rank latest at the all-reduces.
@Test func dataParallelReplicasFoldIntoOneClass() throws {
  let graph = SyntheticWorkload.dataParallel(ranks: 16, kernelsPerRank: 256)
  let folding = RankFolding(ReplayPlan(graph))
  #expect(folding.rankCount == 16 && folding.classes.count == 1 && folding.foldedRanks == 15)
  #expect(Set(folding.classes[0]) == Set((0..<16).map(RankID.init)))
  // Deterministic: the same classes, representative first, on every run.
  #expect(RankFolding(ReplayPlan(graph)) == folding)
}

/// Exact replicas (every duration and start equal to the representative's): the folded replay
/// is the full replay event for event, as measured and under knobs, since every jitter is 0
/// and each folded event follows the engine's own rule from identical inputs.
@Test(arguments: [[], ["compute.scale=0.5"], ["comm.scale=2"], ["compute.gemm.scale=0.7", "host.launch=2us"]])
func exactReplicasFoldExactly(knobs: [String]) throws {
  let plan = ReplayPlan(identicalCopies(SyntheticWorkload.dataParallel(ranks: 8, kernelsPerRank: 200)))
  let scenario = try Scenario.parse(knobs)
  let folding = RankFolding(plan, for: scenario)
  #expect(folding.foldedRanks == 7)
  let full = try Replayer().replay(plan, under: scenario).timeline
  let folded = try Replayer().replay(plan, under: scenario, folding: folding).timeline
  #expect(folded == full)
}

/// With per-rank jitter the folded identity replay still reproduces every rank's step exactly
/// here: the identity replay reproduces the measured times, and a folded event is its
/// counterpart's replayed time plus its own measured offset.
@Test func jitteredReplicasIdentityIsExact() throws {
  let plan = ReplayPlan(SyntheticWorkload.dataParallel(ranks: 8, kernelsPerRank: 256))
  let (full, folded, _) = try fullAndFolded(plan, [])
  #expect(full.ranks.map(\.duration) == folded.ranks.map(\.duration))
  #expect(full.meanJobStep == folded.meanJobStep)
}

/// The bundled multi-rank sets: the folded replay's job step, slowest per-rank step and every
/// per-rank step are within 0.5 % of the full replay, as measured and under knobs that act on
/// every rank alike (docs/replay.md, Symmetric-rank folding, has the measured table).
@Test(arguments: [
  "generated/ddp-4rank", "generated/comm-bound-4rank", "generated/megatron-tp8", "kineto-cpu/ddp-gloo-4rank",
  "kineto-cpu/ddp-gloo-4rank-straggler", "kineto-cpu/gpt-parallel/tp2",
])
func foldedReplayMatchesFullReplay(set: String) throws {
  let plan = ReplayPlan(try Ingest.run(paths: [TestPaths.packageRoot + "/Traces/" + set]).graph)
  for knobs in [[], ["compute.scale=0.5"], ["comm.scale=2"]] {
    let (full, folded, folding) = try fullAndFolded(plan, knobs)
    #expect(folding.foldedRanks > 0, "\(set) folds")
    let steps = StepMetrics.stepTimes(measured: full, predicted: folded)
    let worst = steps.map { abs($0.errorPct) }.max() ?? 0
    #expect(worst <= 0.5, "\(set) \(knobs): per-rank step differs by \(worst) %")
    let job = abs(Double(folded.meanJobStep.rawValue) / Double(full.meanJobStep.rawValue) - 1) * 100
    #expect(job <= 0.5, "\(set) \(knobs): job step differs by \(job) %")
    // As measured: exact, or within rounding where the identity replay itself is not exact (tp2).
    if knobs.isEmpty { #expect(worst < 0.001, "\(set): the identity replay folds within \(worst) %") }
  }
}

/// Asymmetric ranks: DLRM's ranks are not replicas (each holds other embedding tables: other
/// kernels and counts), so nothing folds and the replay is the full one; the gloo straggler set
/// folds its three replicas and keeps rank 3 (another launch order) apart; the Megatron-style
/// set keeps TP rank 0 (it reads and broadcasts the batch) apart from ranks 1–7.
@Test func asymmetricRanksFoldOnlyTheSymmetricSubset() throws {
  let dlrm = ReplayPlan(try Ingest.run(paths: [TestPaths.dlrm]).graph)
  let none = RankFolding(dlrm)
  #expect(none.foldedRanks == 0 && none.classes.count == 8 && none.isTrivial)
  #expect(try Replayer().replay(dlrm, folding: none) == (try Replayer().replay(dlrm)))
  let straggler = RankFolding(
    ReplayPlan(try Ingest.run(paths: [TestPaths.packageRoot + "/Traces/kineto-cpu/ddp-gloo-4rank-straggler"]).graph))
  #expect(straggler.classes.map { Set($0) } == [Set([0, 1, 2].map(RankID.init)), [RankID(3)]])
  let megatron = RankFolding(ReplayPlan(try Ingest.run(paths: [TestPaths.megatron]).graph))
  #expect(megatron.classes.map { Set($0) } == [[RankID(0)], Set((1..<8).map(RankID.init))])
}

/// Knobs that single out ranks turn folding off: the ranks are no longer replicas.
@Test func knobsThatSingleOutRanksTurnFoldingOff() throws {
  let plan = ReplayPlan(try Ingest.run(paths: [TestPaths.bundledTraces + "/ddp-4rank"]).graph)
  #expect(RankFolding(plan, for: nil).foldedRanks == 3)
  for (knob, name) in [("rank.1.slowdown=1.5", "rank.N.slowdown"), ("dp.backup=1", "dp.backup")] {
    let folding = RankFolding(plan, for: try Scenario.parse([knob]))
    #expect(folding.foldedRanks == 0 && folding.offReason == name, "\(knob)")
  }
}

/// The corpus's multi-rank sets: DLRM (param `dlrm_kineto`, 8 ranks) and HTA's two sampled ranks
/// fold nothing (their ranks differ), so the folded replay is the full replay.
@Test(.needsCorpus) func corpusSetsFoldNothingAndReplayAsFull() throws {
  let corpus = try #require(TestPaths.corpus)
  for dir in [
    "/param/et_replay/tests/inputs/dlrm_kineto.tar.gz.d/dlrm_kineto", "/hta/tests/data/trace_filter",
  ] {
    let plan = ReplayPlan(try Ingest.run(paths: [corpus + dir]).graph)
    let folding = RankFolding(plan)
    #expect(folding.foldedRanks == 0, "\(dir)")
    #expect(try Replayer().replay(plan, folding: folding) == (try Replayer().replay(plan)))
  }
}
