import Foundation
import Testing

@testable import TraceImport

// Counts a file states that must not cost memory or time in proportion to their value, or trap:
// a world size of 10^18, a shard's edited record counts, an execution trace's link counts.

@Test func missingRanksComeFromTheHeldRanksNotFromTheWorld() {
  let r = Ingest.missingRanks(world: 10, held: [0, 1, 2, 5, 9, 12])
  #expect(r.count == 5)
  #expect(r.list == "3-4, 6-8")
  let huge = Ingest.missingRanks(world: 4_000_000_000_000_000_000, held: [0, 2])
  #expect(huge.count == 3_999_999_999_999_999_998)
  #expect(huge.list == "1, 3-3999999999999999999")
  let many = Ingest.missingRanks(world: 100, held: Set(stride(from: 0, to: 100, by: 2)))
  #expect(many.count == 50)
  #expect(many.list.hasSuffix(", …") && many.list.split(separator: ",").count == 21)
  #expect(Ingest.missingRanks(world: 3, held: [0, 1, 2]).count == 0)
}

@Test func aWorldSizeOf10To18IsANoteNotAHang() throws {
  let dir = FileManager.default.temporaryDirectory.appendingPathComponent("reprise-world-\(UUID().uuidString)").path
  try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(atPath: dir) }
  let path = dir + "/trace.json"
  let json = """
    {"distributedInfo": {"rank": 0, "world_size": 4000000000000000000},
     "traceEvents": [{"ph": "X", "name": "a", "ts": 0, "dur": 1, "pid": 0, "tid": 0}]}
    """
  try json.write(toFile: path, atomically: true, encoding: .utf8)
  let r = try Ingest.run(paths: [path])
  let missing = try #require(r.diagnostics.items.first { $0.code == "ingest.missingRanks" })
  #expect(missing.message.hasPrefix("3999999999999999999 of 4000000000000000000 ranks have no file: 1-"))
}

@Test func editedShardCountsAreSetAsideNotSummed() {
  var source = ShardMeta.Source(
    path: "t.json", bytes: 1, decompressedBytes: 1, gzip: false, format: "Kineto", events: 3, recordTypes: [:],
    phaseCounts: [:], categoryCounts: [:], durationSumNs: 0, eventArrayCount: 5, recordsRead: 5,
    recordsDropped: ["metadata": 2])
  #expect(source.account(kept: 3) == EventAccount(read: 5, kept: 3, dropped: [.metadata: 2]))
  // Two counts near Int.max would overflow their sum.
  source.recordsRead = Int.max
  source.recordsDropped = ["metadata": Int.max, "flow": Int.max]
  #expect(source.account(kept: 3) == nil)
  // Negative counts.
  source.recordsRead = 5
  source.recordsDropped = ["metadata": -2, "flow": 4]
  #expect(source.account(kept: 3) == nil)
}
