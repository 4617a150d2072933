import Foundation
import TestSupport
import Testing

private func json(_ text: String) throws -> [String: Any] {
  try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
}

/// A `knobs` array as `KEY=VALUE count-key:count` lines.
private func rows(_ value: Any?) -> [String] {
  ((value as? [[String: Any]]) ?? []).map { k in
    let count = ["matchedEvents", "matchedRanks", "matchedTransfers"].compactMap { c in
      (k[c] as? Int).map { "\(c):\($0)" }
    }
    return "\(k["key"] ?? "")=\(k["value"] ?? "") " + count.joined(separator: " ")
  }
}

/// Knobs that match nothing warn on stderr, and every what-if document lists what each knob
/// matched: `knobs` in `whatif --json` and `diff --whatif --json`, `whatIf.knobMatches` (and a
/// report warning) in `report --whatif`.
@Test func knobsThatMatchNothingWarnAndEveryDocumentCountsMatches() throws {
  let dlrm = "Traces/public/dlrm-8rank"
  let w = try reprise(
    "whatif", dlrm, "--set", "rank.99.slowdown=2", "--set", "kernel.match=NoSuchKernel,scale=2", "--set",
    "compute.attention.scale=2", "--set", "rank.3.slowdown=1.5", "--json")
  #expect(w.status == 0, "\(w.stderr)")
  for line in [
    "warning: knob rank.99.slowdown=2 matched 0 ranks (the trace has ranks 0–7)",
    "warning: knob kernel.match=NoSuchKernel,scale=2 matched 0 kernels",
    "warning: knob compute.attention.scale=2 matched 0 kernels (the trace has no attention kernels)",
  ] { #expect(w.stderr.contains(line), "\(w.stderr)") }
  #expect(!w.stderr.contains("rank.3.slowdown"))
  #expect(
    rows(try json(w.stdout)["knobs"]) == [
      "rank.99.slowdown=2 matchedRanks:0", "kernel.match=NoSuchKernel,scale=2 matchedEvents:0",
      "compute.attention.scale=2 matchedEvents:0", "rank.3.slowdown=1.5 matchedRanks:1",
    ])
  // volta_sgemm_* kernels: only a case-insensitive pattern finds them as SGEMM.
  let d = try reprise("diff", dlrm, "--whatif", "kernel.match=(?i)SGEMM,scale=2", "--json")
  #expect(d.status == 0 && !d.stderr.contains("warning"), "\(d.stderr)")
  #expect(rows(try json(d.stdout)["knobs"]) == ["kernel.match=(?i)SGEMM,scale=2 matchedEvents:168"])
  let r = try reprise("report", dlrm, "--whatif", "rank.99.slowdown=2")
  #expect(r.status == 0 && r.stderr.contains("warning: knob rank.99.slowdown=2 matched 0 ranks"), "\(r.stderr)")
  let report = try json(r.stdout)
  #expect(rows((report["whatIf"] as? [String: Any])?["knobMatches"]) == ["rank.99.slowdown=2 matchedRanks:0"])
  let warnings = (report["summary"] as? [String: Any])?["reportWarnings"] as? [String]
  #expect(warnings?.contains { $0.hasPrefix("knob rank.99.slowdown=2 matched 0 ranks") } == true)
}

@Test func whatIfHelpSaysKernelMatchIsCaseSensitive() throws {
  let h = try reprise("whatif", "--help")
  #expect(h.stdout.contains("case-sensitive") && h.stdout.contains("(?i)"), "\(h.stdout)")
}

/// `link.intra.bandwidth` without --cluster scales from the interconnect of the GPU named in
/// deviceProperties (V100: NVLink 2, 150 GB/s per direction, as report and render topology use
/// it), so setting the V100's own 150 GB/s predicts the baseline, not a speed-up; without a
/// matching spec it scales from the measured bus bandwidth and says so.
@Test func linkBandwidthScalesFromTheGPUsSpecInterconnect() throws {
  let dlrm = "Traces/public/dlrm-8rank"
  let same = try reprise("whatif", dlrm, "--set", "link.intra.bandwidth=150GB/s", "--json")
  #expect(same.status == 0, "\(same.stderr)")
  let doc = try json(same.stdout)
  #expect(doc["speedup"] as? Double == 1.0)
  #expect((doc["stepNs"] as? [String: Any])?["predicted"] as? Int == doc["baselineStepNs"] as? Int)
  let knob = try #require((doc["knobs"] as? [[String: Any]])?.first)
  #expect(
    knob["baselineSource"] as? String == "hardware" && knob["baselineSpec"] as? String == "v100-sxm2-32gb NVLink 2")
  #expect(knob["baselineGBps"] as? Double == 150 && knob["matchedTransfers"] as? Int == 8)
  let text = try reprise("whatif", dlrm, "--set", "link.intra.bandwidth=150GB/s")
  #expect(
    text.stdout.contains(
      "link.intra.bandwidth=150GB/s scales 8 transfers from the v100-sxm2-32gb spec's NVLink 2, 150.0 GB/s per direction"
    ),
    "\(text.stdout)")
  let faster = try json(try reprise("whatif", dlrm, "--set", "link.intra.bandwidth=300GB/s", "--json").stdout)
  #expect((faster["speedup"] as? Double ?? 0) > 1)
  // A specs folder without hardware: the measured bus bandwidth is the baseline, and the output says so.
  let dir = FileManager.default.temporaryDirectory.appendingPathComponent("reprise-nohw-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: dir.appendingPathComponent("models"), withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(at: dir) }
  try FileManager.default.copyItem(
    atPath: TestPaths.packageRoot + "/Models/models/llama-2-7b.json", toPath: dir.path + "/models/llama-2-7b.json")
  let measured = try reprise("whatif", dlrm, "--set", "link.intra.bandwidth=150GB/s", "--models", dir.path)
  #expect(measured.status == 0, "\(measured.stderr)")
  #expect(
    measured.stdout.contains("scales 8 transfers from the measured bus bandwidth, 20.3 GB/s weighted by bus bytes"),
    "\(measured.stdout)")
  let m = try json(
    try reprise("whatif", dlrm, "--set", "link.intra.bandwidth=150GB/s", "--models", dir.path, "--json").stdout)
  let mk = try #require((m["knobs"] as? [[String: Any]])?.first)
  #expect(mk["baselineSource"] as? String == "measured" && mk["baselineSpec"] == nil)
  #expect(abs((mk["baselineGBps"] as? Double ?? 0) - 20.302) < 0.001)
}

/// `dp.backup=K`: K at least the data-parallel group size exits 64 naming the group size; on
/// the gloo DDP run the JSON and the text name the dropped rank of every step.
@Test func backupWorkersOnTheCommandLine() throws {
  let ddp = "Traces/kineto-cpu/ddp-gloo-4rank"
  let bad = try reprise("whatif", ddp, "--set", "dp.backup=4")
  #expect(bad.status == 64 && bad.stderr.contains("has 4 ranks; K must be below 4"), "\(bad.stderr)")
  let w = try reprise("whatif", ddp, "--set", "rank.1.slowdown=2", "--set", "dp.backup=1", "--json")
  #expect(w.status == 0, "\(w.stderr)")
  let doc = try json(w.stdout)
  let backup = try #require(doc["backupWorkers"] as? [String: Any])
  #expect(backup["k"] as? Int == 1 && backup["groupSize"] as? Int == 4 && (backup["stepNs"] as? Int ?? 0) > 0)
  #expect(rows(doc["knobs"]) == ["rank.1.slowdown=2 matchedRanks:1", "dp.backup=1 matchedTransfers:36"])
  let t = try reprise("whatif", ddp, "--set", "rank.1.slowdown=2", "--set", "dp.backup=1")
  #expect(t.stdout.contains("dropped: #1 rank 1; #2 rank 1; #3 rank 1"), "\(t.stdout)")
  let r = try reprise("report", ddp, "--whatif", "rank.1.slowdown=2", "--whatif", "dp.backup=1")
  #expect(r.status == 0, "\(r.stderr)")
  let section = (try json(r.stdout)["whatIf"] as? [String: Any])?["backupWorkers"] as? [String: Any]
  #expect(section?["stepNs"] as? Int == backup["stepNs"] as? Int, "\(section ?? [:])")
}
