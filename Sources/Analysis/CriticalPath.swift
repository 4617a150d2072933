import TraceModel

/// The chain of work and waits that set the job step, across ranks.
///
/// HTA's critical-path analysis (`hta/analyzers/critical_path_analysis.py`) follows one rank's
/// CPU ops and kernels. Here the graph's cross-rank edges take part too: a collective or a
/// matched send/recv ends when its *last* member arrives plus the transfer, so the path jumps to
/// the rank that arrived last; a synchronize call ends when the awaited device work ends, so it
/// jumps to that work.
///
/// **What it spans.** The path explains one job step (docs/Glossary.md): the slowest step
/// present on every rank with steps, or the whole trace when the ranks have no common step. It
/// runs from the job step's start (the first rank's entry into the step) to its end (the last
/// end of the step's work on any rank, `StepSpans`), so `length` equals the job step and the
/// segments tile `[pathStart, pathEnd)` exactly.
///
/// **The walk** goes backwards from the step's work that ends last. At each event the
/// predecessor is the candidate that became ready last (the binding constraint):
/// - the previous work on the same lane (host leaf ops, or device work on a stream);
/// - for device work, the host call that launched it (by correlation id);
/// - for device work, work on another stream of the rank that ended at most 10 µs before it
///   started (an inferred cross-stream event wait, as in `ReplayPlan`);
/// - for a synchronize call, the device work it waited for; for a collective or send/recv
///   member, the member that arrived last.
///
/// Event time counts by kind: kernels, memcpy and memset are `compute`; collectives, sends and
/// receives `communication`; host calls `host`. Only leaf host calls are path events (an op's own
/// time shows as waits between its children); annotations and allocator events never are.
///
/// **Waits are attributed** (`Segment.heldBy`): time between a predecessor's end and an event's
/// start is a wait, `host` on a host thread and `bubble` on a device stream. A host wait is held by
/// the innermost host op or annotation on that thread that covers it (a data-loader range, an
/// op's own time, `ProfilerStep#N` for Python between ops), split where that changes; a device
/// wait by the launch call it waited for, or the other stream's work. When the walk reaches the
/// first work of a rank that entered the step after the job step began, the time before its
/// entry is `lateStart`, held by that rank's step annotation (its trace shows nothing earlier).
public struct CriticalPath: Sendable, Equatable {
  public enum Category: String, CaseIterable, Sendable, Codable {
    case compute, communication, host, bubble
    /// Before the path's first rank entered the step (or, without steps, began its trace).
    case lateStart
  }

  public struct Segment: Sendable, Equatable {
    public var rank: Int
    public var lane: Int
    /// The event, or nil for a wait.
    public var event: Int?
    /// For a wait: the event that held it (see the type's discussion); nil when nothing can be
    /// named (no enclosing op on the thread, or a rank without steps that started late).
    public var heldBy: Int?
    public var start: Nanoseconds
    public var end: Nanoseconds
    public var category: Category
    public var duration: Nanoseconds { end - start }
    public var isWait: Bool { event == nil }
  }

  /// The profiler step the path explains, or nil for the whole trace.
  public var step: Int?
  /// The job window of that step (annotation span over the ranks).
  public var windowStart: Nanoseconds
  public var windowEnd: Nanoseconds
  /// Where the path begins and ends: the job step's start and end.
  public var pathStart: Nanoseconds
  public var pathEnd: Nanoseconds
  /// Chronological; they tile `[pathStart, pathEnd)`.
  public var segments: [Segment]
  public var byCategory: [Category: Nanoseconds]
  /// Times the path moves from one rank to another.
  public var rankChanges: Int
  /// The job step's length.
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
    let job = nodes.jobStep(step: explained)
    var walk = PathWalk(nodes: nodes, step: job.step, from: job.start, to: job.end)
    walk.run()
    step = job.step
    windowStart = job.windowStart
    windowEnd = job.windowEnd
    pathStart = job.start
    pathEnd = max(job.end, job.start)
    segments = walk.segments.reversed()
    var by: [Category: Nanoseconds] = [:]
    var changes = 0
    for (i, s) in segments.enumerated() {
      by[s.category, default: .zero] += s.duration
      if i > 0 && segments[i - 1].rank != s.rank { changes += 1 }
    }
    byCategory = by
    rankChanges = changes
  }

  /// Wait time per holder (nil: not attributable), largest first, ties by holder id.
  public var waitsByHolder: [(holder: Int?, time: Nanoseconds, segments: Int)] {
    var by: [Int: (Nanoseconds, Int)] = [:]
    for s in segments where s.isWait {
      let v = by[s.heldBy ?? -1] ?? (.zero, 0)
      by[s.heldBy ?? -1] = (v.0 + s.duration, v.1 + 1)
    }
    return by.map { (holder: $0.key < 0 ? nil : $0.key, time: $0.value.0, segments: $0.value.1) }
      .sorted { ($0.time, -($0.holder ?? -1)) > ($1.time, -($1.holder ?? -1)) }
  }
}

/// What the walk needs about the graph: which events are path nodes, each lane's nodes by end,
/// the device work each synchronize waited for, the members of each barrier, and the host
/// events that can hold a wait.
struct PathNodes {
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
  /// Host events that are not path nodes (annotations, ops with children), per lane by start:
  /// the candidates that hold a host wait.
  let holdersByLane: [[Int32]]

  init(_ ix: AnalysisIndex) {
    index = ix
    let (graph, times) = (ix.graph, ix.timeline)
    let n = graph.eventCount
    var hasChild = [Bool](repeating: false, count: n)
    for e in 0..<n where graph.parent[e] != .none { hasChild[graph.parent[e].index] = true }
    let isDeviceLane = graph.lanes.map { $0.kind == .deviceStream }
    isNode = (0..<n).map { e in
      switch graph.kind[e] {
      case .annotation, .memory: return false
      default: return isDeviceLane[graph.lane[e].index] ? AnalysisIndex.isDeviceWork(graph, e) : !hasChild[e]
      }
    }
    var byLane = [[Int32]](repeating: [], count: graph.lanes.count)
    var holders = [[Int32]](repeating: [], count: graph.lanes.count)
    for e in 0..<n {
      let l = graph.lane[e].index
      if isNode[e] {
        byLane[l].append(Int32(e))
      } else if !isDeviceLane[l] && graph.kind[e] != .memory {
        holders[l].append(Int32(e))
      }
    }
    for l in byLane.indices {
      byLane[l].sort { (times.end[Int($0)], times.start[Int($0)], $0) < (times.end[Int($1)], times.start[Int($1)], $1) }
      holders[l].sort { (times.start[Int($0)], $0) < (times.start[Int($1)], $1) }
    }
    self.byLane = byLane
    holdersByLane = holders
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

  /// The job step to explain: `step` when given (an empty path when the trace does not have it),
  /// else the slowest job step present on every rank with steps, else the whole trace (all work
  /// of every rank).
  func jobStep(step explained: Int? = nil) -> StepSpans.JobStep {
    let spans = StepSpans(graph, membership: index.membership, timeline: timeline)
    if let explained {
      if let job = spans.jobs.first(where: { $0.step == explained }) { return job }
      return StepSpans.JobStep(
        step: explained, start: .zero, end: .zero, windowStart: .zero, windowEnd: .zero, slowestRank: RankID(0),
        slowestRankStep: .zero, firstRank: RankID(0), lastRank: RankID(0), ranks: 0)
    }
    let stepRanks = Set(graph.steps.filter { $0.event != .none }.map(\.rank.rawValue)).count
    let common = spans.jobs.filter { $0.step != nil && $0.ranks == stepRanks }
    if let best = common.max(by: { ($0.duration, -($0.step ?? 0)) < ($1.duration, -($1.step ?? 0)) }) {
      return best
    }
    var lo = Nanoseconds.max
    var hi = Nanoseconds.min
    var (first, last) = (RankID(0), RankID(0))
    for e in 0..<graph.eventCount where index.membership.step[e] != StepMembership.none {
      if timeline.start[e] < lo { (lo, first) = (timeline.start[e], graph.rank(of: e)) }
      if timeline.end[e] > hi { (hi, last) = (timeline.end[e], graph.rank(of: e)) }
    }
    if lo > hi { (lo, hi) = (.zero, .zero) }
    return StepSpans.JobStep(
      step: nil, start: lo, end: hi, windowStart: lo, windowEnd: hi, slowestRank: first, slowestRankStep: .zero,
      firstRank: first, lastRank: last, ranks: graph.ranks.count)
  }

  /// Whether `e` is work of the step the path explains (any step work for the whole trace).
  func isWork(_ e: Int, of step: Int?) -> Bool {
    step == nil ? index.membership.step[e] != StepMembership.none : index.membership.isWork(e, ofStep: step, in: graph)
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
