import Analysis
import CostModels
import Foundation
import TraceModel

/// The cluster: one box per node holding its GPUs (ranks, left to right in rank order), each GPU
/// linked to the node's switch (NVLink/xGMI) and the switch to the network (NIC), links coloured
/// by utilisation: the rank's achieved bus bandwidth over its collectives (Σ bytes × bus factor /
/// Σ transfer time, split into intra-node and cross-node instances) as a share of the link's
/// peak, in fifths from pale (idle-ish) to dark blue (near the peak), with the legend under the
/// drawing reading low to high.
///
/// Nodes come from the cluster spec (`gpusPerNode`); without one every rank is drawn on one node,
/// and the title says so. A utilisation over 100 % cannot be a real rate: the transfer times
/// are too short (ranks' clocks disagree, or a collective's transfer overlaps its peers' late
/// arrival) or the peak is wrong. Such links are drawn magenta, labelled as a measurement
/// problem, and returned as a warning.
public enum TopologyRenderer {
  public static func dot(_ g: EventGraph, bandwidth bw: BandwidthAnalysis, cluster: ClusterSpec?, linkGBps: Double?)
    -> String
  {
    diagram(g, bandwidth: bw, cluster: cluster, linkGBps: linkGBps).dot
  }

  /// The DOT text, and one warning line when a link is over its peak.
  public static func diagram(
    _ g: EventGraph, bandwidth bw: BandwidthAnalysis, cluster: ClusterSpec?, linkGBps: Double?
  ) -> (dot: String, warnings: [String]) {
    var t = Topology(g, cluster: cluster, linkGBps: linkGBps)
    t.measure(bw)
    var body = ""
    for n in t.usedNodes { body += t.node(n) }
    var lines = [
      "Topology: \(t.ranks.count) of \(t.world) rank(s)"
        + (cluster.map { " on \($0.name) (\($0.gpusPerNode) GPU/node)" } ?? "")
        + "; link colour: achieved bus bandwidth / link peak",
      cluster == nil
        ? "nodes unknown (no --cluster): all ranks drawn on one node" : "nodes from the cluster spec, ranks in order",
    ]
    var warnings: [String] = []
    if !t.overPeak.isEmpty {
      let worst = t.overPeak.max { $0.u < $1.u }.map { String(format: "%.0f%%", 100 * $0.u) } ?? ""
      lines.append(
        "over 100% of peak on \(t.overPeak.count) link(s), up to \(worst): a measurement problem, not a rate")
      warnings.append(
        "topology: \(t.overPeak.count) link(s) above 100% of their peak ("
          + t.overPeak.map { "\($0.link) \(String(format: "%.0f%%", 100 * $0.u))" }.joined(separator: ", ")
          + "): an achieved bus bandwidth above the link's peak is a measurement problem (transfer times "
          + "too short, e.g. clock skew between ranks, or a wrong peak: check --link-bandwidth or --cluster)")
    }
    var out =
      "graph topology {\n  graph [fontname=\"Helvetica\", fontsize=14, labelloc=t, label=\"\(lines.map(DOTText.escape).joined(separator: "\\n"))\", rankdir=TB];\n"
    out += "  node [fontname=\"Helvetica\", fontsize=10];\n  edge [fontname=\"Helvetica\", fontsize=8];\n"
    if t.multiNode { out += "  network [label=\"network\", shape=ellipse, style=filled, fillcolor=\"#eeeeee\"];\n" }
    out += body
    out += legend(below: t.multiNode ? ["network"] : t.usedNodes.map { "switch\($0)" })
    out += "}\n"
    return (out, warnings)
  }

  /// The colour key as an HTML-like table under the drawing, low to high, then the flags.
  static func legend(below anchors: [String]) -> String {
    var cells = "<td>link utilisation:</td>"
    for (label, color) in TracePalette.utilisationBins {
      let font = color == "#3182bd" || color == "#08519c" ? "<font color=\"white\">\(label)</font>" : label
      cells += "<td bgcolor=\"\(color)\">\(font)</td>"
    }
    cells +=
      "<td bgcolor=\"\(TracePalette.overPeakColor)\"><font color=\"white\">over 100%: measurement problem</font></td>"
    cells += "<td>- - - idle (no collective)</td>"
    var out =
      "  legend [shape=plaintext, fontsize=9, label=<<table border=\"0\" cellborder=\"1\" cellspacing=\"0\" cellpadding=\"4\"><tr>\(cells)</tr></table>>];\n"
    for a in anchors { out += "  \(a) -- legend [style=invis];\n" }
    return out
  }
}

/// Ranks on nodes, their achieved bus bandwidth per link, and the DOT of each node.
private struct Topology {
  let g: EventGraph
  let ranks: [Int]
  let world: Int
  let perNode: Int
  let nodes: [ClusterSpec.Node]
  let linkGBps: Double?
  let hasCluster: Bool
  /// Per rank: bus bytes and transfer time, intra vs. cross node.
  var intra: [Int: (Double, Int64)] = [:]
  var inter: [Int: (Double, Int64)] = [:]
  var overPeak: [(link: String, u: Double)] = []

  init(_ g: EventGraph, cluster: ClusterSpec?, linkGBps: Double?) {
    self.g = g
    ranks = g.ranks.map { Int($0.rank.rawValue) }.sorted()
    world = max(g.ranks.compactMap(\.worldSize).max() ?? 0, (ranks.last ?? 0) + 1)
    perNode = max(cluster?.gpusPerNode ?? world, 1)
    nodes = cluster?.expandedNodes ?? []
    self.linkGBps = linkGBps
    hasCluster = cluster != nil
  }

  func nodeOf(_ r: Int) -> Int { r / perNode }
  var usedNodes: [Int] { Array(Set(ranks.map(nodeOf))).sorted() }
  var multiNode: Bool { usedNodes.count > 1 || hasCluster }

  func spec(_ n: Int) -> (intra: Double?, nic: Double?) {
    if nodes.isEmpty { return (linkGBps, nil) }
    let s = nodes[min(n, nodes.count - 1)]
    return (s.intraNodeGBps, s.nicGBps)
  }

  mutating func measure(_ bw: BandwidthAnalysis) {
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
  }

  /// Edge attributes of a link carrying `v` (bus bytes, transfer ns) against `peak` GB/s.
  mutating func edgeAttrs(_ v: (Double, Int64)?, peak: Double?, link: String) -> String {
    guard let v, v.1 > 0 else { return "color=\"#bbbbbb\", style=dashed, label=\"idle\"" }
    let gbps = v.0 / Double(v.1)
    guard let peak, peak > 0 else { return "color=\"#555555\", label=\"\(String(format: "%.1f", gbps)) GB/s\"" }
    let u = gbps / peak
    let peakText = String(format: peak == peak.rounded() ? "%.0f" : "%.1f", peak)
    let text = "\(String(format: "%.1f", gbps)) of \(peakText) GB/s (\(String(format: "%.0f", 100 * u))%)"
    if u > 1 {
      overPeak.append((link, u))
      return
        "color=\"\(TracePalette.overPeakColor)\", penwidth=3, style=bold, fontcolor=\"\(TracePalette.overPeakColor)\", label=\"\(text)\\nover peak: measurement problem\""
    }
    return "color=\"\(TracePalette.utilisation(u))\", penwidth=\(String(format: "%.1f", 1 + 4 * u)), label=\"\(text)\""
  }

  /// One node: its switch, its GPUs left to right in rank order, their links; and the switch's
  /// link to the network.
  mutating func node(_ n: Int) -> String {
    let members = ranks.filter { nodeOf($0) == n }
    let device = g.ranks.first { nodeOf(Int($0.rank.rawValue)) == n }?.deviceNames.first ?? "GPU"
    var out = "  subgraph cluster_node\(n) {\n    label=\"node \(n)\"; style=rounded; color=\"#888888\";\n"
    out +=
      "    switch\(n) [label=\"switch\\n\(spec(n).intra.map { String(format: "%.0f GB/s per GPU", $0) } ?? "peak unknown")\", shape=hexagon, style=filled, fillcolor=\"#f5f5f5\"];\n"
    for r in members {
      out +=
        "    gpu\(r) [label=\"rank \(r)\\n\(DOTText.escape(TracePalette.short(device, 24)))\", shape=box, style=\"rounded,filled\", fillcolor=\"#f2f2f2\"];\n"
    }
    // Flat invisible edges keep the GPUs left to right in rank order.
    if members.count > 1 {
      out += "    { rank=same; " + members.map { "gpu\($0)" }.joined(separator: "; ") + "; }\n"
      out += "    " + members.map { "gpu\($0)" }.joined(separator: " -- ") + " [style=invis];\n"
    }
    for r in members {
      out += "    gpu\(r) -- switch\(n) [\(edgeAttrs(intra[r], peak: spec(n).intra, link: "rank \(r) intra-node"))];\n"
    }
    out += "  }\n"
    if multiNode {
      let agg = members.compactMap { inter[$0] }.reduce((0.0, Int64(0))) { ($0.0 + $1.0, max($0.1, $1.1)) }
      let v = agg.1 > 0 ? (agg.0 / Double(members.count), agg.1) : nil
      out += "  switch\(n) -- network [\(edgeAttrs(v, peak: spec(n).nic, link: "node \(n) network"))];\n"
    }
    return out
  }
}
