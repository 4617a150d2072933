import CostModels
import TestSupport
import Testing
import TraceModel

@testable import Replay

private struct Case: CustomTestStringConvertible, Sendable {
  var seed: UInt64
  var testDescription: String { "seed \(seed)" }
  func graph(gaps: Bool = true) -> EventGraph {
    var rng = SplitMix64(seed: seed)
    let ranks = 1 + Int(rng.next() % 8)
    let streams = 1 + Int(rng.next() % 3)
    let rounds = 2 + Int(rng.next() % 7)
    return EventGraph.randomRun(ranks: ranks, streams: streams, rounds: rounds, gaps: gaps, using: &rng)
  }
}

private let cases = (0..<300 as Range<UInt64>).map { Case(seed: $0) }

private func makespan(_ t: Timeline) -> Int64 { ((t.end.max() ?? .zero) - (t.start.min() ?? .zero)).rawValue }

@Test(arguments: cases)
private func identityReplayReproducesTheMeasurement(c: Case) throws {
  let g = c.graph()
  #expect(g.validate().isEmpty)
  let plan = ReplayPlan(g)
  let t = try Replayer().replay(plan)
  #expect(t == Timeline(measured: g), "\(c.testDescription)")
  #expect(try Replayer().replay(plan) == t, "\(c.testDescription): reruns differ")
}

/// Replays with random new durations must respect every dependency and lane.
@Test(arguments: cases)
private func replaysRespectDependenciesAndLanes(c: Case) throws {
  let g = c.graph()
  let plan = ReplayPlan(g)
  var rng = SplitMix64(seed: c.seed &+ 1000)
  let durations = g.duration.map { d in Nanoseconds(Int64(Double(d) * (0.25 + Double(rng.next() % 300) / 100))) }
  let transfers = plan.instanceTransfer.map { t in
    Nanoseconds(Int64(Double(t.rawValue) * (0.1 + Double(rng.next() % 300) / 100)))
  }
  let t = try Replayer().replay(plan, durations: durations, transfers: transfers)
  for u in 0..<g.eventCount {
    for (v, kind) in g.edges(from: EventID(u)) {
      let v = v.index
      switch kind {
      case .programOrder: #expect(t.start[v] >= t.end[u], "\(c.testDescription): program order \(u)→\(v)")
      case .launch: #expect(t.start[v] >= t.end[u], "\(c.testDescription): launch \(u)→\(v)")
      case .sync: #expect(t.end[v] >= t.end[u], "\(c.testDescription): sync \(u)→\(v)")
      case .p2p: #expect(t.end[v] >= t.start[u] && t.end[v] == t.end[u], "\(c.testDescription): p2p \(u)→\(v)")
      default: break
      }
    }
  }
  // Serial lanes never overlap.
  for l in 0..<g.lanes.count {
    let events = (0..<g.eventCount).filter { g.lane[$0].index == l }.sorted { (t.start[$0], $0) < (t.start[$1], $1) }
    for (a, b) in zip(events, events.dropFirst()) {
      #expect(t.start[b] >= t.end[a], "\(c.testDescription): lane \(l) overlaps")
    }
  }
  // Barrier members end together, after every arrival plus the transfer.
  for i in 0..<plan.instanceCount {
    let m = plan.members(of: i).map { Int($0) }
    let finish = t.end[m[0]]
    #expect(m.allSatisfy { t.end[$0] == finish }, "\(c.testDescription)")
    #expect(finish == (m.map { t.start[$0] }.max() ?? .min) + transfers[i], "\(c.testDescription)")
  }
  #expect(try Replayer().replay(plan, durations: durations, transfers: transfers) == t)
}

/// critical path ≤ makespan ≤ Σ durations (gapless runs: something is always running).
@Test(arguments: cases)
private func criticalPathBoundsMakespan(c: Case) throws {
  let g = c.graph(gaps: false)
  let plan = ReplayPlan(g)
  let t = try Replayer().replay(plan)
  let dur = (0..<g.eventCount).map { (t.end[$0] - t.start[$0]).rawValue }
  // Longest chain: program order and launch are end→start; sync is end→end.
  var order = Array(0..<g.eventCount)
  order.sort { (g.start[$0], $0) < (g.start[$1], $1) }
  var cpEnd = [Int64](repeating: 0, count: g.eventCount)
  var incoming = [[(Int, EdgeKind)]](repeating: [], count: g.eventCount)
  for u in 0..<g.eventCount { for (v, k) in g.edges(from: EventID(u)) { incoming[v.index].append((u, k)) } }
  for e in order {
    var s: Int64 = 0
    var en: Int64 = 0
    for (p, k) in incoming[e] {
      switch k {
      case .programOrder, .launch: s = max(s, cpEnd[p])
      case .sync: en = max(en, cpEnd[p])
      default: break
      }
    }
    cpEnd[e] = max(s + dur[e], en)
  }
  let cp = cpEnd.max() ?? 0
  let span = makespan(t)
  #expect(cp <= span, "\(c.testDescription): critical path \(cp) > makespan \(span)")
  #expect(span <= dur.reduce(0, +), "\(c.testDescription): makespan \(span) > sum of durations")
}

/// With lane order kept, a shorter duration never lengthens the makespan; a slower link
/// never shortens it.
@Test(arguments: cases)
private func replayIsMonotone(c: Case) throws {
  let g = c.graph()
  let plan = ReplayPlan(g)
  let base = makespan(try Replayer().replay(plan))
  var rng = SplitMix64(seed: c.seed &+ 7)
  for _ in 0..<5 {
    var d = g.duration.map(Nanoseconds.init(rawValue:))
    let e = Int(rng.next() % UInt64(g.eventCount))
    d[e] = Nanoseconds(d[e].rawValue * Int64(rng.next() % 100) / 100)
    let shorter = makespan(try Replayer().replay(plan, durations: d, transfers: plan.instanceTransfer))
    #expect(shorter <= base, "\(c.testDescription): shortening event \(e) lengthened the makespan")
  }
  let fast = try Scenario.parse(["link.intra.bandwidth=100GB/s"]).apply(to: plan)
  let slow = try Scenario.parse(["link.intra.bandwidth=50GB/s"]).apply(to: plan)
  let tFast = makespan(try Replayer().replay(plan, durations: fast.durations, transfers: fast.transfers))
  let tSlow = makespan(try Replayer().replay(plan, durations: slow.durations, transfers: slow.transfers))
  #expect(tSlow >= tFast, "\(c.testDescription): halving link bandwidth shortened the run")
  // Across nodes: two GPUs per node, so most instances cross; halve the NIC bandwidth.
  let cluster = ClusterSpec(
    name: "two-per-node", source: nil, gpusPerNode: 2,
    nodes: [ClusterSpec.Node(name: nil, count: 4, intraNodeGBps: 300, nicGBps: 50)])
  let fastX = try Scenario.parse(["link.inter.bandwidth=50GB/s"], cluster: cluster).apply(to: plan)
  let slowX = try Scenario.parse(["link.inter.bandwidth=25GB/s"], cluster: cluster).apply(to: plan)
  let tFastX = makespan(try Replayer().replay(plan, durations: fastX.durations, transfers: fastX.transfers))
  let tSlowX = makespan(try Replayer().replay(plan, durations: slowX.durations, transfers: slowX.transfers))
  #expect(tSlowX >= tFastX, "\(c.testDescription): halving inter-node bandwidth shortened the run")
}

@Test func cyclesAreReportedNotHung() throws {
  var b = EventGraph.Builder()
  b.lanes.append(Lane(rank: RankID(0), kind: .hostThread, device: -1, pid: 1, tid: 1, name: .empty))
  b.lanes.append(Lane(rank: RankID(0), kind: .deviceStream, device: 0, pid: 0, tid: 7, name: .empty))
  b.ranks.append(RankInfo(rank: RankID(0), file: "cycle"))
  let n = b.strings.intern("k")
  let sync = b.addEvent(lane: LaneID(0), name: n, kind: .sync, start: 0, duration: 10)
  let launch = b.addEvent(lane: LaneID(0), name: n, kind: .hostOp, start: 20, duration: 2)
  let kernel = b.addEvent(lane: LaneID(1), name: n, kind: .kernel, start: 25, duration: 5)
  b.addEdge(from: launch, to: kernel, kind: .launch)
  b.addEdge(from: kernel, to: sync, kind: .sync)  // the sync waits for a kernel launched after it
  let plan = ReplayPlan(b.build())
  #expect(throws: ReplayError.self) { try Replayer().replay(plan) }
  do { _ = try Replayer().replay(plan) } catch { #expect("\(error)".contains("dependency cycle")) }
}

/// Scale factors and durations are bounded so a replay's 64-bit clock cannot overflow, and the
/// error names the setting as the user wrote it (`--set KEY=VALUE`, or `--flag VALUE`).
@Test func scenarioSettingsAreBoundedAndNamedAsWritten() throws {
  #expect { try Scenario.parse(["compute.scale=1e300"]) } throws: {
    "\($0)".hasPrefix("--set compute.scale=1e300: expected a number in 0…1000000")
  }
  #expect { try Scenario.parse(["compute.scale=1e4", "compute.scale=1e3"]) } throws: {
    "\($0)".contains("multiply past 1000000")
  }
  // The bound holds for the product on any one event, whichever knobs make it up.
  #expect { try Scenario.parse(["compute.gemm.scale=1e6", "kernel.match=gemm,scale=10"]) } throws: {
    "\($0)".hasPrefix("--set kernel.match=gemm,scale=10: the scales given multiply past 1000000")
  }
  #expect(throws: Never.self) { try Scenario.parse(["compute.gemm.scale=0.5", "compute.scale=1e6", "comm.scale=1e6"]) }
  #expect { try Scenario.parse(["kernel.match=gemm,scale=1e9"]) } throws: { "\($0)".contains("0…1000000") }
  #expect { try Scenario.parse(["link.latency=2d"]) } throws: { "\($0)".hasPrefix("--set link.latency=2d:") }
  #expect { try Scenario.duration("--p2p", "1e20ns") } throws: { "\($0)".hasPrefix("--p2p 1e20ns: expected") }
  #expect { try Scenario.size("--bytes", "1Gx") } throws: { "\($0)".hasPrefix("--bytes 1Gx: expected a size") }
  #expect(try Scenario.duration("--p2p", "1.5ms") == Nanoseconds(1_500_000))
  #expect(try Scenario.parse(["compute.scale=1e6"]).description == "compute.scale=1e6")
}
