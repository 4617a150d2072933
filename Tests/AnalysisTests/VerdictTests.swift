import TestSupport
import Testing
import TraceImport
import TraceModel

@testable import Analysis

/// A hand-built run: `ranks` ranks, each with a host thread (lane 2r) and, unless `cpuOnly`, one
/// device stream (lane 2r+1). Times in µs.
private struct Hand {
  var b = EventGraph.Builder()
  let cpuOnly: Bool

  init(ranks: Int, cpuOnly: Bool = false) {
    self.cpuOnly = cpuOnly
    for r in 0..<ranks {
      b.ranks.append(RankInfo(rank: RankID(rawValue: Int32(r)), file: "rank\(r)"))
      b.lanes.append(
        Lane(
          rank: RankID(rawValue: Int32(r)), kind: .hostThread, device: -1, pid: 1, tid: 1,
          name: b.strings.intern("host")))
      b.lanes.append(
        Lane(
          rank: RankID(rawValue: Int32(r)), kind: .deviceStream, device: 0, pid: 0, tid: 7, name: b.strings.intern("s7")
        ))
    }
  }

  /// An event on rank `r`'s device stream (host thread when `host`).
  @discardableResult
  mutating func add(
    _ name: String, rank r: Int, _ kind: EventKind, _ s: Int64, _ e: Int64, host: Bool = false, parent: EventID = .none
  ) -> EventID {
    b.addEvent(
      lane: LaneID(2 * r + (host || cpuOnly ? 0 : 1)), name: b.strings.intern(name), kind: kind, start: s * 1000,
      duration: (e - s) * 1000, parent: parent)
  }

  /// A collective instance over `members`.
  mutating func instance(_ members: [EventID], sequence: Int32) {
    b.instances.append(
      CollectiveInstance(
        kind: .allReduce, group: b.strings.intern("0"), sequence: sequence, members: members,
        expectedSize: members.count))
  }

  mutating func pair(send: EventID, recv: EventID) {
    b.p2p.append(P2PRecord(event: send, isSend: true, peer: nil, bytes: 1, match: recv))
    b.p2p.append(P2PRecord(event: recv, isSend: false, peer: nil, bytes: 1, match: send))
  }

  func verdict() -> Verdict {
    let g = b.build()
    let t = Timeline(measured: g)
    let ix = AnalysisIndex(g, timeline: t)
    return Verdict(
      account: TimeAccount(index: ix, bubbles: BubbleAnalysis(index: ix)),
      stragglers: StragglerAnalysis(g, timeline: t), criticalPath: CriticalPath(index: ix), graph: g)
  }
}

private func kinds(_ v: Verdict) -> [String] { v.ranks.map(\.kind.rawValue) }

/// Every part of a rank's account adds up to its window, on every hand-built case.
private func expectTiles(_ v: Verdict, sourceLocation: SourceLocation = #_sourceLocation) {
  for r in v.ranks {
    let a = r.account
    #expect(
      a.compute + a.communication + a.host + a.straggler + a.pipeline + a.other == a.window, "rank \(a.rank)",
      sourceLocation: sourceLocation)
  }
}

@Test func computeBoundRank() {
  var h = Hand(ranks: 1)
  let l = h.add("launch", rank: 0, .hostOp, 0, 5, host: true)
  let k = h.add("gemm", rank: 0, .kernel, 5, 905)
  h.b.addEdge(from: l, to: k, kind: .launch)
  let v = h.verdict()
  expectTiles(v)
  #expect(kinds(v) == ["compute"] && v.ranks[0].time.rawValue == 900_000)
  #expect(v.job?.kind == .compute && v.job?.basis == .criticalPath && v.job?.time.rawValue == 900_000)
}

/// The second kernel's launch comes 490 µs after the first kernel ended: the device waits for the host.
@Test func hostBoundRank() {
  var h = Hand(ranks: 1)
  let l1 = h.add("launch1", rank: 0, .hostOp, 0, 5, host: true)
  let l2 = h.add("launch2", rank: 0, .hostOp, 495, 500, host: true)
  let k1 = h.add("k1", rank: 0, .kernel, 5, 15)
  let k2 = h.add("k2", rank: 0, .kernel, 500, 510)
  h.b.addEdge(from: l1, to: k1, kind: .launch)
  h.b.addEdge(from: l2, to: k2, kind: .launch)
  let v = h.verdict()
  expectTiles(v)
  #expect(kinds(v) == ["host"] && v.ranks[0].time.rawValue == 485_000 && v.ranks[0].account.window.rawValue == 505_000)
  #expect(v.job?.kind == .host && v.job?.basis == .criticalPath)
}

/// Two ranks enter a long all-reduce together: nobody waits, the transfer takes the step.
@Test func communicationBoundRanks() {
  var h = Hand(ranks: 2)
  var members: [EventID] = []
  for r in 0..<2 {
    h.add("gemm", rank: r, .kernel, 0, 100)
    members.append(h.add("allreduce", rank: r, .collective, 100, 1000))
  }
  h.instance(members, sequence: 0)
  let v = h.verdict()
  expectTiles(v)
  #expect(kinds(v) == ["communication", "communication"] && v.ranks.allSatisfy { $0.time.rawValue == 900_000 })
  #expect(v.job?.kind == .communication && v.job?.basis == .criticalPath && v.job?.time.rawValue == 900_000)
}

/// Rank 2 computes 1000 µs before each of three all-reduces, the others 100 µs: it is last at
/// all three and holds the others 900 µs each time.
@Test func stragglerBoundJob() {
  var h = Hand(ranks: 3)
  for i in 0..<3 {
    let base = Int64(i) * 1200
    var members: [EventID] = []
    for r in 0..<3 {
      let end = base + (r == 2 ? 1000 : 100)
      h.add("gemm", rank: r, .kernel, base, end)
      members.append(h.add("allreduce", rank: r, .collective, end, base + 1100))
    }
    h.instance(members, sequence: Int32(i))
  }
  let v = h.verdict()
  expectTiles(v)
  #expect(kinds(v) == ["straggler", "straggler", "compute"])
  #expect(v.ranks[0].time.rawValue == 2_700_000 && v.ranks[0].account.waitedFor == 2)
  let job = v.job
  #expect(job?.kind == .straggler && job?.basis == .stragglerHeld && job?.straggler == 2)
  #expect(job?.time.rawValue == 2_700_000 && job?.lastCount == 3 && job?.collectives == 3)
}

/// Rank 1 posts its receive at 0 and waits until rank 0 sends at 500: a pipeline bubble.
@Test func pipelineBoundJob() {
  var h = Hand(ranks: 2)
  h.add("fwd0", rank: 0, .kernel, 0, 500)
  let send = h.add("send", rank: 0, .send, 500, 600)
  let recv = h.add("recv", rank: 1, .recv, 0, 600)
  h.add("fwd1", rank: 1, .kernel, 600, 800)
  h.pair(send: send, recv: recv)
  let v = h.verdict()
  expectTiles(v)
  #expect(kinds(v) == ["compute", "pipeline"] && v.ranks[1].time.rawValue == 500_000)
  #expect(v.job?.kind == .pipeline && v.job?.basis == .pipelineWait && v.job?.time.rawValue == 250_000)
}

/// Without device streams the host threads are the lanes: leaf ops are compute, the time between
/// them host, and the critical path's leaf ops count as compute.
@Test func cpuOnlyRanksUseHostThreads() {
  var h = Hand(ranks: 1, cpuOnly: true)
  let outer = h.add("aten::linear", rank: 0, .hostOp, 0, 100)
  h.add("aten::addmm", rank: 0, .hostOp, 10, 90, parent: outer)
  h.add("aten::relu", rank: 0, .hostOp, 500, 600)
  var v = h.verdict()
  expectTiles(v)
  #expect(kinds(v) == ["host"] && v.ranks[0].account.compute.rawValue == 180_000 && !v.ranks[0].account.hasDevice)
  var busy = Hand(ranks: 1, cpuOnly: true)
  busy.add("aten::mm", rank: 0, .hostOp, 0, 900)
  busy.add("aten::relu", rank: 0, .hostOp, 950, 1000)
  v = busy.verdict()
  #expect(kinds(v) == ["compute"] && v.job?.kind == .compute && v.job?.basis == .criticalPath)
}

// MARK: real traces

private func verdict(_ path: String) throws -> Verdict {
  let g = try Ingest.run(paths: [path]).graph
  let t = Timeline(measured: g)
  let ix = AnalysisIndex(g, timeline: t)
  return Verdict(
    account: TimeAccount(index: ix, bubbles: BubbleAnalysis(index: ix)), stragglers: StragglerAnalysis(g, timeline: t),
    criticalPath: CriticalPath(index: ix), graph: g)
}

/// DLRM: the critical path of step 10 (the job step, 20.7 ms, of which 7.5 ms is before rank 7 entered it) is 13.1 ms host work; ranks 1 and 3 spend most of
/// their step waiting for late peers (rank 7 is last most often), the others' devices wait for
/// their hosts. No rank holds the others long enough to be the job's straggler.
@Test func dlrmIsHostBound() throws {
  let v = try verdict(TestPaths.dlrm)
  expectTiles(v)
  #expect(kinds(v) == ["host", "straggler", "host", "straggler", "host", "host", "host", "host"])
  let job = try #require(v.job)
  #expect(job.kind == .host && job.basis == .criticalPath && job.step == 10)
  #expect(job.time.rawValue == 13_129_000 && job.whole.rawValue == 20_723_000 && job.pathRanks == [7, 4])
  #expect(v.ranks[1].account.waitedFor == 7)
}

@Test func bundledSetsGetTheirVerdicts() throws {
  let root = TestPaths.packageRoot + "/Traces/"
  let ddp = try verdict(root + "generated/ddp-4rank")
  #expect(ddp.job?.kind == .straggler && ddp.job?.straggler == 2 && kinds(ddp) == Array(repeating: "compute", count: 4))
  let comm = try verdict(root + "generated/comm-bound-4rank")
  #expect(comm.job?.kind == .communication && kinds(comm) == Array(repeating: "communication", count: 4))
  let pipe = try verdict(root + "generated/pipeline-2rank")
  #expect(pipe.job?.kind == .communication && pipe.job?.basis == .criticalPath)
  for set in ["kineto-cpu/pipeline-gpipe", "kineto-cpu/pipeline-1f1b"] {
    let v = try verdict(root + set)
    expectTiles(v)
    #expect(v.job?.kind == .pipeline && v.job?.basis == .pipelineWait, "\(set)")
    #expect(v.ranks.allSatisfy { !$0.account.hasDevice }, "\(set)")
  }
}

/// TraceLens' H100 Qwen1.5-0.5B inference trace: one GPU, 91 % of its step is kernels.
@Test(.needsCorpus) func tracelensH100QwenIsComputeBound() throws {
  let corpus = try #require(TestPaths.corpus)
  let v = try verdict(corpus + "/tracelens/tests/traces/h100/Qwen_Qwen1.5-0.5B-Chat__1016005.json.gz")
  #expect(kinds(v) == ["compute"] && v.job?.kind == .compute && v.job?.basis == .criticalPath)
}
