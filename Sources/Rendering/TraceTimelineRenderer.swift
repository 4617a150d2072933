import Analysis
import Foundation
import TraceModel

/// Which lanes (rows) a trace timeline draws.
public enum StreamSelection: Sendable, Equatable {
  case all
  /// Lanes whose busy time in the window is mostly computation (kernels, copies; CPU ops).
  case compute
  /// Lanes whose busy time in the window is mostly communication (collectives, send/recv).
  case communication
  /// Lanes by stream or thread id (`Lane.tid`).
  case ids(Set<Int64>)
}

/// What a trace timeline shows beyond its time window.
public struct TimelineSelection: Sendable {
  /// Ranks to draw; nil: all.
  public var ranks: Set<Int>?
  public var streams: StreamSelection
  /// Draw ranks that look the same once (see `TraceTimelineRenderer`).
  public var collapseRanks: Bool
  /// How far apart two box edges may be for ranks to count as identical; nil: one point of the
  /// drawing.
  public var collapseTolerance: Nanoseconds?
  public init(
    ranks: Set<Int>? = nil, streams: StreamSelection = .all, collapseRanks: Bool = false,
    collapseTolerance: Nanoseconds? = nil
  ) {
    self.ranks = ranks
    self.streams = streams
    self.collapseRanks = collapseRanks
    self.collapseTolerance = collapseTolerance
  }
}

/// A per-rank timeline of one step: one row per device stream, boxes placed and sized by time,
/// idle gaps drawn as low, pale bubble boxes coloured by cause, and the critical path as a red
/// strip along the rows it passes through.
///
/// Work closer together than half a point is merged into one box (label `N×`) so that thousands
/// of microsecond kernels stay readable; labels are cut to the width of their box; every box's
/// tooltip names the op (or the merged ops), its class, duration and time.
///
/// A trace without device work (a CPU-only gloo capture) draws its host threads as the lanes:
/// the leaf host calls are the work (the ops that hold no other traced op, as in the critical
/// path), coloured as communication when `hostCommunication` says so (the caller classifies
/// names such as `c10d::recv_`), and time a thread runs no traced op inside its rank's steps is
/// idle.
///
/// Critical-path segments on a lane that is not drawn (host time on a GPU timeline, a stream
/// filtered out) go on the first drawn row of their rank, in a lighter red.
///
/// Collapsing: two ranks are *identical* when they draw the same rows — the same lane names in
/// the same order, and on each the same sequence of colours (work by class, idle by cause):
/// boxes shorter than the tolerance are left out, boxes of one colour closer than the tolerance
/// join into one run, and every run's start and end is within the tolerance (default: one point
/// of the drawing) of the other rank's — and the same critical-path strips. Labels are not
/// compared (they follow from the width). Each group is drawn once, as its lowest rank, with every member named
/// in the row label and the diagram's notes.
public enum TraceTimelineRenderer {
  static let pathColor = "#d62728"
  static let pathElsewhereColor = "#f4a6a6"
  static let cpuOpColor = "#4e79a7"
  static let hostIdleColor = "#eceff1"

  public static func diagram(
    _ g: EventGraph, timeline t: Timeline, bubbles: BubbleAnalysis, criticalPath: CriticalPath? = nil,
    from start: Nanoseconds, to stop: Nanoseconds, origin: Nanoseconds? = nil, title: String,
    selection: TimelineSelection = TimelineSelection(), hostCommunication: [Bool] = [], width: Double = 1200
  ) -> TimelineDiagram {
    var ctx = Context(
      g: g, t: t, lo: start.rawValue, hi: stop.rawValue, origin: (origin ?? start).rawValue, width: width,
      hostMode: !hasDeviceWork(g))
    ctx.hostCommunication = hostCommunication
    let lanes = ctx.lanes(selection)
    var perRank: [(rank: Int, rows: [RankRow])] = []
    for l in lanes {
      let rank = Int(g.lanes[l].rank.rawValue)
      let row = RankRow(lane: l, name: g.strings[g.lanes[l].name], boxes: ctx.boxes(lane: l, bubbles: bubbles))
      if perRank.last?.rank == rank {
        perRank[perRank.count - 1].rows.append(row)
      } else {
        perRank.append((rank, [row]))
      }
    }
    let strips = criticalPath.map { ctx.strips($0, perRank: perRank) } ?? [:]
    let tolerance =
      selection.collapseTolerance?.rawValue ?? Int64((Double(stop.rawValue - start.rawValue) / width).rounded(.up))
    let groups =
      selection.collapseRanks ? collapse(perRank, strips: strips, tolerance: tolerance) : perRank.map { [$0.rank] }
    var rows: [(name: String, boxes: [TimelineDiagram.Box])] = []
    var overlays: [TimelineDiagram.Overlay] = []
    let byRank = Dictionary(uniqueKeysWithValues: perRank.map { ($0.rank, $0.rows) })
    for group in groups {
      guard let rep = group.first, let repRows = byRank[rep] else { continue }
      let first = rows.count
      let who = group.count > 1 ? "ranks \(RankRanges.text(group))" : "rank \(rep)"
      rows += repRows.map { (name: "\(who) \($0.name)", boxes: $0.boxes) }
      overlays += (strips[rep] ?? []).map { s in
        var o = s
        o.row += first
        return o
      }
    }
    overlays.sort { ($0.start, $0.row) < ($1.start, $1.row) }
    var d = TimelineDiagram(title: title, rows: rows, legend: legend(hostMode: ctx.hostMode, path: criticalPath != nil))
    d.overlays = overlays
    d.width = width
    d.span = (start.rawValue, stop.rawValue)
    d.axisOrigin = ctx.origin
    if ctx.hostMode { d.notes.append("CPU-only trace: host threads drawn as the lanes (no device streams)") }
    if selection.collapseRanks { d.notes.append(collapseNote(groups, tolerance: tolerance)) }
    return d
  }

  /// Whether any device stream runs device work.
  public static func hasDeviceWork(_ g: EventGraph) -> Bool {
    (0..<g.eventCount).contains {
      g.lanes[g.lane[$0].index].kind == .deviceStream && TemporalBreakdown.deviceClass(g.kind[$0]) != nil
    }
  }

  static func legend(hostMode: Bool, path: Bool) -> [(String, String)] {
    let work =
      hostMode
      ? [("cpu op", cpuOpColor), ("comm", TracePalette.commColor), ("idle", hostIdleColor)]
      : TracePalette.workLegend + TracePalette.bubbleLegend
    let overlay = path ? [("critical path", pathColor), ("critical path, other lane", pathElsewhereColor)] : []
    return work + overlay
  }

  static func collapseNote(_ groups: [[Int]], tolerance: Int64) -> String {
    let within = String(format: "%.3f ms", Double(tolerance) / 1e6)
    let merged = groups.filter { $0.count > 1 }
    if merged.isEmpty { return "no ranks collapsed: no two draw the same (every edge within \(within))" }
    let text = merged.map { "ranks \(RankRanges.text($0)) drawn as rank \($0[0])" }.joined(separator: "; ")
    return
      "collapsed \(text) (identical: same streams, same colours in the same order with every edge within "
      + "\(within), shorter boxes ignored, same critical path)"
  }

  /// Groups of ranks that draw identically, each led by its lowest rank, in rank order.
  static func collapse(
    _ perRank: [(rank: Int, rows: [RankRow])], strips: [Int: [TimelineDiagram.Overlay]], tolerance: Int64
  ) -> [[Int]] {
    var groups: [[Int]] = []
    var reps: [(rank: Int, rows: [RankRow])] = []
    for r in perRank {
      if let k = reps.firstIndex(where: {
        same($0.rows, r.rows, tolerance) && same(strips[$0.rank] ?? [], strips[r.rank] ?? [], tolerance)
      }) {
        groups[k].append(r.rank)
      } else {
        reps.append(r)
        groups.append([r.rank])
      }
    }
    return groups
  }

  static func same(_ a: [RankRow], _ b: [RankRow], _ tol: Int64) -> Bool {
    a.count == b.count
      && zip(a, b).allSatisfy { x, y in
        let (p, q) = (runs(x.boxes, tol), runs(y.boxes, tol))
        return x.name == y.name && p.count == q.count
          && zip(p, q).allSatisfy { u, v in
            u.fill == v.fill && abs(u.start - v.start) <= tol && abs(u.end - v.end) <= tol
          }
      }
  }

  /// A row as runs of one colour: boxes shorter than `tol` are left out, then boxes of the same
  /// colour less than `tol` apart join, so rows that differ only in slivers or in how close work
  /// was merged compare equal.
  static func runs(_ boxes: [TimelineDiagram.Box], _ tol: Int64) -> [(fill: String, start: Int64, end: Int64)] {
    var out: [(fill: String, start: Int64, end: Int64)] = []
    for b in boxes.sorted(by: { ($0.start, $0.end) < ($1.start, $1.end) }) where b.end - b.start >= tol {
      if let last = out.last, last.fill == b.fill, b.start - last.end <= tol {
        out[out.count - 1].end = max(last.end, b.end)
      } else {
        out.append((b.fill, b.start, b.end))
      }
    }
    return out
  }

  static func same(_ a: [TimelineDiagram.Overlay], _ b: [TimelineDiagram.Overlay], _ tol: Int64) -> Bool {
    a.count == b.count
      && zip(a, b).allSatisfy { p, q in
        p.row == q.row && p.color == q.color && abs(p.start - q.start) <= tol && abs(p.end - q.end) <= tol
      }
  }
}

/// One drawn lane of a rank.
struct RankRow {
  var lane: Int
  var name: String
  var boxes: [TimelineDiagram.Box]
}

/// Rank lists as ranges: [0, 1, 2, 3, 7] → "0-3, 7".
public enum RankRanges {
  public static func text(_ ranks: [Int]) -> String {
    var parts: [String] = []
    var i = 0
    let r = ranks.sorted()
    while i < r.count {
      var j = i
      while j + 1 < r.count && r[j + 1] == r[j] + 1 { j += 1 }
      parts.append(j > i ? "\(r[i])-\(r[j])" : "\(r[i])")
      i = j + 1
    }
    return parts.joined(separator: ", ")
  }
}
