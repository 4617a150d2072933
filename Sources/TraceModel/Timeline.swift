/// When every event of an `EventGraph` ran: measured, or predicted by a replay.
///
/// Parallel to the graph's event columns: `start[e]` and `end[e]` are nanoseconds on the same
/// clock as the graph (after clock alignment).
public struct Timeline: Sendable, Equatable {
  public var start: [Int64]
  public var end: [Int64]

  public init(start: [Int64], end: [Int64]) {
    self.start = start
    self.end = end
  }

  /// The measured timeline of a graph: its recorded start and end times.
  public init(measured graph: EventGraph) {
    start = graph.start
    end = (0..<graph.eventCount).map { graph.start[$0] &+ graph.duration[$0] }
  }

  public var count: Int { start.count }
}
