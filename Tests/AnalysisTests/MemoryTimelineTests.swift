import TestSupport
import Testing
import TraceImport
import TraceModel

@testable import Analysis

/// Peaks, allocation counts and churn per device, against a plain reading of the raw JSON
/// (Python: sort `[memory]` instants by ts, take `Total Allocated`, else a running sum of `Bytes`).
@Test(
  .needsCorpus,
  arguments: [
    // A 2021 trace: `Bytes` only, totals reconstructed.
    (
      "/kineto/tb_plugin/samples/resnet50_num_workers_0/worker0.1623143089861.pt.trace.json.gz",
      [
        (-1, 4618, Int64(57_803_264), Int64(0), 2310, Int64(375_732_528)),
        (0, 8220, 2_791_636_480, 0, 4110, 63_689_511_936),
      ], true
    ),
    // A 2025 trace with running totals.
    (
      "/tracelens/tests/traces/h100/Qwen_Qwen1.5-0.5B-Chat__1016005.json.gz",
      [(-1, 200, 16, 0, 100, 800), (0, 2250, 2_088_508_416, 2_629_828_608, 1125, 21_375_221_248)], false
    ),
  ])
func memoryPeaksMatchTheRawTrace(path: String, expected: [(Int, Int, Int64, Int64, Int, Int64)], reconstructed: Bool)
  throws
{
  let file = try #require(TestPaths.corpus) + path
  let g = try Ingest.run(paths: [file]).graph
  let m = MemoryTimeline(g, timeline: Timeline(measured: g))
  #expect(m.devices.count == expected.count)
  for (d, e) in zip(m.devices, expected) {
    #expect(d.device == e.0 && d.samples.count == e.1, "\(d.device): \(d.samples.count) samples")
    #expect(d.peakAllocated.rawValue == e.2, "device \(d.device) peak")
    #expect(
      d.peakReserved.rawValue == e.3 && d.allocations == e.4 && d.allocatedTotal.rawValue == e.5, "device \(d.device)")
    #expect(d.totalsReconstructed == reconstructed)
    #expect(zip(d.samples, d.samples.dropFirst()).allSatisfy { $0.time.rawValue <= $1.time.rawValue })
    #expect(d.samples.contains { $0.time == d.peakAllocatedAt && $0.allocated.rawValue == d.peakAllocated.rawValue })
  }
}
