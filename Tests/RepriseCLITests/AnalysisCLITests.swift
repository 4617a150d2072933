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
}

/// A CPU-only trace (gloo) has no device work: its host threads are the lanes, and the table and
/// the JSON say so (it used to exit 65, "no device events").
@Test func breakdownOfACPUTraceUsesTheHostThreadsAndSaysSo() throws {
  for set in ["pipeline-gpipe", "ddp-gloo-4rank"] {
    let cpu = TestPaths.packageRoot + "/Traces/kineto-cpu/" + set
    let r = try reprise("breakdown", cpu)
    #expect(r.status == 0, "\(set): \(r.status) \(r.stderr)")
    #expect(r.stdout.contains("window: host span") && r.stdout.contains("lanes: host threads for rank(s) 0, 1"))
    let j = try reprise("breakdown", "--json", "--window", "steps", cpu)
    #expect(j.status == 0 && j.stdout.contains("\"lanes\": \"hostThreads\"") && !j.stdout.contains("deviceStreams"))
  }
  let gpu = try reprise("breakdown", "--json", ddp)
  #expect(gpu.stdout.contains("\"lanes\": \"deviceStreams\"") && !gpu.stdout.contains("hostThreads"))
}
