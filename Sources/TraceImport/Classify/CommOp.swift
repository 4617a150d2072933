import TraceModel

/// What a communication-related name or argument says about the operation.
public enum CommOp: Hashable, Sendable {
  case collective(CollectiveKind)
  case send
  case recv
  /// NCCL `SendRecv` kernels: point-to-point, or the building block of all-to-all; the host
  /// context decides.
  case sendRecv
  /// RCCL `ncclDevKernel_Generic` and the like: a collective whose operation only the host
  /// context or args tell.
  case generic
}

/// Classifies communication names of every NCCL/RCCL/gloo/c10d era, table-driven.
///
/// Three sources, in the order the importer trusts them: the `Collective name` argument,
/// host op/annotation names (`nccl:all_reduce`, `gloo:send`, `c10d::alltoall_base_`,
/// `record_param_comms` is only a carrier), and device kernel names
/// (`ncclKernel_AllReduce_RING_LL_Sum_float`, `ncclDevKernel_AllReduce_Sum_f16_RING_LL`,
/// `ncclDevKernel_SendRecv(...)`, `ncclDevKernel_Generic`).
public enum CommClassifier {
  /// Operation words after normalization (lowercased, `_` and `base` removed, `coalesced`
  /// and `intotensor` suffixes dropped), mapped to the operation.
  static let operationTable: [(String, CommOp)] = [
    ("allreduce", .collective(.allReduce)),
    ("allgather", .collective(.allGather)),
    ("reducescatter", .collective(.reduceScatter)),
    ("alltoallv", .collective(.allToAll)),
    ("alltoall", .collective(.allToAll)),
    ("broadcast", .collective(.broadcast)),
    ("reduce", .collective(.reduce)),
    ("barrier", .collective(.barrier)),
    ("gather", .collective(.gather)),
    ("scatter", .collective(.scatter)),
    ("sendrecv", .sendRecv),
    ("send", .send),
    ("recv", .recv),
    ("generic", .generic),
  ]

  /// Normalizes an operation word: `_allgather_base` → `allgather`, `AllToAll` → `alltoall`,
  /// `all_gather_into_tensor_coalesced` → `allgather`.
  static func normalize(_ word: Substring) -> String {
    var w = String(word.lowercased().filter { $0 != "_" })
    for suffix in ["coalesced", "intotensor", "base"] where w.hasSuffix(suffix) && w.count > suffix.count {
      w.removeLast(suffix.count)
    }
    for suffix in ["intotensor", "tensor", "base"] where w.hasSuffix(suffix) && w.count > suffix.count {
      w.removeLast(suffix.count)
    }
    return w
  }

  /// Classifies an operation word such as a `Collective name` argument value.
  public static func operation(_ word: String) -> CommOp? {
    let w = normalize(Substring(word))
    return operationTable.first { $0.0 == w }?.1
  }

  /// Host-side names: `nccl:<op>`, `gloo:<op>`, `c10d::<op>_`, `mtia:<op>`, `hccl:<op>`.
  /// Returns the backend prefix and the operation.
  public static func hostName(_ name: String) -> (backend: String, op: CommOp)? {
    for prefix in ["nccl:", "gloo:", "rccl:", "ucc:", "mpi:", "hccl:", "mtia:", "xccl:"] where name.hasPrefix(prefix) {
      guard let op = operation(String(name.dropFirst(prefix.count))) else { return nil }
      return (String(prefix.dropLast()), op)
    }
    if name.hasPrefix("c10d::") {
      var word = name.dropFirst(6)
      if word.hasSuffix("_") { word = word.dropLast() }
      guard let op = operation(String(word)) else { return nil }
      return ("c10d", op)
    }
    return nil
  }

  /// Device kernel names of NCCL/RCCL: `ncclKernel_<Op>_…`, `ncclDevKernel_<Op>_…`,
  /// `ncclDevKernel_<Op>(…)`, `ncclDevKernelDebug_…`. Nil when the name is not a NCCL kernel.
  /// A name that looks like NCCL but has an unknown operation returns `.generic`.
  public static func kernelName(_ name: String) -> CommOp? {
    guard name.hasPrefix("nccl") || name.hasPrefix("rccl") else { return nil }
    guard let underscore = name.firstIndex(of: "_") else { return nil }
    let head = name[..<underscore]
    guard
      head.hasPrefix("ncclKernel") || head.hasPrefix("ncclDevKernel") || head.hasPrefix("rcclKernel")
        || head.hasPrefix("ncclDevFunc")
    else { return nil }
    let rest = name[name.index(after: underscore)...]
    let word = rest.prefix { $0.isLetter || $0.isNumber }
    return operation(String(word)) ?? .generic
  }
}
