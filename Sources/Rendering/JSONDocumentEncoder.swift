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
  var items: [Node] = []

  func set(_ v: JSONDocument) {
    (kind, value, members, items) = (.value, v, [:], [])
  }

  var document: JSONDocument? {
    switch kind {
    case .empty: return nil
    case .value: return value
    case .object: return .object(members.compactMapValues(\.document))
    case .array: return .array(items.map { $0.document ?? .null })
    }
  }

  func objectChild(_ key: String) -> Node {
    makeObject()
    if let existing = members[key] { return existing }
    let child = Node()
    members[key] = child
    return child
  }

  func makeObject() {
    if kind == .object { return }
    (kind, members, items) = (.object, [:], [])
  }

  func makeArray() {
    if kind == .array { return }
    (kind, members, items) = (.array, [:], [])
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

/// Scalars as documents; `nil` when the value is not a scalar the writer knows.
private func scalar(_ value: some Encodable) -> JSONDocument? {
  switch value {
  case let v as String: return .string(v)
  case let v as Bool: return .bool(v)
  case let v as Double: return .double(v)
  case let v as Float: return .double(Double(v))
  case let v as Int: return .int(Int64(v))
  case let v as Int64: return .int(v)
  case let v as Int32: return .int(Int64(v))
  case let v as Int16: return .int(Int64(v))
  case let v as Int8: return .int(Int64(v))
  case let v as UInt8: return .int(Int64(v))
  case let v as UInt16: return .int(Int64(v))
  case let v as UInt32: return .int(Int64(v))
  case let v as UInt: return v <= UInt(Int64.max) ? .int(Int64(v)) : .double(Double(v))
  case let v as UInt64: return v <= UInt64(Int64.max) ? .int(Int64(v)) : .double(Double(v))
  default: return nil
  }
}

/// Encodes `value` into `node`: scalars directly, everything else through its own `encode(to:)`.
private func encodeValue(_ value: some Encodable, into node: Node, codingPath: [any CodingKey]) throws {
  if let s = scalar(value) {
    node.set(s)
  } else {
    try value.encode(to: DocumentEncoder(codingPath: codingPath, storage: node))
  }
}

private struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
  let node: Node
  var codingPath: [any CodingKey]

  mutating func encodeNil(forKey key: Key) throws {
    node.objectChild(key.stringValue).set(.null)
  }

  mutating func encode(_ value: some Encodable, forKey key: Key) throws {
    try encodeValue(value, into: node.objectChild(key.stringValue), codingPath: codingPath + [key])
  }

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
    let path = codingPath + [IndexKey(count)]
    try encodeValue(value, into: node.appendChild(), codingPath: path)
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
