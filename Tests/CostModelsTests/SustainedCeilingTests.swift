import CostModels
import Foundation
import TestSupport
import Testing

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
