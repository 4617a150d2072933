import ChakraSchema
import Foundation
import SwiftProtobuf
import TraceModel

/// Writes an `EventGraph` (recorded, replayed under a what-if, or a generated schedule) as
/// MLCommons Chakra execution traces, schema 0.0.4: one `NAME.RANK.et` per rank, a
/// varint-delimited `GlobalMetadata` then `Node`s, readable by Chakra's tools and ASTRA-sim.
///
/// Per event (allocator instants are left out and counted):
/// - type: kernels, memsets, device-to-device copies, host calls and synchronize calls →
///   `COMP_NODE`; host-to-device copies → `MEM_LOAD_NODE`, device-to-host → `MEM_STORE_NODE`
///   (`tensor_size` = bytes); collectives → `COMM_COLL_NODE` (`comm_type` in Chakra's
///   numbering, `comm_size` bytes, `pg_name`); sends/receives → `COMM_SEND_NODE` /
///   `COMM_RECV_NODE` (`comm_dst` / `comm_src`, `comm_tag` = the pair's order, `comm_size`);
///   annotations (ProfilerStep#N, record_function ranges) → `METADATA_NODE`;
/// - `is_cpu_op` (host thread or device stream) and `tid` (thread or stream id) keep the lanes;
/// - `ctrl_deps`: the previous work on the same lane (the latest event ending before it starts);
///   `data_deps`: the graph's launch, synchronize and data edges within the rank;
/// - `start_time_micros` / `duration_micros`: the timeline given, rounded to µs (start and end
///   rounded, duration = their difference, so ends stay ordered).
/// Nodes are written in a dependency order (every dependency before its dependent), ties broken
/// by start time, as ASTRA-sim's feeder expects (`ChakraExporter+Order.swift`).
public enum ChakraExporter {
  public struct Summary: Sendable {
    public var files: [String]
    public var nodes: Int
    /// Allocator events left out (Chakra has no node type for them).
    public var skippedMemoryEvents: Int
    /// Cross-rank edges (send → recv) not written as dependencies: a file holds one rank.
    public var crossRankEdges: Int
    /// Dependencies left out to break a cycle (edges that disagree with the measured order).
    public var droppedDependencies: Int

    /// What was written into `dir` and what was left out, one line each.
    public func text(dir: String, note: String = "") -> String {
      var lines = ["wrote \(files.count) file(s), \(nodes) nodes, to \(dir)/" + note]
      if skippedMemoryEvents > 0 {
        lines.append("  left out \(skippedMemoryEvents) allocator event(s): Chakra has no node type for them")
      }
      if droppedDependencies > 0 {
        lines.append("  left out \(droppedDependencies) dependency(ies) that closed a cycle with the timeline's order")
      }
      if crossRankEdges > 0 {
        lines.append(
          "  \(crossRankEdges) cross-rank edge(s) (send → recv) are not dependencies: each file holds one rank; "
            + "comm_tag pairs them")
      }
      return lines.joined(separator: "\n")
    }
  }

  public struct WriteError: Error, CustomStringConvertible {
    public var description: String
  }

  /// Writes one `name.RANK.et` per rank of `g` into `dir` (created when missing), timed by `t`.
  ///
  /// - Returns: the files written and what was left out.
  /// - Throws: `WriteError` when a file cannot be written; the file system's error when `dir`
  ///   cannot be created; a protobuf error when a message cannot be serialized.
  public static func write(_ g: EventGraph, timeline t: Timeline, to dir: String, name: String = "reprise") throws
    -> Summary
  {
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let records = CommunicationRecords(g)
    let byRank = Dictionary(grouping: 0..<g.eventCount, by: { g.rank(of: $0) })
    var summary = Summary(files: [], nodes: 0, skippedMemoryEvents: 0, crossRankEdges: 0, droppedDependencies: 0)
    for info in g.ranks.sorted(by: { $0.rank < $1.rank }) {
      let all = byRank[info.rank] ?? []
      let events = all.filter { g.kind[$0] != .memory }
      let dependencies = RankDependencies(g, timeline: t, events: events)
      let ordered = DependencyOrder(events, dependencies, timeline: t)
      let bytes = try encode(info, ordered, graph: g, timeline: t, records: records)
      let path = dir + "/" + name + ".\(info.rank.rawValue).et"
      guard FileManager.default.createFile(atPath: path, contents: bytes) else {
        throw WriteError(description: "\(path): cannot write")
      }
      summary.files.append(path)
      summary.nodes += ordered.events.count
      summary.skippedMemoryEvents += all.count - events.count
      summary.crossRankEdges += dependencies.crossRankEdges
      summary.droppedDependencies += ordered.droppedDependencies
    }
    return summary
  }

  /// The `.et` bytes of one rank: its `GlobalMetadata`, then one `Node` per event in `ordered`.
  static func encode(
    _ info: RankInfo, _ ordered: DependencyOrder, graph g: EventGraph, timeline t: Timeline,
    records: CommunicationRecords
  ) throws -> Data {
    var out = Data()
    try append(metadata(info), to: &out)
    let id = Dictionary(uniqueKeysWithValues: ordered.events.enumerated().map { ($1, UInt64($0)) })
    let deps = ordered.dependencies
    for (position, e) in ordered.events.enumerated() {
      var node = ChakraProtoMsg_Node()
      node.id = UInt64(position)
      node.name = g.strings[g.name[e]]
      let lane = g.lanes[g.lane[e].index]
      node.attr = [attr("is_cpu_op", .boolVal(lane.kind == .hostThread)), attr("tid", .int64Val(lane.tid))]
      let (type, typeAttributes) = typeAndAttributes(of: e, graph: g, records: records)
      node.type = type
      node.attr += typeAttributes
      // Every dependency is placed before its dependent, so each has an id.
      if let c = deps.ctrl[e], let cid = id[c] { node.ctrlDeps = [cid] }
      node.dataDeps = Set(deps.data[e] ?? []).compactMap { id[$0] }.sorted()
      let s = micros(t.start[e])
      let end = micros(t.end[e])
      node.startTimeMicros = UInt64(max(0, s))
      node.durationMicros = UInt64(max(0, end - s))
      try append(node, to: &out)
    }
    return out
  }

  /// The file's `GlobalMetadata`: schema version 0.0.4 and where the rank came from.
  static func metadata(_ info: RankInfo) -> ChakraProtoMsg_GlobalMetadata {
    var meta = ChakraProtoMsg_GlobalMetadata()
    meta.version = "0.0.4"
    meta.attr = [
      attr("schema", .stringVal("reprise")), attr("rank", .int64Val(Int64(info.rank.rawValue))),
      attr("source", .stringVal(info.file)),
    ]
    if let w = info.worldSize { meta.attr.append(attr("world_size", .int64Val(Int64(w)))) }
    return meta
  }

  /// The node type of event `e` and the attributes that type carries (sizes, peers, groups).
  static func typeAndAttributes(of e: Int, graph g: EventGraph, records: CommunicationRecords)
    -> (ChakraProtoMsg_NodeType, [ChakraProtoMsg_AttributeProto])
  {
    switch g.kind[e] {
    case .collective:
      let record = records.collective[e]
      let kind = CollectiveKind(rawValue: g.detail[e]) ?? record?.kind ?? .unknown
      let bytes = record.map { max($0.inputBytes, $0.outputBytes) } ?? g.bytes[e]
      var attributes = [attr("comm_type", .int64Val(kind.chakraCommType)), attr("comm_size", .int64Val(bytes))]
      if let record { attributes.append(attr("pg_name", .stringVal(g.strings[record.group]))) }
      return (.commCollNode, attributes)
    case .send, .recv:
      let isSend = g.kind[e] == .send
      let record = records.p2p[e]
      var attributes: [ChakraProtoMsg_AttributeProto] = []
      if let peer = record?.peer {
        attributes.append(attr(isSend ? "comm_dst" : "comm_src", .int32Val(peer.rawValue)))
      }
      attributes += [
        attr("comm_tag", .int64Val(records.pairTag[e] ?? -1)),
        attr("comm_size", .int64Val(record?.bytes ?? g.bytes[e])),
      ]
      return (isSend ? .commSendNode : .commRecvNode, attributes)
    case .memcpy where MemcpyDirection(rawValue: g.detail[e]) == .hostToDevice:
      return (.memLoadNode, [attr("tensor_size", .int64Val(g.bytes[e]))])
    case .memcpy where MemcpyDirection(rawValue: g.detail[e]) == .deviceToHost:
      return (.memStoreNode, [attr("tensor_size", .int64Val(g.bytes[e]))])
    case .annotation:
      return (.metadataNode, [])
    default:
      return (.compNode, [])
    }
  }

  /// Whole microseconds (Chakra's unit), rounded half away from zero.
  static func micros(_ time: Nanoseconds) -> Int64 {
    let ns = time.rawValue
    return ns >= 0 ? (ns + 500) / 1000 : -((-ns + 500) / 1000)
  }

  /// Appends `m` with its varint length prefix.
  static func append(_ m: some SwiftProtobuf.Message, to out: inout Data) throws {
    let body: [UInt8] = try m.serializedBytes()
    var n = UInt64(body.count)
    repeat {
      var b = UInt8(n & 0x7F)
      n >>= 7
      if n != 0 { b |= 0x80 }
      out.append(b)
    } while n != 0
    out.append(contentsOf: body)
  }

  /// An attribute named `name` holding `value`.
  static func attr(_ name: String, _ value: ChakraProtoMsg_AttributeProto.OneOf_Value)
    -> ChakraProtoMsg_AttributeProto
  {
    var a = ChakraProtoMsg_AttributeProto()
    a.name = name
    a.value = value
    return a
  }
}

/// The graph's communication records by event, and the `comm_tag` of each matched send/recv pair.
struct CommunicationRecords {
  var collective: [Int: CollectiveRecord]
  var p2p: [Int: P2PRecord]
  /// Both events of the k-th matched pair (in send order) get tag k.
  var pairTag: [Int: Int64] = [:]

  init(_ g: EventGraph) {
    collective = Dictionary(g.collectives.map { ($0.event.index, $0) }, uniquingKeysWith: { a, _ in a })
    p2p = Dictionary(g.p2p.map { ($0.event.index, $0) }, uniquingKeysWith: { a, _ in a })
    var tag: Int64 = 0
    for p in g.p2p where p.isSend {
      if let m = p.match {
        pairTag[p.event.index] = tag
        pairTag[m.index] = tag
        tag += 1
      }
    }
  }
}
