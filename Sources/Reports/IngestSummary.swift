import Rendering
import Replay
import TraceImport
import TraceModel

/// What one ingestion read and linked: files, ranks, events by kind, collectives, send/recv,
/// clocks, diagnostics (`reprise ingest`, schema `reprise.ingest/v1`).
///
/// The JSON holds the counts a script checks; the text summary adds what a person reads first
/// (lanes by kind, the step numbers). Build one with `IngestSummary(_:)` from an `IngestResult`.
public struct IngestSummary: JSONContract, Equatable {
  public static let schemaName = "reprise.ingest"
  public static let schemaVersion = 1

  public struct File: Codable, Sendable, Equatable {
    public var path: String
    public var rank: Int
    /// Size on disk.
    public var bytes: Bytes
    public var decompressedBytes: Bytes
    public var gzip: Bool
    public var events: Int
    public var format: String
    /// Records per type as the format counts them (Chakra node types); absent for Kineto.
    public var recordTypes: [String: Int]?
    /// For a shard, the trace it was made from; absent otherwise.
    public var source: String?
    /// The file's records: read, kept as events, dropped by reason.
    public var accounting: Accounting
  }

  /// What became of the records read (docs/reliability.md): `read == kept + Σ dropped`.
  public struct Accounting: Codable, Sendable, Equatable {
    public var read: Int
    public var kept: Int
    /// Records per `DropReason` code, only the reasons with a count.
    public var dropped: [String: Int]
    /// Of `dropped`, the records whose content is lost (each also a `dataLoss` diagnostic).
    public var lost: Int

    public init(_ a: EventAccount) {
      read = a.read
      kept = a.kept
      dropped = Dictionary(uniqueKeysWithValues: a.dropped.map { ($0.key.rawValue, $0.value) })
      lost = a.lost
    }
  }

  public struct Events: Codable, Sendable, Equatable {
    public var total: Int
    /// Every `EventKind` by name, zero included.
    public var byKind: [String: Int]
    /// Records read over all files; `kept` of them are events (`kept == total`), the others
    /// `dropped` by reason, `lost` of those.
    public var read: Int
    public var kept: Int
    public var dropped: [String: Int]
    public var lost: Int
  }

  public struct Collectives: Codable, Sendable, Equatable {
    public var instances: Int
    public var matched: Int
    public var unmatched: Int
    public var byKind: [String: Int]
    public var maxEndSpreadNs: Nanoseconds
    public var medianEndSpreadNs: Nanoseconds
  }

  public struct PointToPoint: Codable, Sendable, Equatable {
    public var pairs: Int
    public var unmatched: Int
  }

  public struct DiagnosticCounts: Codable, Sendable, Equatable {
    public var note: Int
    public var warning: Int
    public var dataLoss: Int
    public var error: Int
  }

  /// A file found in a directory or bundle and passed over: not a trace.
  public struct Skipped: Codable, Sendable, Equatable {
    public var path: String
    public var reason: String
    /// A directory whose traces were not read because it holds shards (not in the JSON).
    public var isBesideShards = false
    enum CodingKeys: String, CodingKey { case path, reason }
  }

  public struct ExecutionTraceLink: Codable, Sendable, Equatable {
    public var rank: Int
    public var file: String
    public var ops: Int
    public var matchedOps: Int
    public var kernels: Int
    public var kernelsWithParent: Int
    public var dataEdges: Int
  }

  public private(set) var schema = Self.schema
  public var files: [File]
  public var ranks: Int
  public var lanes: Int
  public var events: Events
  public var edges: Int
  /// Distinct profiler step numbers.
  public var steps: Int
  public var collectives: Collectives
  public var p2p: PointToPoint
  /// Estimated clock offset per rank (ns added to its timestamps), keyed by rank.
  public var clockOffsetsNs: [String: Nanoseconds]
  public var clockAligned: Bool
  public var diagnostics: DiagnosticCounts
  /// Bytes read from disk.
  public var inputBytes: Bytes
  public var executionTraces: [ExecutionTraceLink]
  /// Files found in the directories and bundles given that are not traces, skipped (empty when none).
  public var skippedFiles: [Skipped]
  /// The parallel layout the run was recorded with, detected (`LayoutDetection.detect`) or given
  /// (`--recorded`), with the evidence for each degree.
  public var layout: LayoutDetection

  // Not in the JSON: for the text summary.
  /// Host-thread and device-stream lanes.
  public var hostLanes = 0
  public var deviceLanes = 0
  /// The profiler step numbers, ascending.
  public var stepNumbers: [Int] = []

  enum CodingKeys: String, CodingKey {
    case schema, files, ranks, lanes, events, edges, steps, collectives, p2p, clockOffsetsNs, clockAligned, diagnostics,
      inputBytes, executionTraces, skippedFiles, layout
  }

  /// The summary of an ingestion, with the layout `recorded` gives (`dp=A,tp=B,pp=C[,cp=D]`,
  /// the `--recorded` flag) or, when nil, the one the trace shows.
  /// - Throws: `RunError.usage` when `recorded` does not parse; `LayoutError` when it does not
  ///   multiply to the trace's world size.
  public init(_ result: IngestResult, recorded: String?) throws {
    self.init(result)
    guard let recorded else { return }
    let given: ParallelLayout
    do { given = try ParallelLayout(parsing: recorded, flag: "--recorded") } catch let e as ParallelLayout.ParseError {
      throw RunError.usage(e.message)
    }
    layout = try LayoutDetection.resolve(graph: result.graph, recorded: given)
  }

  /// The summary of an ingestion, with the layout the trace shows.
  public init(_ result: IngestResult) {
    let g = result.graph
    layout = LayoutDetection.detect(g)
    let counts = g.countByKind()
    files = result.files.map { f in
      File(
        path: f.path, rank: Int(f.rank.rawValue), bytes: Bytes(f.bytesOnDisk),
        decompressedBytes: Bytes(f.decompressedBytes),
        gzip: f.isGzip, events: f.events, format: f.format, recordTypes: f.recordTypes.isEmpty ? nil : f.recordTypes,
        source: f.source, accounting: Accounting(f.account))
    }
    ranks = g.ranks.count
    lanes = g.lanes.count
    let account = Accounting(result.account)
    events = Events(
      total: g.eventCount,
      byKind: Dictionary(uniqueKeysWithValues: EventKind.allCases.map { ($0.name, counts[$0] ?? 0) }),
      read: account.read, kept: account.kept, dropped: account.dropped, lost: account.lost)
    edges = g.edgeCount
    stepNumbers = Set(g.steps.map(\.number)).sorted()
    steps = stepNumbers.count
    let l = result.link
    collectives = Collectives(
      instances: l.collectiveInstances, matched: l.matchedInstances, unmatched: l.unmatchedInstances,
      byKind: Dictionary(uniqueKeysWithValues: l.instancesByKind.map { ($0.key.name, $0.value) }),
      maxEndSpreadNs: Nanoseconds(l.maxEndSpreadNs), medianEndSpreadNs: Nanoseconds(l.medianEndSpreadNs))
    p2p = PointToPoint(pairs: l.p2pPairs, unmatched: l.p2pUnmatched)
    clockOffsetsNs = Dictionary(
      uniqueKeysWithValues: l.clockOffsets.map { (String($0.key.rawValue), Nanoseconds($0.value)) })
    clockAligned = l.clockAligned
    let d = result.diagnostics
    diagnostics = DiagnosticCounts(
      note: d.count(of: .note), warning: d.count(of: .warning), dataLoss: d.count(of: .dataLoss),
      error: d.count(of: .error))
    inputBytes = Bytes(result.inputBytes)
    executionTraces = result.etLinks.map { e in
      ExecutionTraceLink(
        rank: e.rank, file: e.file, ops: e.etOps, matchedOps: e.matchedOps, kernels: e.kernels,
        kernelsWithParent: e.kernelsWithParent, dataEdges: e.dataEdges)
    }
    skippedFiles = result.skipped.map { Skipped(path: $0.path, reason: $0.reason, isBesideShards: $0.isBesideShards) }
    hostLanes = g.lanes.filter { $0.kind == .hostThread }.count
    deviceLanes = g.lanes.filter { $0.kind == .deviceStream }.count
  }
}

extension IngestResult {
  /// Stops on input that cannot be trusted: errors in the diagnostics, or any warning or data
  /// loss when `strict`.
  /// - Throws: `RunError.data` naming how many (the diagnostics themselves are printed first).
  public func requireUsable(strict: Bool) throws {
    let errors = diagnostics.count(of: .error)
    let warnings = diagnostics.count(of: .warning) + diagnostics.count(of: .dataLoss)
    if errors > 0 { throw RunError.data("\(errors) error(s) in the input; see above") }
    if strict && warnings > 0 { throw RunError.data("--strict: \(warnings) warning(s) in the input; see above") }
  }
}
