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
