import Foundation
import TraceModel

/// Alpha-beta costs of collectives, and nccl-tests bandwidth conventions.
///
/// Costs (Thakur, Rabenseifner & Gropp, "Optimization of Collective Communication Operations in
/// MPICH", IJHPCA 19(1), 2005; Hockney's α-β model) for n bytes on p ranks, latency α and
/// per-byte time β = 1/B: ring all-gather and reduce-scatter (p−1)α + ((p−1)/p)nβ; ring
/// all-reduce 2(p−1)α + 2((p−1)/p)nβ; tree (binary, pipelined) all-reduce 2⌈log₂p⌉α + 2nβ;
/// binomial broadcast ⌈log₂p⌉(α + nβ); pairwise all-to-all (p−1)α + ((p−1)/p)nβ;
/// point-to-point α + nβ. Reduction compute (γ) is neglected (GPUs reduce far faster than links).
/// The β terms equal nccl-tests' bus-bandwidth factors (`BusFactor`), so a model with α = 0
/// calibrated on busbw reproduces nccl-tests timings.
public enum CollectiveModel {
  public enum Algorithm: String, Sendable, CaseIterable { case ring, tree }

  public static func time(
    _ kind: CollectiveKind?, bytes: Bytes, ranks p: Int, bandwidth: BytesPerSecond,
    latency alpha: Nanoseconds = .zero, algorithm: Algorithm = .ring
  ) -> Nanoseconds {
    time(kind, size: Double(bytes.rawValue), ranks: p, bandwidth: bandwidth, latency: alpha, algorithm: algorithm)
  }

  /// `time` of a real size: a hierarchical all-reduce's 1/g shard need not be whole bytes.
  static func time(
    _ kind: CollectiveKind?, size n: Double, ranks p: Int, bandwidth: BytesPerSecond, latency alpha: Nanoseconds,
    algorithm: Algorithm
  ) -> Nanoseconds {
    let rankCount = Double(max(p, 1))
    let beta = 1 / bandwidth.rawValue
    let a = Double(alpha.rawValue) / 1e9
    let lg = ceil(log2(rankCount))
    var t: Double
    switch kind {
    case .allReduce?:
      t =
        algorithm == .tree
        ? 2 * lg * a + 2 * n * beta : 2 * (rankCount - 1) * a + 2 * (rankCount - 1) / rankCount * n * beta
    case .allGather?, .reduceScatter?, .allToAll?, .gather?, .scatter?:
      t = (rankCount - 1) * a + (rankCount - 1) / rankCount * n * beta
    case .broadcast?, .reduce?:
      t = algorithm == .tree ? lg * (a + n * beta) : (rankCount - 1) * a + n * beta
    case .barrier?:
      t = 2 * lg * a
    default:
      t = a + n * beta
    }
    if p <= 1 { t = 0 }
    return Nanoseconds(seconds: t)
  }

  /// Two-level (hierarchical) all-reduce: reduce-scatter inside each node over NVLink, all-reduce
  /// of the 1/g shard across nodes over the NICs (the slowest NIC bounds the inter-node ring, as
  /// in Holmes, arXiv 2312.03549), all-gather inside the node.
  public static func hierarchicalAllReduce(
    bytes n: Bytes, gpusPerNode g: Int, nodes: Int, intra: BytesPerSecond,
    inter: BytesPerSecond, latency: Nanoseconds = .zero
  ) -> Nanoseconds {
    let rs = time(.reduceScatter, bytes: n, ranks: g, bandwidth: intra, latency: latency)
    let shard = Double(n.rawValue) / Double(max(g, 1))
    let ar = time(.allReduce, size: shard, ranks: nodes, bandwidth: inter, latency: latency, algorithm: .ring)
    let ag = time(.allGather, bytes: n, ranks: g, bandwidth: intra, latency: latency)
    return rs + ar + ag
  }

  /// nccl-tests algorithm bandwidth: S / t (S as nccl-tests counts it), in GB/s (1e9); 0 for no time.
  public static func algbwGBps(bytes: Bytes, time: Nanoseconds) -> Double { (bytes / time).rawValue / 1e9 }

  /// nccl-tests bus bandwidth: algbw × factor (`BusFactor`).
  public static func busbwGBps(_ kind: CollectiveKind?, bytes: Bytes, time: Nanoseconds, ranks: Int) -> Double {
    algbwGBps(bytes: bytes, time: time) * BusFactor.factor(kind, ranks: ranks)
  }

  /// Context-parallel ring attention, one step: compute on the current KV block overlaps passing
  /// the next block around the ring, so a step takes max(compute, transfer) (Liu et al., Ring
  /// Attention, arXiv 2310.01889). A bidirectional ring (TokenRing, arXiv 2412.20501) sends half
  /// the block each way, halving the transfer time per step.
  public static func ringAttentionStep(
    compute: Nanoseconds, blockBytes: Bytes, link: BytesPerSecond,
    latency: Nanoseconds = .zero, bidirectional: Bool = false
  ) -> Nanoseconds {
    let block = Double(blockBytes.rawValue)
    let transfer = Nanoseconds(seconds: (bidirectional ? block / 2 : block) / link.rawValue) + latency
    return max(compute, transfer)
  }

  /// MoE expert parallelism: dispatch and combine are two all-to-alls of the routed tokens'
  /// activations (tokens × topK × hidden × bytes) over the expert-parallel group.
  public static func moeAllToAll(
    tokens: Int, topK: Int, hidden: Int, dtype: DType, ranks: Int,
    bandwidth: BytesPerSecond, latency: Nanoseconds = .zero
  ) -> Nanoseconds {
    let bytes = Bytes(rounding: Double(tokens) * Double(topK) * Double(hidden) * dtype.bytes)
    let one = time(.allToAll, bytes: bytes, ranks: ranks, bandwidth: bandwidth, latency: latency)
    return one + one
  }
}
