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
      timeline: a row per device stream (host thread on CPU-only traces) of every rank over one step, \
      work strong, idle light by cause, the critical path in red, SVG tooltips; --ranks, --streams, \
      --window and --collapse-ranks choose what it shows. graph: op classes, critical path in red. \
      critical-path: the chain across ranks. topology: ranks in order on nodes (--cluster), links \
      coloured by bus bandwidth over peak (--link-bandwidth, the cluster, or the hardware), over 100 % \
      flagged. The format follows -o's extension unless --format says. See docs/rendering.md.
      """)

  @Argument(help: "What to draw: timeline, graph, critical-path or topology.") var kind: TraceDiagram.Kind
  @OptionGroup var input: TraceInputs
  @OptionGroup var specs: SpecOptions
  @Option(name: .shortAndLong, help: "Output file (.dot, .svg or .png).") var output: String
  @Option(help: "dot, svg or png (default: from the output's extension).") var format: String?
  @Option(help: "Profiler step (timeline, graph, critical-path; default: the slowest step all ranks have).")
  var step: Int?
  @Option(help: "Cluster spec (topology): a name in clusters/ or a JSON file; nodes, GPUs per node, link peaks.")
  var cluster: String?
  @Option(help: "Per-rank link bandwidth peak for the topology colours, e.g. 300GB/s.") var linkBandwidth: String?
  @Option(help: "Timeline width in points.") var width = 1200.0
  @Option(help: "Timeline: ranks to draw, e.g. 0-3,7 (default: all).") var ranks: String?
  @Option(help: "Timeline: all, compute, comm, or stream/thread ids such as 7,22 (default: all).")
  var streams: String?
  @Option(help: "Timeline: START:END from the step's start, e.g. 2ms:5.5ms (either side may be empty).")
  var window: String?
  @Flag(help: "Timeline: draw ranks that look identical (same streams, boxes, critical path) once.")
  var collapseRanks = false
  @Option(help: "Timeline: how far apart box edges may be for --collapse-ranks, e.g. 50us (default: one point).")
  var collapseTolerance: String?

  var resolvedFormat: Graphviz.Format? {
    Graphviz.Format(rawValue: format ?? (output as NSString).pathExtension.lowercased())
  }

  func validate() throws {
    if resolvedFormat == nil {
      throw ValidationError("cannot tell the format from '\(output)'; give --format dot, svg or png")
    }
    _ = try linkGBps(linkBandwidth)
    if width < 200 || width > 20000 { throw ValidationError("--width: 200 to 20000 points") }
    _ = try timeline()
  }

  /// The timeline's filters (malformed values, or filters given to another kind: usage errors).
  func timeline() throws -> (TimelineSelection, (start: Nanoseconds?, end: Nanoseconds?)?) {
    do {
      return try TraceDiagram.timelineFlags(
        kind, step: step, ranks: ranks, streams: streams, window: window, collapseRanks: collapseRanks,
        collapseTolerance: collapseTolerance)
    } catch let e as RunError { throw ValidationError(e.description) }
  }

  func run() throws {
    let spec = try specs.cluster(cluster)
    let graph = try input.ingest().graph
    let (selection, window) = try timeline()
    let options = TraceDiagram.Options(
      step: step, cluster: spec, linkGBps: try linkGBps(linkBandwidth),
      hardware: kind == .topology ? try specs.library().detectHardware(graph) : nil,
      width: width, selection: selection, window: window)
    let rendered: (bytes: [UInt8], warnings: [String])
    do {
      rendered = try TraceDiagram.renderReporting(
        kind, graph, Timeline(measured: graph), format: resolvedFormat ?? .svg,
        options: options)
    } catch let e as Graphviz.RenderError {
      throw RunError.data("\(output): \(e.description)")
    }
    for w in rendered.warnings { printError("warning: \(w)") }
    try OutputFile.write(rendered.bytes, to: output)
    print("wrote \(output) (\(rendered.bytes.count) bytes)")
  }
}
