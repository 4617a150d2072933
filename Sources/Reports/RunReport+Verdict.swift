import Analysis
import Foundation
import TraceModel

extension RunReport {
  /// Rows of the report's top tables: the top kernels and operators over all phases, then per
  /// phase present (forward, backward, optimizer, other), by total time.
  public static let topOverall = 10
  public static let topPerPhase = 5

  static func topSection(_ index: AnalysisIndex) -> TopSection {
    let g = index.graph
    let phases = Phase.of(g)
    var rows: [TopRow] = []
    for kind in TopTable.Kind.allCases {
      let instances = TopTable.instances(index: index, kind: kind)
      rows += TopReport(TopTable(instances, graph: g, kind: kind, limit: topOverall)).rows
      for phase in Phase.allCases where phases.contains(phase) {
        let t = TopTable(instances, graph: g, kind: kind, phase: phase, phases: phases, limit: topPerPhase)
        rows += TopReport(t).rows
      }
    }
    return TopSection(overall: topOverall, perPhase: topPerPhase, rows: rows)
  }

  /// What `reprise report` prints beside the JSON: the verdicts, each rank's step-time
  /// distribution, and the top kernels (or operators, without device work) by total time.
  public func headline() -> String {
    var lines = verdict.lines
    lines.append("step times (per rank, all steps):")
    lines += stepTimes.ranks.map { "  " + $0.line }
    let kernels = top.rows.filter { $0.kind == "kernel" && $0.phase == "all" }
    let shown = kernels.isEmpty ? top.rows.filter { $0.kind == "op" && $0.phase == "all" } : kernels
    if !shown.isEmpty {
      lines.append("top \(kernels.isEmpty ? "operators" : "kernels") by total time (reprise top for more):")
      for r in shown.prefix(5) {
        let name = r.name.count > 70 ? String(r.name.prefix(69)) + "…" : r.name
        lines.append(
          String(format: "  %8.3f ms  %5.1f%%  %6d×  ", r.totalNs.milliseconds, 100 * r.share, r.count) + name)
      }
    }
    return lines.joined(separator: "\n")
  }
}
