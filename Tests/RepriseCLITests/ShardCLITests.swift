import Foundation
import TestSupport
import Testing

/// `reprise shard`, then the analyses on the shards: the same output as on the traces (the
/// report differs only in the input paths it lists).
@Test func shardThenAnalyseGivesTheSameOutput() throws {
  let dir = FileManager.default.temporaryDirectory.appendingPathComponent("reprise-shard-cli-\(UUID().uuidString)").path
  defer { try? FileManager.default.removeItem(atPath: dir) }
  let set = "Traces/generated/megatron-tp8"
  let r = try reprise("shard", set, "-o", dir, "--json")
  #expect(r.status == 0, "\(r.stderr)")
  let obj = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
  #expect(obj["schema"] as? String == "reprise.shard-summary/v1")
  let shards = try #require(obj["shards"] as? [[String: Any]])
  #expect(shards.map { $0["rank"] as? Int } == (0..<8).map { $0 })
  #expect(shards.allSatisfy { ($0["path"] as? String)?.hasSuffix(".rshard") == true })
  #expect((obj["sizeRatio"] as? Double ?? 1) < 0.2)
  for command in [["replay", "--json"], ["whatif", "--set", "comm.scale=0.5", "--json"], ["breakdown", "--json"]] {
    let a = try reprise([command[0], set] + command.dropFirst())
    let b = try reprise([command[0], dir] + command.dropFirst())
    #expect(a.status == 0 && b.status == 0 && a.stdout == b.stdout, "\(command): \(b.stderr)")
  }
  let ingest = try reprise("ingest", dir + "/rank-3.rshard", "--json")
  #expect(ingest.status == 0 && ingest.stdout.contains("Reprise shard of Kineto/Chrome trace JSON"))
}

@Test func aCorruptShardExits65WithOneLine() throws {
  let dir = FileManager.default.temporaryDirectory.appendingPathComponent("reprise-shard-bad-\(UUID().uuidString)").path
  defer { try? FileManager.default.removeItem(atPath: dir) }
  #expect(try reprise("shard", "Traces/generated/pipeline-2rank", "-o", dir).status == 0)
  let path = dir + "/rank-1.rshard"
  var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
  bytes[200] ^= 0xff
  try Data(bytes).write(to: URL(fileURLWithPath: path))
  let r = try reprise("replay", dir)
  #expect(r.status == 65)
  let lines = r.stderr.split(separator: "\n")
  #expect(lines.count == 1 && lines[0].contains("rank-1.rshard:@"), "\(r.stderr)")
  #expect(try reprise("shard", "Traces/generated/pipeline-2rank").status == 64)
}

/// A directory holding shards is read for its shards only, with a note for the traces beside
/// them; shards cannot be written inside an input directory.
@Test func shardsBesideTracesAreReadAloneWithANote() throws {
  let dir = FileManager.default.temporaryDirectory.appendingPathComponent("reprise-shard-mix-\(UUID().uuidString)").path
  defer { try? FileManager.default.removeItem(atPath: dir) }
  try FileManager.default.createDirectory(atPath: dir + "/traces", withIntermediateDirectories: true)
  for r in 0..<2 {
    try FileManager.default.copyItem(
      atPath: "Traces/generated/pipeline-2rank/rank\(r).pt.trace.json", toPath: dir + "/traces/rank\(r).pt.trace.json")
  }
  #expect(try reprise("shard", dir + "/traces/rank0.pt.trace.json", "-o", dir + "/shards").status == 0)
  let r = try reprise("ingest", dir, "--json")
  #expect(r.status == 0 && r.stderr.contains("2 trace file(s) below it not read"), "\(r.stderr)")
  let obj = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
  #expect(obj["ranks"] as? Int == 1)
  let inside = try reprise("shard", dir + "/traces", "-o", dir + "/traces/shards")
  #expect(inside.status == 64 && inside.stderr.contains("inside the input directory"), "\(inside.stderr)")
}
