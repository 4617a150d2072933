import Analysis
import Foundation
import Rendering
import TraceModel

/// Kernels or operators ranked by total or self time (`reprise top`, schema `reprise.top/v1`):
/// HTA's kernel breakdown and TraceLens' ops table in one (definitions: `TopTable`).
public struct TopReport: JSONContract, Equatable {
  public static let schemaName = "reprise.top"
  public static let schemaVersion = 1

  public private(set) var schema = Self.schema
  public var kind: String
  public var by: String
  /// The phase kept, or `all`.
  public var phase: String
  /// Distinct names before the cut, and Σ of the ranked time over all of them.
  public var names: Int
  public var totalNs: Nanoseconds
  public var rows: [TopRow]

  public init(_ t: TopTable) {
    kind = t.kind.rawValue
    by = t.order.rawValue
    phase = t.phase?.rawValue ?? "all"
    names = t.names
    totalNs = t.total
    rows = t.rows.enumerated().map { TopRow($1, table: t, position: $0 + 1) }
  }

  /// The table of a graph's measured timeline.
  public init(
    _ g: EventGraph, kind: TopTable.Kind, by order: TopTable.Order, phase: Phase?, ranks: Set<Int>?, limit: Int
  ) {
    self.init(
      TopTable(g, timeline: Timeline(measured: g), kind: kind, order: order, phase: phase, ranks: ranks, limit: limit))
  }

  /// The CSV of the rows.
  /// - Throws: `EncodingError` (never for these rows).
  public func csv() throws -> String { try CSVTable("top", rows).csv() }

  /// The table `reprise top` prints.
  public func text() -> String {
    let head =
      "top \(rows.count) of \(names) \(kind == "op" ? "operators" : "kernels") by \(by) time"
      + (phase == "all" ? "" : ", phase \(phase)") + String(format: " (Σ %.3f ms, whole trace)", totalNs.milliseconds)
    var lines = [
      head,
      "   #  " + "name".padded(56) + "  count    total ms     self ms    mean µs     p50 µs     p99 µs  share  shapes",
    ]
    for r in rows { lines.append(r.textLine) }
    if rows.isEmpty && kind == "kernel" {
      lines.append("  (no device work in the trace; --kind op ranks the operators)")
    }
    return lines.joined(separator: "\n")
  }
}

/// One row of a top-N table (`top.csv`; the report's `top.rows`).
public struct TopRow: TableRow, Equatable {
  public var kind: String
  public var phase: String
  public var by: String
  public var position: Int
  public var name: String
  public var category: String
  public var count: Int
  public var totalNs: Nanoseconds
  public var selfNs: Nanoseconds
  public var meanNs: Nanoseconds
  public var p50Ns: Nanoseconds
  public var p99Ns: Nanoseconds
  public var maxNs: Nanoseconds
  /// The ranked time over the table's Σ.
  public var share: Double
  @NullWhenAbsent public var deviceSelfNs: Nanoseconds?
  @NullWhenAbsent public var deviceTotalNs: Nanoseconds?
  @NullWhenAbsent public var launches: Int?
  /// Up to three input shapes, most frequent first: `[[8, 16], [16]] ×12; …`.
  public var shapes: String

  public enum CodingKeys: String, CodingKey, CaseIterable {
    case kind, phase, by, position, name, category, count, totalNs, selfNs, meanNs, p50Ns, p99Ns, maxNs, share,
      deviceSelfNs, deviceTotalNs, launches, shapes
  }

  init(_ r: TopTable.Row, table t: TopTable, position: Int) {
    kind = t.kind.rawValue
    phase = t.phase?.rawValue ?? "all"
    by = t.order.rawValue
    self.position = position
    name = r.name
    category = r.category
    count = r.count
    totalNs = r.total
    selfNs = r.selfTime
    meanNs = r.mean
    p50Ns = r.p50
    p99Ns = r.p99
    maxNs = r.max
    share = VerdictSection.share(t.order == .total ? r.total : r.selfTime, t.total)
    deviceSelfNs = r.deviceSelf
    deviceTotalNs = r.deviceTotal
    launches = r.launches
    shapes = r.shapes.map { "\($0.dims) ×\($0.count)" }.joined(separator: "; ")
  }

  var textLine: String {
    let label = name.count > 56 ? String(name.prefix(55)) + "…" : name
    let f = { (t: Nanoseconds, w: Int, ms: Bool) in
      String(format: "%\(w).3f", ms ? t.milliseconds : t.microseconds)
    }
    return String(format: "%4d  ", position) + label.padded(56) + String(format: "%7d", count) + f(totalNs, 12, true)
      + f(selfNs, 12, true) + f(meanNs, 11, false) + f(p50Ns, 11, false) + f(p99Ns, 11, false)
      + String(format: "%6.1f%%", 100 * share) + "  " + shapes
  }
}
