import Foundation
import TestSupport
import Testing

@Test func ingestJSONFollowsTheContract() throws {
  let r = try reprise("ingest", "Traces/generated/ddp-4rank", "--json")
  #expect(r.status == 0, "\(r.stderr)")
  let obj = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
  #expect(obj["schema"] as? String == "reprise.ingest/v1")
  #expect(obj["ranks"] as? Int == 4)
  for key in ["files", "lanes", "events", "steps", "collectives", "p2p", "clockOffsetsNs", "diagnostics", "inputBytes"] {
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
  _ = FileManager.default.createFile(atPath: truncated, contents: Data(#"{"traceEvents": [{"ph": "X", "ts": 1, "du"#.utf8))
  let r = try reprise("ingest", truncated)
  #expect(r.status == 65)
  #expect(r.stdout.isEmpty)
  let lines = r.stderr.split(separator: "\n")
  #expect(lines.count == 1 && lines[0].contains("rank0.json:@") && lines[0].contains("expected") && lines[0].contains("found end of input"), "\(r.stderr)")
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

@Test func demoWritesItsReports() throws {
  let out = FileManager.default.temporaryDirectory.appendingPathComponent("reprise-demo-\(UUID().uuidString)").path
  defer { try? FileManager.default.removeItem(atPath: out) }
  let r = try reprise("demo", "--traces", "Traces/generated", "--output", out)
  #expect(r.status == 0, "\(r.stderr)")
  #expect(FileManager.default.fileExists(atPath: out + "/ddp-4rank.ingest.json"))
  #expect(FileManager.default.fileExists(atPath: out + "/pipeline-2rank.ingest.json"))
  for set in ["ddp-4rank", "pipeline-2rank"] {
    #expect(FileManager.default.fileExists(atPath: out + "/\(set).breakdown.json"))
    #expect(FileManager.default.fileExists(atPath: out + "/\(set).bandwidth.json"), "\(set)")
  }
}
