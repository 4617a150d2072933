import Foundation
import Replay
import TraceModel

extension WhatIfRun {
  /// The table `reprise replay` and `reprise whatif` print: per rank and step, measured,
  /// (baseline,) predicted, the identity error and the collective wait.
  public func text() -> String {
    let g = plan.graph
    let events = g.eventCount
    let rate = replaySeconds > 0 ? Double(events) / replaySeconds / 1e6 : 0
    var lines = [
      "replayed \(events) events on \(g.lanes.count) lanes of \(g.ranks.count) rank(s) in "
        + "\(TextFormat.compact(replaySeconds * 1000)) ms (\(TextFormat.compact(rate)) M events/s)"
    ]
    if let scenario { lines.append("what-if: \(scenario.description)") }
    if steps.contains(where: { $0.step == nil }) {
      lines.append("  (ranks without ProfilerStep annotations are timed over the whole trace: step 'all')")
    }
    let isWhatIf = scenario != nil
    lines.append(
      "  rank  step      measured ms   \(isWhatIf ? "baseline ms   predicted ms" : "predicted ms")   error  "
        + (isWhatIf ? "coll. wait ms, all steps (baseline → predicted)" : "coll. wait ms, all steps"))
    for (i, s) in steps.enumerated() { lines.append(row(s, baselineSteps[i])) }
    let jm = measuredStep.milliseconds
    let jp = predictedStep.milliseconds
    if isWhatIf {
      let jb = baselineStep.milliseconds
      lines.append(
        String(
          format: "  step (slowest rank): measured %.3f ms, baseline %.3f ms, predicted %.3f ms, speedup %.3fx",
          jm, jb, jp, jp > 0 ? jb / jp : 0))
      lines += predictedVerdict.lines.map { $0.replacingOccurrences(of: "verdict: ", with: "verdict (predicted): ") }
    } else {
      lines.append(String(format: "  step (slowest rank): measured %.3f ms, predicted %.3f ms", jm, jp))
    }
    return lines.joined(separator: "\n")
  }

  /// The what-if line and the job step line only (the demo's short form).
  public func headline() -> String {
    text().split(separator: "\n").filter { $0.hasPrefix("what-if") || $0.contains("step (slowest rank)") }
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
