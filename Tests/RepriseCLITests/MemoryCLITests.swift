import Foundation
import TestSupport
import Testing

@Test func ingestPastTheAvailableMemoryExits65WithOneLine() throws {
  let r = try runProcess(
    TestPaths.reprise, ["ingest", "Traces/generated/ddp-4rank", "--json"], cwd: TestPaths.packageRoot,
    environment: ["REPRISE_MEMORY_AVAILABLE": "1M"])
  #expect(r.status == 65)
  #expect(r.stdout.isEmpty)
  let lines = r.stderr.split(separator: "\n")
  #expect(lines.count == 1, "\(r.stderr)")
  #expect(r.stderr.contains("not enough memory") && r.stderr.contains("0.0 GB available"), "\(r.stderr)")
  #expect(r.stderr.contains("reprise shard"), "\(r.stderr)")
  // With the memory there, the same run succeeds.
  let ok = try runProcess(
    TestPaths.reprise, ["ingest", "Traces/generated/ddp-4rank", "--json"], cwd: TestPaths.packageRoot,
    environment: ["REPRISE_MEMORY_AVAILABLE": "2G"])
  #expect(ok.status == 0, "\(ok.stderr)")
  #expect(ok.stdout.contains("\"graph\""))
}

@Test func shardsPastTheAvailableMemoryExit65WithOneLine() throws {
  let dir = FileManager.default.temporaryDirectory.appendingPathComponent("reprise-mem-\(UUID().uuidString)").path
  defer { try? FileManager.default.removeItem(atPath: dir) }
  let made = try runProcess(
    TestPaths.reprise, ["shard", "Traces/generated/ddp-4rank", "-o", dir], cwd: TestPaths.packageRoot)
  #expect(made.status == 0, "\(made.stderr)")
  let r = try runProcess(
    TestPaths.reprise, ["ingest", dir, "--json"], cwd: TestPaths.packageRoot,
    environment: ["REPRISE_MEMORY_AVAILABLE": "1M"])
  #expect(r.status == 65)
  #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
  #expect(r.stderr.contains("not enough memory") && r.stderr.contains("from the run's shards"), "\(r.stderr)")
}
