import Rendering

/// A JSON document Reprise writes: a `Codable` value that carries its schema name and version.
///
/// The encoded object has a `"schema"` key, `"<schemaName>/v<schemaVersion>"`, and a
/// `"toolVersion"` key, the `ToolVersion` that wrote it (added by `document()` and `json()`, so
/// every contract has it and none stores it), and is written by jansson with sorted keys, so the
/// key order is fixed and the same value always gives the same bytes. Conforming types keep a
/// stored `schema` property initialised to `Self.schema`.
public protocol JSONContract: Codable, Sendable {
  /// The schema name, e.g. `reprise.ingest`.
  static var schemaName: String { get }
  /// The schema version; bumped when a documented key changes meaning or disappears. Values
  /// that are not a function of the inputs (wall-clock rates) are never part of a contract.
  static var schemaVersion: Int { get }
}

extension JSONContract {
  /// `"<schemaName>/v<schemaVersion>"`, the value of the `schema` key.
  public static var schema: String { "\(schemaName)/v\(schemaVersion)" }

  /// The value as a JSON document tree, with `toolVersion`.
  /// - Throws: `EncodingError` when the value encodes nothing (never for a contract with a schema).
  public func document() throws -> JSONDocument { try JSONDocumentEncoder().encode(Stamped(self)) }

  /// The value as JSON text, with `toolVersion`: indented by 2 when `pretty`, else one line; no
  /// trailing newline.
  /// - Throws: `EncodingError` as `document()`.
  public func json(pretty: Bool = true) throws -> String {
    try JSONDocumentEncoder().encodedText(Stamped(self), pretty: pretty)
  }
}

/// A JSON array of contract values (`reprise schedule compare --json`), each with `toolVersion`.
extension Array where Element: JSONContract {
  /// The values as one JSON array.
  /// - Throws: `EncodingError` as `JSONContract.document()`.
  public func json(pretty: Bool = true) throws -> String {
    try JSONDocumentEncoder().encodedText(map(Stamped.init), pretty: pretty)
  }
}

/// A contract value encoded with one more top-level key, `toolVersion`.
private struct Stamped<Value: JSONContract>: Encodable {
  let value: Value
  init(_ value: Value) { self.value = value }

  private enum Key: String, CodingKey { case toolVersion }

  func encode(to encoder: any Encoder) throws {
    try value.encode(to: encoder)
    var container = encoder.container(keyedBy: Key.self)
    try container.encode(ToolVersion.current, forKey: .toolVersion)
  }
}
