import CJansson
import CZlib
import Foundation
import TraceModel

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A PyTorch host execution trace (`ExecutionTraceObserver`, JSON, plain or gzip), schema
/// versions 1.0.1 through 1.1.1-chakra.0.0.4:
/// - 1.0.1: flat node fields `parent`, `rf_id`, `tid`, `inputs` (values), `input_shapes`,
///   `input_types`, `outputs`, …;
/// - 1.0.2+: `ctrl_deps` (the parent), `attrs: [{name, type, value}]` (rf_id, tid, …),
///   `inputs/outputs: {values, shapes, types}`;
/// - "ET+" (Chakra's trace_link output) adds `ts`/`dur` (µs) to nodes.
/// Tensor inputs and outputs are `[tensor id, storage id, offset, elements, element size, device]`.
public struct ExecutionTrace: Sendable {
  public struct Node: Sendable {
    public var id: Int64
    public var name: String
    /// The enclosing node (`parent` / `ctrl_deps`), or -1.
    public var parent: Int64
    /// Record-function id: the op's entry order.
    public var rfID: Int64?
    public var tid: Int64
    /// Ids of the tensors read and written (data dependencies follow tensor identity).
    public var inputTensors: [Int64]
    public var outputTensors: [Int64]
    /// µs, when the trace carries them (ET+).
    public var ts: Double?
    public var dur: Double?
    /// Kineto category of ET+ nodes merged from the Kineto trace (`kernel`, `cpu_op`, …).
    public var category: String?
  }

  public var schema: String
  public var pid: Int64?
  public var nodes: [Node]
  /// Invalid UTF-8 sequences in the file, replaced with U+FFFD before parsing.
  public var invalidUTF8 = 0

  /// The profiler's per-thread root nodes (`[pytorch|profiler|execution_graph|thread]`,
  /// `…|execution_trace|thread]`) and the process-group record, which no profiler op matches.
  public static func isRoot(_ name: String) -> Bool {
    name.hasPrefix("[pytorch|profiler|execution_") || name == "## process_group:init ##"
  }

  /// Reads and parses `path`.
  /// - Throws: `TraceImportError` naming the file and byte offset (JSON errors) or node index.
  public static func read(_ path: String, limits: ReadLimits = ReadLimits()) throws -> ExecutionTrace {
    try parse(try readAllBytes(path, limits: limits), file: path)
  }

  /// The bytes of `path`, inflated when it is gzip.
  /// - Throws: `TraceImportError.malformed` for a corrupt stream or one past `limits`.
  static func readAllBytes(_ path: String, limits: ReadLimits = ReadLimits()) throws -> [UInt8] {
    guard let gz = gzopen(path, "rb") else {
      throw TraceImportError.unreadable(file: path, reason: String(cString: strerror(errno)))
    }
    defer { gzclose(gz) }
    if gzdirect(gz) == 1 { try limits.check(file: path, size: Ingest.fileSize(path)) }
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 20)
    while true {
      let n = chunk.withUnsafeMutableBytes { gzread(gz, $0.baseAddress, UInt32($0.count)) }
      if n < 0 {
        throw TraceImportError.malformed(
          TraceLocation(file: path, byteOffset: Int64(out.count)), expected: "gzip data", found: "a corrupt stream")
      }
      if n == 0 { break }
      out.append(contentsOf: chunk[0..<Int(n)])
      try limits.check(file: path, decompressed: Int64(out.count), compressed: Int64(gzoffset(gz)))
    }
    return out
  }

  /// Parses a whole JSON document with jansson (integers stay integers); the caller releases it.
  /// - Throws: `TraceImportError.malformed` with the byte offset jansson reports.
  static func loadJSON(_ data: [UInt8], file: String, expected: String) throws -> UnsafeMutablePointer<json_t> {
    var err = json_error_t()
    let root = data.withUnsafeBufferPointer { buf in
      buf.baseAddress.map { p in
        p.withMemoryRebound(to: CChar.self, capacity: buf.count) { cj_loadb($0, buf.count, 0, &err) }
      } ?? nil
    }
    guard let root else {
      let text = withUnsafeBytes(of: err.text) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
      throw TraceImportError.malformed(
        TraceLocation(file: file, byteOffset: Int64(err.position)), expected: expected, found: text)
    }
    return root
  }

  /// `loadJSON`, reading a document with invalid UTF-8 (which jansson refuses) again with
  /// each bad sequence replaced by U+FFFD; returns how many were replaced. Valid input is
  /// parsed once, as it is.
  static func loadJSONReplacingInvalidUTF8(_ data: [UInt8], file: String, expected: String) throws -> (
    root: UnsafeMutablePointer<json_t>, replaced: Int
  ) {
    do { return (try loadJSON(data, file: file, expected: expected), 0) } catch TraceImportError.malformed(
      let loc, let exp, let found)
    {
      guard found.hasPrefix("unable to decode byte") else {
        throw TraceImportError.malformed(loc, expected: exp, found: found)
      }
      let repaired = Array(String(decoding: data, as: UTF8.self).utf8)
      func replacements(_ b: [UInt8]) -> Int {
        var n = 0
        var i = 0
        while i + 2 < b.count {
          if b[i] == 0xEF && b[i + 1] == 0xBF && b[i + 2] == 0xBD {
            n += 1
            i += 3
          } else {
            i += 1
          }
        }
        return n
      }
      return (try loadJSON(repaired, file: file, expected: expected), replacements(repaired) - replacements(data))
    }
  }

  /// Parses an execution trace document; invalid UTF-8 is replaced (`invalidUTF8` counts it).
  /// - Throws: `TraceImportError` naming the file and byte offset (JSON errors) or node index.
  public static func parse(_ data: [UInt8], file: String) throws -> ExecutionTrace {
    let (root, replaced) = try loadJSONReplacingInvalidUTF8(data, file: file, expected: "JSON (an execution trace)")
    defer { cj_decref(root) }
    guard cj_typeof(root) == JSON_OBJECT, let nodes = json_object_get(root, "nodes"), cj_typeof(nodes) == JSON_ARRAY
    else { throw TraceImportError.missingField("nodes", at: TraceLocation(file: file, byteOffset: 0)) }
    var out = ExecutionTrace(
      schema: ETJSON.string(root, "schema") ?? "unknown",
      pid: ETJSON.int(json_object_get(root, "pid")), nodes: [])
    let count = json_array_size(nodes)
    out.nodes.reserveCapacity(count)
    for i in 0..<count { out.nodes.append(try node(json_array_get(nodes, i), index: i, file: file)) }
    out.invalidUTF8 = replaced
    return out
  }

  /// One node of the `nodes` array, in either schema's layout.
  static func node(_ n: UnsafeMutablePointer<json_t>?, index i: Int, file: String) throws -> Node {
    guard cj_typeof(n) == JSON_OBJECT else {
      throw TraceImportError.malformed(
        TraceLocation(file: file, eventIndex: i), expected: "a node object",
        found: "another JSON value")
    }
    guard let id = ETJSON.int(json_object_get(n, "id")) else {
      throw TraceImportError.missingField("id", at: TraceLocation(file: file, eventIndex: i))
    }
    let parent = ETJSON.int(json_object_get(n, "parent")) ?? ETJSON.int(json_object_get(n, "ctrl_deps")) ?? -1
    var node = Node(
      id: id, name: ETJSON.string(n, "name") ?? "", parent: parent,
      rfID: ETJSON.int(json_object_get(n, "rf_id")), tid: ETJSON.int(json_object_get(n, "tid")) ?? 0,
      inputTensors: [], outputTensors: [], ts: ETJSON.number(json_object_get(n, "ts")),
      dur: ETJSON.number(json_object_get(n, "dur")), category: ETJSON.string(n, "cat"))
    if let attrs = json_object_get(n, "attrs"), cj_typeof(attrs) == JSON_ARRAY {
      for k in 0..<json_array_size(attrs) {
        let a = json_array_get(attrs, k)
        switch ETJSON.string(a, "name") {
        case "rf_id": node.rfID = ETJSON.int(json_object_get(a, "value"))
        case "tid": node.tid = ETJSON.int(json_object_get(a, "value")) ?? node.tid
        default: break
        }
      }
    }
    for (key, isInput) in [("inputs", true), ("outputs", false)] {
      var list = json_object_get(n, key)
      if cj_typeof(list) == JSON_OBJECT { list = json_object_get(list, "values") }
      if isInput {
        ETJSON.tensors(list, into: &node.inputTensors)
      } else {
        ETJSON.tensors(list, into: &node.outputTensors)
      }
    }
    return node
  }
}

/// Reads of jansson values as an execution trace writes them.
private enum ETJSON {
  static func string(_ o: UnsafeMutablePointer<json_t>?, _ k: String) -> String? {
    guard let v = json_object_get(o, k), cj_typeof(v) == JSON_STRING else { return nil }
    return String(cString: json_string_value(v))
  }

  /// An integer, or a finite real within Int64's range, truncated.
  static func int(_ v: UnsafeMutablePointer<json_t>?) -> Int64? {
    switch cj_typeof(v) {
    case JSON_INTEGER: return Int64(json_integer_value(v))
    case JSON_REAL:
      let d = json_real_value(v)
      return d.isFinite && abs(d) < 9e18 ? Int64(d) : nil
    default: return nil
    }
  }

  static func number(_ v: UnsafeMutablePointer<json_t>?) -> Double? {
    switch cj_typeof(v) {
    case JSON_INTEGER: return Double(json_integer_value(v))
    case JSON_REAL: return json_real_value(v)
    default: return nil
    }
  }

  /// Tensor ids of the tensor values in an inputs/outputs list (nested lists of tensors too).
  static func tensors(_ list: UnsafeMutablePointer<json_t>?, into out: inout [Int64]) {
    guard cj_typeof(list) == JSON_ARRAY else { return }
    for i in 0..<json_array_size(list) {
      let v = json_array_get(list, i)
      guard cj_typeof(v) == JSON_ARRAY else { continue }
      let n = json_array_size(v)
      if n == 6, cj_typeof(json_array_get(v, 5)) == JSON_STRING, let tid = int(json_array_get(v, 0)) {
        out.append(tid)
      } else {
        tensors(v, into: &out)
      }
    }
  }
}
