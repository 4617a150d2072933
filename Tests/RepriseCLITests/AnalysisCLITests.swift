import Foundation
import TestSupport
import Testing

private let ddp = TestPaths.bundledTraces + "/ddp-4rank"

@Test func breakdownPrintsEveryRankAndDeterministicJSON() throws {
  let t = try reprise("breakdown", ddp)
  #expect(t.status == 0, "\(t.stderr)")
  for r in 0..<4 { #expect(t.stdout.contains("\n   \(r) ")) }
  let a = try reprise("breakdown", "--json", ddp)
  let b = try reprise("breakdown", "--json", ddp)
  #expect(a.status == 0 && a.stdout == b.stdout)
  #expect(a.stdout.contains("\"schema\": \"reprise.breakdown/v1\"") && a.stdout.contains("\"exposedCommunicationNs\""))
}

@Test func bandwidthReportsBusbwAndPeak() throws {
  let t = try reprise("bandwidth", ddp, "--link-bandwidth", "300GB/s")
  #expect(t.status == 0, "\(t.stderr)")
  #expect(t.stdout.contains("allReduce") && t.stdout.contains("% of the 300.0 GB/s link"))
  #expect(t.stdout.contains("straggler: rank 2"))
  let j = try reprise("bandwidth", "--json", ddp)
  #expect(j.stdout.contains("\"busBandwidthGBps\"") && j.stdout.contains("\"schema\": \"reprise.bandwidth/v1\""))
  #expect(j.stdout.contains("\"heldOthersNs\""))
}

@Test func analysisCommandsRejectBadFlagsAndEmptyInput() throws {
  #expect(try reprise("breakdown", "--window", "weekly", ddp).status == 64)
  #expect(try reprise("bandwidth", "--link-bandwidth", "fast", ddp).status == 64)
  // A CPU-only trace has no device work and no NCCL kernels.
  let cpu = TestPaths.packageRoot + "/Traces/kineto-cpu/pipeline-gpipe"
  let r = try reprise("breakdown", cpu)
  #expect(r.status == 65 && r.stderr.contains("no device events"), "\(r.status) \(r.stderr)")
}
