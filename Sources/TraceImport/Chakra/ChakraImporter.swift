import ChakraSchema
import Foundation
import SwiftProtobuf
import TraceModel

/// MLCommons Chakra execution traces (`.et`, schema 0.0.4): a varint-length-delimited stream of
/// one `GlobalMetadata` message followed by `Node` messages (Proto/chakra_et_def.proto). One file
/// is one rank (`name.N.et`).
///
/// Mapping into the event graph:
/// - lanes: host threads for nodes with `is_cpu_op = true` (keyed by their `tid` attr), device
///   streams otherwise (also keyed by `tid`; a file without the attrs puts compute on stream 0 and
///   communication on stream 1, as ASTRA-sim's synthetic workloads expect);
/// - kinds: `COMP_NODE` → kernel on a stream, host op on a thread; `COMM_COLL_NODE` →
///   collective (`comm_type` → kind, `comm_size` → bytes, `pg_name` → process group);
///   `COMM_SEND_NODE`/`COMM_RECV_NODE` → send/recv (`comm_dst`/`comm_src` peers, `comm_size`);
///   `MEM_LOAD_NODE`/`MEM_STORE_NODE` → memcpy (host→device / device→host); `METADATA_NODE` →
///   annotation, and `ProfilerStep#N` names become profiler steps;
/// - edges: `ctrl_deps` and `data_deps` (dependency → node): program order on one lane; across
///   lanes the latest host dependency of device work is its launch, the rest data dependencies;
/// - times: `start_time_micros` / `duration_micros`. Files that carry no start times (Chakra's
///   converters leave them 0) are laid out as soon as possible: in file (= dependency) order, each
///   node starts when its dependencies have ended and its lane is free (ASTRA-sim's issue rule,
///   with each lane a serial resource). Dependencies pointing to a later node are dropped and
///   counted (they would allow cycles; the PyTorch converter writes a few).
///
/// Malformed input (truncated varint, a length prefix past the end of the file, a message that
/// does not decode) is an error naming the byte offset of the message; lengths are checked
/// against the bytes left before anything is allocated, so memory stays bounded by the file size.
struct ChakraProtobufImporter: TraceImporter {
  static let descriptor = TraceFormatDescriptor(
    name: "Chakra execution trace (protobuf)", nativeTimeUnit: "µs",
    isSupported: true)

  /// A varint-delimited GlobalMetadata (fields 1 and 2, length-delimited) followed by the start
  /// of a Node (field 1 varint, or field 2 string): checked strictly, so JSON never passes.
  static func sniff(prefix: UnsafeBufferPointer<UInt8>) -> Bool {
    var i = 0
    func varint() -> UInt64? {
      var v: UInt64 = 0
      var shift: UInt64 = 0
      while i < prefix.count && shift < 64 {
        let b = prefix[i]
        i += 1
        v |= UInt64(b & 0x7F) << shift
        if b & 0x80 == 0 { return v }
        shift += 7
      }
      return nil
    }
    guard let len = varint(), len > 0, len < UInt64(prefix.count) else { return false }
    let end = i + Int(len)
    guard end < prefix.count else { return false }
    while i < end {
      // The tag and length may run past the message; `l` is compared with the bytes left before
      // it becomes an Int, so a 64-bit length cannot trap.
      guard let tag = varint(), tag == 0x0A || tag == 0x12, let l = varint(), i <= end, l <= UInt64(end - i) else {
        return false
      }
      i += Int(l)
    }
    guard i == end, varint() != nil, i < prefix.count else { return false }
    return prefix[i] == 0x08 || prefix[i] == 0x12
  }

  /// How a rank that the file name does not state is explained.
  static let rankNotes = RankNotes(
    onlyFile: .init(code: "ingest.rankDefault") { _ in "no rank in the file name (name.N.et); treated as rank 0" })

  static func importFile(_ request: ImportRequest) throws -> ImportedFile {
    .rank(
      try importRank(
        try decode(path: request.path, bytes: request.contents, limits: request.limits), request,
        format: descriptor.name))
  }

  /// The graph of one rank from a decoded file (protobuf or JSON): its rank from the file name
  /// (`name.N.et`), else 0 when it is the only file.
  static func importRank(_ file: File, _ request: ImportRequest, format: String) throws -> ImportedRank {
    let path = request.path
    var diagnostics = Diagnostics()
    let rank = try RankResolver.rank(
      declared: nil, path: path, isOnlyFile: request.isOnlyRankFile, notes: rankNotes,
      diagnostics: &diagnostics)
    let graph = build(file, path: path, rank: rank, diagnostics: &diagnostics)
    diagnostics.invalidUTF8(file.invalidUTF8, in: path)
    let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int64) ?? 0
    let ingested = IngestedFile(
      path: path, rank: rank, bytesOnDisk: size, decompressedBytes: size, isGzip: false,
      format: format, stats: KinetoStats(), events: graph.eventCount,
      recordTypes: countByType(file), account: EventAccount(read: file.nodes.count, kept: graph.eventCount))
    return ImportedRank(file: ingested, graph: graph, diagnostics: diagnostics)
  }

  struct File {
    var metadata: ChakraProtoMsg_GlobalMetadata
    var nodes: [ChakraProtoMsg_Node]
    /// Byte offset of each node's length prefix.
    var offsets: [Int]
    /// Invalid UTF-8 sequences replaced with U+FFFD (JSON input).
    var invalidUTF8 = 0
  }

  /// Decodes the message stream of `path` (or of `bytes`, for tests).
  static func decode(path: String, bytes: [UInt8]? = nil, limits: ReadLimits = ReadLimits()) throws -> File {
    let data: [UInt8]
    if let bytes {
      data = bytes
    } else {
      try limits.check(file: path, size: Ingest.fileSize(path))
      guard let d = FileManager.default.contents(atPath: path) else {
        throw TraceImportError.unreadable(file: path, reason: "cannot open")
      }
      data = [UInt8](d)
    }
    var offset = 0
    func loc(_ at: Int) -> TraceLocation { TraceLocation(file: path, byteOffset: Int64(at)) }
    func next() throws -> (start: Int, body: ArraySlice<UInt8>)? {
      guard offset < data.count else { return nil }
      let start = offset
      var len: UInt64 = 0
      var shift: UInt64 = 0
      while true {
        guard offset < data.count else {
          throw TraceImportError.malformed(
            loc(start), expected: "a varint length prefix",
            found: "the end of the file after \(offset - start) byte(s) (truncated varint)")
        }
        let b = data[offset]
        offset += 1
        if shift == 63 && b > 1 || shift > 63 {
          throw TraceImportError.malformed(
            loc(start), expected: "a varint length prefix of at most 10 bytes", found: "a longer or overflowing varint")
        }
        len |= UInt64(b & 0x7F) << shift
        if b & 0x80 == 0 { break }
        shift += 7
      }
      let left = data.count - offset
      guard len <= UInt64(left) else {
        throw TraceImportError.malformed(
          loc(start), expected: "a message of \(len) bytes (length prefix)",
          found: "only \(left) byte(s) left in the file")
      }
      defer { offset += Int(len) }
      return (start, data[offset..<(offset + Int(len))])
    }
    guard let first = try next() else {
      throw TraceImportError.malformed(loc(0), expected: "a Chakra GlobalMetadata message", found: "an empty file")
    }
    let metadata: ChakraProtoMsg_GlobalMetadata
    do { metadata = try ChakraProtoMsg_GlobalMetadata(serializedBytes: Array(first.body)) } catch {
      throw TraceImportError.malformed(
        loc(first.start), expected: "a Chakra 0.0.4 GlobalMetadata message",
        found:
          "\(error) (legacy pre-1.0 Chakra files have no GlobalMetadata and other field numbers; they are not supported)"
      )
    }
    var nodes: [ChakraProtoMsg_Node] = []
    var offsets: [Int] = []
    while let m = try next() {
      do { nodes.append(try ChakraProtoMsg_Node(serializedBytes: Array(m.body))) } catch {
        throw TraceImportError.malformed(
          loc(m.start), expected: "a Chakra Node message (node #\(nodes.count))", found: "\(error)")
      }
      offsets.append(m.start)
    }
    return File(metadata: metadata, nodes: nodes, offsets: offsets)
  }

  /// Node counts per type name (`COMP_NODE`, …), as Chakra's own tools count them.
  static func countByType(_ f: File) -> [String: Int] {
    var out: [String: Int] = [:]
    for n in f.nodes { out[typeName(n.type), default: 0] += 1 }
    return out
  }

  static func typeName(_ t: ChakraProtoMsg_NodeType) -> String {
    switch t {
    case .invalidNode: "INVALID_NODE"
    case .metadataNode: "METADATA_NODE"
    case .memLoadNode: "MEM_LOAD_NODE"
    case .memStoreNode: "MEM_STORE_NODE"
    case .compNode: "COMP_NODE"
    case .commSendNode: "COMM_SEND_NODE"
    case .commRecvNode: "COMM_RECV_NODE"
    case .commCollNode: "COMM_COLL_NODE"
    case .UNRECOGNIZED(let v): "UNRECOGNIZED_\(v)"
    }
  }

  /// An attribute's value as an integer, whichever integer (or bool) field carries it.
  static func int(_ a: ChakraProtoMsg_AttributeProto) -> Int64? {
    switch a.value {
    case .int32Val(let v)?: Int64(v)
    case .int64Val(let v)?: v
    case .uint32Val(let v)?: Int64(v)
    case .uint64Val(let v)?: Int64(clamping: v)
    case .sint32Val(let v)?: Int64(v)
    case .sint64Val(let v)?: v
    case .fixed32Val(let v)?: Int64(v)
    case .fixed64Val(let v)?: Int64(clamping: v)
    case .sfixed32Val(let v)?: Int64(v)
    case .sfixed64Val(let v)?: v
    case .boolVal(let v)?: v ? 1 : 0
    // Truncated toward zero; nil when the value is not finite or past Int64 (1e30 would trap).
    case .doubleVal(let v)?: Int64(exactly: v.rounded(.towardZero))
    case .floatVal(let v)?: Int64(exactly: Double(v).rounded(.towardZero))
    default: nil
    }
  }
}
