import TraceModel

/// Errors that stop a trace from being imported at all. Recoverable problems go to
/// `Diagnostics` instead.
public enum TraceImportError: Error, Hashable, Sendable, CustomStringConvertible {
  /// The file could not be opened or read.
  case unreadable(file: String, reason: String)
  /// The bytes are not any format Reprise reads.
  case unrecognizedFormat(file: String, found: String)
  /// The format is recognized but not supported yet.
  case unsupportedFormat(file: String, format: String, hint: String)
  /// Syntax or structure error: what was expected, what was found.
  case malformed(TraceLocation, expected: String, found: String)
  /// A required field is absent.
  case missingField(String, at: TraceLocation)
  /// A field has the wrong JSON type.
  case wrongType(field: String, expected: String, found: String, at: TraceLocation)
  /// A directory or bundle held no trace files (`skipped`: files found that were not traces).
  case noTraces(directory: String, skipped: [String] = [])
  /// Several files were given and the rank of one cannot be determined.
  case unknownRank(file: String)
  /// Two files claim the same rank.
  case duplicateRank(Int, files: [String])
  /// The graph of the input would not fit in the memory available (`MemoryBudget`): `neededBytes`
  /// estimated from `basis`, against `availableBytes`.
  case insufficientMemory(file: String, neededBytes: Int64, availableBytes: Int64, basis: MemoryBasis)

  /// What an estimate of the memory needed was made from.
  public enum MemoryBasis: Hashable, Sendable {
    /// The JSON size of the inputs, known before reading.
    case jsonSize(Int64)
    /// At least this much JSON (a gzip file's compressed size or its trailer's size).
    case gzipLowerBound(Int64)
    /// The JSON read so far, more to come.
    case readSoFar(Int64)
    /// The events and edges of a run's shards, merged.
    case shardColumns(events: Int64, edges: Int64)
  }

  public var description: String {
    switch self {
    case .unreadable(let file, let reason): return "\(file): cannot read: \(reason)"
    case .unrecognizedFormat(let file, let found):
      return "\(file):@0: expected a Kineto/Chrome trace (JSON object or array, optionally gzip), found \(found)"
    case .unsupportedFormat(let file, let format, let hint): return "\(file): \(format) is not supported yet; \(hint)"
    case .malformed(let loc, let expected, let found): return "\(loc): expected \(expected), found \(found)"
    case .missingField(let field, let loc): return "\(loc): missing required field '\(field)'"
    case .wrongType(let field, let expected, let found, let loc):
      return "\(loc): field '\(field)' should be \(expected), found \(found)"
    case .noTraces(let dir, let skipped):
      return "\(dir): holds no trace files (searched recursively for *.json, *.json.gz, *.trace.gz, *.et, "
        + "*.tar.gz, *.tgz, *.tar)" + (skipped.isEmpty ? "" : "; not traces: " + skipped.joined(separator: ", "))
    case .unknownRank(let file):
      return
        "\(file): cannot tell which rank this file is: no distributedInfo.rank and no rank in the file name (rank-3, rank3, worker3, _3.json)"
    case .duplicateRank(let rank, let files):
      return "rank \(rank) appears in several files: \(files.joined(separator: ", "))"
    case .insufficientMemory(let file, let needed, let available, let basis):
      return "\(file): not enough memory: ingesting it needs about \(Self.gigabytes(needed)) "
        + "(\(basis.text)), \(Self.gigabytes(available)) available; ingest it on a machine with more memory "
        + "(or make a shard of it there with `reprise shard` and ingest the shard here), or set "
        + "REPRISE_MEMORY_AVAILABLE (bytes, or 8G) when the available memory is misjudged"
    }
  }
}

extension TraceImportError {
  /// `"3.2 GB"` (10⁹ bytes, one decimal).
  static func gigabytes(_ bytes: Int64) -> String {
    let gb = Double(bytes) / 1e9
    return "\((gb * 10).rounded() / 10) GB"
  }
}

extension TraceImportError.MemoryBasis {
  var text: String {
    switch self {
    case .jsonSize(let b): return "estimated from \(TraceImportError.gigabytes(b)) of JSON"
    case .gzipLowerBound(let b): return "at least: its gzip holds ≥ \(TraceImportError.gigabytes(b)) of JSON"
    case .readSoFar(let b):
      return "projected from the \(TraceImportError.gigabytes(b)) of JSON read so far, more to come"
    case .shardColumns(let events, let edges):
      return "the merged columns of \(events) events and \(edges) edges from the run's shards"
    }
  }
}
