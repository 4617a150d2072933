/// A broken invariant of an `EventGraph`.
public struct GraphIssue: Hashable, Sendable, CustomStringConvertible {
  public var event: EventID?
  public var message: String
  public var description: String { event.map { "event \($0.rawValue): \(message)" } ?? message }
}

extension EventGraph {
  /// Checks the graph's invariants and returns every violation found (empty when valid).
  ///
  /// Checks: column lengths agree; edges name existing events; durations are non-negative;
  /// precedence edges (all but `.collective`) are acyclic; `parent` names an event on the same
  /// lane, and following parents always ends at a root (analyses walk up the parents).
  /// - Complexity: O(events + edges).
  public func validate() -> [GraphIssue] {
    var issues: [GraphIssue] = []
    let n = eventCount
    let columns = [
      lane.count, name.count, detail.count, start.count, duration.count, bytes.count,
      correlation.count, parent.count, sourceIndex.count,
    ]
    if columns.contains(where: { $0 != n }) || edgeOffsets.count != n + 1 {
      issues.append(
        GraphIssue(
          event: nil, message: "column lengths disagree: \(columns), offsets \(edgeOffsets.count) for \(n) events"))
      return issues
    }
    for e in 0..<n {
      if duration[e] < 0 {
        issues.append(GraphIssue(event: EventID(e), message: "negative duration \(duration[e]) ns"))
      }
      if lane[e].index >= lanes.count {
        issues.append(GraphIssue(event: EventID(e), message: "lane \(lane[e].rawValue) out of range"))
      }
      let p = parent[e]
      if p != .none && (p.index >= n || lane[p.index] != lane[e]) {
        issues.append(GraphIssue(event: EventID(e), message: "parent \(p.rawValue) is not on the same lane"))
      }
    }
    if issues.isEmpty, let e = parentCycle() {
      issues.append(GraphIssue(event: EventID(e), message: "parent links form a cycle"))
      return issues
    }
    for t in edgeTargets where t.index >= n {
      issues.append(GraphIssue(event: t, message: "edge target out of range"))
      return issues
    }
    // Kahn's algorithm over precedence edges.
    var indegree = [Int32](repeating: 0, count: n)
    for i in 0..<edgeTargets.count where edgeKinds[i].isPrecedence { indegree[edgeTargets[i].index] += 1 }
    // Event ids fit 32 bits: the queue of a 10⁷-event graph takes 40 MB, not 80.
    var queue: [UInt32] = []
    queue.reserveCapacity(n)
    for e in 0..<n where indegree[e] == 0 { queue.append(UInt32(e)) }
    var head = 0
    while head < queue.count {
      let e = Int(queue[head])
      head += 1
      for i in Int(edgeOffsets[e])..<Int(edgeOffsets[e + 1]) where edgeKinds[i].isPrecedence {
        let t = edgeTargets[i].index
        indegree[t] -= 1
        if indegree[t] == 0 { queue.append(UInt32(t)) }
      }
    }
    if queue.count != n {
      let stuck = (0..<n).first { indegree[$0] > 0 }
      issues.append(
        GraphIssue(
          event: stuck.map { EventID($0) },
          message: "precedence edges form a cycle (\(n - queue.count) events on or after it)"))
    }
    return issues
  }

  /// An event on a cycle of parent links, or nil when every chain of parents ends at a root.
  /// Parents must be in range (`validate` checks that first).
  /// - Complexity: O(events).
  public func parentCycle() -> Int? {
    let n = eventCount
    // Every importer numbers an enclosing event before the events inside it; then no chain can
    // loop, and one pass over the column says so without the walk below.
    if parent.withUnsafeBufferPointer({ p in (0..<n).allSatisfy { p[$0] == .none || p[$0].index < $0 } }) {
      return nil
    }
    // 0: not seen, 1: on the chain being walked, 2: known to end at a root.
    var state = [UInt8](repeating: 0, count: n)
    var chain: [Int] = []
    for start in 0..<n where state[start] == 0 {
      var e = start
      while e < n && state[e] == 0 {
        state[e] = 1
        chain.append(e)
        let p = parent[e]
        e = p == .none ? n : p.index
      }
      if e < n && state[e] == 1 { return e }
      for c in chain { state[c] = 2 }
      chain.removeAll(keepingCapacity: true)
    }
    return nil
  }
}
