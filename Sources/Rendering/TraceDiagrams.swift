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
    case .collective, .send, .recv: "#f28e2b"
    case .memcpy, .memset: "#edc948"
    default: "#bab0ac"
    }
  }

  public static func bubble(_ c: BubbleAnalysis.Cause) -> String {
    switch c {
    case .hostLaunch: "#ffc9c9"
    case .collective: "#ffe3bf"
    case .recv: "#ff8787"
    case .sync: "#d0bfff"
    case .crossStream: "#c5f6fa"
    case .other: "#f1f3f5"
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

  /// Green → yellow → red for a utilisation in [0, 1].
  public static func utilisation(_ u: Double) -> String {
    let x = max(0, min(1, u))
    let r = x < 0.5 ? Int(2 * x * 255) : 255
    let g = x < 0.5 ? 200 : Int((1 - x) * 2 * 200)
    return String(format: "#%02x%02x%02x", r, g, 40)
  }

  static func ms(_ ns: Int64) -> String { String(format: "%.3f ms", Double(ns) / 1e6) }
  static func escape(_ s: String) -> String {
    s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(
      of: "\n", with: "\\n")
  }
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

/// A per-rank timeline of one step: one row per device stream, boxes placed and sized by time,
/// idle gaps drawn as bubble boxes coloured by cause. Work closer together than half a point is
/// merged into one box so that thousands of microsecond kernels stay readable; labels are cut
/// to the width of their box.
public enum TraceTimelineRenderer {
  public static func diagram(
    _ g: EventGraph, timeline t: Timeline, bubbles: BubbleAnalysis, from start: Nanoseconds,
    to stop: Nanoseconds, title: String, width: Double = 1200
  ) -> TimelineDiagram {
    let (lo, hi) = (start.rawValue, stop.rawValue)
    let scale = width / Double(max(hi - lo, 1))
    let mergeGap = Int64(0.5 / scale)
    var byLane: [Int: [Int]] = [:]
    for e in 0..<g.eventCount
    where g.lanes[g.lane[e].index].kind == .deviceStream && TemporalBreakdown.deviceClass(g.kind[e]) != nil {
      if t.end[e] > start && t.start[e] < stop { byLane[g.lane[e].index, default: []].append(e) }
    }
    var bubblesByLane: [Int: [BubbleAnalysis.Bubble]] = [:]
    for b in bubbles.laneBubbles where b.start < stop && b.start + b.duration > start {
      bubblesByLane[b.lane, default: []].append(b)
    }
    let lanes = byLane.keys.sorted { (g.lanes[$0].rank.rawValue, $0) < (g.lanes[$1].rank.rawValue, $1) }
    var rows: [(name: String, boxes: [TimelineDiagram.Box])] = []
    for l in lanes {
      var raw: [(s: Int64, e: Int64, fill: String, label: String, n: Int)] = []
      for b in bubblesByLane[l] ?? [] {
        raw.append(
          (
            max(b.start.rawValue, lo), min((b.start + b.duration).rawValue, hi), TracePalette.bubble(b.cause),
            b.cause.rawValue, 1
          ))
      }
      for e in byLane[l] ?? [] {
        raw.append(
          (
            max(t.start[e].rawValue, lo), min(t.end[e].rawValue, hi), TracePalette.fill(g, e),
            TracePalette.short(g.strings[g.name[e]]), 1
          ))
      }
      raw.sort { ($0.s, $0.e, $0.fill) < ($1.s, $1.e, $1.fill) }
      var merged: [(s: Int64, e: Int64, fill: String, label: String, n: Int)] = []
      for r in raw {
        if var last = merged.last, last.fill == r.fill, r.s - last.e <= mergeGap {
          last.e = max(last.e, r.e)
          last.n += 1
          merged[merged.count - 1] = last
        } else {
          merged.append(r)
        }
      }
      let boxes = merged.map { m -> TimelineDiagram.Box in
        let w = Double(m.e - m.s) * scale
        // About 6 pt per character at font size 9 inside 8 pt margins: cut the label to fit, or drop it.
        let fits = Int((w - 16) / 6)
        var label = m.n > 1 ? "\(m.n)×" : m.label
        if label.count > fits { label = fits >= 6 ? String(label.prefix(fits - 1)) + "…" : "" }
        return TimelineDiagram.Box(start: m.s, end: m.e, label: label, fill: m.fill)
      }
      let lane = g.lanes[l]
      rows.append((name: "rank \(lane.rank.rawValue) \(g.strings[lane.name])", boxes: boxes))
    }
    var d = TimelineDiagram(title: title, rows: rows, legend: TracePalette.workLegend + TracePalette.bubbleLegend)
    d.width = width
    d.span = (lo, hi)
    return d
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

  public static func dot(_ g: EventGraph, timeline t: Timeline, criticalPath cp: CriticalPath) -> String {
    var count: [String: Int] = [:]
    var time: [String: Int64] = [:]
    for e in 0..<g.eventCount {
      if let k = key(g, e) {
        count[k, default: 0] += 1
        time[k, default: 0] += (t.end[e] - t.start[e]).rawValue
      }
    }
    var edges: [String: Int] = [:]
    func ekey(_ a: String, _ b: String, _ k: EdgeKind) -> String { a + "\u{1}" + b + "\u{1}" + k.name }
    for from in 0..<g.eventCount {
      guard let a = key(g, from) else { continue }
      for (to, kind) in g.edges(from: EventID(rawValue: UInt32(from))) {
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
      "digraph dependencies {\n  graph [rankdir=TB, fontname=\"Helvetica\", fontsize=14, labelloc=t, label=\"\(TracePalette.escape(title(g, cp)))\"];\n"
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

  static func title(_ g: EventGraph, _ cp: CriticalPath) -> String {
    "Dependencies by op class, \(g.ranks.count) rank(s), \(g.eventCount) events; red: on the critical path"
      + " of job step" + (cp.step.map { " \($0)" } ?? " (whole trace)") + " (\(TracePalette.ms(cp.length.rawValue)))"
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

/// The cluster: one box per node holding its GPUs (ranks), each GPU linked to the node's switch
/// (NVLink/xGMI) and the switch to the network (NIC), links coloured by utilisation: the rank's
/// achieved bus bandwidth over its collectives (Σ bytes × bus factor / Σ transfer time, split
/// into intra-node and cross-node instances) as a share of the link's peak.
public enum TopologyRenderer {
  public static func dot(_ g: EventGraph, bandwidth bw: BandwidthAnalysis, cluster: ClusterSpec?, linkGBps: Double?)
    -> String
  {
    let ranks = g.ranks.map { Int($0.rank.rawValue) }.sorted()
    let world = max(g.ranks.compactMap(\.worldSize).max() ?? 0, (ranks.last ?? 0) + 1)
    let perNode = cluster?.gpusPerNode ?? world
    let nodes = cluster?.expandedNodes ?? []
    func nodeOf(_ r: Int) -> Int { r / max(perNode, 1) }
    func spec(_ n: Int) -> (intra: Double?, nic: Double?) {
      if nodes.isEmpty { return (linkGBps, nil) }
      let s = nodes[min(n, nodes.count - 1)]
      return (s.intraNodeGBps, s.nicGBps)
    }
    // Per rank: bus bytes and transfer time, intra vs. cross node.
    var intra: [Int: (Double, Int64)] = [:]
    var inter: [Int: (Double, Int64)] = [:]
    for inst in bw.instances where inst.matched && inst.transfer > .zero {
      let transfer = inst.transfer.rawValue
      let members = inst.memberRanks
      let crosses = Set(members.map(nodeOf)).count > 1
      let busBytes = inst.busbwGBps * Double(transfer)  // GB/s × ns = bytes
      for r in members {
        if crosses {
          inter[r, default: (0, 0)].0 += busBytes
          inter[r, default: (0, 0)].1 += transfer
        } else {
          intra[r, default: (0, 0)].0 += busBytes
          intra[r, default: (0, 0)].1 += transfer
        }
      }
    }
    func edgeAttrs(_ v: (Double, Int64)?, peak: Double?) -> String {
      guard let v, v.1 > 0 else { return "color=\"#bbbbbb\", style=dashed, label=\"idle\"" }
      let gbps = v.0 / Double(v.1)
      guard let peak, peak > 0 else { return "color=\"#555555\", label=\"\(String(format: "%.1f", gbps)) GB/s\"" }
      let u = gbps / peak
      return
        "color=\"\(TracePalette.utilisation(u))\", penwidth=\(String(format: "%.1f", 1 + 4 * min(u, 1))), label=\"\(String(format: "%.1f", gbps)) of \(String(format: "%.0f", peak)) GB/s (\(String(format: "%.0f", 100 * u))%)\""
    }
    let title =
      "Topology: \(ranks.count) of \(world) rank(s)"
      + (cluster.map { " on \($0.name) (\($0.gpusPerNode) GPU/node)" } ?? "")
      + "; links coloured by achieved busbw / peak (green low, red high)"
    var out =
      "graph topology {\n  graph [fontname=\"Helvetica\", fontsize=14, labelloc=t, label=\"\(TracePalette.escape(title))\", rankdir=TB];\n"
    out += "  node [fontname=\"Helvetica\", fontsize=10];\n  edge [fontname=\"Helvetica\", fontsize=8];\n"
    let usedNodes = Array(Set(ranks.map(nodeOf))).sorted()
    let multiNode = usedNodes.count > 1 || cluster != nil
    if multiNode { out += "  network [label=\"network\", shape=ellipse, style=filled, fillcolor=\"#eeeeee\"];\n" }
    for n in usedNodes {
      let device = g.ranks.first { nodeOf(Int($0.rank.rawValue)) == n }?.deviceNames.first ?? "GPU"
      out += "  subgraph cluster_node\(n) {\n    label=\"node \(n)\"; style=rounded; color=\"#888888\";\n"
      out +=
        "    switch\(n) [label=\"switch\\n\(spec(n).intra.map { String(format: "%.0f GB/s per GPU", $0) } ?? "peak unknown")\", shape=hexagon, style=filled, fillcolor=\"#f5f5f5\"];\n"
      for r in ranks where nodeOf(r) == n {
        out +=
          "    gpu\(r) [label=\"rank \(r)\\n\(TracePalette.escape(TracePalette.short(device, 24)))\", shape=box, style=\"rounded,filled\", fillcolor=\"#dbe6f1\"];\n"
        out += "    gpu\(r) -- switch\(n) [\(edgeAttrs(intra[r], peak: spec(n).intra))];\n"
      }
      out += "  }\n"
      if multiNode {
        let nic = spec(n).nic
        let agg = ranks.filter { nodeOf($0) == n }.compactMap { inter[$0] }.reduce((0.0, Int64(0))) {
          ($0.0 + $1.0, max($0.1, $1.1))
        }
        out +=
          "  switch\(n) -- network [\(edgeAttrs(agg.1 > 0 ? (agg.0 / Double(ranks.filter { nodeOf($0) == n }.count), agg.1) : nil, peak: nic))];\n"
      }
    }
    out += "}\n"
    return out
  }
}
