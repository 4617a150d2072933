import Dispatch
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
}

/// The result of ingesting one run: the linked graph and what was found on the way.
public struct IngestResult: Sendable {
  public var graph: EventGraph
  public var files: [IngestedFile]
  public var diagnostics: Diagnostics
  public var link: LinkSummary
  /// Host execution traces linked with their rank's Kineto trace.
  public var etLinks: [ETLinkSummary] = []
  /// Total bytes read from disk.
  public var inputBytes: Int64 { files.reduce(0) { $0 + $1.bytesOnDisk } }
}

/// Options for `Ingest.run`.
public struct IngestOptions: Sendable {
  /// Called now and then while a large file is read: (file, bytes read so far, file size on disk).
  public var progress: (@Sendable (String, Int64, Int64) -> Void)?
  /// Whether to check the graph's invariants (`EventGraph.validate`) after linking.
  public var validate = true
  public var linker = MultiRankLinker()
  public init() {}
}

/// Ingestion: files or directories → one linked `EventGraph` across ranks.
public enum Ingest {
  /// Expands directories into the trace files they hold (not recursive), sorted by name.
  ///
  /// - Throws: `TraceImportError.noTraces` for a directory without traces, `.unreadable` for a
  ///   path that does not exist.
  public static func expand(_ paths: [String]) throws -> [String] {
    var out: [String] = []
    let fm = FileManager.default
    for p in paths {
      var isDir: ObjCBool = false
      guard fm.fileExists(atPath: p, isDirectory: &isDir) else {
        throw TraceImportError.unreadable(file: p, reason: "no such file or directory")
      }
      if isDir.boolValue {
        let names = ((try? fm.contentsOfDirectory(atPath: p)) ?? []).filter(isTraceFileName).sorted()
        if names.isEmpty { throw TraceImportError.noTraces(directory: p) }
        out.append(contentsOf: names.map { p.hasSuffix("/") ? p + $0 : p + "/" + $0 })
      } else {
        out.append(p)
      }
    }
    return out
  }

  static func isTraceFileName(_ name: String) -> Bool {
    if name.hasPrefix(".") || name.hasPrefix("._") { return false }
    return name.hasSuffix(".json") || name.hasSuffix(".json.gz") || name.hasSuffix(".trace.gz") || name.hasSuffix(".et")
  }

  /// The rank a file name states: `rank-3`, `rank3`, `rank_3`, `worker3`, `…_3.json`.
  public static func rankFromFileName(_ path: String) -> Int? {
    let base = String(path.split(separator: "/").last ?? Substring(path)).lowercased()
    let bytes = Array(base.utf8)
    func digits(from i: Int) -> Int? {
      var j = i
      var v = 0
      while j < bytes.count, bytes[j] >= 48, bytes[j] <= 57, j - i < 7 { v = v * 10 + Int(bytes[j] - 48); j += 1 }
      return j > i ? v : nil
    }
    for word in ["rank", "worker"] {
      var search = base.startIndex
      while let r = base.range(of: word, range: search..<base.endIndex) {
        var i = base.utf8.distance(from: base.startIndex, to: r.upperBound)
        if i < bytes.count && (bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "_")) { i += 1 }
        if let v = digits(from: i) { return v }
        search = r.upperBound
      }
    }
    // Chakra: "all_reduce.3.et", "chakra.0.json"
    for ext in [".et", ".json"] where base.hasSuffix(ext) {
      let parts = base.dropLast(ext.count).split(separator: ".")
      if parts.count >= 2, let last = parts.last, last.count <= 6, let v = Int(last) { return v }
    }
    // "…_3.json", "…-3.json.gz", "…_3.pt.trace.json"
    var stem = base
    for ext in [".json.gz", ".json", ".pt.trace", ".trace"] where stem.hasSuffix(ext) { stem.removeLast(ext.count) }
    if stem.hasSuffix(".pt.trace") { stem.removeLast(".pt.trace".count) }
    let sb = Array(stem.utf8)
    var j = sb.count
    while j > 0, sb[j - 1] >= 48, sb[j - 1] <= 57 { j -= 1 }
    if j < sb.count, j > 0, sb[j - 1] == UInt8(ascii: "_") || sb[j - 1] == UInt8(ascii: "-"), sb.count - j <= 6 {
      return Int(String(decoding: sb[j...], as: UTF8.self))
    }
    return nil
  }

  /// Reads one Kineto file into its tokenized form (no linking).
  static func readKineto(_ path: String, progress: (@Sendable (String, Int64, Int64) -> Void)?) throws -> (KinetoTrace, isGzip: Bool) {
    let source = try ByteSource(path: path)
    let prefixCount = min(source.count, TraceFormatDescriptor.sniffLength)
    if prefixCount == 0 {
      throw TraceImportError.malformed(TraceLocation(file: path, byteOffset: 0), expected: "a Kineto/Chrome trace", found: "an empty file")
    }
    let format = TraceFormats.detect(UnsafeBufferPointer(start: source.buffer, count: prefixCount))
    guard let format else {
      let b = source.buffer[0]
      let found = source.isGzip ? "gzip data that is not JSON (first byte 0x\(String(b, radix: 16)))" : "binary data (first byte 0x\(String(b, radix: 16)))"
      throw TraceImportError.unrecognizedFormat(file: path, found: found)
    }
    guard format == KinetoImporter.self else {
      throw TraceImportError.unsupportedFormat(file: path, format: format.descriptor.name,
                                               hint: format.descriptor.isSupported ? "this reader takes Kineto/Chrome trace JSON; `reprise ingest` reads the other formats"
                                                 : "this build reads Kineto/Chrome trace JSON, Chakra .et and PyTorch execution traces")
    }
    let size = source.fileSize
    let file = path
    var parser = KinetoParser(source: source, progress: progress.map { p in { p(file, $0, size) } })
    return (try parser.parse(), source.isGzip)
  }

  /// The format of a file, decided by sniffing its first (decompressed) bytes, not its name.
  ///
  /// - Throws: `TraceImportError` when the file cannot be read or matches no known format.
  public static func detectFormat(_ path: String) throws -> TraceFormatDescriptor {
    let source = try ByteSource(path: path, chunkSize: TraceFormatDescriptor.sniffLength)
    let n = min(source.count, TraceFormatDescriptor.sniffLength)
    if n == 0 { throw TraceImportError.malformed(TraceLocation(file: path, byteOffset: 0), expected: "a trace", found: "an empty file") }
    guard let f = TraceFormats.detect(UnsafeBufferPointer(start: source.buffer, count: n)) else {
      throw TraceImportError.unrecognizedFormat(file: path, found: "binary data (first byte 0x\(String(source.buffer[0], radix: 16)))")
    }
    return f.descriptor
  }

  /// Exact tokenizer counts of one Kineto file (for differential tests and `--stats`).
  public static func kinetoStats(_ path: String) throws -> KinetoStats {
    try readKineto(path, progress: nil).0.stats
  }

  /// The importer whose sniff accepts the first bytes of `path`, nil when none does.
  static func sniffFormat(_ path: String) throws -> (any TraceImporter.Type)? {
    let source = try ByteSource(path: path, chunkSize: TraceFormatDescriptor.sniffLength)
    let n = min(source.count, TraceFormatDescriptor.sniffLength)
    return n == 0 ? nil : TraceFormats.detect(UnsafeBufferPointer(start: source.buffer, count: n))
  }

  /// Reads one Chakra protobuf file as one rank (its rank from the file name, `name.N.et`).
  static func readChakra(_ path: String, single: Bool, json: Bool = false) throws -> (IngestedFile, EventGraph, Diagnostics) {
    let file = json ? try ChakraJSONImporter.decode(path: path) : try ChakraProtobufImporter.decode(path: path)
    var diags = Diagnostics()
    let rank: Int
    if let r = rankFromFileName(path) {
      rank = r
    } else if single {
      rank = 0
      diags.note("ingest.rankDefault", "no rank in the file name (name.N.et); treated as rank 0", at: TraceLocation(file: path))
    } else {
      throw TraceImportError.unknownRank(file: path)
    }
    let graph = ChakraProtobufImporter.build(file, path: path, rank: RankID(rank), diagnostics: &diags)
    let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int64) ?? 0
    let ingested = IngestedFile(path: path, rank: RankID(rank), bytesOnDisk: size, decompressedBytes: size, isGzip: false,
                                format: json ? ChakraJSONRecognizer.descriptor.name : ChakraProtobufImporter.descriptor.name,
                                stats: KinetoStats(), events: graph.eventCount,
                                recordTypes: ChakraProtobufImporter.countByType(file))
    return (ingested, graph, diags)
  }

  /// Tokenizes an in-memory document (tests, fuzzing); returns its stats.
  public static func kinetoStats(bytes: [UInt8], file: String = "<memory>") throws -> KinetoStats {
    var parser = KinetoParser(source: ByteSource(bytes: bytes, file: file))
    return try parser.parse().stats
  }

  /// Ingests an in-memory Kineto document as one rank (tests).
  public static func graph(bytes: [UInt8], file: String = "<memory>", rank: Int = 0) throws -> (EventGraph, Diagnostics) {
    var parser = KinetoParser(source: ByteSource(bytes: bytes, file: file))
    let trace = try parser.parse()
    var builder = KinetoGraphBuilder(trace: trace, rank: RankID(trace.declaredRank ?? rank))
    let g = builder.build()
    var d = trace.diagnostics
    d.append(contentsOf: builder.diagnostics)
    return (g, d)
  }

  /// What one input file parsed into: a rank's graph, or a host execution trace to link.
  enum Parsed {
    case graph(IngestedFile, EventGraph, Diagnostics)
    case executionTrace(path: String, ExecutionTrace, bytes: Int64)
  }

  private final class Results: @unchecked Sendable {
    var items: [Result<Parsed, any Error>?]
    init(_ n: Int) { items = Array(repeating: nil, count: n) }
  }

  /// Ingests files and directories of one run into one linked graph.
  ///
  /// Files parse in parallel (one task per file), each as the format its first bytes say
  /// (Kineto JSON, Chakra protobuf, PyTorch host execution trace). Each file's rank comes from
  /// `distributedInfo.rank`, else its name; a lone file without either is rank 0. A host
  /// execution trace joins the Kineto trace of its rank (by name, or the only one given) and is
  /// linked with it (`ETLinker`); alone it becomes its rank's graph.
  /// - Throws: `TraceImportError` for unreadable, malformed or unsupported input, unknown or
  ///   duplicate ranks. Recoverable problems are in `diagnostics`.
  public static func run(paths: [String], options: IngestOptions = IngestOptions()) throws -> IngestResult {
    let files = try expand(paths)
    let clock = PhaseClock()
    let results = Results(files.count)
    let formats = try files.map { try sniffFormat($0) }
    let single = formats.filter { $0 != PyTorchETRecognizer.self }.count <= 1
    let progress = options.progress
    DispatchQueue.concurrentPerform(iterations: files.count) { i in
      let path = files[i]
      let format = formats[i]
      results.items[i] = Result {
        // A `.et` that does not look like Chakra 0.0.4 is decoded anyway, for an error with its offset.
        if format == ChakraProtobufImporter.self || format == ChakraJSONRecognizer.self || (format == nil && path.hasSuffix(".et")) {
          let (f, g, d) = try readChakra(path, single: single, json: format == ChakraJSONRecognizer.self)
          return .graph(f, g, d)
        }
        if format == PyTorchETRecognizer.self {
          let et = try ExecutionTrace.read(path)
          let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int64) ?? 0
          return .executionTrace(path: path, et, bytes: size)
        }
        let (trace, isGzip) = try readKineto(path, progress: progress)
        clock.lap("parse \(path)")
        var diags = trace.diagnostics
        let rank: Int
        if let r = trace.declaredRank {
          rank = r
        } else if let r = rankFromFileName(path) {
          rank = r
          diags.note("ingest.rankFromName", "no distributedInfo.rank; rank \(r) taken from the file name", at: TraceLocation(file: path))
        } else if single {
          rank = 0
          diags.note("ingest.rankDefault", "no distributedInfo.rank and no rank in the file name; treated as rank 0", at: TraceLocation(file: path))
        } else {
          throw TraceImportError.unknownRank(file: path)
        }
        var builder = KinetoGraphBuilder(trace: trace, rank: RankID(rank))
        let graph = builder.build()
        diags.append(contentsOf: builder.diagnostics)
        clock.lap("build \(path)")
        let file = IngestedFile(path: path, rank: RankID(rank), bytesOnDisk: trace.inputBytes,
                                decompressedBytes: trace.decompressedBytes, isGzip: isGzip, format: KinetoImporter.descriptor.name,
                                stats: trace.stats, events: graph.eventCount)
        return .graph(file, graph, diags)
      }
    }
    var ingested: [(IngestedFile, EventGraph, Diagnostics)] = []
    var traces: [(path: String, et: ExecutionTrace, bytes: Int64)] = []
    for r in results.items {
      switch r! {
      case .success(.graph(let f, let g, let d)): ingested.append((f, g, d))
      case .success(.executionTrace(let path, let et, let bytes)): traces.append((path, et, bytes))
      case .failure(let e): throw e
      }
    }
    // Execution traces: link with their rank's graph, or stand alone.
    var etLinks: [ETLinkSummary] = []
    var etFiles: [IngestedFile] = []
    for (path, et, bytes) in traces {
      var diags = Diagnostics()
      let rank: Int
      if let r = rankFromFileName(path) {
        rank = r
      } else if ingested.count == 1 && traces.count == 1 {
        rank = Int(ingested[0].0.rank.rawValue)
        diags.note("et.rankFromKineto", "no rank in the file name; linked with the only Kineto trace given (rank \(rank))", at: TraceLocation(file: path))
      } else if ingested.isEmpty && traces.count == 1 {
        rank = 0
      } else {
        throw TraceImportError.unknownRank(file: path)
      }
      let file = IngestedFile(path: path, rank: RankID(rank), bytesOnDisk: bytes, decompressedBytes: bytes, isGzip: false,
                              format: PyTorchETRecognizer.descriptor.name, stats: KinetoStats(), events: et.nodes.count,
                              recordTypes: ["nodes": et.nodes.count])
      if let k = ingested.firstIndex(where: { $0.0.rank == RankID(rank) }) {
        let (g, summary) = ETLinker.link(ingested[k].1, et, file: path, rank: RankID(rank), diagnostics: &diags)
        ingested[k].1 = g
        ingested[k].2.append(contentsOf: diags)
        etLinks.append(summary)
        etFiles.append(file)
      } else {
        let g = ETLinker.graph(et, file: path, rank: RankID(rank), diagnostics: &diags)
        ingested.append((file, g, diags))
      }
    }
    var byRank: [RankID: [String]] = [:]
    for (f, _, _) in ingested { byRank[f.rank, default: []].append(f.path) }
    if let dup = byRank.sorted(by: { $0.key < $1.key }).first(where: { $0.value.count > 1 }) {
      throw TraceImportError.duplicateRank(Int(dup.key.rawValue), files: dup.value)
    }
    ingested.sort { $0.0.rank < $1.0.rank }
    var diagnostics = Diagnostics()
    for (_, _, d) in ingested { diagnostics.append(contentsOf: d) }
    let merged = EventGraph.merging(ingested.map(\.1))
    clock.lap("merge")
    let (graph, link) = options.linker.link(merged, diagnostics: &diagnostics)
    clock.lap("link")
    if options.validate {
      for issue in graph.validate().prefix(10) {
        diagnostics.error("graph.invalid", "event graph invariant broken: \(issue)")
      }
      clock.lap("validate")
    }
    return IngestResult(graph: graph, files: (ingested.map(\.0) + etFiles).sorted { ($0.rank, $0.path) < ($1.rank, $1.path) },
                        diagnostics: diagnostics, link: link, etLinks: etLinks.sorted { $0.rank < $1.rank })
  }
}

/// Prints phase times to stderr when `REPRISE_TIMING` is set (for benchmarks).
final class PhaseClock: @unchecked Sendable {
  private let enabled = ProcessInfo.processInfo.environment["REPRISE_TIMING"] != nil
  private var last = DispatchTime.now().uptimeNanoseconds
  private let lock = NSLock()
  func lap(_ what: String) {
    guard enabled else { return }
    lock.lock()
    defer { lock.unlock() }
    let now = DispatchTime.now().uptimeNanoseconds
    FileHandle.standardError.write(Data("[timing] \(what): \(Double(now - last) / 1e6) ms\n".utf8))
    last = now
  }
}
