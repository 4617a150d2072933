import Foundation
import TraceModel

/// One input file as ingested.
public struct IngestedFile: Sendable, Equatable {
  public var path: String
  public var rank: RankID
  /// Size on disk.
  public var bytesOnDisk: Int64
  /// Decompressed size (equal to `bytesOnDisk` for plain files).
  public var decompressedBytes: Int64
  public var isGzip: Bool
  public var format: String
  public var stats: KinetoStats
  public var events: Int
  /// Records per type as the format counts them (Chakra: nodes per `NodeType` name); empty for Kineto.
  public var recordTypes: [String: Int] = [:]
  /// For a shard, the trace it was made from (as named when sharded); nil otherwise.
  public var source: String? = nil
  /// What became of the records read: events of the graph, or dropped by reason.
  public var account = EventAccount()
}

/// The result of ingesting one run: the linked graph and what was found on the way.
public struct IngestResult: Sendable {
  public var graph: EventGraph
  public var files: [IngestedFile]
  public var diagnostics: Diagnostics
  public var link: LinkSummary
  /// Host execution traces linked with their rank's Kineto trace.
  public var etLinks: [ETLinkSummary] = []
  /// Files found in a directory or bundle that are not traces, passed over.
  public var skipped: [SkippedFile] = []
  /// Total bytes read from disk.
  public var inputBytes: Int64 { files.reduce(0) { $0 + $1.bytesOnDisk } }
  /// The records of every file: read, kept as events (`graph.eventCount` of them), dropped by reason.
  public var account: EventAccount { files.reduce(EventAccount()) { $0 + $1.account } }
}

/// Options for `Ingest.run`.
public struct IngestOptions: Sendable {
  /// Called now and then while a large file is read: (file, bytes read so far, file size on disk).
  public var progress: (@Sendable (String, Int64, Int64) -> Void)?
  /// Whether to check the graph's invariants (`EventGraph.validate`) after linking.
  public var validate = true
  public var linker = MultiRankLinker()
  /// How many bytes each input file may hold decompressed (`--max-bytes`), and how far gzip may
  /// inflate it.
  public var limits = ReadLimits()
  public init() {}
}

/// Ingestion: files or directories → one linked `EventGraph` across ranks.
public enum Ingest {
  /// The rank a file name states: `rank-3`, `rank3`, `rank_3`, `worker3`, `…_3.json`.
  public static func rankFromFileName(_ path: String) -> Int? { RankResolver.rank(inFileName: path) }

  /// The format of a file, decided by sniffing its first (decompressed) bytes, not its name.
  ///
  /// - Throws: `TraceImportError` when the file cannot be read or matches no known format.
  public static func detectFormat(_ path: String) throws -> TraceFormatDescriptor {
    let source = try ByteSource(path: path, chunkSize: TraceFormatDescriptor.sniffLength, limits: .unlimited)
    let n = min(source.count, TraceFormatDescriptor.sniffLength)
    if n == 0 {
      throw TraceImportError.malformed(
        TraceLocation(file: path, byteOffset: 0), expected: "a trace",
        found: "an empty file")
    }
    guard let f = TraceImporterRegistry.detect(UnsafeBufferPointer(start: source.buffer, count: n)) else {
      let b = String(source.buffer[0], radix: 16)
      throw TraceImportError.unrecognizedFormat(file: path, found: "binary data (first byte 0x\(b))")
    }
    return f.descriptor
  }

  /// Exact tokenizer counts of one Kineto file (for differential tests and `--stats`).
  public static func kinetoStats(_ path: String) throws -> KinetoStats {
    try KinetoImporter.read(path, progress: nil).0.stats
  }

  /// The importer whose sniff accepts the first bytes of the file at `path`, nil when none does.
  static func sniffFormat(_ path: String) throws -> (any TraceImporter.Type)? {
    try sniffFormat(TraceInput(path: path, isListed: false))
  }

  /// The importer whose sniff accepts the first bytes of `input`, nil when none does.
  static func sniffFormat(_ input: TraceInput) throws -> (any TraceImporter.Type)? {
    let source =
      try input.contents.map {
        ByteSource(bytes: Array($0.prefix(TraceFormatDescriptor.sniffLength)), file: input.path)
      }
      ?? ByteSource(path: input.path, chunkSize: TraceFormatDescriptor.sniffLength, limits: .unlimited)
    let n = min(source.count, TraceFormatDescriptor.sniffLength)
    return n == 0 ? nil : TraceImporterRegistry.detect(UnsafeBufferPointer(start: source.buffer, count: n))
  }

  /// Tokenizes an in-memory document (tests, fuzzing); returns its stats.
  public static func kinetoStats(bytes: [UInt8], file: String = "<memory>") throws -> KinetoStats {
    var parser = KinetoParser(source: ByteSource(bytes: bytes, file: file))
    return try parser.parse().stats
  }

  /// Ingests an in-memory Kineto document as one rank (tests).
  public static func graph(bytes: [UInt8], file: String = "<memory>", rank: Int = 0) throws -> (EventGraph, Diagnostics)
  {
    var parser = KinetoParser(source: ByteSource(bytes: bytes, file: file))
    let trace = try parser.parse()
    var builder = KinetoGraphBuilder(trace: trace, rank: RankID(trace.declaredRank ?? rank))
    let g = builder.build()
    var d = trace.diagnostics
    d.append(contentsOf: builder.diagnostics)
    return (g, d)
  }

  /// Ingests files, directories and tar bundles of one run into one linked graph.
  ///
  /// Directories are searched recursively and bundles (`.tar.gz`, `.tgz`, `.tar`) opened into
  /// their trace members (`expand`, `TarBundle`). A file found that way which is well-formed
  /// JSON but not a trace (a `steps.json` of timings) is skipped and listed in `skipped`; a file
  /// named in `paths` must be a trace. Files are sniffed in order, then imported in parallel (one task per file), each by the
  /// importer its first bytes select (`TraceImporterRegistry`): Kineto JSON, Chakra protobuf or
  /// JSON, PyTorch host execution trace. Each file's rank comes from `distributedInfo.rank`, else
  /// its name; a lone file without either is rank 0 (`RankResolver`). A host execution trace
  /// joins the graph of its rank (by name, or the only one given) and is linked with it
  /// (`ETLinker`); alone it becomes its rank's graph. The ranks' graphs are then merged and
  /// linked across ranks (`MultiRankLinker`).
  /// - Throws: `TraceImportError` for unreadable, malformed or unsupported input, unknown or
  ///   duplicate ranks, or no trace left after skipping. Recoverable problems are in `diagnostics`.
  public static func run(paths: [String], options: IngestOptions = IngestOptions()) throws -> IngestResult {
    let inputs = try inputs(paths, limits: options.limits)
    let clock = PhaseClock()
    let (imported, skipped) = try importFiles(
      inputs, progress: options.progress, clock: clock, defersShardColumns: true, limits: options.limits)
    if imported.isEmpty {
      throw TraceImportError.noTraces(directory: paths.joined(separator: ", "), skipped: skipped.map(\.path))
    }
    let joined = try joinHostTraces(consume imported)
    var result = try mergeAndLink(consume joined, options: options, clock: clock)
    result.skipped = shadowedByShards(paths) + skipped
    return result
  }

  /// The importer of a file whose first bytes no registered importer accepts: a `.et` goes to
  /// the Chakra reader anyway (for an error with the offset where decoding fails), a `.rshard` to
  /// the shard reader (an empty or cut shard gets the shard's error), anything else
  /// to the Kineto reader, whose error says what the bytes are (empty, gzip, binary).
  static func fallbackImporter(for path: String) -> any TraceImporter.Type {
    if path.hasSuffix(".et") { return ChakraProtobufImporter.self }
    if path.hasSuffix("." + ShardFormat.fileExtension) { return ShardImporter.self }
    return KinetoImporter.self
  }

  /// Every file read by its importer: sniffed in order (the first file that cannot be opened
  /// fails first), then imported in parallel; results in file order. A listed file that is not
  /// a trace (`notATrace`) is skipped instead of failing the run.
  static func importFiles(
    _ files: [TraceInput], progress: (@Sendable (String, Int64, Int64) -> Void)?,
    clock: PhaseClock, defersShardColumns: Bool = false, limits: ReadLimits = ReadLimits()
  ) throws -> (imported: [ImportedFile], skipped: [SkippedFile]) {
    let importers = try files.map { try sniffFormat($0) ?? fallbackImporter(for: $0.path) }
    let isOnlyRankFile = importers.filter { !$0.isLinkedWithRankGraph }.count <= 1
    let chunks = pieces(files)
    let jsonLimits = try MemoryBudget.limits(
      paths: files.indices.map {
        files[$0].contents == nil && importers[$0] == KinetoImporter.self ? files[$0].path : nil
      })
    enum Outcome: Sendable {
      case imported(ImportedFile)
      case skipped(SkippedFile)
    }
    let results: [Outcome] = try Parallel.map(files.count) { i in
      let request = ImportRequest(
        path: files[i].path, contents: files[i].contents, isOnlyRankFile: isOnlyRankFile, progress: progress,
        clock: clock, chunks: chunks[i], defersShardColumns: defersShardColumns, limits: limits,
        jsonLimit: jsonLimits[i])
      do {
        return .imported(files[i].recorded(try importers[i].importFile(request)))
      } catch let error as TraceImportError {
        guard let reason = notATrace(files[i], importer: importers[i]) else { throw error }
        return .skipped(SkippedFile(path: files[i].path, reason: reason))
      }
    }
    return (
      results.compactMap { if case .imported(let f) = $0 { f } else { nil } },
      results.compactMap { if case .skipped(let s) = $0 { s } else { nil } }
    )
  }

  /// Threads each file may tokenize on: the cores in proportion to its share of the bytes
  /// (rounded up): one file gets them all, eight equal files on two cores one each, and a file
  /// much bigger than the rest the cores the others leave idle while it is read.
  static func pieces(_ files: [TraceInput]) -> [Int] {
    let cores = ProcessInfo.processInfo.activeProcessorCount
    let sizes = files.map { f in
      f.contents.map { Int64($0.count) }
        ?? ((try? FileManager.default.attributesOfItem(atPath: f.path)[.size] as? NSNumber)?.int64Value ?? 1)
    }
    let total = max(1, sizes.reduce(0, +))
    return sizes.map { max(1, min(cores, Int((Double(cores) * Double($0) / Double(total)).rounded(.up)))) }
  }

  /// The ranks' graphs with the host execution traces joined in.
  struct JoinedRanks {
    /// One graph per file that holds a rank, in file order.
    var ranks: [ImportedRank]
    var etLinks: [ETLinkSummary] = []
    /// The records of host execution traces linked into another file's graph.
    var etFiles: [IngestedFile] = []
  }

  /// Links each host execution trace with the graph of its rank (`ETLinker`), or, when no file
  /// holds that rank, makes it the rank's graph.
  ///
  /// The rank is the one its name states; an only ET with at most one rank graph takes that
  /// graph's rank (or 0).
  static func joinHostTraces(_ imported: [ImportedFile]) throws -> JoinedRanks {
    var traces: [ImportedHostTrace] = []
    var joined = JoinedRanks(ranks: [])
    for file in imported {
      switch file {
      case .rank(let r):
        joined.ranks.append(r)
        // A shard keeps the host execution trace that was linked into it.
        if let (file, link) = r.executionTrace {
          joined.etLinks.append(link)
          joined.etFiles.append(file)
        }
      case .hostTrace(let t): traces.append(t)
      }
    }
    let isOnlyFile = traces.count == 1 && joined.ranks.count <= 1
    let fallback = joined.ranks.first.map { Int($0.file.rank.rawValue) } ?? 0
    let notes = joined.ranks.isEmpty ? RankNotes() : PyTorchETImporter.linkedRankNotes
    for host in traces {
      var diagnostics = Diagnostics()
      diagnostics.invalidUTF8(host.trace.invalidUTF8, in: host.path)
      let rank = try RankResolver.rank(
        declared: nil, path: host.path, isOnlyFile: isOnlyFile, fallback: fallback,
        notes: notes, diagnostics: &diagnostics)
      let nodes = host.trace.nodes.count
      var file = IngestedFile(
        path: host.path, rank: rank, bytesOnDisk: host.bytesOnDisk,
        decompressedBytes: host.bytesOnDisk, isGzip: false,
        format: PyTorchETImporter.descriptor.name, stats: KinetoStats(), events: nodes,
        recordTypes: ["nodes": nodes])
      if let k = joined.ranks.firstIndex(where: { $0.file.rank == rank }) {
        joined.ranks[k] = try joined.ranks[k].materialized()
        let (g, summary) = ETLinker.link(
          joined.ranks[k].graph, host.trace, file: host.path, rank: rank,
          diagnostics: &diagnostics)
        file.account = .linkedExecutionTrace(nodes: nodes, summary)
        joined.ranks[k].graph = g
        joined.ranks[k].diagnostics.append(contentsOf: diagnostics)
        joined.ranks[k].executionTrace = (file, summary)
        joined.etLinks.append(summary)
        joined.etFiles.append(file)
      } else {
        let g = ETLinker.graph(host.trace, file: host.path, rank: rank, diagnostics: &diagnostics)
        file.account = EventAccount(read: nodes, kept: g.eventCount)
        joined.ranks.append(ImportedRank(file: file, graph: g, diagnostics: diagnostics))
      }
    }
    return joined
  }

  /// The ranks' graphs merged into one and linked across ranks, checked when asked.
  ///
  /// - Throws: `TraceImportError.duplicateRank` when two files hold the same rank.
  ///
  /// The ranks' graphs are handed to `EventGraph.merging` as the only references to them, so each
  /// is freed once merged.
  static func mergeAndLink(_ joined: consuming JoinedRanks, options: IngestOptions, clock: PhaseClock) throws
    -> IngestResult
  {
    try checkDistinctRanks(joined.ranks)
    var ranks = joined.ranks.sorted { $0.file.rank < $1.file.rank }
    let etFiles = joined.etFiles
    let etLinks = joined.etLinks
    _ = consume joined
    var diagnostics = Diagnostics()
    for r in ranks { diagnostics.append(contentsOf: r.diagnostics) }
    let merged: EventGraph
    let shards = ranks.compactMap(\.deferred)
    if !shards.isEmpty && shards.count == ranks.count {
      // Every rank from a shard: the columns are decoded straight into the merged graph.
      merged = try clock.measureProcess("decode shard columns") {
        try ShardMerge.merge(tables: ranks.map(\.graph), shards: shards)
      }
      for i in ranks.indices { ranks[i].deferred = nil }
    } else {
      var graphs: [EventGraph] = []
      graphs.reserveCapacity(ranks.count)
      for i in ranks.indices {
        graphs.append(try ranks[i].materialized().graph)
        ranks[i].graph = EventGraph.Builder().build()
        ranks[i].deferred = nil
      }
      merged = EventGraph.merging(consume graphs)
    }
    clock.lap("merge")
    checkOneRun(ranks.map(\.file), merged, diagnostics: &diagnostics)
    // The linked graph shares the merged one's columns; what it replaces (the edges, the
    // collective tables) is freed here, not held to the end of the ingest.
    let (graph, link) = options.linker.link(consume merged, diagnostics: &diagnostics)
    clock.lap("link")
    if options.validate {
      for issue in graph.validate().prefix(10) {
        diagnostics.error("graph.invalid", "event graph invariant broken: \(issue)")
      }
      clock.lap("validate")
    }
    let files = (ranks.map(\.file) + etFiles).sorted { ($0.rank, $0.path) < ($1.rank, $1.path) }
    return IngestResult(
      graph: graph, files: files, diagnostics: diagnostics, link: link, etLinks: etLinks.sorted { $0.rank < $1.rank })
  }

  /// - Throws: `TraceImportError.duplicateRank` for the lowest rank that several files hold.
  static func checkDistinctRanks(_ ranks: [ImportedRank]) throws {
    var byRank: [RankID: [String]] = [:]
    for r in ranks { byRank[r.file.rank, default: []].append(r.file.path) }
    if let dup = byRank.sorted(by: { $0.key < $1.key }).first(where: { $0.value.count > 1 }) {
      throw TraceImportError.duplicateRank(Int(dup.key.rawValue), files: dup.value)
    }
  }
}
