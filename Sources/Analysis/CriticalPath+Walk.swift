import TraceModel

/// The backward walk from the step's last work to the job step's start, collecting segments
/// newest first (`CriticalPath` describes the rules).
struct PathWalk {
  let nodes: PathNodes
  let step: Int?
  let wlo: Nanoseconds
  let whi: Nanoseconds
  var segments: [CriticalPath.Segment] = []

  init(nodes: PathNodes, step: Int?, from wlo: Nanoseconds, to whi: Nanoseconds) {
    self.nodes = nodes
    self.step = step
    self.wlo = wlo
    self.whi = whi
  }

  mutating func add(
    _ e: Int?, lane: Int, _ s: Nanoseconds, _ t: Nanoseconds, _ c: CriticalPath.Category, heldBy: Int? = nil
  ) {
    let s = max(s, wlo)
    guard t > s else { return }
    let rank = Int(nodes.graph.lanes[lane].rank.rawValue)
    segments.append(
      CriticalPath.Segment(rank: rank, lane: lane, event: e, heldBy: heldBy, start: s, end: t, category: c))
  }

  /// The step's path node that ends last (device work wins a tie), and the step's work of any
  /// kind that ends last (it sets the job step's end).
  func last() -> (node: Int, work: Int)? {
    let times = nodes.timeline
    var node = -1
    var work = -1
    for e in 0..<nodes.graph.eventCount where nodes.isWork(e, of: step) {
      if work < 0 || times.end[e] > times.end[work] { work = e }
      guard nodes.isNode[e] else { continue }
      let end = times.end[e]
      if node < 0 || end > times.end[node] || (end == times.end[node] && nodes.isDevice(e) && !nodes.isDevice(node)) {
        node = e
      }
    }
    return node >= 0 ? (node, work) : nil
  }

  mutating func run() {
    guard whi > wlo, let (first, work) = last() else { return }
    let times = nodes.timeline
    var cur = first
    var t = min(times.end[first], whi)
    // The step's last work is not a path node (an op with children, a synchronize's parent):
    // its own time after its last child ended.
    add(nil, lane: nodes.graph.lane[work].index, t, whi, nodes.isDevice(work) ? .bubble : .host, heldBy: work)
    var visited = Set<Int>()
    while cur >= 0 && t > wlo && visited.insert(cur).inserted {
      let (from, newT) = step(cur, at: t, visited: &visited)
      if let jump = from.jumpTo {
        (cur, t) = (jump, newT)
        continue
      }
      (cur, t) = (from.event, newT)
      if t <= wlo { break }
      guard let next = predecessor(of: from.event, at: t) else { break }
      addWait(before: from.event, after: next.e, from: next.ready, to: t)
      (cur, t) = (next.e, next.ready)
    }
    if t > wlo && cur >= 0 { head(cur, at: t) }
  }

  /// Adds event `e`'s segment ending at `t`. Returns whose predecessors to look at next and the
  /// new time; `jumpTo` when a synchronize hands the path to the work it waited for.
  mutating func step(_ e: Int, at t: Nanoseconds, visited: inout Set<Int>) -> ((event: Int, jumpTo: Int?), Nanoseconds)
  {
    let (g, times) = (nodes.graph, nodes.timeline)
    let laneE = g.lane[e].index
    let sync = Int(nodes.syncSource[e])
    if g.kind[e] == .sync, sync >= 0, times.end[sync] > times.start[e], times.end[sync] <= t {
      add(e, lane: laneE, times.end[sync], t, .host)
      return ((e, sync), times.end[sync])
    }
    if nodes.barrier[e] >= 0,
      let last = nodes.members[Int(nodes.barrier[e])].map(Int.init).max(by: {
        (times.start[$0], -$0) < (times.start[$1], -$1)
      }),
      last != e && times.start[last] > times.start[e] && times.start[last] < t
    {
      add(last, lane: g.lane[last].index, times.start[last], t, .communication)
      visited.insert(last)
      return ((last, nil), times.start[last])
    }
    add(e, lane: laneE, times.start[e], t, nodes.category(e))
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

  /// The wait `[ready, t)` between predecessor `prev` and event `e`. On a device stream it is
  /// held by what `e` waited for: its launch call when that was the binding constraint, the
  /// other stream's work, or (after the previous kernel on its own stream) its launch call
  /// still; on a host thread by the host ops and annotations that cover it.
  mutating func addWait(before e: Int, after prev: Int, from ready: Nanoseconds, to t: Nanoseconds) {
    let g = nodes.graph
    let lane = g.lane[e].index
    guard nodes.isDevice(e) else {
      addHostWait(lane: lane, from: ready, to: t, prev: prev, next: e)
      return
    }
    let launch = Int(nodes.index.launcher[e])
    let holder = g.lane[prev].index != lane ? prev : (launch >= 0 ? launch : e)
    add(nil, lane: lane, ready, t, .bubble, heldBy: holder)
  }

  /// The walk stopped at `e`, which starts at `t` after the job step began: nothing earlier in
  /// the step binds it. The rank's time in the step before `e` is a wait; the time before the
  /// rank entered the step is `lateStart`, held by its step annotation.
  mutating func head(_ e: Int, at t: Nanoseconds) {
    let (g, times) = (nodes.graph, nodes.timeline)
    let rank = g.rank(of: e)
    let lane = g.lane[e].index
    let ann = g.steps.first { $0.rank == rank && $0.number == step && $0.event != .none }.map(\.event.index)
    let entry = ann.map { times.start[$0] } ?? firstWork(of: rank)
    if entry < t {
      if nodes.isDevice(e) {
        let launch = Int(nodes.index.launcher[e])
        add(nil, lane: lane, entry, t, .bubble, heldBy: launch >= 0 ? launch : ann)
      } else {
        addHostWait(lane: lane, from: entry, to: t, prev: nil, next: e)
      }
    }
    if wlo < entry {
      add(nil, lane: ann.map { g.lane[$0].index } ?? lane, wlo, min(entry, t), .lateStart, heldBy: ann)
    }
  }

  /// The start of `rank`'s first work of the step (a rank without steps: of its trace).
  func firstWork(of rank: RankID) -> Nanoseconds {
    var lo = Nanoseconds.max
    for e in 0..<nodes.graph.eventCount where nodes.graph.rank(of: e) == rank && nodes.isWork(e, of: step) {
      lo = min(lo, nodes.timeline.start[e])
    }
    return lo
  }
}
