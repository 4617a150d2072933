import Analysis
import ArgumentParser
import CostModels
import Foundation
import Rendering
import Replay
import TraceImport
import TraceModel

struct RenderCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "render",
    abstract: "Draw a trace: timeline, dependency graph, critical path or cluster topology (DOT, SVG, PNG).",
    discussion: """
      timeline: one row per device stream of every rank over one step, boxes sized by time, idle \
      gaps coloured by cause. graph: the dependency graph collapsed to op classes, critical path in \
      red. critical-path: the cross-rank critical path as a chain. topology: ranks on nodes \
      (--cluster, else one node), links coloured by achieved bus bandwidth over peak \
      (--link-bandwidth, the cluster spec, or the hardware's interconnect). The format follows \
      -o's extension (.dot, .svg, .png) unless --format says. See docs/rendering.md.
      """)

  enum Kind: String, ExpressibleByArgument, CaseIterable {
    case timeline, graph
    case criticalPath = "critical-path"
    case topology
  }

  @Argument(help: "What to draw: timeline, graph, critical-path or topology.")
  var kind: Kind

  @OptionGroup var input: TraceInputs

  @Option(name: .shortAndLong, help: "Output file (.dot, .svg or .png).")
  var output: String

  @Option(help: "dot, svg or png (default: from the output's extension).")
  var format: String?

  @Option(help: "Profiler step to draw (timeline; default: the slowest step all ranks have, else the whole trace).")
  var step: Int?

  @Option(help: "Cluster spec JSON (topology): nodes, GPUs per node, link peaks.")
  var cluster: String?

  @Option(help: "Per-rank link bandwidth peak for the topology colours, e.g. 300GB/s.")
  var linkBandwidth: String?

  @Option(help: "Timeline width in points.")
  var width = 1200.0

  func validate() throws {
    if resolvedFormat == nil {
      throw ValidationError("cannot tell the format from '\(output)'; give --format dot, svg or png")
    }
    _ = try parseLinkGBps(linkBandwidth)
    if width < 200 || width > 20000 { throw ValidationError("--width: 200 to 20000 points") }
  }

  var resolvedFormat: Graphviz.Format? {
    if let format { return Graphviz.Format(rawValue: format) }
    return Graphviz.Format(rawValue: (output as NSString).pathExtension.lowercased())
  }

  func run() throws {
    let spec = try loadCluster(cluster)
    let result = try input.ingest()
    let g = result.graph
    let t = Timeline(measured: g)
    let (dot, engine) = try Self.dot(kind, g, t, step: step, cluster: spec,
                                     linkGBps: try parseLinkGBps(linkBandwidth), width: width)
    let bytes: [UInt8]
    do { bytes = try Graphviz.render(dot, format: resolvedFormat!, engine: engine) } catch let e as Graphviz.RenderError {
      throw DataError(message: "\(output): \(e.description)")
    }
    guard FileManager.default.createFile(atPath: output, contents: Data(bytes)) else {
      throw DataError(message: "\(output): cannot write")
    }
    print("wrote \(output) (\(bytes.count) bytes)")
  }

  /// The DOT text for `kind` and the Graphviz engine that lays it out.
  static func dot(_ kind: Kind, _ g: EventGraph, _ t: Timeline, step: Int?, cluster: ClusterSpec?, linkGBps: Double?,
                  width: Double = 1200) throws -> (String, String) {
    switch kind {
    case .timeline:
      let (lo, hi, label) = try window(g, t, step: step)
      let bubbles = BubbleAnalysis(g, timeline: t)
      let title = "\(g.ranks.count) rank(s), \(label): \(String(format: "%.3f", Double(hi - lo) / 1e6)) ms; idle gaps coloured by cause"
      let d = TraceTimelineRenderer.diagram(g, timeline: t, bubbles: bubbles, from: lo, to: hi, title: title, width: width)
      if d.rows.isEmpty { throw DataError(message: "no device work in \(label) to draw") }
      return (d.dot(), "nop")
    case .graph:
      return (DependencyGraphRenderer.dot(g, timeline: t, criticalPath: CriticalPath(g, timeline: t)), "dot")
    case .criticalPath:
      let cp = CriticalPath(g, timeline: t)
      if cp.segments.isEmpty { throw DataError(message: "no work to follow: the trace has no device work or host calls") }
      return (CriticalPathRenderer.dot(g, criticalPath: cp), "dot")
    case .topology:
      let bw = BandwidthAnalysis(g, timeline: t)
      var link = linkGBps
      if link == nil, cluster == nil { link = detectHardware(g)?.interconnect?.GBpsPerDirection }
      return (TopologyRenderer.dot(g, bandwidth: bw, cluster: cluster, linkGBps: link), "dot")
    }
  }

  /// The time window of `step` (job-wide), or the default: the critical path's step, else the whole trace.
  static func window(_ g: EventGraph, _ t: Timeline, step: Int?) throws -> (Int64, Int64, String) {
    if let step {
      let spans = g.steps.filter { $0.number == step && $0.event != .none }
      guard !spans.isEmpty else {
        let have = Set(g.steps.map(\.number)).sorted().map(String.init).joined(separator: ", ")
        throw ValidationError("--step \(step): no such profiler step (the trace has: \(have.isEmpty ? "none" : have))")
      }
      return (spans.map { t.start[$0.event.index] }.min()!, spans.map { t.end[$0.event.index] }.max()!, "step \(step)")
    }
    let cp = CriticalPath(g, timeline: t)
    return (cp.windowStartNs, cp.windowEndNs, cp.step.map { "step \($0)" } ?? "whole trace")
  }
}
