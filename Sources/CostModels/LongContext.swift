import Foundation
import TraceModel

/// Long-context serving at peak numbers, after Fu, "Challenges in Deploying Long-Context
/// Transformers: A Theoretical Peak Performance Analysis" (arXiv 2405.08944), §2–3.
///
/// - Prefill is compute bound: (linear + attention FLOPs) / peak, linear = 2·N·context,
///   attention the causal score and value FLOPs.
/// - Decode is memory bound: each token reads the weights and the whole KV cache once:
///   (weight bytes + KV bytes at full context) / HBM bandwidth.
/// - Concurrency is bounded by HBM: ⌊(HBM − weights) / KV per request⌋.
/// - A context switch swaps one user's KV to host memory and another's in: (KV₁ + KV₂) / PCIe.
/// - Tensor parallelism over k devices multiplies HBM, FLOPs and bandwidth by k (communication
///   neglected).
public struct LongContextAnalysis: Sendable, Equatable {
  public var parameters: Int64
  public var weightBytes: Bytes
  /// KV-cache bytes per token (fractional for 4-bit caches).
  public var kvBytesPerToken: Double
  /// The KV cache of one request at full context.
  public var kvBytes: Bytes
  public var prefillLinearFLOPs: FLOPs
  public var prefillAttentionFLOPs: FLOPs
  /// Prefill time of the linear layers alone, and of the whole prefill.
  public var prefillLinear: Nanoseconds
  public var prefill: Nanoseconds
  /// Decode time per token, and for all output tokens.
  public var decodePerToken: Nanoseconds
  public var decode: Nanoseconds
  public var maxConcurrentRequests: Int64
  /// Swapping one request's KV cache out and another's in over PCIe.
  public var contextSwitch: Nanoseconds
  /// HBM of all tensor-parallel devices.
  public var hbmBytes: Bytes
  public var pcieBandwidth: BytesPerSecond
  /// Aggregate HBM bandwidth and compute peak used (× TP degree × efficiency).
  public var hbmBandwidth: BytesPerSecond
  public var peakCompute: FLOPsPerSecond

  /// - Parameters:
  ///   - weightDtype: the weights' dtype; its dense peak times the prefill (bf16's when the
  ///     device has none for it).
  ///   - kvDtype: the KV cache's dtype.
  ///   - computeEfficiency, memoryEfficiency: fractions of peak in (0, 1].
  /// - Throws: `SpecError.invalid` when the device has neither peak; `ModelArgumentError` when an
  ///   efficiency is outside (0, 1].
  public static func analyze(
    model m: ModelSpec, hardware hw: HardwareSpec, context: Int, outputTokens: Int = 0,
    tensorParallel tp: Int = 1, weightDtype: DType = .bf16, kvDtype: DType = .bf16,
    computeEfficiency: Double = 1, memoryEfficiency: Double = 1
  ) throws -> LongContextAnalysis {
    try ModelArgumentError.checkEfficiency(computeEfficiency, "computeEfficiency")
    try ModelArgumentError.checkEfficiency(memoryEfficiency, "memoryEfficiency")
    let k = Double(max(tp, 1))
    let params = Transformer.parameters(m)
    let weightBytes = Int64(saturating: Double(params) * weightDtype.bytes, rule: .towardZero)
    let kvPerToken = Transformer.kvBytesPerToken(m, bytesPerElement: kvDtype.bytes)
    let kvBytes = Int64(saturating: kvPerToken * Double(context), rule: .towardZero)
    let (lin, att) = Transformer.prefillFLOPs(m, context: context)
    guard let peak = hw.peak(weightDtype) ?? hw.peak(.bf16) else {
      throw SpecError.invalid(file: hw.name, path: "peakTFLOPs", message: "no peak for \(weightDtype.rawValue)")
    }
    let flops = peak.rawValue * k * computeEfficiency
    let bw = hw.memoryBandwidth.rawValue * k * memoryEfficiency
    let hbm = Int64(saturating: Double(hw.hbmBytes.rawValue) * k, rule: .towardZero)
    let perToken = (Double(weightBytes) + Double(kvBytes)) / bw
    let free = hbm - weightBytes
    return LongContextAnalysis(
      parameters: params, weightBytes: Bytes(weightBytes), kvBytesPerToken: kvPerToken, kvBytes: Bytes(kvBytes),
      prefillLinearFLOPs: lin, prefillAttentionFLOPs: att,
      prefillLinear: Nanoseconds(seconds: lin.rawValue / flops),
      prefill: Nanoseconds(seconds: (lin.rawValue + att.rawValue) / flops),
      decodePerToken: Nanoseconds(seconds: perToken), decode: Nanoseconds(seconds: perToken * Double(outputTokens)),
      maxConcurrentRequests: kvBytes > 0 ? max(0, free / kvBytes) : 0,
      contextSwitch: Nanoseconds(seconds: 2 * Double(kvBytes) / hw.pcieBandwidth.rawValue),
      hbmBytes: Bytes(hbm), pcieBandwidth: hw.pcieBandwidth, hbmBandwidth: BytesPerSecond(rawValue: bw),
      peakCompute: FLOPsPerSecond(rawValue: flops))
  }
}
