import Foundation
import Schedules

/// Draws a simulated pipeline schedule as the Zero Bubble paper does: one row per stage, one box
/// per op placed and sized by time (idle gaps visible), F/B/W colours, micro-batch numbers
/// (`mb·chunk` for interleaved schedules).
public enum ScheduleRenderer {
  public static let colors: [PipelineOp.Kind: String] = [.F: "#8ecae6", .B: "#ffb703", .W: "#90be6d", .BW: "#fb8500"]

  public static func diagram(_ r: ScheduleResult) -> TimelineDiagram {
    let rows = r.ops.enumerated().map { s, ops in
      (
        name: "stage \(s)",
        boxes: ops.map { op, start, end in
          TimelineDiagram.Box(
            start: start.rawValue, end: end.rawValue, label: "\(op.microbatch)\(r.chunks > 1 ? "·\(op.chunk)" : "")",
            fill: colors[op.kind] ?? "#cccccc")
        }
      )
    }
    let title =
      "\(r.name): p=\(r.stages) m=\(r.microbatches)\(r.chunks > 1 ? " v=\(r.chunks)" : ""), makespan \(String(format: "%.3f", r.makespan.milliseconds)) ms, bubble rate \(String(format: "%.4f", r.bubbleRate))"
    let legend = [("F", PipelineOp.Kind.F), ("B", .B), ("W", .W), ("B+W", .BW)].map {
      ($0.0, colors[$0.1] ?? "#cccccc")
    }
    return TimelineDiagram(title: title, rows: rows, legend: legend)
  }
}
