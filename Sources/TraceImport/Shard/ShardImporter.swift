import Foundation
import TraceModel

/// Reprise's own binary shards (`ShardFormat`, `.rshard`): the graph of one rank as `reprise
/// shard` wrote it, read back without parsing its source again. The rank is the one the shard
/// was written with; the diagnostics found when its trace was imported come back with it.
struct ShardImporter: TraceImporter {
  static let descriptor = TraceFormatDescriptor(name: "Reprise shard", nativeTimeUnit: "ns", isSupported: true)

  /// The magic `RPRSHARD`.
  static func sniff(prefix: UnsafeBufferPointer<UInt8>) -> Bool {
    prefix.count >= ShardFormat.magic.count && zip(prefix, ShardFormat.magic).allSatisfy { $0 == $1 }
  }

  static func importFile(_ request: ImportRequest) throws -> ImportedFile {
    let (meta, graph, bytes, deferred) = try request.clock.measure("read shard \(request.path)") {
      if request.defersShardColumns && request.contents == nil {
        let (m, g, d) = try readTables(request.path)
        return (m, g, Int64(d.source.count), Optional(d))
      }
      let (m, g, b) = try read(request.path, contents: request.contents)
      return (m, g, b, nil)
    }
    request.clock.lap("load shard \(request.path)")
    var diagnostics = Diagnostics()
    for d in meta.diagnostics { diagnostics.append(d) }
    let file = IngestedFile(
      path: request.path, rank: RankID(rawValue: meta.rank), bytesOnDisk: bytes, decompressedBytes: bytes,
      isGzip: false, format: "\(descriptor.name) of \(meta.source.format)", stats: meta.source.stats,
      events: meta.eventCount, recordTypes: meta.source.recordTypes, source: meta.source.path,
      account: meta.source.account(kept: meta.eventCount) ?? EventAccount(read: meta.eventCount, kept: meta.eventCount))
    var rank = ImportedRank(file: file, graph: graph, diagnostics: diagnostics)
    rank.deferred = deferred
    if let et = meta.executionTrace {
      var etFile = et.source.file
      etFile.rank = RankID(rawValue: meta.rank)
      etFile.account = et.source.account(kept: 0) ?? .linkedExecutionTrace(nodes: etFile.events, et.link)
      rank.executionTrace = (etFile, et.link)
    }
    return .rank(rank)
  }

  /// The shard at `path` read for its metadata, tables and records, its columns left in the
  /// mapped file (`DeferredShard`).
  static func readTables(_ path: String) throws -> (ShardMeta, EventGraph, DeferredShard) {
    let source = try ByteSource(path: path)
    while !source.isExhausted { _ = try source.refill(keepFrom: 0) }
    var r = ShardReader(UnsafeRawBufferPointer(start: source.buffer, count: source.count), file: path)
    let (m, g) = try withExtendedLifetime(source) { try r.read(deferEvents: true) }
    return (m, g, DeferredShard(reader: r, source: source, eventCount: m.eventCount, edgeCount: m.edgeCount))
  }

  /// The metadata and graph of the shard at `path` (or in `contents`), and its size in bytes.
  /// - Throws: `TraceImportError` for an unreadable file or a damaged shard.
  static func read(_ path: String, contents: [UInt8]? = nil) throws -> (ShardMeta, EventGraph, Int64) {
    if let contents {
      return try contents.withUnsafeBytes { b in
        var r = ShardReader(b, file: path)
        let (m, g) = try r.read()
        return (m, g, Int64(b.count))
      }
    }
    let source = try ByteSource(path: path)
    while !source.isExhausted { _ = try source.refill(keepFrom: 0) }
    return try withExtendedLifetime(source) {
      var r = ShardReader(UnsafeRawBufferPointer(start: source.buffer, count: source.count), file: path)
      let (m, g) = try r.read()
      return (m, g, Int64(source.count))
    }
  }
}

/// One shard written by `Ingest.shard`.
public struct WrittenShard: Sendable, Equatable {
  public var path: String
  public var rank: RankID
  /// The trace it was made from, and its size on disk.
  public var source: String
  public var sourceBytes: Int64
  /// The source's size decompressed (its JSON or protobuf bytes).
  public var sourceDecompressedBytes: Int64
  public var shardBytes: Int64
  public var events: Int
  public var edges: Int
}

extension Ingest {
  /// Encodes one shard per rank of `paths` (files, directories, bundles, as `run` reads them)
  /// and hands each to `write` with its file name, `rank-<R>.rshard`, without linking the ranks:
  /// each shard holds what its rank's trace alone gives, so ranks can be sharded on different
  /// machines. Host execution traces are joined with their rank's graph first, as `run` does.
  /// `write` runs for several ranks at once.
  /// - Throws: `TraceImportError` for input `run` would refuse; what `write` throws.
  public static func shard(
    paths: [String], progress: (@Sendable (String, Int64, Int64) -> Void)? = nil,
    write: @Sendable (_ fileName: String, _ bytes: [UInt8]) throws -> Void
  ) throws -> [WrittenShard] {
    let inputs = try inputs(paths)
    let (imported, skipped) = try importFiles(inputs, progress: progress, clock: PhaseClock())
    if imported.isEmpty {
      throw TraceImportError.noTraces(directory: paths.joined(separator: ", "), skipped: skipped.map(\.path))
    }
    let ranks = try joinHostTraces(consume imported).ranks.sorted { $0.file.rank < $1.file.rank }
    try checkDistinctRanks(ranks)
    return try Parallel.map(ranks.count) { i in
      let r = ranks[i]
      let bytes = try ShardWriter.encode(r)
      let name = ShardFormat.fileName(rank: r.file.rank)
      try write(name, bytes)
      return WrittenShard(
        path: name, rank: r.file.rank, source: r.file.path, sourceBytes: r.file.bytesOnDisk,
        sourceDecompressedBytes: r.file.decompressedBytes,
        shardBytes: Int64(bytes.count), events: r.graph.eventCount, edges: r.graph.edgeCount)
    }
  }
}
