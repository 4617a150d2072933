import Foundation
import TestSupport
import Testing

/// A temporary folder for one test's files, removed by `defer`.
private func scratchFolder() throws -> URL {
  let dir = FileManager.default.temporaryDirectory.appendingPathComponent("reprise-calibrate-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
  return dir
}

/// A short calibration writes a spec that `model roofline --hardware FILE` takes on a CPU trace,
/// prints the figures, and its JSON carries the spec it wrote.
@Test func calibrateWritesASpecThatRooflineAccepts() throws {
  let dir = try scratchFolder()
  defer { try? FileManager.default.removeItem(at: dir) }
  let spec = dir.path + "/this-cpu.json"
  let r = try reprise("calibrate", "--seconds", "0.2", "--name", "this-cpu", "-o", spec, "--json")
  #expect(r.status == 0, "\(r.stderr)")
  let o = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
  #expect(o["schema"] as? String == "reprise.calibrate/v1" && o["specFile"] as? String == spec)
  let written = try #require(
    try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: spec))) as? [String: Any])
  #expect(written["name"] as? String == "this-cpu")
  let peak = try #require((written["peakTFLOPs"] as? [String: Double])?["fp32"])
  let gbps = try #require(written["hbmBandwidthGBps"] as? Double)
  #expect(peak > 0 && gbps > 0 && written["interconnect"] == nil)
  let roofline = try reprise(
    "model", "roofline", "Traces/kineto-cpu/ddp-gloo-4rank", "--hardware", spec, "--json")
  #expect(roofline.status == 0, "\(roofline.stderr)")
  let rj = try #require(try JSONSerialization.jsonObject(with: Data(roofline.stdout.utf8)) as? [String: Any])
  #expect(rj["hardware"] as? String == "this-cpu" && rj["hbmBandwidthGBps"] as? Double == gbps)
  let text = try reprise("calibrate", "--seconds", "0.2", "-o", spec)
  #expect(text.status == 0 && text.stdout.contains("GB/s") && text.stdout.contains("GFLOP/s"), "\(text.stderr)")
  #expect(text.stdout.contains("wrote hardware spec"))
}

/// A CPU trace re-timed from the calibrated spec to itself is the identity (issue 13's acceptance
/// line), and to the same spec with every ceiling doubled it is faster: the spec is read, not
/// ignored.
@Test func calibratedSpecTransfersACPUTrace() throws {
  let dir = try scratchFolder()
  defer { try? FileManager.default.removeItem(at: dir) }
  let spec = dir.path + "/cpu.json"
  let r = try reprise("calibrate", "--seconds", "0.2", "-o", spec)
  #expect(r.status == 0, "\(r.stderr)")
  var doubled = try #require(
    try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: spec))) as? [String: Any])
  let peak = try #require((doubled["peakTFLOPs"] as? [String: Double])?["fp32"])
  let gbps = try #require(doubled["hbmBandwidthGBps"] as? Double)
  doubled["peakTFLOPs"] = ["fp32": 2 * peak]
  doubled["hbmBandwidthGBps"] = 2 * gbps
  doubled["sustained"] = ["tflops": ["fp32": 2 * peak], "hbmGBps": 2 * gbps, "source": "doubled"]
  try JSONSerialization.data(withJSONObject: doubled).write(to: URL(fileURLWithPath: dir.path + "/fast.json"))
  func jobStep(_ target: String) throws -> (baseline: Int, predicted: Int) {
    let w = try reprise(
      "whatif", "Traces/kineto-cpu/ddp-gloo-4rank", "--hardware", target, "--from", spec, "--json")
    #expect(w.status == 0, "\(w.stderr)")
    let o = try #require(try JSONSerialization.jsonObject(with: Data(w.stdout.utf8)) as? [String: Any])
    let step = try #require(o["jobStepNs"] as? [String: Int])
    return (try #require(o["baselineJobStepNs"] as? Int), try #require(step["predicted"]))
  }
  let same = try jobStep(spec)
  #expect(same.predicted == same.baseline)
  let fast = try jobStep(dir.path + "/fast.json")
  #expect(fast.predicted < fast.baseline)
}

@Test(arguments: [
  (["--seconds", "0"], "--seconds 0.0: expected a time in (0, 3600] seconds"),
  (["--seconds", "nan"], "--seconds nan"), (["--seconds", "abc"], "--seconds"),
  (["--threads", "0"], "--threads 0: expected 1…1024"), ([String](), "Missing expected argument '--output"),
])
func calibrateBadFlagsExit64(_ flags: [String], _ message: String) throws {
  let dir = try scratchFolder()
  defer { try? FileManager.default.removeItem(at: dir) }
  let output = message.contains("--output") ? [] : ["-o", dir.path + "/x.json"]
  let r = try reprise(["calibrate"] + flags + output)
  #expect(r.status == 64 && r.stderr.contains(message), "\(r.status) \(r.stderr)")
  #expect(!FileManager.default.fileExists(atPath: dir.path + "/x.json"))
}

/// An output that cannot be written fails at once (before the measuring time), in one line
/// naming the path, with exit 65.
@Test func calibrateUnwritableOutputExits65InOneLine() throws {
  let dir = try scratchFolder()
  defer { try? FileManager.default.removeItem(at: dir) }
  for (path, reason) in [
    (dir.path + "/missing/spec.json", "no such directory"), (dir.path, "it is a directory"),
  ] {
    let r = try reprise("calibrate", "--seconds", "600", "-o", path)
    #expect(r.status == 65, "\(r.stderr)")
    #expect(
      r.stderr == "reprise: \(path): cannot write: \(reason)"
        + (reason.hasPrefix("no") ? " \(dir.path)/missing\n" : "\n"))
  }
}
