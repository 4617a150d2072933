import CJansson

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A JSON value to be written: reports and `--json` outputs are built as this tree and
/// encoded by jansson with sorted keys, so the same value always gives the same bytes.
public indirect enum JSONDocument: Sendable, Equatable {
  case object([String: JSONDocument])
  case array([JSONDocument])
  case int(Int64)
  case double(Double)
  case string(String)
  case bool(Bool)
  case null

  public static func int(_ v: Int) -> JSONDocument { .int(Int64(v)) }

  /// Encodes with sorted keys. `pretty` indents by 2; otherwise compact on one line.
  /// Doubles are written with up to 12 significant digits.
  public func encoded(pretty: Bool = true) -> String { Self.dump(toJansson(), pretty: pretty) }

  /// Writes `root` with sorted keys and releases it.
  static func dump(_ root: UnsafeMutablePointer<json_t>, pretty: Bool) -> String {
    defer { cj_decref(root) }
    // JSON_SORT_KEYS 0x80, JSON_INDENT(n) n, JSON_COMPACT 0x20, JSON_REAL_PRECISION(n) (n & 0x1F) << 11.
    // JSON_ENCODE_ANY 0x200: scalars at the root too.
    let flags = 0x80 | 0x200 | (12 << 11) | (pretty ? 2 : 0x20)
    guard let cstr = json_dumps(root, flags) else { return "null" }
    defer { free(cstr) }
    return String(cString: cstr)
  }

  /// A new jansson value (reference owned by the caller).
  func toJansson() -> UnsafeMutablePointer<json_t> {
    switch self {
    case .object(let members):
      // jansson returns nil only when it cannot allocate; the document then degrades to null.
      guard let o = json_object() else { return json_null() }
      for (k, v) in members { json_object_set_new(o, k, v.toJansson()) }
      return o
    case .array(let items):
      guard let a = json_array() else { return json_null() }
      for v in items { json_array_append_new(a, v.toJansson()) }
      return a
    case .int(let v): return json_integer(json_int_t(v))
    case .double(let v): return v.isFinite ? json_real(v) : json_null()
    case .string(let s): return json_stringn(s, s.utf8.count)
    case .bool(let b): return b ? json_true() : json_false()
    case .null: return json_null()
    }
  }
}
