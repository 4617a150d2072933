import Foundation
import TestSupport
import Testing

// Hostile inputs through the CLI: one line on stderr and exit 65 for a refused file, exit 64
// for a bad `--max-bytes`, a counted warning otherwise (docs/reliability.md, "Hostile inputs").

private func tempDir() throws -> String {
  let dir = FileManager.default.temporaryDirectory.appendingPathComponent("reprise-hostile-cli-\(UUID().uuidString)")
    .path
  try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
  return dir
}

private let oneEvent = #"{"ph": "X", "cat": "cpu_op", "name": "a", "pid": 1, "tid": 1, "ts": 1, "dur": 1}"#

/// Expects exit 65, nothing on stdout and one line on stderr holding every piece of `text`.
private func expectRefused(
  _ r: (status: Int32, stdout: String, stderr: String), _ text: String...,
  sourceLocation: SourceLocation = #_sourceLocation
) {
  #expect(r.status == 65, "\(r.stderr)", sourceLocation: sourceLocation)
  #expect(r.stdout.isEmpty, sourceLocation: sourceLocation)
  let lines = r.stderr.split(separator: "\n")
  #expect(lines.count == 1, "\(r.stderr)", sourceLocation: sourceLocation)
  for t in text { #expect(r.stderr.contains(t), "\(r.stderr) lacks \(t)", sourceLocation: sourceLocation) }
}

@Test func maxBytesRefusesAFileWithOneLine() throws {
  let dir = try tempDir()
  defer { try? FileManager.default.removeItem(atPath: dir) }
  let file = dir + "/rank0.json"
  try Data(#"{"traceEvents": [\#(oneEvent)], "pad": "\#(String(repeating: "x", count: 3000))"}"#.utf8).write(
    to: URL(fileURLWithPath: file))
  expectRefused(try reprise("ingest", "--max-bytes", "2K", file), "rank0.json:@2048", "at most 2 KiB", "--max-bytes")
  #expect(try reprise("ingest", "--max-bytes", "1M", file).status == 0)
  // Other commands that read traces take it too.
  expectRefused(try reprise("breakdown", "--max-bytes", "2K", file), "--max-bytes")
  expectRefused(try reprise("diff", "--max-bytes", "2K", file, file), "--max-bytes")
  // A bad value is a usage error.
  for bad in ["12Q", "0", "-5", "lots"] {
    let r = try reprise("ingest", "--max-bytes", bad, file)
    #expect(r.status == 64 && r.stderr.contains("--max-bytes"), "\(bad): \(r.stderr)")
  }
}

@Test func gzipBombIsOneLineThroughTheCLI() throws {
  let dir = try tempDir()
  defer { try? FileManager.default.removeItem(atPath: dir) }
  let bomb = dir + "/bomb.json.gz"
  let body = #"{"traceEvents": [\#(oneEvent)], "pad": ""# + String(repeating: "a", count: 72 << 20) + #""}"#
  #expect(gzip(Array(body.utf8), to: bomb))
  expectRefused(try reprise("ingest", bomb), "bomb.json.gz:@", "gzip inflating at most 1000:1", "a gzip bomb?")
  // Past --max-bytes before the ratio is judged.
  expectRefused(try reprise("ingest", "--max-bytes", "1M", bomb), "bomb.json.gz:@1048576", "at most 1 MiB decompressed")
}

@Test func deepNestingIsOneLineThroughTheCLI() throws {
  let dir = try tempDir()
  defer { try? FileManager.default.removeItem(atPath: dir) }
  let file = dir + "/deep.json"
  let deep = String(repeating: "[", count: 1_000_000) + String(repeating: "]", count: 1_000_000)
  try Data(#"{"traceEvents": [], "x": \#(deep)}"#.utf8).write(to: URL(fileURLWithPath: file))
  expectRefused(try reprise("ingest", file), "deep.json:@", "nesting depth at most 512")
}

@Test func invalidUTF8IsAWarningThroughTheCLI() throws {
  let dir = try tempDir()
  defer { try? FileManager.default.removeItem(atPath: dir) }
  let file = dir + "/rank0.json"
  var bytes = Array(#"{"traceEvents": [{"ph": "X", "cat": "cpu_op", "name": "a"#.utf8) + [0xFF]
  bytes += Array(#"", "pid": 1, "tid": 1, "ts": 1, "dur": 1}]}"#.utf8)
  try Data(bytes).write(to: URL(fileURLWithPath: file))
  let r = try reprise("ingest", "--json", file)
  #expect(r.status == 0, "\(r.stderr)")
  #expect(r.stderr.contains("warning: strings with invalid UTF-8 kept, the bad bytes replaced with U+FFFD"))
  let doc = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
  #expect((doc["diagnostics"] as? [String: Int])?["warning"] == 1)
  #expect(try reprise("ingest", "--strict", file).status == 65)
}

@Test func overflowingTimesAreOneLineThroughTheCLI() throws {
  let dir = try tempDir()
  defer { try? FileManager.default.removeItem(atPath: dir) }
  let file = dir + "/rank0.json"
  let event =
    #"{"ph": "X", "cat": "cpu_op", "name": "a", "pid": 1, "tid": 1, "ts": 2000000000000000, "dur": 2000000000000000}"#
  try Data(#"{"traceEvents": [\#(event)]}"#.utf8).write(to: URL(fileURLWithPath: file))
  expectRefused(try reprise("ingest", file), "rank0.json:@", "(event #0)", "'ts' + 'dur' within ±2^61 ns")
  // Times near the bound ingest, but a what-if that scales them past Int64 is refused, not a trap.
  let big =
    #"{"ph": "X", "cat": "kernel", "name": "k", "pid": 0, "tid": 7, "ts": 0, "dur": 2000000000000000, "args": {"stream": 7, "device": 0}}"#
  try Data(#"{"traceEvents": [\#(big)]}"#.utf8).write(to: URL(fileURLWithPath: file))
  #expect(try reprise("ingest", file).status == 0)
  expectRefused(try reprise("whatif", "--set", "compute.scale=100", file), "replay cannot proceed", "2^62 ns")
}
