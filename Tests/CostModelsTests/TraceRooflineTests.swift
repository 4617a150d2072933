import CostModels
import Foundation
import TestSupport
import Testing
import TraceImport
import TraceModel

private let library = SpecLibrary(root: TestPaths.packageRoot + "/Models")

@Test(
  .needsCorpus,
  arguments: [
    ("/tracelens/tests/traces/h100/Qwen_Qwen1.5-0.5B-Chat__1016005.json.gz", "h100-sxm5-80gb"),
    ("/tracelens/tests/traces/mi300/Qwen_Qwen1.5-0.5B-Chat__1016005.json.gz", "mi300x"),
    ("/tracelens/tests/traces/b200/eager_trace.json.gz", "b200"),
  ])
func rooflineOnRealGEMMTraces(path: String, hardware: String) throws {
  let root = try #require(TestPaths.corpus)
  let g = try Ingest.run(paths: [root + path]).graph
  let device = try #require(g.ranks[0].deviceNames.first)
  #expect(SpecLibrary.hardwareName(forDevice: device) == hardware)
  let r = KernelRooflineReport.analyze(g, hardware: try library.hardware(hardware))
  let gemms = r.rows.filter { $0.family == .gemm }
  #expect(gemms.count >= 50, "\(path): \(gemms.count) GEMM ops sized")
  for row in gemms {
    #expect(
      row.percentOfPeak > 0 && row.percentOfPeak <= 100, "\(path): \(row.opName) at \(row.percentOfPeak)% of peak")
    #expect(row.percentOfRoofline > 0 && row.percentOfRoofline <= 100)
  }
  #expect(r.sizedKernels + r.unsizedKernels == r.kernels && r.unsizedKernels > 0)
}

@Test func gemmAndAttentionShapes() {
  let mm = OpCost.cost(name: "aten::mm", dims: [[64, 128], [128, 256]], types: ["c10::BFloat16", "c10::BFloat16"])!
  let mmBytes: Int64 = 2 * (64 * 128 + 128 * 256 + 64 * 256)
  #expect(mm.flops.rawValue == 2 * 64 * 128 * 256)
  #expect(mm.bytes.rawValue == mmBytes)
  #expect(mm.dtype == .bf16 && mm.dtypeName == "c10::BFloat16")
  let linear = OpCost.cost(name: "aten::linear", dims: [[8, 16, 512], [1024, 512], [1024]], types: ["float"])!
  #expect(linear.flops.rawValue == 2 * 128 * 512 * 1024)
  let bmm = OpCost.cost(name: "aten::bmm", dims: [[4, 32, 64], [4, 64, 16]], types: ["float"])!
  #expect(bmm.flops.rawValue == 2 * 4 * 32 * 64 * 16)
  let sdpa = OpCost.cost(
    name: "aten::_scaled_dot_product_flash_attention", dims: [[2, 8, 128, 64], [2, 8, 128, 64], [2, 8, 128, 64]],
    types: ["c10::BFloat16"])!
  #expect(sdpa.flops.rawValue == 4 * 2 * 8 * 128 * 128 * 64 && sdpa.family == .attention)
  #expect(OpCost.cost(name: "aten::mm", dims: [[64, 128], [127, 256]], types: []) == nil)  // inner dims disagree
  #expect(OpCost.cost(name: "aten::convolution", dims: [[1, 3, 224, 224]], types: []) == nil)
  #expect(OpCost.parseDims("[[8, 2048, 4096], [], [3]]") == [[8, 2048, 4096], [], [3]])
  #expect(OpCost.parseTypes(#"["c10::BFloat16", "", "Scalar"]"#) == ["c10::BFloat16", "", "Scalar"])
}

@Test func rooflineBoundsAtTheRidge() throws {
  let h100 = try library.hardware("h100-sxm5-80gb")
  let m = RooflineModel(peakCompute: h100.peak("bf16")!, memoryBandwidth: h100.memoryBandwidth)
  let ridge = m.ridgePoint
  let below = m.estimate(work: FLOPs(rawValue: (ridge - 1) * 1e9), traffic: Bytes(1_000_000_000))
  let above = m.estimate(work: FLOPs(rawValue: (ridge + 1) * 1e9), traffic: Bytes(1_000_000_000))
  #expect(below.bound == .memory && above.bound == .compute)
  // 1 GB at 3.35 TB/s = 298,508 ns (rounded up).
  #expect(m.estimate(work: FLOPs(rawValue: 0), traffic: Bytes(1_000_000_000)).duration.rawValue == 298_508)
}

@Test func longContextIsSelfConsistent() throws {
  let m = try library.model("yi-34b")
  let hw = try library.hardware("a100-sxm4-80gb")
  let a = try LongContextAnalysis.analyze(model: m, hardware: hw, context: 50_000, outputTokens: 250)
  // Times are whole nanoseconds: each equals its formula in seconds, rounded to the nearest ns.
  let w = Double(a.weightBytes.rawValue)
  let kv = Double(a.kvBytes.rawValue)
  #expect(a.kvBytesPerToken == 245_760 && a.kvBytes.rawValue == 245_760 * 50_000)
  #expect(a.prefillLinearFLOPs.rawValue == 2 * Double(a.parameters) * 50_000)
  let perToken = (w + kv) / a.hbmBandwidth.rawValue
  #expect(a.decodePerToken == Nanoseconds(seconds: perToken))
  #expect(a.decode == Nanoseconds(seconds: 250 * perToken))
  #expect(a.maxConcurrentRequests == (a.hbmBytes - a.weightBytes).rawValue / a.kvBytes.rawValue)
  #expect(a.contextSwitch == Nanoseconds(seconds: 2 * kv / a.pcieBandwidth.rawValue))
  let flops = a.prefillLinearFLOPs.rawValue + a.prefillAttentionFLOPs.rawValue
  #expect(a.prefill == Nanoseconds(seconds: flops / a.peakCompute.rawValue))
  // TP 4 multiplies HBM, FLOPs and bandwidth by 4.
  let tp = try LongContextAnalysis.analyze(model: m, hardware: hw, context: 50_000, tensorParallel: 4)
  #expect(tp.hbmBytes.rawValue == 4 * a.hbmBytes.rawValue && abs((tp.prefill * 4 - a.prefill).rawValue) <= 3)
}

@Test func brokenSpecsNameFileAndPath() throws {
  let dir = FileManager.default.temporaryDirectory.appendingPathComponent("reprise-specs-\(UUID().uuidString)")
  try FileManager.default.createDirectory(atPath: dir.path + "/models", withIntermediateDirectories: true)
  try FileManager.default.createDirectory(atPath: dir.path + "/hardware", withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(at: dir) }
  var text = try String(contentsOfFile: TestPaths.packageRoot + "/Models/models/llama-2-7b.json", encoding: .utf8)
  text = text.replacingOccurrences(of: "\"hidden\"", with: "\"hiden\"")
  try text.write(toFile: dir.path + "/models/typo.json", atomically: true, encoding: .utf8)
  let lib = SpecLibrary(root: dir.path)
  #expect { try lib.model("typo") } throws: {
    "\($0)".contains("typo.json") && "\($0)".contains("hidden: missing required field")
  }
  var hw = try String(contentsOfFile: TestPaths.packageRoot + "/Models/hardware/l40s.json", encoding: .utf8)
  hw = hw.replacingOccurrences(of: "\"hbmBandwidthGBps\": 864", with: "\"hbmBandwidthGBps\": \"fast\"")
  try hw.write(toFile: dir.path + "/hardware/bad.json", atomically: true, encoding: .utf8)
  #expect { try lib.hardware("bad") } throws: { "\($0)".contains("bad.json: hbmBandwidthGBps") }
  #expect { try lib.model("nope") } throws: { e in
    guard let s = e as? SpecError else { return false }
    return s.isUsageError && "\(s)".contains("unknown model 'nope'") && "\(s)".contains("typo")
  }
  // Every shipped spec decodes and validates.
  let shipped = SpecLibrary(root: TestPaths.packageRoot + "/Models")
  #expect(shipped.names("hardware").count == 10 && shipped.names("models").count == 13)
  for n in shipped.names("hardware") { _ = try shipped.hardware(n) }
  for n in shipped.names("models") { _ = try shipped.model(n) }
}

@Test func ringAttentionMoEAndHierarchicalCollectives() {
  let link = BytesPerSecond(rawValue: 100e9)
  // 1 GB block at 100 GB/s = 10 ms; compute 4 ms → transfer bound; bidirectional halves it.
  let block = Bytes(1_000_000_000)
  #expect(
    CollectiveModel.ringAttentionStep(compute: Nanoseconds(4_000_000), blockBytes: block, link: link).rawValue
      == 10_000_000)
  #expect(
    CollectiveModel.ringAttentionStep(
      compute: Nanoseconds(4_000_000), blockBytes: block, link: link, bidirectional: true
    ).rawValue == 5_000_000)
  #expect(
    CollectiveModel.ringAttentionStep(compute: Nanoseconds(12_000_000), blockBytes: block, link: link).rawValue
      == 12_000_000)
  // MoE: dispatch + combine = 2 all-to-alls of tokens·topK·hidden·bytes.
  let a2a = CollectiveModel.time(.allToAll, bytes: Bytes(4096 * 2 * 4096 * 2), ranks: 8, bandwidth: link)
  #expect(
    CollectiveModel.moeAllToAll(tokens: 4096, topK: 2, hidden: 4096, dtype: .bf16, ranks: 8, bandwidth: link) == a2a
      + a2a)
  // Hierarchical all-reduce on one node equals its intra-node parts; slower NICs make it slower.
  let fast = CollectiveModel.hierarchicalAllReduce(
    bytes: block, gpusPerNode: 8, nodes: 4, intra: BytesPerSecond(rawValue: 450e9),
    inter: BytesPerSecond(rawValue: 50e9))
  let slow = CollectiveModel.hierarchicalAllReduce(
    bytes: block, gpusPerNode: 8, nodes: 4, intra: BytesPerSecond(rawValue: 450e9),
    inter: BytesPerSecond(rawValue: 25e9))
  #expect(slow > fast)
  // Tree all-reduce latency grows with log p, ring with p.
  let alpha = Nanoseconds(10_000)
  let ring = CollectiveModel.time(.allReduce, bytes: .zero, ranks: 64, bandwidth: link, latency: alpha)
  let tree = CollectiveModel.time(
    .allReduce, bytes: .zero, ranks: 64, bandwidth: link, latency: alpha, algorithm: .tree)
  #expect(ring.rawValue == 2 * 63 * 10_000 && tree.rawValue == 2 * 6 * 10_000)
}

@Test func kvCacheCapacitySwapAndReuse() throws {
  let m = try library.model("qwen3-8b")
  let hw = try library.hardware("h100-sxm5-80gb")
  let a = KVCacheAnalysis.analyze(model: m, kvDtype: .bf16, context: 40_960, hardware: hw, contexts: 4, turns: 5)
  let spare = Double(hw.hbmBytes.rawValue) - Double(Transformer.parameters(m)) * 2
  #expect(a.tokensThatFit == Int64(spare / 147_456))
  #expect(a.swapPerRequest == Nanoseconds(seconds: Double(2560 * 16) * 147_456 / 64e9))
  #expect(a.sequentialPrefillAttentionFLOPs.rawValue == 4 * a.parallelPrefillAttentionFLOPs.rawValue)  // (4c)² vs 4·c²
  #expect(a.multiTurnRecomputeFLOPs.rawValue == 5 * a.multiTurnCachedFLOPs.rawValue)
}
