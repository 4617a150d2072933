import Foundation
import TestSupport
import Testing

private let ddp = TestPaths.bundledTraces + "/ddp-4rank"
private let pipeline = TestPaths.bundledTraces + "/pipeline-2rank"

private func tempDir(_ tag: String) -> String {
  let d = FileManager.default.temporaryDirectory.appendingPathComponent("reprise-\(tag)-\(UUID().uuidString)").path
  try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
  return d
}

private func object(_ text: String) throws -> [String: Any] {
  try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
}

@Test func reportHasEverySectionCSVAndIsByteIdentical() throws {
  let dir = tempDir("report")
  defer { try? FileManager.default.removeItem(atPath: dir) }
  let a = try reprise("report", ddp, "-o", dir + "/a.json", "--csv", dir + "/csv")
  #expect(a.status == 0, "\(a.stderr)")
  let b = try reprise("report", ddp, "-o", dir + "/b.json")
  #expect(b.status == 0)
  let ta = try String(contentsOfFile: dir + "/a.json", encoding: .utf8)
  let tb = try String(contentsOfFile: dir + "/b.json", encoding: .utf8)
  #expect(ta == tb)
  let doc = try object(ta)
  #expect(doc["schema"] as? String == "reprise.report/v2")
  for key in ["summary", "breakdown", "bubbles", "bandwidth", "memory", "criticalPath", "stragglers"] {
    #expect(doc[key] is [String: Any], "\(key)")
  }
  #expect(doc["whatIf"] is NSNull)
  let stragglers = try #require(doc["stragglers"] as? [String: Any])
  #expect(stragglers["flagged"] as? [Int] == [2])
  // One CSV per section, header = the JSON keys, one row per rank for the breakdown.
  let breakdown = try String(contentsOfFile: dir + "/csv/breakdown.csv", encoding: .utf8).split(separator: "\n")
  #expect(breakdown.count == 5 && breakdown[0].hasPrefix("rank,lanes,spanStartNs,spanNs,computeNs"))
  for name in [
    "summary", "bubbles", "bubble_ranks", "bandwidth", "bandwidth_buckets", "stragglers", "memory", "memory_devices",
    "critical_path",
  ] {
    #expect(FileManager.default.fileExists(atPath: dir + "/csv/\(name).csv"), "\(name)")
  }
  // Standard output without -o.
  let s = try reprise("report", pipeline)
  #expect(s.status == 0 && s.stdout.hasPrefix("{") && s.stdout.contains("\"rankChanges\": 2"))
}

/// Issue 16: the default report summarises the bubbles, the critical path and the collective
/// instances; `--detail` adds every row, the same rows as the CSV files, and changes nothing else.
@Test func reportDetailAddsTheFullListsOnly() throws {
  let dir = tempDir("detail")
  defer { try? FileManager.default.removeItem(atPath: dir) }
  let plain = try reprise("report", ddp, "-o", dir + "/plain.json", "--csv", dir + "/csv")
  #expect(plain.status == 0, "\(plain.stderr)")
  let full = try reprise("report", ddp, "--detail", "-o", dir + "/full.json")
  #expect(full.status == 0 && full.stdout.contains("wrote \(dir)/full.json"), "\(full.stderr)")
  let summary = try object(try String(contentsOfFile: dir + "/plain.json", encoding: .utf8))
  var detail = try object(try String(contentsOfFile: dir + "/full.json", encoding: .utf8))
  let bubbles = try #require(summary["bubbles"] as? [String: Any])
  let path = try #require(summary["criticalPath"] as? [String: Any])
  let bandwidth = try #require(summary["bandwidth"] as? [String: Any])
  #expect(bubbles["intervals"] == nil && path["segments"] == nil && bandwidth["instances"] == nil)
  #expect((bubbles["longest"] as? [Any])?.isEmpty == false && (path["byOp"] as? [Any])?.isEmpty == false)
  var fullBubbles = try #require(detail["bubbles"] as? [String: Any])
  var fullPath = try #require(detail["criticalPath"] as? [String: Any])
  let intervals = try #require(fullBubbles.removeValue(forKey: "intervals") as? [[String: Any]])
  let segments = try #require(fullPath.removeValue(forKey: "segments") as? [[String: Any]])
  var fullBandwidth = try #require(detail["bandwidth"] as? [String: Any])
  let instances = try #require(fullBandwidth.removeValue(forKey: "instances") as? [[String: Any]])
  #expect(instances.count == bandwidth["instanceCount"] as? Int)
  #expect(intervals.count == bubbles["intervalCount"] as? Int && segments.count == path["segmentCount"] as? Int)
  // One CSV line per row, header aside.
  let csvLines = { (name: String) in
    try String(contentsOfFile: dir + "/csv/\(name).csv", encoding: .utf8).split(separator: "\n").count - 1
  }
  #expect(try csvLines("bubbles") == intervals.count && csvLines("critical_path") == segments.count)
  #expect(try csvLines("bandwidth") == instances.count)
  for name in ["bubble_lanes", "bubble_causes", "critical_path_ops", "bandwidth_groups"] {
    #expect(FileManager.default.fileExists(atPath: dir + "/csv/\(name).csv"), "\(name)")
  }
  // Without the lists, the detailed document is the summary.
  detail["bubbles"] = fullBubbles
  detail["criticalPath"] = fullPath
  detail["bandwidth"] = fullBandwidth
  #expect(NSDictionary(dictionary: detail).isEqual(to: summary))
  // To standard output too.
  let out = try reprise("report", ddp, "--detail")
  #expect(out.status == 0)
  let outBubbles = try object(out.stdout)["bubbles"] as? [String: Any]
  #expect(outBubbles?["intervals"] != nil)
}

@Test func reportUnderAWhatIfShowsWhatChanged() throws {
  let r = try reprise("report", ddp, "--whatif", "compute.scale=0.5", "--model", "llama-2-7b", "--zero", "1")
  #expect(r.status == 0, "\(r.stderr)")
  let w = try #require(try object(r.stdout)["whatIf"] as? [String: Any])
  #expect(w["knobs"] as? [String: String] == ["compute.scale": "0.5"])
  let base = try #require(w["baselineStepNs"] as? Int)
  let pred = try #require(w["predictedStepNs"] as? Int)
  #expect(pred < base && abs(Double(base) / Double(pred) - (w["speedup"] as? Double ?? 0)) < 1e-3)
  let classes = try #require(w["byClass"] as? [[String: Any]])
  #expect(
    (classes.first?["key"] as? String)?.hasPrefix("kernel:") == true && (classes.first?["deltaNs"] as? Int ?? 0) < 0)
  let memory = try #require(try object(r.stdout)["memory"] as? [String: Any])
  let modeled = try #require(memory["modeled"] as? [String: Any])
  #expect(
    modeled["model"] as? String == "llama-2-7b" && modeled["dataParallel"] as? Int == 4
      && modeled["zeroStage"] as? Int == 1)
  #expect(try reprise("report", ddp, "--whatif", "compute.speed=2").status == 64)
  #expect(try reprise("report", ddp, "--model", "gpt-17").status == 64)
}

@Test func diffComparesRunsAndWhatIfs() throws {
  let same = try reprise("diff", ddp, ddp, "--json")
  #expect(same.status == 0, "\(same.stderr)")
  let doc = try object(same.stdout)
  #expect(doc["schema"] as? String == "reprise.diff/v1" && doc["deltaStepNs"] as? Int == 0)
  #expect((doc["byClass"] as? [[String: Any]])?.allSatisfy { $0["deltaNs"] as? Int == 0 } == true)
  let w = try reprise("diff", ddp, "--whatif", "comm.scale=2")
  #expect(w.status == 0 && w.stdout.contains("collective:allReduce"))
  let first = w.stdout.split(separator: "\n").first { $0.hasPrefix("collective:") || $0.hasPrefix("kernel:") }
  #expect(first?.hasPrefix("collective:allReduce") == true, "\(w.stdout)")
  let two = try reprise("diff", ddp, pipeline)
  #expect(two.status == 0 && two.stdout.contains("sendRecv") && two.stdout.contains("step: A"))
  #expect(try reprise("diff", ddp).status == 64)
  #expect(try reprise("diff", ddp, pipeline, "--whatif", "comm.scale=2").status == 64)
}

@Test func renderWritesEveryKindInEveryFormat() throws {
  let dir = tempDir("render")
  defer { try? FileManager.default.removeItem(atPath: dir) }
  for kind in ["timeline", "graph", "critical-path", "topology"] {
    for ext in ["dot", "svg", "png"] {
      let file = dir + "/\(kind).\(ext)"
      let r = try reprise("render", kind, pipeline, "-o", file)
      #expect(r.status == 0, "\(kind).\(ext): \(r.stderr)")
      let data = try #require(FileManager.default.contents(atPath: file))
      switch ext {
      case "png": #expect(data.starts(with: [0x89, 0x50, 0x4E, 0x47]))
      case "svg": #expect(String(decoding: data, as: UTF8.self).contains("<svg"))
      default: #expect(String(decoding: data, as: UTF8.self).contains("graph"))
      }
    }
  }
  let topo = try reprise(
    "render", "topology", ddp, "--cluster", "Models/clusters/dgx-h100-4node.json", "-o", dir + "/t.dot")
  let topoDot = try String(contentsOfFile: dir + "/t.dot", encoding: .utf8)
  #expect(topo.status == 0 && topoDot.contains("(40%)"))
  #expect(try reprise("render", "timeline", ddp, "-o", dir + "/x.jpeg").status == 64)
  #expect(try reprise("render", "chart", ddp, "-o", dir + "/x.svg").status == 64)
  let step = try reprise("render", "timeline", ddp, "--step", "99", "-o", dir + "/x.svg")
  #expect(step.status == 64 && step.stderr.contains("no such profiler step"))
  #expect(try reprise("render", "timeline", dir + "/missing.json", "-o", dir + "/x.svg").status != 0)
}

@Test func perfettoTimelineCarriesBubblesAndCriticalPath() throws {
  let dir = tempDir("perfetto")
  defer { try? FileManager.default.removeItem(atPath: dir) }
  let r = try reprise("replay", pipeline, "--timeline", dir + "/t.json")
  #expect(r.status == 0, "\(r.stderr)")
  let doc = try object(try String(contentsOfFile: dir + "/t.json", encoding: .utf8))
  let events = try #require(doc["traceEvents"] as? [[String: Any]])
  let bubbles = events.filter { $0["cat"] as? String == "bubble" }
  let path = events.filter { $0["cat"] as? String == "critical_path" }
  #expect(!bubbles.isEmpty && bubbles.allSatisfy { ($0["name"] as? String)?.hasPrefix("idle: ") == true })
  #expect(
    path.contains { $0["ph"] as? String == "X" } && path.contains { $0["ph"] as? String == "s" }
      && path.contains { $0["ph"] as? String == "f" })
  #expect(
    events.contains {
      $0["ph"] as? String == "M" && ($0["args"] as? [String: Any])?["name"] as? String == "critical path"
    })
}

@Test func exportChakraWritesRanksThatReimport() throws {
  let dir = tempDir("chakra")
  defer { try? FileManager.default.removeItem(atPath: dir) }
  let r = try reprise("export", "chakra", pipeline, "-o", dir + "/pp")
  #expect(r.status == 0 && r.stdout.contains("wrote 2 file(s)"), "\(r.stderr)")
  #expect(
    FileManager.default.fileExists(atPath: dir + "/pp/reprise.0.et")
      && FileManager.default.fileExists(atPath: dir + "/pp/reprise.1.et"))
  let back = try reprise("replay", dir + "/pp")
  #expect(back.status == 0 && back.stdout.contains("measured 39.869 ms, predicted 39.869 ms"), "\(back.stdout)")
  let w = try reprise("export", "chakra", ddp, "-o", dir + "/w", "--name", "ddp", "--whatif", "compute.scale=0.5")
  #expect(w.status == 0 && w.stdout.contains("under compute.scale=0.5"))
  let ws = try reprise("replay", dir + "/w")
  #expect(ws.status == 0 && ws.stdout.contains("measured 14.27"), "\(ws.stdout)")
  let sched = try reprise(
    "schedule", "run", "zb-h1", "--stages", "2", "--microbatches", "4", "--forward", "1ms", "--backward", "1ms",
    "--weight", "1ms", "--chakra", dir + "/zb")
  #expect(sched.status == 0 && FileManager.default.fileExists(atPath: dir + "/zb/zb-h1.1.et"))
  #expect(try reprise("export", "chakra", ddp, "-o", dir + "/x", "--whatif", "nonsense=1").status == 64)
  // A truncated .et: one line naming the offset, exit 65.
  let data = try #require(FileManager.default.contents(atPath: dir + "/pp/reprise.0.et"))
  _ = FileManager.default.createFile(atPath: dir + "/cut.0.et", contents: data.prefix(data.count - 3))
  let cut = try reprise("ingest", dir + "/cut.0.et")
  #expect(
    cut.status == 65 && cut.stderr.contains("cut.0.et:@") && cut.stderr.split(separator: "\n").count == 1,
    "\(cut.stderr)")
}

@Test func topRanksKernelsAndOperators() throws {
  let text = try reprise("top", TestPaths.dlrm, "-n", "3")
  #expect(text.status == 0 && text.stdout.hasPrefix("top 3 of 81 kernels by total time"), "\(text.stderr)")
  let json = try object(try reprise("top", ddp, "--kind", "op", "--by", "self", "--phase", "backward", "--json").stdout)
  #expect(json["schema"] as? String == "reprise.top/v1" && json["phase"] as? String == "backward")
  let rows = try #require(json["rows"] as? [[String: Any]])
  #expect(rows.first?["name"] as? String == "autograd::engine::evaluate_function: AddmmBackward0")
  let csv = try reprise("top", ddp, "--csv", "-n", "2").stdout.split(separator: "\n")
  #expect(csv.count == 3 && csv[0].hasPrefix("kind,phase,by,position,name,category,count,totalNs,selfNs"))
  #expect(try reprise("top", ddp, "--kind", "module").status == 64)
}

@Test func reportAndWhatIfPrintVerdicts() throws {
  let dir = tempDir("verdict")
  defer { try? FileManager.default.removeItem(atPath: dir) }
  let r = try reprise("report", TestPaths.dlrm, "-o", dir + "/r.json")
  #expect(r.status == 0 && r.stdout.contains("verdict: host-bound: 13.1 of 20.7 ms of the critical path (step 10)"))
  #expect(r.stdout.contains("straggler-bound on rank 1") && r.stdout.contains("step times (per rank, all steps):"))
  let w = try reprise("whatif", TestPaths.dlrm, "--set", "host.launch=2us")
  #expect(w.status == 0 && w.stdout.contains("verdict (predicted): "), "\(w.stdout)")
}
