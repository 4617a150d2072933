import Foundation
import Replay
import TraceModel

extension WhatIfRun {
  /// The table `reprise replay` and `reprise whatif` print: per rank and step, measured,
  /// (baseline,) predicted, the identity error and the collective wait. Deterministic: the
  /// replay's wall time is in `timingText`, not here.
  public func text() -> String {
    let g = plan.graph
    var lines = ["replayed \(g.eventCount) events on \(g.lanes.count) lanes of \(g.ranks.count) rank(s)"]
    if let folding { lines.append(Self.foldingLine(folding)) }
    if let scenario {
      lines.append("what-if: \(scenario.description)")
      if scenario.usesProcessGroups { lines += processGroupLines() }
      lines += transferSection?.lines ?? []
      lines += networkSection?.lines ?? []
      if !plan.cpuOnlyRanks.isEmpty {
        lines.append(
          "  CPU-only rank(s) \(plan.cpuOnlyRanks.map(\.rawValue).sorted().map(String.init).joined(separator: ", ")): "
            + "compute knobs and rank slowdowns act on their operators (aten::); gloo collectives are barriers")
      }
    }
    for k in knobs {
      if let b = k.baseline { lines.append("  \(k.key)=\(k.value) scales \(k.matched) transfers from \(b)") }
    }
    if steps.contains(where: { $0.step == nil }) {
      lines.append("  (ranks without ProfilerStep annotations are timed over the whole trace: step 'all')")
    }
    let isWhatIf = scenario != nil
    lines.append("  per-rank steps (annotation start to the step's last work):")
    lines.append(
      "  rank  step      measured ms   \(isWhatIf ? "baseline ms   predicted ms" : "predicted ms")   error  "
        + (isWhatIf ? "coll. wait ms, all steps (baseline → predicted)" : "coll. wait ms, all steps"))
    for (i, s) in steps.enumerated() { lines.append(row(s, baselineSteps[i])) }
    lines += summaryLines()
    lines += backupLines()
    if isWhatIf {
      lines += predictedVerdict.lines.map { $0.replacingOccurrences(of: "verdict: ", with: "verdict (predicted): ") }
    }
    return lines.joined(separator: "\n")
  }

  /// The folding line: how many ranks were replayed through a representative.
  static func foldingLine(_ f: RankFolding) -> String {
    if let knob = f.offReason {
      return "  folding: off under \(knob) (it singles out ranks; 0 folded, every rank replayed)"
    }
    guard f.foldedRanks > 0 else { return "  folding: no symmetric ranks (0 folded; every rank replayed)" }
    let groups = f.classes.filter { $0.count > 1 }.map { c in
      c.count <= 4 ? c.map(\.description).joined(separator: ",") : "\(c[0])…\(c[c.count - 1]) (\(c.count))"
    }
    return "  folding: \(f.rankCount) ranks in \(f.classes.count) classes (\(f.foldedRanks) folded into their "
      + "representative; symmetric: \(groups.joined(separator: "; ")))"
  }

  /// How long the baseline replay took, wall clock (`-v` prints it on standard error; it differs
  /// from run to run, so it is in no table and no JSON).
  public var timingText: String {
    let rate = replaySeconds > 0 ? Double(plan.graph.eventCount) / replaySeconds / 1e6 : 0
    return "replay took \(TextFormat.compact(replaySeconds * 1000)) ms (\(TextFormat.compact(rate)) M events/s)"
  }

  /// The job step line (first rank's entry to the step's last work, all ranks) and its named
  /// variants: the slowest per-rank step and the job window (docs/Glossary.md).
  func summaryLines() -> [String] {
    let (jm, jp) = (measuredJobStep.milliseconds, predictedJobStep.milliseconds)
    let (sm, sp) = (measuredStep.milliseconds, predictedStep.milliseconds)
    let (wm, wp) = (measuredSpans.meanJobWindow.milliseconds, predictedSpans.meanJobWindow.milliseconds)
    let (ji, si) = (Self.range(jobStepInterval), Self.range(slowestStepInterval))
    guard scenario != nil else {
      return [
        String(format: "  job step: measured %.3f ms, predicted %.3f ms ", jm, jp) + ji,
        String(format: "  slowest per-rank step: measured %.3f ms, predicted %.3f ms ", sm, sp) + si
          + String(format: "; job window: measured %.3f ms, predicted %.3f ms", wm, wp),
        fidelity.line,
      ]
    }
    let (jb, sb) = (baselineJobStep.milliseconds, baselineStep.milliseconds)
    return [
      String(format: "  job step: measured %.3f ms, baseline %.3f ms, predicted %.3f ms ", jm, jb, jp) + ji
        + String(format: ", speedup %.3fx", jp > 0 ? jb / jp : 0),
      String(format: "  slowest per-rank step: measured %.3f ms, baseline %.3f ms, predicted %.3f ms ", sm, sb, sp)
        + si
        + String(
          format: ", speedup %.3fx; job window: measured %.3f ms, predicted %.3f ms", sp > 0 ? sb / sp : 0, wm, wp),
      fidelity.line,
    ]
  }

  /// `(low–high)` in milliseconds: the interval of a predicted step (docs/replay.md, Interval).
  static func range(_ i: StepInterval) -> String {
    String(format: "(%.3f–%.3f)", i.low.milliseconds, i.high.milliseconds)
  }

  /// The what-if line and the job step line only (the demo's short form).
  /// The process groups the knobs can act on, the data-parallel ones marked.
  func processGroupLines() -> [String] {
    let pgs = plan.processGroups
    var lines = ["  process groups (data-parallel: \(pgs.knowsDataParallel ? pgs.dataParallelRule : "unknown")):"]
    for g in pgs.groups {
      lines.append("    \(g.label): \(g.instances) collectives\(g.isDataParallel ? ", data-parallel" : "")")
    }
    return lines
  }

  public func headline() -> String {
    text().split(separator: "\n").filter { $0.hasPrefix("what-if") || $0.hasPrefix("  job step:") }
      .joined(separator: "\n")
  }

  private func row(_ s: StepTime, _ base: StepTime) -> String {
    let isWhatIf = scenario != nil
    let step = s.step.map { "#\($0)" } ?? "all"
    let m = String(format: "%13.3f", s.measured.milliseconds)
    let p = String(format: "%13.3f", s.predicted.milliseconds)
    let b = String(format: "%13.3f", base.predicted.milliseconds)
    let err = String(format: "%+7.2f%%", isWhatIf ? base.errorPct : s.errorPct)
    let wb = (baselineWait[s.rank] ?? .zero).milliseconds
    let wp = (predictedWait[s.rank] ?? .zero).milliseconds
    let wait = isWhatIf ? String(format: "%10.3f → %.3f", wb, wp) : String(format: "%10.3f", wp)
    return String(format: "  %4d  %-6@", Int(s.rank.rawValue), step) + m + "  " + (isWhatIf ? b + "  " + p : p) + "  "
      + err + "  " + wait
  }
}
