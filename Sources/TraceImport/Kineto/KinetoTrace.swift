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

/// A flow event (`ph` s/t/f): a hint linking two slices, by the (thread, ts) of each end.
/// Fields in this order so a record takes 24 bytes (a GPU trace has two flows per three
/// records); the flow's `cat` and `bp` are not kept, as the launch fallback uses neither.
struct FlowRecord: Sendable, Equatable {
  var id: UInt64
  var ts: Int64
  var thread: Int32
  var phase: UInt8
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
  var index: [UInt32] = []

  var extras = ExtrasTable()
  /// The `extras` entry of each record that has one.
  var extraOf = ExtrasIndex()
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

/// The `EventExtras` of a trace, packed: each entry is a mask of the fields it has and their
/// values, one after another. An event with extras carries one to a few of the 19 fields (a
/// memcpy: `bytes`; a collective: its name, sizes and group), so an entry takes 12 bytes plus 8
/// per field present instead of the struct's 200 (docs/reliability.md, "Huge inputs").
struct ExtrasTable: Sendable, Equatable {
  /// Fields present in each entry: bits 0–9 the optional integers, 10–18 the string ids.
  private var masks: [UInt32] = []
  /// Where each entry's values start in `values` (one more than there are entries).
  private var starts: [Int] = [0]
  private var values: [Int64] = []

  var count: Int { masks.count }
  var isEmpty: Bool { masks.isEmpty }

  mutating func append(_ x: EventExtras) {
    var mask: UInt32 = 0
    func put(_ v: Int64?, _ bit: UInt32) {
      guard let v else { return }
      mask |= 1 << bit
      values.append(v)
    }
    func put(_ id: Int32, _ bit: UInt32) { put(id >= 0 ? Int64(id) : nil, bit) }
    put(x.inMsgNelems, 0)
    put(x.outMsgNelems, 1)
    put(x.groupSize, 2)
    put(x.bytes, 3)
    put(x.memoryBytes, 4)
    put(x.totalAllocated, 5)
    put(x.totalReserved, 6)
    put(x.deviceID, 7)
    put(x.sequence, 8)
    put(x.peer, 9)
    put(x.collectiveName, 10)
    put(x.dtype, 11)
    put(x.processGroupName, 12)
    put(x.processGroupRanks, 13)
    put(x.processGroupDescription, 14)
    put(x.inputDims, 15)
    put(x.inputType, 16)
    put(x.direction, 17)
    put(x.concreteInputs, 18)
    masks.append(mask)
    starts.append(values.count)
  }

  /// Entry `i`, unpacked.
  subscript(i: Int) -> EventExtras {
    let mask = masks[i]
    var at = Int(starts[i])
    var x = EventExtras()
    func get(_ bit: UInt32) -> Int64? {
      guard mask & (1 << bit) != 0 else { return nil }
      defer { at += 1 }
      return values[at]
    }
    func id(_ bit: UInt32) -> Int32 { get(bit).map { Int32(truncatingIfNeeded: $0) } ?? -1 }
    x.inMsgNelems = get(0)
    x.outMsgNelems = get(1)
    x.groupSize = get(2)
    x.bytes = get(3)
    x.memoryBytes = get(4)
    x.totalAllocated = get(5)
    x.totalReserved = get(6)
    x.deviceID = get(7)
    x.sequence = get(8)
    x.peer = get(9)
    x.collectiveName = id(10)
    x.dtype = id(11)
    x.processGroupName = id(12)
    x.processGroupRanks = id(13)
    x.processGroupDescription = id(14)
    x.inputDims = id(15)
    x.inputType = id(16)
    x.direction = id(17)
    x.concreteInputs = id(18)
    return x
  }
}

/// Which records have an `extras` entry, and which entry: a sparse column, since most records
/// have none (a GPU trace's kernels and sized host ops keep nothing there). The records that
/// have one are listed in ascending order beside their entries, and one bit per record answers
/// "none" without a search: about 1/8 byte a record instead of a 4-byte column.
struct ExtrasIndex: Sendable, Equatable {
  private var records: [UInt32] = []
  private var entries: [Int32] = []
  private var bits: [UInt64] = []

  var count: Int { records.count }

  /// Record `record` (above every record added so far) has entry `entry`.
  mutating func append(record: Int, entry: Int32) {
    records.append(UInt32(truncatingIfNeeded: record))
    entries.append(entry)
    let word = record >> 6
    if word >= bits.count { bits.append(contentsOf: repeatElement(0, count: word + 1 - bits.count)) }
    bits[word] |= 1 << UInt64(record & 63)
  }

  /// The entry of record `r`, or nil.
  func entry(ofRecord r: Int) -> Int32? {
    let word = r >> 6
    guard word < bits.count, bits[word] & (1 << UInt64(r & 63)) != 0 else { return nil }
    var (lo, hi) = (0, records.count)
    while lo < hi {
      let mid = (lo + hi) / 2
      if Int(records[mid]) < r { lo = mid + 1 } else { hi = mid }
    }
    return entries[lo]
  }

  /// Another parser's index, its records after `recordBase` and its entries after `entryBase`.
  mutating func append(_ other: ExtrasIndex, recordBase: UInt32, entryBase: Int32) {
    for i in 0..<other.count { append(record: Int(other.records[i] + recordBase), entry: other.entries[i] + entryBase) }
  }
}
