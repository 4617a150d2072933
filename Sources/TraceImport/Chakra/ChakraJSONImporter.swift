import CJansson
import ChakraSchema
import Foundation
import TraceModel

/// Chakra execution traces converted to JSON by Chakra's jsonizer (`{"workload_graph": [...]}`):
/// nodes with `Id`, `Name`, `NodeType` (the protobuf enum as an integer), `ctrlDeps` /
/// `ctrl_deps`, `data_deps` / `dataDeps`, `runtime` (µs) and `is_cpu_op`. The converter's key
/// casing is mixed, so both spellings are read. The nodes go through the same mapping as `.et`
/// files (`ChakraProtobufImporter.build`). The JSON keeps no `comm_type`: a communication node's
/// operation comes from its name (`ncclKernel_Broadcast_…`, `c10d::broadcast_(0)`), else it is
/// read as Chakra's default, ALL_REDUCE (comm_type 0). Names are kept as written (the jsonizer
/// mangles some, e.g. `voId`, `Namespace`).
struct ChakraJSONImporter: TraceImporter {
  static let descriptor = TraceFormatDescriptor(
    name: "Chakra execution trace JSON", nativeTimeUnit: "µs",
    isSupported: true)

  /// A JSON object with a `workload_graph` key.
  static func sniff(prefix: UnsafeBufferPointer<UInt8>) -> Bool {
    Sniffing.isJSONObject(prefix) && Sniffing.contains(prefix, "\"workload_graph\"")
  }

  static func importFile(_ request: ImportRequest) throws -> ImportedFile {
    .rank(
      try ChakraProtobufImporter.importRank(
        try decode(path: request.path, bytes: request.contents, limits: request.limits), request,
        format: descriptor.name))
  }

  /// Reads the nodes of `path` into the form the protobuf reader decodes (`comm_type` from names).
  static func decode(path: String, bytes: [UInt8]? = nil, limits: ReadLimits = ReadLimits()) throws
    -> ChakraProtobufImporter.File
  {
    let (root, replaced) = try ExecutionTrace.loadJSONReplacingInvalidUTF8(
      try bytes ?? ExecutionTrace.readAllBytes(path, limits: limits), file: path,
      expected: "JSON (a Chakra workload graph)")
    defer { cj_decref(root) }
    guard let graph = json_object_get(root, "workload_graph"), cj_typeof(graph) == JSON_ARRAY else {
      throw TraceImportError.missingField("workload_graph", at: TraceLocation(file: path, byteOffset: 0))
    }
    func value(_ o: UnsafeMutablePointer<json_t>?, _ keys: [String]) -> UnsafeMutablePointer<json_t>? {
      for k in keys { if let v = json_object_get(o, k) { return v } }
      return nil
    }
    func int(_ v: UnsafeMutablePointer<json_t>?) -> Int64? {
      switch cj_typeof(v) {
      case JSON_INTEGER: Int64(json_integer_value(v))
      // Truncated toward zero; nil when not finite or past Int64 (`216e217` would trap).
      case JSON_REAL: Int64(exactly: json_real_value(v).rounded(.towardZero))
      default: nil
      }
    }
    func ids(_ v: UnsafeMutablePointer<json_t>?) -> [UInt64] {
      if let i = int(v) { return [UInt64(clamping: i)] }
      guard cj_typeof(v) == JSON_ARRAY else { return [] }
      return (0..<json_array_size(v)).compactMap { int(json_array_get(v, $0)).map { UInt64(clamping: $0) } }
    }
    var nodes: [ChakraProtoMsg_Node] = []
    let count = json_array_size(graph)
    nodes.reserveCapacity(count)
    for i in 0..<count {
      let o = json_array_get(graph, i)
      guard cj_typeof(o) == JSON_OBJECT else {
        throw TraceImportError.malformed(
          TraceLocation(file: path, eventIndex: i), expected: "a node object", found: "another JSON value")
      }
      guard let id = int(value(o, ["Id", "id"])) else {
        throw TraceImportError.missingField("Id", at: TraceLocation(file: path, eventIndex: i))
      }
      var n = ChakraProtoMsg_Node()
      n.id = UInt64(clamping: id)
      if let s = value(o, ["Name", "name"]), cj_typeof(s) == JSON_STRING {
        n.name = String(cString: json_string_value(s))
      }
      n.type = ChakraProtoMsg_NodeType(rawValue: Int(int(value(o, ["NodeType", "type"])) ?? 0)) ?? .invalidNode
      n.ctrlDeps = ids(value(o, ["ctrlDeps", "ctrl_deps"]))
      n.dataDeps = ids(value(o, ["data_deps", "dataDeps"]))
      n.durationMicros = UInt64(clamping: max(0, int(value(o, ["runtime", "duration_micros"])) ?? 0))
      if let cpu = value(o, ["is_cpu_op"]) {
        var a = ChakraProtoMsg_AttributeProto()
        a.name = "is_cpu_op"
        a.boolVal = cj_typeof(cpu) == JSON_TRUE || (int(cpu) ?? 0) != 0
        n.attr.append(a)
      }
      if n.type == .commCollNode, let kind = collectiveKind(n.name) {
        var a = ChakraProtoMsg_AttributeProto()
        a.name = "comm_type"
        a.int64Val = kind.chakraCommType
        n.attr.append(a)
      }
      nodes.append(n)
    }
    return ChakraProtobufImporter.File(
      metadata: ChakraProtoMsg_GlobalMetadata(), nodes: nodes, offsets: [], invalidUTF8: replaced)
  }

  /// The collective a communication node's name states: a NCCL/RCCL kernel name, or a c10d/nccl
  /// host op (`c10d::broadcast_(0)`, the jsonizer's `(N)` suffix dropped).
  static func collectiveKind(_ name: String) -> CollectiveKind? {
    var base = name
    if base.hasSuffix(")"), let open = base.lastIndex(of: "("),
      base[base.index(after: open)..<base.index(before: base.endIndex)].allSatisfy(\.isNumber)
    {
      base = String(base[..<open])
    }
    if case .collective(let k)? = CommClassifier.kernelName(base) { return k }
    if case .collective(let k)? = CommClassifier.hostName(base)?.op { return k }
    return nil
  }
}
