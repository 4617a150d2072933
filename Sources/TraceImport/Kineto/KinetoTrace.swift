import TraceModel

/// A process or thread id as written in a Chrome trace: a number, or a string such as `"Spans"`.
enum TraceID: Hashable, Sendable {
  case int(Int64)
  /// Index into `KinetoTrace.names`.
  case string(Int32)
  static let missing = TraceID.int(Int64.min)
}

/// A (pid, tid) pair seen in the file.
struct ThreadKey: Hashable, Sendable {
  var pid: TraceID
  var tid: TraceID
}

/// Arguments Reprise uses, for the events that carry any of them.
struct EventExtras: Sendable, Equatable {
  var stream: Int64?
  var device: Int64?
  var collectiveName: Int32 = -1
  var inMsgNelems: Int64?
  var outMsgNelems: Int64?
  var groupSize: Int64?
  var dtype: Int32 = -1
  var processGroupName: Int32 = -1
  var processGroupRanks: Int32 = -1
  var processGroupDescription: Int32 = -1
  /// Memcpy/memset size (`bytes`), MTIA DMA `size`.
  var bytes: Int64?
  /// `[memory]` events: `Bytes`, `Total Allocated`, `Total Reserved`, `Device Id`.
  var memoryBytes: Int64?
  var totalAllocated: Int64?
  var totalReserved: Int64?
  var deviceID: Int64?
  /// Raw JSON text of `Input Dims` / `Input type` (interned), for comm ops only.
  var inputDims: Int32 = -1
  var inputType: Int32 = -1
  /// MTIA DMA `direction`.
  var direction: Int32 = -1
  /// Sequence number of a collective (`Seq`), when present.
  var sequence: Int64?
  /// Raw `Concrete Inputs` of communication ops (c10d send/recv: `["", "", "<peer>", "<tag>"]`).
  var concreteInputs: Int32 = -1
  /// Peer rank of a send/recv when the trace gives one.
  var peer: Int64?
}

/// The interned `Input Dims` / `Input type` of one record.
struct ShapeRecord: Sendable, Equatable {
  var record: UInt32
  var dims: Int32
  var types: Int32
}

/// A flow event (`ph` s/t/f): a hint linking two slices.
struct FlowRecord: Sendable, Equatable {
  var phase: UInt8
  var id: UInt64
  var category: Int32
  var ts: Int64
  var thread: Int32
  /// `bp: "e"`: binds to the enclosing slice rather than the next one.
  var bindsEnclosing: Bool
}

/// Exact per-file counts, used by the differential test against a reference JSON reader.
public struct KinetoStats: Sendable, Equatable {
  /// Events per `ph` value ("" when absent).
  public var phaseCounts: [String: Int] = [:]
  /// Events per `cat` value, for events that have one.
  public var categoryCounts: [String: Int] = [:]
  /// Σ dur (µs → ns, rounded per event) over events that have a numeric `dur`.
  public var durationSumNs: Int64 = 0
  /// Number of elements in the event array.
  public var eventCount: Int = 0
  public init() {}
}

/// One Kineto / Chrome-trace JSON file, tokenized: the format's `TraceFile`.
///
/// Holds complete spans (X, or B/E pairs), instants and counters as records (struct-of-arrays),
/// flows separately, plus the metadata Reprise needs. Linking (launches, nesting, collectives)
/// happens later, in `KinetoGraphBuilder`.
struct KinetoTrace: Sendable, Equatable {
  var file: String
  /// Interned strings (names, categories, arg values); index = id.
  var strings: [String] = []
  var threads: [ThreadKey] = []

  // Record columns.
  var phase: [UInt8] = []
  var category: [Int32] = []
  var name: [Int32] = []
  var thread: [Int32] = []
  var ts: [Int64] = []
  var dur: [Int64] = []
  var correlation: [Int64] = []
  var externalID: [Int64] = []
  var extra: [Int32] = []
  var index: [UInt32] = []
  var offset: [Int64] = []

  var extras: [EventExtras] = []
  /// Shapes of records whose only extras are shapes (compact side table).
  var shapes: [ShapeRecord] = []
  var flows: [FlowRecord] = []

  var processNames: [TraceID: String] = [:]
  var processLabels: [TraceID: String] = [:]
  var threadNames: [ThreadKey: String] = [:]

  var distributedInfo: JSONValue?
  var deviceProperties: JSONValue?
  var baseTimeNanoseconds: UInt64?
  var schemaVersion: JSONValue?

  var stats = KinetoStats()
  /// The elements of `traceEvents`: records (`kept`), or dropped by reason (`KinetoParser.finish`).
  var account = EventAccount()
  var diagnostics = Diagnostics()
  var inputBytes: Int64 = 0
  /// Bytes of JSON read (decompressed size for gzip).
  var decompressedBytes: Int64 = 0
  /// Pieces of the event array tokenized side by side (1: read in order by one parser).
  var tokenizedPieces = 1

  var recordCount: Int { phase.count }

  /// `distributedInfo.rank`, when present.
  var declaredRank: Int? { distributedInfo?["rank"]?.intValue.map { Int($0) } }
  var worldSize: Int? { distributedInfo?["world_size"]?.intValue.map { Int($0) } }
}
