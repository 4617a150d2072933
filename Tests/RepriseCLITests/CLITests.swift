import Foundation
import TestSupport
import Testing

@Test func ingestJSONFollowsTheContract() throws {
  let r = try reprise("ingest", "Traces/generated/ddp-4rank", "--json")
  #expect(r.status == 0, "\(r.stderr)")
  let obj = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
  #expect(obj["schema"] as? String == "reprise.ingest/v1")
  #expect(obj["ranks"] as? Int == 4)
  for key in ["files", "lanes", "events", "steps", "collectives", "p2p", "clockOffsetsNs", "diagnostics", "inputBytes"]
  {
    #expect(obj[key] != nil, "missing \(key)")
  }
  let events = try #require(obj["events"] as? [String: Any])
  let byKind = try #require(events["byKind"] as? [String: Int])
  for k in ["hostOp", "kernel", "memcpy", "memset", "collective", "send", "recv", "annotation", "other"] {
    #expect(byKind[k] != nil, "byKind lacks \(k)")
  }
  #expect(byKind.values.reduce(0, +) == events["total"] as? Int)
  let coll = try #require(obj["collectives"] as? [String: Any])
  #expect(coll["instances"] as? Int == 6 && coll["matched"] as? Int == 6 && coll["unmatched"] as? Int == 0)
  let offsets = try #require(obj["clockOffsetsNs"] as? [String: Int])
  #expect(offsets["3"] == -180_000)
  let diags = try #require(obj["diagnostics"] as? [String: Int])
  #expect(Set(diags.keys) == ["note", "warning", "dataLoss", "error"])
}

@Test func outputIsByteIdenticalAcrossRuns() throws {
  let a = try reprise("ingest", "Traces/generated/pipeline-2rank", "--json")
  let b = try reprise("ingest", "Traces/generated/pipeline-2rank", "--json")
  #expect(a.status == 0 && a.stdout == b.stdout)
}

@Test func humanSummaryByDefault() throws {
  let r = try reprise("ingest", "Traces/generated/pipeline-2rank")
  #expect(r.status == 0)
  #expect(r.stdout.contains("send/recv     8 pairs, 0 unmatched"))
  #expect(r.stdout.contains("ingested 2 file(s), 2 rank(s)"))
}

@Test func badFlagsExit64() throws {
  let r = try reprise("ingest", "--frobnicate", "Traces/generated/ddp-4rank")
  #expect(r.status == 64)
  let none = try reprise("ingest")
  #expect(none.status == 64)
}

@Test func badDataExits65WithOneLine() throws {
  let dir = FileManager.default.temporaryDirectory.appendingPathComponent("reprise-cli-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(at: dir) }
  let truncated = dir.appendingPathComponent("rank0.json").path
  _ = FileManager.default.createFile(
    atPath: truncated, contents: Data(#"{"traceEvents": [{"ph": "X", "ts": 1, "du"#.utf8))
  let r = try reprise("ingest", truncated)
  #expect(r.status == 65)
  #expect(r.stdout.isEmpty)
  let lines = r.stderr.split(separator: "\n")
  #expect(
    lines.count == 1 && lines[0].contains("rank0.json:@") && lines[0].contains("expected")
      && lines[0].contains("found end of input"), "\(r.stderr)")
  let emptyDir = dir.appendingPathComponent("empty").path
  try FileManager.default.createDirectory(atPath: emptyDir, withIntermediateDirectories: true)
  let e = try reprise("ingest", emptyDir)
  #expect(e.status == 65 && e.stderr.contains("holds no trace files"))
}

@Test func strictTurnsWarningsIntoExit65() throws {
  // ddp-4rank has a skewed clock on rank 3: a warning.
  let lax = try reprise("ingest", "Traces/generated/ddp-4rank")
  #expect(lax.status == 0 && lax.stderr.contains("warning: rank clocks disagree"))
  let strict = try reprise("ingest", "--strict", "Traces/generated/ddp-4rank")
  #expect(strict.status == 65 && strict.stderr.contains("--strict"))
}

/// `make demo`: the main job on the real DLRM set writes the report, its CSV tables, the Perfetto
/// timeline and the four diagrams; every other bundled set gets its own files.
@Test func demoWritesItsReports() throws {
  let out = FileManager.default.temporaryDirectory.appendingPathComponent("reprise-demo-\(UUID().uuidString)").path
  defer { try? FileManager.default.removeItem(atPath: out) }
  let r = try reprise("demo", "--output", out)
  #expect(r.status == 0, "\(r.stderr)")
  for file in [
    "ingest.json", "breakdown.json", "bandwidth.json", "replay.json", "report.json", "summary.csv",
    "whatif.csv", "timeline.json", "timeline.svg", "graph.svg", "critical-path.svg", "topology.svg",
    "schedule-zb-h1.svg", "ddp-4rank.report.json", "pipeline-2rank.report.json", "mi300-qwen1.5-0.5b.roofline.json",
    "gpt-parallel-tp2.report.json", "gpt-parallel-pp2-1f1b.timeline.svg", "shards/rank-0.rshard",
    "shards/rank-7.rshard",
  ] {
    #expect(FileManager.default.fileExists(atPath: out + "/" + file), "\(file)")
  }
  let report = try #require(
    try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/report.json")))
      as? [String: Any])
  let summary = try #require(report["summary"] as? [String: Any])
  #expect(summary["ranks"] as? Int == 8 && summary["hardware"] as? String == "v100-sxm2-32gb")
  #expect((report["whatIf"] as? [String: Any])?["knobs"] as? [String: String] == ["host.launch": "2us"])
  #expect(r.stdout.contains("public/dlrm-8rank") && r.stdout.contains("what-if: compute.scale=0.5"))
  #expect(r.stdout.contains("8 shards") && r.stdout.contains("diagnostics as the traces"), "\(r.stdout)")
}

/// The command line prints the library's contracts unchanged: `ingest --json`, `replay --json`,
/// `report -o` and `diff --json` on the real DLRM set equal the goldens byte for byte (the
/// library-level goldens in ReportsTests cover every bundled set).
@Test func dlrmContractsFromTheCommandLineMatchTheGoldens() throws {
  func golden(_ name: String) -> String? {
    gunzip(TestPaths.packageRoot + "/Tests/ReportsTests/Goldens/public_dlrm-8rank.\(name).json.gz").map {
      String(decoding: $0, as: UTF8.self)
    }
  }
  let set = "Traces/public/dlrm-8rank"
  #expect(try reprise("ingest", set, "--json").stdout == golden("ingest"))
  #expect(try reprise("replay", set, "--json").stdout == golden("replay"))
  #expect(try reprise("diff", set, "--whatif", "compute.scale=0.5", "--json").stdout == golden("diff"))
  let out = FileManager.default.temporaryDirectory.appendingPathComponent("reprise-report-\(UUID().uuidString).json")
    .path
  defer { try? FileManager.default.removeItem(atPath: out) }
  #expect(try reprise("report", set, "-o", out).status == 0)
  #expect(try String(contentsOfFile: out, encoding: .utf8) == golden("report"))
}

/// Issue 12, bug 9: a `steps.json` of timings beside the rank files failed the run; it is skipped
/// with a note on stderr naming it and counted in the ingest summary. A subdirectory is searched.
/// Named on the command line, the same file is an error (65).
@Test func nonTraceFilesInADirectoryAreSkippedWithANote() throws {
  let dir = FileManager.default.temporaryDirectory.appendingPathComponent("reprise-skip-\(UUID().uuidString)").path
  defer { try? FileManager.default.removeItem(atPath: dir) }
  let fm = FileManager.default
  try fm.createDirectory(atPath: dir + "/ranks", withIntermediateDirectories: true)
  let set = TestPaths.bundledTraces + "/ddp-4rank/"
  for r in 0..<4 {
    try fm.copyItem(atPath: set + "rank\(r).pt.trace.json", toPath: dir + "/ranks/rank\(r).pt.trace.json")
  }
  _ = fm.createFile(atPath: dir + "/steps.json", contents: Data(#"{"steps": [{"step": 3, "ms": 17.5}]}"#.utf8))
  let r = try reprise("ingest", dir, "--json")
  #expect(r.status == 0, "\(r.stderr)")
  #expect(r.stderr.contains("note: skipped \(dir)/steps.json"), "\(r.stderr)")
  let obj = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
  #expect(obj["ranks"] as? Int == 4)
  #expect((obj["skippedFiles"] as? [[String: Any]])?.map { $0["path"] as? String } == [dir + "/steps.json"])
  let text = try reprise("ingest", dir)
  #expect(text.stdout.contains("skipped       1 file(s) that are not traces: \(dir)/steps.json"), "\(text.stdout)")
  let named = try reprise("ingest", dir + "/steps.json")
  #expect(named.status == 65 && named.stderr.contains("missing required field 'traceEvents'"), "\(named.stderr)")
  let help = try reprise("ingest", "--help")
  #expect(help.stdout.contains("searched recursively") && help.stdout.contains(".tar.gz"), "\(help.stdout)")
}
