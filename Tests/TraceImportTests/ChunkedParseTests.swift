import Foundation
import TestSupport
import Testing
import TraceModel

@testable import TraceImport

/// The bytes of a trace file, inflated when it is gzip.
private func traceBytes(_ path: String) throws -> [UInt8] {
  let raw = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
  return raw.starts(with: [0x1f, 0x8b]) ? try TarBundle.inflate(raw, file: path) : raw
}

/// Tokenized in 2, 3 and 7 pieces side by side, a trace is the one a single parser gives (the
/// count of pieces aside); returns the most pieces used.
@discardableResult
private func expectPiecesAgree(_ bytes: [UInt8], file: String) throws -> Int {
  let one = try KinetoImporter.read(file, contents: bytes, progress: nil).0
  var most = 1
  for chunks in [2, 3, 7] {
    var many = try KinetoImporter.read(file, contents: bytes, progress: nil, chunks: chunks, minChunkBytes: 1).0
    most = max(most, many.tokenizedPieces)
    many.tokenizedPieces = 1
    #expect(many == one, "\(file): \(chunks) pieces differ from one parser")
  }
  return most
}

/// The bundled traces (pretty-printed by PyTorch or our generators) read the same in pieces,
/// and the pieces are used.
@Test(arguments: [
  "Traces/generated/ddp-4rank/rank0.pt.trace.json", "Traces/generated/megatron-tp8/rank3.pt.trace.json.gz",
  "Traces/kineto-cpu/ddp-gloo-4rank/rank1.pt.trace.json.gz",
])
func bundledTracesReadTheSameInPieces(path: String) throws {
  let file = TestPaths.packageRoot + "/" + path
  #expect(try expectPiecesAgree(try traceBytes(file), file: path) > 1, "\(path): no piece was used")
}

/// Every Kineto file of the corpus reads the same in pieces.
@Test(.needsCorpus, arguments: kinetoFiles)
func corpusTracesReadTheSameInPieces(path: String) throws {
  try expectPiecesAgree(try traceBytes(path), file: relative(path))
}

/// Events one per line, `extra` spliced into event `at`.
private func lines(_ count: Int, at: Int = -1, extra: String = "") -> [UInt8] {
  var events: [String] = []
  for i in 0..<count {
    let thread = i % 3
    var e =
      "{\"ph\": \"X\", \"cat\": \"cpu_op\", \"name\": \"aten::op\(i % 5)\", \"pid\": 1, \"tid\": \"t\(thread)\", "
      + "\"ts\": \(1000 + i * 10).5, \"dur\": 4, \"args\": {\"External id\": \(i)}}"
    if i == at { e = extra }
    events.append(e)
  }
  return Array(("{\"traceEvents\": [\n" + events.joined(separator: ",\n") + "\n]}\n").utf8)
}

@Test func cutsInsideAnEventAreNotUsed() throws {
  // Objects in an array inside args, one per line: `},\n{` inside the event, not between events.
  var events: [String] = []
  for i in 0..<300 {
    events.append(
      "{\"ph\": \"X\", \"cat\": \"kernel\", \"name\": \"k\", \"pid\": 0, \"tid\": 7, \"ts\": \(i * 10), "
        + "\"dur\": 2, \"args\": {\"list\": [\n{\"a\": \(i)},\n{\"b\": \"},\\n{\"}\n]}}")
  }
  let json = Array(("[\n" + events.joined(separator: ",\n") + "\n]").utf8)
  try expectPiecesAgree(json, file: "nested.json")
}

@Test func beginEndPairsAcrossCutsReadInOrder() throws {
  var events: [String] = []
  for i in 0..<400 {
    let ph = i % 2 == 0 ? "B" : "E"
    events.append("{\"ph\": \"\(ph)\", \"name\": \"span\", \"pid\": 1, \"tid\": 1, \"ts\": \(i * 5)}")
  }
  let json = Array(("{\"traceEvents\": [\n" + events.joined(separator: ",\n") + "\n]}").utf8)
  try expectPiecesAgree(json, file: "begin-end.json")
  try expectPiecesAgree(lines(500), file: "plain.json")
}

@Test func anErrorInALaterPieceNamesItsEventIndex() throws {
  let bad = lines(500, at: 431, extra: "{\"ph\": \"X\", \"name\": \"x\", \"pid\": 1, \"tid\": 1, \"ts\": \"soon\"}")
  func message(_ chunks: Int) -> String {
    do {
      _ = try KinetoImporter.read("bad.json", contents: bad, progress: nil, chunks: chunks, minChunkBytes: 1)
      return "no error"
    } catch {
      return String(describing: error)
    }
  }
  let one = message(1)
  #expect(one.contains("431"), "\(one)")
  #expect(message(3) == one)
  #expect(message(7) == one)
}

@Test func warningsInALaterPieceKeepTheirEventIndex() throws {
  let negative = lines(
    500, at: 377, extra: "{\"ph\": \"X\", \"name\": \"x\", \"pid\": 1, \"tid\": 1, \"ts\": 1, \"dur\": -3}")
  try expectPiecesAgree(negative, file: "negative.json")
  let one = try KinetoImporter.read("negative.json", contents: negative, progress: nil).0
  #expect(one.diagnostics.items.first?.location?.eventIndex == 377)
}

/// A long run of newlines where the cut is looked for is scanned once (it was scanned again
/// from every newline in it: quadratic), and the trace still reads the same.
@Test func longWhitespaceRunsAreScannedOnce() throws {
  let text =
    #"{"traceEvents":[{"ph":"i","ts":0,"pid":1,"tid":1,"args":{"a":"#
    + String(repeating: "\n", count: 1 << 19) + #"1}},{"ph":"i","ts":1,"pid":1,"tid":1}]}"#
  try expectPiecesAgree(Array(text.utf8), file: "newlines.json")
}

/// Cores go to files in proportion to their bytes: a lone file gets them all, equal files share
/// them, and a file much bigger than the rest gets the cores the others leave.
@Test func coresFollowTheFilesBytes() {
  let cores = ProcessInfo.processInfo.activeProcessorCount
  func member(_ bytes: Int) -> TraceInput {
    TraceInput(path: "b.tar:m\(bytes).json", contents: [UInt8](repeating: 0x20, count: bytes), isListed: true)
  }
  #expect(Ingest.pieces([member(1000)]) == [cores])
  let equal = Ingest.pieces((0..<(cores * 4)).map { _ in member(1000) })
  #expect(equal.allSatisfy { $0 == 1 })
  let skewed = Ingest.pieces([member(90_000)] + (0..<9).map { _ in member(1000) })
  #expect(skewed[0] == cores && skewed.dropFirst().allSatisfy { $0 == 1 })
}
