import CostModels
import Foundation
import TestSupport
import Testing
import TraceModel

/// `value` as a spec's source would quote it: `794.5`, and `2970` for 2970.0.
private func quoted(_ value: Double) -> String {
  value.rounded() == value ? String(Int(value)) : String(value)
}

/// A source names where a number comes from: a URL, an arXiv paper, or a repository file at a
/// commit (`owner/name … commit <40 hex digits>`).
private func namesAPublicSource(_ source: String) -> Bool {
  source.contains("https://") || source.contains("arXiv")
    || source.range(of: #"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+ .*commit [0-9a-f]{40}"#, options: .regularExpression) != nil
}

/// Every built-in spec's sustained ceilings load, stay at or below the datasheet peak of the same
/// dtype (and the datasheet bandwidth), and each number is quoted in a source that names a URL,
/// paper or repository. The acceptance pair (H100 SXM, MI300X) has both a bf16 GEMM ceiling and
/// a streaming bandwidth, so the transfer between them uses measured ceilings on both sides.
@Test func builtInSustainedCeilingsAreSourcedAndBelowPeak() throws {
  let lib = SpecLibrary.embedded
  var withSustained = 0
  for name in lib.names("hardware") {
    let hw = try lib.hardware(name)
    guard let s = hw.sustained else { continue }
    withSustained += 1
    #expect(namesAPublicSource(s.source), "\(name): sustained.source names no URL, paper or repository")
    for (dtype, value) in s.tflops ?? [:] {
      let peak = try #require(hw.peakTFLOPs[dtype], "\(name): sustained \(dtype) has no datasheet peak")
      #expect(value > 0 && value <= peak, "\(name): sustained \(dtype) \(value) vs peak \(peak)")
      #expect(s.source.contains(quoted(value)), "\(name): sustained \(dtype) \(value) is not quoted in its source")
    }
    if let b = s.hbmGBps {
      #expect(b > 0 && b <= hw.hbmBandwidthGBps, "\(name): sustained hbmGBps \(b) vs \(hw.hbmBandwidthGBps)")
      #expect(s.source.contains(quoted(b)), "\(name): sustained hbmGBps \(b) is not quoted in its source")
    }
  }
  #expect(withSustained >= 9)
  for name in ["h100-sxm5-80gb", "mi300x"] {
    let hw = try lib.hardware(name)
    let bf16 = try #require(hw.computeCeiling(.bf16), "\(name) has no bf16 ceiling")
    #expect(bf16.sustained && hw.memoryCeiling.sustained, "\(name) lacks a sustained bf16 GEMM or HBM ceiling")
    #expect(bf16.rate < hw.peak(.bf16) ?? bf16.rate && hw.memoryCeiling.rate < hw.memoryBandwidth)
  }
}

/// A spec whose sustained block is wrong fails to load, naming the file and the JSON path.
@Test func badSustainedCeilingsFailToLoadNamingThePath() throws {
  let dir = FileManager.default.temporaryDirectory.appendingPathComponent("reprise-sustained-\(UUID().uuidString)")
  try FileManager.default.createDirectory(atPath: dir.path + "/hardware", withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(at: dir) }
  let base = try Data(contentsOf: URL(fileURLWithPath: TestPaths.packageRoot + "/Models/hardware/h100-sxm5-80gb.json"))
  let cases: [([String: Any], String)] = [
    (["tflops": ["bf16": -1], "source": "x"], "sustained.tflops.bf16: expected a positive number, found -1.0"),
    (["tflops": ["bf17": 500], "source": "x"], "sustained.tflops.bf17: unknown dtype"),
    (["tflops": ["bf16": 2000], "source": "x"], "sustained.tflops.bf16: 2000.0 exceeds the datasheet peak"),
    (["tflops": ["int8": 100], "source": "x"], "sustained.tflops.int8: no datasheet peak peakTFLOPs.int8"),
    (["hbmGBps": -5, "source": "x"], "sustained.hbmGBps: expected a positive number, found -5.0"),
    (["hbmGBps": 4000, "source": "x"], "sustained.hbmGBps: 4000.0 exceeds the datasheet bandwidth"),
    (["hbmGBps": 3000, "source": " "], "sustained.source: expected where the measurements come from"),
    (["hbmGBps": 3000], "sustained.source: missing required field"),
  ]
  for (sustained, message) in cases {
    var object = try #require(try JSONSerialization.jsonObject(with: base) as? [String: Any])
    object["sustained"] = sustained
    try JSONSerialization.data(withJSONObject: object).write(to: dir.appendingPathComponent("hardware/bad.json"))
    #expect { try SpecLibrary(root: dir.path).hardware("bad") } throws: { error in
      (error as? SpecError)?.isUsageError == false && "\(error)".contains("bad.json: \(message)")
    }
  }
}
