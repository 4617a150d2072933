/// A small JSON document held as a tree: used for top-level metadata such as
/// `distributedInfo` and `deviceProperties`, never for the event array.
enum JSONValue: Sendable, Equatable {
  case null
  case bool(Bool)
  case int(Int64)
  /// A non-negative integer above Int64.max.
  case uint(UInt64)
  case double(Double)
  case string(String)
  case array([JSONValue])
  case object([(String, JSONValue)])

  static func == (l: JSONValue, r: JSONValue) -> Bool {
    switch (l, r) {
    case (.null, .null): true
    case (.bool(let a), .bool(let b)): a == b
    case (.int(let a), .int(let b)): a == b
    case (.uint(let a), .uint(let b)): a == b
    case (.double(let a), .double(let b)): a == b
    case (.string(let a), .string(let b)): a == b
    case (.array(let a), .array(let b)): a == b
    case (.object(let a), .object(let b)): a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
    default: false
    }
  }

  subscript(key: String) -> JSONValue? {
    if case .object(let members) = self { return members.first { $0.0 == key }?.1 }
    return nil
  }

  var intValue: Int64? {
    switch self {
    case .int(let v): v
    case .double(let d) where d == d.rounded() && abs(d) < 9e18: Int64(d)
    case .string(let s): Int64(s)
    default: nil
    }
  }
  var stringValue: String? { if case .string(let s) = self { s } else { nil } }
  var arrayValue: [JSONValue]? { if case .array(let a) = self { a } else { nil } }

  /// Short name of the value's type, for error messages.
  var typeName: String {
    switch self {
    case .null: "null"
    case .bool: "a boolean"
    case .int, .uint, .double: "a number"
    case .string: "a string"
    case .array: "an array"
    case .object: "an object"
    }
  }
}

extension JSONScanner {
  /// Parses one value into a tree. Use only for small values.
  mutating func parseValue(depth: Int = 0) throws -> JSONValue {
    if depth > JSONScanner.maxDepth { throw fail(expected: "nesting depth at most \(JSONScanner.maxDepth)") }
    guard let b = try peek() else { throw fail(expected: "a value") }
    switch b {
    case UInt8(ascii: "{"):
      pos += 1
      var members: [(String, JSONValue)] = []
      if try peek() == UInt8(ascii: "}") {
        pos += 1
        return .object(members)
      }
      repeat {
        let k = try parseString()
        let key = string(k)
        try expect(UInt8(ascii: ":"), "':' after object key")
        members.append((key, try parseValue(depth: depth + 1)))
      } while try commaOr(UInt8(ascii: "}"), "',' or '}'")
      return .object(members)
    case UInt8(ascii: "["):
      pos += 1
      var items: [JSONValue] = []
      if try peek() == UInt8(ascii: "]") {
        pos += 1
        return .array(items)
      }
      repeat { items.append(try parseValue(depth: depth + 1)) } while try commaOr(UInt8(ascii: "]"), "',' or ']'")
      return .array(items)
    case UInt8(ascii: "\""): return .string(string(try parseString()))
    case UInt8(ascii: "t"):
      try literal("true")
      return .bool(true)
    case UInt8(ascii: "f"):
      try literal("false")
      return .bool(false)
    case UInt8(ascii: "n"):
      try literal("null")
      return .null
    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
      let n = try parseNumber()
      if let v = n.int64 { return .int(v) }
      if n.isInteger && !n.negative && !n.integerOverflow { return .uint(n.integer) }
      return .double(double(n))
    default: throw fail(expected: "a value")
    }
  }
}
