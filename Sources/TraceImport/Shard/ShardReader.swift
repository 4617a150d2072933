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
  /// The events the shard holds (its header's count, once `read` has checked it).
  private(set) var eventCount = 0

  init(_ bytes: UnsafeRawBufferPointer, file: String) {
    self.base = bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 0x10).unsafelyUnwrapped
    self.size = bytes.count
    self.file = file
  }

  /// The most elements any section may claim: 64 per byte of the file.
  var maxElements: Int { size.multipliedReportingOverflow(by: 64).overflow ? .max : size * 64 }

  /// The shard's metadata, graph and diagnostics. With `deferEvents`, the graph holds the tables
  /// and records only, its event and edge columns empty: `ShardMerge` decodes them later, straight
  /// into the merged graph.
  mutating func read(deferEvents: Bool = false) throws -> (ShardMeta, EventGraph) {
    let (sectionCount, metaBytes, eventCount) = try header()
    self.sectionCount = sectionCount
    let meta = try metadata(sectionCount: sectionCount, metaBytes: metaBytes)
    guard meta.eventCount == eventCount else {
      throw fail(48, "the metadata's event count \(meta.eventCount)", "\(eventCount) in the header")
    }
    guard (0..<min(Int(UInt32.max), maxElements)).contains(meta.eventCount),
      (0...min(Int(UInt32.max), maxElements)).contains(meta.edgeCount)
    else {
      throw fail(
        48, "event and edge counts below 2^32 that the file can hold", "\(meta.eventCount) and \(meta.edgeCount)")
    }
    self.eventCount = meta.eventCount
    let strings = try stringTable()
    var g = EventGraph(
      restoring: strings, lanes: meta.lanes, ranks: meta.ranks, lane: [], name: [], kind: [], detail: [], start: [],
      duration: [], bytes: [], correlation: [], parent: [], sourceIndex: [], edgeOffsets: [], edgeTargets: [],
      edgeKinds: [], steps: meta.steps, collectives: [], instances: meta.instances, p2p: [], memory: [], opShapes: [])
    if !deferEvents { try events(into: &g, count: meta.eventCount, edges: meta.edgeCount) }
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
    let headerHash = ShardFormat.checksum(UnsafeRawBufferPointer(start: base, count: 56))
    guard headerHash == u64(56) else { throw fail(56, "header XXH64 \(hex(u64(56)))", "\(hex(headerHash)): corrupt") }
    let fileBytes = u64(16)
    guard fileBytes == UInt64(size) else {
      let found = UInt64(size) < fileBytes ? "the file ends after \(size) bytes (truncated)" : "\(size) bytes"
      throw fail(size < Int(clamping: fileBytes) ? size : 16, "\(fileBytes) bytes, the size the header gives", found)
    }
    let sectionCount = Int(u32(24))
    let metaBytes = Int(u32(28))
    guard u32(12) == UInt32(ShardFormat.headerBytes),
      ShardFormat.headerBytes + sectionCount * ShardFormat.sectionEntryBytes + metaBytes <= size
    else { throw fail(12, "a section table and metadata inside the file", "they reach past its end") }
    return (sectionCount, metaBytes, Int(clamping: u64(48)))
  }

  private mutating func metadata(sectionCount: Int, metaBytes: Int) throws -> ShardMeta {
    let tableAt = ShardFormat.headerBytes
    let tableBytes = sectionCount * ShardFormat.sectionEntryBytes
    let tableHash = ShardFormat.checksum(UnsafeRawBufferPointer(start: base + tableAt, count: tableBytes))
    guard tableHash == u64(40) else {
      throw fail(tableAt, "section table XXH64 \(hex(u64(40)))", "\(hex(tableHash)): corrupt")
    }
    for i in 0..<sectionCount {
      let at = tableAt + i * ShardFormat.sectionEntryBytes
      let tagBytes = (0..<ShardFormat.tagBytes).map { base.load(fromByteOffset: at + $0, as: UInt8.self) }
      let tag = String(decoding: tagBytes.prefix { $0 != 0 }, as: UTF8.self)
      let s = ShardSection(
        tag: tag, offset: u64(at + 16), count: u64(at + 24), width: base.load(fromByteOffset: at + 32, as: UInt8.self),
        hash: u64(at + 40), base: Int64(bitPattern: u64(at + 48)))
      // Counts are bounded by the file (64 elements a byte at most, so a width-0 column cannot
      // ask for terabytes), and the bounds are compared without overflow.
      guard s.width <= 8, s.count <= UInt64(maxElements), s.offset % 8 == 0, s.offset <= UInt64(size),
        UInt64(s.byteLength) + 8 <= UInt64(size) - s.offset
      else {
        throw fail(at, "section '\(tag)' inside the file", "offset \(s.offset), \(s.count) × \(s.width) bytes")
      }
      sections[tag] = s
    }
    let metaAt = tableAt + tableBytes
    let raw = UnsafeRawBufferPointer(start: base + metaAt, count: metaBytes)
    let metaHash = ShardFormat.checksum(raw)
    guard metaHash == u64(32) else { throw fail(metaAt, "metadata XXH64 \(hex(u64(32)))", "\(hex(metaHash)): corrupt") }
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
  /// value in `T`'s range; with `limit`, every value below it (an index into a table that long).
  func column<T: FixedWidthInteger>(
    _ tag: String, count: Int? = nil, atMost: Int? = nil, limit: Int? = nil, as: T.Type = T.self
  ) throws -> [T] {
    let s = try section(tag, count: count, atMost: atMost)
    return try FreshMemory.array(count: Int(s.count)) { out in try decode(s, into: out, bias: 0, limit: limit) }
  }

  /// The column `tag`, `out.count + first` long, from its element `first` on, decoded into `out`
  /// and checked as `column` checks.
  /// With `adding`, every value is moved by it after the check (ids into a merged table).
  func column<T: FixedWidthInteger>(
    _ tag: String, into out: UnsafeMutableBufferPointer<T>, from first: Int = 0, limit: Int? = nil,
    adding: Int64 = 0
  ) throws {
    let s = try section(tag, count: out.count + first, atMost: nil)
    try decode(s, into: out, bias: adding, limit: limit, from: first)
  }

  /// A column of ids (`LaneID`, `NameID`, `EventID`: four bytes wrapping a `UInt32`), each below
  /// `limit`; with `optional`, stored as id + 1 with 0 for `.none` (`UInt32.max`).
  func ids<W: RawRepresentable>(
    _ tag: String, count: Int? = nil, limit: Int, optional: Bool = false, as: W.Type = W.self
  ) throws -> [W] where W.RawValue == UInt32 {
    let s = try section(tag, count: count, atMost: nil)
    return try FreshMemory.array(count: Int(s.count)) { (out: UnsafeMutableBufferPointer<W>) in
      try ids(s, into: out, limit: limit, optional: optional)
    }
  }

  /// The id column `tag`, `out.count` long, decoded into `out` and checked as `ids` checks; with
  /// `adding` (not for an optional column), every id is moved by it after the check.
  func ids<W: RawRepresentable>(
    _ tag: String, into out: UnsafeMutableBufferPointer<W>, limit: Int, optional: Bool = false, adding: Int64 = 0
  ) throws where W.RawValue == UInt32 {
    precondition(!optional || adding == 0)
    try ids(
      try section(tag, count: out.count, atMost: nil), into: out, limit: limit, optional: optional, adding: adding)
  }

  private func ids<W: RawRepresentable>(
    _ s: ShardSection, into out: UnsafeMutableBufferPointer<W>, limit: Int, optional: Bool, adding: Int64 = 0
  ) throws where W.RawValue == UInt32 {
    precondition(MemoryLayout<W>.size == 4 && MemoryLayout<W>.stride == 4)
    try UnsafeMutableRawBufferPointer(out).withMemoryRebound(to: UInt32.self) {
      try decode(s, into: $0, bias: optional ? -1 : adding, limit: optional ? limit + 1 : limit)
    }
  }

  /// Element `i` of the column `tag` as stored plus its base (for a check before decoding).
  /// Its checksum is not checked here: the caller decodes the column too.
  func element(_ tag: String, _ i: Int) throws -> Int64 {
    guard let s = sections[tag] else { throw fail(ShardFormat.headerBytes, "a section '\(tag)'", "none") }
    guard i < Int(s.count) else {
      throw fail(Int(s.offset), "at least \(i + 1) values in section '\(tag)'", "\(s.count)")
    }
    let w = Int(s.width)
    guard w > 0 else { return s.base }
    var v: UInt64 = 0
    for k in 0..<w { v |= UInt64(base.load(fromByteOffset: Int(s.offset) + i * w + k, as: UInt8.self)) << (8 * k) }
    return s.base &+ Int64(bitPattern: v)
  }

  /// The section `tag`, its length and checksum checked.
  private func section(_ tag: String, count: Int?, atMost: Int?) throws -> ShardSection {
    guard let s = sections[tag] else { throw fail(ShardFormat.headerBytes, "a section '\(tag)'", "none") }
    let at = Int(s.offset)
    if let count, Int(s.count) != count {
      throw fail(at, "\(count) values in section '\(tag)'", "\(s.count)")
    }
    if let atMost, Int(s.count) > atMost {
      throw fail(at, "at most \(atMost) values in section '\(tag)'", "\(s.count)")
    }
    let hash = ShardFormat.checksum(UnsafeRawBufferPointer(start: base + at, count: s.byteLength))
    guard hash == s.hash else { throw fail(at, "section '\(tag)' XXH64 \(hex(s.hash))", "\(hex(hash)): corrupt") }
    return s
  }

  /// Widens the stored values of `s` from element `first` on into `out` as `base + stored + bias`,
  /// after checking that every `base + stored` fits `T` (and is below `limit` when given).
  ///
  /// A column of ids (with `limit`) is checked against its exact maximum, taken in 32 bits where
  /// the stored width allows, so the loop vectorizes on any x86-64. Other columns only need to fit
  /// `T`: the loop keeps the bitwise OR of the stored values, at least their maximum and less than
  /// twice it, and the exact maximum is taken only when that bound fails the check. The answer and
  /// the error are the same as with the maximum.
  private func decode<T: FixedWidthInteger>(
    _ s: ShardSection, into out: UnsafeMutableBufferPointer<T>, bias: Int64, limit: Int?, from first: Int = 0
  ) throws {
    let n = out.count
    let w = Int(s.width)
    let p = base + Int(s.offset) + first * w
    let b = s.base &+ bias
    let exact = limit != nil
    var bound: UInt64 = 0
    switch w {
    case 0: out.initialize(repeating: T(truncatingIfNeeded: b))
    case 1: bound = Self.widen(out, b, exact: exact) { UInt32(p.load(fromByteOffset: $0, as: UInt8.self)) }
    case 2:
      bound = Self.widen(out, b, exact: exact) {
        UInt32(UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 2 &* $0, as: UInt16.self)))
      }
    case 3:
      // A 4-byte load, masked (every section is followed by 8 readable bytes).
      bound = Self.widen(out, b, exact: exact) {
        UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 3 &* $0, as: UInt32.self)) & 0xFF_FFFF
      }
    case 4:
      bound = Self.widen(out, b, exact: exact) {
        UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 4 &* $0, as: UInt32.self))
      }
    case 8:
      bound = Self.widen(out, b, exact: exact) {
        UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 8 &* $0, as: UInt64.self))
      }
    default:
      // 5, 6 or 7 bytes: an 8-byte load, masked.
      let mask: UInt64 = (1 << (8 * UInt64(w))) &- 1
      bound = Self.widen(out, b, exact: exact) {
        UInt64(littleEndian: p.loadUnaligned(fromByteOffset: w &* $0, as: UInt64.self)) & mask
      }
    }
    guard n > 0, !fits(s, T.self, bound, limit: limit) else { return }
    let high = exact ? bound : maximum(s, count: n, from: first)
    guard fits(s, T.self, high, limit: limit) else {
      let expected = limit.map { "values below \($0)" } ?? "values that fit \(T.self)"
      throw fail(Int(s.offset), "\(expected) in section '\(s.tag)'", "values from \(s.base) to \(s.base) + \(high)")
    }
  }

  /// Whether stored values up to `high` over the base of `s` fit `T`, and lie below `limit` when
  /// one is given.
  private func fits<T: FixedWidthInteger>(_ s: ShardSection, _: T.Type, _ high: UInt64, limit: Int?) -> Bool {
    let (top, overflow) = s.base.addingReportingOverflow(Int64(bitPattern: high))
    let fits =
      s.base >= Int64(clamping: T.min) && high <= UInt64(Int64.max) && !overflow && top <= Int64(clamping: T.max)
    return fits && (limit.map { s.base >= 0 && top < $0 } ?? true)
  }

  /// The largest of the `count` stored values of `s` from element `first` on (the slow path of
  /// `decode`, taken only for a column that fails its check).
  private func maximum(_ s: ShardSection, count: Int, from first: Int) -> UInt64 {
    let w = Int(s.width)
    guard w > 0 else { return 0 }
    let p = base + Int(s.offset) + first * w
    var h: UInt64 = 0
    for i in 0..<count {
      var v: UInt64 = 0
      for k in 0..<w { v |= UInt64(p.load(fromByteOffset: i * w + k, as: UInt8.self)) << (8 * k) }
      h = max(h, v)
    }
    return h
  }

  /// Fills `out` with `base + load(i)`; returns the largest `load(i)` when `exact`, else the
  /// bitwise OR of them all (at least the largest, and less than twice it).
  @inline(__always)
  private static func widen<T: FixedWidthInteger, V: FixedWidthInteger & UnsignedInteger>(
    _ out: UnsafeMutableBufferPointer<T>, _ base: Int64, exact: Bool, _ load: (Int) -> V
  ) -> UInt64 {
    var h: V = 0
    guard let o = out.baseAddress else { return 0 }
    if exact {
      for i in 0..<out.count {
        let v = load(i)
        h = max(h, v)
        (o + i).initialize(to: T(truncatingIfNeeded: base &+ Int64(truncatingIfNeeded: v)))
      }
    } else {
      for i in 0..<out.count {
        let v = load(i)
        h |= v
        (o + i).initialize(to: T(truncatingIfNeeded: base &+ Int64(truncatingIfNeeded: v)))
      }
    }
    return UInt64(h)
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
          throw fail(offset(of: "strings.offsets"), "string offsets in order", "string \(i) at \(lo)..<\(hi)")
        }
        strings.append(String(decoding: UnsafeBufferPointer(rebasing: b[lo..<hi]), as: UTF8.self))
      }
    }
    guard let table = StringTable(ordered: strings) else {
      throw fail(offset(of: "strings.bytes"), "distinct strings, the first empty", "a repeated string")
    }
    return table
  }

  // MARK: Helpers

  func u32(_ at: Int) -> UInt32 { UInt32(littleEndian: base.loadUnaligned(fromByteOffset: at, as: UInt32.self)) }
  func u64(_ at: Int) -> UInt64 { UInt64(littleEndian: base.loadUnaligned(fromByteOffset: at, as: UInt64.self)) }
  func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }
  func offset(of tag: String) -> Int { Int(sections[tag]?.offset ?? UInt64(ShardFormat.headerBytes)) }

  func fail(_ offset: Int, _ expected: String, _ found: String) -> TraceImportError {
    .malformed(TraceLocation(file: file, byteOffset: Int64(offset)), expected: expected, found: found)
  }
}
