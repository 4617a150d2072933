import Foundation
import TestSupport
import Testing
import TraceImport
import TraceModel

@testable import Replay

/// A synthetic 4-rank run with tensor parallelism 2 and data parallelism 2 (Megatron's rank
/// order: TP groups {0,1} and {2,3} are consecutive, DP groups {0,2} and {1,3} strided): per
/// rank a GEMM, a TP all-reduce (group 1 or 2) and a DP all-reduce (group 3 or 4), each
/// collective with its `Process Group Name/Ranks` args. `describe` adds `pg_config` with
/// Megatron's descriptions; `ranks` leaves the rank lists in the args; `dp` replaces the DP groups.
func tpDPRun(describe: Bool, ranks: Bool, dp: [String: [Int]] = ["3": [0, 2], "4": [1, 3]]) throws
  -> EventGraph
{
  let dir = FileManager.default.temporaryDirectory.appendingPathComponent("reprise-tpdp-\(UUID().uuidString)").path
  try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(atPath: dir) }
  let tp = ["1": [0, 1], "2": [2, 3]]
  func config() -> String {
    let groups =
      tp.map { ($0.key, "TENSOR_MODEL_PARALLEL_GROUP", $0.value) }
      + dp.map { ($0.key, "DATA_PARALLEL_GROUP", $0.value) }
    return groups.sorted { $0.0 < $1.0 }.map { #"{"pg_name": "\#($0.0)", "pg_desc": "\#($0.1)", "ranks": \#($0.2)}"# }
      .joined(separator: ",")
  }
  for r in 0..<4 {
    let t = tp.first { $0.value.contains(r) }!
    let d = dp.first { $0.value.contains(r) }!
    func coll(_ name: String, _ members: [Int], ts: Int, dur: Int) -> String {
      let list = ranks ? #", "Process Group Ranks": "\#(members)""# : ""
      return #"""
        {"ph": "X", "cat": "kernel", "name": "ncclDevKernel_AllReduce_Sum_f32_RING_LL", "pid": 0, "tid": 7, "ts": \#(ts), "dur": \#(dur), "args": {"Collective name": "allreduce", "dtype": "Float", "In msg nelems": 1048576, "Out msg nelems": 1048576, "Group size": \#(members.count), "Process Group Name": "\#(name)"\#(list)}}
        """#
    }
    let events = [
      #"{"ph": "X", "cat": "kernel", "name": "ampere_sgemm_128x64_nn", "pid": 0, "tid": 7, "ts": 0, "dur": 90}"#,
      coll(t.key, t.value, ts: 100, dur: 50), coll(d.key, d.value, ts: 200, dur: 80),
    ]
    let info =
      #""distributedInfo": {"backend": "nccl", "rank": \#(r), "world_size": 4\#(describe ? #", "pg_config": [\#(config())]"# : "")}"#
    let json = #"{\#(info), "traceEvents": [\#(events.joined(separator: ",\n"))]}"#
    try json.write(toFile: dir + "/rank\(r).json", atomically: true, encoding: .utf8)
  }
  return try Ingest.run(paths: [dir]).graph
}

/// Transfer time of every barrier instance under `knobs`, by the group its collectives ran on.
private func transfers(_ g: EventGraph, _ knobs: [String]) throws -> [String: [Int64]] {
  let plan = ReplayPlan(g)
  let (_, tr) = try Scenario.parse(knobs).apply(to: plan)
  var group: [Int: String] = [:]
  for c in g.collectives { group[c.event.index] = g.strings[c.group] }
  var out: [String: [Int64]] = [:]
  for i in 0..<plan.instanceCount { out[group[Int(plan.members(of: i).first!)]!, default: []].append(tr[i].rawValue) }
  return out
}

/// `dp.degree` rescales the data-parallel group's all-reduces only: the TP all-reduces keep
/// their time (they were rescaled too, as if TP were data-parallel). Ring bus factor 2(n−1)/n:
/// from 2 ranks (1) to 4 (1.5).
@Test(arguments: [(true, true), (true, false), (false, true), (false, false)])
func dpDegreeLeavesTheTensorParallelGroupsAlone(describe: Bool, ranks: Bool) throws {
  let g = try tpDPRun(describe: describe, ranks: ranks)
  let base = try transfers(g, [])
  let dp4 = try transfers(g, ["dp.degree=4"])
  #expect(base.keys.sorted() == ["1", "2", "3", "4"])
  for tp in ["1", "2"] { #expect(dp4[tp] == base[tp], "TP group \(tp): \(base[tp]!) → \(dp4[tp]!)") }
  for dp in ["3", "4"] { #expect(dp4[dp] == base[dp]!.map { $0 * 3 / 2 }, "DP group \(dp)") }
  let pgs = ReplayPlan(g).processGroups
  #expect(pgs.groups.filter(\.isDataParallel).map(\.name) == ["3", "4"], "\(pgs.dataParallelRule)")
}

/// Without descriptions, and with groups that are all consecutive ranks (TP pairs and a world
/// group), the trace does not say which is data-parallel: `dp.degree` is refused, naming the
/// groups, rather than applied to every collective. The stride rule finds the DP groups from
/// the instances' members alone when the args list no ranks.
@Test func dpDegreeIsRefusedWhenTheTraceDoesNotSayWhichGroupIsDataParallel() throws {
  let plan = ReplayPlan(try tpDPRun(describe: false, ranks: false, dp: ["0": [0, 1, 2, 3]]))
  #expect(throws: ScenarioError.self) { try Replayer().replay(plan, under: try Scenario.parse(["dp.degree=4"])) }
  _ = try Replayer().replay(plan, under: try Scenario.parse(["pg.0.degree=8"]))
}

/// `pg.NAME.…` knobs act on one process group, named as its collectives name it or by its
/// description; a name the run does not have is refused.
@Test func processGroupKnobsActOnTheirGroupOnly() throws {
  let g = try tpDPRun(describe: true, ranks: true)
  let base = try transfers(g, [])
  let tp2 = try transfers(g, ["pg.TENSOR_MODEL_PARALLEL_GROUP.scale=2"])
  #expect(tp2["1"] == base["1"]!.map { $0 * 2 } && tp2["2"] == base["2"]!.map { $0 * 2 })
  #expect(tp2["3"] == base["3"] && tp2["4"] == base["4"])
  let one = try transfers(g, ["pg.3.degree=4", "pg.3.scale=0.5"])
  #expect(one["3"] == base["3"]!.map { $0 * 3 / 4 } && one["4"] == base["4"] && one["1"] == base["1"])
  let plan = ReplayPlan(g)
  #expect(throws: ScenarioError.self) { try Replayer().replay(plan, under: try Scenario.parse(["pg.7.scale=2"])) }
  #expect(throws: ScenarioError.self) { try Scenario.parse(["pg.3.degree=0"]) }
}
