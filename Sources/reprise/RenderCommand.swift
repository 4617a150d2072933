import ArgumentParser
import Foundation
import Rendering
import Reports
import TraceModel

extension TraceDiagram.Kind: ExpressibleByArgument {}

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

  @Argument(help: "What to draw: timeline, graph, critical-path or topology.") var kind: TraceDiagram.Kind
  @OptionGroup var input: TraceInputs
  @OptionGroup var specs: SpecOptions
  @Option(name: .shortAndLong, help: "Output file (.dot, .svg or .png).") var output: String
  @Option(help: "dot, svg or png (default: from the output's extension).") var format: String?
  @Option(help: "Profiler step to draw (timeline; default: the slowest step all ranks have, else the whole trace).")
  var step: Int?
  @Option(help: "Cluster spec (topology): a name in clusters/ or a JSON file; nodes, GPUs per node, link peaks.")
  var cluster: String?
  @Option(help: "Per-rank link bandwidth peak for the topology colours, e.g. 300GB/s.") var linkBandwidth: String?
  @Option(help: "Timeline width in points.") var width = 1200.0

  var resolvedFormat: Graphviz.Format? {
    Graphviz.Format(rawValue: format ?? (output as NSString).pathExtension.lowercased())
  }

  func validate() throws {
    if resolvedFormat == nil {
      throw ValidationError("cannot tell the format from '\(output)'; give --format dot, svg or png")
    }
    _ = try linkGBps(linkBandwidth)
    if width < 200 || width > 20000 { throw ValidationError("--width: 200 to 20000 points") }
  }

  func run() throws {
    let spec = try specs.cluster(cluster)
    let graph = try input.ingest().graph
    let options = TraceDiagram.Options(
      step: step, cluster: spec, linkGBps: try linkGBps(linkBandwidth),
      hardware: kind == .topology ? try specs.library().detectHardware(graph) : nil,
      width: width)
    let bytes: [UInt8]
    do {
      bytes = try TraceDiagram.render(
        kind, graph, Timeline(measured: graph), format: resolvedFormat ?? .svg,
        options: options)
    } catch let e as Graphviz.RenderError {
      throw RunError.data("\(output): \(e.description)")
    }
    try OutputFile.write(bytes, to: output)
    print("wrote \(output) (\(bytes.count) bytes)")
  }
}
