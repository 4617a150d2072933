import Analysis
import Foundation
import Rendering
import TraceImport
import TraceModel

/// What changed between two runs, or between a run and itself under a what-if (`reprise diff`,
/// schema `reprise.diff/v1`): the job step and job window of each, and the step work's device
/// time per class and per name, sorted by impact.
public struct DiffReport: JSONContract, Equatable {
  public static let schemaName = "reprise.diff"
  public static let schemaVersion = 1

  public struct Row: Codable, Sendable, Equatable {
    public var key: String
    public var aNs: Nanoseconds
    public var bNs: Nanoseconds
    public var deltaNs: Nanoseconds
    /// Δ as a share of A's time; null when A had none.
    @NullWhenAbsent public var deltaPct: Double?
    public var aCount: Int
    public var bCount: Int

    init(_ r: RunDiff.Row) {
      key = r.key
      aNs = r.a
      bNs = r.b
      deltaNs = r.delta
      deltaPct = r.deltaPct
      aCount = r.aCount
      bCount = r.bCount
    }
  }

  public private(set) var schema = Self.schema
  /// What A and B are (paths, or a path and its what-if).
  public var a: String
  public var b: String
  /// The job window of A and B (docs/Glossary.md; v1 names).
  public var aStepNs: Nanoseconds
  public var bStepNs: Nanoseconds
  public var deltaStepNs: Nanoseconds
  /// The job step of A and B: first rank's entry to the step's last work.
  public var aJobStepNs: Nanoseconds
  public var bJobStepNs: Nanoseconds
  public var deltaJobStepNs: Nanoseconds
  public var byClass: [Row]
  public var byName: [Row]
  /// With `--whatif`: each knob in order with what it matched.
  public var knobs: [KnobRow]?

  /// The document of a comparison.
  public init(_ diff: RunDiff, a: String, b: String) {
    self.a = a
    self.b = b
    aStepNs = diff.aStep
    bStepNs = diff.bStep
    deltaStepNs = diff.deltaStep
    aJobStepNs = diff.aJobStep
    bJobStepNs = diff.bJobStep
    deltaJobStepNs = diff.deltaJobStep
    byClass = diff.rows.map(Row.init)
    byName = diff.byName.map(Row.init)
  }

  /// Two recorded runs, each at its measured timeline.
  public init(_ a: IngestResult, _ b: IngestResult, labels: (String, String)) {
    let diff = RunDiff(a: a.graph, Timeline(measured: a.graph), b: b.graph, Timeline(measured: b.graph))
    self.init(diff, a: labels.0, b: labels.1)
  }

  /// A run's identity replay against the same run under a what-if.
  public init(_ run: WhatIfRun, labels: (String, String)) {
    self.init(run.diff, a: labels.0, b: labels.1)
    knobs = run.scenario == nil ? nil : run.knobs.map(KnobRow.init)
  }

  /// The table `reprise diff` prints.
  public func text() -> String {
    func ms(_ time: Nanoseconds) -> String { String(format: "%10.3f", time.milliseconds) }
    var lines = [
      "A: \(a)", "B: \(b)",
      String(
        format: "job step: A %.3f ms, B %.3f ms, Δ %+.3f ms", aJobStepNs.milliseconds, bJobStepNs.milliseconds,
        deltaJobStepNs.milliseconds),
      String(
        format: "job window: A %.3f ms, B %.3f ms, Δ %+.3f ms", aStepNs.milliseconds, bStepNs.milliseconds,
        deltaStepNs.milliseconds),
      "device time per class, step work only (full durations, summed over ranks):",
      "class                          A ms       B ms    Δ ms      Δ %",
    ]
    for r in byClass {
      lines.append(
        r.key.padded(26) + ms(r.aNs) + " " + ms(r.bNs) + String(format: "%+9.3f", r.deltaNs.milliseconds)
          + (r.deltaPct.map { String(format: "%+8.1f%%", $0) } ?? "        -"))
    }
    return lines.joined(separator: "\n")
  }
}
