import TraceModel

extension KinetoGraphBuilder {
  /// What nesting and program order found.
  struct NestingStats {
    /// Host spans that overlap an enclosing span without nesting in it.
    var nonNesting = 0
    /// Device work that starts before earlier work on its stream has ended.
    var overlaps = 0
    /// The first such device event.
    var overlapExample: Int?
  }

  /// Nests host spans (`parent`), chains each lane's work in program order, and counts the
  /// device work that overlaps earlier work on its stream.
  func nestAndOrder(order: LaneOrder, lanes: Lanes, in b: inout EventGraph.Builder) -> NestingStats {
    var stats = NestingStats()
    var stack: [Int] = []
    for l in 0..<lanes.keys.count {
      let isDevice = lanes.keys[l].device
      stack.removeAll(keepingCapacity: true)
      var prevWork = -1
      var prevWorkEnd = Int64.min
      for e in order.offsets[l]..<order.offsets[l + 1] {
        let k = b.kind[e]
        let s = b.start[e]
        let en = s + b.duration[e]
        if !isDevice && !nest(e, stack: &stack, in: &b) { stats.nonNesting += 1 }
        let isWork =
          isDevice
          ? (k == .kernel || k == .memcpy || k == .memset || k == .collective || k == .send || k == .recv)
          : (k != .memory && k != .other)
        guard isWork else { continue }
        if prevWork >= 0 { b.addEdge(from: EventID(prevWork), to: EventID(e), kind: .programOrder) }
        // 1 ns tolerance: µs timestamps and durations are rounded separately by the profiler.
        if isDevice && s + 1 < prevWorkEnd {
          stats.overlaps += 1
          if stats.overlapExample == nil { stats.overlapExample = e }
        }
        prevWork = e
        prevWorkEnd = max(prevWorkEnd, en)
      }
    }
    return stats
  }

  /// Sets the parent of host span `e` from the stack of open spans on its thread (in lane order)
  /// and pushes `e`; false when `e` outlives the span it starts in (it then closes what it
  /// outlives).
  func nest(_ e: Int, stack: inout [Int], in b: inout EventGraph.Builder) -> Bool {
    let s = b.start[e]
    let en = s + b.duration[e]
    var nests = true
    while let top = stack.last {
      let topEnd = b.start[top] + b.duration[top]
      if topEnd <= s && !(b.start[top] == s && b.duration[top] >= b.duration[e]) { stack.removeLast() } else { break }
    }
    if let top = stack.last {
      if en <= b.start[top] + b.duration[top] {
        b.parent[e] = EventID(top)
      } else {
        nests = false
        // Keep the stack consistent: the straddling span closes what it outlives.
        while let t2 = stack.last, b.start[t2] + b.duration[t2] < en { stack.removeLast() }
        if let t2 = stack.last { b.parent[e] = EventID(t2) }
      }
    }
    if b.kind[e] != .memory && b.duration[e] > 0 { stack.append(e) }
    return nests
  }
}
