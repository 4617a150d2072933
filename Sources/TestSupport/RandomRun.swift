import TraceModel

extension EventGraph {
  /// A random but physically consistent multi-rank run, for replay property tests.
  ///
  /// Every rank has one host thread and `streams` device streams. Rounds of random host ops,
  /// kernel launches (launch edges) and stream synchronizations (sync edges) are generated with
  /// measured times that obey the dependencies; each round ends with a collective on stream 0
  /// of every rank (all end together: last arrival + transfer) and, between neighbouring ranks,
  /// a send/recv pair. Lanes have no overlap and no negative lags.
  public static func randomRun(ranks: Int, streams: Int, rounds: Int, gaps: Bool = true, using rng: inout SplitMix64) -> EventGraph {
    var b = Builder()
    let names = ["aten::mm", "cudaLaunchKernel", "cudaStreamSynchronize", "gemm_kernel", "ncclDevKernel_AllReduce", "ncclDevKernel_SendRecv", "ProfilerStep#1"].map { b.strings.intern($0) }
    let group = b.strings.intern("default")
    func r(_ lo: Int64, _ hi: Int64) -> Int64 { lo + Int64(rng.next() % UInt64(hi - lo + 1)) }
    var hostLane: [LaneID] = [], streamLane: [[LaneID]] = []
    for rank in 0..<ranks {
      hostLane.append(LaneID(b.lanes.count))
      b.lanes.append(Lane(rank: RankID(rank), kind: .hostThread, device: -1, pid: Int64(rank), tid: 1, name: names[0]))
      var ls: [LaneID] = []
      for s in 0..<streams {
        ls.append(LaneID(b.lanes.count))
        b.lanes.append(Lane(rank: RankID(rank), kind: .deviceStream, device: Int32(rank), pid: Int64(rank), tid: Int64(s), name: names[3]))
      }
      streamLane.append(ls)
      b.ranks.append(RankInfo(rank: RankID(rank), file: "random-\(rank)", worldSize: ranks))
    }
    func gap(_ hi: Int64) -> Int64 { gaps ? r(0, hi) : 0 }
    var hostT = (0..<ranks).map { _ in gap(50) }
    var streamFree = [[Int64]](repeating: [Int64](repeating: 0, count: streams), count: ranks)
    var lastOnStream = [[Int]](repeating: [Int](repeating: -1, count: streams), count: ranks)
    var lastHost = [Int](repeating: -1, count: ranks)
    func add(_ rank: Int, lane: LaneID, _ name: NameID, _ kind: EventKind, _ s: Int64, _ d: Int64) -> EventID {
      let e = b.addEvent(lane: lane, name: name, kind: kind, start: s, duration: d)
      if lane == hostLane[rank] {
        if lastHost[rank] >= 0 { b.addEdge(from: EventID(lastHost[rank]), to: e, kind: .programOrder) }
        lastHost[rank] = e.index
      }
      return e
    }
    func onStream(_ rank: Int, _ s: Int, _ e: EventID) {
      if lastOnStream[rank][s] >= 0 { b.addEdge(from: EventID(lastOnStream[rank][s]), to: e, kind: .programOrder) }
      lastOnStream[rank][s] = e.index
    }
    /// A launch on the host and the device work it starts; returns (launch, kernel start).
    func launch(_ rank: Int, _ s: Int) -> (EventID, Int64) {
      let l = add(rank, lane: hostLane[rank], names[1], .hostOp, hostT[rank], r(2, 6))
      // Device work is enqueued as the launch call returns, then starts after a short latency.
      let start = max(streamFree[rank][s], hostT[rank] + b.duration[l.index] + r(1, 5))
      hostT[rank] += b.duration[l.index] + gap(5)
      return (l, start)
    }
    var sequence: Int32 = 0
    for _ in 0..<rounds {
      for rank in 0..<ranks {
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
      // A collective on stream 0 of every rank.
      var members: [(Int, EventID, Int64)] = []
      for rank in 0..<ranks {
        let (l, arrival) = launch(rank, 0)
        let k = add(rank, lane: streamLane[rank][0], names[4], .collective, arrival, 0)
        b.addEdge(from: l, to: k, kind: .launch)
        onStream(rank, 0, k)
        members.append((rank, k, arrival))
      }
      let finish = members.map(\.2).max()! + r(10, 100)
      for (rank, k, arrival) in members {
        b.duration[k.index] = finish - arrival
        streamFree[rank][0] = finish
        b.collectives.append(CollectiveRecord(event: k, kind: .allReduce, group: group, groupSize: Int32(ranks),
                                              sequence: sequence, dtype: .empty, inputBytes: 1 << 20, outputBytes: 1 << 20,
                                              instance: CollectiveInstanceID(b.instances.count)))
        b.kind[k.index] = .collective
        b.detail[k.index] = CollectiveKind.allReduce.rawValue
      }
      b.instances.append(CollectiveInstance(kind: .allReduce, group: group, sequence: sequence,
                                            members: members.map(\.1), expectedSize: ranks))
      for m in members.dropFirst() { b.addEdge(from: m.1, to: members[0].1, kind: .collective) }
      sequence += 1
      // A send/recv pair between a random rank and the next.
      if ranks > 1 {
        let src = Int(rng.next() % UInt64(ranks - 1)), dst = src + 1
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
    return b.build()
  }
}
