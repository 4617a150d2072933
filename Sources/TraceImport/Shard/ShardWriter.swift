import Foundation
import TraceModel

/// Encodes one rank's graph as a shard (`ShardFormat`).
struct ShardWriter {
  private var sections: [(tag: String, width: UInt8, base: Int64, count: Int, bytes: [UInt8])] = []

  /// The shard of `rank`: its graph, file record and diagnostics.
  /// - Throws: `EncodingError` when the metadata cannot be encoded (it always can).
  static func encode(_ rank: ImportedRank) throws -> [UInt8] {
    var w = ShardWriter()
    let g = rank.graph
    w.strings(g.strings.strings)
    w.eventColumns(g)
    w.recordColumns(g)
    let meta = ShardMeta(
      schema: ShardFormat.schema, source: ShardMeta.Source(rank.file), rank: rank.file.rank.rawValue,
      eventCount: g.eventCount, edgeCount: g.edgeCount, lanes: g.lanes, ranks: g.ranks, steps: g.steps,
      instances: g.instances, diagnostics: rank.diagnostics.items,
      executionTrace: rank.executionTrace.map { .init(source: ShardMeta.Source($0.file), link: $0.link) })
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return w.assemble(meta: Array(try encoder.encode(meta)), eventCount: g.eventCount)
  }

  private mutating func eventColumns(_ g: EventGraph) {
    column("event.lane", g.lane.lazy.map { Int64($0.rawValue) })
    column("event.name", g.name.lazy.map { Int64($0.rawValue) })
    column("event.kind", g.kind.lazy.map { Int64($0.rawValue) })
    column("event.detail", g.detail.lazy.map { Int64($0) })
    column("event.start", g.start)
    column("event.duration", g.duration)
    column("event.bytes", g.bytes)
    column("event.corr", g.correlation)
    column("event.parent", g.parent.lazy.map { Self.optional($0) })
    column("event.source", g.sourceIndex.lazy.map { Int64($0) })
    column("edge.offsets", g.edgeOffsets.lazy.map { Int64($0) })
    column("edge.target", g.edgeTargets.lazy.map { Int64($0.rawValue) })
    column("edge.kind", g.edgeKinds.lazy.map { Int64($0.rawValue) })
  }

  private mutating func recordColumns(_ g: EventGraph) {
    let c = g.collectives
    column("coll.event", c.lazy.map { Int64($0.event.rawValue) })
    column("coll.kind", c.lazy.map { Int64($0.kind.rawValue) })
    column("coll.group", c.lazy.map { Int64($0.group.rawValue) })
    column("coll.size", c.lazy.map { Int64($0.groupSize) })
    var rankOffsets: [Int64] = [0]
    rankOffsets.reserveCapacity(c.count + 1)
    for r in c { rankOffsets.append((rankOffsets.last ?? 0) + Int64(r.groupRanks.count)) }
    column("coll.ranks.off", rankOffsets)
    column("coll.ranks", c.lazy.flatMap(\.groupRanks).map { Int64($0) })
    column("coll.sequence", c.lazy.map { Int64($0.sequence) })
    column("coll.traceseq", c.lazy.map { $0.hasTraceSequence ? 1 : 0 })
    column("coll.dtype", c.lazy.map { Int64($0.dtype.rawValue) })
    column("coll.inbytes", c.lazy.map(\.inputBytes))
    column("coll.outbytes", c.lazy.map(\.outputBytes))
    column("coll.instance", c.lazy.map { $0.instance.map { Int64($0.rawValue) + 1 } ?? 0 })
    let p = g.p2p
    column("p2p.event", p.lazy.map { Int64($0.event.rawValue) })
    column("p2p.send", p.lazy.map { $0.isSend ? 1 : 0 })
    column("p2p.haspeer", p.lazy.map { $0.peer == nil ? 0 : 1 })
    column("p2p.peer", p.lazy.map { Int64($0.peer?.rawValue ?? 0) })
    column("p2p.bytes", p.lazy.map(\.bytes))
    column("p2p.match", p.lazy.map { $0.match.map { Int64($0.rawValue) + 1 } ?? 0 })
    let m = g.memory
    column("mem.event", m.lazy.map { Int64($0.event.rawValue) })
    column("mem.device", m.lazy.map { Int64($0.device) })
    column("mem.delta", m.lazy.map(\.delta))
    column("mem.allocated", m.lazy.map(\.totalAllocated))
    column("mem.reserved", m.lazy.map(\.totalReserved))
    let s = g.opShapes
    column("shape.event", s.lazy.map { Int64($0.event.rawValue) })
    column("shape.dims", s.lazy.map { Int64($0.dims.rawValue) })
    column("shape.types", s.lazy.map { Int64($0.types.rawValue) })
  }

  /// An event id stored as id + 1, so `.none` (UInt32.max) is 0.
  static func optional(_ e: EventID) -> Int64 { e == .none ? 0 : Int64(e.rawValue) + 1 }

  /// The string table as cumulative byte offsets and the UTF-8 bytes.
  private mutating func strings(_ strings: [String]) {
    var offsets: [Int64] = [0]
    offsets.reserveCapacity(strings.count + 1)
    var bytes: [UInt8] = []
    for s in strings {
      bytes.append(contentsOf: s.utf8)
      offsets.append(Int64(bytes.count))
    }
    column("strings.offsets", offsets)
    sections.append(("strings.bytes", 1, 0, bytes.count, bytes))
  }

  /// A column of `values`, stored as `value - min` in as few bytes as the range needs.
  private mutating func column<C: Collection>(_ tag: String, _ values: C) where C.Element == Int64 {
    precondition(tag.utf8.count <= ShardFormat.tagBytes, "shard tag too long: \(tag)")
    var lo = Int64.max
    var hi = Int64.min
    for v in values {
      lo = min(lo, v)
      hi = max(hi, v)
    }
    if values.isEmpty { (lo, hi) = (0, 0) }
    let range = UInt64(bitPattern: hi &- lo)
    let width = range == 0 ? 0 : (64 - range.leadingZeroBitCount + 7) / 8
    var bytes = [UInt8](repeating: 0, count: values.count * width + 8)
    if width > 0 {
      bytes.withUnsafeMutableBytes { out in
        var at = 0
        for v in values {
          out.storeBytes(of: UInt64(bitPattern: v &- lo).littleEndian, toByteOffset: at, as: UInt64.self)
          at += width
        }
      }
    }
    bytes.removeLast(8)
    sections.append((tag, UInt8(width), lo, values.count, bytes))
  }

  /// Header, section table, metadata and the sections, each 8-byte aligned, then 8 zero bytes.
  private func assemble(meta: [UInt8], eventCount: Int) -> [UInt8] {
    let tableBytes = sections.count * ShardFormat.sectionEntryBytes
    var offset = align(ShardFormat.headerBytes + tableBytes + meta.count)
    var table: [UInt8] = []
    table.reserveCapacity(tableBytes)
    for s in sections {
      var tag = Array(s.tag.utf8)
      tag += [UInt8](repeating: 0, count: ShardFormat.tagBytes - tag.count)
      table += tag
      table.appendLE(UInt64(offset))
      table.appendLE(UInt64(s.count))
      table += [s.width, 0, 0, 0, 0, 0, 0, 0]
      table.appendLE(s.bytes.withUnsafeBytes { ShardFormat.checksum($0) })
      table.appendLE(UInt64(bitPattern: s.base))
      offset = align(offset + s.bytes.count)
    }
    let fileBytes = offset + 8
    var out: [UInt8] = []
    out.reserveCapacity(fileBytes)
    out += ShardFormat.magic
    out.appendLE(ShardFormat.version)
    out.appendLE(UInt32(ShardFormat.headerBytes))
    out.appendLE(UInt64(fileBytes))
    out.appendLE(UInt32(sections.count))
    out.appendLE(UInt32(meta.count))
    out.appendLE(meta.withUnsafeBytes { ShardFormat.checksum($0) })
    out.appendLE(table.withUnsafeBytes { ShardFormat.checksum($0) })
    out.appendLE(UInt64(eventCount))
    out.appendLE(out.withUnsafeBytes { ShardFormat.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<56])) })
    out += table
    out += meta
    for s in sections {
      out += [UInt8](repeating: 0, count: align(out.count) - out.count)
      out += s.bytes
    }
    out += [UInt8](repeating: 0, count: fileBytes - out.count)
    return out
  }

  private func align(_ n: Int) -> Int { (n + 7) & ~7 }
}

extension Array where Element == UInt8 {
  /// Appends `value` in little-endian byte order.
  mutating func appendLE<T: FixedWidthInteger>(_ value: T) {
    Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
  }
}
