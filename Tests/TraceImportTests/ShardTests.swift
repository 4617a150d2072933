import Foundation
import TestSupport
import Testing
import TraceModel

@testable import TraceImport

/// Every bundled set (and some corpus sets): its shards, loaded together, give the same linked
/// graph, diagnostics and link summary as its traces.
let shardSets: [String] =
  [
    TestPaths.packageRoot + "/Traces/kineto-cpu/ddp-gloo-4rank",
    TestPaths.packageRoot + "/Traces/kineto-cpu/gpt-parallel/tp2",
    TestPaths.packageRoot + "/Traces/kineto-cpu/pipeline-1f1b", TestPaths.h100,
  ]
  + TestPaths.traceSets(corpus: [
    "/hta/tests/data/trace_filter", "/hta/tests/data/nccl_parser_config/nccl_data.json.gz",
    "/param/et_replay/tests/inputs/dlrm_kineto.tar.gz.d/dlrm_kineto",
    "/tracelens/tests/traces/mi300/resnet_act_checkpoint.json.gz",
  ])

/// `Ingest.shard` into `dir`: the file names it gives, made paths.
private func shard(_ paths: [String], into dir: String) throws -> [WrittenShard] {
  try Ingest.shard(paths: paths) { name, bytes in
    try Data(bytes).write(to: URL(fileURLWithPath: dir + "/" + name))
  }.map {
    var w = $0
    w.path = dir + "/" + w.path
    return w
  }
}

private func temporaryDirectory() throws -> String {
  let dir = FileManager.default.temporaryDirectory.appendingPathComponent("reprise-shard-\(UUID().uuidString)").path
  try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
  return dir
}

@Test(arguments: shardSets)
func shardsGiveTheSameGraphAsTheTraces(set: String) throws {
  guard FileManager.default.fileExists(atPath: set) else { return }
  let dir = try temporaryDirectory()
  defer { try? FileManager.default.removeItem(atPath: dir) }
  let written = try shard([set], into: dir)
  let fromTraces = try Ingest.run(paths: [set])
  let fromShards = try Ingest.run(paths: [dir])
  #expect(written.count == fromTraces.graph.ranks.count)
  #expect(fromShards.graph == fromTraces.graph, "\(set)")
  #expect(fromShards.diagnostics == fromTraces.diagnostics)
  #expect(fromShards.link == fromTraces.link)
  #expect(fromShards.files.map(\.events) == fromTraces.files.map(\.events))
  #expect(fromShards.files.map(\.account) == fromTraces.files.map(\.account))
  #expect(fromShards.files.allSatisfy { $0.format.hasPrefix("Reprise shard of ") })
  let jsonBytes = fromTraces.files.reduce(Int64(0)) { $0 + $1.decompressedBytes }
  let shardBytes = written.reduce(Int64(0)) { $0 + $1.shardBytes }
  #expect(shardBytes * 3 < jsonBytes, "\(set): \(shardBytes) shard bytes for \(jsonBytes) bytes of traces")
}

@Test func oneRankRoundTripsExactly() throws {
  var rng = SplitMix64(seed: 7)
  var g = EventGraph.random(events: 5_000, lanes: 4, using: &rng)
  g.bytes = g.bytes.indices.map { Int64($0 % 7 == 0 ? -(1 << 40) : $0) }
  g.correlation = g.correlation.indices.map { $0 % 3 == 0 ? 0 : Int64($0) * 1_000_003 }
  g.start[0] = .min / 4
  let rank = ImportedRank(
    file: IngestedFile(
      path: "x.json", rank: RankID(0), bytesOnDisk: 1, decompressedBytes: 1, isGzip: false, format: "f",
      stats: KinetoStats(), events: g.eventCount),
    graph: g, diagnostics: Diagnostics())
  let bytes = try ShardWriter.encode(rank)
  let (meta, back) = try bytes.withUnsafeBytes { b in
    var r = ShardReader(b, file: "x.rshard")
    return try r.read()
  }
  #expect(back == g)
  #expect(meta.schema == "reprise.shard/v1" && meta.eventCount == 5_000)
}

/// A shard of the DLRM rank 0 trace, its bytes, and a scratch directory.
private func dlrmShard() throws -> (dir: String, path: String, bytes: [UInt8]) {
  let dir = try temporaryDirectory()
  let written = try shard([TestPaths.dlrm], into: dir)
  let path = try #require(written.first).path
  return (dir, path, Array(try Data(contentsOf: URL(fileURLWithPath: path))))
}

private func loadError(_ bytes: [UInt8], at path: String) -> String {
  FileManager.default.createFile(atPath: path, contents: Data(bytes))
  do {
    _ = try Ingest.run(paths: [path])
    return "no error"
  } catch {
    return "\(error)"
  }
}

@Test func damagedShardsAreOneLineErrorsWithTheOffset() throws {
  let (dir, path, good) = try dlrmShard()
  defer { try? FileManager.default.removeItem(atPath: dir) }
  #expect(try Ingest.sniffFormat(path).map { $0.descriptor.name } == ShardImporter.descriptor.name)
  let bad = dir + "/bad.rshard"
  // A flipped byte in the last column's data.
  var flipped = good
  flipped[good.count - 20] ^= 0x55
  let e1 = loadError(flipped, at: bad)
  #expect(e1.contains("bad.rshard:@") && e1.contains("XXH64") && e1.contains("corrupt"), "\(e1)")
  // Truncated.
  let e2 = loadError(Array(good.prefix(good.count / 2)), at: bad)
  #expect(e2.contains("bad.rshard:@\(good.count / 2)") && e2.contains("truncated"), "\(e2)")
  // Another format version names both.
  var newer = good
  newer[8] = 9
  let e3 = loadError(newer, at: bad)
  #expect(e3.contains("bad.rshard:@8") && e3.contains("version 1") && e3.contains("version 9"), "\(e3)")
  // The header checksum catches any other header byte.
  var header = good
  header[20] ^= 1
  let e4 = loadError(header, at: bad)
  #expect(e4.contains("bad.rshard:@56") && e4.contains("header XXH64"), "\(e4)")
  for e in [e1, e2, e3, e4] { #expect(!e.contains("\n")) }
}

@Test func aShardWithIndicesOutOfRangeIsRefusedNotTrapped() throws {
  var b = EventGraph.Builder()
  b.lanes.append(Lane(rank: RankID(0), kind: .hostThread, device: -1, pid: 1, tid: 1, name: .empty))
  b.addEvent(lane: LaneID(0), name: .empty, kind: .hostOp, start: 0, duration: 1)
  var g = b.build()
  g.lane = [LaneID(3)]
  let rank = ImportedRank(
    file: IngestedFile(
      path: "x.json", rank: RankID(0), bytesOnDisk: 1, decompressedBytes: 1, isGzip: false, format: "f",
      stats: KinetoStats(), events: 1),
    graph: g, diagnostics: Diagnostics())
  let bytes = try ShardWriter.encode(rank)
  #expect(throws: TraceImportError.self) {
    try bytes.withUnsafeBytes { b in
      var r = ShardReader(b, file: "x.rshard")
      _ = try r.read()
    }
  }
}

@Test func mixedShardsAndTracesLinkTogether() throws {
  let dir = try temporaryDirectory()
  defer { try? FileManager.default.removeItem(atPath: dir) }
  let files = try Ingest.expand([TestPaths.dlrm])
  let shards = try shard(Array(files.prefix(4)), into: dir)
  let mixed = try Ingest.run(paths: shards.map(\.path) + files.dropFirst(4))
  let all = try Ingest.run(paths: [TestPaths.dlrm])
  #expect(mixed.graph == all.graph)
  #expect(mixed.link == all.link)
}

/// XXH64 against the reference implementation's values (Python `xxhash.xxh64(…).intdigest()`).
@Test func xxh64MatchesTheReference() {
  func h(_ bytes: [UInt8]) -> UInt64 { bytes.withUnsafeBytes { XXH64.hash($0) } }
  #expect(h([]) == 0xef46_db37_51d8_e999)
  #expect(h(Array("a".utf8)) == 0xd24e_c4f1_a98c_6e5b)
  #expect(h(Array("abc".utf8)) == 0x44bc_2cf5_ad77_0999)
  #expect(h(Array("0123456789abcdef0123456789abcdef0".utf8)) == 0xe876_84f0_8d6d_0816)
  #expect(h(Array((0..<3).flatMap { _ in (0...255).map { UInt8($0) } }) + Array("xyz".utf8)) == 0xe921_a1b4_5bd7_79f8)
}

/// A host execution trace linked into its rank before sharding comes back with the shard: the
/// same graph, and the same `executionTraces` summary and file records.
@Test(.needsCorpus) func aShardKeepsItsLinkedExecutionTrace() throws {
  let inputs = try #require(TestPaths.corpus) + "/param/et_replay/tests/inputs/"
  let pair = [inputs + "linear_kineto.json.gz", inputs + "linear_et.json.gz"]
  let dir = try temporaryDirectory()
  defer { try? FileManager.default.removeItem(atPath: dir) }
  let written = try shard(pair, into: dir)
  #expect(written.count == 1)
  let fromTraces = try Ingest.run(paths: pair)
  let fromShard = try Ingest.run(paths: [dir])
  #expect(!fromTraces.etLinks.isEmpty)
  #expect(fromShard.etLinks == fromTraces.etLinks)
  #expect(fromShard.graph == fromTraces.graph)
  #expect(fromShard.files.count == fromTraces.files.count)
  #expect(fromShard.files.compactMap(\.source) == [inputs + "linear_kineto.json.gz"])
}

/// Rewrites the checksums of a shard after its bytes were edited (metadata, section table, header).
private func rehash(_ b: inout [UInt8]) {
  func u32(_ at: Int) -> Int {
    b.withUnsafeBytes { Int(UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: at, as: UInt32.self))) }
  }
  func put(_ v: UInt64, _ at: Int) { withUnsafeBytes(of: v.littleEndian) { for i in 0..<8 { b[at + i] = $0[i] } } }
  let table = 64
  let tableBytes = u32(24) * 56
  let metaBytes = u32(28)
  put(
    b.withUnsafeBytes {
      XXH64.hash(UnsafeRawBufferPointer(rebasing: $0[(table + tableBytes)..<(table + tableBytes + metaBytes)]))
    }, 32)
  put(b.withUnsafeBytes { XXH64.hash(UnsafeRawBufferPointer(rebasing: $0[table..<(table + tableBytes)])) }, 40)
  put(b.withUnsafeBytes { XXH64.hash(UnsafeRawBufferPointer(rebasing: $0[0..<56])) }, 56)
}

/// The table entry of section `tag` in shard bytes `b`.
private func entry(_ b: [UInt8], _ tag: String) throws -> Int {
  let count = b.withUnsafeBytes { Int(UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: 24, as: UInt32.self))) }
  let at = (0..<count).map { 64 + $0 * 56 }.first { at in
    String(decoding: b[at..<(at + 16)].prefix { $0 != 0 }, as: UTF8.self) == tag
  }
  return try #require(at)
}

/// Shards crafted with valid checksums but impossible contents: each is refused with an error,
/// never a trap, a hang or a huge allocation.
@Test func craftedShardsAreRefused() throws {
  let (dir, _, good) = try dlrmShard()
  defer { try? FileManager.default.removeItem(atPath: dir) }
  func refused(_ edit: (inout [UInt8]) throws -> Void) throws -> String {
    var b = good
    try edit(&b)
    rehash(&b)
    let alone = try #require(
      try? { () throws -> String? in
        do {
          _ = try b.withUnsafeBytes { raw in
            var r = ShardReader(raw, file: "c.rshard")
            return try r.read()
          }
          return nil
        } catch { return "\(error)" }
      }())
    // Through `Ingest.run`, whose columns are decoded straight into the merged graph
    // (`ShardMerge`): the same line.
    let path = dir + "/c.rshard"
    FileManager.default.createFile(atPath: path, contents: Data(b))
    defer { try? FileManager.default.removeItem(atPath: path) }
    let merged = loadError(b, at: path).replacingOccurrences(of: dir + "/", with: "")
    #expect(merged == alone)
    return alone
  }
  func put(_ b: inout [UInt8], _ v: UInt64, _ at: Int) {
    withUnsafeBytes(of: v.littleEndian) { for i in 0..<8 { b[at + i] = $0[i] } }
  }
  // A section offset whose end overflows 64 bits.
  let e1 = try refused { b in put(&b, 0xFFFF_FFFF_FFFF_FFF8, try entry(b, "event.start") + 16) }
  #expect(e1.contains("c.rshard:@") && e1.contains("inside the file"), "\(e1)")
  // A width-0 column claiming 2^39 elements.
  let e2 = try refused { b in
    let at = try entry(b, "mem.event")
    put(&b, 1 << 39, at + 24)
    b[at + 32] = 0
  }
  #expect(e2.contains("c.rshard:@"), "\(e2)")
  // Parent links in a cycle.
  let e3 = try refused { b in
    let at = try entry(b, "event.parent")
    b[at + 32] = 0
    put(&b, 0xef46_db37_51d8_e999, at + 40)  // XXH64 of no bytes
    put(&b, 1, at + 48)
  }
  #expect(e3.contains("c.rshard:@") && e3.contains("cycle"), "\(e3)")
  // An event kind past the last case (the kinds are decoded byte for byte into the column).
  let e4 = try refused { b in put(&b, 200, try entry(b, "event.kind") + 48) }
  #expect(e4.contains("c.rshard:@") && e4.contains("values below") && e4.contains("'event.kind'"), "\(e4)")
  // One stored byte changed, its section's checksum made to match: an edge kind one past the last
  // case, and an edge target past the last event (its top stored byte set).
  let e5 = try refused { b in try editStored(&b, "edge.kind", element: 3) { _ in UInt8(EdgeKind.allCases.count) } }
  #expect(e5.contains("values below \(EdgeKind.allCases.count) in section 'edge.kind'"), "\(e5)")
  let e6 = try refused { b in try editStored(&b, "edge.target", element: 5, topByte: true) { _ in 0xFF } }
  #expect(e6.contains("values below") && e6.contains("'edge.target'"), "\(e6)")
}

/// Sets one byte of element `element` of section `tag` (its lowest byte, or its highest with
/// `topByte`) to `value(old)`, and gives the section the checksum of its new bytes.
private func editStored(
  _ b: inout [UInt8], _ tag: String, element: Int, topByte: Bool = false, _ value: (UInt8) -> UInt8
) throws {
  let at = try entry(b, tag)
  func u64(_ o: Int) -> Int {
    b.withUnsafeBytes { Int(UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: o, as: UInt64.self))) }
  }
  let (offset, count, width) = (u64(at + 16), u64(at + 24), Int(b[at + 32]))
  try #require(width > 0 && element < count)
  let i = offset + element * width + (topByte ? width - 1 : 0)
  b[i] = value(b[i])
  let hash = b.withUnsafeBytes { XXH64.hash(UnsafeRawBufferPointer(rebasing: $0[offset..<(offset + count * width)])) }
  withUnsafeBytes(of: hash.littleEndian) { for k in 0..<8 { b[at + 40 + k] = $0[k] } }
}

/// The enums a shard stores as bytes are laid out as their raw values, which the reader relies on.
@Test func shardEnumsAreStoredAsTheirRawValues() {
  #expect(ShardReader.isStoredAsRawValue(EventKind.self))
  #expect(ShardReader.isStoredAsRawValue(EdgeKind.self))
  #expect(ShardReader.isStoredAsRawValue(CollectiveKind.self))
}

/// A rank whose memory records and source indices have stored values whose bits, ORed together,
/// pass their type's range while the values themselves do not.
private func rankWithWideValues() -> ImportedRank {
  var rng = SplitMix64(seed: 11)
  var g = EventGraph.random(events: 3, lanes: 1, using: &rng)
  // Stored over a base of -1: 0, 0x7FFF_FFFF and 0x8000_0000, whose OR is 0xFFFF_FFFF.
  g.memory = [-1, Int32.max - 1, Int32.max].enumerated().map { i, device in
    MemoryRecord(event: EventID(rawValue: UInt32(i)), device: device, delta: 1, totalAllocated: 1, totalReserved: 1)
  }
  // Stored over a base of 1: 0, 0x7FFF_FFFF and 0xFFFF_FFFE.
  g.sourceIndex = [1, 0x8000_0000, .max]
  return ImportedRank(
    file: IngestedFile(
      path: "w.json", rank: RankID(0), bytesOnDisk: 1, decompressedBytes: 1, isGzip: false, format: "f",
      stats: KinetoStats(), events: g.eventCount),
    graph: g, diagnostics: Diagnostics())
}

/// The range check of a column is made on its values, not on a bound of them: columns whose
/// stored bits together reach past their type still load, alone and merged, and a column that
/// does not fit is refused naming its true largest value.
@Test func columnsAreCheckedOnTheirLargestValue() throws {
  let rank = rankWithWideValues()
  let bytes = try ShardWriter.encode(rank)
  let (_, back) = try bytes.withUnsafeBytes { b in
    var r = ShardReader(b, file: "w.rshard")
    return try r.read()
  }
  #expect(back == rank.graph)
  let dir = try temporaryDirectory()
  defer { try? FileManager.default.removeItem(atPath: dir) }
  let path = dir + "/" + ShardFormat.fileName(rank: RankID(0))
  FileManager.default.createFile(atPath: path, contents: Data(bytes))
  let merged = try Ingest.run(paths: [dir])
  #expect(Set(merged.graph.sourceIndex) == [1, 0x8000_0000, .max])
  #expect(merged.graph.memory.map(\.device) == [-1, Int32.max - 1, Int32.max])
  // The devices moved up by one: the largest no longer fits Int32.
  var shifted = bytes
  let at = try entry(shifted, "mem.device")
  withUnsafeBytes(of: Int64(0).littleEndian) { for i in 0..<8 { shifted[at + 48 + i] = $0[i] } }
  rehash(&shifted)
  let e = loadError(shifted, at: path)
  #expect(e.contains("values that fit Int32 in section 'mem.device'") && e.contains("0 + 2147483648"), "\(e)")
}
