import CZlib
import Foundation
import TestSupport
import Testing
import TraceModel

@testable import TraceImport

private func scanner(_ text: String) -> JSONScanner {
  JSONScanner(source: ByteSource(bytes: Array(text.utf8), file: "t.json"))
}

@Test(arguments: [
  ("1365627949863.953", Int64(1_365_627_949_863_953)),  // ns fractions are exact, no Double
  ("12", 12_000), ("0", 0), ("0.0004", 0), ("0.0005", 1), ("0.00049999", 0), ("2.5", 2_500),
  ("-1.5", -1_500), ("1.5e3", 1_500_000), ("1694128201545", 1_694_128_201_545_000),
])
func microsecondsBecomeExactNanoseconds(text: String, ns: Int64) throws {
  var s = scanner(text)
  let n = try s.parseNumber()
  #expect(s.nanoseconds(fromMicroseconds: n) == ns)
}

@Test func integersBeyondInt64AreFlagged() throws {
  var s = scanner("10159970886766084423")
  let n = try s.parseNumber()
  #expect(n.int64 == nil && n.integer == 10_159_970_886_766_084_423 && !n.integerOverflow)
  var t = scanner("123456789012345678901234567890")
  #expect(try t.parseNumber().integerOverflow)
  var u = scanner("-9223372036854775808")
  #expect(try u.parseNumber().int64 == Int64.min)
}

@Test func stringsDecodeEscapesAndUnicode() throws {
  var s = scanner(#""a\"b\\c\/\n\u00e9\ud83d\ude00 ünï""#)
  let slice = try s.parseString()
  #expect(slice.hasEscapes)
  #expect(s.string(slice) == "a\"b\\c/\né😀 ünï")
  var plain = scanner(#""aten::mm and a long name that crosses eight bytes""#)
  let p = try plain.parseString()
  #expect(!p.hasEscapes && plain.string(p) == "aten::mm and a long name that crosses eight bytes")
}

@Test func skipValueValidatesNestedValues() throws {
  var s = scanner(#"{"a": [1, 2.5e-3, "x", {"b": null}, true, false], "c": {}} ,"#)
  try s.skipValue()
  #expect(try s.peek() == UInt8(ascii: ","))
  var bad = scanner(#"{"a": [1, 2,]}"#)
  #expect(throws: TraceImportError.self) { try bad.skipValue() }
}

/// Bad input: one error naming file and byte offset, saying what was expected and what was found.
@Test(arguments: [
  (#"{"traceEvents": [{"ph": "X", "ts": 1, "dur": 2"#, "t.json:@", "expected ',' or '}' in event, found end of input"),
  ("", "t.json:@0", "an empty file"),
  (
    "{\"traceEvents\": [{\"ph\": \"X\", \"name\": \"a\u{01}b\", \"ts\": 1, \"dur\": 1}]}", "t.json:@39",
    "control characters must be escaped"
  ),
  (#"{"traceEvents": [{"ts": 1, "dur": 1}]}"#, "t.json:@17 (event #0)", "missing required field 'ph'"),
  (#"{"traceEvents": [{"ph": "X", "dur": 1}]}"#, "t.json:@17 (event #0)", "missing required field 'ts'"),
  (
    #"{"traceEvents": [{"ph": "X", "ts": "12", "dur": 1}]}"#, "(event #0)",
    "field 'ts' should be a number (microseconds), found a string"
  ),
  (#"{"traceEvents": [{"ph": "X", "ts": 1}]}"#, "(event #0)", "missing required field 'dur'"),
  (#"{"traceEvents": [{"ph": 5, "ts": 1}]}"#, "(event #0)", "field 'ph' should be a string, found a number"),
  (#"{"traceEvents": [{"ph": "X", "ts": 1, "dur": 1, "args": {"x": tru}}]}"#, "t.json:@", "expected 'true'"),
  (#"{"traceEvents": [{"ph": "X", "ts": 01, "dur": 1}]}"#, "t.json:@", "expected ',' or '}' in event, found '1'"),
  (#"{"traceEvents": [{"ph": "X", "name": "\x", "ts": 1, "dur": 1}]}"#, "t.json:@", "valid escape character"),
  (
    #"{"traceEvents": [], "other": 1} trailing"#, "t.json:@",
    "expected end of input after the top-level value, found 't'"
  ),
  (#"{"schemaVersion": 1}"#, "t.json:@0", "missing required field 'traceEvents'"),
  ("\u{7f}ELF\u{02}", "t.json:@0", "expected '{' or '[' at the start of a Chrome trace"),
  (#"{"traceEvents": [1]}"#, "t.json:@17", "expected an event object in traceEvents, found '1'"),
])
func badInputGetsOneClearLine(text: String, location: String, message: String) {
  do {
    var parser = KinetoParser(source: ByteSource(bytes: Array(text.utf8), file: "t.json"))
    _ = try parser.parse()
    Issue.record("accepted bad input: \(text)")
  } catch {
    let line = "\(error)"
    #expect(line.contains(location) && line.contains(message), "got: \(line)")
    #expect(!line.contains("\n"))
  }
}

@Test func filesThatAreNotTracesFailClearly() throws {
  let dir = FileManager.default.temporaryDirectory.appendingPathComponent("reprise-bad-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(at: dir) }
  // gzip magic, then garbage.
  let fakeGz = dir.appendingPathComponent("fake.json.gz").path
  _ = FileManager.default.createFile(
    atPath: fakeGz, contents: Data([0x1f, 0x8b, 0x08, 0x00, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3]))
  #expect { try Ingest.run(paths: [fakeGz]) } throws: { "\($0)".contains("fake.json.gz") }
  // A real gzip stream cut short.
  let whole = dir.appendingPathComponent("whole.json.gz").path
  let doc = try Data(contentsOf: URL(fileURLWithPath: TestPaths.bundledTraces + "/pipeline-2rank/rank0.pt.trace.json"))
  let gz = try #require(gzopen(whole, "wb"))
  _ = doc.withUnsafeBytes { gzwrite(gz, $0.baseAddress, UInt32($0.count)) }
  gzclose(gz)
  let compressed = try Data(contentsOf: URL(fileURLWithPath: whole))
  #expect(try Ingest.run(paths: [whole]).graph.eventCount == 57)
  let cut = dir.appendingPathComponent("cut.json.gz").path
  _ = FileManager.default.createFile(atPath: cut, contents: compressed.prefix(compressed.count / 2))
  #expect { try Ingest.run(paths: [cut]) } throws: {
    "\($0)".contains("cut.json.gz:@") && "\($0)".contains("truncated gzip")
  }
  // Binary garbage.
  let bin = dir.appendingPathComponent("garbage.json").path
  var rng = SplitMix64(seed: 3)
  _ = FileManager.default.createFile(
    atPath: bin, contents: Data((0..<4096).map { _ in UInt8(truncatingIfNeeded: rng.next() | 0x80) }))
  #expect { try Ingest.run(paths: [bin]) } throws: { "\($0)".contains("garbage.json:@0") }
  // Empty file and empty directory.
  let empty = dir.appendingPathComponent("empty.json").path
  _ = FileManager.default.createFile(atPath: empty, contents: Data())
  #expect { try Ingest.run(paths: [empty]) } throws: {
    "\($0)".contains("empty.json:@0") && "\($0)".contains("empty file")
  }
  let emptyDir = dir.appendingPathComponent("none").path
  try FileManager.default.createDirectory(atPath: emptyDir, withIntermediateDirectories: true)
  #expect { try Ingest.run(paths: [emptyDir]) } throws: { "\($0)".contains("holds no trace files") }
  #expect { try Ingest.run(paths: [dir.appendingPathComponent("missing.json").path]) } throws: {
    "\($0)".contains("no such file")
  }
}

@Test func ranksComeFromNamesWhenTheTraceIsSilent() {
  #expect(Ingest.rankFromFileName("/x/rank-3.json") == 3)
  #expect(Ingest.rankFromFileName("rank12.Jul_15_10_52_41.1074.pt.trace.json.gz") == 12)
  #expect(Ingest.rankFromFileName("sampled_rank_5.json.gz") == 5)
  #expect(Ingest.rankFromFileName("worker7_step_12.1694128201553.pt.trace.json") == 7)
  #expect(Ingest.rankFromFileName("trace_3.json") == 3)
  #expect(Ingest.rankFromFileName("trace-14.pt.trace.json") == 14)
  #expect(Ingest.rankFromFileName("trace.json") == nil)
  #expect(Ingest.rankFromFileName("resnet50.json") == nil)
}

@Test func severalFilesWithoutRanksAreAnError() throws {
  let dir = FileManager.default.temporaryDirectory.appendingPathComponent("reprise-ranks-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(at: dir) }
  let doc = Data(
    #"{"traceEvents": [{"ph": "X", "cat": "cpu_op", "name": "a", "pid": 1, "tid": 1, "ts": 1, "dur": 1}]}"#.utf8)
  for name in ["alpha.json", "beta.json"] {
    _ = FileManager.default.createFile(atPath: dir.appendingPathComponent(name).path, contents: doc)
  }
  #expect { try Ingest.run(paths: [dir.path]) } throws: { "\($0)".contains("cannot tell which rank") }
  for name in ["x_rank1.json", "y_rank1.json"] {
    _ = FileManager.default.createFile(atPath: dir.appendingPathComponent(name).path, contents: doc)
  }
  #expect {
    try Ingest.run(paths: [
      dir.appendingPathComponent("x_rank1.json").path, dir.appendingPathComponent("y_rank1.json").path,
    ])
  } throws: {
    "\($0)".contains("rank 1 appears in several files")
  }
}

/// Seeded mutation fuzzing: flips, truncations, insertions and splices of real documents never
/// crash the tokenizer; every outcome is success or a `TraceImportError` that names the input.
@Test(arguments: 0..<4 as Range<UInt64>)
func mutatedDocumentsNeverCrash(seed: UInt64) throws {
  let samples = [
    try Array(
      Data(contentsOf: URL(fileURLWithPath: TestPaths.bundledTraces + "/pipeline-2rank/rank0.pt.trace.json")).prefix(
        6000)),
    Array(
      #"{"traceEvents": [{"ph": "B", "name": "a\u00e9", "pid": "Spans", "tid": 1, "ts": 1.5}, {"ph": "E", "pid": "Spans", "tid": 1, "ts": 3}, {"ph": "s", "id": "0x1f", "ts": 2, "pid": 1, "tid": 1}, {"ph": "i", "s": "g", "name": "[memory]", "ts": 9, "args": {"Bytes": -4}}], "baseTimeNanoseconds": 1700000000000000000}"#
        .utf8),
  ]
  var rng = SplitMix64(seed: seed)
  let alphabet = Array(#"{}[]:,"\0123456789.eE-+ tfnul"#.utf8) + [0x00, 0x1f, 0x80, 0xC3, 0xFF]
  for iteration in 0..<1500 {
    var doc = samples[Int(rng.next() % UInt64(samples.count))]
    for _ in 0..<(1 + Int(rng.next() % 4)) {
      guard !doc.isEmpty else { break }
      let at = Int(rng.next() % UInt64(doc.count))
      switch rng.next() % 5 {
      case 0: doc[at] ^= UInt8(truncatingIfNeeded: 1 << (rng.next() % 8))
      case 1: doc.removeSubrange(at...)
      case 2: doc.insert(alphabet[Int(rng.next() % UInt64(alphabet.count))], at: at)
      case 3: doc.remove(at: at)
      default:
        let from = Int(rng.next() % UInt64(doc.count))
        doc.replaceSubrange(at..<min(doc.count, at + 8), with: doc[from..<min(doc.count, from + 8)])
      }
    }
    do {
      var parser = KinetoParser(source: ByteSource(bytes: doc, file: "fuzz.json"))
      let trace = try parser.parse()
      var builder = KinetoGraphBuilder(trace: trace, rank: RankID(0))
      #expect(
        builder.build().validate().allSatisfy { !$0.message.contains("out of range") },
        "seed \(seed) iteration \(iteration)")
    } catch let error as TraceImportError {
      #expect("\(error)".contains("fuzz.json"), "seed \(seed) iteration \(iteration): \(error)")
    }
    // Read in pieces (`KinetoParser+Chunks`), the same document gives the same trace or the same error.
    let one = Result { try KinetoImporter.read("fuzz.json", contents: doc, progress: nil).0 }
    let many = Result {
      try KinetoImporter.read("fuzz.json", contents: doc, progress: nil, chunks: 3, minChunkBytes: 1).0
    }
    switch (one, many) {
    case (.success(let a), .success(var b)):
      b.tokenizedPieces = 1
      #expect(a == b, "seed \(seed) iteration \(iteration): pieces differ")
    case (.failure(let a), .failure(let b)): #expect("\(a)" == "\(b)", "seed \(seed) iteration \(iteration)")
    default: Issue.record("seed \(seed) iteration \(iteration): \(one) vs \(many)")
    }
  }
}
