import TraceModel

extension EventGraph {
  /// A random but physically consistent multi-rank run, for replay property tests.
  ///
  /// Every rank has one host thread and `streams` device streams. Rounds of random host ops,
  /// kernel launches (launch edges) and stream synchronizations (sync edges) are generated with
  /// measured times that obey the dependencies; each round ends with a collective on stream 0
  /// of every rank (all end together: last arrival + transfer) and, between neighbouring ranks,
  /// a send/recv pair. Lanes have no overlap and no negative lags.
  public static func randomRun(
    ranks: Int, streams: Int, rounds: Int, gaps: Bool = true, using rng: inout SplitMix64
  ) -> EventGraph {
    var run = RandomRun(ranks: ranks, streams: streams, gaps: gaps, rng: rng)
    for round in 0..<rounds {
      for rank in 0..<ranks { run.hostWork(rank) }
      run.collective(sequence: Int32(round))
      if ranks > 1 { run.sendRecv() }
    }
    rng = run.rng
    return run.b.build()
  }
}

/// The state of one random run while it is generated.
private struct RandomRun {
  var b: EventGraph.Builder
  var rng: SplitMix64
  let ranks: Int
  let streams: Int
  let gaps: Bool
  let names: [NameID]
  let group: NameID
  var hostLane: [LaneID] = []
  var streamLane: [[LaneID]] = []
  var hostT: [Int64] = []
  var streamFree: [[Int64]]
  var lastOnStream: [[Int]]
  var lastHost: [Int]

  init(ranks: Int, streams: Int, gaps: Bool, rng: SplitMix64) {
    (self.ranks, self.streams, self.gaps, self.rng) = (ranks, streams, gaps, rng)
    var builder = EventGraph.Builder()
    names = [
      "aten::mm", "cudaLaunchKernel", "cudaStreamSynchronize", "gemm_kernel", "ncclDevKernel_AllReduce",
      "ncclDevKernel_SendRecv", "ProfilerStep#1",
    ].map { builder.strings.intern($0) }
    group = builder.strings.intern("default")
    b = builder
    streamFree = [[Int64]](repeating: [Int64](repeating: 0, count: streams), count: ranks)
    lastOnStream = [[Int]](repeating: [Int](repeating: -1, count: streams), count: ranks)
    lastHost = [Int](repeating: -1, count: ranks)
    for rank in 0..<ranks {
      hostLane.append(LaneID(b.lanes.count))
      b.lanes.append(Lane(rank: RankID(rank), kind: .hostThread, device: -1, pid: Int64(rank), tid: 1, name: names[0]))
      var lanes: [LaneID] = []
      for s in 0..<streams {
        lanes.append(LaneID(b.lanes.count))
        b.lanes.append(
          Lane(
            rank: RankID(rank), kind: .deviceStream, device: Int32(rank), pid: Int64(rank), tid: Int64(s),
            name: names[3]))
      }
      streamLane.append(lanes)
      b.ranks.append(RankInfo(rank: RankID(rank), file: "random-\(rank)", worldSize: ranks))
    }
    hostT = (0..<ranks).map { _ in gap(50) }
  }

  mutating func r(_ lo: Int64, _ hi: Int64) -> Int64 { lo + Int64(rng.next() % UInt64(hi - lo + 1)) }

  mutating func gap(_ hi: Int64) -> Int64 { gaps ? r(0, hi) : 0 }

  mutating func add(_ rank: Int, lane: LaneID, _ name: NameID, _ kind: EventKind, _ s: Int64, _ d: Int64) -> EventID {
    let e = b.addEvent(lane: lane, name: name, kind: kind, start: s, duration: d)
    if lane == hostLane[rank] {
      if lastHost[rank] >= 0 { b.addEdge(from: EventID(lastHost[rank]), to: e, kind: .programOrder) }
      lastHost[rank] = e.index
    }
    return e
  }

  mutating func onStream(_ rank: Int, _ s: Int, _ e: EventID) {
    if lastOnStream[rank][s] >= 0 { b.addEdge(from: EventID(lastOnStream[rank][s]), to: e, kind: .programOrder) }
    lastOnStream[rank][s] = e.index
  }

  /// A launch on the host and the device work it starts; returns (launch, kernel start).
  mutating func launch(_ rank: Int, _ s: Int) -> (EventID, Int64) {
    let l = add(rank, lane: hostLane[rank], names[1], .hostOp, hostT[rank], r(2, 6))
    // Device work is enqueued as the launch call returns, then starts after a short latency.
    let start = max(streamFree[rank][s], hostT[rank] + b.duration[l.index] + r(1, 5))
    hostT[rank] += b.duration[l.index] + gap(5)
    return (l, start)
  }

  /// One to six host ops, kernel launches or stream synchronizations on `rank`.
  mutating func hostWork(_ rank: Int) {
    for _ in 0..<Int(r(1, 6)) {
      switch rng.next() % 3 {
      case 0:
        _ = add(rank, lane: hostLane[rank], names[0], .hostOp, hostT[rank], r(1, 40))
        hostT[rank] += b.duration[lastHost[rank]] + gap(10)
      case 1:
        let s = Int(rng.next() % UInt64(streams))
        let (l, start) = launch(rank, s)
        let k = add(rank, lane: streamLane[rank][s], names[3], .kernel, start, r(5, 200))
        b.addEdge(from: l, to: k, kind: .launch)
        onStream(rank, s, k)
        streamFree[rank][s] = start + b.duration[k.index]
      default:
        let s = Int(rng.next() % UInt64(streams))
        guard lastOnStream[rank][s] >= 0 else { continue }
        let dev = lastOnStream[rank][s]
        let t0 = hostT[rank]
        let end = max(t0 + r(1, 3), b.start[dev] + b.duration[dev] + r(1, 4))
        let sync = add(rank, lane: hostLane[rank], names[2], .sync, t0, end - t0)
        b.addEdge(from: EventID(dev), to: sync, kind: .sync)
        hostT[rank] = end + gap(5)
      }
    }
  }

  /// A collective on stream 0 of every rank: all members end at the last arrival plus a transfer.
  mutating func collective(sequence: Int32) {
    var members: [(rank: Int, event: EventID, arrival: Int64)] = []
    for rank in 0..<ranks {
      let (l, arrival) = launch(rank, 0)
      let k = add(rank, lane: streamLane[rank][0], names[4], .collective, arrival, 0)
      b.addEdge(from: l, to: k, kind: .launch)
      onStream(rank, 0, k)
      members.append((rank, k, arrival))
    }
    let finish = (members.map(\.arrival).max() ?? 0) + r(10, 100)
    for (rank, k, arrival) in members {
      b.duration[k.index] = finish - arrival
      streamFree[rank][0] = finish
      b.collectives.append(
        CollectiveRecord(
          event: k, kind: .allReduce, group: group, groupSize: Int32(ranks), sequence: sequence, dtype: .empty,
          inputBytes: 1 << 20, outputBytes: 1 << 20, instance: CollectiveInstanceID(b.instances.count)))
      b.kind[k.index] = .collective
      b.detail[k.index] = CollectiveKind.allReduce.rawValue
    }
    b.instances.append(
      CollectiveInstance(
        kind: .allReduce, group: group, sequence: sequence, members: members.map(\.event),
        expectedSize: ranks))
    for m in members.dropFirst() { b.addEdge(from: m.event, to: members[0].event, kind: .collective) }
  }

  /// A send/recv pair between a random rank and the next, on stream 1 (or 0 with one stream).
  mutating func sendRecv() {
    let src = Int(rng.next() % UInt64(ranks - 1))
    let dst = src + 1
    let s = streams > 1 ? 1 : 0
    let (ls, a1) = launch(src, s)
    let (lr, a2) = launch(dst, s)
    let send = add(src, lane: streamLane[src][s], names[5], .send, a1, 0)
    let recv = add(dst, lane: streamLane[dst][s], names[5], .recv, a2, 0)
    b.addEdge(from: ls, to: send, kind: .launch)
    b.addEdge(from: lr, to: recv, kind: .launch)
    onStream(src, s, send)
    onStream(dst, s, recv)
    let finish = max(a1, a2) + r(5, 50)
    b.duration[send.index] = finish - a1
    b.duration[recv.index] = finish - a2
    streamFree[src][s] = finish
    streamFree[dst][s] = finish
    b.p2p.append(P2PRecord(event: send, isSend: true, peer: RankID(dst), bytes: 1 << 16, match: recv))
    b.p2p.append(P2PRecord(event: recv, isSend: false, peer: RankID(src), bytes: 1 << 16, match: send))
    b.addEdge(from: send, to: recv, kind: .p2p)
  }
}
