import Calibration
import CostModels
import Foundation
import Reports
import Testing

/// The spec `reprise calibrate` writes is one `SpecLibrary.hardware(path)` loads and validates,
/// equal to the one in the report.
@Test func calibrationSpecLoadsThroughTheSpecLibrary() throws {
  let file = FileManager.default.temporaryDirectory.appendingPathComponent("reprise-cal-\(UUID().uuidString).json").path
  defer { try? FileManager.default.removeItem(atPath: file) }
  let options = Calibration.Options(seconds: 0.05, threads: 1, triadElements: 1 << 20, gemmSize: 96)
  let report = try CalibrationReport(options: options, name: "bench-box", output: file)
  let loaded = try SpecLibrary.embedded.hardware(file)
  #expect(loaded == report.spec && loaded.name == "bench-box")
  #expect(loaded.computeCeiling(.fp32)?.rate.rawValue == report.spec.peakTFLOPs["fp32"].map { $0 * 1e12 })
  #expect(loaded.memoryCeiling.rate.rawValue == loaded.hbmBandwidthGBps * 1e9)
  #expect(report.text().contains("GB/s") && report.text().contains("GFLOP/s"))
  let json = try report.json()
  #expect(
    json.contains("\"schema\" : \"reprise.calibrate/v1\"") || json.contains("\"schema\": \"reprise.calibrate/v1\""))
}

/// An output path that cannot be written is refused before measuring, naming the path.
@Test func calibrationRefusesAnUnwritableOutputFirst() {
  // 20 s of measuring: a refusal after measuring would come late and with another message.
  let options = Calibration.Options(seconds: 20, triadElements: 1 << 20, gemmSize: 96)
  #expect(throws: RunError.data("/nonexistent-reprise/spec.json: cannot write: no such directory /nonexistent-reprise"))
  {
    try CalibrationReport(options: options, name: nil, output: "/nonexistent-reprise/spec.json")
  }
}
