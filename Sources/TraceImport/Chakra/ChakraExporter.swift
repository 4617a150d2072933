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
/// by start time, as ASTRA-sim's feeder expects.
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
  }

  public struct WriteError: Error, CustomStringConvertible {
    public var description: String
  }

  public static func write(_ g: EventGraph, timeline: Timeline, to dir: String, name: String = "reprise") throws -> Summary {
    let t = (start: timeline.start.map(\.rawValue), end: timeline.end.map(\.rawValue))
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    var files: [String] = [], total = 0, skipped = 0, crossRank = 0, brokenDependencies = 0
    let byRank = Dictionary(grouping: (0..<g.eventCount), by: { g.rank(of: $0) })
    var pairTag: [Int: Int64] = [:]
    var tag: Int64 = 0
    for p in g.p2p where p.isSend {
      if let m = p.match { pairTag[p.event.index] = tag; pairTag[m.index] = tag; tag += 1 }
    }
    let collectiveRecord = Dictionary(g.collectives.map { ($0.event.index, $0) }, uniquingKeysWith: { a, _ in a })
    let p2pRecord = Dictionary(g.p2p.map { ($0.event.index, $0) }, uniquingKeysWith: { a, _ in a })
    for info in g.ranks.sorted(by: { $0.rank < $1.rank }) {
      let events = (byRank[info.rank] ?? []).filter { g.kind[$0] != .memory }
      skipped += (byRank[info.rank]?.count ?? 0) - events.count
      let local = Set(events)
      // Dependencies within the rank: lane predecessor (ctrl) and precedence edges (data).
      var ctrl: [Int: Int] = [:]
      var byLane: [Int: [Int]] = [:]
      for e in events { byLane[g.lane[e].index, default: []].append(e) }
      for (_, list) in byLane {
        // In lane order (start, longest first, index), the earlier event with the latest end at or
        // before this one's start; only earlier events qualify, so zero-length calls cannot loop.
        let sorted = list.sorted { (t.start[$0], -(t.end[$0] - t.start[$0]), $0) < (t.start[$1], -(t.end[$1] - t.start[$1]), $1) }
        var pending = MinHeap<OrderKey>()  // earlier events by end time
        var best = -1
        for e in sorted {
          while let top = pending.peek(), top.start <= t.start[e] {
            _ = pending.pop()
            if best < 0 || t.end[top.event] >= t.end[best] { best = top.event }
          }
          if best >= 0 { ctrl[e] = best }
          pending.push(OrderKey(start: t.end[e], negDuration: 0, event: e))
        }
      }
      var data: [Int: [Int]] = [:]
      for u in events {
        for (v, kind) in g.edges(from: EventID(u)) where kind == .launch || kind == .sync || kind == .data || kind == .programOrder {
          if local.contains(v.index) { if kind != .programOrder || ctrl[v.index] != u { data[v.index, default: []].append(u) } } else { crossRank += 1 }
        }
        for (v, kind) in g.edges(from: EventID(u)) where kind == .p2p && !local.contains(v.index) { crossRank += 1 }
      }
      // Dependency order (Kahn), ties by (start, longest first, index).
      var indegree: [Int: Int] = [:], children: [Int: [Int]] = [:]
      for e in events {
        let deps = Set((ctrl[e].map { [$0] } ?? []) + (data[e] ?? []))
        indegree[e] = deps.count
        for d in deps { children[d, default: []].append(e) }
      }
      func key(_ e: Int) -> OrderKey { OrderKey(start: t.start[e], negDuration: -(t.end[e] - t.start[e]), event: e) }
      var heap = MinHeap<OrderKey>()
      for e in events where indegree[e] == 0 { heap.push(key(e)) }
      var order: [Int] = []
      order.reserveCapacity(events.count)
      var placed = Set<Int>()
      while order.count < events.count {
        guard let top = heap.pop() else {
          // A cycle (measured times can disagree with edges by rounding): release the earliest
          // waiting event, dropping its unmet dependencies (counted).
          let stuck = events.filter { !placed.contains($0) && (indegree[$0] ?? 0) > 0 }.min { key($0) < key($1) }!
          brokenDependencies += indegree[stuck]!
          indegree[stuck] = 0
          ctrl[stuck] = ctrl[stuck].flatMap { placed.contains($0) ? $0 : nil }
          data[stuck] = data[stuck]?.filter { placed.contains($0) }
          heap.push(key(stuck))
          continue
        }
        if placed.contains(top.event) { continue }
        placed.insert(top.event)
        order.append(top.event)
        for c in children[top.event] ?? [] where !placed.contains(c) {
          indegree[c]! -= 1
          if indegree[c] == 0 { heap.push(key(c)) }
        }
      }
      let id = Dictionary(uniqueKeysWithValues: order.enumerated().map { ($1, UInt64($0)) })

      var out = Data()
      var meta = ChakraProtoMsg_GlobalMetadata()
      meta.version = "0.0.4"
      meta.attr = [attr("schema", string: "reprise"), attr("rank", int: Int64(info.rank.rawValue)),
                   attr("source", string: info.file)]
      if let w = info.worldSize { meta.attr.append(attr("world_size", int: Int64(w))) }
      try append(meta, to: &out)
      for e in order {
        var node = ChakraProtoMsg_Node()
        node.id = id[e]!
        node.name = g.strings[g.name[e]]
        let lane = g.lanes[g.lane[e].index]
        let host = lane.kind == .hostThread
        node.attr = [attr("is_cpu_op", bool: host), attr("tid", int: lane.tid)]
        switch g.kind[e] {
        case .collective:
          node.type = .commCollNode
          let kind = CollectiveKind(rawValue: g.detail[e]) ?? collectiveRecord[e]?.kind ?? .unknown
          let bytes = collectiveRecord[e].map { max($0.inputBytes, $0.outputBytes) } ?? g.bytes[e]
          node.attr += [attr("comm_type", int: ChakraProtobufImporter.commType(kind)), attr("comm_size", int: bytes)]
          if let r = collectiveRecord[e] { node.attr.append(attr("pg_name", string: g.strings[r.group])) }
        case .send, .recv:
          let send = g.kind[e] == .send
          node.type = send ? .commSendNode : .commRecvNode
          let rec = p2pRecord[e]
          if let peer = rec?.peer { node.attr.append(attr(send ? "comm_dst" : "comm_src", int32: peer.rawValue)) }
          node.attr += [attr("comm_tag", int: pairTag[e] ?? -1), attr("comm_size", int: rec?.bytes ?? g.bytes[e])]
        case .memcpy where MemcpyDirection(rawValue: g.detail[e]) == .hostToDevice:
          node.type = .memLoadNode
          node.attr.append(attr("tensor_size", int: g.bytes[e]))
        case .memcpy where MemcpyDirection(rawValue: g.detail[e]) == .deviceToHost:
          node.type = .memStoreNode
          node.attr.append(attr("tensor_size", int: g.bytes[e]))
        case .annotation:
          node.type = .metadataNode
        default:
          node.type = .compNode
        }
        if let c = ctrl[e] { node.ctrlDeps = [id[c]!] }
        node.dataDeps = Array(Set(data[e] ?? [])).map { id[$0]! }.sorted()
        let s = micros(t.start[e]), end = micros(t.end[e])
        node.startTimeMicros = UInt64(max(0, s))
        node.durationMicros = UInt64(max(0, end - s))
        try append(node, to: &out)
      }
      let path = dir + "/" + name + ".\(info.rank.rawValue).et"
      guard FileManager.default.createFile(atPath: path, contents: out) else { throw WriteError(description: "\(path): cannot write") }
      files.append(path)
      total += order.count
    }
    return Summary(files: files, nodes: total, skippedMemoryEvents: skipped, crossRankEdges: crossRank,
                   droppedDependencies: brokenDependencies)
  }

  /// ns → µs, rounded half up.
  static func micros(_ ns: Int64) -> Int64 { ns >= 0 ? (ns + 500) / 1000 : -((-ns + 500) / 1000) }

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

  static func attr(_ name: String, int: Int64) -> ChakraProtoMsg_AttributeProto {
    var a = ChakraProtoMsg_AttributeProto(); a.name = name; a.int64Val = int; return a
  }
  static func attr(_ name: String, int32: Int32) -> ChakraProtoMsg_AttributeProto {
    var a = ChakraProtoMsg_AttributeProto(); a.name = name; a.int32Val = int32; return a
  }
  static func attr(_ name: String, bool: Bool) -> ChakraProtoMsg_AttributeProto {
    var a = ChakraProtoMsg_AttributeProto(); a.name = name; a.boolVal = bool; return a
  }
  static func attr(_ name: String, string: String) -> ChakraProtoMsg_AttributeProto {
    var a = ChakraProtoMsg_AttributeProto(); a.name = name; a.stringVal = string; return a
  }
}

/// Tie-break of the dependency order: earlier start, then longer, then graph order.
struct OrderKey: Comparable {
  var start: Int64, negDuration: Int64, event: Int
  static func < (a: Self, b: Self) -> Bool { (a.start, a.negDuration, a.event) < (b.start, b.negDuration, b.event) }
}

/// A binary min-heap (for the dependency-order tie-break).
struct MinHeap<T: Comparable> {
  private var items: [T] = []
  mutating func push(_ x: T) {
    items.append(x)
    var i = items.count - 1
    while i > 0 {
      let p = (i - 1) / 2
      if items[p] <= items[i] { break }
      items.swapAt(p, i); i = p
    }
  }
  func peek() -> T? { items.first }
  mutating func pop() -> T? {
    guard let top = items.first else { return nil }
    let last = items.removeLast()
    if !items.isEmpty {
      items[0] = last
      var i = 0
      while true {
        let l = 2 * i + 1, r = l + 1
        var m = i
        if l < items.count && items[l] < items[m] { m = l }
        if r < items.count && items[r] < items[m] { m = r }
        if m == i { break }
        items.swapAt(m, i); i = m
      }
    }
    return top
  }
}
