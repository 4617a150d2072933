import TraceModel

/// Parameter counts, FLOPs and memory of transformer models.
///
/// Sources: Narayanan et al., "Efficient Large-Scale Language Model Training on GPU Clusters
/// Using Megatron-LM", SC'21 (arXiv 2104.04473) §5.1; Korthikanti et al., "Reducing Activation
/// Recomputation in Large Transformer Models" (arXiv 2205.05198) Table 2 and Appendix A;
/// Rajbhandari et al., "ZeRO" (arXiv 1910.02054) Fig. 1; Megatron-LM distributed optimizer
/// (`docs/source/distrib_optimizer.md`); DeepSeek-V2 (arXiv 2405.04434) §2.1 for MLA.
public enum Transformer {
  // MARK: Parameters

  /// Exact parameter count of an architecture, by module.
  ///
  /// Embedding `V·h` (+ learned positions), per layer attention (`q, k, v, o` projections with
  /// grouped KV heads; MLA's low-rank projections when present), FFN (3 matrices gated, 2
  /// plain; MoE: router + routed and shared experts), norms (RMSNorm `h`, LayerNorm `2h`),
  /// biases when the model has them, final norm, and an untied LM head `V·h`.
  public static func parameters(_ m: ModelSpec) -> Int64 {
    let h = Int64(m.hidden)
    let vocab = Int64(m.vocab)
    let normSize: Int64 = m.norm == "layernorm" ? 2 * h : h
    var total = vocab * h + Int64(m.learnedPositions ?? 0) * h
    var attention: Int64
    if let mla = m.mla {
      let a = Int64(m.heads)
      let nope = Int64(mla.qkNopeHeadDim)
      let rope = Int64(mla.qkRopeHeadDim)
      let v = Int64(mla.vHeadDim)
      let kvr = Int64(mla.kvLoraRank)
      if let qr = mla.qLoraRank.map(Int64.init) {
        attention = h * qr + qr + qr * a * (nope + rope)
      } else {
        attention = h * a * (nope + rope)
      }
      attention += h * (kvr + rope) + kvr + kvr * a * (nope + v) + a * v * h
    } else {
      let q = Int64(m.heads * m.headDim)
      let kv = Int64(m.kvHeads * m.headDim)
      attention = h * q + 2 * h * kv + q * h
      if m.bias { attention += q + 2 * kv + h }
      if m.qkNorm == true { attention += 2 * Int64(m.headDim) }
    }
    func ffn(_ inner: Int64) -> Int64 {
      let matrices: Int64 = m.ffnType == "gated" ? 3 : 2
      return matrices * h * inner + (m.bias ? inner + h : 0)
    }
    let dense = ffn(Int64(m.ffn))
    for layer in 0..<m.layers {
      total += attention + 2 * normSize
      if let moe = m.moe, layer >= (moe.denseLayers ?? 0) {
        total += h * Int64(moe.experts)  // router
        total += Int64(moe.experts + (moe.sharedExperts ?? 0)) * ffn(Int64(moe.expertFfn))
      } else {
        total += dense
      }
    }
    total += normSize
    if !m.tiedEmbeddings { total += vocab * h }
    return total
  }

  /// Parameters active per token (MoE: top-k routed plus shared experts).
  public static func activeParameters(_ m: ModelSpec) -> Int64 {
    guard let moe = m.moe else { return parameters(m) }
    let h = Int64(m.hidden)
    let matrices: Int64 = m.ffnType == "gated" ? 3 : 2
    let inactive = Int64(moe.experts - moe.topK) * matrices * h * Int64(moe.expertFfn)
    return parameters(m) - Int64(m.layers - (moe.denseLayers ?? 0)) * inactive
  }

  /// Narayanan et al. §5.1: P = 12lh²(1 + 13/(12h) + (V+s)/(12lh)) (GPT, FFN 4h, learned positions).
  public static func narayananParameters(
    layers l: Double, hidden h: Double, vocab v: Double = 51_200, sequence s: Double = 2_048
  ) -> Double {
    12 * l * h * h * (1 + 13 / (12 * h) + (v + s) / (12 * l * h))
  }

  // MARK: FLOPs

  /// Training FLOPs per iteration of B sequences of length s (Narayanan §5.1 / Korthikanti App. A):
  /// with full recompute 96·B·s·l·h²·(1 + s/(6h) + V/(16lh)); without 72·B·s·l·h²·(1 + s/(6h) + V/(12lh)).
  public static func trainingFLOPsPerIteration(
    batch b: Double, sequence s: Double, layers l: Double, hidden h: Double,
    vocab v: Double, recompute: Bool
  ) -> FLOPs {
    recompute
      ? FLOPs(rawValue: 96 * b * s * l * h * h * (1 + s / (6 * h) + v / (16 * l * h)))
      : FLOPs(rawValue: 72 * b * s * l * h * h * (1 + s / (6 * h) + v / (12 * l * h)))
  }

  /// Training days for T tokens on n GPUs at X FLOP/s each: iterations T/(B·s) of the
  /// per-iteration FLOPs (full recompute, as Narayanan Table 2).
  public static func trainingDays(
    tokens t: Double, layers l: Double, hidden h: Double, vocab v: Double = 51_200,
    sequence s: Double = 2_048, gpus n: Double, flopsPerGPU x: Double
  ) -> Double {
    let perToken =
      trainingFLOPsPerIteration(batch: 1, sequence: s, layers: l, hidden: h, vocab: v, recompute: true).rawValue / s
    return perToken * t / (n * x) / 86_400
  }

  /// Narayanan's estimate: training time ≈ 8·T·P/(n·X), in days.
  public static func trainingDaysEstimate(tokens t: Double, parameters p: Double, gpus n: Double, flopsPerGPU x: Double)
    -> Double
  {
    8 * t * p / (n * x) / 86_400
  }

  /// Prefill FLOPs for `context` tokens: linear 2·N·context (N = active parameters excluding
  /// embeddings' lookup… counted as all parameters, the usual 2N rule) and causal attention
  /// 2·L·heads·headDim·context² (QKᵀ and AV, each 2·c²·d/2 over the causal half, per layer).
  public static func prefillFLOPs(_ m: ModelSpec, context c: Int) -> (linear: FLOPs, attention: FLOPs) {
    let n = Double(activeParameters(m))
    let linear = 2 * n * Double(c)
    let d = Double(m.heads * m.headDim)
    let attention = 2 * Double(m.layers) * d * Double(c) * Double(c)
    return (FLOPs(rawValue: linear), FLOPs(rawValue: attention))
  }

  /// FLOPs to decode one token at position `position`: 2·N linear + 4·L·heads·headDim·position attention.
  public static func decodeFLOPs(_ m: ModelSpec, position p: Int) -> FLOPs {
    FLOPs(rawValue: 2 * Double(activeParameters(m)) + 4 * Double(m.layers * m.heads * m.headDim) * Double(p))
  }

  // MARK: Memory

  /// KV-cache bytes per token. MHA/GQA/MQA: 2·L·kvHeads·headDim·b. MLA (DeepSeek-V2 §2.1):
  /// (d_c + d_h^R)·L·b — the compressed latent and the shared RoPE key.
  public static func kvBytesPerToken(_ m: ModelSpec, bytesPerElement b: Double) -> Double {
    if let mla = m.mla { return Double((mla.kvLoraRank + mla.qkRopeHeadDim) * m.layers) * b }
    return 2 * Double(m.layers * m.kvHeads * m.headDim) * b
  }

  /// Activation memory per layer in bytes (Korthikanti et al. Table 2), 16-bit activations.
  public enum ActivationConfig: String, CaseIterable, Sendable {
    case none, tensor, tensorSequence, tensorSelective, tensorSequenceSelective, full
  }

  /// Bytes per layer: s·b·h·(34 + 5as/h) with no parallelism; TP t: sbh(10 + 24/t + 5as/(ht));
  /// TP+SP: sbh(34/t + 5as/(ht)); TP + selective recompute: sbh(10 + 24/t);
  /// TP+SP + selective: sbh·34/t; full recompute: 2sbh.
  public static func activationBytesPerLayer(
    sequence s: Double, microBatch b: Double, hidden h: Double, heads a: Double,
    tensorParallel t: Double, config: ActivationConfig
  ) -> Double {
    let sbh = s * b * h
    switch config {
    case .none: return sbh * (34 + 5 * a * s / h)
    case .tensor: return sbh * (10 + 24 / t + 5 * a * s / (h * t))
    case .tensorSequence: return sbh * (34 / t + 5 * a * s / (h * t))
    case .tensorSelective: return sbh * (10 + 24 / t)
    case .tensorSequenceSelective: return sbh * 34 / t
    case .full: return 2 * sbh
    }
  }

  /// Model-state bytes per GPU under ZeRO (Rajbhandari et al. Fig. 1), mixed-precision Adam
  /// (K = 12): baseline (2+2+K)Ψ; stage 1 (P_os) 4Ψ + KΨ/N_d; stage 2 (P_os+g) 2Ψ + 14Ψ/N_d;
  /// stage 3 (P_os+g+p) 16Ψ/N_d.
  public static func zeroBytes(parameters psi: Double, dataParallel nd: Double, stage: Int, k: Double = 12) -> Double {
    switch stage {
    case 0: return (2 + 2 + k) * psi
    case 1: return 4 * psi + k * psi / nd
    case 2: return 2 * psi + (2 + k) * psi / nd
    default: return (2 + 2 + k) * psi / nd
    }
  }

  /// Megatron distributed optimizer bytes per parameter over d data-parallel ranks
  /// (`distrib_optimizer.md`): fp16 params + fp16 grads 4 + 16/d; fp16 params + fp32 grads
  /// 6 + 12/d; fp32 params + fp32 grads 8 + 8/d.
  public static func distributedOptimizerBytesPerParameter(paramBytes: Int, gradBytes: Int, dataParallel d: Double)
    -> Double
  {
    switch (paramBytes, gradBytes) {
    case (2, 2): return 4 + 16 / d
    case (2, 4): return 6 + 12 / d
    default: return 8 + 8 / d
    }
  }
}
