import Foundation
import TraceModel

/// Reads a shard (`ShardFormat`) back into the graph of its rank, checking every length, offset,
/// checksum and index on the way: a damaged shard is a `TraceImportError.malformed` naming the
/// file, the byte offset, what was expected and what was found.
struct ShardReader {
  let base: UnsafeRawPointer
  let size: Int
  let file: String
  private var sections: [String: ShardSection] = [:]
  private(set) var sectionCount = 0

  init(_ bytes: UnsafeRawBufferPointer, file: String) {
    self.base = bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 0x10).unsafelyUnwrapped
    self.size = bytes.count
    self.file = file
  }

  /// The shard's metadata, graph and diagnostics.
  mutating func read() throws -> (ShardMeta, EventGraph) {
    let (sectionCount, metaBytes, eventCount) = try header()
    self.sectionCount = sectionCount
    let meta = try metadata(sectionCount: sectionCount, metaBytes: metaBytes)
    guard meta.eventCount == eventCount else {
      throw fail(48, "the metadata's event count \(meta.eventCount)", "\(eventCount) in the header")
    }
    let strings = try stringTable()
    var g = EventGraph(
      restoring: strings, lanes: meta.lanes, ranks: meta.ranks, lane: [], name: [], kind: [], detail: [], start: [],
      duration: [], bytes: [], correlation: [], parent: [], sourceIndex: [], edgeOffsets: [], edgeTargets: [],
      edgeKinds: [], steps: meta.steps, collectives: [], instances: meta.instances, p2p: [], memory: [], opShapes: [])
    try events(into: &g, count: meta.eventCount, edges: meta.edgeCount)
    try records(into: &g)
    try checkIndices(g)
    return (meta, g)
  }

  // MARK: Header, table, metadata

  private func header() throws -> (sections: Int, metaBytes: Int, events: Int) {
    guard size >= ShardFormat.headerBytes else {
      throw fail(0, "a \(ShardFormat.headerBytes)-byte shard header", "\(size) bytes")
    }
    guard
      ShardFormat.magic.indices.allSatisfy({ base.load(fromByteOffset: $0, as: UInt8.self) == ShardFormat.magic[$0] })
    else { throw fail(0, "the shard magic RPRSHARD", "other bytes") }
    let version = u32(8)
    guard version == ShardFormat.version else {
      throw fail(
        8, "shard format version \(ShardFormat.version) (what this build reads)",
        "version \(version); re-shard the trace with this build")
    }
    let headerCRC = ShardFormat.crc32(UnsafeRawBufferPointer(start: base, count: 60))
    guard headerCRC == u32(60) else { throw fail(60, "header CRC-32 \(hex(u32(60)))", "\(hex(headerCRC)): corrupt") }
    let fileBytes = u64(16)
    guard fileBytes == UInt64(size) else {
      let found = UInt64(size) < fileBytes ? "the file ends after \(size) bytes (truncated)" : "\(size) bytes"
      throw fail(size < Int(clamping: fileBytes) ? size : 16, "\(fileBytes) bytes, the size the header gives", found)
    }
    let sectionCount = Int(u32(32))
    let metaBytes = Int(u32(36))
    guard u64(24) == UInt64(ShardFormat.headerBytes),
      ShardFormat.headerBytes + sectionCount * ShardFormat.sectionEntryBytes + metaBytes <= size
    else { throw fail(24, "a section table and metadata inside the file", "they reach past its end") }
    return (sectionCount, metaBytes, Int(clamping: u64(48)))
  }

  private mutating func metadata(sectionCount: Int, metaBytes: Int) throws -> ShardMeta {
    let tableAt = ShardFormat.headerBytes
    let tableBytes = sectionCount * ShardFormat.sectionEntryBytes
    let tableCRC = ShardFormat.crc32(UnsafeRawBufferPointer(start: base + tableAt, count: tableBytes))
    guard tableCRC == u32(44) else {
      throw fail(tableAt, "section table CRC-32 \(hex(u32(44)))", "\(hex(tableCRC)): corrupt")
    }
    for i in 0..<sectionCount {
      let at = tableAt + i * ShardFormat.sectionEntryBytes
      let tagBytes = (0..<ShardFormat.tagBytes).map { base.load(fromByteOffset: at + $0, as: UInt8.self) }
      let tag = String(decoding: tagBytes.prefix { $0 != 0 }, as: UTF8.self)
      let s = ShardSection(
        tag: tag, offset: u64(at + 16), count: u64(at + 24), width: base.load(fromByteOffset: at + 32, as: UInt8.self),
        crc: u32(at + 36), base: Int64(bitPattern: u64(at + 40)))
      guard s.width <= 8, s.count < 1 << 40, s.offset % 8 == 0,
        s.offset + UInt64(s.byteLength) + 8 <= UInt64(size)
      else {
        throw fail(at, "section '\(tag)' inside the file", "offset \(s.offset), \(s.count) × \(s.width) bytes")
      }
      sections[tag] = s
    }
    let metaAt = tableAt + tableBytes
    let raw = UnsafeRawBufferPointer(start: base + metaAt, count: metaBytes)
    let metaCRC = ShardFormat.crc32(raw)
    guard metaCRC == u32(40) else { throw fail(metaAt, "metadata CRC-32 \(hex(u32(40)))", "\(hex(metaCRC)): corrupt") }
    let meta: ShardMeta
    do { meta = try JSONDecoder().decode(ShardMeta.self, from: Data(raw)) } catch {
      throw fail(metaAt, "shard metadata (\(ShardFormat.schema))", "JSON that does not decode: \(error)")
    }
    guard meta.schema == ShardFormat.schema else {
      throw fail(metaAt, "metadata schema \(ShardFormat.schema) (what this build reads)", meta.schema)
    }
    return meta
  }

  // MARK: Columns

  /// The column `tag` as `T`, checked: present, `count` long when given, its checksum, and every
  /// value in `T`'s range.
  func column<T: FixedWidthInteger>(_ tag: String, count: Int? = nil, as: T.Type = T.self) throws -> [T] {
    guard let s = sections[tag] else { throw fail(ShardFormat.headerBytes, "a section '\(tag)'", "none") }
    let at = Int(s.offset)
    if let count, Int(s.count) != count {
      throw fail(at, "\(count) values in section '\(tag)'", "\(s.count)")
    }
    let crc = ShardFormat.crc32(UnsafeRawBufferPointer(start: base + at, count: s.byteLength))
    guard crc == s.crc else { throw fail(at, "section '\(tag)' CRC-32 \(hex(s.crc))", "\(hex(crc)): corrupt") }
    let n = Int(s.count)
    var high: UInt64 = 0
    let values = [T](unsafeUninitializedCapacity: n) { out, initialized in
      let w = Int(s.width)
      let p = base + at
      let b = s.base
      let mask: UInt64 = w == 8 ? .max : (1 << (8 * UInt64(w))) &- 1
      switch w {
      case 0: for i in 0..<n { out[i] = T(truncatingIfNeeded: b) }
      case 1: Self.widen(n, out, b, &high) { UInt64(p.load(fromByteOffset: $0, as: UInt8.self)) }
      case 2:
        Self.widen(n, out, b, &high) {
          UInt64(UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self)))
        }
      case 4:
        Self.widen(n, out, b, &high) {
          UInt64(UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self)))
        }
      default:
        Self.widen(n, out, b, &high) {
          UInt64(littleEndian: p.loadUnaligned(fromByteOffset: w * $0, as: UInt64.self)) & mask
        }
      }
      initialized = n
    }
    let (top, overflow) = s.base.addingReportingOverflow(Int64(bitPattern: high))
    guard
      n == 0
        || (s.base >= Int64(clamping: T.min) && !overflow && high <= UInt64(Int64.max) && top <= Int64(clamping: T.max))
    else {
      throw fail(at, "values of section '\(tag)' that fit \(T.self)", "values up to \(s.base) + \(high)")
    }
    return values
  }

  @inline(__always)
  private static func widen<T: FixedWidthInteger>(
    _ n: Int, _ out: UnsafeMutableBufferPointer<T>, _ base: Int64, _ high: inout UInt64, _ load: (Int) -> UInt64
  ) {
    var h: UInt64 = 0
    for i in 0..<n {
      let v = load(i)
      h = max(h, v)
      out[i] = T(truncatingIfNeeded: base &+ Int64(bitPattern: v))
    }
    high = h
  }

  private func stringTable() throws -> StringTable {
    let offsets: [Int64] = try column("strings.offsets")
    let bytes: [UInt8] = try column("strings.bytes")
    var strings: [String] = []
    strings.reserveCapacity(max(0, offsets.count - 1))
    try bytes.withUnsafeBufferPointer { b in
      for i in 0..<max(0, offsets.count - 1) {
        let (lo, hi) = (Int(offsets[i]), Int(offsets[i + 1]))
        guard 0 <= lo, lo <= hi, hi <= b.count else {
          throw fail(
            Int(sections["strings.offsets"]?.offset ?? 0), "string offsets in order", "string \(i) at \(lo)..<\(hi)")
        }
        strings.append(String(decoding: UnsafeBufferPointer(rebasing: b[lo..<hi]), as: UTF8.self))
      }
    }
    guard let table = StringTable(ordered: strings) else {
      throw fail(Int(sections["strings.bytes"]?.offset ?? 0), "distinct strings, the first empty", "a repeated string")
    }
    return table
  }

  // MARK: Helpers

  func u32(_ at: Int) -> UInt32 { UInt32(littleEndian: base.loadUnaligned(fromByteOffset: at, as: UInt32.self)) }
  func u64(_ at: Int) -> UInt64 { UInt64(littleEndian: base.loadUnaligned(fromByteOffset: at, as: UInt64.self)) }
  func hex(_ v: UInt32) -> String { "0x" + String(v, radix: 16) }
  func offset(of tag: String) -> Int { Int(sections[tag]?.offset ?? UInt64(ShardFormat.headerBytes)) }

  func fail(_ offset: Int, _ expected: String, _ found: String) -> TraceImportError {
    .malformed(TraceLocation(file: file, byteOffset: Int64(offset)), expected: expected, found: found)
  }
}
