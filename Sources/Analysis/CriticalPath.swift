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
/// The segments tile `[pathStartNs, pathEndNs)` exactly. The path begins where nothing earlier
/// binds its first event, usually the start of that rank's traced step; when ranks began their
/// step at different times (or their traces started at different times) `pathStartNs` is later
/// than `windowStartNs`, and the difference is not attributed.
public struct CriticalPath: Sendable, Equatable {
  public enum Category: String, CaseIterable, Sendable, Codable {
    case compute, communication, host, bubble
  }

  public struct Segment: Sendable, Equatable {
    public var rank: Int
    public var lane: Int
    /// The event, or nil for a wait.
    public var event: Int?
    public var startNs: Int64
    public var endNs: Int64
    public var category: Category
    public var durationNs: Int64 { endNs - startNs }
  }

  /// The profiler step the path explains, or nil for the whole trace.
  public var step: Int?
  public var windowStartNs: Int64
  public var windowEndNs: Int64
  /// Where the path begins: `windowStartNs`, or later when nothing before it binds.
  public var pathStartNs: Int64
  /// Where the path ends: the end of the last work in the window (≤ `windowEndNs`; a step's
  /// annotation usually outlasts its last kernel).
  public var pathEndNs: Int64
  /// Chronological.
  public var segments: [Segment]
  public var byCategoryNs: [Category: Int64]
  /// Times the path moves from one rank to another.
  public var rankChanges: Int
  public var lengthNs: Int64 { pathEndNs - pathStartNs }

  public static let crossStreamWindowNs: Int64 = BubbleAnalysis.crossStreamWindowNs

  public init(_ graph: EventGraph, timeline: Timeline) {
    self.init(index: AnalysisIndex(graph, timeline: timeline))
  }

  /// The critical path of the index's timeline (the index may be shared with other analyses).
  public init(index ix: AnalysisIndex) {
    let graph = ix.graph
    let timeline = ix.timeline
    let n = graph.eventCount
    let T = timeline

    // Window: slowest step common to all ranks with steps, else everything.
    var perStep: [Int: (ranks: Set<Int32>, lo: Int64, hi: Int64)] = [:]
    for s in graph.steps where s.event != .none {
      var v = perStep[s.number] ?? ([], .max, .min)
      v.ranks.insert(s.rank.rawValue)
      v.lo = min(v.lo, T.start[s.event.index]); v.hi = max(v.hi, T.end[s.event.index])
      perStep[s.number] = v
    }
    let stepRanks = Set(graph.steps.map(\.rank.rawValue))
    var stepN: Int?
    let common = perStep.filter { $0.value.ranks == stepRanks }
    var lo = Int64.max, hi = Int64.min
    if let best = common.max(by: { ($0.value.hi - $0.value.lo, -$0.key) < ($1.value.hi - $1.value.lo, -$1.key) }) {
      stepN = best.key; lo = best.value.lo; hi = best.value.hi
    } else {
      stepN = nil
    }

    // Path nodes: device work and host leaf calls.
    var hasChild = [Bool](repeating: false, count: n)
    for e in 0..<n where graph.parent[e] != .none { hasChild[graph.parent[e].index] = true }
    var isNode = [Bool](repeating: false, count: n)
    for e in 0..<n {
      switch graph.kind[e] {
      case .annotation, .memory: continue
      default: break
      }
      if graph.lanes[graph.lane[e].index].kind == .deviceStream {
        isNode[e] = AnalysisIndex.isDeviceWork(graph, e)
      } else {
        isNode[e] = !hasChild[e]
      }
    }
    if stepN == nil {
      for e in 0..<n where isNode[e] { lo = min(lo, T.start[e]); hi = max(hi, T.end[e]) }
    }
    let wlo = lo == .max ? 0 : lo
    let whi = hi == .min ? 0 : hi
    // Nodes per lane sorted by end, for "latest work on this lane ending by t".
    var byLane = [[Int32]](repeating: [], count: graph.lanes.count)
    for e in 0..<n where isNode[e] { byLane[graph.lane[e].index].append(Int32(e)) }
    for l in byLane.indices { byLane[l].sort { (T.end[Int($0)], T.start[Int($0)], $0) < (T.end[Int($1)], T.start[Int($1)], $1) } }
    // Sync sources and barrier membership.
    var syncSource = [Int32](repeating: -1, count: n)
    for from in 0..<n where graph.edgeOffsets[from] != graph.edgeOffsets[from + 1] {
      for (to, kind) in graph.edges(from: EventID(rawValue: UInt32(from))) where kind == .sync {
        let s = Int(syncSource[to.index])
        if s < 0 || T.end[from] > T.end[s] { syncSource[to.index] = Int32(from) }
      }
    }
    var barrier = [Int32](repeating: -1, count: n)
    var members: [[Int32]] = []
    for inst in graph.instances where inst.members.count >= 2 {
      for m in inst.members { barrier[m.index] = Int32(members.count) }
      members.append(inst.members.map { Int32($0.rawValue) })
    }
    for p in graph.p2p where p.isSend {
      if let m = p.match, barrier[p.event.index] < 0, barrier[m.index] < 0 {
        barrier[p.event.index] = Int32(members.count); barrier[m.index] = Int32(members.count)
        members.append([Int32(p.event.rawValue), Int32(m.rawValue)])
      }
    }

    func lanePrev(_ e: Int, by t: Int64) -> Int? {
      let list = byLane[graph.lane[e].index]
      var a = 0, b = list.count
      while a < b { let m = (a + b) / 2; if T.end[Int(list[m])] <= t { a = m + 1 } else { b = m } }
      var i = a - 1
      while i >= 0 {
        let c = Int(list[i])
        // Strictly earlier in the lane's (end, start, id) order, so zero-length calls cannot loop.
        if (T.end[c], T.start[c], c) < (T.end[e], T.start[e], e) && T.start[c] <= T.start[e] { return c }
        i -= 1
      }
      return nil
    }
    func category(_ e: Int) -> Category {
      switch graph.kind[e] {
      case .collective, .send, .recv: .communication
      case .kernel, .memcpy, .memset, .other: graph.lanes[graph.lane[e].index].kind == .deviceStream ? .compute : .host
      default: .host
      }
    }
    func isDevice(_ e: Int) -> Bool { graph.lanes[graph.lane[e].index].kind == .deviceStream }

    var segs: [Segment] = []
    func add(_ e: Int?, lane: Int, rank: Int32, _ s: Int64, _ t: Int64, _ c: Category) {
      let s = max(s, wlo)
      guard t > s else { return }
      segs.append(Segment(rank: Int(rank), lane: lane, event: e, startNs: s, endNs: t, category: c))
    }

    // The last work to end in the window.
    var cur = -1
    var t = whi
    var bestEnd = Int64.min
    for e in 0..<n where isNode[e] && T.start[e] < whi && T.end[e] > wlo {
      let end = min(T.end[e], whi)
      if end > bestEnd || (end == bestEnd && isDevice(e) && !isDevice(cur)) { bestEnd = end; cur = e }
    }
    var start = whi
    var end = whi
    if cur >= 0 {
      t = bestEnd
      end = bestEnd
      var visited = Set<Int>()
      while cur >= 0 && t > wlo && visited.insert(cur).inserted {
        let e = cur
        let laneE = graph.lane[e].index, rankE = graph.rank(of: e).rawValue
        var from = e  // whose predecessors to look at next
        // Work whose end another event decided: jump there.
        if graph.kind[e] == .sync, syncSource[e] >= 0, T.end[Int(syncSource[e])] > T.start[e], T.end[Int(syncSource[e])] <= t {
          let d = Int(syncSource[e])
          add(e, lane: laneE, rank: rankE, T.end[d], t, .host)
          t = T.end[d]; cur = d
          continue
        }
        if barrier[e] >= 0 {
          let last = members[Int(barrier[e])].map(Int.init).max { (T.start[$0], -$0) < (T.start[$1], -$1) }!
          if last != e && T.start[last] > T.start[e] && T.start[last] < t {
            add(last, lane: graph.lane[last].index, rank: graph.rank(of: last).rawValue, T.start[last], t, .communication)
            t = T.start[last]; from = last
            visited.insert(last)
          } else {
            add(e, lane: laneE, rank: rankE, T.start[e], t, category(e))
            t = T.start[e]
          }
        } else {
          add(e, lane: laneE, rank: rankE, T.start[e], t, category(e))
          t = T.start[e]
        }
        if t <= wlo { break }
        // Candidates: (event, ready time).
        var best: (e: Int, ready: Int64)? = nil
        func offer(_ c: Int, _ ready: Int64) {
          let r = min(ready, t)
          if best == nil || r > best!.ready { best = (c, r) }
        }
        if let p = lanePrev(from, by: t) { offer(p, T.end[p]) }
        if isDevice(from) {
          let h = Int(ix.launcher[from])
          if h >= 0 && isNode[h] { offer(h, T.end[h]) }
          if let w = ix.latestDeviceEnd(rank: graph.rank(of: from).rawValue, notOnLane: graph.lane[from].index,
                                        from: t - BubbleAnalysis.crossStreamWindowNs, to: t + BubbleAnalysis.roundingToleranceNs) { offer(w, T.end[w]) }
        }
        guard let next = best, next.ready > wlo || T.end[next.e] > wlo else { break }
        let laneF = graph.lane[from].index, rankF = graph.rank(of: from).rawValue
        add(nil, lane: laneF, rank: rankF, next.ready, t, isDevice(from) ? .bubble : .host)
        t = next.ready
        cur = next.e
      }
      start = max(t, wlo)
    }
    step = stepN
    windowStartNs = wlo
    windowEndNs = whi
    segments = segs.reversed()
    pathStartNs = segments.first?.startNs ?? start
    pathEndNs = segments.last?.endNs ?? max(end, pathStartNs)
    var by: [Category: Int64] = [:]
    var changes = 0
    for (i, s) in segments.enumerated() {
      by[s.category, default: 0] += s.durationNs
      if i > 0 && segments[i - 1].rank != s.rank { changes += 1 }
    }
    byCategoryNs = by
    rankChanges = changes
  }
}
