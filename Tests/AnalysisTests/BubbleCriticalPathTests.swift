import Replay
import TestSupport
import Testing
import TraceImport
import TraceModel

@testable import Analysis

/// One rank, a host thread and two streams, laid out by hand (µs):
///
///     host:      h1[0,5) h2[10,15) h3[20,25) s=sync[30,420)  h4[450,455)  h5[650,655)
///     stream 7:  k1[0,100)            k2[300,400)   k3[500,600)   k4[700,800)
///     stream 20:     recv[50,300)
///
/// h1..h5 launch k1, recv, k2, k3, k4; s waits for k2 (sync edge).
/// Stream 7 bubbles: [100,300) k2 waits for the recv (recv); [400,500) k3's launch came after the
/// synchronize returned (sync); [600,700) launched late with nothing blocking (hostLaunch).
/// Stream 20: [0,50) launched late (hostLaunch), [300,800) nothing follows (other).
/// Rank: idle [400,500) sync + [600,700) hostLaunch = 200.
private func handGraph() -> (EventGraph, [String: Int]) {
  var b = EventGraph.Builder()
  b.ranks.append(RankInfo(rank: RankID(0), file: "hand"))
  b.lanes.append(Lane(rank: RankID(0), kind: .hostThread, device: -1, pid: 1, tid: 1, name: b.strings.intern("host")))
  b.lanes.append(
    Lane(rank: RankID(0), kind: .deviceStream, device: 0, pid: 0, tid: 7, name: b.strings.intern("stream 7")))
  b.lanes.append(
    Lane(rank: RankID(0), kind: .deviceStream, device: 0, pid: 0, tid: 20, name: b.strings.intern("stream 20")))
  var ids: [String: Int] = [:]
  func add(_ name: String, _ lane: Int, _ kind: EventKind, _ s: Int64, _ e: Int64) -> EventID {
    let id = b.addEvent(
      lane: LaneID(lane), name: b.strings.intern(name), kind: kind, start: s * 1000, duration: (e - s) * 1000)
    ids[name] = id.index
    return id
  }
  let h = [(0, 5), (10, 15), (20, 25), (450, 455), (650, 655)].enumerated().map { i, t in
    add("h\(i + 1)", 0, .hostOp, Int64(t.0), Int64(t.1))
  }
  let s = add("s", 0, .sync, 30, 420)
  let k1 = add("k1", 1, .kernel, 0, 100)
  let k2 = add("k2", 1, .kernel, 300, 400)
  let k3 = add("k3", 1, .kernel, 500, 600)
  let k4 = add("k4", 1, .kernel, 700, 800)
  let r = add("recv", 2, .recv, 50, 300)
  for (from, to) in zip(h, [k1, r, k2, k3, k4]) { b.addEdge(from: from, to: to, kind: .launch) }
  b.addEdge(from: k2, to: s, kind: .sync)
  return (b.build(), ids)
}

@Test func bubblesAreClassifiedByWhatEndedThem() throws {
  let (g, _) = handGraph()
  let a = BubbleAnalysis(g, timeline: Timeline(measured: g))
  let lane7 = a.laneBubbles.filter { $0.lane == 1 }.map {
    "\($0.start.rawValue / 1000)+\($0.duration.rawValue / 1000) \($0.cause.rawValue)"
  }
  #expect(lane7 == ["100+200 recv", "400+100 sync", "600+100 hostLaunch"])
  let lane20 = a.laneBubbles.filter { $0.lane == 2 }.map {
    "\($0.start.rawValue / 1000)+\($0.duration.rawValue / 1000) \($0.cause.rawValue)"
  }
  #expect(lane20 == ["0+50 hostLaunch", "300+500 other"])
  let r = try #require(a.ranks.first)
  #expect(
    r.window.rawValue == 800_000 && r.idle.rawValue == 200_000
      && r.idleByCause.mapValues(\.rawValue) == [.sync: 100_000, .hostLaunch: 100_000])
  #expect(r.laneBubbleTime.rawValue == 400_000 + 550_000 && r.bubbles == 5)
  // Compute idle: no kernel in [100,300) ∪ [400,500) ∪ [600,700).
  #expect(r.computeIdle.rawValue == 400_000 && abs(r.bubbleRatio - 0.25) < 1e-12)
}

/// The path walks back from k4: launched late by h5 (host, and the host gap before it), h4 after
/// the synchronize, which returned when k2 ended; k2 waited for the recv on the other stream,
/// launched by h2 after h1.
@Test func criticalPathFollowsTheBindingConstraint() throws {
  let (g, ids) = handGraph()
  let cp = CriticalPath(g, timeline: Timeline(measured: g))
  #expect(
    cp.step == nil && cp.windowStart.rawValue == 0 && cp.windowEnd.rawValue == 800_000 && cp.pathStart.rawValue == 0
      && cp.pathEnd.rawValue == 800_000)
  let names = cp.segments.map { s in s.event.map { name(ids, $0) } ?? "wait" }
  #expect(
    names == ["h1", "wait", "h2", "wait", "recv", "k2", "s", "wait", "h4", "wait", "h5", "wait", "k4"], "\(names)")
  #expect(
    cp.byCategory.mapValues(\.rawValue) == [
      .compute: 200_000, .communication: 250_000, .host: 270_000, .bubble: 80_000,
    ])
  #expect(cp.length.rawValue == 800_000 && cp.rankChanges == 0)
}

private func name(_ ids: [String: Int], _ e: Int) -> String { ids.first { $0.value == e }!.key }

/// Segments tile the path exactly, in order, on every real multi-rank set. The path starts where
/// the job window does (the first rank's step annotation); it ends with the step's last work, which
/// can outlast the annotations (device work launched at the end of the step: megatron-tp8).
@Test(arguments: TestPaths.traceSets())
func criticalPathTilesItsWindow(path: String) throws {
  let g = try Ingest.run(paths: [path]).graph
  let cp = CriticalPath(g, timeline: Timeline(measured: g))
  #expect(!cp.segments.isEmpty)
  var t = cp.pathStart.rawValue
  for s in cp.segments {
    #expect(s.start.rawValue == t && s.end.rawValue > s.start.rawValue, "\(path): gap or overlap at \(t)")
    t = s.end.rawValue
  }
  #expect(t == cp.pathEnd.rawValue && cp.byCategory.values.reduce(.zero, +) == cp.length)
  #expect(cp.pathStart == cp.windowStart && cp.pathEnd > cp.windowStart)
}

/// The pipeline's path crosses ranks at the send/recv pairs; the DDP sample's path stays on its
/// slow rank 2 (the generator's straggler), which every all-reduce waits for.
@Test func criticalPathCrossesRanksWhereTheyWait() throws {
  let pp = try Ingest.run(paths: [TestPaths.bundledTraces + "/pipeline-2rank"]).graph
  let p = CriticalPath(pp, timeline: Timeline(measured: pp))
  #expect(p.rankChanges >= 2 && Set(p.segments.map(\.rank)) == [0, 1])
  #expect((p.byCategory[.communication]?.rawValue ?? 0) > 0 && (p.byCategory[.compute]?.rawValue ?? 0) > 0)
  let ddp = try Ingest.run(paths: [TestPaths.bundledTraces + "/ddp-4rank"]).graph
  let d = CriticalPath(ddp, timeline: Timeline(measured: ddp))
  #expect(Set(d.segments.map(\.rank)) == [2])
  #expect(Double(d.byCategory[.compute]?.rawValue ?? 0) > 0.8 * Double(d.length.rawValue))
}

/// Rank-level bubbles add up to the breakdown's idle time inside the steps.
@Test(arguments: TestPaths.traceSets(corpus: ["/hta/tests/data/trace_filter"]))
func rankBubblesEqualBreakdownIdle(path: String) throws {
  let g = try Ingest.run(paths: [path]).graph
  let t = Timeline(measured: g)
  let bubbles = BubbleAnalysis(g, timeline: t)
  let breakdown = TemporalBreakdown(g, timeline: t, window: .steps)
  #expect(bubbles.ranks.map(\.rank) == breakdown.ranks.map(\.rank))
  for (b, r) in zip(bubbles.ranks, breakdown.ranks) {
    #expect(b.idle.rawValue == r.idle.rawValue && b.window.rawValue == r.span.rawValue, "\(path) rank \(r.rank)")
    #expect(b.idleByCause.values.reduce(.zero, +) == b.idle)
    #expect(b.computeIdle.rawValue >= b.idle.rawValue && b.laneBubbleTime.rawValue >= b.idle.rawValue)
  }
}

/// Halving compute halves every kernel class's time and leaves the step shorter.
@Test func diffOfAWhatIfShowsTheKernelsHalved() throws {
  let g = try Ingest.run(paths: [TestPaths.bundledTraces + "/ddp-4rank"]).graph
  let plan = ReplayPlan(g)
  let baseline = try Replayer().replay(plan)
  let (d, tr) = try Scenario.parse(["compute.scale=0.5"]).apply(to: plan)
  let predicted = try Replayer().replay(plan, durations: d, transfers: tr)
  let diff = RunDiff(a: g, baseline, b: g, predicted)
  let gemm = try #require(diff.rows.first { $0.key == "kernel:gemm" })
  #expect(abs(gemm.deltaPct! + 50) < 0.01 && gemm.aCount == gemm.bCount)
  #expect(diff.rows.filter { $0.key.hasPrefix("kernel:") }.allSatisfy { abs($0.deltaPct! + 50) < 0.01 })
  #expect(diff.bStep.rawValue < diff.aStep.rawValue)
  // Sorted by impact.
  #expect(zip(diff.rows, diff.rows.dropFirst()).allSatisfy { abs($0.delta.rawValue) >= abs($1.delta.rawValue) })
  let same = RunDiff(a: g, baseline, b: g, baseline)
  #expect(same.rows.allSatisfy { $0.delta.rawValue == 0 } && same.deltaStep.rawValue == 0)
}
