import Foundation
import Rendering
import Schedules
import TestSupport
import Testing
import TraceModel

/// Compares `text` with the golden file; `RECORD_GOLDENS=1` rewrites it and fails the run.
func assertGolden(_ text: String, _ name: String) throws {
  let path = TestPaths.packageRoot + "/Tests/RenderingTests/Goldens/" + name
  if ProcessInfo.processInfo.environment["RECORD_GOLDENS"] != nil {
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    Issue.record("recorded \(name); run again without RECORD_GOLDENS")
    return
  }
  let golden = try String(contentsOfFile: path, encoding: .utf8)
  #expect(text == golden, "\(name) differs from its golden; RECORD_GOLDENS=1 to update after checking the diagram")
}

private func zbH1() throws -> ScheduleResult {
  let c = PipelineCosts(
    stages: 4, forward: Nanoseconds(1_000_000), backward: Nanoseconds(1_000_000), weight: Nanoseconds(1_000_000))
  return try ScheduleSimulator.simulate("zb-h1", stages: 4, microbatches: 8, costs: c)
}

@Test func scheduleDiagramDOTGolden() throws {
  try assertGolden(ScheduleRenderer.diagram(try zbH1()).dot(), "zb-h1-p4-m8.dot")
  let interleaved = try ScheduleSimulator.simulate(
    "interleaved-1f1b", stages: 2, microbatches: 4, chunks: 2,
    costs: PipelineCosts(stages: 2, forward: Nanoseconds(1_000_000), backward: Nanoseconds(2_000_000), weight: .zero))
  try assertGolden(ScheduleRenderer.diagram(interleaved).dot(), "interleaved-p2-m4-v2.dot")
}

@Test func scheduleDiagramRendersSVGAndPNG() throws {
  let dot = ScheduleRenderer.diagram(try zbH1()).dot()
  let svg = String(decoding: try Graphviz.render(dot, format: .svg, engine: "nop"), as: UTF8.self)
  #expect(svg.contains("<svg") && svg.contains("stage 3") && svg.contains("p=4 m=8"))
  let png = try Graphviz.render(dot, format: .png, engine: "nop")
  #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]) && png.count > 1000)
  #expect(throws: Graphviz.RenderError.self) { try Graphviz.render("digraph { a -> ", format: .svg) }
}
