import Analysis
import TraceModel

// The summary tables of the report's two long lists: bubbles per cause and per lane, the
// critical path per op, and the longest of each. Every order is total, so the same run always
// gives the same rows.

extension RunReport {
  /// Count, total and maximum of a set of durations.
  struct Tally {
    var count = 0
    var total = Nanoseconds.zero
    var max = Nanoseconds.zero

    mutating func add(_ d: Nanoseconds) {
      count += 1
      total += d
      if d > max { max = d }
    }
  }

  /// Index of a cause in `BubbleAnalysis.Cause.allCases` (the order of the cause rows): a scan
  /// of the few cases, cheaper than hashing once per interval.
  private static func causeIndex(_ c: BubbleAnalysis.Cause) -> Int {
    BubbleAnalysis.Cause.allCases.firstIndex(of: c) ?? 0
  }

  /// One row per cause, every cause listed (zeros included), in `Cause.allCases` order.
  static func bubblesByCause(_ bubbles: some Sequence<BubbleAnalysis.Bubble>) -> [BubbleCauseRow] {
    var tallies = [Tally](repeating: Tally(), count: BubbleAnalysis.Cause.allCases.count)
    for b in bubbles { tallies[causeIndex(b.cause)].add(b.duration) }
    return zip(BubbleAnalysis.Cause.allCases, tallies).map { cause, t in
      BubbleCauseRow(cause: cause.rawValue, intervals: t.count, durationNs: t.total, maxNs: t.max)
    }
  }

  private struct LaneKey: Hashable, Comparable {
    var rank: Int
    var lane: Int
    var cause: Int
    static func < (a: Self, b: Self) -> Bool { (a.rank, a.lane, a.cause) < (b.rank, b.lane, b.cause) }
  }

  /// One row per rank, lane and cause that has intervals, sorted by rank, lane (−1, the rank's
  /// device, first) and cause (`Cause.allCases` order).
  static func bubblesByLane(_ bubbles: some Sequence<BubbleAnalysis.Bubble>, graph g: EventGraph) -> [BubbleLaneRow] {
    // Intervals come in runs of one rank and lane: the (rank, lane) slot is looked up once
    // per run, the cause indexes into the slot's tallies.
    let causes = BubbleAnalysis.Cause.allCases
    var slotOf: [LaneKey: Int] = [:]
    var tallies: [Tally] = []
    var last = LaneKey(rank: .min, lane: .min, cause: 0)
    var base = 0
    for b in bubbles {
      if b.rank != last.rank || b.lane != last.lane {
        last = LaneKey(rank: b.rank, lane: b.lane, cause: 0)
        if let known = slotOf[last] {
          base = known
        } else {
          base = tallies.count
          slotOf[last] = base
          tallies += repeatElement(Tally(), count: causes.count)
        }
      }
      tallies[base + causeIndex(b.cause)].add(b.duration)
    }
    var used: [(key: LaneKey, tally: Tally)] = []
    for (k, slot) in slotOf {
      for c in causes.indices where tallies[slot + c].count > 0 {
        used.append((LaneKey(rank: k.rank, lane: k.lane, cause: c), tallies[slot + c]))
      }
    }
    return used.sorted { $0.key < $1.key }.map { k, t in
      BubbleLaneRow(
        rank: k.rank, lane: k.lane, laneName: laneName(g, k.lane), cause: causes[k.cause].rawValue,
        intervals: t.count, durationNs: t.total, maxNs: t.max)
    }
  }

  /// The `topIntervals` longest bubbles, longest first; ties by rank, lane, start.
  static func longestBubbles(_ bubbles: some Sequence<BubbleAnalysis.Bubble>) -> [BubbleAnalysis.Bubble] {
    top(topIntervals, of: bubbles) {
      ($1.duration, $0.rank, $0.lane, $0.start) < ($0.duration, $1.rank, $1.lane, $1.start)
    }
  }

  /// The `topIntervals` longest segments, longest first; ties by start, rank, lane.
  static func longestSegments(_ segments: [CriticalPath.Segment]) -> [CriticalPath.Segment] {
    top(topIntervals, of: segments) {
      ($1.duration, $0.start, $0.rank, $0.lane) < ($0.duration, $1.start, $1.rank, $1.lane)
    }
  }

  private struct OpKey: Hashable {
    /// nil for a wait.
    var name: NameID?
    var kind: EventKind?
    var category: CriticalPath.Category
  }

  /// Path time per event name (or `wait`), kind and category: the `topIntervals` largest,
  /// largest first; ties by name, kind, category.
  static func criticalPathByOp(_ segments: [CriticalPath.Segment], graph g: EventGraph) -> [CriticalPathOpRow] {
    // Per name (the last slot: waits), the few (kind, category) pairs seen with it: a dense
    // array and a short scan instead of hashing every segment.
    var byName = [[(key: OpKey, tally: Tally)]](repeating: [], count: g.strings.count + 1)
    for s in segments {
      let key = OpKey(name: s.event.map { g.name[$0] }, kind: s.event.map { g.kind[$0] }, category: s.category)
      let n = key.name?.index ?? g.strings.count
      if let i = byName[n].firstIndex(where: { $0.key == key }) {
        byName[n][i].tally.add(s.duration)
      } else {
        var t = Tally()
        t.add(s.duration)
        byName[n].append((key, t))
      }
    }
    let rows = byName.joined().map { k, t in
      CriticalPathOpRow(
        name: k.name.map { g.strings[$0] } ?? "wait", kind: k.kind?.name ?? "wait", category: k.category.rawValue,
        segments: t.count, durationNs: t.total)
    }
    return top(topIntervals, of: rows) {
      ($1.durationNs, $0.name, $0.kind, $0.category) < ($0.durationNs, $1.name, $1.kind, $1.category)
    }
  }

  private struct GroupKey: Hashable, Comparable {
    var kind: String
    var group: String
    static func < (a: Self, b: Self) -> Bool { (a.kind, a.group) < (b.kind, b.group) }
  }

  /// One row per collective kind (or send/recv) and process group, sorted by kind then group.
  static func bandwidthByGroup(_ rows: [BandwidthRow]) -> [BandwidthGroupRow] {
    var groups: [GroupKey: BandwidthGroupRow] = [:]
    for r in rows {
      let key = GroupKey(kind: r.kind, group: r.group)
      var g =
        groups[key]
        ?? BandwidthGroupRow(
          kind: r.kind, group: r.group, instances: 0, matched: 0, bytes: .zero, durationNs: .zero, transferNs: .zero,
          maxDurationNs: .zero, arrivalSpreadNs: .zero, maxArrivalSpreadNs: .zero)
      g.instances += 1
      g.matched += r.matched ? 1 : 0
      g.bytes += r.bytes
      g.durationNs += r.durationNs
      g.transferNs += r.transferNs
      g.maxDurationNs = max(g.maxDurationNs, r.durationNs)
      g.arrivalSpreadNs += r.arrivalSpreadNs
      g.maxArrivalSpreadNs = max(g.maxArrivalSpreadNs, r.arrivalSpreadNs)
      groups[key] = g
    }
    return groups.keys.sorted().compactMap { groups[$0] }
  }

  /// The `topIntervals` longest instances, longest first; ties by start, kind, group, sequence.
  static func longestInstances(_ rows: [BandwidthRow]) -> [BandwidthRow] {
    top(topIntervals, of: rows) {
      ($1.durationNs, $0.startNs, $0.kind, $0.group, $0.sequence)
        < ($0.durationNs, $1.startNs, $1.kind, $1.group, $1.sequence)
    }
  }

  /// The first `n` of `items` in the order `before` (a strict total order gives one answer
  /// whatever the input order), in that order.
  /// - Complexity: O(items · log n) comparisons, plus O(n) per element that enters the top.
  static func top<T>(_ n: Int, of items: some Sequence<T>, by before: (T, T) -> Bool) -> [T] {
    guard n > 0 else { return [] }
    var out: [T] = []
    out.reserveCapacity(n + 1)
    for x in items {
      if out.count == n, let last = out.last, !before(x, last) { continue }
      var lo = 0
      var hi = out.count
      while lo < hi {
        let mid = (lo + hi) / 2
        if before(x, out[mid]) { hi = mid } else { lo = mid + 1 }
      }
      out.insert(x, at: lo)
      if out.count > n { out.removeLast() }
    }
    return out
  }
}
