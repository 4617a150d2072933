import Foundation
import Schedules
import TestSupport
import Testing
import TraceImport
import TraceModel

private let root = TestPaths.packageRoot + "/Traces/kineto-cpu"

@Test func pipelineProfilesOfTheCPUCaptures() throws {
  for (dir, schedule) in [("pipeline-gpipe", "gpipe"), ("pipeline-1f1b", "1f1b")] {
    let r = try Ingest.run(paths: [root + "/" + dir])
    #expect(r.link.p2pPairs == 24 && r.link.p2pUnmatched == 0, "\(dir): \(r.link.p2pPairs) pairs")
    let p = try PipelineProfile.analyze(r.graph)
    #expect(p.stages == 2 && p.microbatches == 4 && p.detectedSchedule == schedule, "\(dir): \(p)")
    #expect(p.forward.allSatisfy { $0 > .zero } && p.backward.allSatisfy { $0 > .zero })
    // Re-timing under the schedule it was recorded with changes nothing.
    #expect(try p.predict(schedule).predictedStep == p.measuredStep)
  }
}

/// The acceptance check: from the 1F1B capture, predict the GPipe capture's measured step time
/// (same script run, same machine) within 10%.
@Test func oneF1BCapturePredictsGPipe() throws {
  let oneF1B = try PipelineProfile.analyze(try Ingest.run(paths: [root + "/pipeline-1f1b"]).graph)
  let gpipe = try PipelineProfile.analyze(try Ingest.run(paths: [root + "/pipeline-gpipe"]).graph)
  let predicted = try oneF1B.predict("gpipe").predictedStep
  let error = abs((predicted - gpipe.measuredStep) / gpipe.measuredStep)
  print(
    "1f1b measured \(oneF1B.measuredStep) ns → gpipe predicted \(predicted) ns; gpipe measured \(gpipe.measuredStep) ns; error \(error * 100)%"
  )
  #expect(error <= 0.10)
}

@Test func notAPipelineIsAClearError() throws {
  let g = try Ingest.run(paths: [TestPaths.bundledTraces + "/ddp-4rank"]).graph
  #expect(throws: PipelineProfile.Failure.self) { try PipelineProfile.analyze(g) }
}

/// ZB-H1 needs W apart from B; the CPU captures fuse them. The recorded backward is split (half
/// each), so ZB-H1 fills the cool-down bubbles that 1F1B leaves: it used to equal 1F1B exactly
/// (W = 0). Schedules that fuse B and W again see the recorded backward unchanged.
@Test func zbH1SplitsAFusedBackward() throws {
  let p = try PipelineProfile.analyze(try Ingest.run(paths: [root + "/pipeline-1f1b"]).graph)
  let oneF1B = try p.predict("1f1b")
  let zb = try p.predict("zb-h1")
  #expect(zb.target.makespan < oneF1B.target.makespan, "zb-h1 \(zb.target.makespan) vs 1f1b \(oneF1B.target.makespan)")
  #expect(oneF1B.predictedStep == p.measuredStep)
  let gpipe = try p.predict("gpipe")
  #expect(gpipe.target.ops.allSatisfy { $0.allSatisfy { $0.op.kind != .W } })
}
