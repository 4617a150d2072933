import Foundation
import TestSupport
import Testing
import TraceModel

@testable import TraceImport

private func shared(_ rel: String) throws -> String { try #require(TestPaths.corpus) + rel }

/// Every Chakra `.et` in the trace corpus decodes, and its node counts per type are the ones
/// MLCommons' reader gives (tools/check_chakra_counts.py with mlc-chakra 1.0.0, docs/chakra.md).
@Test(.needsCorpus) func chakraFilesDecodeWithTheCountsChakraReports() throws {
  let expected: [(String, [String: Int])] = [
    (
      "/chakra/tests/data/feeder_tests_trace.tar.gz.d/tests/data/chakra.0.et",
      ["COMP_NODE": 3643, "COMM_COLL_NODE": 21]
    ),
    ("/chakra/history-e84ec82/tests/data/chakra.0.et", ["COMP_NODE": 11333, "COMM_COLL_NODE": 14]),
    ("/astra-sim/examples/workload/microbenchmarks/all_reduce/8npus_1MB/all_reduce.3.et", ["COMM_COLL_NODE": 1]),
    ("/astra-sim/examples/workload/microbenchmarks/all_to_all/4npus_1MB/all_to_all.0.et", ["COMM_COLL_NODE": 1]),
    (
      "/astra-sim/examples/system/custom_collectives/custom_ring_allreduce_8npus_1MB/custom_allreduce.5.et",
      ["COMP_NODE": 7, "COMM_SEND_NODE": 14, "COMM_RECV_NODE": 14]
    ),
  ]
  for (rel, counts) in expected {
    let f = try ChakraProtobufImporter.decode(path: try shared(rel))
    #expect(ChakraProtobufImporter.countByType(f) == counts, "\(rel)")
  }
}

@Test(.needsCorpus) func chakraRunsIngestAsRanks() throws {
  let ar = try Ingest.run(paths: [try shared("/astra-sim/examples/workload/microbenchmarks/all_reduce/8npus_1MB")])
  #expect(ar.graph.ranks.count == 8 && ar.link.matchedInstances == 1 && ar.graph.instances.first?.kind == .allReduce)
  #expect(ar.graph.bytes.allSatisfy { $0 == 1_048_576 })
  #expect(ar.files.allSatisfy { $0.format.hasPrefix("Chakra") })
  let ring = try Ingest.run(paths: [
    try shared("/astra-sim/examples/system/custom_collectives/custom_ring_allreduce_8npus_1MB")
  ])
  #expect(ring.link.p2pPairs == 112 && ring.link.p2pUnmatched == 0)
  // A real PyTorch-derived file without start times is laid out in dependency order.
  let feeder = try Ingest.run(paths: [
    try shared("/chakra/tests/data/feeder_tests_trace.tar.gz.d/tests/data/chakra.0.et")
  ])
  let g = feeder.graph
  #expect(g.countByKind()[.kernel] == 1209 && g.countByKind()[.hostOp] == 2434 && g.countByKind()[.collective] == 21)
  #expect(feeder.diagnostics.count(of: .error) == 0 && g.validate().isEmpty)
  for e in 0..<g.eventCount {
    for (v, kind) in g.edges(from: EventID(e)) where kind.isPrecedence && kind != .collective {
      #expect(g.start[v.index] >= g.end(e), "dependency \(e) → \(v.index) must end before its dependent starts")
    }
  }
}

/// The legacy pre-1.0 ASTRA-sim file (which the current schema cannot decode) fails
/// with one clear line naming the offset.
@Test(.needsCorpus) func legacyChakraFileIsAClearError() throws {
  let path = try shared("/astra-sim/history-f5d4ddd/runs/example/workload/resnet50_DataParallel.0.et")
  #expect {
    try Ingest.run(paths: [path])
  } throws: { e in
    let text = "\(e)"
    return text.contains(":@0") && text.contains("GlobalMetadata") && text.contains("legacy")
  }
}

private let metadata: [UInt8] = [0x07, 0x0A, 0x05] + Array("0.0.4".utf8)
/// A node: id 1 (0x08 0x01), name "k" (0x12 0x01 'k'), type COMP_NODE (0x18 0x04).
private let node: [UInt8] = [0x08, 0x01, 0x12, 0x01, 0x6B, 0x18, 0x04]

private func decodeError(_ bytes: [UInt8]) -> String? {
  do {
    _ = try ChakraProtobufImporter.decode(path: "t.et", bytes: bytes)
    return nil
  } catch { return "\(error)" }
}

@Test func malformedChakraStreamsNameTheOffset() throws {
  #expect(decodeError(metadata + [UInt8(node.count)] + node) == nil)
  // Truncated varint: a length prefix whose continuation bit runs off the end.
  let truncated = decodeError(metadata + [0x80, 0x80])
  #expect(
    truncated?.contains("t.et:@8") == true && truncated?.contains("truncated varint") == true, "\(truncated ?? "")")
  // Huge length prefix: ~2^63 bytes announced, 1 left; nothing is allocated.
  let huge = decodeError(metadata + [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 0x08])
  #expect(huge?.contains("t.et:@8") == true && huge?.contains("only 1 byte(s) left") == true, "\(huge ?? "")")
  // An overlong varint (11 bytes).
  #expect(decodeError(metadata + Array(repeating: 0xFF, count: 11) + [0x01])?.contains("at most 10 bytes") == true)
  // Wrong wire type: field 1 (id, a varint) written as a 32-bit fixed value (wire type 5) and a group end.
  let wrongWire = decodeError(metadata + [0x03, 0x0D, 0x01, 0x02])
  #expect(wrongWire?.contains("t.et:@8") == true && wrongWire?.contains("Node message") == true, "\(wrongWire ?? "")")
  // Empty file.
  #expect(decodeError([])?.contains("empty file") == true)
}

/// Random corruption of a real file never crashes: it decodes or fails with an error.
@Test(.needsCorpus) func chakraDecoderSurvivesCorruption() throws {
  let path = try shared(
    "/astra-sim/examples/system/custom_collectives/custom_ring_allreduce_8npus_1MB/custom_allreduce.0.et")
  let original = [UInt8](try #require(FileManager.default.contents(atPath: path)))
  var rng = SplitMix64(seed: 7)
  var failures = 0
  for _ in 0..<500 {
    var b = original
    switch rng.next() % 3 {
    case 0: for _ in 0..<4 { b[Int(rng.next() % UInt64(b.count))] = UInt8(truncatingIfNeeded: rng.next()) }
    case 1: b = Array(b.prefix(Int(rng.next() % UInt64(b.count))))
    default: b.insert(contentsOf: [0xFF, 0xFF, 0x7F], at: Int(rng.next() % UInt64(b.count)))
    }
    do {
      let f = try ChakraProtobufImporter.decode(path: "fuzz.et", bytes: b)
      var d = Diagnostics()
      _ = ChakraProtobufImporter.build(f, path: "fuzz.et", rank: RankID(0), diagnostics: &d)
    } catch is TraceImportError {
      failures += 1
    }
  }
  #expect(failures > 0)
}

/// Sniffing tells Chakra from JSON by content: a JSON object starting `{\n` (0x7B 0x0A, which
/// reads as a 123-byte message with field 1) is not taken for Chakra.
@Test func chakraSniffRejectsJSON() {
  let json = Array(
    "{\n  \"schemaVersion\": 1, \"traceEvents\": [] , \"distributedInfo\": {\"rank\": 0}, \"deviceProperties\": [], \"x\": \"aaaaaaaaaaaaaaaaaaaaaa\"}\n"
      .utf8)
  json.withUnsafeBufferPointer { #expect(!ChakraProtobufImporter.sniff(prefix: $0)) }
  let et = metadata + [UInt8(node.count)] + node
  et.withUnsafeBufferPointer { #expect(ChakraProtobufImporter.sniff(prefix: $0)) }
}
