/// When every event of an `EventGraph` ran: measured, or predicted by a replay.
///
/// Parallel to the graph's event columns: `start[e]` and `end[e]` are on the same clock as the
/// graph (after clock alignment).
public struct Timeline: Sendable, Equatable {
  public var start: [Nanoseconds]
  public var end: [Nanoseconds]

  public init(start: [Nanoseconds], end: [Nanoseconds]) {
    precondition(start.count == end.count, "a timeline has one start and one end per event")
    self.start = start
    self.end = end
  }

  /// The measured timeline of a graph: its recorded start and end times.
  public init(measured graph: EventGraph) {
    start = graph.start.map(Nanoseconds.init(rawValue:))
    end = (0..<graph.eventCount).map { Nanoseconds(rawValue: graph.start[$0] &+ graph.duration[$0]) }
  }

  public var count: Int { start.count }

  /// How long event `e` ran.
  public func duration(_ e: Int) -> Nanoseconds { end[e] - start[e] }
}
