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
  public var weightBytes: Int64
  public var kvBytesPerToken: Double
  public var kvBytes: Int64
  public var prefillLinearFLOPs: Double
  public var prefillAttentionFLOPs: Double
  public var prefillLinearSeconds: Double
  public var prefillSeconds: Double
  public var decodeSecondsPerToken: Double
  public var decodeSeconds: Double
  public var maxConcurrentRequests: Int64
  public var contextSwitchSeconds: Double
  public var hbmBytes: Int64
  public var pcieBytesPerSecond: Double
  /// Aggregate HBM bandwidth and compute peak used (× TP degree × efficiency).
  public var hbmBytesPerSecond: Double
  public var peakFLOPsPerSecond: Double

  public static func analyze(model m: ModelSpec, hardware hw: HardwareSpec, context: Int, outputTokens: Int = 0,
                             tensorParallel tp: Int = 1, weightDtype: String = "bf16", kvBytesPerElement: Double = 2,
                             computeEfficiency: Double = 1, memoryEfficiency: Double = 1) throws -> LongContextAnalysis {
    let k = Double(max(tp, 1))
    let params = Transformer.parameters(m)
    let wBytesPer: Double = ["fp32": 4, "bf16": 2, "fp16": 2, "fp8": 1, "int8": 1, "int4": 0.5][weightDtype] ?? 2
    let weightBytes = Int64(Double(params) * wBytesPer)
    let kvPerToken = Transformer.kvBytesPerToken(m, bytesPerElement: kvBytesPerElement)
    let kvBytes = Int64(kvPerToken * Double(context))
    let (lin, att) = Transformer.prefillFLOPs(m, context: context)
    guard let peak = hw.peak(weightDtype) ?? hw.peak("bf16") else {
      throw SpecError.invalid(file: hw.name, path: "peakTFLOPs", message: "no peak for \(weightDtype)")
    }
    let flops = peak.rawValue * k * computeEfficiency
    let bw = hw.memoryBandwidth.rawValue * k * memoryEfficiency
    let hbm = Int64(Double(hw.hbmBytes.rawValue) * k)
    let perToken = (Double(weightBytes) + Double(kvBytes)) / bw
    let free = hbm - weightBytes
    return LongContextAnalysis(
      parameters: params, weightBytes: weightBytes, kvBytesPerToken: kvPerToken, kvBytes: kvBytes,
      prefillLinearFLOPs: lin.rawValue, prefillAttentionFLOPs: att.rawValue,
      prefillLinearSeconds: lin.rawValue / flops, prefillSeconds: (lin.rawValue + att.rawValue) / flops,
      decodeSecondsPerToken: perToken, decodeSeconds: perToken * Double(outputTokens),
      maxConcurrentRequests: kvBytes > 0 ? max(0, free / kvBytes) : 0,
      contextSwitchSeconds: 2 * Double(kvBytes) / hw.pcieBandwidth.rawValue,
      hbmBytes: hbm, pcieBytesPerSecond: hw.pcieBandwidth.rawValue, hbmBytesPerSecond: bw, peakFLOPsPerSecond: flops)
  }
}
