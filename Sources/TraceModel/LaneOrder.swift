/// Events grouped by lane, each lane in replay order: by start, the longest first among equal
/// starts, then by index.
///
/// One counting sort over the lanes (O(n)), then a sort inside the lanes that are not in order
/// already (recorded traces almost always are). The Kineto graph builder orders its records
/// with it and the replay plan its events, so both agree on what "lane order" means.
///
///     let order = LaneOrder(graph)
///     for e in order.events(of: 3) { … }   // lane 3, first to last
///
/// - Complexity: O(n) when every lane is already ordered, O(n log n) at worst.
public struct LaneOrder: Sendable, Equatable {
  /// `events[offsets[l] ..< offsets[l + 1]]` are the events of lane `l`.
  public let offsets: [Int]
  /// Event indices, lane after lane.
  public let events: [Int32]

  /// Orders `lanes.count` items by lane (`lanes[i]` in `0..<laneCount`), then by `start`,
  /// longest `duration` first, index.
  public init(laneCount: Int, lanes: [Int32], start: [Int64], duration: [Int64]) {
    var offsets = [Int](repeating: 0, count: laneCount + 1)
    for l in lanes { offsets[Int(l) + 1] += 1 }
    for i in 0..<laneCount { offsets[i + 1] += offsets[i] }
    var order = [Int32](repeating: 0, count: lanes.count)
    var cursor = offsets
    for (i, l) in lanes.enumerated() {
      order[cursor[Int(l)]] = Int32(i)
      cursor[Int(l)] += 1
    }
    for l in 0..<laneCount {
      Self.sortLane(&order, offsets[l]..<offsets[l + 1], start: start, duration: duration)
    }
    self.offsets = offsets
    self.events = order
  }

  /// The lane order of a graph's events.
  public init(_ graph: EventGraph) {
    self.init(
      laneCount: graph.lanes.count, lanes: graph.lane.map { Int32(bitPattern: $0.rawValue) },
      start: graph.start, duration: graph.duration)
  }

  /// The events of lane `l`, in order.
  public func events(of l: Int) -> ArraySlice<Int32> { events[offsets[l]..<offsets[l + 1]] }

  private static func sortLane(_ order: inout [Int32], _ range: Range<Int>, start: [Int64], duration: [Int64]) {
    func key(_ k: Int) -> (Int64, Int64, Int32) {
      let e = Int(order[k])
      return (start[e], -duration[e], order[k])
    }
    guard range.count > 1, range.dropFirst().contains(where: { key($0 - 1) > key($0) }) else { return }
    let keys = range.map(key).sorted { $0 < $1 }
    for (k, entry) in zip(range, keys) { order[k] = entry.2 }
  }
}
