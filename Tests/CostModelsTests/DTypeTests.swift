import CostModels
import Foundation
import TestSupport
import Testing
import TraceImport
import TraceModel

@Test func dtypeNamesFromSpecsFlagsAndTraces() {
  #expect(DType(name: "c10::BFloat16") == .bf16 && DType(name: "bf16") == .bf16)
  #expect(DType(name: "float") == .fp32 && DType(name: "c10::Half") == .fp16)
  #expect(DType(name: "long int") == .int64 && DType(name: "unsigned char") == .uint8)
  #expect(DType(name: "c10::Float8_e4m3fnuz") == .fp8)
  #expect(DType(name: "c10::complex<float>") == .complex64)
  #expect(DType(name: "Scalar") == nil && DType(name: "") == nil)
  #expect(DType.int4.bytes == 0.5 && DType.bf16.bytes == 2 && DType.complex128.bytes == 16)
  #expect(DType.fp32.computePeaks == [.tf32, .fp32] && DType.fp8.computePeaks == [.fp8, .bf16])
  // An unknown dtype is counted as 2 bytes per element, as before there was a table.
  #expect(OpCost.elementBytes("Scalar") == 2 && OpCost.elementBytes("double") == 8)
}

@Test func specPeaksMustNameKnownDtypes() throws {
  let dir = FileManager.default.temporaryDirectory.appendingPathComponent("reprise-dtype-\(UUID().uuidString)")
  try FileManager.default.createDirectory(atPath: dir.path + "/hardware", withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(at: dir) }
  var text = try String(contentsOfFile: TestPaths.packageRoot + "/Models/hardware/h100-sxm5-80gb.json", encoding: .utf8)
  text = text.replacingOccurrences(of: "\"bf16\"", with: "\"bf17\"")
  try text.write(toFile: dir.path + "/hardware/typo.json", atomically: true, encoding: .utf8)
  #expect { try SpecLibrary(root: dir.path).hardware("typo") } throws: {
    "\($0)".contains("typo.json: peakTFLOPs.bf17: unknown dtype")
  }
}

/// A device without a peak for the kernels' dtype: the kernels are counted, their percentages
/// are 0, nothing traps (the old code force-unwrapped the bf16 peak).
@Test func kernelsWithoutAPeakAreCountedNotTrapped() throws {
  let library = SpecLibrary(root: TestPaths.packageRoot + "/Models")
  var fp8Only = try library.hardware("h100-sxm5-80gb")
  fp8Only.peakTFLOPs = ["fp8": 1979]
  let g = try Ingest.run(paths: [TestPaths.mi300]).graph
  let r = KernelRooflineReport.analyze(g, hardware: fp8Only)
  #expect(r.sizedKernels > 0 && r.kernelsWithoutPeak == r.sizedKernels)
  #expect(r.rows.allSatisfy { $0.peak == nil && $0.percentOfPeak == 0 })
  let full = KernelRooflineReport.analyze(g, hardware: try library.hardware("mi300x"))
  #expect(full.kernelsWithoutPeak == 0 && full.sizedKernels == r.sizedKernels)
}

/// An efficiency of 0 used to divide by zero and trap converting infinity to nanoseconds.
@Test func longContextRejectsEfficienciesOutsideTheUnitInterval() throws {
  let library = SpecLibrary(root: TestPaths.packageRoot + "/Models")
  let (m, hw) = (try library.model("llama-3.1-8b"), try library.hardware("h100-sxm5-80gb"))
  for bad in [0, -0.5, 1.5, Double.nan] {
    #expect(throws: ModelArgumentError.self) {
      _ = try LongContextAnalysis.analyze(model: m, hardware: hw, context: 1000, computeEfficiency: bad)
    }
  }
  let half = try LongContextAnalysis.analyze(model: m, hardware: hw, context: 1000, memoryEfficiency: 0.5)
  let full = try LongContextAnalysis.analyze(model: m, hardware: hw, context: 1000)
  #expect(abs(half.decodePerToken / full.decodePerToken - 2) < 1e-6)
}

/// Every rate a model divides by is checked when the spec is read, naming file and field.
@Test func specRatesMustBePositive() throws {
  let dir = FileManager.default.temporaryDirectory.appendingPathComponent("reprise-rates-\(UUID().uuidString)")
  try FileManager.default.createDirectory(atPath: dir.path + "/hardware", withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(at: dir) }
  let base = try Data(contentsOf: URL(fileURLWithPath: TestPaths.packageRoot + "/Models/hardware/h100-sxm5-80gb.json"))
  for (field, path) in [("pcie", "pcie.GBpsPerDirection"), ("hbm", "hbm.amount")] {
    var object = try #require(try JSONSerialization.jsonObject(with: base) as? [String: Any])
    var inner = try #require(object[field] as? [String: Any])
    inner[field == "pcie" ? "GBpsPerDirection" : "amount"] = 0
    object[field] = inner
    try JSONSerialization.data(withJSONObject: object).write(to: dir.appendingPathComponent("hardware/zero.json"))
    #expect { try SpecLibrary(root: dir.path).hardware("zero") } throws: {
      "\($0)".contains("zero.json: \(path): expected a positive number, found 0")
    }
  }
}
