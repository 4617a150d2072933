import CJansson
import TraceModel

/// Encodes any `Encodable` value into a `JSONDocument`, which jansson then writes with sorted
/// keys: every JSON contract is a `Codable` type, and this is the one path from a value to its
/// bytes.
///
/// Integers stay integers (`Int`, `Int64`, and unit types whose raw value is integral), floating
/// point values stay reals (written with 12 significant digits; NaN and ±∞ become `null`).
/// `nil` optionals are left out, as `Codable`'s synthesized `encodeIfPresent` asks; a property
/// marked `@NullWhenAbsent` is written as `null` instead.
///
///     let document = try JSONDocumentEncoder().encode(summary)
///     print(document.encoded(pretty: true))
public struct JSONDocumentEncoder: Sendable {
  public init() {}

  /// The document for `value`.
  /// - Throws: `EncodingError.invalidValue` when `value` encodes nothing at all.
  public func encode<T: Encodable>(_ value: T) throws -> JSONDocument {
    let encoder = DocumentEncoder(codingPath: [])
    try value.encode(to: encoder)
    guard let document = encoder.storage.document else {
      throw EncodingError.invalidValue(
        value, EncodingError.Context(codingPath: [], debugDescription: "\(T.self) encoded nothing"))
    }
    return document
  }

  /// `value` as JSON text with sorted keys, as `encode(value).encoded(pretty:)` would write it,
  /// without building the intermediate `JSONDocument` (the report's hot path).
  /// - Throws: `EncodingError.invalidValue` when `value` encodes nothing at all.
  public func encodedText<T: Encodable>(_ value: T, pretty: Bool = true) throws -> String {
    let encoder = DocumentEncoder(codingPath: [])
    try value.encode(to: encoder)
    guard let root = encoder.storage.jansson() else {
      throw EncodingError.invalidValue(
        value, EncodingError.Context(codingPath: [], debugDescription: "\(T.self) encoded nothing"))
    }
    return JSONDocument.dump(root, pretty: pretty)
  }
}

/// A tree under construction: containers are reference nodes so nested containers can keep
/// filling after they are handed out, as `Encoder` requires.
///
/// Members and items are stored properties, not enum payloads, so an append mutates in place
/// (an enum payload would be copied on every append: quadratic in the array's length).
private final class Node {
  enum Kind { case empty, value, object, array }
  var kind = Kind.empty
  var value = JSONDocument.null
  var members: [String: Node] = [:]
  /// Scalar members, kept without a node each (most of a report's values); a key is in
  /// `members` or here, never both.
  var scalars: [String: JSONDocument] = [:]
  var items: [Node] = []

  func set(_ v: JSONDocument) {
    (kind, value, members, scalars, items) = (.value, v, [:], [:], [])
  }

  func setScalar(_ v: JSONDocument, forKey key: String) {
    makeObject()
    if !members.isEmpty { members[key] = nil }
    scalars[key] = v
  }

  var document: JSONDocument? {
    switch kind {
    case .empty: return nil
    case .value: return value
    case .object: return .object(members.compactMapValues(\.document).merging(scalars) { $1 })
    case .array: return .array(items.map { $0.document ?? .null })
    }
  }

  /// The tree as a new jansson value; nil for an empty node (left out of its object).
  func jansson() -> UnsafeMutablePointer<json_t>? {
    switch kind {
    case .empty: return nil
    case .value: return value.toJansson()
    case .object:
      guard let o = json_object() else { return json_null() }
      for (k, v) in members { if let j = v.jansson() { json_object_set_new(o, k, j) } }
      for (k, v) in scalars { json_object_set_new(o, k, v.toJansson()) }
      return o
    case .array:
      guard let a = json_array() else { return json_null() }
      for v in items { json_array_append_new(a, v.jansson() ?? json_null()) }
      return a
    }
  }

  func objectChild(_ key: String) -> Node {
    makeObject()
    if let existing = members[key] { return existing }
    if !scalars.isEmpty { scalars[key] = nil }
    let child = Node()
    members[key] = child
    return child
  }

  func makeObject() {
    if kind == .object { return }
    (kind, members, scalars, items) = (.object, [:], [:], [])
  }

  func makeArray() {
    if kind == .array { return }
    (kind, members, scalars, items) = (.array, [:], [:], [])
  }

  func appendChild() -> Node {
    makeArray()
    let child = Node()
    items.append(child)
    return child
  }

  var count: Int { kind == .array ? items.count : 0 }
}

private struct DocumentEncoder: Encoder {
  let storage: Node
  var codingPath: [any CodingKey]
  var userInfo: [CodingUserInfoKey: Any] { [:] }

  init(codingPath: [any CodingKey], storage: Node = Node()) {
    self.codingPath = codingPath
    self.storage = storage
  }

  func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
    storage.makeObject()
    return KeyedEncodingContainer(KeyedContainer<Key>(node: storage, codingPath: codingPath))
  }

  func unkeyedContainer() -> any UnkeyedEncodingContainer {
    storage.makeArray()
    return UnkeyedContainer(node: storage, codingPath: codingPath)
  }

  func singleValueContainer() -> any SingleValueEncodingContainer {
    SingleContainer(node: storage, codingPath: codingPath)
  }
}

/// A value written as one JSON scalar. One conformance check per value finds it (the runtime
/// caches conformance lookups), instead of a cast to every scalar type in turn; unit types are
/// written from their raw value directly, as their `Codable` conformance would write them.
private protocol JSONScalar { var jsonScalar: JSONDocument { get } }

extension String: JSONScalar { var jsonScalar: JSONDocument { .string(self) } }
extension Bool: JSONScalar { var jsonScalar: JSONDocument { .bool(self) } }
extension Double: JSONScalar { var jsonScalar: JSONDocument { .double(self) } }
extension Float: JSONScalar { var jsonScalar: JSONDocument { .double(Double(self)) } }
extension Int: JSONScalar { var jsonScalar: JSONDocument { .int(Int64(self)) } }
extension Int64: JSONScalar { var jsonScalar: JSONDocument { .int(self) } }
extension Int32: JSONScalar { var jsonScalar: JSONDocument { .int(Int64(self)) } }
extension Int16: JSONScalar { var jsonScalar: JSONDocument { .int(Int64(self)) } }
extension Int8: JSONScalar { var jsonScalar: JSONDocument { .int(Int64(self)) } }
extension UInt8: JSONScalar { var jsonScalar: JSONDocument { .int(Int64(self)) } }
extension UInt16: JSONScalar { var jsonScalar: JSONDocument { .int(Int64(self)) } }
extension UInt32: JSONScalar { var jsonScalar: JSONDocument { .int(Int64(self)) } }
extension UInt: JSONScalar {
  var jsonScalar: JSONDocument { self <= UInt(Int64.max) ? .int(Int64(self)) : .double(Double(self)) }
}
extension UInt64: JSONScalar {
  var jsonScalar: JSONDocument { self <= UInt64(Int64.max) ? .int(Int64(self)) : .double(Double(self)) }
}
extension Nanoseconds: JSONScalar { var jsonScalar: JSONDocument { .int(rawValue) } }
extension Bytes: JSONScalar { var jsonScalar: JSONDocument { .int(rawValue) } }
extension FLOPs: JSONScalar { var jsonScalar: JSONDocument { .double(rawValue) } }
extension BytesPerSecond: JSONScalar { var jsonScalar: JSONDocument { .double(rawValue) } }
extension FLOPsPerSecond: JSONScalar { var jsonScalar: JSONDocument { .double(rawValue) } }

/// Encodes `value` into `node`: scalars directly, everything else through its own `encode(to:)`.
/// The coding path is built only for the latter (scalars, most values, never need it).
private func encodeValue(
  _ value: some Encodable, into node: Node, codingPath: @autoclosure () -> [any CodingKey]
) throws {
  if let s = value as? any JSONScalar {
    node.set(s.jsonScalar)
  } else {
    try value.encode(to: DocumentEncoder(codingPath: codingPath(), storage: node))
  }
}

private struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
  let node: Node
  var codingPath: [any CodingKey]

  mutating func encodeNil(forKey key: Key) throws { node.setScalar(.null, forKey: key.stringValue) }

  mutating func encode(_ value: some Encodable, forKey key: Key) throws {
    if let s = value as? any JSONScalar {
      node.setScalar(s.jsonScalar, forKey: key.stringValue)
    } else {
      try value.encode(to: DocumentEncoder(codingPath: codingPath + [key], storage: node.objectChild(key.stringValue)))
    }
  }

  // The primitives the synthesized conformances call directly: no cast, no node.
  mutating func encode(_ value: String, forKey key: Key) throws {
    node.setScalar(.string(value), forKey: key.stringValue)
  }
  mutating func encode(_ value: Bool, forKey key: Key) throws { node.setScalar(.bool(value), forKey: key.stringValue) }
  mutating func encode(_ value: Double, forKey key: Key) throws {
    node.setScalar(.double(value), forKey: key.stringValue)
  }
  mutating func encode(_ value: Int, forKey key: Key) throws {
    node.setScalar(.int(Int64(value)), forKey: key.stringValue)
  }
  mutating func encode(_ value: Int64, forKey key: Key) throws { node.setScalar(.int(value), forKey: key.stringValue) }

  mutating func nestedContainer<NestedKey: CodingKey>(
    keyedBy keyType: NestedKey.Type, forKey key: Key
  ) -> KeyedEncodingContainer<NestedKey> {
    let child = node.objectChild(key.stringValue)
    child.makeObject()
    return KeyedEncodingContainer(KeyedContainer<NestedKey>(node: child, codingPath: codingPath + [key]))
  }

  mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
    let child = node.objectChild(key.stringValue)
    child.makeArray()
    return UnkeyedContainer(node: child, codingPath: codingPath + [key])
  }

  mutating func superEncoder() -> any Encoder {
    DocumentEncoder(codingPath: codingPath, storage: node.objectChild("super"))
  }

  mutating func superEncoder(forKey key: Key) -> any Encoder {
    DocumentEncoder(codingPath: codingPath + [key], storage: node.objectChild(key.stringValue))
  }
}

private struct IndexKey: CodingKey {
  var stringValue: String { String(intValue ?? 0) }
  var intValue: Int?
  init(_ index: Int) { intValue = index }
  init?(stringValue: String) { nil }
  init?(intValue: Int) { self.intValue = intValue }
}

private struct UnkeyedContainer: UnkeyedEncodingContainer {
  let node: Node
  var codingPath: [any CodingKey]
  var count: Int { node.count }

  mutating func encodeNil() throws { node.appendChild().set(.null) }

  mutating func encode(_ value: some Encodable) throws {
    let index = count
    try encodeValue(value, into: node.appendChild(), codingPath: codingPath + [IndexKey(index)])
  }

  mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<
    NestedKey
  > {
    let path = codingPath + [IndexKey(count)]
    let child = node.appendChild()
    child.makeObject()
    return KeyedEncodingContainer(KeyedContainer<NestedKey>(node: child, codingPath: path))
  }

  mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
    let path = codingPath + [IndexKey(count)]
    let child = node.appendChild()
    child.makeArray()
    return UnkeyedContainer(node: child, codingPath: path)
  }

  mutating func superEncoder() -> any Encoder {
    DocumentEncoder(codingPath: codingPath + [IndexKey(count)], storage: node.appendChild())
  }
}

private struct SingleContainer: SingleValueEncodingContainer {
  let node: Node
  var codingPath: [any CodingKey]

  mutating func encodeNil() throws { node.set(.null) }

  mutating func encode(_ value: some Encodable) throws {
    try encodeValue(value, into: node, codingPath: codingPath)
  }
}
