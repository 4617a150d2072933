import TraceModel

/// PyTorch profiler (Kineto) / Chrome trace-event JSON, plain or gzip: tokenized by
/// `KinetoParser`, then built into the graph of one rank by `KinetoGraphBuilder`.
///
/// The rank is `distributedInfo.rank`, else the one the file name states, else 0 when the file
/// is the only one (`RankResolver`). Files that no importer recognizes come here too (`Ingest`),
/// and `read` reports what they are instead.
struct KinetoImporter: TraceImporter {
  static let descriptor = TraceFormatDescriptor(
    name: "Kineto/Chrome trace JSON", nativeTimeUnit: "µs",
    isSupported: true)

  /// A JSON object or array.
  static func sniff(prefix: UnsafeBufferPointer<UInt8>) -> Bool {
    let b = Sniffing.firstByte(prefix)
    return b == UInt8(ascii: "{") || b == UInt8(ascii: "[")
  }

  /// How a rank that `distributedInfo` does not state is explained.
  static let rankNotes = RankNotes(
    fromFileName: .init(code: "ingest.rankFromName") { "no distributedInfo.rank; rank \($0) taken from the file name" },
    onlyFile: .init(code: "ingest.rankDefault") { _ in
      "no distributedInfo.rank and no rank in the file name; treated as rank 0"
    })

  static func importFile(_ request: ImportRequest) throws -> ImportedFile {
    let path = request.path
    let (trace, isGzip) = try read(
      path, contents: request.contents, progress: request.progress, chunks: request.chunks, limits: request.limits,
      jsonLimit: request.jsonLimit)
    request.clock.lap("parse \(path)")
    var diagnostics = trace.diagnostics
    let rank = try RankResolver.rank(
      declared: trace.declaredRank, path: path, isOnlyFile: request.isOnlyRankFile,
      notes: rankNotes, diagnostics: &diagnostics)
    // The builder frees the trace's columns as it goes: nothing else may hold them.
    var builder = KinetoGraphBuilder(trace: consume trace, rank: rank)
    let graph = builder.build()
    diagnostics.append(contentsOf: builder.diagnostics)
    request.clock.lap("build \(path)")
    let read = builder.trace
    let file = IngestedFile(
      path: path, rank: rank, bytesOnDisk: read.inputBytes,
      decompressedBytes: read.decompressedBytes, isGzip: isGzip, format: descriptor.name,
      stats: read.stats, events: graph.eventCount, account: keptAsEvents(read.account, graph))
    return .rank(ImportedRank(file: file, graph: graph, diagnostics: diagnostics))
  }

  /// The parser's account with `kept` the events of the graph built from its records (one each).
  static func keptAsEvents(_ account: EventAccount, _ graph: EventGraph) -> EventAccount {
    var a = account
    a.kept = graph.eventCount
    return a
  }

  /// Reads one Kineto file into its tokenized form (no linking).
  ///
  /// - Throws: `TraceImportError`: `.malformed` for an empty file or bad JSON,
  ///   `.unrecognizedFormat` for bytes no importer recognizes, `.unsupportedFormat` for another
  ///   format's file.
  /// - Parameters:
  ///   - chunks: pieces the event array may be cut into and tokenized side by side (plain
  ///     files and bytes in memory; `KinetoParser.startPieces`); the result does not depend on it.
  ///   - minChunkBytes: the smallest piece worth a thread.
  ///   - jsonLimit: the JSON bytes that may be read before the graph would outgrow the memory
  ///     available (`MemoryBudget`); nil: unchecked.
  static func read(
    _ path: String, contents: [UInt8]? = nil, progress: (@Sendable (String, Int64, Int64) -> Void)?,
    chunks: Int = 1, minChunkBytes: Int = 8 << 20, limits: ReadLimits = ReadLimits(), jsonLimit: Int64? = nil
  ) throws -> (KinetoTrace, isGzip: Bool) {
    let source = try contents.map { ByteSource(bytes: $0, file: path) } ?? ByteSource(path: path, limits: limits)
    let prefixCount = min(source.count, TraceFormatDescriptor.sniffLength)
    if prefixCount == 0 {
      throw TraceImportError.malformed(
        TraceLocation(file: path, byteOffset: 0), expected: "a Kineto/Chrome trace",
        found: "an empty file")
    }
    let format = TraceImporterRegistry.detect(UnsafeBufferPointer(start: source.buffer, count: prefixCount))
    guard let format else {
      let b = String(source.buffer[0], radix: 16)
      let found = source.isGzip ? "gzip data that is not JSON (first byte 0x\(b))" : "binary data (first byte 0x\(b))"
      throw TraceImportError.unrecognizedFormat(file: path, found: found)
    }
    guard format == KinetoImporter.self else {
      let hint =
        format.descriptor.isSupported
        ? "this reader takes Kineto/Chrome trace JSON; `reprise ingest` reads the other formats"
        : TraceImporterRegistry.readableFormats
      throw TraceImportError.unsupportedFormat(file: path, format: format.descriptor.name, hint: hint)
    }
    let size = source.fileSize
    let file = path
    var parser = KinetoParser(source: source, progress: progress.map { p in { p(file, $0, size) } })
    parser.chunks = chunks
    parser.minChunkBytes = minChunkBytes
    parser.jsonLimit = jsonLimit
    return (try parser.parse(), source.isGzip)
  }
}
