import Foundation
import Rendering
import TraceModel

/// A row of a report table: a `Codable` value whose columns are its coding keys, in order.
///
/// One type gives both the JSON array in the report and the CSV file, so the two cannot drift.
/// The column order is `CodingKeys.allCases` (declared in CSV order); `csvColumns` may list a
/// subset (the summary keeps its lists out of the CSV).
public protocol TableRow: Codable, Sendable {
  associatedtype CodingKeys: CodingKey & CaseIterable & RawRepresentable where CodingKeys.RawValue == String
  /// The CSV header, in order; by default every coding key.
  static var csvColumns: [String] { get }
}

extension TableRow {
  public static var csvColumns: [String] { CodingKeys.allCases.map(\.rawValue) }
}

/// One section of a report as a CSV table: RFC 4180, a header row, `null` as an empty field;
/// control characters in names written as `\uXXXX` (`SafeText`), so one row stays one line.
public struct CSVTable: Sendable, Equatable {
  /// The file name without `.csv`.
  public var name: String
  public var columns: [String]
  public var rows: [[JSONDocument]]

  /// The table of `rows`, columns from `Row.csvColumns`.
  /// - Throws: `EncodingError` when a row does not encode to an object.
  public init<Row: TableRow>(_ name: String, _ rows: [Row]) throws {
    self.name = name
    let columns = Row.csvColumns
    self.columns = columns
    let encoder = JSONDocumentEncoder()
    self.rows = try rows.map { row in
      guard case .object(let members) = try encoder.encode(row) else {
        throw EncodingError.invalidValue(row, .init(codingPath: [], debugDescription: "a table row must be an object"))
      }
      return columns.map { members[$0] ?? .null }
    }
  }

  /// The CSV text.
  public func csv() -> String {
    var out = columns.joined(separator: ",") + "\n"
    for r in rows { out += r.map(Self.field).joined(separator: ",") + "\n" }
    return out
  }

  static func field(_ v: JSONDocument) -> String {
    switch v {
    case .int(let i): return String(i)
    case .double(let d): return d.isFinite ? String(format: "%.12g", d) : ""
    case .bool(let b): return b ? "true" : "false"
    case .null: return ""
    case .string(let raw):
      let s = SafeText.escape(raw)
      let quote = s.contains { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }
      return quote ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    case .object, .array: return ""
    }
  }
}
