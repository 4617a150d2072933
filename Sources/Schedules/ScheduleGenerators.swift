import Foundation

/// Op orders per stage for each pipeline schedule (stage i is 0-based).
///
/// - `gpipe` (Huang et al., NeurIPS'19): all F, then all fused backward passes.
/// - `1f1b` (Narayanan et al., PipeDream-Flush / Megatron): p−1−i warm-up F, then F/BW alternation,
///   then the remaining BW.
/// - `interleaved-1f1b` (Narayanan et al., SC'21 §2.2.2): v model chunks per stage, Megatron's
///   warm-up (p−i−1)·2 + (v−1)·p, chunk of the k-th forward (k / p) mod v, of the k-th backward
///   v−1−(k / p) mod v.
/// - `zb-h1` and `zb-h2` (Qi et al., "Zero Bubble Pipeline Parallelism", ICLR'24, arXiv 2401.10241,
///   §2–3 and Table 2): B and W split; H1 keeps 1F1B's memory, H2 warms up with
///   min(2(p−i)−1, m) F and delays W to fill the bubbles.
/// - `zeropp` (Tang et al., "Adaptive Blockwise Task-interleaved Pipeline Parallelism", arXiv
///   2402.03791, abstract): scheduling units (blocks) of micro-batches in which F, B (input
///   gradient) and W (weight gradient) are staggered, a blockwise order that lets FSDP gather a
///   chunk's weights once per unit. The paper's body (figures, unit-size rule, bubble table)
///   was not available to us, so the order is *derived*: interleaved placement with v chunks,
///   units of p micro-batches per chunk (Megatron's group, the smallest that keeps the loop fed),
///   Megatron's warm-up (p−i−1)·2 + (v−1)·p, then (F, B, W) with W held back on stage i until
///   more than 2i are pending (ZB-H2's W rule), (B, W) pairs, remaining W. The peak in-flight
///   micro-batches are interleaved 1F1B's; stage i adds 2i·M_W/v of held-back W memory.
public enum ScheduleGenerators {
  public static let names = [
    "gpipe", "1f1b", "interleaved-1f1b", "zb-h1", "zb-h2", "zb-v", "hanayo", "bitpipe", "zeropp",
  ]

  /// Model chunks per stage v of `interleaved-1f1b` and `hanayo` when none are asked for.
  public static let defaultChunks = 2

  /// Whether schedule `name` takes its chunk count from the request (`--chunks`).
  public static func takesChunks(_ name: String) -> Bool {
    name == "interleaved-1f1b" || name == "hanayo" || name == "zeropp"
  }

  /// Chunks schedule `name` runs with: 2 for `zb-v` and `bitpipe` (their shape), 1 for the
  /// unchunked schedules, and for `interleaved-1f1b` and `hanayo` the requested count, else
  /// `defaultChunks`. The same default everywhere: `schedule`, `schedule compare`, `whatif
  /// --schedule`.
  /// - Throws: `ScheduleError.invalid` for fewer than one chunk, and for `interleaved-1f1b` with
  ///   one chunk, which is plain 1F1B (Narayanan et al. SC'21 interleave v ≥ 2 chunks).
  public static func chunks(_ name: String, requested v: Int?) throws -> Int {
    switch name {
    case "zb-v", "bitpipe": return 2
    case "gpipe", "1f1b", "zb-h1", "zb-h2": return 1
    default:
      let chunks = v ?? defaultChunks
      if chunks < 1 { throw ScheduleError.invalid("--chunks must be ≥ 1; got \(chunks)") }
      if name == "interleaved-1f1b" && chunks < 2 {
        throw ScheduleError.invalid(
          "interleaved-1f1b needs --chunks ≥ 2 (model chunks per stage); with 1 chunk it is plain 1f1b")
      }
      if name == "zeropp" && chunks < 2 {
        throw ScheduleError.invalid(
          "zeropp needs --chunks ≥ 2 (model chunks per stage, interleaved in blocks); with 1 chunk use zb-h1")
      }
      return chunks
    }
  }

  public static func placement(_ name: String) -> Placement {
    switch name {
    case "zb-v", "hanayo": return .wave
    case "bitpipe": return .bidirectional
    default: return .interleaved
    }
  }

  public static func orders(_ name: String, stages p: Int, microbatches m: Int, chunks v: Int) throws -> [[PipelineOp]]
  {
    // The greedy list scheduler's orders are costly and depend on the counts only: memoized.
    guard ["zb-v", "hanayo", "bitpipe"].contains(name) else {
      return try generate(name, stages: p, microbatches: m, chunks: v)
    }
    let key = OrdersCache.Key(name: name, stages: p, microbatches: m, chunks: v)
    if let cached = OrdersCache.shared.get(key) { return cached }
    let orders = try generate(name, stages: p, microbatches: m, chunks: v)
    OrdersCache.shared.put(key, orders)
    return orders
  }

  static func generate(_ name: String, stages p: Int, microbatches m: Int, chunks v: Int) throws -> [[PipelineOp]] {
    guard p >= 1, m >= 1, v >= 1 else { throw ScheduleError.invalid("stages, microbatches and chunks must be ≥ 1") }
    switch name {
    case "gpipe": return (0..<p).map { i in (0..<m).map { op(.F, i, $0) } + (0..<m).map { op(.BW, i, $0) } }
    case "1f1b": return (0..<p).map { oneF1B(stage: $0, p: p, m: m) }
    case "interleaved-1f1b":
      guard m % p == 0 else {
        throw ScheduleError.invalid(
          "interleaved-1f1b needs microbatches divisible by stages (Megatron's rule); got m=\(m), p=\(p)")
      }
      return (0..<p).map { interleaved(stage: $0, p: p, m: m, v: v) }
    case "zb-h1": return (0..<p).map { zbH1(stage: $0, p: p, m: m) }
    case "zb-h2": return (0..<p).map { zbH2(stage: $0, p: p, m: m) }
    case "zeropp":
      guard m % p == 0 else {
        throw ScheduleError.invalid(
          "zeropp needs microbatches divisible by stages (units of p micro-batches); got m=\(m), p=\(p)")
      }
      return (0..<p).map { zeroPP(stage: $0, p: p, m: m, v: v) }
    case "zb-v":
      // V-shape, B/W split; at most p micro-batches in flight (p·M_B per stage, ZB §6).
      return try Greedy.orders(stages: p, microbatches: m, chunks: 2, placement: .wave, splitBackward: true, admit: p) {
        _ in Int.max
      }
    case "hanayo":
      // v chunks in waves. One wave keeps 1F1B's p − i activations per stage (and then is exactly
      // 1F1B); more waves admit at most p micro-batches into the pipeline at a time.
      if v == 1 {
        return try Greedy.orders(stages: p, microbatches: m, chunks: 1, placement: .wave, splitBackward: false) { i in
          p - i
        }
      }
      return try Greedy.orders(
        stages: p, microbatches: m, chunks: v, placement: .wave, splitBackward: false, admit: v * p
      ) { _ in Int.max }
    case "bitpipe":
      // The two V-shaped pipelines meet in the middle; like Chimera, it needs an even stage count.
      guard p % 2 == 0 else { throw ScheduleError.invalid("bitpipe needs an even number of stages; got \(p)") }
      // Two V-shaped pipelines in opposite directions; fused backward; 2p chunk activations.
      return try Greedy.orders(
        stages: p, microbatches: m, chunks: 2, placement: .bidirectional, splitBackward: false, admit: 2 * p
      ) { _ in Int.max }
    default: throw ScheduleError.unknown(name, known: names)
    }
  }

  static func op(_ k: PipelineOp.Kind, _ stage: Int, _ mb: Int, chunk: Int = 0) -> PipelineOp {
    PipelineOp(kind: k, stage: stage, chunk: chunk, microbatch: mb)
  }

  static func oneF1B(stage i: Int, p: Int, m: Int) -> [PipelineOp] {
    var ops: [PipelineOp] = []
    let warm = min(p - 1 - i, m)
    var f = 0
    var b = 0
    for _ in 0..<warm {
      ops.append(op(.F, i, f))
      f += 1
    }
    while f < m {
      ops.append(op(.F, i, f))
      f += 1
      ops.append(op(.BW, i, b))
      b += 1
    }
    while b < m {
      ops.append(op(.BW, i, b))
      b += 1
    }
    return ops
  }

  static func interleaved(stage i: Int, p: Int, m: Int, v: Int) -> [PipelineOp] {
    let total = m * v
    let warm = min((p - i - 1) * 2 + (v - 1) * p, total)
    func forwardOp(_ k: Int) -> PipelineOp {
      let chunk = (k / p) % v
      let mb = (k / (p * v)) * p + k % p
      return op(.F, i, mb, chunk: chunk)
    }
    func backwardOp(_ k: Int) -> PipelineOp {
      let chunk = v - 1 - (k / p) % v
      let mb = (k / (p * v)) * p + k % p
      return op(.BW, i, mb, chunk: chunk)
    }
    var ops: [PipelineOp] = []
    var f = 0
    var b = 0
    for _ in 0..<warm {
      ops.append(forwardOp(f))
      f += 1
    }
    while f < total {
      ops.append(forwardOp(f))
      f += 1
      ops.append(backwardOp(b))
      b += 1
    }
    while b < total {
      ops.append(backwardOp(b))
      b += 1
    }
    return ops
  }

  static func zbH1(stage i: Int, p: Int, m: Int) -> [PipelineOp] {
    var ops: [PipelineOp] = []
    var f = 0
    var b = 0
    var w = 0
    for _ in 0..<min(p - 1 - i, m) {
      ops.append(op(.F, i, f))
      f += 1
    }
    for _ in 0..<i where f < m {
      ops.append(op(.F, i, f))
      f += 1
      ops.append(op(.B, i, b))
      b += 1
    }
    while f < m {
      ops.append(op(.F, i, f))
      f += 1
      ops.append(op(.B, i, b))
      b += 1
      ops.append(op(.W, i, w))
      w += 1
    }
    while b < m {
      ops.append(op(.B, i, b))
      b += 1
      ops.append(op(.W, i, w))
      w += 1
    }
    while w < m {
      ops.append(op(.W, i, w))
      w += 1
    }
    return ops
  }

  static func zbH2(stage i: Int, p: Int, m: Int) -> [PipelineOp] {
    var ops: [PipelineOp] = []
    var f = 0
    var b = 0
    var w = 0
    for _ in 0..<min(2 * (p - i) - 1, m) {
      ops.append(op(.F, i, f))
      f += 1
    }
    while f < m {
      ops.append(op(.B, i, b))
      b += 1
      if b - w > 2 * i {
        ops.append(op(.W, i, w))
        w += 1
      }
      ops.append(op(.F, i, f))
      f += 1
    }
    while b < m {
      ops.append(op(.B, i, b))
      b += 1
      if b - w > 2 * i {
        ops.append(op(.W, i, w))
        w += 1
      }
    }
    while w < m {
      ops.append(op(.W, i, w))
      w += 1
    }
    return ops
  }

  /// ZeroPP's order on stage i (see the type's comment): Megatron's blockwise interleaved F and
  /// B sequence (units of p micro-batches per chunk, warm-up (p−i−1)·2 + (v−1)·p), with the
  /// backward split into B and W and, in the steady state, up to 2i W held back to fill bubbles.
  static func zeroPP(stage i: Int, p: Int, m: Int, v: Int) -> [PipelineOp] {
    let total = m * v
    let warm = min((p - i - 1) * 2 + (v - 1) * p, total)
    /// The k-th F, B or W on this stage: unit k / (p·v), chunk (k / p) mod v (backward: reversed),
    /// micro-batch k mod p of the unit.
    func unitOp(_ kind: PipelineOp.Kind, _ k: Int) -> PipelineOp {
      let c = (k / p) % v
      let mb = (k / (p * v)) * p + k % p
      return op(kind, i, mb, chunk: kind == .F ? c : v - 1 - c)
    }
    var ops: [PipelineOp] = []
    var (f, b, w) = (0, 0, 0)
    for _ in 0..<warm {
      ops.append(unitOp(.F, f))
      f += 1
    }
    // Steady state: F, B, and a W once more than 2i are pending.
    while f < total {
      ops.append(unitOp(.F, f))
      f += 1
      ops.append(unitOp(.B, b))
      b += 1
      if b - w > 2 * i {
        ops.append(unitOp(.W, w))
        w += 1
      }
    }
    // Cool-down: (B, W) pairs, then the W still pending.
    while b < total {
      ops.append(unitOp(.B, b))
      b += 1
      ops.append(unitOp(.W, w))
      w += 1
    }
    while w < total {
      ops.append(unitOp(.W, w))
      w += 1
    }
    return ops
  }
}

/// Memoized greedy orders (at most `limit` entries; later ones are computed each time).
final class OrdersCache: @unchecked Sendable {
  struct Key: Hashable {
    var name: String
    var stages: Int
    var microbatches: Int
    var chunks: Int
  }
  static let shared = OrdersCache()
  static let limit = 256
  private var store: [Key: [[PipelineOp]]] = [:]
  private let lock = NSLock()

  func get(_ key: Key) -> [[PipelineOp]]? {
    lock.lock()
    defer { lock.unlock() }
    return store[key]
  }

  func put(_ key: Key, _ orders: [[PipelineOp]]) {
    lock.lock()
    defer { lock.unlock() }
    if store.count < Self.limit { store[key] = orders }
  }
}
