import TraceModel

/// The binary shard of one rank (`.rshard`): its `EventGraph` as imported, before the ranks are
/// merged and linked, with the file record and diagnostics of its source trace.
///
/// Layout (all integers little-endian; docs/scale-out.md describes every field):
///
/// ```
/// 0   magic              8 bytes  "RPRSHARD"
/// 8   formatVersion      u32      ShardFormat.version
/// 12  headerBytes        u32      64 (the section table starts here)
/// 16  fileBytes          u64      size of the whole shard (a truncated copy is caught here)
/// 24  sectionCount       u32
/// 28  metaBytes          u32      the JSON metadata after the section table
/// 32  metaHash           u64      XXH64 of the metadata
/// 40  sectionTableHash   u64      XXH64 of the section table
/// 48  eventCount         u64
/// 56  headerHash         u64      XXH64 of bytes 0..<56
/// 64  section table      sectionCount × 56 bytes (`ShardSection`)
///     metadata           metaBytes of JSON (`ShardMeta`, schema reprise.shard/v1)
///     sections           8-byte aligned, each a fixed-width integer column
///     padding            8 zero bytes
/// ```
///
/// A column stores `value - base` in `width` bytes (0–8; 0 when every value equals `base`),
/// so element `i` sits at `offset + i × width` and a mapped file is read without a parse pass.
/// Cross-rank links (collective instances, send/recv matches, clock offsets) are not stored:
/// `MultiRankLinker` recomputes them when shards are loaded together, so one rank's shard can
/// be written by itself on any machine.
public enum ShardFormat {
  public static let magic: [UInt8] = Array("RPRSHARD".utf8)
  /// The binary layout's version; a reader refuses any other.
  public static let version: UInt32 = 1
  /// The metadata's schema.
  public static let schema = "reprise.shard/v1"
  /// File name extension.
  public static let fileExtension = "rshard"
  static let headerBytes = 64
  static let sectionEntryBytes = 56
  static let tagBytes = 16

  /// The file name of rank `rank`'s shard.
  public static func fileName(rank: RankID) -> String { "rank-\(rank.rawValue).\(fileExtension)" }

  /// The checksum of `bytes`: XXH64, seed 0.
  static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt64 { XXH64.hash(bytes) }
}

/// One entry of a shard's section table (56 bytes).
///
/// ```
/// 0   tag     16 bytes ASCII, zero-padded ("event.start", "edge.target", …)
/// 16  offset  u64 from the start of the file, a multiple of 8
/// 24  count   u64 elements
/// 32  width   u8  bytes per element, 0–8
/// 33  (7 zero bytes)
/// 40  hash    u64 XXH64 of the column's count × width bytes
/// 48  base    i64 added to every stored element
/// ```
struct ShardSection: Equatable {
  var tag: String
  var offset: UInt64
  var count: UInt64
  var width: UInt8
  var hash: UInt64
  var base: Int64
  var byteLength: Int { Int(count) * Int(width) }
}

/// The JSON metadata of a shard: the source file's record, the small tables of the graph and the
/// diagnostics found while importing it.
public struct ShardMeta: Codable, Sendable, Equatable {
  /// `reprise.shard/v1`.
  public var schema: String
  /// The trace the shard was made from, as it was named when sharded.
  public var source: Source
  public var rank: Int32
  public var eventCount: Int
  public var edgeCount: Int
  public var lanes: [Lane]
  public var ranks: [RankInfo]
  public var steps: [Step]
  public var instances: [CollectiveInstance]
  public var diagnostics: [Diagnostic]
  /// The PyTorch host execution trace linked into the graph before sharding, when there was one.
  public var executionTrace: ExecutionTraceLink?

  public struct ExecutionTraceLink: Codable, Sendable, Equatable {
    public var source: Source
    public var link: ETLinkSummary
  }

  public struct Source: Codable, Sendable, Equatable {
    public var path: String
    public var bytes: Int64
    public var decompressedBytes: Int64
    public var gzip: Bool
    public var format: String
    public var events: Int
    public var recordTypes: [String: Int]
    public var phaseCounts: [String: Int]
    public var categoryCounts: [String: Int]
    public var durationSumNs: Int64
    public var eventArrayCount: Int
    /// The records the source held and those dropped by `DropReason` code (`EventAccount`;
    /// absent in shards written before they were counted).
    public var recordsRead: Int?
    public var recordsDropped: [String: Int]?
  }
}

extension ShardMeta.Source {
  init(_ f: IngestedFile) {
    self.init(
      path: f.path, bytes: f.bytesOnDisk, decompressedBytes: f.decompressedBytes, gzip: f.isGzip, format: f.format,
      events: f.events, recordTypes: f.recordTypes, phaseCounts: f.stats.phaseCounts,
      categoryCounts: f.stats.categoryCounts, durationSumNs: f.stats.durationSumNs, eventArrayCount: f.stats.eventCount,
      recordsRead: f.account.read,
      recordsDropped: Dictionary(uniqueKeysWithValues: f.account.dropped.map { ($0.key.rawValue, $0.value) }))
  }

  /// The source's account with `kept` events: as it was counted when sharded, else (an older
  /// shard, or reasons this build does not know) the events stored, all kept.
  /// Counts that cannot be a file's (negative, more than 2⁴⁸, or not adding up) are set aside the
  /// same way, so an edited shard cannot make the sums overflow.
  func account(kept: Int) -> EventAccount? {
    guard let recordsRead, let recordsDropped, (0...(1 << 48)).contains(recordsRead) else { return nil }
    var dropped: [DropReason: Int] = [:]
    for (code, n) in recordsDropped {
      guard let reason = DropReason(rawValue: code), (0...recordsRead).contains(n) else { return nil }
      dropped[reason] = n
    }
    let (sum, overflow) = dropped.values.reduce((0, false)) { acc, n in
      let (s, o) = acc.0.addingReportingOverflow(n)
      return (s, acc.1 || o)
    }
    guard !overflow, sum <= recordsRead else { return nil }
    let a = EventAccount(read: recordsRead, kept: kept, dropped: dropped)
    return a.isBalanced ? a : nil
  }

  var stats: KinetoStats {
    var s = KinetoStats()
    s.phaseCounts = phaseCounts
    s.categoryCounts = categoryCounts
    s.durationSumNs = durationSumNs
    s.eventCount = eventArrayCount
    return s
  }

  /// The file record this source had when it was read.
  var file: IngestedFile {
    IngestedFile(
      path: path, rank: RankID(0), bytesOnDisk: bytes, decompressedBytes: decompressedBytes, isGzip: gzip,
      format: format, stats: stats, events: events, recordTypes: recordTypes)
  }
}
