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
  static let descriptor = TraceFormatDescriptor(name: "Chakra execution trace (protobuf)", nativeTimeUnit: "µs",
                                                isSupported: true)

  /// A varint-delimited GlobalMetadata (fields 1 and 2, length-delimited) followed by the start
  /// of a Node (field 1 varint, or field 2 string): checked strictly, so JSON never passes.
  static func sniff(prefix: UnsafeBufferPointer<UInt8>) -> Bool {
    var i = 0
    func varint() -> UInt64? {
      var v: UInt64 = 0, shift: UInt64 = 0
      while i < prefix.count && shift < 64 {
        let b = prefix[i]; i += 1
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
      guard let tag = varint(), tag == 0x0A || tag == 0x12, let l = varint(), i + Int(l) <= end else { return false }
      i += Int(l)
    }
    guard i == end, varint() != nil, i < prefix.count else { return false }
    return prefix[i] == 0x08 || prefix[i] == 0x12
  }

  /// How a rank that the file name does not state is explained.
  static let rankNotes = RankNotes(
    onlyFile: .init(code: "ingest.rankDefault") { _ in "no rank in the file name (name.N.et); treated as rank 0" })

  static func importFile(_ request: ImportRequest) throws -> ImportedFile {
    .rank(try importRank(try decode(path: request.path), request, format: descriptor.name))
  }

  /// The graph of one rank from a decoded file (protobuf or JSON): its rank from the file name
  /// (`name.N.et`), else 0 when it is the only file.
  static func importRank(_ file: File, _ request: ImportRequest, format: String) throws -> ImportedRank {
    let path = request.path
    var diagnostics = Diagnostics()
    let rank = try RankResolver.rank(declared: nil, path: path, isOnlyFile: request.isOnlyRankFile, notes: rankNotes,
                                     diagnostics: &diagnostics)
    let graph = build(file, path: path, rank: rank, diagnostics: &diagnostics)
    let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int64) ?? 0
    let ingested = IngestedFile(path: path, rank: rank, bytesOnDisk: size, decompressedBytes: size, isGzip: false,
                                format: format, stats: KinetoStats(), events: graph.eventCount,
                                recordTypes: countByType(file))
    return ImportedRank(file: ingested, graph: graph, diagnostics: diagnostics)
  }

  struct File {
    var metadata: ChakraProtoMsg_GlobalMetadata
    var nodes: [ChakraProtoMsg_Node]
    /// Byte offset of each node's length prefix.
    var offsets: [Int]
  }

  /// Decodes the message stream of `path` (or of `bytes`, for tests).
  static func decode(path: String, bytes: [UInt8]? = nil) throws -> File {
    let data: [UInt8]
    if let bytes {
      data = bytes
    } else {
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
      var len: UInt64 = 0, shift: UInt64 = 0
      while true {
        guard offset < data.count else {
          throw TraceImportError.malformed(loc(start), expected: "a varint length prefix", found: "the end of the file after \(offset - start) byte(s) (truncated varint)")
        }
        let b = data[offset]
        offset += 1
        if shift == 63 && b > 1 || shift > 63 {
          throw TraceImportError.malformed(loc(start), expected: "a varint length prefix of at most 10 bytes", found: "a longer or overflowing varint")
        }
        len |= UInt64(b & 0x7F) << shift
        if b & 0x80 == 0 { break }
        shift += 7
      }
      let left = data.count - offset
      guard len <= UInt64(left) else {
        throw TraceImportError.malformed(loc(start), expected: "a message of \(len) bytes (length prefix)", found: "only \(left) byte(s) left in the file")
      }
      defer { offset += Int(len) }
      return (start, data[offset..<(offset + Int(len))])
    }
    guard let first = try next() else {
      throw TraceImportError.malformed(loc(0), expected: "a Chakra GlobalMetadata message", found: "an empty file")
    }
    let metadata: ChakraProtoMsg_GlobalMetadata
    do { metadata = try ChakraProtoMsg_GlobalMetadata(serializedBytes: Array(first.body)) } catch {
      throw TraceImportError.malformed(loc(first.start), expected: "a Chakra 0.0.4 GlobalMetadata message",
                                       found: "\(error) (legacy pre-1.0 Chakra files have no GlobalMetadata and other field numbers; they are not supported)")
    }
    var nodes: [ChakraProtoMsg_Node] = [], offsets: [Int] = []
    while let m = try next() {
      do { nodes.append(try ChakraProtoMsg_Node(serializedBytes: Array(m.body))) } catch {
        throw TraceImportError.malformed(loc(m.start), expected: "a Chakra Node message (node #\(nodes.count))", found: "\(error)")
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

  /// Chakra's `CollectiveCommType` numbering.
  static func collectiveKind(_ v: Int64) -> CollectiveKind {
    switch v {
    case 0: .allReduce
    case 1: .reduce
    case 2: .allGather
    case 3: .gather
    case 4: .scatter
    case 5: .broadcast
    case 6: .allToAll
    case 7, 8: .reduceScatter
    case 9: .barrier
    default: .unknown
    }
  }

  /// The `CollectiveCommType` number that `collectiveKind` reads as `k` (the lowest one), 0
  /// (ALL_REDUCE, Chakra's default) for an unknown kind.
  static func commType(_ k: CollectiveKind) -> Int64 {
    (0...9).first { collectiveKind($0) == k } ?? 0
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
    case .doubleVal(let v)?: v.isFinite ? Int64(v) : nil
    case .floatVal(let v)?: v.isFinite ? Int64(v) : nil
    default: nil
    }
  }

  /// Builds the event graph of one rank from a decoded file.
  static func build(_ f: File, path: String, rank: RankID, diagnostics: inout Diagnostics) -> EventGraph {
    var b = EventGraph.Builder()
    let n = f.nodes.count
    b.reserveEvents(n)
    // Attributes of interest per node.
    struct Info { var cpu: Bool?; var tid: Int64?; var commType: Int64?; var size: Int64; var src: Int64?; var dst: Int64?; var pg: String? }
    var info = [Info](repeating: Info(size: 0), count: n)
    for (i, node) in f.nodes.enumerated() {
      var x = Info(size: 0)
      for a in node.attr {
        switch a.name {
        case "is_cpu_op": x.cpu = int(a).map { $0 != 0 }
        case "tid": x.tid = int(a)
        case "comm_type": x.commType = int(a)
        case "comm_size": x.size = max(0, int(a) ?? 0)
        case "comm_src": x.src = int(a)
        case "comm_dst": x.dst = int(a)
        case "pg_name", "comm_group": if case .stringVal(let s)? = a.value { x.pg = s } else if let v = int(a) { x.pg = String(v) }
        default: break
        }
      }
      info[i] = x
    }
    // Lanes: (host?, tid).
    struct LaneKey: Hashable { var host: Bool; var tid: Int64 }
    var laneIndex: [LaneKey: Int] = [:]
    func laneKey(_ i: Int) -> LaneKey {
      let node = f.nodes[i], x = info[i]
      let host = x.cpu ?? false
      if let tid = x.tid { return LaneKey(host: host, tid: tid) }
      let comm = node.type == .commCollNode || node.type == .commSendNode || node.type == .commRecvNode
      return LaneKey(host: host, tid: host ? 0 : (comm ? 1 : 0))
    }
    let keys = (0..<n).map(laneKey)
    for k in Set(keys).sorted(by: { ($0.host ? 0 : 1, $0.tid) < ($1.host ? 0 : 1, $1.tid) }) {
      laneIndex[k] = b.lanes.count
      let label = k.host ? "thread \(k.tid)" : "stream \(k.tid)"
      b.lanes.append(Lane(rank: rank, kind: k.host ? .hostThread : .deviceStream, device: k.host ? -1 : 0, pid: 0, tid: k.tid,
                          name: b.strings.intern(label)))
    }
    b.ranks.append(RankInfo(rank: rank, file: path))

    // Node ids → indices; dependencies resolved (unknown ids counted, never fatal).
    var index: [UInt64: Int] = [:]
    index.reserveCapacity(n)
    var duplicateIDs = 0
    for (i, node) in f.nodes.enumerated() {
      if index[node.id] != nil { duplicateIDs += 1 } else { index[node.id] = i }
    }
    // Dependencies point back to earlier nodes (Chakra files list nodes in dependency order, as
    // ASTRA-sim's feeder reads them); one that points forward would allow a cycle and is dropped,
    // counted. Unknown ids are counted too.
    var deps = [[Int]](repeating: [], count: n)
    var dangling = 0, forward = 0
    for (i, node) in f.nodes.enumerated() {
      for d in node.ctrlDeps + node.dataDeps {
        guard let j = index[d], j != i else { dangling += 1; continue }
        if j < i { deps[i].append(j) } else { forward += 1 }
      }
    }
    if duplicateIDs > 0 { diagnostics.warning("chakra.duplicateID", "\(duplicateIDs) node id(s) appear more than once; the first node with each id is the one dependencies point to", at: TraceLocation(file: path)) }
    if dangling > 0 { diagnostics.warning("chakra.danglingDependency", "\(dangling) dependency(ies) name no node in the file (or the node itself); ignored", at: TraceLocation(file: path)) }
    if forward > 0 { diagnostics.warning("chakra.forwardDependency", "\(forward) dependency(ies) point to a node later in the file; dropped to keep the graph acyclic", at: TraceLocation(file: path)) }

    // Times: as written, or as soon as possible in file (= dependency) order when the file has none.
    var start = [Int64](repeating: 0, count: n)
    let duration = f.nodes.map { Int64(clamping: $0.durationMicros) &* 1000 }
    if f.nodes.contains(where: { $0.startTimeMicros > 0 }) {
      for i in 0..<n { start[i] = Int64(clamping: f.nodes[i].startTimeMicros) &* 1000 }
    } else {
      var laneFree = [Int64](repeating: 0, count: b.lanes.count)
      for u in 0..<n {
        let l = laneIndex[keys[u]]!
        var t = laneFree[l]
        for d in deps[u] { t = max(t, start[d] + duration[d]) }
        start[u] = t
        laneFree[l] = t + duration[u]
      }
      if n > 0 {
        diagnostics.note("chakra.untimed", "no start_time_micros in the file: nodes laid out as soon as their dependencies and lane allow", at: TraceLocation(file: path))
      }
    }

    // Events, in file order.
    for (i, node) in f.nodes.enumerated() {
      let key = keys[i], x = info[i]
      var kind: EventKind, detail: UInt8 = 0
      switch node.type {
      case .compNode: kind = key.host ? .hostOp : .kernel
      case .commCollNode: kind = .collective; detail = collectiveKind(x.commType ?? 0).rawValue
      case .commSendNode: kind = .send
      case .commRecvNode: kind = .recv
      case .memLoadNode: kind = .memcpy; detail = MemcpyDirection.hostToDevice.rawValue
      case .memStoreNode: kind = .memcpy; detail = MemcpyDirection.deviceToHost.rawValue
      case .metadataNode: kind = .annotation
      case .invalidNode, .UNRECOGNIZED: kind = .other
      }
      if node.name.hasPrefix("ProfilerStep#") { kind = .annotation }
      let e = b.addEvent(lane: LaneID(laneIndex[key]!), name: b.strings.intern(node.name), kind: kind, detail: detail,
                         start: start[i], duration: duration[i], bytes: x.size, sourceIndex: UInt32(clamping: i))
      if kind == .annotation, node.name.hasPrefix("ProfilerStep#"), let num = Int(node.name.dropFirst("ProfilerStep#".count)) {
        b.steps.append(Step(rank: rank, number: num, start: Nanoseconds(start[i]), end: Nanoseconds(start[i] + duration[i]), event: e))
      }
    }
    // Edges: same lane → program order; host → device: the latest-ending host dependency is the
    // launch; anything else a data dependency.
    for i in 0..<n {
      var launcher = -1
      if !keys[i].host {
        for d in deps[i] where keys[d].host && (launcher < 0 || start[d] + duration[d] > start[launcher] + duration[launcher]) { launcher = d }
      }
      for d in deps[i] {
        let kind: EdgeKind = keys[d] == keys[i] ? .programOrder : d == launcher ? .launch : .data
        b.addEdge(from: EventID(d), to: EventID(i), kind: kind)
      }
    }
    // Communication records: sequence per process group in file order.
    var seq: [String: Int32] = [:]
    for (i, node) in f.nodes.enumerated() {
      let x = info[i]
      switch node.type {
      case .commCollNode:
        let group = x.pg ?? "default"
        let s = seq[group, default: 0]
        seq[group] = s + 1
        b.collectives.append(CollectiveRecord(event: EventID(i), kind: collectiveKind(x.commType ?? 0), group: b.strings.intern(group),
                                              groupSize: 0, sequence: s, dtype: .empty, inputBytes: x.size, outputBytes: x.size))
      case .commSendNode:
        b.p2p.append(P2PRecord(event: EventID(i), isSend: true, peer: x.dst.map { RankID(Int($0)) }, bytes: x.size))
      case .commRecvNode:
        b.p2p.append(P2PRecord(event: EventID(i), isSend: false, peer: x.src.map { RankID(Int($0)) }, bytes: x.size))
      default: break
      }
    }
    return b.build()
  }
}
