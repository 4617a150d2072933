import CostModels
import TraceModel

/// How a what-if changes one iteration's shapes, as factors on the recorded ones.
public struct ShapeChange: Sendable, Equatable {
  /// Requests in the batch.
  public var batch = 1.0
  /// Query tokens per request (0: nothing new to compute).
  public var query = 1.0
  /// KV length per request.
  public var kv = 1.0
  /// Prefill attention in this many independent chunks (APE, CEPE): attention batch × C, query
  /// and KV length ÷ C; linear layers unchanged.
  public var chunks = 1
  /// K/V bytes per element.
  public var kvBytes = 1.0
  public init() {}
  public var isIdentity: Bool { self == ShapeChange() }
}

/// Re-times an iteration's work at new shapes with its measured efficiency carried over:
/// t' = t · R(c')/R(c), R(c) = max(FLOPs/peak, bytes/bandwidth) on the device (Williams et al.,
/// "Roofline", CACM 2009; the carried-efficiency rule of docs/models/transfer.md). Without a
/// device spec, the FLOP ratio for GEMMs and attention, the byte ratio for the rest.
public struct ServingRetimer: Sendable {
  /// The device the trace ran on, and the one to predict on.
  public var source: HardwareSpec?
  public var target: HardwareSpec?
  /// The model, for work without shapes (GPU kernels) and the bounds.
  public var model: ModelSpec?

  public init(source: HardwareSpec?, target: HardwareSpec?, model: ModelSpec?) {
    self.source = source
    self.target = target
    self.model = model
  }

  /// A cost: FLOPs, bytes, and the dtype whose compute ceiling applies.
  struct Cost {
    var flops: Double
    var bytes: Double
    var dtype: DType?
    var compute: Bool
  }

  /// Roofline seconds of `c` on `spec`: its dtype's ceiling, else bf16's, else fp32's (a CPU's);
  /// nil without any of them.
  static func seconds(_ c: Cost, _ spec: HardwareSpec) -> Double? {
    spec.rooflineTime(flops: c.flops, bytes: c.bytes, dtypes: [c.dtype ?? .bf16, .bf16, .fp32])?.seconds
  }

  /// R(new on target) / R(old on source).
  func ratio(_ old: Cost, _ new: Cost) -> Double {
    // No work left (a prefill of 0 new tokens): nothing runs, not even the weight reads.
    if new.flops == 0 && old.flops > 0 { return 0 }
    if let s = source ?? target, let t = target ?? source, let a = Self.seconds(old, s), let b = Self.seconds(new, t),
      a > 0
    {
      return b / a
    }
    let (x, y) = old.compute ? (old.flops, new.flops) : (old.bytes, new.bytes)
    return x > 0 ? y / x : (y > 0 ? 1 : 0)
  }

  /// Causal attention (docs/models/serving.md, "Attention cost"): queries are the last s of t
  /// positions, each attending to its prefix: A = s·(t − s) + s(s+1)/2 score entries per head
  /// (s·t for one query); QKᵀ and AV are 2·A·d FLOPs each. On the host (`blocked`), PyTorch's
  /// CPU flash attention computes whole key blocks: for each block of q_split queries starting
  /// at m, keys up to m + q_split rounded up to kv_split = 512, with q_split = 256 for s ≥ 768,
  /// 64 for s ≥ 192, else 32 (pytorch/pytorch aten/src/ATen/native/cpu/FlashAttentionKernel.cpp,
  /// `cpu_flash_attention`); queries after a KV prefix (s < t) come with an explicit mask,
  /// under which it skips no block: s·t.
  static func attentionCost(_ a: AttentionShape, blocked: Bool = false) -> Cost {
    let entries = blocked ? blockedEntries(a.query, max(a.kv, a.query)) : causalEntries(a.query, max(a.kv, a.query))
    let flops = 4 * Double(a.batch * a.heads * a.headDim) * entries
    let q = Double(a.batch * a.heads * a.query * a.headDim)
    let bytes = 2 * q * a.elementBytes + a.kvBytes
    return Cost(flops: flops, bytes: bytes, dtype: DType(elementBytes: a.elementBytes), compute: true)
  }

  /// Attention `n` encoded as `chunks` independent chunks (APE, CEPE): query and KV lengths split
  /// as evenly as whole tokens allow (the first `len mod C` chunks one token longer), each chunk
  /// attending to its own keys.
  static func chunkedCost(_ n: AttentionShape, chunks: Int, blocked: Bool = false) -> Cost {
    guard chunks > 1 else { return attentionCost(n, blocked: blocked) }
    let (q, qr) = (n.query / chunks, n.query % chunks)
    let (k, kr) = (n.kv / chunks, n.kv % chunks)
    var total = Cost(flops: 0, bytes: 0, dtype: DType(elementBytes: n.elementBytes), compute: true)
    // The longer chunks (qr of them, and kr of the keys) first, then the rest.
    let longer = max(qr, kr)
    for (count, query, kv) in [(longer, q + (qr > 0 ? 1 : 0), k + (kr > 0 ? 1 : 0)), (chunks - longer, q, k)]
    where count > 0 {
      var part = n
      (part.batch, part.query, part.kv) = (n.batch * count, query, kv)
      let c = attentionCost(part, blocked: blocked)
      total.flops += c.flops
      total.bytes += c.bytes
    }
    return total
  }

  static func causalEntries(_ query: Int, _ kv: Int) -> Double {
    let (s, t) = (Double(query), Double(kv))
    return query <= 1 ? s * t : s * (t - s) + s * (s + 1) / 2
  }

  static func blockedEntries(_ s: Int, _ t: Int) -> Double {
    guard s > 1, s >= t else { return Double(s * t) }
    let qSplit = min(s, s >= 768 ? 256 : s >= 192 ? 64 : 32)
    let kvSplit = min(512, t)
    var entries = 0
    var m = 0
    while m < s {
      let block = min(qSplit, s - m)
      let keys = m + block
      entries += block * min(t, (keys + kvSplit - 1) / kvSplit * kvSplit)
      m += qSplit
    }
    return Double(entries)
  }

  /// The new time of `item` under `change` in an iteration of batch b, query s, KV length t.
  public func retime(_ item: WorkItem, _ change: ShapeChange, batch b: Int, query s: Int, kv t: Int) -> Double {
    if change.isIdentity && (source == nil || target == nil || source == target) { return item.duration }
    if item.sized, let r = sizedRatio(item, change, batch: b, query: s, kv: t) { return item.duration * r }
    if let r = modelRatio(item.category, change, batch: b, query: s, kv: t) { return item.duration * r }
    // Unsized work scales with the tokens (and attention with the KV length too).
    var f = change.batch * change.query
    if item.category == .attention { f *= change.kv / Double(max(change.chunks, 1)) }
    return item.duration * f
  }

  func sizedRatio(_ item: WorkItem, _ change: ShapeChange, batch b: Int, query s: Int, kv t: Int) -> Double? {
    if item.category == .attention, let a = AttentionShape(op: item.op, dims: item.dims, types: item.types) {
      var n = a
      n.batch = Int((Double(a.batch) * change.batch).rounded())
      n.query = Int((Double(a.query) * change.query).rounded())
      n.kv = Int((Double(a.kv) * change.kv).rounded())
      n.kvElementBytes = a.kvElementBytes * change.kvBytes
      return ratio(
        Self.attentionCost(a, blocked: item.onHost), Self.chunkedCost(n, chunks: change.chunks, blocked: item.onHost))
    }
    let labels = Self.labels(item.dims, batch: b, query: s, kv: t)
    let new = zip(item.dims, labels).map { dims, ls in
      zip(dims, ls).map { d, l -> Int64 in
        let f: Double
        switch l {
        case .fixed: f = 1
        case .batch: f = change.batch
        case .query: f = change.query
        case .kv: f = change.kv
        case .tokens: f = change.batch * change.query
        }
        return Int64((Double(d) * f).rounded())
      }
    }
    if let old = OpCost.cost(name: item.op, dims: item.dims, types: item.types),
      let now = OpCost.cost(name: item.op, dims: new, types: item.types)
    {
      let compute = old.family == .gemm || old.family == .attention
      return ratio(
        Cost(flops: old.flops.rawValue, bytes: Double(old.bytes.rawValue), dtype: old.dtype, compute: compute),
        Cost(flops: now.flops.rawValue, bytes: Double(now.bytes.rawValue), dtype: now.dtype, compute: compute))
    }
    let a = item.dims.reduce(0.0) { $0 + $1.reduce(1.0) { $0 * Double($1) } * ($1.isEmpty ? 0 : 1) }
    let z = new.reduce(0.0) { $0 + $1.reduce(1.0) { $0 * Double($1) } * ($1.isEmpty ? 0 : 1) }
    guard a > 0 else { return nil }
    let e = OpCost.elementBytes(item.types.first ?? "")
    return ratio(
      Cost(flops: a, bytes: a * e, dtype: DType(name: item.types.first ?? ""), compute: false),
      Cost(flops: z, bytes: z * e, dtype: DType(name: item.types.first ?? ""), compute: false))
  }

  /// What a recorded dimension is.
  enum Label { case fixed, batch, query, kv, tokens }

  /// Labels each dimension of each input: batch at position 0 of tensors of rank ≥ 3 (or of
  /// any rank when it is not 1); a flattened [b·s, k] first dimension is tokens; later
  /// positions equal to s are the query (position 1 of [b, s, h] even when s = 1), equal to t
  /// the KV length. Weights ([out, in]) stay fixed.
  static func labels(_ dims: [[Int64]], batch b: Int, query s: Int, kv t: Int) -> [[Label]] {
    dims.map { d in
      var l = [Label](repeating: .fixed, count: d.count)
      guard d.count >= 2 else { return l }
      if d.count == 2 {
        if b * s > 1, d[0] == Int64(b * s) { l[0] = .tokens }
        return l
      }
      if d[0] == Int64(b) { l[0] = .batch }
      var query = false
      for i in 1..<d.count {
        if !query, d[i] == Int64(s), s > 1 || (i == 1 && d.count == 3) {
          l[i] = .query
          query = true
        } else if t > 1, d[i] == Int64(t), t != s {
          l[i] = .kv
        }
      }
      return l
    }
  }

  /// Model-level ratio for unsized GEMM and attention work (GPU kernels without op shapes):
  /// the iteration's linear layers are 2·N·M FLOPs reading the weights once plus M rows in and
  /// out (M = b·s tokens); its attention the causal entries of every layer reading b·t KV tokens.
  func modelRatio(_ category: WorkCategory, _ change: ShapeChange, batch b: Int, query s: Int, kv t: Int) -> Double? {
    guard let m = model, category != .other else { return nil }
    let e = 2.0
    func cost(_ b: Double, _ s: Double, _ t: Double, _ kvBytes: Double, _ chunks: Double) -> Cost {
      if category == .linear {
        let n = Double(Transformer.activeParameters(m))
        let rows = b * s
        let bytes = n * e + rows * Double(m.hidden + m.ffn) * e * Double(m.layers) * 2
        return Cost(flops: 2 * n * rows, bytes: bytes, dtype: .bf16, compute: true)
      }
      let shape = AttentionShape(
        batch: Int(b.rounded()), heads: m.heads * m.layers, query: Int(s.rounded()), kv: Int(t.rounded()),
        headDim: m.headDim, kvHeads: m.kvHeads * m.layers, elementBytes: e, kvElementBytes: kvBytes)
      return Self.chunkedCost(shape, chunks: Int(chunks))
    }
    let old = cost(Double(b), Double(s), Double(t), e, 1)
    let new = cost(
      Double(b) * change.batch, Double(s) * change.query, Double(t) * change.kv, e * change.kvBytes,
      Double(max(change.chunks, 1)))
    return ratio(old, new)
  }
}

extension AttentionShape {
  init(
    batch: Int, heads: Int, query: Int, kv: Int, headDim: Int, kvHeads: Int, elementBytes: Double,
    kvElementBytes: Double
  ) {
    self.batch = batch
    self.heads = heads
    self.query = query
    self.kv = kv
    self.headDim = headDim
    self.kvHeads = kvHeads
    self.elementBytes = elementBytes
    self.kvElementBytes = kvElementBytes
  }
}

extension DType {
  /// The floating type of that many bytes per element (4 → fp32, 2 → bf16, 1 → fp8).
  public init?(elementBytes b: Double) {
    switch b {
    case 4: self = .fp32
    case 2: self = .bf16
    case 1: self = .fp8
    default: return nil
    }
  }
}
