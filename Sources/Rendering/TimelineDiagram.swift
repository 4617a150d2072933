import Foundation

/// A timeline diagram: rows of boxes placed proportionally to time (schedules, per-rank
/// timelines), as DOT for Graphviz's `nop` engine (positions pinned).
///
/// Work is drawn strong (full-height boxes, saturated fills, an outline), idle time light (low,
/// pale boxes, grey text). Under the rows a time axis with ticks reads in milliseconds from
/// `axisOrigin`, with light grid lines through the rows; overlays (the critical path) are thin
/// strips along the top of their row, joined by a line where they move to another row. Every
/// box's tooltip is its DOT node name, which SVG output writes as the box's `<title>`.
public struct TimelineDiagram: Sendable {
  public enum Style: Sendable { case work, idle }

  public struct Box: Sendable {
    public var start: Int64
    public var end: Int64
    public var label: String
    public var fill: String
    public var style: Style
    /// Hover text (SVG `<title>`); nil: none beyond an id.
    public var tooltip: String?
    public init(start: Int64, end: Int64, label: String, fill: String, style: Style = .work, tooltip: String? = nil) {
      self.start = start
      self.end = end
      self.label = label
      self.fill = fill
      self.style = style
      self.tooltip = tooltip
    }
  }

  /// A strip along the top of a row (the critical path through it).
  public struct Overlay: Sendable {
    public var row: Int
    public var start: Int64
    public var end: Int64
    public var color: String
    public var tooltip: String
    public init(row: Int, start: Int64, end: Int64, color: String, tooltip: String) {
      self.row = row
      self.start = start
      self.end = end
      self.color = color
      self.tooltip = tooltip
    }
  }

  public var title: String
  /// More lines under the title (what was filtered or collapsed).
  public var notes: [String] = []
  public var rows: [(name: String, boxes: [Box])]
  public var legend: [(String, String)]
  /// In time order; consecutive strips on different rows are joined by a line.
  public var overlays: [Overlay] = []
  /// Width of the time area in points.
  public var width: Double = 1200
  /// The time range drawn; nil: from the first box's start to the last box's end.
  public var span: (start: Int64, end: Int64)? = nil
  /// The time that reads 0 on the axis; nil: the start of the span.
  public var axisOrigin: Int64? = nil
  /// The axis's caption, left of its first tick.
  public var axisCaption = "time (ms)"

  public init(title: String, rows: [(name: String, boxes: [Box])], legend: [(String, String)]) {
    self.title = title
    self.rows = rows
    self.legend = legend
  }

  static let rowHeight = 36.0
  static let workHeight = 28.0
  static let idleHeight = 12.0

  /// DOT text: deterministic, positions in points (72 per inch), origin bottom-left.
  public func dot() -> String {
    let t0 = span?.start ?? rows.flatMap { $0.boxes.map(\.start) }.min() ?? 0
    let t1 = span?.end ?? rows.flatMap { $0.boxes.map(\.end) }.max() ?? 1
    let layout = Layout(
      diagram: self, t0: t0, t1: t1,
      labelWidth: max(90, Double(rows.map(\.name.count).max() ?? 0) * 5.2 + 14))
    let heading = ([title] + notes).map(DOTText.escape).joined(separator: "\\n")
    var out =
      "digraph timeline {\n  graph [label=\"\(heading)\", labelloc=t, fontname=\"Helvetica\", fontsize=14, splines=false, outputorder=nodesfirst];\n"
    out += "  node [shape=box, style=filled, fontname=\"Helvetica\", fontsize=9, fixedsize=true, penwidth=0.5];\n"
    var names = NodeNames()
    out += layout.grid()
    out += layout.rows(&names)
    out += layout.overlays(&names)
    out += layout.axis()
    out += layout.legend()
    out += "}\n"
    return out
  }
}

/// Unique DOT node names: the tooltip when there is one (the SVG `<title>`), numbered on repeats.
private struct NodeNames {
  var used = Set<String>()
  mutating func name(_ preferred: String) -> String {
    var n = preferred
    var k = 2
    while used.contains(n) {
      n = "\(preferred) (\(k))"
      k += 1
    }
    used.insert(n)
    return DOTText.escape(n)
  }
}

/// Coordinates of one `TimelineDiagram`: legend lines at the bottom, then the axis, then the rows.
private struct Layout {
  let d: TimelineDiagram
  let t0: Int64
  let t1: Int64
  let labelWidth: Double
  let scale: Double
  let legendLines: [[(name: String, color: String, x: Double, w: Double)]]
  let axisLabelY: Double
  let axisY: Double
  let rowsBase: Double
  var rowsTop: Double { rowsBase + Double(d.rows.count) * TimelineDiagram.rowHeight }

  init(diagram: TimelineDiagram, t0: Int64, t1: Int64, labelWidth: Double) {
    d = diagram
    self.t0 = t0
    self.t1 = t1
    self.labelWidth = labelWidth
    scale = diagram.width / Double(max(t1 - t0, 1))
    var lines: [[(name: String, color: String, x: Double, w: Double)]] = [[]]
    var x = labelWidth
    for (name, color) in diagram.legend {
      let w = max(60, Double(name.count) * 5.5)
      if x + w > labelWidth + diagram.width && !(lines.last ?? []).isEmpty {
        lines.append([])
        x = labelWidth
      }
      lines[lines.count - 1].append((name, color, x, w))
      x += w + 10
    }
    legendLines = lines
    axisLabelY = 20 * Double(lines.count) + 14
    axisY = axisLabelY + 12
    rowsBase = axisY + 4
  }

  func f(_ v: Double) -> String { String(Int((v * 100).rounded())).withDecimal }
  func x(_ t: Int64) -> Double { labelWidth + Double(t - t0) * scale }
  func rowY(_ r: Int) -> Double {
    rowsBase + Double(d.rows.count - 1 - r) * TimelineDiagram.rowHeight + TimelineDiagram.rowHeight / 2
  }

  /// Tick times: 1, 2 or 5 × 10^k ns apart (the nearest to ten ticks across the span), on
  /// multiples of the step from the origin.
  func ticks() -> (times: [Int64], decimals: Int) {
    let origin = d.axisOrigin ?? t0
    let span = Double(max(t1 - t0, 1))
    let raw = span / 10
    let p = pow(10, floor(log10(raw)))
    let step = [1.0, 2, 5, 10].map { $0 * p }.min { abs(log($0 / raw)) < abs(log($1 / raw)) } ?? p
    let stepNs = max(Int64(step.rounded()), 1)
    var k = Int64((Double(t0 - origin) / Double(stepNs)).rounded(.up))
    var out: [Int64] = []
    while origin + k * stepNs <= t1 && out.count < 50 {
      out.append(origin + k * stepNs)
      k += 1
    }
    return (out, max(0, Int(-floor(log10(step / 1e6) + 1e-9))))
  }

  /// Light vertical lines at the ticks, behind everything.
  func grid() -> String {
    var out = ""
    let h = rowsTop - axisY
    for (i, t) in ticks().times.enumerated() {
      out +=
        "  \"grid\(i)\" [label=\"\", fillcolor=\"#e6e6e6\", color=\"#e6e6e6\", penwidth=0, pos=\"\(f(x(t))),\(f(axisY + h / 2))!\", width=0.01, height=\(f(h / 72))];\n"
    }
    return out
  }

  func rows(_ names: inout NodeNames) -> String {
    var out = ""
    for (r, row) in d.rows.enumerated() {
      let y = rowY(r)
      out +=
        "  \"row\(r)\" [label=\"\(DOTText.escape(row.name))\", shape=plaintext, style=\"\", pos=\"\(f(labelWidth / 2)),\(f(y))!\", width=\(f(labelWidth / 72)), height=\(f((TimelineDiagram.rowHeight - 6) / 72))];\n"
      for (b, box) in row.boxes.enumerated() {
        let x0 = x(box.start)
        let w = max(Double(box.end - box.start) * scale, 1)
        let id = names.name(box.tooltip.map { "\($0)" } ?? "r\(r)b\(b)")
        let pos = "pos=\"\(f(x0 + w / 2)),\(f(y))!\", width=\(f(w / 72))"
        switch box.style {
        case .work:
          let outline = w < 3 ? box.fill : "#333333"
          out +=
            "  \"\(id)\" [label=\"\(DOTText.escape(box.label))\", fillcolor=\"\(box.fill)\", color=\"\(outline)\", \(pos), height=\(f(TimelineDiagram.workHeight / 72))];\n"
        case .idle:
          out +=
            "  \"\(id)\" [label=\"\(DOTText.escape(box.label))\", fillcolor=\"\(box.fill)\", color=\"\(box.fill)\", fontcolor=\"#666666\", fontsize=7, \(pos), height=\(f(TimelineDiagram.idleHeight / 72))];\n"
        }
      }
    }
    return out
  }

  /// The strips, and a line from the end of one to the start of the next on another row.
  func overlays(_ names: inout NodeNames) -> String {
    var out = ""
    var previous: (row: Int, end: Int64)? = nil
    for (i, o) in d.overlays.enumerated() where o.row >= 0 && o.row < d.rows.count {
      let y = rowY(o.row) + TimelineDiagram.workHeight / 2 + 1.5
      let (x0, w) = (x(o.start), max(Double(o.end - o.start) * scale, 1))
      out +=
        "  \"\(names.name(o.tooltip))\" [label=\"\", fillcolor=\"\(o.color)\", color=\"\(o.color)\", penwidth=0, pos=\"\(f(x0 + w / 2)),\(f(y))!\", width=\(f(w / 72)), height=\(f(5.0 / 72))];\n"
      if let p = previous, p.row != o.row {
        let y0 = rowY(p.row) + TimelineDiagram.workHeight / 2 + 1.5
        out +=
          "  \"hop\(i)a\" [label=\"\", shape=point, width=0.01, color=\"\(o.color)\", pos=\"\(f(x(p.end))),\(f(y0))!\"];\n"
        out +=
          "  \"hop\(i)b\" [label=\"\", shape=point, width=0.01, color=\"\(o.color)\", pos=\"\(f(x0)),\(f(y))!\"];\n"
        out += "  \"hop\(i)a\" -> \"hop\(i)b\" [color=\"\(o.color)\", penwidth=1.2, arrowsize=0.5];\n"
      }
      previous = (o.row, o.end)
    }
    return out
  }

  /// The axis line, tick marks and their labels, and the caption in the label column.
  func axis() -> String {
    let (times, decimals) = ticks()
    let origin = d.axisOrigin ?? t0
    var out =
      "  \"axis\" [label=\"\", fillcolor=\"#333333\", color=\"#333333\", penwidth=0, pos=\"\(f(labelWidth + d.width / 2)),\(f(axisY))!\", width=\(f(d.width / 72)), height=0.01];\n"
    // About 4.6 pt per character at font size 8: a caption that does not fit takes two lines.
    var caption = DOTText.escape(d.axisCaption)
    let room = labelWidth - 16
    if Double(d.axisCaption.count) * 4.6 > room, let cut = Self.middleSpace(d.axisCaption) {
      caption =
        DOTText.escape(String(d.axisCaption[..<cut])) + "\\n"
        + DOTText.escape(String(d.axisCaption[d.axisCaption.index(after: cut)...]))
    }
    out +=
      "  \"axis caption\" [label=\"\(caption)\", shape=plaintext, style=\"\", fontsize=8, pos=\"\(f(room / 2)),\(f(axisLabelY + 2))!\", width=\(f(room / 72)), height=\(f(24.0 / 72))];\n"
    for (i, t) in times.enumerated() {
      let label = String(format: "%.\(decimals)f", Double(t - origin) / 1e6)
      out +=
        "  \"tick\(i)\" [label=\"\", fillcolor=\"#333333\", color=\"#333333\", penwidth=0, pos=\"\(f(x(t))),\(f(axisY - 2.5))!\", width=0.01, height=\(f(5.0 / 72))];\n"
      out +=
        "  \"tick\(i) label\" [label=\"\(label)\", shape=plaintext, style=\"\", fontsize=8, pos=\"\(f(x(t))),\(f(axisLabelY))!\", width=\(f(50.0 / 72)), height=\(f(12.0 / 72))];\n"
    }
    return out
  }

  /// The first space at or after a third of `text` (a short first line: "ms from" / "step 3 start").
  static func middleSpace(_ text: String) -> String.Index? {
    text.indices.first { text[$0] == " " && 3 * text.distance(from: text.startIndex, to: $0) >= text.count }
  }

  func legend() -> String {
    var out = ""
    var i = 0
    for (line, items) in legendLines.enumerated() {
      let y = 10 + 20 * Double(legendLines.count - 1 - line)
      for item in items {
        out +=
          "  \"legend\(i)\" [label=\"\(DOTText.escape(item.name))\", fillcolor=\"\(item.color)\", pos=\"\(f(item.x + item.w / 2)),\(f(y))!\", width=\(f(item.w / 72)), height=\(f(14.0 / 72))];\n"
        i += 1
      }
    }
    return out
  }
}
