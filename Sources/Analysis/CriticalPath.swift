import TraceModel

/// The chain of work and waits that set the step time, across ranks.
///
/// HTA's critical-path analysis (`hta/analyzers/critical_path_analysis.py`) follows one rank's
/// CPU ops and kernels. Here the graph's cross-rank edges take part too: a collective or a
/// matched send/recv ends when its *last* member arrives plus the transfer, so the path jumps to
/// the rank that arrived last; a synchronize call ends when the awaited device work ends, so it
/// jumps to that work.
///
/// The walk goes backwards from the work that ends last in the window. At each event the
/// predecessor is the candidate that became ready last (the binding constraint):
/// - the previous work on the same lane (host leaf ops, or device work on a stream);
/// - for device work, the host call that launched it (by correlation id);
/// - for device work, work on another stream of the rank that ended at most 10 µs before it
///   started (an inferred cross-stream event wait, as in `ReplayPlan`);
/// - for a synchronize call, the device work it waited for; for a collective or send/recv
///   member, the member that arrived last.
/// Time between the predecessor's end and the event's start is a wait: `bubble` on a device
/// stream, `host` on a host thread (framework time between traced calls). Event time counts by
/// kind: kernels, memcpy and memset are `compute`; collectives, sends and receives
/// `communication`; host calls `host`. Only leaf host calls take part (an op's own time shows as
/// host gaps between its children); annotations and allocator events do not.
///
/// The window is the slowest profiler step present on every rank (job-wide: earliest start to
/// latest end over the ranks), or the whole trace when the ranks have no common step.
/// The segments tile `[pathStart, pathEnd)` exactly. The path begins where nothing earlier
/// binds its first event, usually the start of that rank's traced step; when ranks began their
/// step at different times (or their traces started at different times) `pathStart` is later
/// than `windowStart`, and the difference is not attributed.
public struct CriticalPath: Sendable, Equatable {
  public enum Category: String, CaseIterable, Sendable, Codable {
    case compute, communication, host, bubble
  }

  public struct Segment: Sendable, Equatable {
    public var rank: Int
    public var lane: Int
    /// The event, or nil for a wait.
    public var event: Int?
    public var start: Nanoseconds
    public var end: Nanoseconds
    public var category: Category
    public var duration: Nanoseconds { end - start }
  }

  /// The profiler step the path explains, or nil for the whole trace.
  public var step: Int?
  public var windowStart: Nanoseconds
  public var windowEnd: Nanoseconds
  /// Where the path begins: `windowStart`, or later when nothing before it binds.
  public var pathStart: Nanoseconds
  /// Where the path ends: the end of the last work in the window (≤ `windowEnd`; a step's
  /// annotation usually outlasts its last kernel).
  public var pathEnd: Nanoseconds
  /// Chronological.
  public var segments: [Segment]
  public var byCategory: [Category: Nanoseconds]
  /// Times the path moves from one rank to another.
  public var rankChanges: Int
  public var length: Nanoseconds { pathEnd - pathStart }

  public init(_ graph: EventGraph, timeline: Timeline) {
    self.init(index: AnalysisIndex(graph, timeline: timeline))
  }

  /// The critical path of the index's timeline (the index may be shared with other analyses).
  /// - Parameter step: the profiler step to explain (its job-wide span: earliest start to latest
  ///   end over the ranks that have it); nil: the slowest step every rank has, else the whole
  ///   trace. A step the trace does not have gives an empty path.
  public init(index ix: AnalysisIndex, step explained: Int? = nil) {
    let nodes = PathNodes(ix)
    let (stepN, wlo, whi) = nodes.window(step: explained)
    var walk = PathWalk(nodes: nodes, from: wlo, to: whi)
    walk.run()
    step = stepN
    windowStart = wlo
    windowEnd = whi
    segments = walk.segments.reversed()
    pathStart = segments.first?.start ?? walk.start
    pathEnd = segments.last?.end ?? max(walk.end, pathStart)
    var by: [Category: Nanoseconds] = [:]
    var changes = 0
    for (i, s) in segments.enumerated() {
      by[s.category, default: .zero] += s.duration
      if i > 0 && segments[i - 1].rank != s.rank { changes += 1 }
    }
    byCategory = by
    rankChanges = changes
  }
}

/// What the walk needs about the graph: which events are path nodes, each lane's nodes by end,
/// the device work each synchronize waited for, and the members of each barrier.
private struct PathNodes {
  let index: AnalysisIndex
  var graph: EventGraph { index.graph }
  var timeline: Timeline { index.timeline }
  /// Device work and host leaf calls (annotations and allocator events never).
  let isNode: [Bool]
  /// Nodes per lane sorted by (end, start, id), for "latest work on this lane ending by t".
  let byLane: [[Int32]]
  let syncSource: [Int32]
  /// Barrier of each event (-1: none), and each barrier's members.
  let barrier: [Int32]
  let members: [[Int32]]

  init(_ ix: AnalysisIndex) {
    index = ix
    let (graph, times) = (ix.graph, ix.timeline)
    let n = graph.eventCount
    var hasChild = [Bool](repeating: false, count: n)
    for e in 0..<n where graph.parent[e] != .none { hasChild[graph.parent[e].index] = true }
    isNode = (0..<n).map { e in
      switch graph.kind[e] {
      case .annotation, .memory: return false
      default:
        return graph.lanes[graph.lane[e].index].kind == .deviceStream
          ? AnalysisIndex.isDeviceWork(graph, e) : !hasChild[e]
      }
    }
    var byLane = [[Int32]](repeating: [], count: graph.lanes.count)
    for e in 0..<n where isNode[e] { byLane[graph.lane[e].index].append(Int32(e)) }
    for l in byLane.indices {
      byLane[l].sort { (times.end[Int($0)], times.start[Int($0)], $0) < (times.end[Int($1)], times.start[Int($1)], $1) }
    }
    self.byLane = byLane
    var syncSource = [Int32](repeating: -1, count: n)
    for from in 0..<n where graph.edgeOffsets[from] != graph.edgeOffsets[from + 1] {
      for (to, kind) in graph.edges(from: EventID(rawValue: UInt32(from))) where kind == .sync {
        let s = Int(syncSource[to.index])
        if s < 0 || times.end[from] > times.end[s] { syncSource[to.index] = Int32(from) }
      }
    }
    self.syncSource = syncSource
    (barrier, members) = Self.barriers(graph)
  }

  /// Collective instances with two or more members, and matched send/recv pairs.
  static func barriers(_ graph: EventGraph) -> (barrier: [Int32], members: [[Int32]]) {
    var barrier = [Int32](repeating: -1, count: graph.eventCount)
    var members: [[Int32]] = []
    for inst in graph.instances where inst.members.count >= 2 {
      for m in inst.members { barrier[m.index] = Int32(members.count) }
      members.append(inst.members.map { Int32($0.rawValue) })
    }
    for p in graph.p2p where p.isSend {
      if let m = p.match, barrier[p.event.index] < 0, barrier[m.index] < 0 {
        barrier[p.event.index] = Int32(members.count)
        barrier[m.index] = Int32(members.count)
        members.append([Int32(p.event.rawValue), Int32(m.rawValue)])
      }
    }
    return (barrier, members)
  }

  /// The slowest profiler step common to all ranks with steps (job-wide span), else the span of
  /// every node.
  func window(step: Int? = nil) -> (step: Int?, lo: Nanoseconds, hi: Nanoseconds) {
    let times = timeline
    var perStep: [Int: (ranks: Set<Int32>, lo: Nanoseconds, hi: Nanoseconds)] = [:]
    for s in graph.steps where s.event != .none {
      var v = perStep[s.number] ?? ([], .max, .min)
      v.ranks.insert(s.rank.rawValue)
      v.lo = min(v.lo, times.start[s.event.index])
      v.hi = max(v.hi, times.end[s.event.index])
      perStep[s.number] = v
    }
    if let step {
      guard let v = perStep[step] else { return (step, .zero, .zero) }
      return (step, v.lo, v.hi)
    }
    let stepRanks = Set(graph.steps.map(\.rank.rawValue))
    let common = perStep.filter { $0.value.ranks == stepRanks }
    if let best = common.max(by: { ($0.value.hi - $0.value.lo, -$0.key) < ($1.value.hi - $1.value.lo, -$1.key) }) {
      return (best.key, best.value.lo, best.value.hi)
    }
    var lo = Nanoseconds.max
    var hi = Nanoseconds.min
    for e in 0..<graph.eventCount where isNode[e] {
      lo = min(lo, times.start[e])
      hi = max(hi, times.end[e])
    }
    return (nil, lo == .max ? .zero : lo, hi == .min ? .zero : hi)
  }

  /// The latest node on `e`'s lane that ends by `t` and comes strictly before `e` in the lane's
  /// (end, start, id) order, so zero-length calls cannot loop.
  func lanePrev(_ e: Int, by t: Nanoseconds) -> Int? {
    let times = timeline
    let list = byLane[graph.lane[e].index]
    var i = list.countAtOrBefore(t) { times.end[Int($0)] } - 1
    while i >= 0 {
      let c = Int(list[i])
      if (times.end[c], times.start[c], c) < (times.end[e], times.start[e], e) && times.start[c] <= times.start[e] {
        return c
      }
      i -= 1
    }
    return nil
  }

  func category(_ e: Int) -> CriticalPath.Category {
    switch graph.kind[e] {
    case .collective, .send, .recv: .communication
    case .kernel, .memcpy, .memset, .other: isDevice(e) ? .compute : .host
    default: .host
    }
  }

  func isDevice(_ e: Int) -> Bool { graph.lanes[graph.lane[e].index].kind == .deviceStream }
}

/// The backward walk from the last work in the window, collecting segments newest first.
private struct PathWalk {
  let nodes: PathNodes
  let wlo: Nanoseconds
  let whi: Nanoseconds
  var segments: [CriticalPath.Segment] = []
  /// Where the walk stopped, and the end of the work it started from.
  var start: Nanoseconds
  var end: Nanoseconds

  init(nodes: PathNodes, from wlo: Nanoseconds, to whi: Nanoseconds) {
    self.nodes = nodes
    self.wlo = wlo
    self.whi = whi
    start = whi
    end = whi
  }

  mutating func add(_ e: Int?, lane: Int, rank: Int32, _ s: Nanoseconds, _ t: Nanoseconds, _ c: CriticalPath.Category) {
    let s = max(s, wlo)
    guard t > s else { return }
    segments.append(CriticalPath.Segment(rank: Int(rank), lane: lane, event: e, start: s, end: t, category: c))
  }

  /// The node that ends last in the window (device work wins a tie), and that end.
  func last() -> (event: Int, end: Nanoseconds)? {
    let times = nodes.timeline
    var cur = -1
    var bestEnd = Nanoseconds.min
    for e in 0..<nodes.graph.eventCount where nodes.isNode[e] && times.start[e] < whi && times.end[e] > wlo {
      let end = min(times.end[e], whi)
      if end > bestEnd || (end == bestEnd && nodes.isDevice(e) && (cur < 0 || !nodes.isDevice(cur))) {
        bestEnd = end
        cur = e
      }
    }
    return cur >= 0 ? (cur, bestEnd) : nil
  }

  mutating func run() {
    guard let (first, firstEnd) = last() else { return }
    var cur = first
    var t = firstEnd
    end = firstEnd
    var visited = Set<Int>()
    while cur >= 0 && t > wlo && visited.insert(cur).inserted {
      let (from, newT) = step(cur, at: t, visited: &visited)
      if let jump = from.jumpTo {
        (cur, t) = (jump, newT)
        continue
      }
      t = newT
      if t <= wlo { break }
      guard let next = predecessor(of: from.event, at: t) else { break }
      let g = nodes.graph
      add(
        nil, lane: g.lane[from.event].index, rank: g.rank(of: from.event).rawValue, next.ready, t,
        nodes.isDevice(from.event) ? .bubble : .host)
      t = next.ready
      cur = next.e
    }
    start = max(t, wlo)
  }

  /// Adds event `e`'s segment ending at `t`. Returns whose predecessors to look at next and the
  /// new time; `jumpTo` when a synchronize hands the path to the work it waited for.
  mutating func step(_ e: Int, at t: Nanoseconds, visited: inout Set<Int>) -> ((event: Int, jumpTo: Int?), Nanoseconds)
  {
    let (g, times) = (nodes.graph, nodes.timeline)
    let laneE = g.lane[e].index
    let rankE = g.rank(of: e).rawValue
    let sync = Int(nodes.syncSource[e])
    if g.kind[e] == .sync, sync >= 0, times.end[sync] > times.start[e], times.end[sync] <= t {
      add(e, lane: laneE, rank: rankE, times.end[sync], t, .host)
      return ((e, sync), times.end[sync])
    }
    if nodes.barrier[e] >= 0,
      let last = nodes.members[Int(nodes.barrier[e])].map(Int.init).max(by: {
        (times.start[$0], -$0) < (times.start[$1], -$1)
      }
      ),
      last != e && times.start[last] > times.start[e] && times.start[last] < t
    {
      add(last, lane: g.lane[last].index, rank: g.rank(of: last).rawValue, times.start[last], t, .communication)
      visited.insert(last)
      return ((last, nil), times.start[last])
    }
    add(e, lane: laneE, rank: rankE, times.start[e], t, nodes.category(e))
    return ((e, nil), times.start[e])
  }

  /// The candidate that became ready last before `t`: the previous node on the lane; for device
  /// work also its launch and work on another stream that ended just before.
  func predecessor(of from: Int, at t: Nanoseconds) -> (e: Int, ready: Nanoseconds)? {
    let (g, times, ix) = (nodes.graph, nodes.timeline, nodes.index)
    var best: (e: Int, ready: Nanoseconds)? = nil
    func offer(_ c: Int, _ ready: Nanoseconds) {
      let r = min(ready, t)
      if best.map({ r > $0.ready }) ?? true { best = (c, r) }
    }
    if let p = nodes.lanePrev(from, by: t) { offer(p, times.end[p]) }
    if nodes.isDevice(from) {
      let h = Int(ix.launcher[from])
      if h >= 0 && nodes.isNode[h] { offer(h, times.end[h]) }
      if let w = ix.latestDeviceEnd(
        rank: g.rank(of: from).rawValue, notOnLane: g.lane[from].index, from: t - BubbleAnalysis.crossStreamWindow,
        to: t + BubbleAnalysis.roundingTolerance)
      {
        offer(w, times.end[w])
      }
    }
    guard let next = best, next.ready > wlo || times.end[next.e] > wlo else { return nil }
    return next
  }
}
