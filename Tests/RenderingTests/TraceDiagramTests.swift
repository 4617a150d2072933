import Analysis
import CostModels
import Foundation
import Rendering
import TestSupport
import Testing
import TraceImport
import TraceModel

private func load(_ set: String) throws -> (EventGraph, Timeline) {
  let g = try Ingest.run(paths: [TestPaths.bundledTraces + "/" + set]).graph
  return (g, Timeline(measured: g))
}

/// The four trace diagrams of the bundled samples, as DOT.
private func diagrams() throws -> [(String, String, String)] {
  let (pp, pt) = try load("pipeline-2rank")
  let cp = CriticalPath(pp, timeline: pt)
  let timeline = TraceTimelineRenderer.diagram(
    pp, timeline: pt, bubbles: BubbleAnalysis(pp, timeline: pt),
    from: cp.windowStart, to: cp.windowEnd, title: "pipeline-2rank step 0")
  let (ddp, dt) = try load("ddp-4rank")
  let cluster = try ClusterSpec.load(TestPaths.packageRoot + "/Models/clusters/dgx-h100-4node.json")
  return [
    ("trace-timeline-pipeline.dot", timeline.dot(), "nop"),
    ("trace-graph-pipeline.dot", DependencyGraphRenderer.dot(pp, timeline: pt, criticalPath: cp), "dot"),
    ("trace-critical-path-pipeline.dot", CriticalPathRenderer.dot(pp, criticalPath: cp), "dot"),
    (
      "trace-topology-ddp.dot",
      TopologyRenderer.dot(ddp, bandwidth: BandwidthAnalysis(ddp, timeline: dt), cluster: cluster, linkGBps: nil), "dot"
    ),
  ]
}

@Test func traceDiagramDOTGoldens() throws {
  for (name, dot, _) in try diagrams() { try assertGolden(dot, name) }
}

@Test func traceDiagramsRenderSVGAndPNG() throws {
  for (name, dot, engine) in try diagrams() {
    let svg = String(decoding: try Graphviz.render(dot, format: .svg, engine: engine), as: UTF8.self)
    #expect(svg.contains("<svg") && svg.contains("</svg>"), "\(name)")
    let png = try Graphviz.render(dot, format: .png, engine: engine)
    #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]) && png.count > 2000, "\(name)")
  }
}

/// What a reader needs is in the drawings: rank rows and the bubble causes on the timeline, the
/// critical-path highlight, the rank hop, and link utilisation against the cluster's NVLink peak.
@Test func traceDiagramsCarryTheirContent() throws {
  let d = Dictionary(uniqueKeysWithValues: try diagrams().map { ($0.0, $0.1) })
  let timeline = d["trace-timeline-pipeline.dot"]!
  #expect(
    timeline.contains("rank 0 stream 7") && timeline.contains("rank 1 stream 20")
      && timeline.contains(TracePalette.bubble(.recv)))
  #expect(
    d["trace-graph-pipeline.dot"]!.contains("color=\"#d62728\"") && d["trace-graph-pipeline.dot"]!.contains("sendRecv"))
  #expect(
    d["trace-critical-path-pipeline.dot"]!.contains("rank 0 → 1")
      && d["trace-critical-path-pipeline.dot"]!.contains("rank 1 → 0"))
  // ddp-4rank all-reduces run at 180 GB/s busbw (generator), 40% of 450 GB/s NVLink.
  #expect(d["trace-topology-ddp.dot"]!.contains("180.0 of 450 GB/s (40%)"))
}

@Test func utilisationColoursRunGreenToRed() {
  #expect(TracePalette.utilisation(0) == "#00c828" && TracePalette.utilisation(1) == "#ff0028")
  #expect(TracePalette.utilisation(0.5) == "#ffc828" && TracePalette.utilisation(2) == TracePalette.utilisation(1))
}
