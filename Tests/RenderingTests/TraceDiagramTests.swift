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
    pp, timeline: pt, bubbles: BubbleAnalysis(pp, timeline: pt), criticalPath: cp,
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

/// Utilisation reads low to high in fifths, pale to dark; above the peak is its own colour.
@Test func utilisationColoursRunLowToHighAndFlagOverPeak() {
  let bins = TracePalette.utilisationBins.map(\.color)
  #expect(TracePalette.utilisation(0) == bins[0] && TracePalette.utilisation(0.19) == bins[0])
  #expect(TracePalette.utilisation(0.5) == bins[2] && TracePalette.utilisation(1) == bins[4])
  #expect(TracePalette.utilisation(1.01) == TracePalette.overPeakColor && !bins.contains(TracePalette.overPeakColor))
}

/// Names reach DOT through one escaper: control characters visible, quotes and backslashes
/// escaped, `&` literal (Graphviz would read `&#27;` as ESC and `&foo;` as an entity).
@Test func dotTextEscapesControlCharactersQuotesAndEntities() throws {
  let name = "a\u{0}b\u{7}\u{1b}[31m \"q\" \\l &#27; &foo;"
  let text = DOTText.escape(name)
  #expect(text == #"a\\u0000b\\u0007\\u001b[31m \"q\" \\l &amp;#27; &amp;foo;"#)
  let dot = "digraph { a [label=\"\(text)\"]; }"
  let svg = String(decoding: try Graphviz.render(dot, format: .svg), as: UTF8.self)
  #expect(svg.contains("a\\u0000b\\u0007\\u001b[31m &quot;q&quot; \\l &amp;#27; &amp;foo;"), "\(svg)")
  #expect(!svg.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" })
}

/// A DOT syntax error comes back as one error naming what Graphviz said; nothing is printed.
@Test func graphvizErrorsAreReturnedNotPrinted() {
  #expect {
    try Graphviz.render("digraph { a -> ", format: .svg)
  } throws: { e in
    "\(e)".hasPrefix("graphviz cannot parse the DOT text: ") && "\(e)".contains("syntax error")
  }
}

/// The axis: ticks 1, 2 or 5 × 10^k apart, read from the origin.
@Test func timelineAxisTicksAreRoundNumbersFromTheOrigin() {
  var d = TimelineDiagram(
    title: "t",
    rows: [(name: "r", boxes: [TimelineDiagram.Box(start: 1_000_000, end: 21_823_000, label: "", fill: "#000")])],
    legend: [])
  d.axisOrigin = 0
  let labels = d.dot().split(separator: "\n").filter { $0.contains(" label\" [label=\"") }.map {
    $0.split(separator: "\"")[3]
  }
  #expect(labels == ["2", "4", "6", "8", "10", "12", "14", "16", "18", "20"])
}
