import Foundation
import TestSupport
import Testing
import TraceModel

@testable import TraceImport

// Hostile inputs (docs/reliability.md, "Hostile inputs"): each gets one line naming the file
// (a `TraceImportError`) or a counted diagnostic, never a crash. Big inputs are made here, in
// temporary files, not committed.

private func temporaryDirectory() throws -> String {
  let dir = FileManager.default.temporaryDirectory.appendingPathComponent("reprise-hostile-\(UUID().uuidString)").path
  try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
  return dir
}

private func write(_ bytes: [UInt8], _ path: String) throws {
  try Data(bytes).write(to: URL(fileURLWithPath: path))
}

/// One X event; `ts`, `dur` and `args` as written.
private func event(name: String = "a", ts: String = "1", dur: String = "1", args: String? = nil) -> String {
  #"{"ph": "X", "cat": "cpu_op", "name": "\#(name)", "pid": 1, "tid": 1, "ts": \#(ts), "dur": \#(dur)"#
    + (args.map { #", "args": \#($0)"# } ?? "") + "}"
}

private func kineto(_ events: [String], _ extra: String = "") -> [UInt8] {
  Array(#"{"traceEvents": ["#.utf8) + Array(events.joined(separator: ", ").utf8) + Array("]\(extra)}".utf8)
}

/// The error of ingesting `paths`, as one line; nil when it ingests.
private func ingestError(_ paths: [String], limits: ReadLimits = ReadLimits()) -> String? {
  var options = IngestOptions()
  options.limits = limits
  do {
    _ = try Ingest.run(paths: paths, options: options)
    return nil
  } catch {
    return "\(error)"
  }
}

/// Expects `line` to be one line naming `file` and containing every piece of `text`.
private func expectOneLine(
  _ line: String?, _ file: String, _ text: String..., sourceLocation: SourceLocation = #_sourceLocation
) {
  guard let line else {
    Issue.record("accepted \(file)", sourceLocation: sourceLocation)
    return
  }
  #expect(!line.contains("\n") && line.contains(file), "\(line)", sourceLocation: sourceLocation)
  for t in text { #expect(line.contains(t), "\(line) lacks \(t)", sourceLocation: sourceLocation) }
}

// MARK: Size limits and gzip bombs

@Test func sizesParseWithBinaryUnits() {
  #expect(ReadLimits.parseSize("64G") == 64 << 30)
  #expect(ReadLimits.parseSize("64GiB") == 64 << 30)
  #expect(ReadLimits.parseSize("64gb") == 64 << 30)
  #expect(ReadLimits.parseSize("512M") == 512 << 20)
  #expect(ReadLimits.parseSize("1.5K") == 1536)
  #expect(ReadLimits.parseSize("4096") == 4096)
  #expect(ReadLimits.parseSize("1T") == 1 << 40)
  for bad in ["", "G", "abc", "-1", "0", "1e3", "64X", "99999999T", "1..5M"] {
    #expect(ReadLimits.parseSize(bad) == nil, "\(bad)")
  }
  #expect(ReadLimits.describe(ReadLimits.defaultMaxBytes) == "64 GiB")
  #expect(ReadLimits.describe(1536) == "1.5 KiB")
}

@Test func gzipBombIsRefusedPastTheRatio() throws {
  let dir = try temporaryDirectory()
  defer { try? FileManager.default.removeItem(atPath: dir) }
  // 80 MiB of one byte in a string: deflate's best, about 1030:1.
  let body = kineto([event()], #", "padding": ""# + String(repeating: "a", count: 80 << 20) + #"""#)
  let bomb = dir + "/bomb.json.gz"
  #expect(gzip(body, to: bomb))
  expectOneLine(ingestError([bomb]), "bomb.json.gz:@", "1000:1", "gzip bomb")
  // The same ratio in a small file is not judged (under 64 MiB inflated).
  let small = dir + "/small.json.gz"
  #expect(gzip(kineto([event()], #", "padding": ""# + String(repeating: "a", count: 4 << 20) + #"""#), to: small))
  #expect(ingestError([small]) == nil)
}

@Test func maxBytesRefusesPlainGzipAndBundledFiles() throws {
  let dir = try temporaryDirectory()
  defer { try? FileManager.default.removeItem(atPath: dir) }
  let body = kineto([event()], #", "padding": ""# + String(repeating: "x", count: 5000) + #"""#)
  let limits = ReadLimits(maxBytes: 4096)
  try write(body, dir + "/plain.json")
  expectOneLine(ingestError([dir + "/plain.json"], limits: limits), "plain.json:@4096", "at most 4 KiB", "--max-bytes")
  #expect(gzip(body, to: dir + "/packed.json.gz"))
  expectOneLine(ingestError([dir + "/packed.json.gz"], limits: limits), "packed.json.gz:@4096", "--max-bytes")
  // Under the limit, both read.
  #expect(ingestError([dir + "/plain.json"], limits: ReadLimits(maxBytes: 1 << 20)) == nil)
  #expect(ingestError([dir + "/packed.json.gz"], limits: ReadLimits(maxBytes: 1 << 20)) == nil)
  // A host execution trace (read whole, through zlib) and a gzip member of a tar bundle.
  let et =
    Array(#"{"schema": "1.0.1", "pid": 1, "nodes": [], "pad": ""#.utf8)
    + Array(repeating: UInt8(ascii: "y"), count: 5000)
    + Array(#""}"#.utf8)
  try write(et, dir + "/host_et.json")
  expectOneLine(ingestError([dir + "/host_et.json"], limits: limits), "host_et.json", "--max-bytes")
  let inflated = try TarBundle.inflate(
    try gzipped(body), file: "b.tar.gz:m.json.gz", limits: ReadLimits(maxBytes: 1 << 20))
  #expect(inflated == body)
  #expect(throws: TraceImportError.self) {
    try TarBundle.inflate(try gzipped(body), file: "b.tar.gz:m.json.gz", limits: limits)
  }
}

/// `bytes` gzip-compressed (through a temporary file).
private func gzipped(_ bytes: [UInt8]) throws -> [UInt8] {
  let path = FileManager.default.temporaryDirectory.appendingPathComponent("reprise-gz-\(UUID().uuidString).gz").path
  defer { try? FileManager.default.removeItem(atPath: path) }
  #expect(gzip(bytes, to: path))
  return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
}

// MARK: Nesting

/// `depth` nested arrays.
private func nested(_ depth: Int) -> String {
  String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
}

@Test func nestingAMillionDeepIsOneLineInEveryJSONReader() throws {
  let dir = try temporaryDirectory()
  defer { try? FileManager.default.removeItem(atPath: dir) }
  let deep = nested(1_000_000)
  let cases: [(String, String)] = [
    // Kineto: a skipped top-level value, an event's args, the event array itself, distributedInfo (a tree).
    ("skipped.json", #"{"traceEvents": [], "x": \#(deep)}"#),
    ("args.json", #"{"traceEvents": [\#(event(args: #"{"x": \#(deep)}"#))]}"#),
    ("array.json", "[" + deep + "]"),
    ("dist.json", #"{"distributedInfo": {"rank": 0, "x": \#(deep)}, "traceEvents": []}"#),
    // jansson readers: a PyTorch host execution trace and a Chakra JSON graph.
    ("host_et.json", #"{"schema": "1.0.1", "pid": 1, "nodes": \#(deep)}"#),
    ("chakra.json", #"{"workload_graph": \#(deep)}"#),
  ]
  for (name, text) in cases {
    try write(Array(text.utf8), dir + "/" + name)
    expectOneLine(ingestError([dir + "/" + name]), name)
  }
  #expect(ingestError([dir + "/skipped.json"])?.contains("nesting depth at most 512") == true)
}

// MARK: Huge strings

@Test func aHundredMegabyteNameIsKept() throws {
  let name = String(repeating: "n", count: 100 << 20)
  let (graph, _) = try Ingest.graph(bytes: kineto([event(name: name), event(name: "b", ts: "3")]))
  #expect(graph.eventCount == 2)
  #expect(graph.strings[graph.name[0]].utf8.count == 100 << 20 || graph.strings[graph.name[1]].utf8.count == 100 << 20)
}

// MARK: Numbers

@Test func hostileNumbersInTimesAreOneLine() {
  let refused: [(ts: String, dur: String, text: String)] = [
    ("NaN", "1", "'N' (NaN and Infinity are not JSON numbers)"),
    ("Infinity", "1", "'I' (NaN and Infinity are not JSON numbers)"),
    ("-Infinity", "1", "expected a digit"),
    ("1e400", "1", "'ts' within ±2^61 ns"),
    ("18446744073709551616", "1", "'ts' within ±2^61 ns"),
    ("1", "1e400", "'dur' within ±2^61 ns"),
    ("1", "18446744073709551616", "'dur' within ±2^61 ns"),
    ("1", "NaN", "NaN and Infinity"),
    // Each within the bound, the end past it.
    ("2000000000000000", "2000000000000000", "'ts' + 'dur' within ±2^61 ns"),
  ]
  for c in refused {
    do {
      _ = try Ingest.graph(bytes: kineto([event(ts: c.ts, dur: c.dur)]), file: "n.json")
      Issue.record("accepted ts \(c.ts) dur \(c.dur)")
    } catch {
      expectOneLine("\(error)", "n.json:@", c.text)
    }
  }
}

@Test func negativeZeroAndNegativeTimesAreKeptAndCounted() throws {
  let (zero, zd) = try Ingest.graph(bytes: kineto([event(ts: "-0", dur: "-0")]))
  #expect(zero.start == [0] && zero.duration == [0] && zd.items.isEmpty)
  let (g, d) = try Ingest.graph(
    bytes: kineto([event(ts: "-5", dur: "-2"), event(ts: "-3", dur: "-1"), event(ts: "1", dur: "1")]))
  #expect(g.eventCount == 3)
  let negTs = d.items.first { $0.code == "kineto.negativeTimestamp" }
  #expect(negTs?.count == 2 && negTs?.severity == .note)
  let negDur = d.items.first { $0.code == "kineto.negativeDuration" }
  #expect(negDur?.count == 2 && negDur?.severity == .warning && negDur?.location?.eventIndex == 0)
  #expect(d.items.filter { $0.code == "kineto.negativeDuration" }.count == 1)
}

@Test func hostileNumbersInArgsAreKeptOrIgnored() throws {
  // Kineto args: out-of-range ids are kept as hashed ids or ignored, never a crash.
  for value in ["1e400", "18446744073709551616", "-18446744073709551616", "-0", "1.5e308"] {
    let args = #"{"correlation": \#(value), "External id": \#(value), "stream": \#(value), "device": \#(value)}"#
    let (g, _) = try Ingest.graph(bytes: kineto([event(args: args)]), file: "args.json")
    #expect(g.eventCount == 1, "\(value)")
  }
  // NaN is not JSON: one line.
  #expect(throws: TraceImportError.self) { try Ingest.graph(bytes: kineto([event(args: #"{"x": NaN}"#)])) }
}

@Test func hostileNumbersInHostExecutionTracesAreOneLine() {
  // jansson: NaN and 1e400 are refused, integers past 2^64 too; -0 reads.
  for (value, accepted) in [("NaN", false), ("1e400", false), ("18446744073709551616", false), ("-0", true)] {
    let text = #"{"schema": "1.0.1", "pid": 1, "nodes": [{"id": \#(value), "name": "a", "ctrl_deps": 0}]}"#
    do {
      _ = try ExecutionTrace.parse(Array(text.utf8), file: "et.json")
      #expect(accepted, "accepted \(value)")
    } catch {
      #expect(!accepted, "\(value): \(error)")
      expectOneLine("\(error)", "et.json")
    }
  }
}

// MARK: Invalid UTF-8

@Test func invalidUTF8IsReplacedAndCounted() throws {
  var bytes = Array(#"{"traceEvents": [{"ph": "X", "name": "ab"#.utf8)
  // A bad lead byte, a truncated sequence, an encoded surrogate, and a valid é after them.
  bytes +=
    [0xFF, 0xC3, 0x28, 0xED, 0xA0, 0x80, 0xC3, 0xA9] + Array(#"", "ts": 1, "dur": 1, "pid": 1, "tid": 1}, "#.utf8)
  bytes +=
    Array(#"{"ph": "X", "name": "x\u00e9"#.utf8) + [0xC3] + Array(#"", "ts": 3, "dur": 1, "pid": 1, "tid": 1}]}"#.utf8)
  let (g, d) = try Ingest.graph(bytes: bytes, file: "u.json")
  let names = (0..<g.eventCount).map { g.strings[g.name[$0]] }.sorted()
  #expect(names == ["ab\u{FFFD}\u{FFFD}(\u{FFFD}\u{FFFD}\u{FFFD}é", "xé\u{FFFD}"], "\(names)")
  let bad = d.items.first { $0.code == "json.invalidUTF8" }
  #expect(bad?.count == 2 && bad?.severity == .warning)
  // Read in pieces, the same names and the same count.
  let many = try KinetoImporter.read("u.json", contents: bytes, progress: nil, chunks: 3, minChunkBytes: 1).0
  #expect(many.diagnostics.items.first { $0.code == "json.invalidUTF8" }?.count == 2)
}

@Test func validUTF8StaysOnTheFastPath() throws {
  let (g, d) = try Ingest.graph(bytes: kineto([event(name: "ßé→😀")]))
  #expect(g.strings[g.name[0]] == "ßé→😀" && d.items.allSatisfy { $0.code != "json.invalidUTF8" })
}

// MARK: Ranks and runs

/// A rank file stating `rank` of `world`, with events at `ts` µs and an optional base time / trace id.
private func rankFile(rank: Int, world: Int, ts: String = "1", base: String? = nil, traceID: String? = nil) -> [UInt8] {
  var extra = #", "distributedInfo": {"rank": \#(rank), "world_size": \#(world)}"#
  if let base { extra += #", "baseTimeNanoseconds": \#(base)"# }
  if let traceID { extra += #", "trace_id": "\#(traceID)""# }
  return kineto([event(ts: ts)], extra)
}

@Test func duplicateRanksAreRefused() throws {
  let dir = try temporaryDirectory()
  defer { try? FileManager.default.removeItem(atPath: dir) }
  try write(rankFile(rank: 0, world: 2), dir + "/a.json")
  try write(rankFile(rank: 0, world: 2), dir + "/b.json")
  expectOneLine(ingestError([dir + "/a.json", dir + "/b.json"]), "b.json", "rank 0 appears in several files", "a.json")
}

@Test func missingRanksAreWarnedOrNoted() throws {
  let dir = try temporaryDirectory()
  defer { try? FileManager.default.removeItem(atPath: dir) }
  for r in [0, 1, 3] { try write(rankFile(rank: r, world: 6), dir + "/r\(r).json") }
  try write(rankFile(rank: 7, world: 6), dir + "/r7.json")
  let all = try Ingest.run(paths: [0, 1, 3, 7].map { dir + "/r\($0).json" }).diagnostics.items
  let missing = all.first { $0.code == "ingest.missingRanks" }
  #expect(missing?.severity == .warning && missing?.message == "3 of 6 ranks have no file: 2, 4-5", "\(all)")
  #expect(all.contains { $0.code == "ingest.rankOutsideWorld" && $0.message.contains("rank 7") })
  // One rank of a bigger world alone: a note.
  let one = try Ingest.run(paths: [dir + "/r3.json"]).diagnostics.items.first { $0.code == "ingest.missingRanks" }
  #expect(one?.severity == .note && one?.message == "5 of 6 ranks have no file: 0-2, 4-5")
}

@Test func filesFromDifferentRunsAreWarned() throws {
  let dir = try temporaryDirectory()
  defer { try? FileManager.default.removeItem(atPath: dir) }
  func warnings(_ a: [UInt8], _ b: [UInt8]) throws -> [Diagnostic] {
    try write(a, dir + "/rank0.json")
    try write(b, dir + "/rank1.json")
    return try Ingest.run(paths: [dir + "/rank0.json", dir + "/rank1.json"]).diagnostics.items.filter {
      $0.code == "ingest.differentRuns"
    }
  }
  let base = "1700000000000000000"
  // One run: same world, same id, overlapping windows.
  #expect(
    try warnings(
      rankFile(rank: 0, world: 2, base: base, traceID: "A"), rankFile(rank: 1, world: 2, base: base, traceID: "A")
    ).isEmpty)
  let world = try warnings(rankFile(rank: 0, world: 2), rankFile(rank: 1, world: 4))
  #expect(world.count == 1 && world[0].message.contains("world size 2 vs 4") && world[0].message.contains("rank0.json"))
  #expect(world.first?.location?.file.hasSuffix("rank1.json") == true)
  // Kineto's trace_id is per process (the ranks of one run differ in it): not a sign.
  #expect(
    try warnings(rankFile(rank: 0, world: 2, traceID: "A"), rankFile(rank: 1, world: 2, traceID: "B")).isEmpty)
  // An hour apart by base time (the events at the same ts).
  let later = try warnings(
    rankFile(rank: 0, world: 2, base: base), rankFile(rank: 1, world: 2, base: "1700003600000000000"))
  #expect(later.count == 1 && later[0].message.contains("3599 s apart"), "\(later)")
  // Old traces without a base time: absolute event times an hour apart.
  let old = try warnings(
    rankFile(rank: 0, world: 2, ts: "1694128201426556"), rankFile(rank: 1, world: 2, ts: "1694131801426556"))
  #expect(old.count == 1)
}

@Test func invalidUTF8InJanssonReadersIsReplacedAndCounted() throws {
  let dir = try temporaryDirectory()
  defer { try? FileManager.default.removeItem(atPath: dir) }
  let et = Array(#"{"schema": "1.0.1", "pid": 1, "nodes": [{"id": 1, "name": "a"#.utf8) + [0xFF] + Array(#""}]}"#.utf8)
  let trace = try ExecutionTrace.parse(et, file: "et.json")
  #expect(trace.nodes.map(\.name) == ["a\u{FFFD}"] && trace.invalidUTF8 == 1)
  let chakra =
    Array(#"{"workload_graph": [{"id": 1, "name": "b"#.utf8) + [0xFF, 0xFE]
    + Array(#"", "type": "COMP_NODE"}]}"#.utf8)
  try write(et, dir + "/host_et.json")
  try write(chakra, dir + "/chakra.json")
  for (file, count) in [("host_et.json", 1), ("chakra.json", 2)] {
    let d = try Ingest.run(paths: [dir + "/" + file]).diagnostics.items.first { $0.code == "json.invalidUTF8" }
    #expect(d?.count == count && d?.severity == .warning && d?.location?.file.hasSuffix(file) == true, "\(file)")
  }
}
