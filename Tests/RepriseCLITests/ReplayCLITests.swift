import Foundation
import TestSupport
import Testing

@Test func replayJSONFollowsTheContract() throws {
  let r = try reprise("replay", "Traces/generated/ddp-4rank", "--json")
  #expect(r.status == 0, "\(r.stderr)")
  let obj = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
  #expect(obj["schema"] as? String == "reprise.replay/v1")
  let ranks = try #require(obj["ranks"] as? [[String: Any]])
  #expect(ranks.count == 8)  // 4 ranks × 2 steps
  for rank in ranks {
    for key in ["rank", "measuredStepNs", "predictedStepNs", "errorPct", "step"] {
      #expect(rank[key] != nil, "missing \(key)")
    }
    #expect(abs(rank["errorPct"] as? Double ?? 99) <= 0.5)
  }
  let step = try #require(obj["stepNs"] as? [String: Int])
  #expect(step["measured"] == step["predicted"])
  #expect((obj["events"] as? Int ?? 0) > 0)
  // The document is deterministic: no wall-clock numbers (the text output shows the replay speed).
  #expect(obj["replayEventsPerSecond"] == nil)
  let again = try reprise("replay", "Traces/generated/ddp-4rank", "--json")
  #expect(again.stdout == r.stdout)
}

@Test func whatIfJSONAddsBaselineKnobsAndSpeedup() throws {
  let r = try reprise(
    "whatif", "Traces/generated/ddp-4rank", "--set", "compute.scale=0.5", "--set", "rank.2.slowdown=1.2", "--json")
  #expect(r.status == 0, "\(r.stderr)")
  let obj = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
  let knobs = try #require(obj["whatIf"] as? [String: String])
  #expect(knobs == ["compute.scale": "0.5", "rank.2.slowdown": "1.2"])
  let base = try #require(obj["baselineStepNs"] as? Int)
  let pred = try #require((obj["stepNs"] as? [String: Int])?["predicted"])
  let speedup = try #require(obj["speedup"] as? Double)
  #expect(pred < base && speedup > 1)
  #expect(abs(speedup - Double(base) / Double(pred)) < 1e-3)
}

@Test func badKnobsExit64WithTheValidKeys() throws {
  let r = try reprise("whatif", "Traces/generated/ddp-4rank", "--set", "compute.speed=2")
  #expect(r.status == 64)
  #expect(
    r.stderr.contains("unknown key 'compute.speed'") && r.stderr.contains("valid keys:")
      && r.stderr.contains("link.inter.bandwidth"))
  let bad = try reprise("whatif", "Traces/generated/ddp-4rank", "--set", "link.inter.bandwidth=fast")
  #expect(bad.status == 64 && bad.stderr.contains("expected a bandwidth"))
  let noEq = try reprise("whatif", "Traces/generated/ddp-4rank", "--set", "comm.scale")
  #expect(noEq.status == 64 && noEq.stderr.contains("expected KEY=VALUE"))
  let neg = try reprise("whatif", "Traces/generated/ddp-4rank", "--set", "comm.scale=-1")
  #expect(neg.status == 64)
}

@Test func badClusterSpecExit65NamingThePath() throws {
  let dir = FileManager.default.temporaryDirectory.appendingPathComponent("reprise-cluster-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(at: dir) }
  let spec = dir.appendingPathComponent("bad.json").path
  _ = FileManager.default.createFile(
    atPath: spec,
    contents: Data(#"{"name": "x", "gpusPerNode": 8, "nodes": [{"intraNodeGBps": "fast", "nicGBps": 50}]}"#.utf8))
  let r = try reprise("whatif", "Traces/generated/ddp-4rank", "--cluster", spec, "--set", "link.inter.bandwidth=25GB/s")
  #expect(r.status == 65)
  #expect(r.stderr.contains("bad.json") && r.stderr.contains("nodes[0].intraNodeGBps"), "\(r.stderr)")
  let ok = try reprise(
    "whatif", "Traces/generated/ddp-4rank", "--cluster", "Models/clusters/mixed-nic-4node.json", "--set",
    "link.intra.bandwidth=225GB/s")
  #expect(ok.status == 0, "\(ok.stderr)")
}

@Test func timelineIsAChromeTraceWithMeasuredAndPredictedGroups() throws {
  let out = FileManager.default.temporaryDirectory.appendingPathComponent("reprise-tl-\(UUID().uuidString).json").path
  defer { try? FileManager.default.removeItem(atPath: out) }
  let r = try reprise("whatif", "Traces/generated/pipeline-2rank", "--set", "comm.scale=2", "--timeline", out)
  #expect(r.status == 0, "\(r.stderr)")
  let obj = try #require(
    try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out))) as? [String: Any])
  let events = try #require(obj["traceEvents"] as? [[String: Any]])
  let processNames = Set(
    events.filter { $0["name"] as? String == "process_name" }.compactMap {
      ($0["args"] as? [String: Any])?["name"] as? String
    })
  #expect(processNames == ["measured rank 0", "measured rank 1", "predicted rank 0", "predicted rank 1"])
  // Every event once per timeline; the analyses (bubbles, critical path) ride on extra tracks.
  let slices = events.filter {
    $0["ph"] as? String == "X" && $0["cat"] as? String != "bubble" && $0["cat"] as? String != "critical_path"
  }
  #expect(slices.count == 2 * 114)
}

@Test func replayOfAnEmptyRunIsAClearError() throws {
  let dir = FileManager.default.temporaryDirectory.appendingPathComponent("reprise-empty-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(at: dir) }
  let f = dir.appendingPathComponent("rank0.json").path
  _ = FileManager.default.createFile(
    atPath: f,
    contents: Data(#"{"traceEvents": [{"ph": "i", "name": "marker", "pid": 1, "tid": 1, "ts": 5, "s": "g"}]}"#.utf8))
  let r = try reprise("replay", f)
  #expect(r.status == 65)
  #expect(r.stderr.contains("nothing to replay") && r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
}

@Test func inconsistentCollectiveOrderIsACycleNotAHang() throws {
  // Rank 1 numbers its two all-reduces in the opposite order of rank 0 on the same stream:
  // each rank's first collective waits for a peer call queued behind the other instance.
  let dir = FileManager.default.temporaryDirectory.appendingPathComponent("reprise-cycle-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(at: dir) }
  for (rank, seqs) in [(0, [0, 1]), (1, [1, 0])] {
    let kernels = seqs.enumerated().map { i, seq in
      #"{"ph": "X", "cat": "kernel", "name": "ncclDevKernel_AllReduce_Sum_f32_RING_LL", "pid": 0, "tid": 20, "ts": \#(100 + i * 50), "dur": 40, "args": {"Seq": \#(seq), "Collective name": "allreduce", "dtype": "Float", "In msg nelems": 1024, "Group size": 2}}"#
    }
    let doc =
      #"{"distributedInfo": {"rank": \#(rank), "world_size": 2}, "traceEvents": [\#(kernels.joined(separator: ","))]}"#
    _ = FileManager.default.createFile(
      atPath: dir.appendingPathComponent("rank\(rank).json").path, contents: Data(doc.utf8))
  }
  let r = try reprise("replay", dir.path)
  #expect(r.status == 65)
  #expect(r.stderr.contains("replay cannot proceed") && r.stderr.contains("wait on each other"), "\(r.stderr)")
}

/// Issue 12, bug 5: `whatif TRACE --schedule NAME --timeline FILE` exited 0 and wrote no file.
/// The file holds the recorded run and the pipeline simulated under the recorded and the new
/// schedule; the predicted group spans the target schedule's makespan.
@Test func scheduleSwapWritesItsTimeline() throws {
  let out = FileManager.default.temporaryDirectory.appendingPathComponent("reprise-swap-\(UUID().uuidString).json").path
  defer { try? FileManager.default.removeItem(atPath: out) }
  let r = try reprise("whatif", "Traces/kineto-cpu/pipeline-1f1b", "--schedule", "gpipe", "--timeline", out, "--json")
  #expect(r.status == 0, "\(r.stderr)")
  let summary = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
  let makespan = try #require((summary["pipeline"] as? [String: Any])?["targetMakespanNs"] as? Int)
  let data = try #require(FileManager.default.contents(atPath: out), "no timeline written")
  let obj = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
  let events = try #require(obj["traceEvents"] as? [[String: Any]])
  var groupOf: [Int: String] = [:]
  for e in events where e["name"] as? String == "process_name" {
    let name = try #require((e["args"] as? [String: Any])?["name"] as? String)
    let cut = try #require(name.range(of: " rank "))
    groupOf[try #require(e["pid"] as? Int)] = String(name[..<cut.lowerBound])
  }
  #expect(Set(groupOf.values) == ["measured", "simulated 1f1b", "predicted gpipe"])
  let predicted = events.filter { $0["ph"] as? String == "X" && groupOf[$0["pid"] as? Int ?? -1] == "predicted gpipe" }
  let starts = predicted.compactMap { $0["ts"] as? Double }
  let ends = predicted.compactMap { e in (e["ts"] as? Double).flatMap { t in (e["dur"] as? Double).map { t + $0 } } }
  let span = try #require(ends.max()) - (try #require(starts.min()))
  #expect(abs(span * 1000 - Double(makespan)) < 2, "span \(span) µs vs makespan \(makespan) ns")
}

/// Issue 12, bug 9: two identical runs must print identical results. The replay's wall-clock
/// speed was on the first line of the `replay`/`whatif` table (and in `--json` before the
/// contracts moved to the library); it is now on stderr with `-v` only. Every `--json` output
/// (replay, whatif, diff, report) is byte-identical across runs and has no wall-clock key.
@Test func identicalRunsPrintIdenticalOutput() throws {
  let set = "Traces/generated/ddp-4rank"
  let commands: [[String]] = [
    ["replay", set], ["whatif", set, "--set", "compute.scale=0.5"], ["replay", set, "--json"],
    ["whatif", set, "--set", "compute.scale=0.5", "--json"], ["diff", set, "--whatif", "comm.scale=2", "--json"],
    ["report", set],
  ]
  for args in commands {
    let first = try reprise(args)
    let second = try reprise(args)
    #expect(first.status == 0 && second.status == 0, "\(args): \(first.stderr)")
    #expect(first.stdout == second.stdout, "\(args): output differs between two identical runs")
    #expect(!first.stdout.contains("PerSecond") && !first.stdout.contains("events/s"), "\(args)")
  }
  let verbose = try reprise("replay", set, "-v")
  #expect(verbose.stderr.contains("replay took") && verbose.stderr.contains("M events/s"), "\(verbose.stderr)")
}

/// `whatif --schedule zb-h1` on a fused backward (the CPU 1F1B capture) says that W is unknown
/// and how it was split, in the text and the JSON, instead of quietly equalling 1F1B; a target
/// that fuses B and W says nothing of it.
@Test func zbH1OnAFusedBackwardSaysHowWWasSplit() throws {
  let f1b = "Traces/kineto-cpu/pipeline-1f1b"
  let t = try reprise("whatif", f1b, "--schedule", "zb-h1")
  #expect(t.status == 0 && t.stdout.contains("W unknown: the recorded backward is fused"), "\(t.stdout)\(t.stderr)")
  let j = try reprise("whatif", f1b, "--schedule", "zb-h1", "--json")
  let obj = try #require(try JSONSerialization.jsonObject(with: Data(j.stdout.utf8)) as? [String: Any])
  let pipeline = try #require(obj["pipeline"] as? [String: Any])
  let weight = try #require(pipeline["weight"] as? [String: Any], "\(pipeline)")
  #expect(weight["known"] as? Bool == false && weight["fraction"] as? Double == 0.5)
  #expect((pipeline["targetMakespanNs"] as? Int ?? 0) < (pipeline["sourceMakespanNs"] as? Int ?? 0))
  let gpipe = try reprise("whatif", f1b, "--schedule", "gpipe", "--json")
  #expect(gpipe.status == 0 && !gpipe.stdout.contains("\"weight\"") && !gpipe.stdout.contains("W unknown"))
}

/// `dp.degree` and `pg.NAME.…` show the process groups and which one is data-parallel; a group
/// the run does not have is a bad flag (64).
@Test func processGroupKnobsShowTheGroups() throws {
  let ddp = "Traces/kineto-cpu/ddp-gloo-4rank"
  let t = try reprise("whatif", ddp, "--set", "dp.degree=8")
  #expect(t.status == 0 && t.stdout.contains("'default' (default_pg, 4 ranks): 36 collectives, data-parallel"))
  let j = try reprise("whatif", ddp, "--set", "pg.default_pg.scale=2", "--json")
  #expect(j.status == 0 && j.stdout.contains("\"dataParallelRule\": \"the only process group with collectives\""))
  let bad = try reprise("whatif", ddp, "--set", "pg.TENSOR_MODEL_PARALLEL_GROUP.scale=2")
  #expect(bad.status == 64 && bad.stderr.contains("no process group 'TENSOR_MODEL_PARALLEL_GROUP'"), "\(bad.stderr)")
}

/// `--fold-symmetric`: the JSON says how many ranks were folded into how many classes and the
/// text prints a folding line; without the flag there is no `folding` key; the folded steps
/// match the full replay's on this set; a knob that singles out a rank turns folding off.
@Test func foldSymmetricReportsTheFolding() throws {
  let full = try reprise("whatif", "Traces/generated/ddp-4rank", "--set", "compute.scale=0.5", "--json")
  let r = try reprise(
    "whatif", "Traces/generated/ddp-4rank", "--set", "compute.scale=0.5", "--fold-symmetric", "--json")
  #expect(r.status == 0, "\(r.stderr)")
  let obj = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
  let folding = try #require(obj["folding"] as? [String: Any])
  #expect(folding["ranks"] as? Int == 4 && folding["classes"] as? Int == 1 && folding["foldedRanks"] as? Int == 3)
  #expect((folding["groups"] as? [[Int]])?.first.map(Set.init) == Set([0, 1, 2, 3]))
  let plain = try #require(try JSONSerialization.jsonObject(with: Data(full.stdout.utf8)) as? [String: Any])
  #expect(plain["folding"] == nil)
  #expect((obj["jobStepNs"] as? [String: Int])?["predicted"] == (plain["jobStepNs"] as? [String: Int])?["predicted"])
  let text = try reprise("replay", "Traces/generated/ddp-4rank", "--fold-symmetric")
  #expect(text.stdout.contains("folding: 4 ranks in 1 classes (3 folded"))
  let off = try reprise(
    "whatif", "Traces/generated/ddp-4rank", "--set", "rank.2.slowdown=1.2", "--fold-symmetric")
  #expect(off.stdout.contains("folding: off under rank.N.slowdown"))
  let dlrm = try reprise("replay", "Traces/public/dlrm-8rank", "--fold-symmetric")
  #expect(dlrm.stdout.contains("folding: no symmetric ranks (0 folded"))
}
