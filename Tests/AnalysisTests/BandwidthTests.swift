import CostModels
import Replay
import TestSupport
import Testing
import TraceImport
import TraceModel

@testable import Analysis

/// Two ranks all-reduce 1 MB: rank 0 arrives at 0, rank 1 at 40 µs; both end at 140 µs.
/// Transfer 100 µs from the last arrival: algbw 10 GB/s, busbw 10 × 2(2−1)/2 = 10 GB/s.
/// A 4-rank all-gather of 4 MB output / 1 MB input on rank 0 alone is unmatched: 4 MB in 200 µs.
@Test func handBuiltCollectivesFollowNcclTests() throws {
  var b = EventGraph.Builder()
  for r in 0..<2 {
    b.lanes.append(Lane(rank: RankID(r), kind: .deviceStream, device: 0, pid: 0, tid: 7, name: .empty))
    b.ranks.append(RankInfo(rank: RankID(r), file: "r\(r)"))
  }
  let n = b.strings.intern("ncclKernel_AllReduce")
  let g = b.strings.intern("default")
  let a0 = b.addEvent(lane: LaneID(0), name: n, kind: .collective, start: 0, duration: 140_000)
  let a1 = b.addEvent(lane: LaneID(1), name: n, kind: .collective, start: 40_000, duration: 100_000)
  let ag = b.addEvent(lane: LaneID(0), name: n, kind: .collective, start: 500_000, duration: 200_000)
  b.collectives = [
    CollectiveRecord(
      event: a0, kind: .allReduce, group: g, groupSize: 2, sequence: 0, dtype: .empty,
      inputBytes: 1_000_000, outputBytes: 1_000_000, instance: CollectiveInstanceID(0)),
    CollectiveRecord(
      event: a1, kind: .allReduce, group: g, groupSize: 2, sequence: 0, dtype: .empty,
      inputBytes: 1_000_000, outputBytes: 1_000_000, instance: CollectiveInstanceID(0)),
    CollectiveRecord(
      event: ag, kind: .allGather, group: g, groupSize: 4, sequence: 1, dtype: .empty,
      inputBytes: 1_000_000, outputBytes: 4_000_000),
  ]
  b.instances = [CollectiveInstance(kind: .allReduce, group: g, sequence: 0, members: [a0, a1], expectedSize: 2)]
  let graph = b.build()
  let a = BandwidthAnalysis(graph, timeline: Timeline(measured: graph), linkGBps: 20)
  #expect(a.unmatched == 1 && a.instances.count == 2)
  let ar = a.instances[0]
  #expect(ar.kind == .allReduce && ar.matched && ar.transfer.rawValue == 100_000 && ar.duration.rawValue == 140_000)
  #expect(abs(ar.algbwGBps - 10) < 1e-9 && abs(ar.busbwGBps - 10) < 1e-9 && abs(ar.peakPct! - 50) < 1e-9)
  #expect(ar.lastRank == 1 && ar.arrivalSpread.rawValue == 40_000)
  let gather = a.instances[1]
  #expect(!gather.matched && gather.bytes.rawValue == 4_000_000 && gather.ranks == 4)
  #expect(abs(gather.algbwGBps - 20) < 1e-9 && abs(gather.busbwGBps - 15) < 1e-9)
  // Sorted by kind name, then size.
  #expect(
    a.buckets.map(\.kind) == [.allGather, .allReduce] && a.buckets.map(\.maxBytes.rawValue) == [1 << 22, 1 << 20])
}

/// DLRM 8 ranks (V100, NCCL): every collective is matched; busbw is positive and below the
/// ~150 GB/s NVLink2 of a V100 SXM2 box; all-reduce busbw = algbw × 2·7/8.
@Test func dlrmBandwidthIsPlausible() throws {
  let dir = TestPaths.dlrm
  let g = try Ingest.run(paths: [dir]).graph
  let a = BandwidthAnalysis(g, timeline: Timeline(measured: g))
  #expect(a.instances.count == 8 && a.unmatched == 0)
  for i in a.instances {
    #expect(
      i.matched && i.ranks == 8 && i.bytes > .zero && i.transfer.rawValue > 0
        && i.transfer.rawValue <= i.duration.rawValue)
    #expect(i.busbwGBps > 0 && i.busbwGBps < 150, "\(i.kind) \(i.bytes) B: \(i.busbwGBps) GB/s")
    if i.kind == .allReduce { #expect(abs(i.busbwGBps / i.algbwGBps - 1.75) < 1e-9) }
  }
  #expect(a.buckets.reduce(0) { $0 + $1.count } == 8)
  #expect(BandwidthAnalysis(g, timeline: Timeline(measured: g)) == a)
}

/// On the bundled 4-rank DDP trace rank 2 is the built-in straggler (tools/make_sample_traces.py):
/// it is last at every all-reduce and flagged; nobody else is.
@Test func bundledStragglerIsFlagged() throws {
  let g = try Ingest.run(paths: [TestPaths.bundledTraces + "/ddp-4rank"]).graph
  let s = StragglerAnalysis(g, timeline: Timeline(measured: g))
  #expect(s.instances > 0 && s.ranks.count == 4)
  #expect(s.ranks.filter(\.flagged).map(\.rank) == [2], "\(s.ranks)")
  #expect(s.ranks.reduce(0) { $0 + $1.lastCount } == s.instances)
}

/// Analyses take predicted timelines too. In the measured DLRM run rank 7 starts last at 5 of
/// the 8 collectives (it holds the others ~1.3 ms in all); slow rank 3 down 2× in a replay and
/// rank 3 becomes the flagged straggler instead.
@Test func replayedStragglerIsFlagged() throws {
  let dir = TestPaths.dlrm
  let g = try Ingest.run(paths: [dir]).graph
  let measured = StragglerAnalysis(g, timeline: Timeline(measured: g))
  #expect(measured.ranks.filter(\.flagged).map(\.rank) == [7] && measured.ranks[7].lastCount == 5)
  let plan = ReplayPlan(g)
  let (d, tr) = try Scenario.parse(["rank.3.slowdown=2"]).apply(to: plan)
  let predicted = try Replayer().replay(plan, durations: d, transfers: tr)
  let s = StragglerAnalysis(g, timeline: predicted)
  #expect(s.ranks.filter(\.flagged).map(\.rank) == [3], "\(s.ranks)")
}

/// The sample generator (tools/make_sample_traces.py) times every all-reduce as
/// 2(n−1)/n · bytes / 180 GB/s after the last arrival and every pipeline send/recv as
/// bytes / 40 GB/s: the analysis must recover exactly those bus bandwidths.
@Test func bundledSamplesRecoverTheirGeneratorBandwidth() throws {
  let ddp = try Ingest.run(paths: [TestPaths.bundledTraces + "/ddp-4rank"]).graph
  let a = BandwidthAnalysis(ddp, timeline: Timeline(measured: ddp))
  #expect(a.instances.count == 6 && a.instances.allSatisfy { $0.kind == .allReduce })
  for i in a.instances { #expect(abs(i.busbwGBps - 180) < 0.1, "\(i.bytes) B: \(i.busbwGBps)") }
  let pp = try Ingest.run(paths: [TestPaths.bundledTraces + "/pipeline-2rank"]).graph
  let p = BandwidthAnalysis(pp, timeline: Timeline(measured: pp))
  #expect(p.unmatchedP2P == 0 && p.instances.count == 8)
  for i in p.instances {
    #expect(i.kind == nil && i.ranks == 2 && i.bytes.rawValue == 8 * 2048 * 4096 * 2)
    #expect(abs(i.busbwGBps - 40) < 0.1 && i.algbwGBps == i.busbwGBps)
  }
}
