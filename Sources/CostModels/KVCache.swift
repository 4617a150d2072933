import Foundation
import TraceModel

/// KV-cache cost framework: bytes per token by attention type, sharing, paging, capacity,
/// swapping and prefill reuse. Each formula's source is on its property.
public struct KVCacheAnalysis: Sendable, Equatable {
  /// Bytes per token of this model (its own attention type) at the KV dtype.
  public var bytesPerToken: Double
  /// The same model if it used MHA (2·L·heads·d_h·b), GQA (2·L·kvHeads·d_h·b), MQA (2·L·d_h·b)
  /// or MLA ((d_c + d_h^R)·L·b; d_c = 4·d_h, d_h^R = d_h/2 unless the model defines them) —
  /// DeepSeek-V2 (arXiv 2405.04434) §2.1, Table 1.
  public var byAttention: [String: Double]
  public var contextTokens: Int
  public var requests: Int
  public var sharedPrefixTokens: Int
  /// Σ(P + uᵢ)·B: every request stores its own prefix.
  public var bytesWithoutSharing: Bytes
  /// (P + Σuᵢ)·B: the prefix stored once (vLLM, Kwon et al. SOSP'23 §4.4; BatchLLM arXiv 2412.03594).
  public var bytesWithSharing: Bytes
  public var blockSize: Int
  /// Paged allocation (vLLM): ⌈tokens/block⌉ blocks per request; the unused tail slots.
  public var blocksPerRequest: Int
  public var wastedTokensPerRequest: Int
  public var fragmentation: Double
  /// Capacity in spare HBM (HBM − weights) when hardware is given.
  public var spareBytes: Bytes?
  public var tokensThatFit: Int64?
  public var requestsThatFit: Double?
  /// Swapping one request's KV over PCIe at block granularity (FastSwitch, arXiv 2411.18424):
  /// blocks × block bytes / PCIe bandwidth, one direction.
  public var swapPerRequest: Nanoseconds?
  /// APE (Yang et al., ICLR 2025, arXiv 2502.05431): attention FLOPs of K contexts encoded
  /// sequentially as one sequence (2·L·d·(Kc)²) vs. in parallel (K·2·L·d·c²); cached: 0.
  public var sequentialPrefillAttentionFLOPs: FLOPs
  public var parallelPrefillAttentionFLOPs: FLOPs
  /// Multi-turn reuse of a shared context over `turns` turns (SCBench, arXiv 2412.10319):
  /// recompute the context each turn vs. prefill once and keep the KV cache.
  public var multiTurnRecomputeFLOPs: FLOPs
  public var multiTurnCachedFLOPs: FLOPs

  /// - Parameters:
  ///   - kvDtype: the cache's element type (its size in bytes scales every byte figure).
  ///   - weightBytesPerParameter: for the capacity (HBM minus weights).
  public static func analyze(
    model m: ModelSpec, kvDtype: DType, context: Int, requests: Int = 1,
    sharedPrefix: Int = 0, blockSize: Int = 16, hardware: HardwareSpec? = nil,
    tensorParallel tp: Int = 1, weightBytesPerParameter wb: Double = 2,
    contexts k: Int = 1, turns: Int = 1
  ) -> KVCacheAnalysis {
    let layers = Double(m.layers)
    let dh = Double(m.headDim)
    let b = kvDtype.bytes
    var by: [String: Double] = [
      "MHA": 2 * layers * Double(m.heads) * dh * b,
      "GQA": 2 * layers * Double(m.kvHeads) * dh * b,
      "MQA": 2 * layers * dh * b,
    ]
    if let mla = m.mla {
      by["MLA"] = Double(mla.kvLoraRank + mla.qkRopeHeadDim) * layers * b
    } else {
      by["MLA"] = (4 * dh + dh / 2) * layers * b
    }
    let perToken = Transformer.kvBytesPerToken(m, bytesPerElement: b)
    let prefix = min(sharedPrefix, context)
    let unique = context - prefix
    let without = Double(requests) * Double(context) * perToken
    let with = (Double(prefix) + Double(requests * unique)) * perToken
    let blocks = (context + blockSize - 1) / blockSize
    let wasted = blocks * blockSize - context
    var spare: Bytes? = nil
    var tokens: Int64? = nil
    var fit: Double? = nil
    var swap: Nanoseconds? = nil
    if let hw = hardware {
      let hbm = Double(hw.hbmBytes.rawValue) * Double(max(tp, 1))
      let free = Int64(saturating: hbm - Double(Transformer.parameters(m)) * wb, rule: .towardZero)
      let fitting = perToken > 0 ? max(0, Int64(saturating: Double(free) / perToken, rule: .towardZero)) : 0
      (spare, tokens) = (Bytes(free), fitting)
      fit = Double(fitting) / Double(context)
      swap = Nanoseconds(seconds: Double(blocks * blockSize) * perToken / hw.pcieBandwidth.rawValue)
    }
    let d = Double(m.heads * m.headDim)
    let c = Double(context)
    let seq = 2 * layers * d * (Double(k) * c) * (Double(k) * c)
    let par = Double(k) * 2 * layers * d * c * c
    let (lin, att) = Transformer.prefillFLOPs(m, context: context)
    let prefill = lin.rawValue + att.rawValue
    return KVCacheAnalysis(
      bytesPerToken: perToken, byAttention: by, contextTokens: context, requests: requests, sharedPrefixTokens: prefix,
      bytesWithoutSharing: Bytes(rounding: without), bytesWithSharing: Bytes(rounding: with), blockSize: blockSize,
      blocksPerRequest: blocks, wastedTokensPerRequest: wasted,
      fragmentation: blocks > 0 ? Double(wasted) / Double(blocks * blockSize) : 0,
      spareBytes: spare, tokensThatFit: tokens, requestsThatFit: fit, swapPerRequest: swap,
      sequentialPrefillAttentionFLOPs: FLOPs(rawValue: seq), parallelPrefillAttentionFLOPs: FLOPs(rawValue: par),
      multiTurnRecomputeFLOPs: FLOPs(rawValue: Double(turns) * prefill), multiTurnCachedFLOPs: FLOPs(rawValue: prefill))
  }
}

/// The dtypes a KV cache can be stored in (`--kv-dtype`).
public let kvCacheDTypes: [DType] = [.fp32, .bf16, .fp16, .fp8, .int8, .int4, .fp4]
