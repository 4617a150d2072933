import TraceModel

extension ReplayPlan.Waits {
  /// How soon after a host-side collective ends the thread that enqueued it must resume for the
  /// resumption to count as having waited for it (ns): a thread woken by gloo's completion
  /// resumes within tens of µs on an idle machine and within a few hundred on a busy one.
  static let hostWakeWindow: Int64 = 1_000_000

  /// Inferred host waits (CPU-only ranks, gloo): the thread that enqueued a collective (the main
  /// thread, `c10d::allreduce_`) later blocks until it completes, and the trace records no event
  /// for the wait. When the thread ran no leaf op at the moment the collective ended on its
  /// worker thread and resumed within `hostWakeWindow`, the op it resumed with waited for the
  /// collective: it starts no earlier than the collective's end plus the measured lag, and the
  /// idle gap before it, except `queuedGap`, was waiting, so it starts earlier when the collective
  /// ends earlier. In DDP these are the copies of each gradient bucket back into the gradients
  /// (`copy_bucket_to_grad`) and, after the last bucket, the optimizer. When several collectives
  /// end in one gap, the op waits for the last.
  mutating func addHostWaits(
    _ graph: EventGraph, order: LaneOrder, timing: ReplayPlan.LaneTiming, deviceLane: [Bool], launchFrom: [Int32],
    instance: [Int32], depCount: inout [Int]
  ) {
    var byIssuer: [Int: [Int]] = [:]
    for d in 0..<graph.eventCount where instance[d] >= 0 && launchFrom[d] >= 0 {
      let l = graph.lane[d].index
      guard deviceLane[l], graph.lanes[l].kind == .hostThread else { continue }
      byIssuer[graph.lane[Int(launchFrom[d])].index, default: []].append(d)
    }
    for (l, collectives) in byIssuer.sorted(by: { $0.key < $1.key }) {
      let events = order.events(of: l).map(Int.init)
      let starts = events.map { graph.start[$0] }
      // The latest end of the leaf ops up to each position: the thread is busy until then.
      var busyUntil = [Int64](repeating: Int64.min, count: events.count)
      var last = Int64.min
      for (i, e) in events.enumerated() {
        if graph.kind[e] == .hostOp && timing.role[e] == .hostLeaf { last = max(last, graph.end(e)) }
        busyUntil[i] = last
      }
      for d in collectives {
        let t = graph.end(d)
        let k = starts.countAtOrBefore(t - 1) { $0 }
        guard k > 0, k < events.count, busyUntil[k - 1] != Int64.min, busyUntil[k - 1] <= t,
          starts[k] - t <= Self.hostWakeWindow
        else { continue }
        let e = events[k]
        guard timing.role[e] == .hostLeaf || timing.role[e] == .hostParent else { continue }
        if from[e] >= 0 {
          if graph.end(Int(from[e])) >= t { continue }
          depCount[Int(from[e]) + 1] -= 1
        }
        if slack.isEmpty { slack = [Int64](repeating: 0, count: graph.eventCount) }
        from[e] = Int32(d)
        lag[e] = starts[k] - t
        slack[e] = max(0, starts[k] - busyUntil[k - 1] - ReplayPlan.queuedGap)
        depCount[d + 1] += 1
      }
    }
  }
}
