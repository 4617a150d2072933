import Foundation
import TestSupport
import Testing

@Test func scheduleJSONContract() throws {
  let r = try reprise(
    "schedule", "zb-h1", "--stages", "4", "--microbatches", "8", "--forward", "18.5ms", "--backward", "18.1ms",
    "--weight", "9.3ms", "--p2p", "0.6ms", "--act-mem-b", "1GiB", "--act-mem-w", "0.5GiB", "--json")
  #expect(r.status == 0, "\(r.stderr)")
  let o = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
  #expect(o["schema"] as? String == "reprise.schedule/v1" && o["schedule"] as? String == "zb-h1")
  #expect(o["stages"] as? Int == 4 && o["microbatches"] as? Int == 8 && o["chunks"] as? Int == 1)
  for k in ["makespanNs", "bubbleRate", "bubbleFraction"] { #expect(o[k] != nil) }
  let stages = try #require(o["perStage"] as? [[String: Any]])
  #expect(stages.count == 4)
  #expect(
    stages[0]["peakActivationBytes"] as? Int == 4 * 1_073_741_824 && stages[0]["peakInFlightMicrobatches"] as? Int == 4)
  let all = try reprise(
    "schedule", "compare", "--stages", "4", "--microbatches", "8", "--forward", "1ms", "--backward", "1ms", "--weight",
    "1ms", "--all", "--json")
  #expect(all.status == 0)
  let arr = try #require(try JSONSerialization.jsonObject(with: Data(all.stdout.utf8)) as? [[String: Any]])
  #expect(arr.count == 9 && arr.contains { $0["schedule"] as? String == "zeropp" })
}

@Test func scheduleDiagramFilesAndErrors() throws {
  let out = FileManager.default.temporaryDirectory.appendingPathComponent("reprise-sched-\(UUID().uuidString).svg").path
  defer { try? FileManager.default.removeItem(atPath: out) }
  let r = try reprise(
    "schedule", "1f1b", "--stages", "2", "--microbatches", "4", "--forward", "1ms", "--backward", "2ms", "-o", out)
  let svg = try String(contentsOfFile: out, encoding: .utf8)
  #expect(r.status == 0 && svg.contains("<svg"))
  #expect(
    try reprise("schedule", "zb-h9", "--stages", "2", "--microbatches", "4", "--forward", "1ms", "--backward", "2ms")
      .status == 64)
  #expect(
    try reprise("schedule", "1f1b", "--stages", "2", "--microbatches", "4", "--forward", "fast", "--backward", "2ms")
      .status == 64)
}

@Test func scheduleSwapOnTheCPUCapture() throws {
  let r = try reprise("whatif", "Traces/kineto-cpu/pipeline-1f1b", "--schedule", "gpipe", "--json")
  #expect(r.status == 0, "\(r.stderr)")
  let o = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
  #expect((o["whatIf"] as? [String: String])?["schedule"] == "gpipe")
  #expect((o["pipeline"] as? [String: Any])?["detectedSchedule"] as? String == "1f1b")
  let notPipeline = try reprise("whatif", "Traces/generated/ddp-4rank", "--schedule", "gpipe")
  #expect(notPipeline.status == 65 && notPipeline.stderr.contains("not a pipeline-parallel trace"))
}

/// Issue 12, bug 8: the compare table cut the label to `interleaved-1f1b v`; `schedule
/// interleaved-1f1b` defaulted to v = 1 while compare used v = 2; v = 1 was accepted.
@Test func interleavedScheduleHasOneDefaultAndAFullLabel() throws {
  let costs = ["--stages", "4", "--microbatches", "8", "--forward", "1ms", "--backward", "1ms", "--weight", "1ms"]
  let table = try reprise(["schedule", "compare"] + costs)
  #expect(table.status == 0, "\(table.stderr)")
  let row = try #require(table.stdout.split(separator: "\n").first { $0.hasPrefix("interleaved-1f1b") })
  #expect(row.hasPrefix("interleaved-1f1b v=2 "), "\(row)")
  let compared = try reprise(["schedule", "compare", "--json"] + costs)
  let all = try #require(try JSONSerialization.jsonObject(with: Data(compared.stdout.utf8)) as? [[String: Any]])
  let inCompare = try #require(all.first { $0["schedule"] as? String == "interleaved-1f1b" })
  let single = try reprise(["schedule", "interleaved-1f1b", "--json"] + costs)
  #expect(single.status == 0, "\(single.stderr)")
  let alone = try #require(try JSONSerialization.jsonObject(with: Data(single.stdout.utf8)) as? [String: Any])
  #expect(alone["chunks"] as? Int == 2 && inCompare["chunks"] as? Int == 2)
  #expect(alone["makespanNs"] as? Int == inCompare["makespanNs"] as? Int)
  for args in [
    ["schedule", "interleaved-1f1b", "--chunks", "1"] + costs, ["schedule", "compare", "--chunks", "1"] + costs,
    ["whatif", "Traces/kineto-cpu/pipeline-1f1b", "--schedule", "interleaved-1f1b", "--chunks", "1"],
  ] {
    let r = try reprise(args)
    #expect(r.status == 64, "\(args): \(r.stderr)")
    #expect(r.stderr.contains("interleaved-1f1b needs --chunks ≥ 2"), "\(args): \(r.stderr)")
  }
}

/// `reprise schedule zeropp` runs with two chunks by default and refuses one chunk or a partial
/// unit of micro-batches (m not divisible by p) as usage errors.
@Test func scheduleZeroPP() throws {
  let r = try reprise(
    "schedule", "zeropp", "--stages", "4", "--microbatches", "8", "--forward", "1ms", "--backward", "1ms", "--weight",
    "1ms", "--json")
  #expect(r.status == 0, "\(r.stderr)")
  let o = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
  #expect(o["schedule"] as? String == "zeropp" && o["chunks"] as? Int == 2 && o["bubbleRate"] as? Double == 0)
  for bad in [["--chunks", "1"], ["--microbatches", "6"]] {
    var args = ["schedule", "zeropp", "--stages", "4", "--forward", "1ms", "--backward", "1ms"] + bad
    if !bad.contains("--microbatches") { args += ["--microbatches", "8"] }
    #expect(try reprise(args).status == 64, "\(bad)")
  }
}
