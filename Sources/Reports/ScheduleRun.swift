import Foundation
import Rendering
import Schedules
import TraceExport
import TraceModel

/// One generated pipeline schedule, simulated and written as asked: `reprise schedule run NAME`.
///
/// Simulates `name` over `costs` (Schedules), applies PipeOffload when asked, and writes the
/// diagram and the Chakra execution traces; the value holds what the command prints.
public struct ScheduleRun: Sendable {
  /// What to simulate and what to write.
  public struct Request: Sendable {
    public var name: String
    public var stages: Int
    public var microbatches: Int
    /// Chunks per stage for `interleaved-1f1b`, `zeropp` and `hanayo` (nil: `ScheduleGenerators.defaultChunks`).
    public var chunks: Int?
    public var costs: PipelineCosts
    /// PipeOffload (arXiv 2503.01328): the share of activations moved to host memory over `pcie`.
    public var offload: (ratio: Double, pcie: BytesPerSecond)?
    /// Where to write the schedule diagram, in `format`.
    public var diagram: (path: String, format: Graphviz.Format)?
    /// A folder for the schedule as Chakra execution traces, one `NAME.STAGE.et` per stage.
    public var chakraDirectory: String?

    public init(
      name: String, stages: Int, microbatches: Int, chunks: Int? = nil, costs: PipelineCosts,
      offload: (ratio: Double, pcie: BytesPerSecond)? = nil, diagram: (path: String, format: Graphviz.Format)? = nil,
      chakraDirectory: String? = nil
    ) {
      (self.name, self.stages, self.microbatches, self.chunks, self.costs) = (name, stages, microbatches, chunks, costs)
      (self.offload, self.diagram, self.chakraDirectory) = (offload, diagram, chakraDirectory)
    }
  }

  public let result: ScheduleResult
  /// The `reprise.schedule/v1` document.
  public let report: ScheduleReport
  /// What was written as Chakra, when asked.
  public let chakra: ChakraExporter.Summary?

  /// Simulates and writes.
  /// - Throws: `ScheduleError` for a schedule or shape that cannot be built;
  ///   `Graphviz.RenderError`, `RunError.data` (unwritable diagram) and `ChakraExporter.WriteError`
  ///   for the outputs.
  public init(_ request: Request) throws {
    var r = try ScheduleSimulator.simulate(
      request.name, stages: request.stages, microbatches: request.microbatches, chunks: request.chunks,
      costs: request.costs)
    if let (ratio, pcie) = request.offload {
      r = ScheduleSimulator.offload(r, costs: request.costs, ratio: ratio, pcie: pcie)
    }
    if let (path, format) = request.diagram {
      try OutputFile.write(
        try Graphviz.render(ScheduleRenderer.diagram(r).dot(), format: format, engine: "nop"), to: path)
    }
    if let dir = request.chakraDirectory {
      let g = r.eventGraph()
      chakra = try ChakraExporter.write(g, timeline: Timeline(measured: g), to: dir, name: r.name)
    } else {
      chakra = nil
    }
    result = r
    report = ScheduleReport(r)
  }
}
