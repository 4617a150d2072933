/// The format-neutral model of one run: lanes, events, typed dependency edges, and the
/// tables that tie events together across ranks (collective instances, send/recv pairs).
///
/// Stored struct-of-arrays: an event is an index into parallel columns, so millions of
/// events cost about 60 bytes each plus their edges. Published graphs are immutable values;
/// build one with `EventGraph.Builder`.
///
/// Invariants (checked by `validate()`): every edge names existing events; precedence edges
/// form an acyclic graph; durations are non-negative; events of one lane appear in
/// non-decreasing start order in `eventsByLane`.
public struct EventGraph: Sendable, Equatable {
  // MARK: Tables
  public var strings: StringTable
  public var lanes: [Lane]
  public var ranks: [RankInfo]

  // MARK: Event columns (all the same length)
  public var lane: [LaneID]
  public var name: [NameID]
  public var kind: [EventKind]
  /// Kind-specific detail: `ComputeClass` for kernels, `MemcpyDirection` for memcpy,
  /// `CollectiveKind` for collectives; 0 otherwise.
  public var detail: [UInt8]
  /// Start time, ns (after clock alignment).
  public var start: [Int64]
  /// Duration, ns (0 for instants).
  public var duration: [Int64]
  /// Bytes moved or allocated (memcpy/memset size, collective message size, memory delta); 0 if unknown.
  public var bytes: [Int64]
  /// Correlation id of launch/device pairs, or 0.
  public var correlation: [Int64]
  /// Enclosing host event on the same lane, or `.none`.
  public var parent: [EventID]
  /// Index of the event in its source file's event array.
  public var sourceIndex: [UInt32]

  // MARK: Edges (CSR over sources)
  /// `edgeOffsets[e] ..< edgeOffsets[e+1]` are the outgoing edges of event `e`.
  public var edgeOffsets: [UInt32]
  public var edgeTargets: [EventID]
  public var edgeKinds: [EdgeKind]

  // MARK: Cross-event tables
  public var steps: [Step]
  public var collectives: [CollectiveRecord]
  public var instances: [CollectiveInstance]
  public var p2p: [P2PRecord]
  public var memory: [MemoryRecord]
  /// Input shapes of host ops that have them (`Input Dims`, `Input type` as JSON text), for
  /// deriving FLOPs and bytes.
  public var opShapes: [OpShape] = []

  public var eventCount: Int { kind.count }
  public var edgeCount: Int { edgeTargets.count }

  /// Outgoing edges of `event`.
  public func edges(from event: EventID) -> some Sequence<(target: EventID, kind: EdgeKind)> {
    let lo = Int(edgeOffsets[event.index])
    let hi = Int(edgeOffsets[event.index + 1])
    let targets = edgeTargets
    let kinds = edgeKinds
    return (lo..<hi).lazy.map { (targets[$0], kinds[$0]) }
  }

  /// The end time of an event, ns.
  @inline(__always) public func end(_ e: Int) -> Int64 { start[e] &+ duration[e] }
  /// The rank an event belongs to.
  @inline(__always) public func rank(of e: Int) -> RankID { lanes[lane[e].index].rank }

  /// Bytes held by the per-event columns and edges (strings and side tables excluded).
  public var columnBytes: Int {
    eventCount
      * (MemoryLayout<LaneID>.stride + MemoryLayout<NameID>.stride + MemoryLayout<EventKind>.stride
        + MemoryLayout<UInt8>.stride + 4 * MemoryLayout<Int64>.stride + MemoryLayout<EventID>.stride
        + MemoryLayout<UInt32>.stride)
      + edgeOffsets.count * MemoryLayout<UInt32>.stride
      + edgeCount * (MemoryLayout<EventID>.stride + MemoryLayout<EdgeKind>.stride)
  }

  /// Events counted per kind.
  public func countByKind() -> [EventKind: Int] {
    var counts = [Int](repeating: 0, count: EventKind.allCases.count)
    for k in kind { counts[Int(k.rawValue)] += 1 }
    var out: [EventKind: Int] = [:]
    for k in EventKind.allCases { out[k] = counts[Int(k.rawValue)] }
    return out
  }
}

/// A serial resource of one rank: a host thread or a device stream.
public struct Lane: Hashable, Sendable, Codable {
  public var rank: RankID
  public var kind: LaneKind
  /// Device index for streams; -1 for host threads.
  public var device: Int32
  /// The trace's process and thread ids (stream id for device lanes).
  public var pid: Int64
  public var tid: Int64
  /// Display name (`thread_name` metadata, or `stream N`).
  public var name: NameID
  public init(rank: RankID, kind: LaneKind, device: Int32, pid: Int64, tid: Int64, name: NameID) {
    self.rank = rank
    self.kind = kind
    self.device = device
    self.pid = pid
    self.tid = tid
    self.name = name
  }
}

/// What the importer learned about one rank.
public struct RankInfo: Hashable, Sendable, Codable {
  public var rank: RankID
  public var file: String
  /// World size from `distributedInfo`, when present.
  public var worldSize: Int?
  public var backend: String?
  /// Offset added to this rank's timestamps to align its clock with the reference rank.
  public var clockOffset: Nanoseconds
  /// Device names from `deviceProperties`, by device index.
  public var deviceNames: [String]
  /// `baseTimeNanoseconds` from the trace, when present (exact, may exceed 2^53).
  public var baseTimeNanoseconds: UInt64?
  /// The process groups `distributedInfo.pg_config` lists (empty when the trace has none).
  public var processGroups: [ProcessGroupConfig]
  public init(
    rank: RankID, file: String, worldSize: Int? = nil, backend: String? = nil,
    clockOffset: Nanoseconds = .zero, deviceNames: [String] = [], baseTimeNanoseconds: UInt64? = nil,
    processGroups: [ProcessGroupConfig] = []
  ) {
    self.rank = rank
    self.file = file
    self.worldSize = worldSize
    self.backend = backend
    self.clockOffset = clockOffset
    self.deviceNames = deviceNames
    self.baseTimeNanoseconds = baseTimeNanoseconds
    self.processGroups = processGroups
  }
}

/// One process group as a trace's `distributedInfo.pg_config` describes it: its name (the
/// `Process Group Name` collectives carry), its description (`pg_desc`: `default_pg`, or what
/// the framework named it, such as Megatron's `DATA_PARALLEL_GROUP`), and its global ranks.
public struct ProcessGroupConfig: Hashable, Sendable, Codable {
  public var name: String
  public var description: String
  public var ranks: [Int32]
  public init(name: String, description: String, ranks: [Int32]) {
    self.name = name
    self.description = description
    self.ranks = ranks
  }
}

/// One `ProfilerStep#N` window on one rank.
public struct Step: Hashable, Sendable, Codable {
  public var rank: RankID
  public var number: Int
  public var start: Nanoseconds
  public var end: Nanoseconds
  public var event: EventID
  public init(rank: RankID, number: Int, start: Nanoseconds, end: Nanoseconds, event: EventID) {
    self.rank = rank
    self.number = number
    self.start = start
    self.end = end
    self.event = event
  }
}

/// One rank's participation in a collective.
public struct CollectiveRecord: Hashable, Sendable, Codable {
  public var event: EventID
  public var kind: CollectiveKind
  /// Process group name (`Process Group Name` arg), or `default` for the world group.
  public var group: NameID
  /// Participants, from args or `distributedInfo`; 0 if unknown.
  public var groupSize: Int32
  /// Global ranks of the group when the trace lists them (`Process Group Ranks`), else empty.
  public var groupRanks: [Int32]
  /// Position of this call among the rank's calls on `group` (0-based), or the trace's own
  /// sequence number when `hasTraceSequence`.
  public var sequence: Int32
  /// Whether `sequence` came from the trace (`Seq` arg) rather than from per-group order.
  public var hasTraceSequence: Bool = false
  public var dtype: NameID
  /// Input message size in bytes, when known.
  public var inputBytes: Int64
  /// Output message size in bytes, when known.
  public var outputBytes: Int64
  /// The matched instance, or nil when unmatched.
  public var instance: CollectiveInstanceID?
  public init(
    event: EventID, kind: CollectiveKind, group: NameID, groupSize: Int32, groupRanks: [Int32] = [],
    sequence: Int32, dtype: NameID, inputBytes: Int64, outputBytes: Int64, instance: CollectiveInstanceID? = nil
  ) {
    self.event = event
    self.kind = kind
    self.group = group
    self.groupSize = groupSize
    self.groupRanks = groupRanks
    self.sequence = sequence
    self.dtype = dtype
    self.inputBytes = inputBytes
    self.outputBytes = outputBytes
    self.instance = instance
  }
}

/// One collective call across all its ranks.
public struct CollectiveInstance: Hashable, Sendable, Codable {
  public var kind: CollectiveKind
  public var group: NameID
  public var sequence: Int32
  /// One event per participating rank present in the graph, ordered by rank.
  public var members: [EventID]
  /// How many ranks should take part (group size).
  public var expectedSize: Int
  /// Whether every expected rank is present.
  public var isComplete: Bool { members.count == expectedSize }
  public init(kind: CollectiveKind, group: NameID, sequence: Int32, members: [EventID], expectedSize: Int) {
    self.kind = kind
    self.group = group
    self.sequence = sequence
    self.members = members
    self.expectedSize = expectedSize
  }
}

/// One send or receive.
public struct P2PRecord: Hashable, Sendable, Codable {
  public var event: EventID
  public var isSend: Bool
  /// The other rank, when the trace says.
  public var peer: RankID?
  public var bytes: Int64
  /// The matching event on the peer, when matched.
  public var match: EventID?
  public init(event: EventID, isSend: Bool, peer: RankID?, bytes: Int64, match: EventID? = nil) {
    self.event = event
    self.isSend = isSend
    self.peer = peer
    self.bytes = bytes
    self.match = match
  }
}

/// One allocator event (`[memory]` instant).
public struct MemoryRecord: Hashable, Sendable, Codable {
  public var event: EventID
  /// Device index (-1 for host memory).
  public var device: Int32
  /// Bytes allocated (positive) or freed (negative).
  public var delta: Int64
  public var totalAllocated: Int64
  public var totalReserved: Int64
  public init(event: EventID, device: Int32, delta: Int64, totalAllocated: Int64, totalReserved: Int64) {
    self.event = event
    self.device = device
    self.delta = delta
    self.totalAllocated = totalAllocated
    self.totalReserved = totalReserved
  }
}

/// The recorded input shapes and dtypes of one host op.
public struct OpShape: Hashable, Sendable, Codable {
  public var event: EventID
  /// `Input Dims` as written (`[[8, 2048, 4096], [4096, 4096], []]`).
  public var dims: NameID
  /// `Input type` as written (`["c10::BFloat16", "c10::BFloat16", ""]`).
  public var types: NameID
  public init(event: EventID, dims: NameID, types: NameID) {
    self.event = event
    self.dims = dims
    self.types = types
  }
}

extension EventGraph {
  /// A graph from its tables and columns as they are (a stored graph read back). Nothing is
  /// checked here: `validate()` checks the invariants.
  public init(
    restoring strings: StringTable, lanes: [Lane], ranks: [RankInfo], lane: [LaneID], name: [NameID], kind: [EventKind],
    detail: [UInt8], start: [Int64], duration: [Int64], bytes: [Int64], correlation: [Int64], parent: [EventID],
    sourceIndex: [UInt32], edgeOffsets: [UInt32], edgeTargets: [EventID], edgeKinds: [EdgeKind], steps: [Step],
    collectives: [CollectiveRecord], instances: [CollectiveInstance], p2p: [P2PRecord], memory: [MemoryRecord],
    opShapes: [OpShape]
  ) {
    self.strings = strings
    self.lanes = lanes
    self.ranks = ranks
    self.lane = lane
    self.name = name
    self.kind = kind
    self.detail = detail
    self.start = start
    self.duration = duration
    self.bytes = bytes
    self.correlation = correlation
    self.parent = parent
    self.sourceIndex = sourceIndex
    self.edgeOffsets = edgeOffsets
    self.edgeTargets = edgeTargets
    self.edgeKinds = edgeKinds
    self.steps = steps
    self.collectives = collectives
    self.instances = instances
    self.p2p = p2p
    self.memory = memory
    self.opShapes = opShapes
  }
}
