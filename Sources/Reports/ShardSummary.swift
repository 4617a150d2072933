import Foundation
import TraceImport
import TraceModel

/// What `reprise shard` wrote: one entry per rank shard, with its source trace and the sizes of
/// both (schema `reprise.shard-summary/v1`).
public struct ShardSummary: JSONContract, Equatable {
  public static let schemaName = "reprise.shard-summary"
  public static let schemaVersion = 1

  public struct Shard: Codable, Sendable, Equatable {
    public var path: String
    public var rank: Int
    /// The trace the shard was made from, as it was named.
    public var source: String
    /// The source's size on disk, and decompressed.
    public var sourceBytes: Bytes
    public var sourceDecompressedBytes: Bytes
    public var shardBytes: Bytes
    public var events: Int
    public var edges: Int
  }

  public private(set) var schema = Self.schema
  /// The shard format version written (`ShardFormat.version`).
  public var formatVersion: Int
  public var shards: [Shard]
  public var sourceBytes: Bytes
  public var sourceDecompressedBytes: Bytes
  public var shardBytes: Bytes
  /// Shard bytes over the sources' decompressed bytes (rounded to 4 decimals), 0 when the
  /// sources are empty.
  public var sizeRatio: Double

  /// Shards `paths` into `directory` (created when missing) and summarizes what was written.
  /// Each shard is written under a temporary name and renamed over any older one, so a reader
  /// never sees half a shard.
  /// - Throws: `TraceImportError` for input `reprise ingest` would refuse; `RunError.data`
  ///   naming the directory or file that cannot be written.
  public static func write(paths: [String], to directory: String) throws -> ShardSummary {
    let dir = directory.hasSuffix("/") ? String(directory.dropLast()) : directory
    let out = URL(fileURLWithPath: dir).standardizedFileURL.path
    for p in paths {
      var isDir: ObjCBool = false
      let input = URL(fileURLWithPath: p).standardizedFileURL.path
      if FileManager.default.fileExists(atPath: p, isDirectory: &isDir), isDir.boolValue,
        out == input || out.hasPrefix(input.hasSuffix("/") ? input : input + "/")
      {
        throw RunError.usage(
          "-o \(directory) is inside the input directory \(p): its shards would be read back as the input; "
            + "write them elsewhere")
      }
    }
    var written = try Ingest.shard(paths: paths) { name, bytes in
      try OutputFile.makeDirectory(dir)
      let path = dir + "/" + name
      // A name of this process's own, so two writers of one rank never share a half-written file.
      let temporary = path + ".partial-\(getpid())"
      try OutputFile.write(bytes, to: temporary)
      guard rename(temporary, path) == 0 else {
        throw RunError.data("\(path): cannot write: \(String(cString: strerror(errno)))")
      }
    }
    for i in written.indices { written[i].path = dir + "/" + written[i].path }
    return ShardSummary(written)
  }

  public init(_ written: [WrittenShard]) {
    formatVersion = Int(ShardFormat.version)
    shards = written.map {
      Shard(
        path: $0.path, rank: Int($0.rank.rawValue), source: $0.source, sourceBytes: Bytes($0.sourceBytes),
        sourceDecompressedBytes: Bytes($0.sourceDecompressedBytes), shardBytes: Bytes($0.shardBytes), events: $0.events,
        edges: $0.edges)
    }
    let source = written.reduce(Int64(0)) { $0 + $1.sourceDecompressedBytes }
    let shard = written.reduce(Int64(0)) { $0 + $1.shardBytes }
    sourceBytes = Bytes(written.reduce(Int64(0)) { $0 + $1.sourceBytes })
    sourceDecompressedBytes = Bytes(source)
    shardBytes = Bytes(shard)
    sizeRatio = source > 0 ? (Double(shard) / Double(source) * 10_000).rounded() / 10_000 : 0
  }

  /// One line per shard, then the totals.
  public func text() -> String {
    var lines = shards.map {
      "rank \($0.rank): \($0.path)  \($0.events) events, \(Self.size($0.shardBytes)) from \(Self.size($0.sourceDecompressedBytes)) (\($0.source))"
    }
    lines.append(
      "\(shards.count) shard\(shards.count == 1 ? "" : "s"), \(Self.size(shardBytes)) from \(Self.size(sourceDecompressedBytes)) of traces"
        + String(format: " (%.1f%% of their decompressed size)", sizeRatio * 100))
    return lines.joined(separator: "\n")
  }

  /// Decimal megabytes with one decimal (`12.3 MB`), kilobytes below 1 MB (`57.2 kB`).
  static func size(_ b: Bytes) -> String {
    let v = Double(b.rawValue)
    return v >= 1e6 ? String(format: "%.1f MB", v / 1e6) : String(format: "%.1f kB", v / 1e3)
  }
}
