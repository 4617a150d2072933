import Analysis
import Foundation
import TraceModel

/// The rows of a trace timeline: which lanes, their boxes (merged work and idle, with tooltips)
/// and the critical-path strips.
struct Context {
  let g: EventGraph
  let t: Timeline
  let lo: Int64
  let hi: Int64
  /// The time that reads 0 on the axis.
  let origin: Int64
  let width: Double
  /// No device work anywhere: host threads are the lanes.
  let hostMode: Bool
  let isLeaf: [Bool]
  /// Events of each lane, in event order.
  let byLane: [[Int]]

  init(g: EventGraph, t: Timeline, lo: Int64, hi: Int64, origin: Int64, width: Double, hostMode: Bool) {
    self.g = g
    self.t = t
    self.lo = lo
    self.hi = hi
    self.origin = origin
    self.width = width
    self.hostMode = hostMode
    var hasChild = [Bool](repeating: false, count: g.eventCount)
    if hostMode { for e in 0..<g.eventCount where g.parent[e] != .none { hasChild[g.parent[e].index] = true } }
    isLeaf = hasChild.map { !$0 }
    var byLane = [[Int]](repeating: [], count: g.lanes.count)
    for e in 0..<g.eventCount { byLane[g.lane[e].index].append(e) }
    self.byLane = byLane
  }

  var scale: Double { width / Double(max(hi - lo, 1)) }

  /// Whether `e` is drawn as work: device work on a stream, or (host mode) a leaf host call.
  func isWork(_ e: Int) -> Bool {
    let laneKind = g.lanes[g.lane[e].index].kind
    if !hostMode { return laneKind == .deviceStream && TemporalBreakdown.deviceClass(g.kind[e]) != nil }
    switch g.kind[e] {
    case .annotation, .memory: return false
    default: return laneKind == .hostThread && isLeaf[e]
    }
  }

  /// Host calls that communicate (`c10d::recv_`, `gloo:send`), by event; empty: by kind only.
  var hostCommunication: [Bool] = []

  func isCommunication(_ e: Int) -> Bool {
    [.collective, .send, .recv].contains(g.kind[e]) || (e < hostCommunication.count && hostCommunication[e])
  }

  /// The lanes with work in the window that the selection keeps, by rank then lane.
  func lanes(_ s: TimelineSelection) -> [Int] {
    var busy: [Int: (comm: Int64, all: Int64)] = [:]
    for e in 0..<g.eventCount where isWork(e) && t.end[e].rawValue > lo && t.start[e].rawValue < hi {
      let d = min(t.end[e].rawValue, hi) - max(t.start[e].rawValue, lo)
      let l = g.lane[e].index
      busy[l, default: (0, 0)].all += max(d, 0)
      if isCommunication(e) { busy[l, default: (0, 0)].comm += max(d, 0) }
      if d <= 0 && busy[l] == nil { busy[l] = (0, 0) }
    }
    let kept = busy.filter { l, b in
      let lane = g.lanes[l]
      if let ranks = s.ranks, !ranks.contains(Int(lane.rank.rawValue)) { return false }
      switch s.streams {
      case .all: return true
      case .compute: return 2 * b.comm < b.all || b.all == 0
      case .communication: return 2 * b.comm >= b.all && b.all > 0
      case .ids(let ids): return ids.contains(lane.tid)
      }
    }
    return kept.keys.sorted { (g.lanes[$0].rank.rawValue, $0) < (g.lanes[$1].rank.rawValue, $1) }
  }

  /// One interval to draw before merging.
  struct Item {
    var s: Int64
    var e: Int64
    var fill: String
    var style: TimelineDiagram.Style
    var label: String
    /// The event (work), or nil (idle).
    var event: Int?
    var cause: String
  }

  /// The lane's work and idle boxes in the window, merged and labelled.
  func boxes(lane l: Int, bubbles: BubbleAnalysis) -> [TimelineDiagram.Box] {
    var items: [Item] = []
    for (s, e, cause) in idle(lane: l, bubbles: bubbles) {
      let fill = cause.map(TracePalette.bubble) ?? TraceTimelineRenderer.hostIdleColor
      items.append(
        Item(
          s: s, e: e, fill: fill, style: .idle, label: cause?.rawValue ?? "idle", event: nil,
          cause: cause.map(Self.explain) ?? "no traced op on this thread"))
    }
    for e in byLane[l] where isWork(e) && t.end[e].rawValue > lo && t.start[e].rawValue < hi {
      let fill =
        hostMode
        ? (isCommunication(e) ? TracePalette.commColor : TraceTimelineRenderer.cpuOpColor) : TracePalette.fill(g, e)
      items.append(
        Item(
          s: max(t.start[e].rawValue, lo), e: min(t.end[e].rawValue, hi), fill: fill, style: .work,
          label: TracePalette.short(g.strings[g.name[e]]), event: e, cause: ""))
    }
    items.sort { ($0.s, $0.e, $0.fill, $0.event ?? -1) < ($1.s, $1.e, $1.fill, $1.event ?? -1) }
    let mergeGap = Int64(0.5 / scale)
    var groups: [[Item]] = []
    var groupEnd = Int64.min
    for item in items {
      if let first = groups.last?.first, first.fill == item.fill, first.style == item.style,
        item.s - groupEnd <= mergeGap
      {
        groups[groups.count - 1].append(item)
        groupEnd = max(groupEnd, item.e)
      } else {
        groups.append([item])
        groupEnd = item.e
      }
    }
    let laneName = "rank \(g.lanes[l].rank.rawValue) \(g.strings[g.lanes[l].name])"
    return groups.map { box($0, lane: laneName) }
  }

  /// Idle intervals of the lane in the window: the bubble analysis's on device streams; on host
  /// threads the time inside the rank's steps (else the window) that no traced op covers.
  func idle(lane l: Int, bubbles: BubbleAnalysis) -> [(Int64, Int64, BubbleAnalysis.Cause?)] {
    if !hostMode {
      return bubbles.laneBubbles.filter {
        $0.lane == l && $0.start.rawValue < hi && ($0.start + $0.duration).rawValue > lo
      }
      .map { (max($0.start.rawValue, lo), min(($0.start + $0.duration).rawValue, hi), $0.cause) }
    }
    let rank = g.lanes[l].rank
    var frame = g.steps.filter { $0.rank == rank && $0.event != .none }.map {
      (t.start[$0.event.index], t.end[$0.event.index])
    }
    if frame.isEmpty { frame = [(Nanoseconds(rawValue: lo), Nanoseconds(rawValue: hi))] }
    var busy: [(start: Nanoseconds, end: Nanoseconds)] = []
    for e in byLane[l] where g.kind[e] != .annotation && g.kind[e] != .memory {
      busy.append((t.start[e], t.end[e]))
    }
    let window = IntervalSet(frame).clipped(to: Nanoseconds(rawValue: lo), Nanoseconds(rawValue: hi))
    let covered = IntervalSet(busy).intersection(window).intervals
    var out: [(Int64, Int64, BubbleAnalysis.Cause?)] = []
    var k = 0
    for w in window.intervals {
      var cursor = w.start
      while k < covered.count && covered[k].end <= w.start { k += 1 }
      var j = k
      while j < covered.count && covered[j].start < w.end {
        if covered[j].start > cursor { out.append((cursor.rawValue, covered[j].start.rawValue, nil)) }
        cursor = max(cursor, covered[j].end)
        j += 1
      }
      if cursor < w.end { out.append((cursor.rawValue, w.end.rawValue, nil)) }
    }
    return out
  }

  static func explain(_ c: BubbleAnalysis.Cause) -> String {
    switch c {
    case .hostLaunch: "hostLaunch: the host launched the next work late"
    case .collective: "collective: waiting in or for a collective"
    case .recv: "recv: waiting for a receive (pipeline bubble)"
    case .sync: "sync: the host was blocked in a synchronize call"
    case .crossStream: "crossStream: waiting for work on another stream"
    case .other: "other: no traced dependency explains it"
    }
  }

  /// `name` cut to `n` characters, with "…" when cut.
  func clip(_ name: String, _ n: Int) -> String { name.count > n ? String(name.prefix(n - 1)) + "…" : name }

  func ms(_ ns: Int64) -> String { String(format: "%.3f ms", Double(ns) / 1e6) }
  func at(_ ns: Int64) -> String { String(format: "%.3f", Double(ns - origin) / 1e6) }

  /// The class of work `e` is, for tooltips.
  func className(_ e: Int) -> String {
    switch g.kind[e] {
    case .hostOp: hostMode ? "cpu op" : "host op"
    case .kernel, .other: ComputeClass(rawValue: g.detail[e])?.name ?? "other"
    case .collective: "communication (" + (CollectiveKind(rawValue: g.detail[e])?.name ?? "unknown") + ")"
    case .send, .recv: "communication (\(g.kind[e].name))"
    case .memcpy: "memcpy " + (MemcpyDirection(rawValue: g.detail[e])?.name ?? "unknown")
    default: g.kind[e].name
    }
  }

  /// One merged box: label `N×` when merged, the tooltip naming what it holds.
  func box(_ items: [Item], lane: String) -> TimelineDiagram.Box {
    let s = items.map(\.s).min() ?? lo
    let e = items.map(\.e).max() ?? s
    let w = Double(e - s) * scale
    // About 6 pt per character at font size 9 inside 8 pt margins: cut the label to fit, or drop it.
    let fits = Int((w - 16) / 6)
    let labels = Set(items.map(\.label))
    var label =
      items.count == 1 ? items[0].label : labels.count == 1 ? "\(items[0].label) ×\(items.count)" : "\(items.count)×"
    if label.count > fits { label = fits >= 6 ? String(label.prefix(fits - 1)) + "…" : "" }
    let tip: String
    if items[0].style == .idle {
      tip = "\(lane): idle \(ms(e - s)) at \(at(s)) ms; \(items[0].cause)"
    } else if items.count == 1, let ev = items[0].event {
      tip = "\(lane): \(clip(g.strings[g.name[ev]], 100)) — \(className(ev)), \(ms(e - s)) at \(at(s)) ms"
    } else {
      let events = items.compactMap(\.event)
      var byClass: [String: Int] = [:]
      for ev in events { byClass[className(ev), default: 0] += 1 }
      let busy = items.map { $0.e - $0.s }.reduce(0, +)
      let longest = events.max { (t.end[$0] - t.start[$0], $1) < (t.end[$1] - t.start[$1], $0) }
      let classes = byClass.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map { "\($0.key) \($0.value)" }
      tip =
        "\(lane): \(events.count) ops merged, \(ms(busy)) of work in \(ms(e - s)) at \(at(s)) ms — "
        + classes.joined(separator: ", ")
        + (longest.map { "; longest: \(clip(g.strings[g.name[$0]], 80)) \(ms((t.end[$0] - t.start[$0]).rawValue))" }
          ?? "")
    }
    return TimelineDiagram.Box(start: s, end: e, label: label, fill: items[0].fill, style: items[0].style, tooltip: tip)
  }

  /// Critical-path strips per rank, rows numbered within the rank; consecutive segments on one
  /// row closer than half a point merge.
  func strips(_ cp: CriticalPath, perRank: [(rank: Int, rows: [RankRow])]) -> [Int: [TimelineDiagram.Overlay]] {
    var rowOf: [Int: Int] = [:]
    var ranks = Set<Int>()
    for (rank, rows) in perRank {
      ranks.insert(rank)
      for (i, r) in rows.enumerated() { rowOf[r.lane] = i }
    }
    var out: [Int: [TimelineDiagram.Overlay]] = [:]
    var last: (rank: Int, row: Int, color: String, n: Int, byCat: [CriticalPath.Category: Int64])? = nil
    let mergeGap = Int64(0.5 / scale)
    for seg in cp.segments where ranks.contains(seg.rank) && seg.end.rawValue > lo && seg.start.rawValue < hi {
      let (s, e) = (max(seg.start.rawValue, lo), min(seg.end.rawValue, hi))
      let row = rowOf[seg.lane] ?? 0
      let color = rowOf[seg.lane] != nil ? TraceTimelineRenderer.pathColor : TraceTimelineRenderer.pathElsewhereColor
      if let l = last, l.rank == seg.rank, l.row == row, l.color == color, var prev = out[seg.rank]?.last,
        s - prev.end <= mergeGap
      {
        var byCat = l.byCat
        byCat[seg.category, default: 0] += e - s
        prev.end = max(prev.end, e)
        prev.tooltip = pathTip(rank: seg.rank, s: prev.start, e: prev.end, n: l.n + 1, byCat: byCat, seg: nil)
        out[seg.rank, default: []][(out[seg.rank]?.count ?? 1) - 1] = prev
        last = (seg.rank, row, color, l.n + 1, byCat)
      } else {
        let byCat = [seg.category: e - s]
        let tip = pathTip(rank: seg.rank, s: s, e: e, n: 1, byCat: byCat, seg: seg)
        out[seg.rank, default: []].append(
          TimelineDiagram.Overlay(row: row, start: s, end: e, color: color, tooltip: tip))
        last = (seg.rank, row, color, 1, byCat)
      }
    }
    return out
  }

  func pathTip(rank: Int, s: Int64, e: Int64, n: Int, byCat: [CriticalPath.Category: Int64], seg: CriticalPath.Segment?)
    -> String
  {
    let cats = CriticalPath.Category.allCases.compactMap { c in byCat[c].map { "\(c.rawValue) \(ms($0))" } }
    var what = cats.joined(separator: ", ")
    if let seg, let ev = seg.event { what += ": " + clip(g.strings[g.name[ev]], 80) }
    let lane = seg.map { " \(g.strings[g.lanes[$0.lane].name])" } ?? ""
    return "critical path, rank \(rank)\(lane): \(ms(e - s)) at \(at(s)) ms\(n > 1 ? ", \(n) segments" : "") — \(what)"
  }
}
