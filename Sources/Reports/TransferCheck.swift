import CostModels
import Foundation
import Replay
import TraceModel

/// A hardware transfer checked against a trace of the same workload measured on the target
/// (`reprise whatif A --hardware NAME --compare B`, schema `reprise.transfercheck/v1`): the
/// predicted job step beside B's measured one, and class by class the predicted time of A's work
/// beside B's measured time (docs/models/transfer.md, "Validation").
public struct TransferCheck: JSONContract, Equatable {
  public static let schemaName = "reprise.transfercheck"
  public static let schemaVersion = 1

  public struct ClassRow: Codable, Sendable, Equatable {
    public var workClass: String
    /// A's events of the class, and B's.
    public var sourceEvents: Int
    public var targetEvents: Int
    /// Σ A's measured, Σ A's predicted, Σ B's measured durations.
    public var sourceNs: Nanoseconds
    public var predictedNs: Nanoseconds
    public var measuredNs: Nanoseconds
    /// (predicted − measured) / measured × 100, 1 decimal; nil when B has none of the class.
    public var errorPct: Double?
    enum CodingKeys: String, CodingKey {
      case workClass = "class"
      case sourceEvents, targetEvents, sourceNs, predictedNs, measuredNs, errorPct
    }
  }

  public private(set) var schema = Self.schema
  public var source: String
  public var target: String
  /// A's measured job step, the prediction on the target, and B's measured job step.
  public var sourceJobStepNs: Nanoseconds
  public var predictedJobStepNs: Nanoseconds
  public var measuredJobStepNs: Nanoseconds
  /// (predicted − measured) / measured × 100, 2 decimals.
  public var errorPct: Double
  public var classes: [ClassRow]

  /// `run` (A under a hardware transfer) checked against `measured` (B, recorded on the target).
  /// - Throws: `RunError.usage` when `run` has no hardware transfer; `ReplayError` or
  ///   `RunError.data` when B cannot be replayed.
  public init(_ run: WhatIfRun, measuredOnTarget b: EventGraph) throws {
    guard let transfer = run.scenario?.transfer, let section = run.transferSection else {
      throw RunError.usage("--compare needs --hardware NAME: it checks a hardware transfer")
    }
    source = transfer.source.name
    target = transfer.target.name
    let bRun = try WhatIfRun(graph: b, scenario: nil)
    sourceJobStepNs = run.measuredJobStep
    predictedJobStepNs = run.predictedJobStep
    measuredJobStepNs = bRun.measuredJobStep
    errorPct = Self.error(predictedJobStepNs, measuredJobStepNs, digits: 100) ?? 0
    var measured: [String: (Int, Nanoseconds)] = [:]
    let plan = bRun.plan
    // The run's timed work, as in the transfer's classes (own time of CPU-only operators).
    let work = plan.timedWork
    for e in 0..<b.eventCount {
      guard let c = HardwareTransfer.workClass(plan, e) else { continue }
      let old = measured[c.rawValue] ?? (0, .zero)
      measured[c.rawValue] = (old.0 + 1, old.1 + work[e])
    }
    let names = HardwareTransfer.WorkClass.allCases.map(\.rawValue)
    classes = names.compactMap { name in
      let a = section.classes.first { $0.workClass == name }
      let m = measured[name]
      guard a != nil || m != nil else { return nil }
      let predicted = a?.predictedNs ?? .zero
      return ClassRow(
        workClass: name, sourceEvents: a?.events ?? 0, targetEvents: m?.0 ?? 0, sourceNs: a?.sourceNs ?? .zero,
        predictedNs: predicted, measuredNs: m?.1 ?? .zero, errorPct: Self.error(predicted, m?.1 ?? .zero, digits: 10))
    }
  }

  static func error(_ predicted: Nanoseconds, _ measured: Nanoseconds, digits: Double) -> Double? {
    guard measured > .zero else { return nil }
    return ((Double(predicted.rawValue) / Double(measured.rawValue) - 1) * 100 * digits).rounded() / digits
  }

  /// The comparison as a table.
  public func text() -> String {
    var lines = [
      String(
        format: "check against a trace measured on %@: predicted job step %.3f ms, measured %.3f ms (%+.2f%%); "
          + "recorded on %@: %.3f ms", target, predictedJobStepNs.milliseconds, measuredJobStepNs.milliseconds,
        errorPct, source, sourceJobStepNs.milliseconds),
      "  class           events (src/tgt)   source ms  predicted ms  measured ms   error",
    ]
    for c in classes {
      lines.append(
        String(
          format: "  %@ %6d/%-6d %12.3f %13.3f %12.3f  %@",
          c.workClass.padding(toLength: 13, withPad: " ", startingAt: 0),
          c.sourceEvents, c.targetEvents, c.sourceNs.milliseconds, c.predictedNs.milliseconds,
          c.measuredNs.milliseconds,
          c.errorPct.map { String(format: "%+.1f%%", $0) } ?? "—"))
    }
    return lines.joined(separator: "\n")
  }
}
