import Foundation
import TestSupport
import Testing
import TraceModel

@testable import TraceImport

// Nothing lost: every record a reader reads is an event of the graph or counted by reason
// (docs/reliability.md), and every loss is a `dataLoss` diagnostic with the same count.

private func temporaryDirectory() throws -> String {
  let dir = FileManager.default.temporaryDirectory.appendingPathComponent("reprise-acct-\(UUID().uuidString)").path
  try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
  return dir
}

private func write(_ text: String, _ name: String, in dir: String) throws -> String {
  let path = dir + "/" + name
  try Data(text.utf8).write(to: URL(fileURLWithPath: path))
  return path
}

/// The problems an account says are lost, checked against the diagnostics: per reason, the
/// occurrences of its `dataLoss` code equal the records lost for it.
private func lossesMatchDiagnostics(_ account: EventAccount, _ d: Diagnostics, _ what: String) {
  for reason in DropReason.allCases where reason.isLoss {
    let code = reason.diagnosticCode ?? ""
    let counted = d.items.filter { $0.code == code && $0.severity == .dataLoss }.reduce(0) { $0 + $1.count }
    #expect(counted == account.dropped[reason, default: 0], "\(what): \(reason.rawValue)")
  }
}

/// Every file's account balances, the files' kept records are the graph's events, and the
/// losses are the diagnostics'.
func checkAccounts(_ r: IngestResult, _ what: String) {
  for f in r.files {
    #expect(f.account.isBalanced, "\(what): \(f.path): \(f.account)")
    #expect(f.account.read > 0, "\(what): \(f.path) read nothing")
  }
  #expect(r.account.isBalanced, "\(what)")
  #expect(r.account.kept == r.graph.eventCount, "\(what): kept \(r.account.kept), events \(r.graph.eventCount)")
  lossesMatchDiagnostics(r.account, r.diagnostics, what)
}

/// One of each thing a Kineto file holds: 15 elements, 5 of them events.
private let kinetoDocument = """
  {"traceEvents": [
  {"ph": "M", "name": "process_name", "pid": 1, "args": {"name": "p"}},
  {"ph": "M", "name": "thread_name", "pid": 1, "tid": 1, "args": {"name": "t"}},
  {"ph": "X", "cat": "cpu_op", "name": "aten::add", "pid": 1, "tid": 1, "ts": 0, "dur": 10},
  {"ph": "X", "cat": "cpu_op", "name": "aten::mul", "pid": 1, "tid": 1, "ts": 20, "dur": 10},
  {"ph": "i", "cat": "cpu_instant_event", "name": "mark", "pid": 1, "tid": 1, "ts": 5, "s": "t"},
  {"ph": "C", "name": "counter", "pid": 1, "tid": 1, "ts": 5, "args": {"v": 1}},
  {"ph": "B", "cat": "user_annotation", "name": "span", "pid": 1, "tid": 2, "ts": 0},
  {"ph": "E", "pid": 1, "tid": 2, "ts": 30},
  {"ph": "E", "pid": 1, "tid": 3, "ts": 30},
  {"ph": "B", "cat": "user_annotation", "name": "open", "pid": 1, "tid": 4, "ts": 0},
  {"ph": "s", "id": 1, "cat": "ac2g", "pid": 1, "tid": 1, "ts": 1},
  {"ph": "f", "id": 1, "cat": "ac2g", "pid": 1, "tid": 1, "ts": 2, "bp": "e"},
  {"ph": "f", "cat": "ac2g", "pid": 1, "tid": 1, "ts": 3},
  {"ph": "b", "cat": "async", "name": "a", "id": 2, "pid": 1, "tid": 1, "ts": 4},
  {"ph": "P", "pid": 1, "tid": 1, "ts": 4}
  ]}
  """

@Test func kinetoRecordsAreKeptOrCountedByReason() throws {
  let dir = try temporaryDirectory()
  defer { try? FileManager.default.removeItem(atPath: dir) }
  let r = try Ingest.run(paths: [try write(kinetoDocument, "rank0.json", in: dir)])
  let a = try #require(r.files.first).account
  #expect(a.read == 15 && a.kept == 5 && r.graph.eventCount == 5)
  #expect(
    a.dropped == [
      .metadata: 2, .spanEnd: 1, .flow: 2, .unmatchedEnd: 1, .unclosedBegin: 1, .flowWithoutId: 1,
      .unsupportedPhase: 2,
    ])
  #expect(a.lost == 5 && a.isBalanced)
  checkAccounts(r, "kineto")
}

@Test func aKinetoFileWithoutDropsKeepsEveryElement() throws {
  let dir = try temporaryDirectory()
  defer { try? FileManager.default.removeItem(atPath: dir) }
  let r = try Ingest.run(
    paths: [try write(#"[{"ph": "X", "name": "k", "ts": 1, "dur": 2}]"#, "rank0.json", in: dir)])
  #expect(r.files.first?.account == EventAccount(read: 1, kept: 1) && r.graph.eventCount == 1)
}

/// A Chakra `.et` of two nodes: both are events.
@Test func chakraNodesAreAllKept() throws {
  let metadata: [UInt8] = [0x07, 0x0A, 0x05] + Array("0.0.4".utf8)
  // id N (0x08 N), name "k" (0x12 0x01 'k'), type COMP_NODE (0x18 0x04).
  func node(_ id: UInt8) -> [UInt8] { [0x07, 0x08, id, 0x12, 0x01, 0x6B, 0x18, 0x04] }
  let dir = try temporaryDirectory()
  defer { try? FileManager.default.removeItem(atPath: dir) }
  let path = dir + "/t.0.et"
  try Data(metadata + node(1) + node(2)).write(to: URL(fileURLWithPath: path))
  let r = try Ingest.run(paths: [path])
  #expect(r.files.first?.account == EventAccount(read: 2, kept: 2))
  checkAccounts(r, "chakra")
}

private let executionTrace = """
  {"schema": "1.0.1", "pid": 1, "nodes": [
  {"id": 1, "name": "[pytorch|profiler|execution_graph|thread]", "parent": 0, "tid": 1},
  {"id": 2, "name": "aten::add", "parent": 1, "tid": 1, "rf_id": 1},
  {"id": 3, "name": "aten::mul", "parent": 1, "tid": 1, "rf_id": 2},
  {"id": 4, "name": "aten::div", "parent": 1, "tid": 1, "rf_id": 3}
  ]}
  """

/// A host execution trace alone: each node an event. Linked with a Kineto trace that has two of
/// its three ops: 2 linked, 1 root not an operator, 1 unmatched (lost, and a dataLoss).
@Test func executionTraceNodesAreEventsAloneAndLinkedOrLostWithKineto() throws {
  let dir = try temporaryDirectory()
  defer { try? FileManager.default.removeItem(atPath: dir) }
  let et = try write(executionTrace, "et.json", in: dir)
  let alone = try Ingest.run(paths: [et])
  #expect(alone.files.first?.account == EventAccount(read: 4, kept: 4))
  checkAccounts(alone, "ET alone")

  let kineto = try write(
    """
    {"traceEvents": [
    {"ph": "X", "cat": "cpu_op", "name": "aten::add", "pid": 1, "tid": 1, "ts": 0, "dur": 10},
    {"ph": "X", "cat": "cpu_op", "name": "aten::mul", "pid": 1, "tid": 1, "ts": 20, "dur": 10}
    ]}
    """, "kineto.json", in: dir)
  let linked = try Ingest.run(paths: [kineto, et])
  let etFile = try #require(linked.files.first { $0.path == et })
  #expect(
    etFile.account == EventAccount(read: 4, kept: 0, dropped: [.etLinked: 2, .etNotOperator: 1, .etUnmatched: 1]))
  #expect(linked.account.kept == 2 && linked.account.read == 6)
  checkAccounts(linked, "ET linked")
}

/// A shard keeps the account of the trace it was made from.
@Test func aShardKeepsItsSourcesAccount() throws {
  let dir = try temporaryDirectory()
  defer { try? FileManager.default.removeItem(atPath: dir) }
  let r = try Ingest.run(paths: [try write(kinetoDocument, "rank0.json", in: dir)])
  let shards = try Ingest.shard(paths: [dir + "/rank0.json"]) { name, bytes in
    try Data(bytes).write(to: URL(fileURLWithPath: dir + "/" + name))
  }
  let fromShard = try Ingest.run(paths: [dir + "/" + shards[0].path])
  #expect(fromShard.files.first?.account == r.files.first?.account)
  #expect(fromShard.graph.eventCount == r.graph.eventCount)
  checkAccounts(fromShard, "shard")
}

// MARK: Every trace

/// The trace files and bundles under `root` that `reprise ingest` would take (by name, as a
/// directory search finds them), sorted.
private func traceFiles(under root: String) -> [String] {
  (try? Ingest.expand([root])) ?? []
}

/// Every bundled run in `Traces/`: each directory whose traces are all directly in it (a
/// directory of runs, such as `gpt-parallel`, gives its runs, and its spec files are no traces).
private let bundledSets: [String] = {
  let files = traceFiles(under: TestPaths.packageRoot + "/Traces")
  return Set(files.map { ($0 as NSString).deletingLastPathComponent }).sorted().filter { dir in
    traceFiles(under: dir).allSatisfy { ($0 as NSString).deletingLastPathComponent == dir }
  }
}()

@Test func everyBundledTraceIsInARun() {
  let sets = Set(bundledSets)
  let files = traceFiles(under: TestPaths.packageRoot + "/Traces")
  let outside = files.filter { !sets.contains(($0 as NSString).deletingLastPathComponent) }
  // The files left out are the spec files beside a directory of runs.
  #expect(bundledSets.count >= 20 && outside.allSatisfy { $0.hasSuffix(".json") }, "\(outside)")
}

@Test(arguments: bundledSets)
func everyBundledTraceAccountsForEveryRecord(set: String) throws {
  checkAccounts(try Ingest.run(paths: [set]), set)
}

/// Totals over the corpus run, printed for the record.
private final class CorpusTotals: @unchecked Sendable {
  var files = 0
  var account = EventAccount()
  var refused: [String] = []
}

/// Every file under `REPRISE_TRACE_CORPUS` that `reprise ingest` would take from a directory
/// (every format the registry reads; bundles opened), ingested alone: read = kept + dropped for
/// each file it holds, kept = the graph's events, losses = the dataLoss diagnostics. Files the
/// readers refuse (a legacy `.et`, rocprof, a bundle of several runs) are listed, not counted.
@Test(.needsCorpus) func everyCorpusTraceAccountsForEveryRecord() throws {
  let root = try #require(TestPaths.corpus)
  let files = traceFiles(under: root)
  #expect(files.count >= 100, "found \(files.count) files")
  let totals = CorpusTotals()
  for path in files {
    let r: IngestResult
    do { r = try Ingest.run(paths: [path]) } catch {
      totals.refused.append(String(path.dropFirst(root.count + 1)))
      continue
    }
    checkAccounts(r, String(path.dropFirst(root.count + 1)))
    totals.files += r.files.count
    totals.account = totals.account + r.account
  }
  let a = totals.account
  let reasons = a.dropped.sorted { $0.key < $1.key }.map { "\($0.key.rawValue) \($0.value)" }.joined(separator: ", ")
  print(
    "event accounting over the corpus: \(files.count) inputs, \(totals.files) trace files; read \(a.read), "
      + "kept \(a.kept), dropped \(a.droppedCount) (\(reasons)), lost \(a.lost); refused \(totals.refused.count): "
      + totals.refused.joined(separator: ", "))
  #expect(a.isBalanced && totals.files >= 100)
}
