import TraceModel

/// A synthetic data-parallel training step of many ranks, for replay benchmarks.
///
/// Every rank runs the same op sequence: a host thread launching kernels on a compute stream
/// (one launch per kernel), periodic all-reduce buckets on a communication stream that wait
/// for the compute stream, and a stream synchronize at the end. Measured times are generated
/// consistently (launch latency, queueing, collectives ending together), with small per-rank
/// jitter so ranks are not exact copies.
public enum SyntheticWorkload {
  public static func dataParallel(ranks: Int, kernelsPerRank: Int, bucketEvery: Int = 64, seed: UInt64 = 1)
    -> EventGraph
  {
    var b = EventGraph.Builder()
    let eventsPerRank = kernelsPerRank * 2 + (kernelsPerRank / bucketEvery) * 2 + 2
    b.reserveEvents(ranks * eventsPerRank)
    let launchName = b.strings.intern("cudaLaunchKernel")
    let gemm = b.strings.intern("sm90_xmma_gemm_bf16bf16_bf16f32")
    let allReduce = b.strings.intern("ncclDevKernel_AllReduce_Sum_bf16_RING_LL")
    let syncName = b.strings.intern("cudaStreamSynchronize")
    let group = b.strings.intern("default")
    var state = seed
    func rand(_ n: Int64) -> Int64 {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return Int64((state >> 33) % UInt64(n))
    }
    var host = [LaneID]()
    var compute = [LaneID]()
    var comm = [LaneID]()
    for r in 0..<ranks {
      host.append(LaneID(b.lanes.count))
      b.lanes.append(
        Lane(rank: RankID(r), kind: .hostThread, device: -1, pid: Int64(r), tid: 1, name: b.strings.intern("thread")))
      compute.append(LaneID(b.lanes.count))
      b.lanes.append(
        Lane(
          rank: RankID(r), kind: .deviceStream, device: Int32(r % 8), pid: Int64(r), tid: 7,
          name: b.strings.intern("stream 7")))
      comm.append(LaneID(b.lanes.count))
      b.lanes.append(
        Lane(
          rank: RankID(r), kind: .deviceStream, device: Int32(r % 8), pid: Int64(r), tid: 20,
          name: b.strings.intern("stream 20")))
      b.ranks.append(RankInfo(rank: RankID(r), file: "synthetic-\(r)", worldSize: ranks))
    }
    var hostT = [Int64](repeating: 0, count: ranks)
    var computeFree = [Int64](repeating: 0, count: ranks)
    var commFree = [Int64](repeating: 0, count: ranks)
    var lastKernel = [Int](repeating: -1, count: ranks)
    var sequence: Int32 = 0
    var k = 0
    while k < kernelsPerRank {
      let chunk = min(bucketEvery, kernelsPerRank - k)
      for r in 0..<ranks {
        for _ in 0..<chunk {
          let l = b.addEvent(
            lane: host[r], name: launchName, kind: .hostOp, start: hostT[r], duration: 4_000 + rand(500))
          let start = max(computeFree[r] + 1_000, hostT[r] + 5_000)
          let kern = b.addEvent(
            lane: compute[r], name: gemm, kind: .kernel, detail: ComputeClass.gemm.rawValue,
            start: start, duration: 20_000 + rand(2_000))
          b.addEdge(from: l, to: kern, kind: .launch)
          computeFree[r] = start + b.duration[kern.index]
          hostT[r] += 6_000 + rand(300)
          lastKernel[r] = kern.index
        }
      }
      k += chunk
      // All-reduce bucket: launched on the comm stream after the compute stream's last kernel.
      var members: [EventID] = []
      var arrivals: [Int64] = []
      for r in 0..<ranks {
        let l = b.addEvent(lane: host[r], name: launchName, kind: .hostOp, start: hostT[r], duration: 5_000)
        let arrival = max(commFree[r], computeFree[r], hostT[r] + 6_000)
        let c = b.addEvent(
          lane: comm[r], name: allReduce, kind: .collective, detail: CollectiveKind.allReduce.rawValue,
          start: arrival, duration: 0, bytes: 64 << 20)
        b.addEdge(from: l, to: c, kind: .launch)
        hostT[r] += 7_000
        members.append(c)
        arrivals.append(arrival)
      }
      let finish = (arrivals.max() ?? 0) + 150_000
      for (r, c) in members.enumerated() {
        b.duration[c.index] = finish - arrivals[r]
        commFree[r] = finish
        b.collectives.append(
          CollectiveRecord(
            event: c, kind: .allReduce, group: group, groupSize: Int32(ranks), sequence: sequence,
            dtype: .empty, inputBytes: 64 << 20, outputBytes: 64 << 20,
            instance: CollectiveInstanceID(b.instances.count)))
      }
      b.instances.append(
        CollectiveInstance(kind: .allReduce, group: group, sequence: sequence, members: members, expectedSize: ranks))
      sequence += 1
    }
    for r in 0..<ranks {
      let end = max(hostT[r] + 2_000, commFree[r] + 3_000)
      let s = b.addEvent(lane: host[r], name: syncName, kind: .sync, start: hostT[r], duration: end - hostT[r])
      b.addEdge(from: EventID(lastKernel[r]), to: s, kind: .sync)
    }
    return b.build()
  }
}
