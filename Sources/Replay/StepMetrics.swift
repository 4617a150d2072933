import TraceModel

/// Measured and predicted step time of one rank (one step, or the whole trace).
public struct StepTime: Hashable, Sendable {
  public var rank: RankID
  /// The `ProfilerStep#N` number, or nil when the rank has no steps and the whole trace counts.
  public var step: Int?
  public var measured: Nanoseconds
  public var predicted: Nanoseconds
  /// (predicted − measured) / measured × 100.
  public var errorPct: Double {
    measured.rawValue == 0 ? 0 : Double(predicted.rawValue - measured.rawValue) / Double(measured.rawValue) * 100
  }
}

/// Step times of every rank under a measured and a predicted timeline.
///
/// A step is the window of a `ProfilerStep#N` annotation; its work is every event of the rank
/// that starts inside the window (annotations and memory markers excluded), plus the device
/// work launched from inside it. Its time runs from the annotation's start to the last end of
/// that work — so idle host time at the end of the annotation does not count. Ranks without steps count the
/// whole trace (first start to last end of all non-annotation events).
public enum StepMetrics {
  public static func stepTimes(_ plan: ReplayPlan, measured: Timeline, predicted: Timeline) -> [StepTime] {
    let g = plan.graph
    var byRank: [RankID: [Step]] = [:]
    for s in g.steps { byRank[s.rank, default: []].append(s) }
    var out: [StepTime] = []
    // Events per rank.
    var eventsOfRank: [RankID: [Int]] = [:]
    for e in 0..<g.eventCount { eventsOfRank[g.rank(of: e), default: []].append(e) }
    for info in g.ranks.sorted(by: { $0.rank < $1.rank }) {
      let r = info.rank
      let events = eventsOfRank[r] ?? []
      if let steps = byRank[r]?.sorted(by: { $0.start < $1.start }), !steps.isEmpty {
        var mEnd = steps.map { measured.start[$0.event.index] }
        var pEnd = steps.map { predicted.start[$0.event.index] }
        let starts = steps.map { measured.start[$0.event.index] }
        for e in events where g.kind[e] != .annotation && g.kind[e] != .memory {
          let launch = Int(plan.launchFrom[e])
          let key = launch >= 0 ? measured.start[launch] : measured.start[e]
          // The last step starting at or before `key`.
          let k = starts.countAtOrBefore(key) { $0 } - 1
          guard k >= 0, key < measured.end[steps[k].event.index] else { continue }
          mEnd[k] = max(mEnd[k], measured.end[e])
          pEnd[k] = max(pEnd[k], predicted.end[e])
        }
        for (k, s) in steps.enumerated() {
          out.append(
            StepTime(
              rank: r, step: s.number,
              measured: mEnd[k] - measured.start[s.event.index],
              predicted: pEnd[k] - predicted.start[s.event.index]))
        }
      } else {
        var mLo = Nanoseconds.max
        var mHi = Nanoseconds.min
        var pLo = Nanoseconds.max
        var pHi = Nanoseconds.min
        for e in events where g.kind[e] != .annotation && g.kind[e] != .memory {
          mLo = min(mLo, measured.start[e])
          mHi = max(mHi, measured.end[e])
          pLo = min(pLo, predicted.start[e])
          pHi = max(pHi, predicted.end[e])
        }
        if mLo <= mHi {
          out.append(StepTime(rank: r, step: nil, measured: mHi - mLo, predicted: pHi - pLo))
        }
      }
    }
    return out
  }

  /// Per rank, time spent waiting for late peers inside barriers (collectives, send/recv):
  /// a member arrives at its start and waits until the last member arrives (on device streams,
  /// `transfer` ns before the common end); the rest is the transfer. `transfers` is kept for
  /// callers; the last arrival alone decides.
  public static func barrierWait(_ plan: ReplayPlan, timeline t: Timeline, transfers: [Nanoseconds])
    -> [RankID: Nanoseconds]
  {
    var out: [RankID: Nanoseconds] = [:]
    for r in plan.graph.ranks { out[r.rank] = .zero }
    for i in 0..<plan.instanceCount {
      let members = plan.members(of: i)
      let lastArrival = members.map { t.start[Int($0)] }.max() ?? .zero
      for m in members {
        let e = Int(m)
        out[plan.graph.rank(of: e), default: .zero] += max(.zero, lastArrival - t.start[e])
      }
    }
    return out
  }
}
