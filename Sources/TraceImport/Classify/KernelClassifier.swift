import TraceModel

/// Decides the compute class of a device kernel from its name, table-driven.
///
/// Rules are checked in order; the first whose pattern occurs in the lowercased name wins.
/// Names that match nothing are `other`, and the importer reports them (folded, with
/// examples) so that the table can grow instead of guesses spreading through the code.
public enum KernelClassifier {
  /// (substring of the lowercased kernel name, class). Order matters: attention before GEMM
  /// (flash-attention kernels contain "gemm" in template names), reductions before elementwise.
  public static let rules: [(String, ComputeClass)] = [
    ("flash", .attention), ("fmha", .attention), ("attention", .attention), ("attn", .attention),
    ("sdpa", .attention), ("mha_", .attention), ("paged_", .attention), ("decode_kernel", .attention),
    ("gemm", .gemm), ("cutlass", .gemm), ("cublas", .gemm), ("matmul", .gemm), ("cijk_", .gemm),
    ("nvjet", .gemm), ("xmma", .gemm), ("wgmma", .gemm), ("hmma", .gemm), ("mfma", .gemm),
    ("gemv", .gemm), ("_mm_", .gemm), ("bmm", .gemm), ("dot_", .gemm), ("convert", .elementwise),
    ("conv", .gemm),
    ("cudnn", .gemm), ("miopen", .gemm), ("implicit_", .gemm), ("wgrad", .gemm), ("dgrad", .gemm),
    ("volta_", .gemm), ("turing_", .gemm), ("ampere_", .gemm), ("sm80_", .gemm), ("sm90_", .gemm),
    ("sm100_", .gemm), ("tensorop", .gemm), ("winograd", .gemm), ("ck::", .gemm), ("triton_tem", .gemm),
    ("softmax", .reduction), ("norm", .reduction), ("reduce", .reduction), ("reduction", .reduction),
    ("argmax", .reduction), ("argmin", .reduction), ("topk", .reduction), ("sort", .reduction),
    ("scan", .reduction), ("cub::", .reduction), ("triton_red", .reduction), ("triton_per", .reduction),
    ("_sum", .reduction), ("sum_", .reduction), ("mean", .reduction), ("welford", .reduction),
    ("histogram", .reduction), ("cross_entropy", .reduction), ("nll_loss", .reduction),
    ("embedding_bag", .reduction), ("segment_", .reduction), ("max_pool", .reduction),
    ("avg_pool", .reduction), ("adaptive", .reduction), ("pooling", .reduction),
    ("elementwise", .elementwise), ("vectorized", .elementwise), ("triton_poi", .elementwise),
    ("copy", .elementwise), ("fill", .elementwise), ("memset", .elementwise), ("index", .elementwise),
    ("gather", .elementwise), ("scatter", .elementwise), ("cat_", .elementwise), ("catarray", .elementwise),
    ("transpose", .elementwise), ("permute", .elementwise), ("relu", .elementwise), ("gelu", .elementwise),
    ("silu", .elementwise), ("sigmoid", .elementwise), ("tanh", .elementwise), ("dropout", .elementwise),
    ("add", .elementwise), ("mul", .elementwise), ("div", .elementwise), ("where", .elementwise),
    ("embedding", .elementwise), ("rotary", .elementwise), ("rope", .elementwise), ("cast", .elementwise),
    ("convert", .elementwise), ("clamp", .elementwise), ("pow", .elementwise), ("exp", .elementwise),
    ("unroll", .elementwise), ("kernel_pointwise", .elementwise), ("optimizer", .elementwise),
    ("adam", .elementwise), ("sgd", .elementwise), ("adagrad", .elementwise), ("multi_tensor", .elementwise),
    ("foreach", .elementwise), ("random", .elementwise), ("philox", .elementwise), ("bernoulli", .elementwise),
    ("upsample", .elementwise), ("pad", .elementwise), ("threshold", .elementwise), ("act_", .elementwise),
  ]

  /// The class for a kernel name, and whether a rule matched.
  public static func classify(_ name: String) -> (ComputeClass, matched: Bool) {
    if let cls = SubstringRules.first(in: name.lowercased(), rules) { return (cls, true) }
    return (.other, false)
  }
}

/// The first rule whose (ASCII) pattern occurs in a lowercased name, searched on its UTF-8
/// bytes (the importers' format sniffing uses the same byte search). Kernel names run to a thousand characters of C++ template text and a table has a
/// hundred rules; a byte search is ~50× cheaper than `String.contains` through Foundation,
/// which bridged every name to UTF-16 per rule and was half of a DLRM ingest.
enum SubstringRules {
  static func first<T>(in lower: String, _ rules: [(String, T)]) -> T? {
    var lower = lower
    return lower.withUTF8 { hay in
      for (pattern, value) in rules where occurs(pattern, in: hay) { return value }
      return nil
    }
  }

  static func occurs(_ pattern: String, in hay: UnsafeBufferPointer<UInt8>) -> Bool {
    var pattern = pattern
    return pattern.withUTF8 { needle in
      guard let n = needle.first, needle.count <= hay.count else { return needle.isEmpty }
      let last = hay.count - needle.count
      var i = 0
      while i <= last {
        if hay[i] == n {
          var j = 1
          while j < needle.count && hay[i + j] == needle[j] { j += 1 }
          if j == needle.count { return true }
        }
        i += 1
      }
      return false
    }
  }
}

/// Decides the direction of a memory copy from its name (`Memcpy HtoD (Pageable -> Device)`,
/// `Memcpy DtoD (Device -> Device)`, HIP `hipMemcpyWithStream`, MTIA `HOST_TO_DEVICE`).
public enum MemcpyClassifier {
  static let rules: [(String, MemcpyDirection)] = [
    ("htod", .hostToDevice), ("host_to_device", .hostToDevice), ("hosttodevice", .hostToDevice),
    ("dtoh", .deviceToHost), ("device_to_host", .deviceToHost), ("devicetohost", .deviceToHost),
    ("dtod", .deviceToDevice), ("device_to_device", .deviceToDevice), ("devicetodevice", .deviceToDevice),
    ("ptop", .peerToPeer), ("peer", .peerToPeer), ("htoh", .hostToHost), ("host_to_host", .hostToHost),
  ]
  public static func direction(_ name: String) -> MemcpyDirection {
    SubstringRules.first(in: name.lowercased(), rules) ?? .unknown
  }
}

/// Host runtime calls that wait for device work (CUDA and their HIP twins).
public enum SyncClassifier {
  public static let names: Set<String> = [
    "cudaDeviceSynchronize", "cudaStreamSynchronize", "cudaEventSynchronize", "cudaStreamWaitEvent",
    "hipDeviceSynchronize", "hipStreamSynchronize", "hipEventSynchronize", "hipStreamWaitEvent",
    "cuStreamSynchronize", "cuCtxSynchronize", "cuEventSynchronize", "cuStreamWaitEvent",
  ]
  public static func isSync(_ name: String) -> Bool { names.contains(name) }
}

/// Whole bytes per element of a dtype as it appears in `dtype` args (`Float`, `BFloat16`) or
/// `Input type` lists (`float`, `c10::BFloat16`, `long int`): `DType`'s vocabulary, nil for an
/// unknown name or a sub-byte type (a message size is counted in whole elements).
public enum DTypeSize {
  public static func bytes(_ dtype: String) -> Int? {
    DType(name: dtype).flatMap { $0.bytes >= 1 ? Int($0.bytes) : nil }
  }
}
