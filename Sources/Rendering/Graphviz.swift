import CGraphviz
import Foundation
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Renders DOT text to SVG or PNG through libgvc.
///
/// Graphviz is not thread-safe: every call goes through one process-wide lock holding a single
/// `GVC_t` created on first use (Graphviz `gvContext`, see graphviz.org/pdf/libguide.pdf). Layout and render buffers are freed
/// in pairs.
public enum Graphviz {
  public enum Format: String, Sendable { case svg, png, dot }

  public struct RenderError: Error, CustomStringConvertible, Sendable {
    public var description: String
  }

  private static let context = Mutex<OpaquePointer?>(nil)

  /// Lays out `dot` with `engine` (dot, neato with pinned positions, …) and renders it.
  public static func render(_ dot: String, format: Format, engine: String = "dot") throws -> [UInt8] {
    if format == .dot { return Array(dot.utf8) }
    return try context.withLock { gvcBox -> [UInt8] in
      if gvcBox == nil { gvcBox = gvContext() }
      guard let gvc = gvcBox else { throw RenderError(description: "graphviz: cannot create a context") }
      guard let graph = dot.withCString({ agmemread($0) }) else {
        throw RenderError(description: "graphviz: cannot parse the DOT text")
      }
      defer { agclose(graph) }
      if gvLayout(gvc, graph, engine) != 0 { throw RenderError(description: "graphviz: layout '\(engine)' failed") }
      defer { gvFreeLayout(gvc, graph) }
      var data: UnsafeMutablePointer<CChar>? = nil
      var length: UInt32 = 0
      guard gvRenderData(gvc, graph, format.rawValue, &data, &length) == 0, let rendered = data else {
        throw RenderError(description: "graphviz: rendering \(format.rawValue) failed")
      }
      defer { gvFreeRenderData(rendered) }
      return Array(
        UnsafeBufferPointer(start: UnsafeRawPointer(rendered).assumingMemoryBound(to: UInt8.self), count: Int(length)))
    }
  }
}

/// A timeline diagram: rows of boxes placed proportionally to time (schedules, per-rank
/// timelines), as DOT for Graphviz's `neato -n` (positions pinned).
public struct TimelineDiagram: Sendable {
  public struct Box: Sendable {
    public var start: Int64
    public var end: Int64
    public var label: String
    public var fill: String
    public init(start: Int64, end: Int64, label: String, fill: String) {
      self.start = start
      self.end = end
      self.label = label
      self.fill = fill
    }
  }
  public var title: String
  public var rows: [(name: String, boxes: [Box])]
  public var legend: [(String, String)]
  /// Points per nanosecond of time (the whole diagram is scaled to `width` points when nil).
  public var width: Double = 1200
  /// The time range drawn; nil: from the first box's start to the last box's end.
  public var span: (start: Int64, end: Int64)? = nil

  public init(title: String, rows: [(name: String, boxes: [Box])], legend: [(String, String)]) {
    self.title = title
    self.rows = rows
    self.legend = legend
  }

  static func escape(_ s: String) -> String {
    s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
  }

  /// DOT text: deterministic, positions in points (72 per inch), origin bottom-left.
  public func dot() -> String {
    let t0 = span?.start ?? rows.flatMap { $0.boxes.map(\.start) }.min() ?? 0
    let t1 = span?.end ?? rows.flatMap { $0.boxes.map(\.end) }.max() ?? 1
    let scale = width / Double(max(t1 - t0, 1))
    let rowHeight = 36.0
    let labelWidth = 90.0
    func f(_ v: Double) -> String { String(Int((v * 100).rounded())).withDecimal }
    var out =
      "digraph schedule {\n  graph [label=\"\(Self.escape(title))\", labelloc=t, fontname=\"Helvetica\", fontsize=14, splines=false, outputorder=nodesfirst];\n"
    out += "  node [shape=box, style=filled, fontname=\"Helvetica\", fontsize=9, fixedsize=true, penwidth=0.5];\n"
    let n = rows.count
    for (r, row) in rows.enumerated() {
      let y = Double(n - 1 - r) * rowHeight + rowHeight / 2 + 30
      out +=
        "  \"row\(r)\" [label=\"\(Self.escape(row.name))\", shape=plaintext, style=\"\", pos=\"\(f(labelWidth / 2)),\(f(y))!\", width=\(f(labelWidth / 72)), height=\(f((rowHeight - 6) / 72))];\n"
      for (b, box) in row.boxes.enumerated() {
        let x0 = labelWidth + Double(box.start - t0) * scale
        let w = max(Double(box.end - box.start) * scale, 1)
        out +=
          "  \"r\(r)b\(b)\" [label=\"\(Self.escape(box.label))\", fillcolor=\"\(box.fill)\"\(w < 3 ? ", color=\"\(box.fill)\"" : ""), pos=\"\(f(x0 + w / 2)),\(f(y))!\", width=\(f(w / 72)), height=\(f((rowHeight - 8) / 72))];\n"
      }
    }
    // Legend and time axis.
    var x = labelWidth
    for (i, (name, color)) in legend.enumerated() {
      let w = max(60, Double(name.count) * 5.5)
      out +=
        "  \"legend\(i)\" [label=\"\(Self.escape(name))\", fillcolor=\"\(color)\", pos=\"\(f(x + w / 2)),\(f(10))!\", width=\(f(w / 72)), height=\(f(14 / 72))];\n"
      x += w + 10
    }
    let ms = Double(t1 - t0) / 1e6
    out +=
      "  \"axis\" [label=\"0 … \(String(format: "%.3f", ms)) ms\", shape=plaintext, style=\"\", pos=\"\(f(labelWidth + width - 60)),\(f(10))!\", width=\(f(120 / 72)), height=\(f(14 / 72))];\n"
    out += "}\n"
    return out
  }
}

extension String {
  /// "12345" (hundredths) → "123.45".
  fileprivate var withDecimal: String {
    let neg = hasPrefix("-")
    var digits = neg ? String(dropFirst()) : self
    while digits.count < 3 { digits = "0" + digits }
    let cut = digits.index(digits.endIndex, offsetBy: -2)
    return (neg ? "-" : "") + digits[..<cut] + "." + digits[cut...]
  }
}
