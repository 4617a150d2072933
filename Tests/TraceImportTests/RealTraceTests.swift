import Foundation
import TestSupport
import Testing
import TraceModel

@testable import TraceImport

/// Files in the trace corpus that are JSON but deliberately not traces (TraceLens' vLLM sidecar).
let notTraces: Set<String> = ["tracelens/tests/traces/inference/vllm_decode_full/capture_traces/execution_details.json"]

/// Every Kineto/Chrome JSON file in the trace corpus (decided by sniffing, not by name).
let kinetoFiles: [String] = {
  guard let root = TestPaths.corpus else { return [] }
  return TestPaths.jsonFiles(under: root).filter { path in
    (try? Ingest.detectFormat(path))?.name == KinetoImporter.descriptor.name && !notTraces.contains(relative(path))
  }
}()

func relative(_ path: String) -> String {
  guard let root = TestPaths.corpus, path.hasPrefix(root + "/") else { return path }
  return String(path.dropFirst(root.count + 1))
}

@Test(.needsCorpus) func corpusHoldsTheKinetoFiles() throws {
  try #require(TestPaths.corpus != nil, "the trace corpus is missing")
  #expect(kinetoFiles.count >= 60, "found \(kinetoFiles.count) Kineto files")
}

@Test(.needsCorpus, arguments: kinetoFiles)
func everyKinetoFileIngests(path: String) throws {
  let result = try Ingest.run(paths: [path])
  #expect(
    result.diagnostics.count(of: .error) == 0,
    "\(relative(path)): \(result.diagnostics.items.filter { $0.severity == .error })")
  #expect(result.graph.eventCount > 0)
  #expect(result.graph.validate().isEmpty)
}

/// Streaming tokenizer vs jansson: event counts per ph and per cat, and Σ dur, agree exactly.
@Test(.needsCorpus, arguments: kinetoFiles)
func tokenizerAgreesWithJansson(path: String) throws {
  let ours = ReferenceStats(try Ingest.kinetoStats(path))
  let reference = try ReferenceReader.stats(path)
  #expect(ours == reference, "\(relative(path))")
}

@Test(.needsCorpus) func nonTraceJSONFailsWithAClearMessage() throws {
  guard let root = TestPaths.corpus else { return }
  for rel in notTraces {
    #expect {
      try Ingest.run(paths: [root + "/" + rel])
    } throws: { error in
      "\(error)".contains("execution_details.json:@") && "\(error)".contains("missing required field 'ph'")
    }
  }
}

/// Every PyTorch host execution trace JSON in the trace corpus, by sniffing.
let executionTraceFiles: [String] = {
  guard let root = TestPaths.corpus else { return [] }
  return TestPaths.jsonFiles(under: root).filter {
    (try? Ingest.detectFormat($0))?.name == PyTorchETImporter.descriptor.name
  }
}()

@Test(.needsCorpus) func otherFormatsAreRecognizedNotMisread() throws {
  guard let root = TestPaths.corpus else { return }
  let et = try Ingest.detectFormat(root + "/param/et_replay/tests/inputs/linear_et.json.gz")
  #expect(et.name.contains("execution trace") && et.isSupported)
  let chakra = try Ingest.detectFormat(root + "/chakra/tests/data/json_trace.tar.gz.d/jsonData/small_chakra.0.json")
  #expect(chakra.name.contains("Chakra") && chakra.isSupported)
  // The jsonized Chakra graph holds the same nodes as its .et (3664 nodes, as its jsonized form counts them).
  let json = try Ingest.run(paths: [root + "/chakra/tests/data/json_trace.tar.gz.d/jsonData/chakra.0.json"])
  #expect(json.files.first?.recordTypes == ["COMP_NODE": 3643, "COMM_COLL_NODE": 21] && json.graph.eventCount == 3664)
  #expect(json.diagnostics.count(of: .error) == 0 && json.graph.validate().isEmpty)
  let rocprof = TestPaths.jsonFiles(under: root).filter {
    (try? Ingest.detectFormat($0))?.name == RocprofImporter.descriptor.name
  }
  for f in rocprof { #expect(throws: TraceImportError.self) { try Ingest.run(paths: [f]) } }
  #expect(executionTraceFiles.count >= 15, "found \(executionTraceFiles.count) execution traces")
}

/// Every host execution trace (schemas 1.0.1 to 1.1.1-chakra.0.0.4, ET+) imports on its own:
/// one event per node, no errors, a valid graph.
@Test(.needsCorpus, arguments: executionTraceFiles)
func everyExecutionTraceImports(path: String) throws {
  let r = try Ingest.run(paths: [path])
  let et = try ExecutionTrace.read(path)
  #expect(r.diagnostics.count(of: .error) == 0 && r.graph.validate().isEmpty, "\(relative(path))")
  #expect(r.graph.eventCount == et.nodes.count && et.nodes.count > 0)
}

@Test func dlrmEightRanksMatchEveryCollective() throws {
  let dir = TestPaths.dlrm
  let r = try Ingest.run(paths: [dir])
  #expect(r.graph.ranks.map(\.rank) == (0..<8).map { RankID($0) })
  #expect(r.link.collectiveInstances == 8)
  #expect(r.link.matchedInstances == 8 && r.link.unmatchedInstances == 0)
  #expect(r.link.instancesByKind == [.allReduce: 3, .allToAll: 5])
  for inst in r.graph.instances { #expect(inst.members.count == 8 && inst.isComplete) }
  // Same host clock: matched collectives end within a few µs of each other.
  #expect(r.link.maxEndSpreadNs <= 10_000, "max spread \(r.link.maxEndSpreadNs) ns")
  #expect(!r.link.clockAligned)
  // Message sizes from the nccl:* annotations' Input Dims/Input type (rank 0: all-reduce of
  // 394241 floats, all-to-all of 6144 floats and of 24 longs).
  let r0 = r.graph.collectives.filter { r.graph.rank(of: $0.event.index) == RankID(0) }
  let allReduceBytes: Set<Int64> = [1_576_964, 448, 907_840]  // 394241, 112, 226960 floats
  let allToAllBytes: Set<Int64> = [24_576, 192, 1_536, 13_568]  // 6144 float, 24 long, 384 and 3392 int
  #expect(Set(r0.filter { $0.kind == .allReduce }.map(\.inputBytes)) == allReduceBytes)
  #expect(Set(r0.filter { $0.kind == .allToAll }.map(\.inputBytes)) == allToAllBytes)
  #expect(r.diagnostics.count(of: .warning) == 0 && r.diagnostics.count(of: .error) == 0)
  #expect(Set(r.graph.steps.map(\.number)) == [10])
}

@Test(.needsCorpus) func partialWorldCountsUnmatchedAsWarnings() throws {
  let dir = try #require(TestPaths.corpus).appending("/hta/tests/data/trace_filter")
  let r = try Ingest.run(paths: [dir])
  #expect(r.graph.ranks.count == 2)
  #expect(r.link.unmatchedInstances == 10 && r.link.matchedInstances == 0)
  #expect(
    r.diagnostics.items.contains {
      $0.code == "link.unmatchedCollective" && $0.severity == .warning && $0.message.contains("2 of 128")
    })
  #expect(r.diagnostics.count(of: .error) == 0)
}

@Test(.needsCorpus) func gzipWindowRefillsGiveTheSameTokens() throws {
  // A tiny window forces refills inside strings, numbers and escapes.
  let path = try #require(TestPaths.corpus).appending(
    "/hta/tests/data/critical_path/alexnet/benchmark_result_2869224_1695835535_trace.json.gz")
  let whole = try Ingest.kinetoStats(path)
  for chunk in [17, 64, 4096] {
    var parser = KinetoParser(source: try ByteSource(path: path, chunkSize: chunk))
    #expect(try parser.parse().stats == whole, "chunk \(chunk)")
  }
}

@Test(.needsCorpus) func largeIntegersAndBaseTimeAreExact() throws {
  let root = try #require(TestPaths.corpus)
  let r = try Ingest.run(paths: [
    root + "/hta/tests/data/large_integer_trace/rank-70.Mar_25_20_48_12.2861.pt.trace.json.gz"
  ])
  #expect(r.graph.eventCount == 2)
  let q = try Ingest.run(paths: [root + "/tracelens/tests/traces/mi300/gaunernst_bert-small-uncased__1016001.json.gz"])
  let base = try #require(q.graph.ranks[0].baseTimeNanoseconds)
  #expect(base > 1 << 53)
}

@Test(.needsCorpus) func amdAndLegacyTracesLinkLaunches() throws {
  let root = try #require(TestPaths.corpus)
  // Expected: device events whose correlation id names a traced host call (counted independently
  // with Python's json module); the rest were launched outside the trace window.
  for (rel, expected, device) in [
    ("hta/tests/data/amd_trace/mi250_minitoy_train_ROCm6_2_kineto.json.gz", 16, 16),
    ("kineto/tb_plugin/samples/resnet50_num_workers_0/worker0.pt.trace.json.gz", 9282, 10015),
    ("tracelens/tests/traces/mi300/resnet_act_checkpoint.json.gz", 2685, 3653),
  ] {
    let r = try Ingest.run(paths: [root + "/" + rel])
    let g = r.graph
    let launches = g.edgeKinds.filter { $0 == .launch }.count
    let deviceEvents = g.kind.filter { $0.isDeviceWork }.count + g.collectives.count
    #expect(launches == expected, "\(rel)")
    #expect(deviceEvents == device, "\(rel)")
    #expect(
      r.diagnostics.items.contains { $0.code == "kineto.noLaunch" && $0.count == device - expected }
        || device == expected)
  }
  // RCCL ncclDevKernel_Generic resolves to its operation through args or host context; the 5
  // whose launch is outside the window stay unknown and are reported.
  let g = try Ingest.run(paths: [root + "/tracelens/tests/traces/mi300/resnet_act_checkpoint.json.gz"]).graph
  let kinds = Dictionary(grouping: g.collectives, by: \.kind).mapValues(\.count)
  #expect(kinds == [.allReduce: 6, .broadcast: 6, .unknown: 5])
}

@Test(.needsCorpus) func cpuOnlyGlooCollectivesAreHostCollectives() throws {
  let root = try #require(TestPaths.corpus)
  let r = try Ingest.run(paths: [root + "/hta/tests/data/cpu_only/rank-34.Jul_15_10_52_41.1074.pt.trace.json.gz"])
  #expect(r.graph.ranks[0].rank == RankID(34))
  #expect(r.graph.collectives.count == 10 && r.graph.collectives.allSatisfy { $0.kind == .allReduce })
  #expect(r.graph.collectives.contains { $0.inputBytes == 321_271 * 4 })
  #expect(r.link.unmatchedInstances == 10)  // 1 of 300 ranks
}

@Test func bundledSamplesLinkAcrossRanks() throws {
  let ddp = try Ingest.run(paths: [TestPaths.bundledTraces + "/ddp-4rank"])
  #expect(ddp.link.matchedInstances == 6 && ddp.link.unmatchedInstances == 0)
  #expect(ddp.link.clockAligned && ddp.link.clockOffsets[RankID(3)] == -180_000)
  #expect(ddp.link.maxEndSpreadNs <= 1)
  let pp = try Ingest.run(paths: [TestPaths.bundledTraces + "/pipeline-2rank"])
  #expect(pp.link.p2pPairs == 8 && pp.link.p2pUnmatched == 0)
  #expect(pp.graph.edgeKinds.filter { $0 == .p2p }.count == 8)
}
