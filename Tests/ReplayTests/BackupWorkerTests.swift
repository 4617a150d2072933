import Foundation
import TestSupport
import Testing
import TraceImport
import TraceModel

@testable import Replay

/// The CPU-only DDP capture (4 ranks, gloo, 12 all-reduces per rank per step; Traces/kineto-cpu).
private let ddp = TestPaths.packageRoot + "/Traces/kineto-cpu/ddp-gloo-4rank"

/// The predicted timeline of `plan` under `knobs`.
private func predicted(_ plan: ReplayPlan, _ knobs: [String]) throws -> Timeline {
  try Replayer().replay(plan, under: try Scenario.parse(knobs)).timeline
}

/// For each barrier instance of `plan` whose kind `pick` selects: the members' ends against the
/// last arrival (latest start): `(waited, didNotWait)` counts of instances where every member
/// ended at or after it, and where some member ended before it.
private func waits(_ plan: ReplayPlan, _ t: Timeline, _ pick: (CollectiveKind?) -> Bool) -> (
  waited: Int, didNotWait: Int
) {
  var out = (waited: 0, didNotWait: 0)
  for i in 0..<plan.instanceCount where pick(plan.collectiveKind(of: i)) {
    let members = plan.members(of: i).map { Int($0) }
    let last = members.map { t.start[$0] }.max()!
    if members.allSatisfy({ t.end[$0] >= last }) { out.waited += 1 } else { out.didNotWait += 1 }
  }
  return out
}

/// `dp.backup=1` on DLRM (8 ranks, one group: 3 all-reduces, the rest all-to-alls) with rank 1
/// slowed down: an all-reduce no longer waits for its last member, while every all-to-all still
/// does (their contributions cannot be dropped). Without the knob every instance waits.
@Test func backupWorkersDropLateAllReduceMembersButAllToAllStillWaits() throws {
  let plan = ReplayPlan(try Ingest.run(paths: [TestPaths.dlrm]).graph)
  let slow = try predicted(plan, ["rank.1.slowdown=2"])
  let backup = try predicted(plan, ["rank.1.slowdown=2", "dp.backup=1"])
  let isAllToAll: (CollectiveKind?) -> Bool = { $0 == .allToAll }
  let isAllReduce: (CollectiveKind?) -> Bool = { $0 == .allReduce }
  #expect(waits(plan, slow, isAllReduce).didNotWait == 0 && waits(plan, slow, isAllToAll).didNotWait == 0)
  let allToAll = waits(plan, backup, isAllToAll)
  #expect(allToAll.waited >= 1 && allToAll.didNotWait == 0, "all-to-alls: \(allToAll)")
  #expect(waits(plan, backup, isAllReduce).didNotWait >= 1, "some all-reduce should end before its late member")
  // Every late member still ends no earlier than it arrived.
  for e in 0..<plan.graph.eventCount { #expect(backup.end[e] >= backup.start[e]) }
}

/// On the gloo DDP capture the all-reduces are host-side (worker threads): with rank 1 twice
/// as slow, every all-reduce it arrives at last ends on the other ranks before rank 1 arrives.
@Test func hostSideAllReducesEndAtTheThirdOfFourArrivals() throws {
  let plan = ReplayPlan(try Ingest.run(paths: [ddp]).graph)
  let t = try predicted(plan, ["rank.1.slowdown=2", "dp.backup=1"])
  let k = try Scenario.parse(["dp.backup=1"]).backupWorkers(for: plan)
  #expect(k.count == plan.instanceCount && k.allSatisfy { $0 == 1 }, "every instance is a DP all-reduce")
  let g = plan.graph
  var endedEarly = 0
  for i in 0..<plan.instanceCount {
    let members = plan.members(of: i).map { Int($0) }
    let arrivals = members.map { t.start[$0] }.sorted()
    guard let late = members.first(where: { g.rank(of: $0).rawValue == 1 }), t.start[late] == arrivals[3] else {
      continue
    }
    // The three early members end where they would at a barrier of three: by the 3rd arrival.
    let early = members.filter { $0 != late }
    if early.allSatisfy({ t.end[$0] < t.start[late] }) { endedEarly += 1 }
    #expect(t.end[late] >= t.start[late])
  }
  #expect(endedEarly >= 30, "\(endedEarly) of 36 all-reduces ended before rank 1 arrived")
}

/// K must leave at least one member: K ≥ the data-parallel group size is a usage error naming
/// the group and its size; a negative or non-integer K is refused when parsed.
@Test func backupOfTheWholeGroupIsRefused() throws {
  let plan = ReplayPlan(try Ingest.run(paths: [ddp]).graph)
  #expect(throws: Never.self) { try Scenario.parse(["dp.backup=3"]).check(plan) }
  let error = #expect(throws: ScenarioError.self) { try Scenario.parse(["dp.backup=4"]).check(plan) }
  #expect(error?.message.contains("'default' (default_pg, 4 ranks) has 4 ranks; K must be below 4") == true)
  for bad in ["-1", "1.5", "two"] {
    #expect(throws: ScenarioError.self) { try Scenario.parse(["dp.backup=\(bad)"]) }
  }
}

/// On a run without collectives (the single-GPU MI300X trace) `dp.backup` matches nothing: a
/// warning says so and why, and the replay is the identity.
@Test func backupKnobWithoutDataParallelGroupsWarns() throws {
  let plan = ReplayPlan(try Ingest.run(paths: [TestPaths.mi300]).graph)
  let scenario = try Scenario.parse(["dp.backup=1"])
  let m = try #require(scenario.matches(in: plan).first)
  #expect(m.target == .allReduces && m.matched == 0)
  #expect(m.warning?.hasPrefix("knob dp.backup=1 matched 0 data-parallel all-reduces (") == true, "\(m.warning ?? "")")
  #expect(try predicted(plan, ["dp.backup=1"]) == (try Replayer().replay(plan)))
  // A match on the DDP run counts its data-parallel all-reduces.
  let ddpPlan = ReplayPlan(try Ingest.run(paths: [ddp]).graph)
  #expect(try Scenario.parse(["dp.backup=1"]).matches(in: ddpPlan).first?.matched == 36)
}

/// Backup workers only remove waiting: on the real DLRM and gloo DDP runs, with and without a
/// straggler, no event ends later with `dp.backup=1` than without it, and some end earlier.
@Test(arguments: [TestPaths.dlrm, ddp])
func backupWorkersNeverDelayAnyEvent(path: String) throws {
  let plan = ReplayPlan(try Ingest.run(paths: [path]).graph)
  for knobs in [[], ["rank.1.slowdown=2"]] {
    let without = try predicted(plan, knobs)
    let with = try predicted(plan, knobs + ["dp.backup=1"])
    let later = (0..<plan.graph.eventCount).filter { with.end[$0] > without.end[$0] }
    #expect(later.isEmpty, "\(path) \(knobs): \(later.count) events end later, e.g. #\(later.first ?? -1)")
    #expect((0..<plan.graph.eventCount).contains { with.end[$0] < without.end[$0] }, "\(path) \(knobs)")
  }
}
