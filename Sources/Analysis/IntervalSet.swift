import TraceModel

/// A set of disjoint, sorted, half-open time intervals `[start, end)`.
///
/// Built from any list of intervals (overlapping or not, in any order); the union is taken once
/// at construction, so measures and intersections are linear in the number of merged intervals.
public struct IntervalSet: Sendable, Equatable {
  /// Merged intervals, sorted by start; no two touch or overlap.
  public private(set) var intervals: [(start: Nanoseconds, end: Nanoseconds)]

  public static func == (l: Self, r: Self) -> Bool {
    l.intervals.count == r.intervals.count
      && zip(l.intervals, r.intervals).allSatisfy { $0.start == $1.start && $0.end == $1.end }
  }

  /// The union of `raw`. Empty and negative-length intervals contribute nothing.
  public init(_ raw: [(start: Nanoseconds, end: Nanoseconds)]) {
    let sorted = raw.filter { $0.end > $0.start }.sorted {
      $0.start < $1.start || ($0.start == $1.start && $0.end < $1.end)
    }
    var merged: [(start: Nanoseconds, end: Nanoseconds)] = []
    merged.reserveCapacity(sorted.count)
    for iv in sorted {
      if let last = merged.last, iv.start <= last.end {
        if iv.end > last.end { merged[merged.count - 1].end = iv.end }
      } else {
        merged.append(iv)
      }
    }
    intervals = merged
  }

  private init(merged: [(start: Nanoseconds, end: Nanoseconds)]) { intervals = merged }

  public var isEmpty: Bool { intervals.isEmpty }

  /// Total length covered.
  public var measure: Nanoseconds { intervals.reduce(.zero) { $0 + ($1.end - $1.start) } }

  /// The set of times in both `self` and `other`.
  public func intersection(_ other: IntervalSet) -> IntervalSet {
    var out: [(start: Nanoseconds, end: Nanoseconds)] = []
    var i = 0
    var j = 0
    let a = intervals
    let b = other.intervals
    while i < a.count && j < b.count {
      let s = max(a[i].start, b[j].start)
      let e = min(a[i].end, b[j].end)
      if s < e { out.append((s, e)) }
      if a[i].end < b[j].end { i += 1 } else { j += 1 }
    }
    return IntervalSet(merged: out)
  }

  /// The set of times in `self` or `other`.
  public func union(_ other: IntervalSet) -> IntervalSet { IntervalSet(intervals + other.intervals) }

  /// The set of times in `self` and not in `other`.
  public func subtracting(_ other: IntervalSet) -> IntervalSet {
    guard let lo = intervals.first?.start, let hi = intervals.last?.end else { return self }
    var keep: [(start: Nanoseconds, end: Nanoseconds)] = []
    var cursor = lo
    for iv in other.intervals where iv.end > lo && iv.start < hi {
      if iv.start > cursor { keep.append((cursor, iv.start)) }
      cursor = max(cursor, iv.end)
    }
    if cursor < hi { keep.append((cursor, hi)) }
    return intersection(IntervalSet(merged: keep))
  }

  /// The gaps between consecutive intervals, within `[first start, last end)`.
  public var gaps: [(start: Nanoseconds, end: Nanoseconds)] {
    guard intervals.count > 1 else { return [] }
    return (1..<intervals.count).map { (intervals[$0 - 1].end, intervals[$0].start) }
  }

  /// Restricts the set to `[lo, hi)`.
  public func clipped(to lo: Nanoseconds, _ hi: Nanoseconds) -> IntervalSet {
    IntervalSet(
      merged: intervals.compactMap { iv in
        let s = max(iv.start, lo)
        let e = min(iv.end, hi)
        return s < e ? (s, e) : nil
      })
  }
}
