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
/// The per-rank step of docs/Glossary.md (`StepSpans`): from the `ProfilerStep#N` annotation's
/// start to the last end of the step's work (`StepMembership`: the rank's events that start inside
/// the window, annotations and memory markers excluded, plus the device work launched from inside
/// it) — so idle host time at the end of the annotation does not count. Ranks without steps
/// count the whole trace (first start to last end of their work).
public enum StepMetrics {
  public static func stepTimes(_ plan: ReplayPlan, measured: Timeline, predicted: Timeline) -> [StepTime] {
    let membership = StepMembership(plan.graph)
    return stepTimes(
      measured: StepSpans(plan.graph, membership: membership, timeline: measured),
      predicted: StepSpans(plan.graph, membership: membership, timeline: predicted))
  }

  /// The per-rank steps of two timelines of one graph, paired.
  public static func stepTimes(measured: StepSpans, predicted: StepSpans) -> [StepTime] {
    zip(measured.ranks, predicted.ranks).map { a, b in
      StepTime(rank: a.rank, step: a.step, measured: a.duration, predicted: b.duration)
    }
  }

  /// Per rank, time spent waiting for late peers inside barriers (collectives, send/recv):
  /// a member arrives at its start and waits until the last member arrives (on device streams,
  /// `transfer` ns before the common end); the rest is the transfer. `transfers` is kept for
  /// callers; the last arrival alone decides. With backup workers (`backup[i]` = K > 0, see
  /// `Scenario.backupWorkers(for:)`) the (n−K)-th arrival decides: the K late members wait 0.
  public static func barrierWait(
    _ plan: ReplayPlan, timeline t: Timeline, transfers: [Nanoseconds], backup: [Int32] = []
  ) -> [RankID: Nanoseconds] {
    var out: [RankID: Nanoseconds] = [:]
    for r in plan.graph.ranks { out[r.rank] = .zero }
    for i in 0..<plan.instanceCount {
      let members = plan.members(of: i)
      let k = backup.isEmpty ? 0 : Int(backup[i])
      let arrivals = members.map { t.start[Int($0)] }
      let lastArrival = k > 0 ? arrivals.sorted()[members.count - k - 1] : arrivals.max() ?? .zero
      for m in members {
        let e = Int(m)
        out[plan.graph.rank(of: e), default: .zero] += max(.zero, lastArrival - t.start[e])
      }
    }
    return out
  }
}
