import TraceModel

/// Which ranks hold the others back at collectives, C4-style.
///
/// C4 (Dong et al., "Boosting Large-scale Parallel Training Efficiency with C4: A
/// Communication-Driven Approach", arXiv 2406.04594, §3) finds slow ranks from collective
/// timing: in a collective every rank waits for the last to arrive, so the rank that is
/// repeatedly last is the straggler. For every matched instance with two or more members
/// present, the member with the latest start is *last*, and it *held the others* for
/// `latest start − second-latest start` (the time it alone delayed the collective).
///
/// A rank is flagged when it was last at least 3 times and in at least `min(50%, 3/n)` of the
/// collectives it took part in (n = ranks present): three times its fair share, or half.
public struct StragglerAnalysis: Sendable, Equatable {
  public struct Rank: Sendable, Equatable {
    public var rank: Int
    public var collectives: Int
    public var lastCount: Int
    /// Time it alone delayed the collectives it was last at.
    public var heldOthers: Nanoseconds
    public var flagged: Bool
    public var lastShare: Double { collectives > 0 ? Double(lastCount) / Double(collectives) : 0 }
  }

  public var ranks: [Rank]
  /// Instances examined (matched, two or more members present).
  public var instances: Int

  public init(_ graph: EventGraph, timeline: Timeline) {
    var coll: [Int32: Int] = [:]
    var last: [Int32: Int] = [:]
    var held: [Int32: Nanoseconds] = [:]
    var n = 0
    for inst in graph.instances where inst.members.count >= 2 {
      n += 1
      var best = (start: Nanoseconds.min, rank: Int32.max)
      var second = Nanoseconds.min
      for m in inst.members {
        let r = graph.rank(of: m.index).rawValue
        let s = timeline.start[m.index]
        coll[r, default: 0] += 1
        if s > best.start || (s == best.start && r < best.rank) {
          second = best.start
          best = (s, r)
        } else if s > second {
          second = s
        }
      }
      last[best.rank, default: 0] += 1
      held[best.rank, default: .zero] += best.start - second
    }
    instances = n
    let present = coll.count
    let share = min(0.5, 3 / Double(max(present, 1)))
    ranks = coll.sorted { $0.key < $1.key }.map { r, c in
      let l = last[r] ?? 0
      return Rank(
        rank: Int(r), collectives: c, lastCount: l, heldOthers: held[r] ?? .zero,
        flagged: l >= 3 && Double(l) / Double(c) >= share)
    }
  }
}
