import TraceModel

/// Describes a trace format Reprise recognizes.
public struct TraceFormatDescriptor: Sendable, Hashable {
  public var name: String
  /// The unit timestamps are written in.
  public var nativeTimeUnit: String
  /// Whether Reprise can import it (recognized-but-unsupported formats get a clear error).
  public var isSupported: Bool
  /// How many leading (decompressed) bytes `sniff` looks at, at most.
  public static let sniffLength = 65_536
}

/// Detects and reads one trace format.
///
/// Detection stays separate from reading: `Ingest` first sniffs every file (its first
/// `TraceFormatDescriptor.sniffLength` decompressed bytes) and picks the first importer of
/// `TraceImporterRegistry.all` that accepts it, then imports the files in parallel, each with its
/// importer. A file imports into the graph of one rank, or (a PyTorch host execution trace) into
/// a trace that `Ingest` links with the graph of its rank: `ImportedFile` says which. Importers
/// resolve ranks with `RankResolver`. A recognized format that cannot be read yet
/// (`descriptor.isSupported == false`) throws `TraceImportError.unsupportedFormat`.
/// docs/importers.md shows how to add a format.
protocol TraceImporter: Sendable {
  static var descriptor: TraceFormatDescriptor { get }
  /// Whether `prefix` (the first decompressed bytes) is this format.
  static func sniff(prefix: UnsafeBufferPointer<UInt8>) -> Bool
  /// Whether this format's files are linked with the graph of a rank read from another file
  /// rather than being one (host execution traces). Such files are not counted when `Ingest`
  /// decides whether a rank file is the only one. False unless an importer says otherwise.
  static var isLinkedWithRankGraph: Bool { get }
  /// Reads one file.
  ///
  /// - Throws: `TraceImportError` when the file cannot be imported at all (unreadable,
  ///   malformed, unsupported, rank unknown). Recoverable problems go to the result's
  ///   diagnostics.
  static func importFile(_ request: ImportRequest) throws -> ImportedFile
}

extension TraceImporter {
  static var isLinkedWithRankGraph: Bool { false }
}

/// What an importer is given to read one file.
struct ImportRequest: Sendable {
  /// The file, or `<bundle>:<member>` for a member of a tar bundle.
  var path: String
  /// A bundle member's bytes; nil for a file on disk, which the importer opens at `path`.
  var contents: [UInt8]? = nil
  /// Whether the file is the only rank file of the run (host execution traces not counted),
  /// so that a rank nothing states is rank 0 (`RankResolver`).
  var isOnlyRankFile: Bool
  /// Called now and then while a large file is read: (file, bytes read so far, file size on disk).
  var progress: (@Sendable (String, Int64, Int64) -> Void)?
  /// Phase timing (`REPRISE_TIMING`).
  var clock: PhaseClock
  /// Threads the importer may use for this one file (cores left over when there are fewer
  /// files than cores).
  var chunks = 1
  /// Whether a shard on disk may leave its event columns in the file for `ShardMerge` to decode
  /// straight into the merged graph (`Ingest.run`); off where the rank's own graph is used.
  var defersShardColumns = false
  /// How many bytes the file may hold decompressed (`--max-bytes`), and how far gzip may inflate it.
  var limits = ReadLimits()
  /// The most bytes of JSON this file may read before its graph would outgrow the memory
  /// available (`MemoryBudget`); nil: unchecked.
  var jsonLimit: Int64? = nil
}

/// What one file imports into.
enum ImportedFile: Sendable {
  /// The graph of one rank.
  case rank(ImportedRank)
  /// A PyTorch host execution trace, to be linked with the graph of its rank (or, when no file
  /// holds that rank, to become its graph).
  case hostTrace(ImportedHostTrace)
}

/// The graph of one rank as read from one file: the file's record, the graph and what was found.
struct ImportedRank: Sendable {
  var file: IngestedFile
  var graph: EventGraph
  var diagnostics: Diagnostics
  /// The host execution trace linked into this graph (`Ingest.joinHostTraces`, or a shard's).
  var executionTrace: (file: IngestedFile, link: ETLinkSummary)? = nil
  /// A shard's columns not decoded yet: `graph` holds its tables only (`ShardMerge`).
  var deferred: DeferredShard? = nil

  /// This rank with its graph complete (a deferred shard's columns decoded into it).
  func materialized() throws -> ImportedRank {
    guard let deferred else { return self }
    var r = self
    r.graph = try deferred.materialized(graph)
    r.deferred = nil
    return r
  }
}

/// A host execution trace as read from one file, not linked yet.
struct ImportedHostTrace: Sendable {
  var path: String
  var trace: ExecutionTrace
  var bytesOnDisk: Int64
}

/// The registry of importers, in sniffing order: the first whose sniff accepts a file reads it.
///
/// Strict sniffs come first (Chakra's varint framing; JSON formats told apart by their keys);
/// Kineto, which takes any JSON object or array, comes last. Adding a format adds one line here.
enum TraceImporterRegistry {
  static let all: [any TraceImporter.Type] = [
    ShardImporter.self,
    ChakraProtobufImporter.self,
    PyTorchETImporter.self,
    ChakraJSONImporter.self,
    RocprofImporter.self,
    KinetoImporter.self,
  ]

  /// What the formats that can be read are, for error messages.
  static let readableFormats =
    "this build reads Kineto/Chrome trace JSON, Chakra .et, PyTorch execution traces and Reprise shards"

  /// The first registered importer whose sniff accepts `prefix`.
  static func detect(_ prefix: UnsafeBufferPointer<UInt8>) -> (any TraceImporter.Type)? {
    all.first { $0.sniff(prefix: prefix) }
  }
}

/// Byte tests for `sniff` implementations.
enum Sniffing {
  /// Whether `prefix` contains `needle` (a non-empty byte string).
  static func contains(_ prefix: UnsafeBufferPointer<UInt8>, _ needle: String) -> Bool {
    !needle.isEmpty && SubstringRules.occurs(needle, in: prefix)
  }

  /// The first non-whitespace byte (after a UTF-8 byte-order mark).
  static func firstByte(_ prefix: UnsafeBufferPointer<UInt8>) -> UInt8? {
    var i = 0
    if prefix.count >= 3 && prefix[0] == 0xEF && prefix[1] == 0xBB && prefix[2] == 0xBF { i = 3 }
    while i < prefix.count {
      let b = prefix[i]
      if b != 0x20 && b != 0x0a && b != 0x0d && b != 0x09 { return b }
      i += 1
    }
    return nil
  }

  /// Whether the first non-whitespace byte opens a JSON object.
  static func isJSONObject(_ prefix: UnsafeBufferPointer<UInt8>) -> Bool {
    firstByte(prefix) == UInt8(ascii: "{")
  }
}
