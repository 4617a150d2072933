import Foundation
import TestSupport
import Testing
import TraceModel

@testable import TraceImport

private func name(_ importer: any TraceImporter.Type) -> String { importer.descriptor.name }

// MARK: - Registry

/// The registry lists each format once; Kineto, whose sniff takes any JSON object or array, is
/// last so that the JSON formats told apart by their keys are tried first.
@Test func registryListsEveryFormatOnceWithKinetoLast() {
  let names = TraceImporterRegistry.all.map(name)
  #expect(Set(names).count == names.count, "\(names)")
  #expect(names.last == KinetoImporter.descriptor.name)
  #expect(names.contains(RocprofImporter.descriptor.name) && !RocprofImporter.descriptor.isSupported)
  let unsupported = TraceImporterRegistry.all.filter { !$0.descriptor.isSupported }
  #expect(unsupported.map(name) == [RocprofImporter.descriptor.name])
  let linked = TraceImporterRegistry.all.filter { $0.isLinkedWithRankGraph }
  #expect(linked.map(name) == [PyTorchETImporter.descriptor.name])
}

/// A minimal document of each format is detected as that format and no earlier one.
@Test(arguments: [
  (KinetoImporter.descriptor.name, #"{"traceEvents": [], "distributedInfo": {"rank": 0}}"#),
  (KinetoImporter.descriptor.name, #"  [{"ph": "X", "name": "a", "pid": 1, "tid": 1, "ts": 1, "dur": 1}]"#),
  (PyTorchETImporter.descriptor.name, #"{"schema": "1.0.1", "pid": 7, "nodes": [{"id": 1, "name": "aten::add"}]}"#),
  (ChakraJSONImporter.descriptor.name, #"{"workload_graph": [{"Id": 1, "Name": "k", "NodeType": 4}]}"#),
  (RocprofImporter.descriptor.name, #"{"rocprofiler-sdk-tool": [{"metadata": {"pid": 1}}]}"#),
])
func minimalDocumentsAreDetectedAsTheirFormat(expected: String, document: String) {
  let detected = Array(document.utf8).withUnsafeBufferPointer { TraceImporterRegistry.detect($0) }
  #expect(detected.map(name) == expected)
}

/// Real files of every registered format, found by content, not by name.
private let realSamples: [(importer: String, path: String)] = [
  (
    ChakraProtobufImporter.descriptor.name,
    "/astra-sim/examples/workload/microbenchmarks/all_reduce/8npus_1MB/all_reduce.3.et"
  ),
  (PyTorchETImporter.descriptor.name, "/param/et_replay/tests/inputs/linear_et.json.gz"),
  (ChakraJSONImporter.descriptor.name, "/chakra/tests/data/json_trace.tar.gz.d/jsonData/small_chakra.0.json"),
  (RocprofImporter.descriptor.name, "/tracelens/tests/rocprof/908_results.json.gz"),
  (KinetoImporter.descriptor.name, "/hta/tests/data/cpu_only/rank-34.Jul_15_10_52_41.1074.pt.trace.json.gz"),
]

/// Every registered importer's sniff accepts the first bytes of a real file of its format, and
/// detection picks that importer (the samples above cover the whole registry).
@Test(.needsCorpus) func everyRegisteredImporterSniffsARealFile() throws {
  let root = try #require(TestPaths.corpus)
  // Reprise's own shards are not in the corpus: ShardTests writes and sniffs them.
  #expect(
    Set(realSamples.map(\.importer))
      == Set(TraceImporterRegistry.all.map(name)).subtracting([ShardImporter.descriptor.name]))
  for (expected, rel) in realSamples {
    let detected = try Ingest.sniffFormat(root + rel)
    #expect(detected.map(name) == expected, "\(rel)")
  }
}

/// The bundled Kineto traces are detected as Kineto without the corpus.
@Test func bundledTracesSniffAsKineto() throws {
  for file in try Ingest.expand([TestPaths.dlrm, TestPaths.bundledTraces + "/ddp-4rank"]) {
    #expect(try Ingest.sniffFormat(file).map(name) == KinetoImporter.descriptor.name, "\(file)")
  }
}

/// A recognized format that cannot be read yet fails with an error naming it, not a parse error.
@Test func unsupportedFormatIsAClearError() throws {
  let dir = FileManager.default.temporaryDirectory.appendingPathComponent("reprise-rocprof-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(at: dir) }
  let path = dir.appendingPathComponent("results.json").path
  let document = #"{"rocprofiler-sdk-tool": [{"metadata": {"pid": 1}, "buffer_records": {}}]}"#
  _ = FileManager.default.createFile(atPath: path, contents: Data(document.utf8))
  #expect(try Ingest.detectFormat(path) == RocprofImporter.descriptor)
  #expect(
    throws: TraceImportError.unsupportedFormat(
      file: path, format: "rocprofiler-sdk JSON",
      hint: TraceImporterRegistry.readableFormats)
  ) {
    try Ingest.run(paths: [path])
  }
  #expect { try Ingest.run(paths: [path]) } throws: {
    "\($0)".contains("results.json: rocprofiler-sdk JSON is not supported yet")
  }
}

/// Files no sniff accepts go to a reader whose error says what they are: Chakra for `.et`, else Kineto.
@Test func unrecognizedFilesFallBackByExtension() {
  #expect(name(Ingest.fallbackImporter(for: "/x/old.0.et")) == ChakraProtobufImporter.descriptor.name)
  #expect(name(Ingest.fallbackImporter(for: "/x/garbage.json")) == KinetoImporter.descriptor.name)
}

// MARK: - Rank resolution

private let kinetoNotes = KinetoImporter.rankNotes

@Test func aDeclaredRankWinsWithoutANote() throws {
  var d = Diagnostics()
  let r = try RankResolver.rank(
    declared: 4, path: "/x/rank-3.json", isOnlyFile: false, notes: kinetoNotes,
    diagnostics: &d)
  #expect(r == RankID(4) && d.isEmpty)
}

@Test func aRankFromTheFileNameIsNotedAsTheFormatWordsIt() throws {
  var d = Diagnostics()
  let r = try RankResolver.rank(
    declared: nil, path: "/x/worker7_step_12.pt.trace.json", isOnlyFile: false,
    notes: kinetoNotes, diagnostics: &d)
  #expect(r == RankID(7))
  #expect(d.items.map(\.code) == ["ingest.rankFromName"])
  #expect(d.items.first?.message == "no distributedInfo.rank; rank 7 taken from the file name")
  #expect(d.items.first?.location == TraceLocation(file: "/x/worker7_step_12.pt.trace.json"))
  // Chakra names its ranks in the file name by convention: no note.
  var chakra = Diagnostics()
  let c = try RankResolver.rank(
    declared: nil, path: "all_reduce.3.et", isOnlyFile: false,
    notes: ChakraProtobufImporter.rankNotes, diagnostics: &chakra)
  #expect(c == RankID(3) && chakra.isEmpty)
}

@Test func theOnlyFileWithoutARankTakesTheFallback() throws {
  var d = Diagnostics()
  #expect(
    try RankResolver.rank(
      declared: nil, path: "trace.json", isOnlyFile: true, notes: kinetoNotes,
      diagnostics: &d) == RankID(0))
  #expect(d.items.map(\.code) == ["ingest.rankDefault"] && d.items.allSatisfy { $0.severity == .note })
  // A host execution trace given with one Kineto trace takes that trace's rank.
  var et = Diagnostics()
  #expect(
    try RankResolver.rank(
      declared: nil, path: "et.json.gz", isOnlyFile: true, fallback: 5,
      notes: PyTorchETImporter.linkedRankNotes, diagnostics: &et) == RankID(5))
  #expect(et.items.map(\.code) == ["et.rankFromKineto"] && et.items.first?.message.contains("(rank 5)") == true)
  // Without notes, none is added.
  var quiet = Diagnostics()
  #expect(
    try RankResolver.rank(
      declared: nil, path: "et.json.gz", isOnlyFile: true, notes: RankNotes(),
      diagnostics: &quiet) == RankID(0))
  #expect(quiet.isEmpty)
}

@Test func aRankNothingStatesAmongSeveralFilesIsAnError() {
  var d = Diagnostics()
  #expect(throws: TraceImportError.unknownRank(file: "/x/alpha.json")) {
    try RankResolver.rank(declared: nil, path: "/x/alpha.json", isOnlyFile: false, notes: kinetoNotes, diagnostics: &d)
  }
  #expect(d.isEmpty)
}

@Test func fileNamesStateRanksInEveryConvention() {
  let cases: [(String, Int?)] = [
    ("rank-3.json", 3), ("rank_5.json.gz", 5), ("RANK12.pt.trace.json", 12), ("worker7_step_12.json", 7),
    ("all_reduce.3.et", 3), ("chakra.0.json", 0), ("trace_3.json", 3), ("trace-14.pt.trace.json", 14),
    ("/dir/rank9/trace.json", nil), ("resnet50.json", nil), ("a.1234567.et", nil),
  ]
  for (path, rank) in cases { #expect(RankResolver.rank(inFileName: path) == rank, "\(path)") }
}
