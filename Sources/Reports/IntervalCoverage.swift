import Foundation
import Replay
import TraceModel

/// How well the job-step interval (`StepInterval`) covers one multi-step run, for the table in
/// docs/replay.md (Interval). The run is replayed as measured, so the prediction is the baseline:
///
/// - **in-sample**: does the interval contain every measured step's baseline replay (true by
///   construction: each step's baseline is a candidate), and every measured step (not by
///   construction: only the identity error of the mean step widens the range)?
/// - **leave-one-out**: for each step, the interval built from the *other* steps — does it
///   contain the held-out step's baseline replay, and its measured job step? This is the
///   question a user asks of the interval: will the next step fall inside it?
public struct IntervalCoverage: Sendable, Equatable {
  public var name: String
  public var ranks: Int
  public var steps: Int
  public var interval: StepInterval
  public var containsEveryBaselineStep: Bool
  public var containsEveryMeasuredStep: Bool
  /// Held-out steps whose baseline replay (measured job step) the other steps' interval contains.
  public var heldOutBaselineInside: Int
  public var heldOutMeasuredInside: Int

  /// The coverage of `run`'s identity interval; nil when the run has fewer than two steps.
  public init?(name: String, run: WhatIfRun) {
    let steps = run.intervalSteps(slowest: false)
    guard steps.count >= 2 else { return nil }
    self.name = name
    ranks = run.plan.graph.ranks.count
    self.steps = steps.count
    let interval = StepInterval(steps)
    self.interval = interval
    containsEveryBaselineStep = steps.allSatisfy { interval.contains($0.baseline) }
    containsEveryMeasuredStep = steps.allSatisfy { interval.contains($0.measured) }
    var (b, m) = (0, 0)
    for i in steps.indices {
      var others = steps
      others.remove(at: i)
      let loo = StepInterval(others)
      if loo.contains(steps[i].baseline) { b += 1 }
      if loo.contains(steps[i].measured) { m += 1 }
    }
    (heldOutBaselineInside, heldOutMeasuredInside) = (b, m)
  }

  /// The Markdown table of `rows` with the count and share of runs that pass each check (every
  /// step inside), as docs/replay.md shows it.
  public static func table(_ rows: [IntervalCoverage]) -> String {
    func yes(_ b: Bool) -> String { b ? "yes" : "no" }
    var lines = [
      "| trace | ranks | steps | identity error | interval (ms) | every baseline step inside | "
        + "every measured step inside | leave-one-out: baseline inside | leave-one-out: measured inside |",
      "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows {
      lines.append(
        "| \(r.name) | \(r.ranks) | \(r.steps) | "
          + String(format: "%+.3f%%", r.interval.identityErrorPct) + " | "
          + String(format: "%.3f–%.3f", r.interval.low.milliseconds, r.interval.high.milliseconds) + " | "
          + "\(yes(r.containsEveryBaselineStep)) | \(yes(r.containsEveryMeasuredStep)) | "
          + "\(r.heldOutBaselineInside)/\(r.steps) | \(r.heldOutMeasuredInside)/\(r.steps) |")
    }
    func share(_ pass: (IntervalCoverage) -> Bool) -> String {
      let n = rows.filter(pass).count
      return "\(n) of \(rows.count) ("
        + String(format: "%.0f%%", rows.isEmpty ? 0 : Double(n) / Double(rows.count) * 100)
        + ")"
    }
    lines.append(
      "| **traces passing** | | | | | \(share(\.containsEveryBaselineStep)) | \(share(\.containsEveryMeasuredStep)) | "
        + "\(share { $0.heldOutBaselineInside == $0.steps }) | \(share { $0.heldOutMeasuredInside == $0.steps }) |")
    let steps = rows.map(\.steps).reduce(0, +)
    func inside(_ count: (IntervalCoverage) -> Int) -> String {
      let n = rows.map(count).reduce(0, +)
      return "\(n) of \(steps) steps (" + String(format: "%.0f%%", steps == 0 ? 0 : Double(n) / Double(steps) * 100)
        + ")"
    }
    lines.append(
      "| **steps inside** | | \(steps) | | | | | \(inside(\.heldOutBaselineInside)) | \(inside(\.heldOutMeasuredInside)) |"
    )
    return lines.joined(separator: "\n")
  }
}
