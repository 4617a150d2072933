/// What an event is. Raw values are stable: they appear in JSON (`byKind`) and on the CLI.
public enum EventKind: UInt8, CaseIterable, Sendable, Codable, CustomStringConvertible {
  /// Host-side work: framework ops, runtime API calls, Python functions.
  case hostOp
  /// A device kernel; `detail` holds its `ComputeClass`.
  case kernel
  /// A device memory copy; `detail` holds its `MemcpyDirection`.
  case memcpy
  /// A device memory set.
  case memset
  /// One rank's part of a collective; `detail` holds its `CollectiveKind`.
  case collective
  /// A point-to-point send.
  case send
  /// A point-to-point receive.
  case recv
  /// A user or profiler range (step markers, `record_function` ranges, instant markers).
  case annotation
  /// A host wait on device work (`cudaDeviceSynchronize`, `cudaStreamWaitEvent`, …).
  case sync
  /// A memory allocator instant event (`[memory]`).
  case memory
  /// Anything the importer could not place into the kinds above (counted, never dropped).
  case other

  /// The stable name used in JSON and on the command line.
  public var name: String {
    switch self {
    case .hostOp: "hostOp"
    case .kernel: "kernel"
    case .memcpy: "memcpy"
    case .memset: "memset"
    case .collective: "collective"
    case .send: "send"
    case .recv: "recv"
    case .annotation: "annotation"
    case .sync: "sync"
    case .memory: "memory"
    case .other: "other"
    }
  }
  public var description: String { name }
  /// Whether events of this kind run on a device stream.
  public var isDeviceWork: Bool {
    switch self {
    case .kernel, .memcpy, .memset: true
    default: false
    }
  }
}

/// The compute class of a kernel, decided by the kernel classifier.
public enum ComputeClass: UInt8, CaseIterable, Sendable, Codable {
  case gemm, attention, elementwise, reduction, other
  public var name: String {
    switch self {
    case .gemm: "gemm"
    case .attention: "attention"
    case .elementwise: "elementwise"
    case .reduction: "reduction"
    case .other: "other"
    }
  }
}

/// Direction of a memory copy.
public enum MemcpyDirection: UInt8, CaseIterable, Sendable, Codable {
  case hostToDevice, deviceToHost, deviceToDevice, peerToPeer, hostToHost, unknown
  public var name: String {
    switch self {
    case .hostToDevice: "HtoD"
    case .deviceToHost: "DtoH"
    case .deviceToDevice: "DtoD"
    case .peerToPeer: "PtoP"
    case .hostToHost: "HtoH"
    case .unknown: "unknown"
    }
  }
}

/// The operation of a collective.
public enum CollectiveKind: UInt8, CaseIterable, Sendable, Codable, CustomStringConvertible {
  case allReduce, allGather, reduceScatter, allToAll, broadcast, reduce, barrier, gather, scatter
  /// A collective whose operation the trace does not say (e.g. RCCL `ncclDevKernel_Generic`
  /// with no host context). Still matched across ranks by order.
  case unknown
  public var name: String {
    switch self {
    case .allReduce: "allReduce"
    case .allGather: "allGather"
    case .reduceScatter: "reduceScatter"
    case .allToAll: "allToAll"
    case .broadcast: "broadcast"
    case .reduce: "reduce"
    case .barrier: "barrier"
    case .gather: "gather"
    case .scatter: "scatter"
    case .unknown: "unknown"
    }
  }
  public var description: String { name }
}

/// The meaning of a dependency edge.
public enum EdgeKind: UInt8, CaseIterable, Sendable, Codable {
  /// Same lane, earlier event first.
  case programOrder
  /// Host runtime call → the device work it launched (correlation id).
  case launch
  /// Device work → the host call that waited for it, or cross-stream event waits.
  case sync
  /// Member of a collective instance → the instance's first member (membership, not precedence).
  case collective
  /// Send → matching receive.
  case p2p
  /// Producer → consumer of a tensor (from execution traces).
  case data
  public var name: String {
    switch self {
    case .programOrder: "programOrder"
    case .launch: "launch"
    case .sync: "sync"
    case .collective: "collective"
    case .p2p: "p2p"
    case .data: "data"
    }
  }
  /// Whether the edge orders execution (the replay must respect it).
  public var isPrecedence: Bool { self != .collective }
}

/// What a lane models.
public enum LaneKind: UInt8, Sendable, Codable {
  case hostThread, deviceStream
  public var name: String { self == .hostThread ? "hostThread" : "deviceStream" }
}

extension CollectiveKind {
  /// The kind of MLCommons Chakra's `CollectiveCommType` number (`et_def.proto`: ALL_REDUCE 0,
  /// REDUCE 1, ALL_GATHER 2, GATHER 3, SCATTER 4, BROADCAST 5, ALL_TO_ALL 6, REDUCE_SCATTER 7,
  /// REDUCE_SCATTER_BLOCK 8, BARRIER 9); `unknown` for any other number.
  public init(chakraCommType v: Int64) {
    switch v {
    case 0: self = .allReduce
    case 1: self = .reduce
    case 2: self = .allGather
    case 3: self = .gather
    case 4: self = .scatter
    case 5: self = .broadcast
    case 6: self = .allToAll
    case 7, 8: self = .reduceScatter
    case 9: self = .barrier
    default: self = .unknown
    }
  }

  /// The `CollectiveCommType` number Reprise writes for this kind: the lowest that reads back as
  /// it, and 0 (ALL_REDUCE, Chakra's default) for `unknown`.
  public var chakraCommType: Int64 {
    switch self {
    case .allReduce, .unknown: 0
    case .reduce: 1
    case .allGather: 2
    case .gather: 3
    case .scatter: 4
    case .broadcast: 5
    case .allToAll: 6
    case .reduceScatter: 7
    case .barrier: 9
    }
  }
}
