import CostModels
import Foundation
import TestSupport
import Testing
import TraceModel

/// Published reference cases (each test names its paper, table or datasheet), in two tolerance classes:
/// EXACT → rel. err ≤ 1e-9; PRINTED → equal after rounding to the printed digits.
private let library = SpecLibrary(root: TestPaths.packageRoot + "/Models")

private func printed(_ value: Double, _ text: Double, digits: Int) -> Bool {
  let f = pow(10, Double(digits))
  return (value * f).rounded() / f == text
}

// MARK: §2 KV cache

@Test(arguments: [
  ("opt-13b", 819_200.0), ("llama-2-7b", 524_288), ("llama-2-70b", 327_680), ("llama-3.1-70b", 327_680),
  ("llama-3.1-8b", 131_072), ("qwen3-8b", 147_456), ("qwen3-32b", 262_144), ("yi-34b", 245_760),
  ("gpt3-175b", 4_718_592), ("deepseek-v3", 70_272),
])
func kvBytesPerTokenEXACT(model: String, bytes: Double) throws {
  let m = try library.model(model)
  #expect(Transformer.kvBytesPerToken(m, bytesPerElement: 2) == bytes)
}

@Test func kvPrintedFigures() throws {
  // KV-1: OPT-13B 2048 tokens → 1.68e9 B ("1.6 GB"); KV-5..7 GiB per 1000 tokens (LMCache FAQ).
  let opt = try library.model("opt-13b")
  #expect(Transformer.kvBytesPerToken(opt, bytesPerElement: 2) * 2048 == 1_677_721_600)
  let gib = 1_073_741_824.0
  #expect(
    printed(
      Transformer.kvBytesPerToken(try library.model("qwen3-8b"), bytesPerElement: 2) * 1000 / gib, 0.1373, digits: 4))
  #expect(
    printed(
      Transformer.kvBytesPerToken(try library.model("qwen3-32b"), bytesPerElement: 2) * 1000 / gib, 0.2441, digits: 4))
  #expect(
    printed(
      Transformer.kvBytesPerToken(try library.model("llama-3.1-70b"), bytesPerElement: 2) * 1000 / gib, 0.3052,
      digits: 4))
  // KV-2 cross-check: llm-analysis prints 1,140,850,688 B for 2048+128 tokens of Llama-2-7B.
  #expect(Transformer.kvBytesPerToken(try library.model("llama-2-7b"), bytesPerElement: 2) * 2176 == 1_140_850_688)
  // MLA ≈ GQA with 2.25 groups when d_c = 4d_h, d_h^R = d_h/2 (DeepSeek-V2 §2.1): 9/2·d_h·l.
  let kv = KVCacheAnalysis.analyze(model: try library.model("llama-2-7b"), kvDtype: .int8, context: 1)
  #expect(kv.byAttention["MLA"] == 4.5 * 128 * 32)
  #expect(kv.byAttention["MQA"] == 2 * 128 * 32 && kv.byAttention["MHA"] == 2 * 32 * 128 * 32)
}

@Test(arguments: [
  ("qwen3-8b", 50.32, 1, 366_400.0, 40_960.0, 8.95),
  ("qwen3-32b", 33.66, 2, 275_760, 40_960, 6.73),
  ("llama-3.1-70b", 32.06, 4, 420_208, 131_072, 3.21),
])
func capacityRows(model: String, spareGiB: Double, gpus: Int, tokens: Double, context: Double, prompts: Double) throws {
  // CAP-1..3 (LMCache FAQ): tokens = spare/(bytes per token) to the printed digits of the spare
  // memory (4 significant digits), prompts = tokens/context (EXACT to 2 decimals).
  let b = Transformer.kvBytesPerToken(try library.model(model), bytesPerElement: 2)
  let ours = spareGiB * Double(gpus) * 1_073_741_824 / b
  #expect(abs(ours - tokens) / tokens < 1e-3, "\(model): \(ours) tokens vs \(tokens)")
  #expect(printed(tokens / context, prompts, digits: 2))
}

@Test func sharedPrefixIdentity() throws {
  // (P + Σuᵢ)·B instead of Σ(P + uᵢ)·B, EXACT.
  let m = try library.model("llama-3.1-8b")
  let a = KVCacheAnalysis.analyze(model: m, kvDtype: .bf16, context: 1000, requests: 8, sharedPrefix: 600)
  #expect(a.bytesWithSharing == Bytes((600 + 8 * 400) * 131_072))
  #expect(a.bytesWithoutSharing == Bytes(8 * 1000 * 131_072))
  #expect(a.blocksPerRequest == 63 && a.wastedTokensPerRequest == 8)
  // Quantized KV scales exactly.
  #expect(KVCacheAnalysis.analyze(model: m, kvDtype: .int8, context: 1).bytesPerToken == 65_536)
}

// MARK: §4 collectives

@Test func busBandwidthFactorsEXACT() {
  #expect(BusFactor.factor(.allReduce, ranks: 8) == 2.0 * 7 / 8)
  for k in [CollectiveKind.reduceScatter, .allGather, .allToAll, .gather, .scatter] {
    #expect(BusFactor.factor(k, ranks: 8) == 7.0 / 8)
  }
  for k in [CollectiveKind.broadcast, .reduce] { #expect(BusFactor.factor(k, ranks: 8) == 1) }
  #expect(BusFactor.factor(nil, ranks: 2) == 1)  // send/recv
}

@Test(arguments: [
  (8, 33_554_432.0, 195.40, 171.72, 300.51),
  (8, 16_777_216, 121.33, 138.28, 241.99),  // printed 242.00; the reference notes "we get 241.99"
  (2, 1_073_741_824, 9306.7, 115.37, 115.37),
])
func ncclTestsFixtures(n: Int, bytes: Double, us: Double, algbw: Double, busbw: Double) {
  let t = Nanoseconds(microseconds: us)
  let b = Bytes(Int64(bytes))
  #expect(printed(CollectiveModel.algbwGBps(bytes: b, time: t), algbw, digits: 2))
  #expect(printed(CollectiveModel.busbwGBps(.allReduce, bytes: b, time: t, ranks: n), busbw, digits: 2))
}

@Test func alphaBetaMatchesBusFactorsWithZeroLatency() {
  // A ring all-reduce model with α = 0 and per-rank bandwidth = the measured busbw reproduces NC-1.
  let t = CollectiveModel.time(
    .allReduce, bytes: Bytes(33_554_432), ranks: 8, bandwidth: BytesPerSecond(rawValue: 300.51e9))
  #expect(abs(Double(t.rawValue) / 1e3 - 195.40) < 0.01)
  let ag = CollectiveModel.time(
    .allGather, bytes: Bytes(8_000_000), ranks: 4, bandwidth: BytesPerSecond(rawValue: 1e9), latency: Nanoseconds(1000))
  #expect(ag.rawValue == Int64(3 * 1000 + 0.75 * 8e6))
  #expect(
    CollectiveModel.time(nil, bytes: Bytes(1_000_000), ranks: 2, bandwidth: BytesPerSecond(rawValue: 1e9)).rawValue
      == 1_000_000)
}

// MARK: §5 memory and FLOPs

@Test(arguments: [
  (Transformer.ActivationConfig.none, 114.0, 2868.90), (.tensor, 23, 578.81), (.tensorSequence, 14.25, 358.61),
  (.tensorSelective, 13, 327.16), (.tensorSequenceSelective, 4.25, 106.95), (.full, 2, 50.33),
])
func korthikantiTable(config: Transformer.ActivationConfig, coefficient: Double, megabytes: Double) {
  // GPT-3 175B: s=2048, b=1, h=12288, a=96, t=8 (Korthikanti et al. Table 2), EXACT.
  let bytes = Transformer.activationBytesPerLayer(
    sequence: 2048, microBatch: 1, hidden: 12288, heads: 96, tensorParallel: 8, config: config)
  #expect(abs(bytes / (2048 * 12288) - coefficient) < 1e-9)
  #expect(printed(bytes / 1e6, megabytes, digits: 2))
}

@Test(arguments: [
  (24.0, 2304.0, 1.65), (40, 6144, 18.45), (96, 12288, 174.62), (105, 20480, 529.60), (128, 25600, 1008.04),
])
func narayananParameterCounts(l: Double, h: Double, billions: Double) {
  #expect(printed(Transformer.narayananParameters(layers: l, hidden: h) / 1e9, billions, digits: 2))
}

@Test(arguments: [
  (96.0, 12288.0, 384.0, 153.0, 84.75), (96, 12288, 768, 149, 43.51), (96, 12288, 1536, 141, 22.99),
  (105, 20480, 560, 171, 156.08), (105, 20480, 1120, 167, 79.91), (105, 20480, 2240, 159, 41.97),
])
func narayananTrainingDays(l: Double, h: Double, gpus: Double, tflops: Double, days: Double) {
  // Table 2 (300B tokens), "exact F" column: the 96·B·s·l·h² formula.
  #expect(
    printed(
      Transformer.trainingDays(tokens: 300e9, layers: l, hidden: h, gpus: gpus, flopsPerGPU: tflops * 1e12), days,
      digits: 2))
}

@Test func narayananEstimates() {
  // 8TP/(nX): 175B PTD 384 GPUs → 82.56; text examples 33.83 (GPT-3, 1024 GPUs, 140 TF) and 83.88 (1T, 450B tokens).
  let p175 = Transformer.narayananParameters(layers: 96, hidden: 12288)
  #expect(
    printed(
      Transformer.trainingDaysEstimate(tokens: 300e9, parameters: p175, gpus: 384, flopsPerGPU: 153e12), 82.56,
      digits: 2))
  #expect(
    printed(
      Transformer.trainingDaysEstimate(tokens: 300e9, parameters: p175, gpus: 1024, flopsPerGPU: 140e12), 33.83,
      digits: 2))
  let p1t = Transformer.narayananParameters(layers: 128, hidden: 25600)
  #expect(
    printed(
      Transformer.trainingDaysEstimate(tokens: 450e9, parameters: p1t, gpus: 3072, flopsPerGPU: 163e12), 83.88,
      digits: 2))
}

@Test func zeroAndDistributedOptimizerEXACT() {
  // Ψ = 7.5B, N_d = 64: 120 GB, 31.406 GB, 16.641 GB, 1.875 GB.
  let psi = 7.5e9
  #expect(Transformer.zeroBytes(parameters: psi, dataParallel: 64, stage: 0) == 120e9)
  #expect(abs(Transformer.zeroBytes(parameters: psi, dataParallel: 64, stage: 1) - 31.40625e9) < 1)
  #expect(abs(Transformer.zeroBytes(parameters: psi, dataParallel: 64, stage: 2) - 16.640625e9) < 1)
  #expect(Transformer.zeroBytes(parameters: psi, dataParallel: 64, stage: 3) == 1.875e9)
  #expect(Transformer.distributedOptimizerBytesPerParameter(paramBytes: 2, gradBytes: 2, dataParallel: 8) == 4 + 2)
  #expect(Transformer.distributedOptimizerBytesPerParameter(paramBytes: 2, gradBytes: 4, dataParallel: 4) == 6 + 3)
  #expect(Transformer.distributedOptimizerBytesPerParameter(paramBytes: 4, gradBytes: 4, dataParallel: 2) == 8 + 4)
}

@Test func trainingFLOPsRulesOfThumb() {
  // Without recompute, per-iteration FLOPs ≈ 6·N·tokens for large h (72Bslh² = 6·12lh²·Bs).
  let f = Transformer.trainingFLOPsPerIteration(
    batch: 1, sequence: 2048, layers: 96, hidden: 12288, vocab: 0, recompute: false
  ).rawValue
  let sixN = 6 * 12 * 96 * 12288.0 * 12288 * 2048
  #expect(abs(f / sixN - (1 + 2048 / (6 * 12288.0))) < 1e-12)
  // Selective recompute overhead s/(6h): GPT-3 2.78 % (PRINTED 2.7 %).
  #expect(printed(2048 / (6 * 12288.0) * 100, 2.78, digits: 2))
}

// MARK: §6 datasheets

@Test func ridgePointsAndPeaks() throws {
  func ridge(_ name: String) throws -> Double {
    let h = try library.hardware(name)
    return RooflineModel(peakCompute: h.peak("bf16")!, memoryBandwidth: h.memoryBandwidth).ridgePoint
  }
  #expect(Int(try ridge("a100-sxm4-80gb")) == 153)
  #expect(Int(try ridge("h100-sxm5-80gb")) == 295)
  #expect(Int(try ridge("h200-sxm-141gb")) == 206)
  let mi300Ridge = try ridge("mi300x")
  #expect(Int(mi300Ridge.rounded()) == 247)
  #expect(Int(try ridge("l40s")) == 419)
  // MI300X: 304 CUs × 2.1 GHz × FLOPS/clock/CU reproduces every peak (EXACT to the printed 0.1 TF).
  let mi = try library.hardware("mi300x")
  for (dtype, perClock) in [("bf16", 2048.0), ("fp8", 4096), ("tf32", 1024)] {
    #expect(printed(304 * 2.1e9 * perClock / 1e12, mi.peakTFLOPs[dtype]!, digits: 1))
  }
  // "A100 80GB" has 80 GiB.
  #expect(try library.hardware("a100-sxm4-80gb").hbmBytes.rawValue == 80 * 1_073_741_824)
}

@Test func parameterCountsFromArchitecture() throws {
  // Published totals (Hugging Face model cards / safetensors metadata).
  #expect(Transformer.parameters(try library.model("llama-2-7b")) == 6_738_415_616)
  #expect(Transformer.parameters(try library.model("llama-2-70b")) == 68_976_648_192)
  #expect(Transformer.parameters(try library.model("llama-3.1-8b")) == 8_030_261_248)
  #expect(Transformer.parameters(try library.model("qwen3-8b")) == 8_190_735_360)
  let mixtral = try library.model("mixtral-8x7b")
  #expect(abs(Double(Transformer.parameters(mixtral)) / 46.70e9 - 1) < 0.001)
  #expect(abs(Double(Transformer.activeParameters(mixtral)) / 12.88e9 - 1) < 0.002)
  let ds = try library.model("deepseek-v3")
  #expect(abs(Double(Transformer.parameters(ds)) / 671e9 - 1) < 0.002)
  #expect(abs(Double(Transformer.activeParameters(ds)) / 37e9 - 1) < 0.03)
}

@Test func korthikantiPaperChecks() {
  // GPT-3: 5as/h = 80 (EXACT); selective recompute saves 1 − 34/114 = 70.2 % (PRINTED 70 %);
  // MT-NLG (a = 128, h = 20480): 1 − 34/98 = 65.3 % (PRINTED 65 %), overhead s/(6h) = 1.67 %.
  #expect(5 * 96 * 2048 / 12288.0 == 80)
  let gpt3 = Transformer.activationBytesPerLayer(
    sequence: 2048, microBatch: 1, hidden: 12288, heads: 96, tensorParallel: 1, config: .none)
  let gpt3Selective = Transformer.activationBytesPerLayer(
    sequence: 2048, microBatch: 1, hidden: 12288, heads: 96, tensorParallel: 1, config: .tensorSequenceSelective)
  #expect(printed((1 - gpt3Selective / gpt3) * 100, 70, digits: 0))
  let mtnlg = Transformer.activationBytesPerLayer(
    sequence: 2048, microBatch: 1, hidden: 20480, heads: 128, tensorParallel: 1, config: .none)
  let mtnlgSelective = Transformer.activationBytesPerLayer(
    sequence: 2048, microBatch: 1, hidden: 20480, heads: 128, tensorParallel: 1, config: .tensorSequenceSelective)
  #expect(printed((1 - mtnlgSelective / mtnlg) * 100, 65, digits: 0))
  #expect(printed(2048 / (6 * 20480.0) * 100, 1.67, digits: 2))
}
