import TraceModel

/// The dependencies of one rank's events, as the exporter writes them.
///
/// `ctrl`: each event's lane predecessor, the earlier event on its lane with the latest end at
/// or before its start (`ctrl_deps`). `data`: the launch, synchronize, data and program-order
/// edges within the rank that the lane predecessor does not already state (`data_deps`).
struct RankDependencies {
  /// Event → its lane predecessor.
  var ctrl: [Int: Int]
  /// Event → the events it depends on otherwise (may repeat; written once each).
  var data: [Int: [Int]]
  /// Edges that leave the rank (send → recv, and precedence edges to other ranks): not written.
  var crossRankEdges: Int

  init(_ g: EventGraph, timeline t: Timeline, events: [Int]) {
    ctrl = Self.lanePredecessors(g, timeline: t, events: events)
    (data, crossRankEdges) = Self.precedence(g, events: events, ctrl: ctrl)
  }

  /// Each event's lane predecessor.
  ///
  /// In lane order (start, longest first, index), the earlier event with the latest end at or
  /// before this one's start; only earlier events qualify, so zero-length calls cannot loop.
  static func lanePredecessors(_ g: EventGraph, timeline t: Timeline, events: [Int]) -> [Int: Int] {
    var ctrl: [Int: Int] = [:]
    var byLane: [Int: [Int]] = [:]
    for e in events { byLane[g.lane[e].index, default: []].append(e) }
    for (_, list) in byLane {
      func key(_ e: Int) -> OrderKey { OrderKey(start: t.start[e], negDuration: t.start[e] - t.end[e], event: e) }
      let sorted = list.sorted { key($0) < key($1) }
      var pending = MinHeap<OrderKey>()  // earlier events by end time
      var best = -1
      for e in sorted {
        while let top = pending.peek(), top.start <= t.start[e] {
          _ = pending.pop()
          if best < 0 || t.end[top.event] >= t.end[best] { best = top.event }
        }
        if best >= 0 { ctrl[e] = best }
        pending.push(OrderKey(start: t.end[e], negDuration: .zero, event: e))
      }
    }
    return ctrl
  }

  /// The precedence edges within the rank (dependent → dependencies) and the count of those that
  /// leave it.
  static func precedence(_ g: EventGraph, events: [Int], ctrl: [Int: Int]) -> (data: [Int: [Int]], crossRank: Int) {
    let local = Set(events)
    var data: [Int: [Int]] = [:]
    var crossRank = 0
    for u in events {
      for (v, kind) in g.edges(from: EventID(u))
      where kind == .launch || kind == .sync || kind == .data || kind == .programOrder {
        if !local.contains(v.index) {
          crossRank += 1
        } else if kind != .programOrder || ctrl[v.index] != u {
          data[v.index, default: []].append(u)
        }
      }
      for (v, kind) in g.edges(from: EventID(u)) where kind == .p2p && !local.contains(v.index) { crossRank += 1 }
    }
    return (data, crossRank)
  }
}

/// One rank's events in a dependency order (Kahn's algorithm), ties by (start, longest first,
/// index).
///
/// Measured times can disagree with edges by rounding and close a cycle; then the earliest
/// waiting event is released and its unmet dependencies are dropped (and counted), so
/// `dependencies` may hold fewer edges than the ones given.
struct DependencyOrder {
  /// The events, every dependency before its dependents.
  var events: [Int] = []
  /// The dependencies given, less the dropped ones.
  var dependencies: RankDependencies
  /// Dependencies dropped to break cycles.
  var droppedDependencies = 0

  init(_ events: [Int], _ dependencies: RankDependencies, timeline t: Timeline) {
    self.dependencies = dependencies
    var indegree: [Int: Int] = [:]
    var children: [Int: [Int]] = [:]
    for e in events {
      let deps = Set((dependencies.ctrl[e].map { [$0] } ?? []) + (dependencies.data[e] ?? []))
      indegree[e] = deps.count
      for d in deps { children[d, default: []].append(e) }
    }
    func key(_ e: Int) -> OrderKey { OrderKey(start: t.start[e], negDuration: t.start[e] - t.end[e], event: e) }
    var heap = MinHeap<OrderKey>()
    for e in events where indegree[e] == 0 { heap.push(key(e)) }
    self.events.reserveCapacity(events.count)
    var placed = Set<Int>()
    while self.events.count < events.count {
      guard let top = heap.pop() else {
        // Every event not placed yet waits on a dependency (the others are in the heap), so one
        // is stuck; the guard only ends the loop should that ever fail to hold.
        let waiting = events.filter { !placed.contains($0) && indegree[$0, default: 0] > 0 }
        guard let stuck = waiting.min(by: { key($0) < key($1) }) else { break }
        release(stuck, placed: placed, indegree: &indegree)
        heap.push(key(stuck))
        continue
      }
      if placed.contains(top.event) { continue }
      placed.insert(top.event)
      self.events.append(top.event)
      for c in children[top.event] ?? [] where !placed.contains(c) {
        indegree[c, default: 0] -= 1
        if indegree[c] == 0 { heap.push(key(c)) }
      }
    }
  }

  /// Breaks a cycle at `stuck`: drops its dependencies that are not placed yet (counted).
  private mutating func release(_ stuck: Int, placed: Set<Int>, indegree: inout [Int: Int]) {
    droppedDependencies += indegree[stuck, default: 0]
    indegree[stuck] = 0
    dependencies.ctrl[stuck] = dependencies.ctrl[stuck].flatMap { placed.contains($0) ? $0 : nil }
    dependencies.data[stuck] = dependencies.data[stuck]?.filter { placed.contains($0) }
  }
}

/// Tie-break of the dependency order: earlier start, then longer, then graph order.
struct OrderKey: Comparable {
  var start: Nanoseconds, negDuration: Nanoseconds, event: Int
  static func < (a: Self, b: Self) -> Bool { (a.start, a.negDuration, a.event) < (b.start, b.negDuration, b.event) }
}

/// A binary min-heap (for the dependency-order tie-break).
struct MinHeap<T: Comparable> {
  private var items: [T] = []
  mutating func push(_ x: T) {
    items.append(x)
    var i = items.count - 1
    while i > 0 {
      let p = (i - 1) / 2
      if items[p] <= items[i] { break }
      items.swapAt(p, i)
      i = p
    }
  }
  func peek() -> T? { items.first }
  mutating func pop() -> T? {
    guard let top = items.first else { return nil }
    let last = items.removeLast()
    if !items.isEmpty {
      items[0] = last
      var i = 0
      while true {
        let l = 2 * i + 1
        let r = l + 1
        var m = i
        if l < items.count && items[l] < items[m] { m = l }
        if r < items.count && items[r] < items[m] { m = r }
        if m == i { break }
        items.swapAt(m, i)
        i = m
      }
    }
    return top
  }
}
