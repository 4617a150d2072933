import TraceModel

/// Lookups the bubble and critical-path analyses share, built once per graph and timeline:
/// per-lane event order, who launched each device event, and which rank window to look at.
///
/// Build one per timeline and hand it to every analysis of that timeline (`BubbleAnalysis(index:)`,
/// `CriticalPath(index:)`); it is an immutable value, safe to share across threads.
public struct AnalysisIndex: Sendable {
  public let graph: EventGraph
  public let timeline: Timeline
  /// Device events (kernels, memcpy/memset, device collectives and send/recv) of each lane, by start.
  var deviceByLane: [[Int32]]
  /// Host call that launched each device event, or -1.
  var launcher: [Int32]
  /// Per rank, the ends of its device events sorted ascending, with the event: for "what other
  /// stream finished just before" lookups.
  var deviceEndsByRank: [Int32: [(end: Nanoseconds, event: Int32)]]
  /// Which profiler step each event's work belongs to (decided on the graph's measured times).
  public let membership: StepMembership

  /// Indexes `timeline` (measured or replayed), which must be parallel to `graph`'s events.
  /// - Complexity: O(events log events).
  public init(_ graph: EventGraph, timeline: Timeline) {
    precondition(timeline.count == graph.eventCount, "timeline is not parallel to the graph")
    self.graph = graph
    self.timeline = timeline
    var byLane = [[Int32]](repeating: [], count: graph.lanes.count)
    var ends: [Int32: [(end: Nanoseconds, event: Int32)]] = [:]
    for e in 0..<graph.eventCount where Self.isDeviceWork(graph, e) {
      byLane[graph.lane[e].index].append(Int32(e))
      ends[graph.rank(of: e).rawValue, default: []].append((timeline.end[e], Int32(e)))
    }
    for l in byLane.indices where byLane[l].count > 1 {
      byLane[l].sort {
        (timeline.start[Int($0)], timeline.end[Int($0)], $0) < (timeline.start[Int($1)], timeline.end[Int($1)], $1)
      }
    }
    for k in ends.keys { ends[k]?.sort { ($0.end, $0.event) < ($1.end, $1.event) } }
    deviceByLane = byLane
    deviceEndsByRank = ends
    var launcher = [Int32](repeating: -1, count: graph.eventCount)
    for from in 0..<graph.eventCount where graph.edgeOffsets[from] != graph.edgeOffsets[from + 1] {
      for (to, kind) in graph.edges(from: EventID(rawValue: UInt32(from))) where kind == .launch {
        launcher[to.index] = Int32(from)
      }
    }
    self.launcher = launcher
    membership = StepMembership(graph)
  }

  /// Work that occupies a device stream.
  static func isDeviceWork(_ g: EventGraph, _ e: Int) -> Bool {
    g.lanes[g.lane[e].index].kind == .deviceStream && TemporalBreakdown.deviceClass(g.kind[e]) != nil
  }

  /// The device event of `rank`, on a lane other than `lane`, with the latest end in `[lo, hi]`.
  func latestDeviceEnd(rank: Int32, notOnLane lane: Int, from lo: Nanoseconds, to hi: Nanoseconds) -> Int? {
    guard let list = deviceEndsByRank[rank], lo <= hi else { return nil }
    var i = list.countAtOrBefore(hi) { $0.end } - 1
    while i >= 0 && list[i].end >= lo {
      let e = Int(list[i].event)
      if graph.lane[e].index != lane { return e }
      i -= 1
    }
    return nil
  }

  /// The analysis window of each rank: its profiler steps when `steps` and present, else its
  /// device span (first to last device event).
  func frames(steps: Bool) -> [Int32: IntervalSet] {
    var out: [Int32: IntervalSet] = [:]
    if steps {
      var raw: [Int32: [(start: Nanoseconds, end: Nanoseconds)]] = [:]
      for s in graph.steps where s.event != .none {
        raw[s.rank.rawValue, default: []].append((timeline.start[s.event.index], timeline.end[s.event.index]))
      }
      for (r, list) in raw { out[r] = IntervalSet(list) }
    }
    for (r, ends) in deviceEndsByRank where out[r] == nil {
      guard let last = ends.last else { continue }
      var first = Nanoseconds.max
      for (_, e) in ends { first = min(first, timeline.start[Int(e)]) }
      out[r] = IntervalSet([(first, last.end)])
    }
    return out
  }
}
