import Calibration
import CostModels
import Foundation
import Testing
import TraceModel

private enum TextFormatting {
  static func twoDecimals(_ v: Double) -> String { String(format: "%.2f", v) }
}

/// The naive triple loop, in Double, as the definition the kernel must match.
private func reference(_ a: [Float], _ b: [Float], m: Int, n: Int, k: Int) -> [Double] {
  var c = [Double](repeating: 0, count: m * n)
  for i in 0..<m {
    for p in 0..<k {
      let x = Double(a[i * k + p])
      for j in 0..<n { c[i * n + j] += x * Double(b[p * n + j]) }
    }
  }
  return c
}

/// Shapes that cross the kernel's blocks: depth beyond one 256-deep panel, rows beyond one
/// 96-row block, several column panels, and more threads than row tiles.
@Test(arguments: [(6, 16, 1, 1), (12, 32, 300, 1), (102, 48, 257, 2), (18, 16, 5, 4), (6, 64, 513, 3)])
func gemmKernelMatchesTheDefinition(_ shape: (Int, Int, Int, Int)) throws {
  let (m, n, k, threads) = shape
  let a = (0..<(m * k)).map { Float(($0 * 7919) % 13) / 4 - 1 }
  let b = (0..<(k * n)).map { Float(($0 * 104_729) % 11) / 8 - 0.5 }
  let c = try #require(GEMMMeasurement.product(a, b, m: m, n: n, k: k, threads: threads))
  let want = reference(a, b, m: m, n: n, k: k)
  for (got, expected) in zip(c, want) {
    #expect(abs(Double(got) - expected) <= 1e-4 * max(1, abs(expected)), "\(got) vs \(expected)")
  }
}

@Test func gemmProductRejectsShapesTheKernelCannotTile() {
  #expect(GEMMMeasurement.product([0, 0], [0, 0], m: 1, n: 16, k: 1) == nil)
  #expect(GEMMMeasurement.product([Float](repeating: 0, count: 6), [0], m: 6, n: 1, k: 1) == nil)
}

@Test func streamArraysAreFourTimesTheLastLevelCaches() {
  #expect(Calibration.streamElements(lastLevelCache: nil) == 1 << 24)
  #expect(Calibration.streamElements(lastLevelCache: Bytes(rawValue: 32 << 20)) == 1 << 24)
  // 2 × 96 MiB of L3: 4 × 192 MiB / 8 B = 100,663,296 elements.
  #expect(Calibration.streamElements(lastLevelCache: Bytes(rawValue: 192 << 20)) == 100_663_296)
}

@Test func optionsOutOfRangeNameTheFlag() {
  for (options, flag) in [
    (Calibration.Options(seconds: 0), "--seconds"), (Calibration.Options(seconds: .nan), "--seconds"),
    (Calibration.Options(threads: 0), "--threads"), (Calibration.Options(gemmSize: 100), "gemmSize"),
  ] {
    let error = #expect(throws: CalibrationOptionError.self) { try options.check() }
    #expect(error?.flag == flag)
  }
}

/// A short measurement: sizes and counts as documented, rates from bytes (flops) over the best
/// time, and a spec that validates and names this machine without a date.
@Test func shortMeasurementMakesAValidSpec() throws {
  let host = HostMachine(
    cpuModel: "Test CPU 9000 8-Core", logicalCPUs: 8, memoryBytes: Bytes(rawValue: 16 << 30),
    lastLevelCacheBytes: nil)
  let options = Calibration.Options(seconds: 0.05, threads: 2, triadElements: 1 << 20, gemmSize: 96)
  let c = try Calibration.measure(options, host: host)
  #expect(c.triad.elements == 1 << 20 && c.triad.bytesPerPass.rawValue == 24 << 20)
  #expect(c.triad.repetitions >= Calibration.minimumRepetitions && c.gemm.repetitions >= 3)
  #expect(abs(c.triad.gbps - Double(24 << 20) / Double(c.triad.bestNs.rawValue)) < 1e-9)
  #expect(c.gemm.flops.rawValue == 2 * 96 * 96 * 96)
  let spec = try c.hardwareSpec(version: "9.9.9").validated(file: "test")
  #expect(spec.name == "test-cpu-9000-8-core")
  #expect(spec.peakTFLOPs == ["fp32": (c.gemm.gflops * 1e3).rounded() / 1e6])
  #expect(spec.sustained?.tflops == spec.peakTFLOPs && spec.sustained?.hbmGBps == spec.hbmBandwidthGBps)
  #expect(spec.hbmBandwidthGBps == (c.triad.gbps * 100).rounded() / 100)
  #expect(spec.pcie.gbpsPerDirection == spec.hbmBandwidthGBps && spec.interconnect == nil)
  #expect(spec.hbm.amount == 16 && spec.hbm.unit == "GiB" && spec.launchOverheadUs == 0)
  #expect(spec.source.hasPrefix("reprise calibrate 9.9.9 on Test CPU 9000 8-Core (2 threads of 8 logical CPUs)"))
  #expect(spec.source == spec.sustained?.source)
  // No date and no timing in the text: a second run's source is the same.
  #expect(try Calibration.measure(options, host: host).hardwareSpec(version: "9.9.9").source == spec.source)
  #expect(!spec.source.contains(TextFormatting.twoDecimals(c.triad.gbps)))
  #expect(spec.computeCeiling(.fp32)?.sustained == true && spec.memoryCeiling.sustained)
}

@Test func hostMachineReadsThisMachine() {
  let host = HostMachine.current()
  #expect(!host.cpuModel.isEmpty && host.logicalCPUs >= 1 && host.memoryBytes.rawValue > 0)
}
