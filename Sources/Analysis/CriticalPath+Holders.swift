import TraceModel

extension PathWalk {
  /// Adds the host wait `[a, b)` on host thread `lane`, between path events `prev` (ends at `a`)
  /// and `next` (starts at `b`), split where its holder changes. A piece's holder is the innermost
  /// host op or annotation on the thread that covers it: an ancestor of `prev` or `next` (the
  /// span they are nested in), or a span that starts inside the wait (a data-loader range, a
  /// call without traced children). Pieces that nothing covers have no holder.
  mutating func addHostWait(lane: Int, from a: Nanoseconds, to b: Nanoseconds, prev: Int?, next: Int?) {
    let a = max(a, wlo)
    guard b > a else { return }
    let times = nodes.timeline
    let spans = holders(lane: lane, from: a, to: b, prev: prev, next: next)
    var cuts = [a, b]
    for h in spans {
      if times.start[h] > a && times.start[h] < b { cuts.append(times.start[h]) }
      if times.end[h] > a && times.end[h] < b { cuts.append(times.end[h]) }
    }
    cuts = Array(Set(cuts)).sorted()
    var pieces: [(start: Nanoseconds, end: Nanoseconds, holder: Int?)] = []
    for (x, y) in zip(cuts, cuts.dropFirst()) {
      let holder = spans.filter { times.start[$0] <= x && times.end[$0] >= y }.max {
        (times.start[$0], -times.end[$0].rawValue, $0) < (times.start[$1], -times.end[$1].rawValue, $1)
      }
      if let last = pieces.last, last.holder == holder {
        pieces[pieces.count - 1].end = y
      } else {
        pieces.append((x, y, holder))
      }
    }
    // Segments are collected newest first.
    for p in pieces.reversed() { add(nil, lane: lane, p.start, p.end, .host, heldBy: p.holder) }
  }

  /// The host spans on `lane` that overlap `[a, b)`, other than `prev` and `next`: their
  /// ancestors, and the holders that start inside the wait.
  func holders(lane: Int, from a: Nanoseconds, to b: Nanoseconds, prev: Int?, next: Int?) -> [Int] {
    let (g, times) = (nodes.graph, nodes.timeline)
    var out = Set<Int>()
    for e in [prev, next].compactMap({ $0 }) where g.lane[e].index == lane {
      var p = g.parent[e]
      while p != .none {
        out.insert(p.index)
        p = g.parent[p.index]
      }
    }
    let list = nodes.holdersByLane[lane]
    var i = list.countAtOrBefore(a) { times.start[Int($0)] }
    // Spans starting exactly at `a` count too.
    while i > 0 && times.start[Int(list[i - 1])] == a { i -= 1 }
    while i < list.count && times.start[Int(list[i])] < b {
      out.insert(Int(list[i]))
      i += 1
    }
    return out.filter { $0 != prev && $0 != next && times.start[$0] < b && times.end[$0] > a }.sorted()
  }
}
