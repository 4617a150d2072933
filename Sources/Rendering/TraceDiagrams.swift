import Analysis
import CostModels
import Foundation
import TraceModel

/// Colours shared by the trace diagrams (and their legends).
public enum TracePalette {
  public static func fill(_ g: EventGraph, _ e: Int) -> String {
    switch g.kind[e] {
    case .kernel:
      switch ComputeClass(rawValue: g.detail[e]) ?? .other {
      case .gemm: "#4e79a7"
      case .attention: "#b07aa1"
      case .elementwise: "#76b7b2"
      case .reduction: "#59a14f"
      case .other: "#bab0ac"
      }
    case .collective, .send, .recv: commColor
    case .memcpy, .memset: "#edc948"
    default: "#bab0ac"
    }
  }

  public static let commColor = "#f28e2b"

  /// Idle time is drawn light: pale tints, one per cause.
  public static func bubble(_ c: BubbleAnalysis.Cause) -> String {
    switch c {
    case .hostLaunch: "#ffd6d6"
    case .collective: "#ffe8cc"
    case .recv: "#ffc4c4"
    case .sync: "#e6ddff"
    case .crossStream: "#d5f5f9"
    case .other: "#eceff1"
    }
  }

  public static let workLegend: [(String, String)] = [
    ("gemm", "#4e79a7"), ("attention", "#b07aa1"), ("elementwise", "#76b7b2"), ("reduction", "#59a14f"),
    ("other kernel", "#bab0ac"),
    ("comm", "#f28e2b"), ("memcpy/set", "#edc948"),
  ]
  public static var bubbleLegend: [(String, String)] {
    BubbleAnalysis.Cause.allCases.map { ("idle: " + $0.rawValue, bubble($0)) }
  }

  public static func category(_ c: CriticalPath.Category) -> String {
    switch c {
    case .compute: "#4e79a7"
    case .communication: "#f28e2b"
    case .host: "#9c9c9c"
    case .bubble: "#ff9d9a"
    case .lateStart: "#e9ecef"
    }
  }

  /// Link utilisation bins, low to high: pale to dark blue, one per fifth of the peak, and
  /// magenta above the peak (a measurement problem, not a rate).
  public static let utilisationBins: [(label: String, color: String)] = [
    ("0-20%", "#c6dbef"), ("20-40%", "#9ecae1"), ("40-60%", "#6baed6"), ("60-80%", "#3182bd"), ("80-100%", "#08519c"),
  ]
  public static let overPeakColor = "#d6168b"

  /// The colour of a utilisation (achieved / peak): its fifth's bin, or `overPeakColor` above 1.
  public static func utilisation(_ u: Double) -> String {
    if u > 1 { return overPeakColor }
    return utilisationBins[min(Int(max(u, 0) * 5), 4)].color
  }

  static func ms(_ ns: Int64) -> String { String(format: "%.3f ms", Double(ns) / 1e6) }
  /// Text for a DOT string (`DOTText.escape`).
  static func escape(_ s: String) -> String { DOTText.escape(s) }
  /// A kernel name shortened for a label: template arguments and namespaces dropped.
  static func short(_ name: String, _ n: Int = 28) -> String {
    var s = name
    if let i = s.firstIndex(of: "<") { s = String(s[..<i]) }
    if let i = s.firstIndex(of: "(") { s = String(s[..<i]) }
    if s.hasPrefix("void ") { s.removeFirst(5) }
    if let r = s.range(of: "::", options: .backwards) { s = String(s[r.upperBound...]) }
    return s.count > n ? String(s.prefix(n - 1)) + "…" : s
  }
}

/// The dependency graph collapsed to op classes: one node per class of work (host calls, sync
/// calls, kernel classes, memcpy directions, collective kinds), one edge per (from, to, edge kind)
/// with its count. Nodes and edges the critical path passes through are drawn red and bold, with
/// the critical-path time in the node label.
public enum DependencyGraphRenderer {
  static func key(_ g: EventGraph, _ e: Int) -> String? {
    switch g.kind[e] {
    case .annotation, .memory: return nil
    case .hostOp: return "host op"
    case .sync: return "host sync"
    default:
      if g.lanes[g.lane[e].index].kind == .hostThread {
        return g.kind[e] == .collective
          ? "host collective" : g.kind[e] == .send || g.kind[e] == .recv ? "host send/recv" : "host op"
      }
      return RunDiff.key(g, e)
    }
  }

  /// - Parameter include: the events to count (a step's), nil: all.
  public static func dot(_ g: EventGraph, timeline t: Timeline, criticalPath cp: CriticalPath, include: [Bool]? = nil)
    -> String
  {
    var count: [String: Int] = [:]
    var time: [String: Int64] = [:]
    func keep(_ e: Int) -> Bool { include.map { $0[e] } ?? true }
    for e in 0..<g.eventCount where keep(e) {
      if let k = key(g, e) {
        count[k, default: 0] += 1
        time[k, default: 0] += (t.end[e] - t.start[e]).rawValue
      }
    }
    var edges: [String: Int] = [:]
    func ekey(_ a: String, _ b: String, _ k: EdgeKind) -> String { a + "\u{1}" + b + "\u{1}" + k.name }
    for from in 0..<g.eventCount where keep(from) {
      guard let a = key(g, from) else { continue }
      for (to, kind) in g.edges(from: EventID(rawValue: UInt32(from))) where keep(to.index) {
        guard let b = key(g, to.index), kind != .programOrder || a != b else { continue }
        edges[ekey(a, b, kind), default: 0] += 1
      }
    }
    // Lane order on device streams: transitions between classes (programOrder edges may be sparse).
    var cpTime: [String: Int64] = [:]
    var cpEdges = Set<String>()
    var prevKey: String? = nil
    for s in cp.segments {
      guard let e = s.event, let k = key(g, e) else { continue }
      cpTime[k, default: 0] += s.duration.rawValue
      if let p = prevKey, p != k { cpEdges.insert(p + "\u{1}" + k) }
      prevKey = k
    }
    var out =
      "digraph dependencies {\n  graph [rankdir=TB, fontname=\"Helvetica\", fontsize=14, labelloc=t, label=\"\(TracePalette.escape(title(g, cp, events: include?.count { $0 } ?? g.eventCount, stepOnly: include != nil)))\"];\n"
    out +=
      "  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fontsize=10];\n  edge [fontname=\"Helvetica\", fontsize=8];\n"
    let nodes = count.keys.sorted()
    for (i, k) in nodes.enumerated() {
      let onPath = cpTime[k] != nil
      var label = "\(TracePalette.escape(k))\\n\(count[k] ?? 0) events, \(TracePalette.ms(time[k] ?? 0))"
      if let c = cpTime[k] { label += "\\ncritical path \(TracePalette.ms(c))" }
      let fill =
        k.hasPrefix("kernel")
        ? "#dbe6f1"
        : k.hasPrefix("collective") || k.hasPrefix("sendRecv") || k.contains("collective") || k.contains("send/recv")
          ? "#fde2c8" : k.hasPrefix("mem") ? "#fbf0c4" : "#eeeeee"
      out +=
        "  n\(i) [label=\"\(label)\", fillcolor=\"\(fill)\"\(onPath ? ", color=\"#d62728\", penwidth=2.5" : "")];\n"
    }
    let index = Dictionary(uniqueKeysWithValues: nodes.enumerated().map { ($1, $0) })
    for (ek, n) in edges.sorted(by: { $0.key < $1.key }) {
      let parts = ek.split(separator: "\u{1}", omittingEmptySubsequences: false).map(String.init)
      guard parts.count == 3, let from = index[parts[0]], let to = index[parts[1]] else { continue }
      let (a, b, kind) = (parts[0], parts[1], parts[2])
      let hot = cpEdges.contains(a + "\u{1}" + b)
      let style =
        kind == "launch"
        ? "solid" : kind == "sync" ? "dashed" : kind == "collective" || kind == "p2p" ? "bold" : "dotted"
      out +=
        "  n\(from) -> n\(to) [label=\"\(kind) ×\(n)\", style=\(style)"
        + "\(hot ? ", color=\"#d62728\", penwidth=2" : "")];\n"
    }
    out += "}\n"
    return out
  }

  static func title(_ g: EventGraph, _ cp: CriticalPath, events: Int, stepOnly: Bool) -> String {
    "Dependencies by op class, \(g.ranks.count) rank(s), \(events) events"
      + (stepOnly ? cp.step.map { " of step \($0)" } ?? "" : "") + "; red: on the critical path of job step"
      + (cp.step.map { " \($0)" } ?? " (whole trace)") + " (\(TracePalette.ms(cp.length.rawValue)))"
  }
}

/// The critical path as a left-to-right chain: consecutive segments on one rank with the same
/// category merged into one box (rank, category, time, what ran), coloured by category; edges
/// that change rank are labelled with the hop.
public enum CriticalPathRenderer {
  /// More runs than this are merged per rank (category shares in the label).
  public static let maxBoxes = 24
  /// Boxes per row; the chain wraps onto the next row.
  public static let perRow = 6
  /// Segments shorter than this are left out of the drawing (they stay in the report).
  public static let minNs: Int64 = 1_000

  public static func dot(_ g: EventGraph, criticalPath cp: CriticalPath) -> String {
    struct Run {
      var rank: Int
      var category: CriticalPath.Category?
      var ns: Int64
      var events: Int
      var names: [String: Int64]
      var byCat: [CriticalPath.Category: Int64]
    }
    func runs(byCategory: Bool) -> [Run] {
      var out: [Run] = []
      for s in cp.segments where s.duration.rawValue >= minNs {
        let ns = s.duration.rawValue
        let cat: CriticalPath.Category? = byCategory ? s.category : nil
        if var last = out.last, last.rank == s.rank, last.category == cat {
          last.ns += ns
          last.byCat[s.category, default: 0] += ns
          if let e = s.event {
            last.events += 1
            last.names[TracePalette.short(g.strings[g.name[e]], 36), default: 0] += ns
          }
          out[out.count - 1] = last
        } else {
          var r = Run(rank: s.rank, category: cat, ns: ns, events: 0, names: [:], byCat: [s.category: ns])
          if let e = s.event {
            r.events = 1
            r.names[TracePalette.short(g.strings[g.name[e]], 36)] = ns
          }
          out.append(r)
        }
      }
      return out
    }
    var list = runs(byCategory: true)
    if list.count > maxBoxes { list = runs(byCategory: false) }
    var out =
      "digraph critical_path {\n  graph [rankdir=TB, fontname=\"Helvetica\", fontsize=14, labelloc=t, nodesep=0.2, ranksep=0.3, label=\""
    let totals = CriticalPath.Category.allCases.map {
      "\($0.rawValue) \(TracePalette.ms(cp.byCategory[$0]?.rawValue ?? 0))"
    }.joined(separator: ", ")
    out +=
      TracePalette.escape(
        "Critical path of job step\(cp.step.map { " \($0)" } ?? " (whole trace)"): \(TracePalette.ms(cp.length.rawValue)) (first rank's entry to last work), \(cp.rankChanges) rank change(s); \(totals)"
      ) + "\"];\n"
    out +=
      "  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fontsize=9];\n  edge [fontname=\"Helvetica\", fontsize=8];\n"
    for (i, r) in list.enumerated() {
      let top = r.names.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.prefix(2).map { "\($0.key)" }
      var label = "rank \(r.rank)"
      if let c = r.category {
        label += " · \(c.rawValue)\\n\(TracePalette.ms(r.ns))"
      } else {
        label +=
          "\\n\(TracePalette.ms(r.ns))\\n"
          + CriticalPath.Category.allCases.compactMap { c in
            r.byCat[c].map { "\(c.rawValue) \(String(format: "%.2f", Double($0) / 1e6))" }
          }.joined(separator: ", ")
      }
      if r.events > 0 {
        label +=
          "\\n\(r.events) event(s)" + (top.isEmpty ? "" : ": " + top.map(TracePalette.escape).joined(separator: ", "))
      }
      let fill = r.category.map(TracePalette.category) ?? "#dddddd"
      out +=
        "  s\(i) [label=\"\(label)\", fillcolor=\"\(fill)\"\(r.category == .compute || r.category == .communication ? ", fontcolor=\"white\"" : "")];\n"
      if i > 0 {
        let hop = list[i - 1].rank != r.rank
        var attrs: [String] = []
        if hop { attrs += ["label=\"rank \(list[i - 1].rank) → \(r.rank)\"", "color=\"#d62728\"", "penwidth=2"] }
        if i % perRow == 0 {
          // Wrap: the next row goes below this one, aligned on its first box.
          attrs += ["constraint=false"]
          out += "  s\(i - perRow) -> s\(i) [style=invis, weight=10];\n"
        }
        out += "  s\(i - 1) -> s\(i)\(attrs.isEmpty ? "" : " [" + attrs.joined(separator: ", ") + "]");\n"
      }
    }
    // Rows of `perRow` boxes, read left to right, top to bottom.
    for row in stride(from: 0, to: list.count, by: perRow) {
      out +=
        "  { rank=same; " + (row..<min(row + perRow, list.count)).map { "s\($0)" }.joined(separator: "; ") + "; }\n"
    }
    out += "}\n"
    return out
  }
}
