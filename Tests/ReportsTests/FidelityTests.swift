import CostModels
import Foundation
import Replay
import Reports
import Schedules
import TestSupport
import Testing
import TraceImport
import TraceModel

/// Issue 13, item 3: every prediction carries its fidelity (identity error, coverage by timing
/// method) and an interval (`stepNs.low/high`); docs/replay.md, Fidelity and Interval.
private let root = TestPaths.packageRoot

private func hundredths(_ c: Fidelity.Coverage) -> Int {
  [c.shapeTimedPct, c.classTimedPct, c.measuredPct].map { Int(($0 * 100).rounded()) }.reduce(0, +)
}

private func expectConsistent(_ t: ReplaySummary.StepTimes, _ what: String) {
  guard let low = t.low, let high = t.high, t.baseline != nil else {
    Issue.record("\(what): baseline, low or high missing: \(t)")
    return
  }
  #expect(low <= t.predicted && t.predicted <= high, "\(what): \(low) ≤ \(t.predicted) ≤ \(high)")
}

@Test(arguments: bundledSets)
func whatIfAndReplayCarryFidelityAndAConsistentInterval(set: String) throws {
  let graph = try Ingest.run(paths: [root + "/Traces/" + set]).graph
  let replay = try WhatIfRun(graph: graph, scenario: nil)
  let whatIf = try replay.with(try Scenario.parse(["compute.scale=0.5"]))
  for (run, label) in [(replay, "replay"), (whatIf, "compute.scale=0.5")] {
    let s = run.summary
    expectConsistent(s.stepNs, "\(set) \(label) stepNs")
    expectConsistent(try #require(s.jobStepNs), "\(set) \(label) jobStepNs")
    let f = try #require(s.fidelity)
    #expect(hundredths(f.coverage) == 10_000, "\(set) \(label): \(f.coverage)")
    #expect(f.coverage.timedWorkNs > .zero)
    #expect(
      f.identityErrorPct == ((run.baselineJobStep - run.measuredJobStep) / run.measuredJobStep * 1e5).rounded() / 1000)
    #expect(
      run.text().contains(
        String(
          format: "predicted %.3f ms (%.3f–", run.predictedJobStep.milliseconds,
          (s.jobStepNs?.low ?? .zero).milliseconds)))
  }
  // An identity replay measures everything; it predicts its own baseline.
  let identity = replay.fidelity.coverage
  #expect(identity.measuredPct == 100 && identity.classTimedPct == 0 && identity.shapeTimedPct == 0)
  #expect(replay.summary.stepNs.baseline == replay.summary.stepNs.predicted)
}

@Test func aComputeKnobClassTimesTheKernels() throws {
  let graph = try Ingest.run(paths: [TestPaths.dlrm]).graph
  let run = try WhatIfRun(graph: graph, scenario: try Scenario.parse(["compute.scale=0.5"]))
  let c = run.fidelity.coverage
  #expect(c.classTimedPct > 0 && c.measuredPct < 100 && c.shapeTimedPct == 0, "\(c)")
  // The class-timed share is the kernels' share of timed work.
  let work = run.plan.timedWork
  let g = run.plan.graph
  let kernels = (0..<g.eventCount).filter { g.kind[$0] == .kernel }.map { work[$0].rawValue }.reduce(0, +)
  let total = work.map(\.rawValue).reduce(0, +)
  #expect(abs(c.classTimedPct - Double(kernels) / Double(total) * 100) <= 0.01)
  // A host-launch knob class-times the launch calls instead, a smaller share.
  let launch = try run.with(try Scenario.parse(["host.launch=2us"])).fidelity.coverage
  #expect(launch.classTimedPct > 0 && launch.classTimedPct != c.classTimedPct)
}

@Test func cpuOnlyRanksCountTheirOperatorsOwnTime() throws {
  let graph = try Ingest.run(paths: [root + "/Traces/kineto-cpu/ddp-gloo-4rank"]).graph
  let plan = ReplayPlan(graph)
  let work = plan.timedWork
  // Own time: no operator's work exceeds its duration, and a parent counts less than its span.
  var parents = 0
  for e in 0..<graph.eventCount where graph.kind[e] == .hostOp {
    #expect(work[e].rawValue <= graph.duration[e])
    if graph.parent[e] != .none && work[graph.parent[e].index].rawValue < graph.duration[graph.parent[e].index] {
      parents += 1
    }
  }
  #expect(parents > 0)
}

@Test func percentagesSumToExactlyAHundred() {
  #expect(Fidelity.percentages([1, 1, 1]) == [33.34, 33.33, 33.33])
  #expect(Fidelity.percentages([0, 0, 0]) == [0, 0, 100])
  // No timed work at all (a host ET without durations): all of it counts as measured.
  let none = Fidelity.Coverage(work: [.zero, .zero], methods: [.shapeModel, .classRatio])
  #expect(none.measuredPct == 100 && none.shapeTimedPct == 0 && none.classTimedPct == 0, "\(none)")
  let one = Fidelity.Coverage(
    work: [Nanoseconds(1), Nanoseconds(1), Nanoseconds(1)], methods: [.shapeModel, .classRatio, .measured])
  #expect(one.shapeTimedPct == 33.34 && one.classTimedPct == 33.33 && one.measuredPct == 33.33, "\(one)")
  #expect(Fidelity.percentages([2, 1, 0]) == [66.67, 33.33, 0])
  for parts: [Int64] in [[7, 13, 1_000_003], [1, 2, 3], [999, 1, 0], [5, 5, 5]] {
    let p = Fidelity.percentages(parts)
    #expect(p.map { Int(($0 * 100).rounded()) }.reduce(0, +) == 10_000, "\(parts) → \(p)")
  }
}

@Test func theIntervalWidensWithTheIdentityError() {
  // Two steps, two ranks; the prediction halves rank 0's step and keeps rank 1's.
  func steps(measuredOffset: Int64) -> [StepInterval.Step] {
    [
      .init(
        measured: Nanoseconds(1000 + measuredOffset), baseline: Nanoseconds(1000), predicted: Nanoseconds(800),
        rankRatios: [0.5, 1]),
      .init(
        measured: Nanoseconds(1200 + measuredOffset), baseline: Nanoseconds(1200), predicted: Nanoseconds(900),
        rankRatios: [0.75, 0.9]),
    ]
  }
  let exact = StepInterval(steps(measuredOffset: 0))
  // Candidates: 800, 900, 1000·0.5, 1000·1, 1200·0.75, 1200·0.9.
  #expect(exact == StepInterval(low: Nanoseconds(500), high: Nanoseconds(1080), identityErrorPct: 0))
  // The baseline is 10 % above the measurement: the range widens by 10 % on each side.
  let off = StepInterval(steps(measuredOffset: -100))
  #expect(abs(off.identityErrorPct - 10) < 1e-9)
  #expect(off.low == Nanoseconds(450) && off.high == Nanoseconds(1188))
  #expect(off.low < exact.low && off.high > exact.high)
}

@Test func reportWhatIfSectionCarriesTheSameFidelityAndStepTimes() throws {
  let result = try Ingest.run(paths: [root + "/Traces/generated/ddp-4rank"])
  let scenario = try Scenario.parse(["compute.scale=0.5"])
  let report = try RunReport(result, inputs: [], options: .init(scenario: scenario))
  let section = try #require(report.whatIf)
  let summary = try WhatIfRun(graph: result.graph, scenario: scenario).summary
  #expect(section.fidelity == summary.fidelity)
  #expect(section.stepNs == summary.stepNs && section.jobStepNs == summary.jobStepNs)
  #expect(section.fidelity.coverage.classTimedPct > 0)
}

@Test func scheduleSwapReportsWhatTheSimulatorReTimed() throws {
  let graph = try Ingest.run(paths: [root + "/Traces/kineto-cpu/pipeline-1f1b"]).graph
  let swap = try ScheduleSwap(graph, target: "zb-h1")
  let s = swap.summary
  expectConsistent(s.stepNs, "zb-h1 swap")
  let f = try #require(s.fidelity)
  #expect(hundredths(f.coverage) == 10_000 && f.coverage.classTimedPct > 0 && f.note != nil)
  let simulated = (swap.source.makespan - swap.profile.measuredStep) / swap.profile.measuredStep * 100
  #expect(abs(f.identityErrorPct - simulated) < 0.001)
  #expect(swap.text().contains("fidelity: identity error"))
}

/// `--hardware` times sized kernels through the roofline (shape-timed) and the rest of the device
/// work by class ratios, even when the target is the source and every ratio is 1.
@Test func aHardwareTransferShapeTimesTheSizedKernels() throws {
  let g = try Ingest.run(paths: [TestPaths.h100]).graph
  let source = try #require(try SpecLibrary.embedded.detectHardware(g))
  let scenario = try Scenario().configuringModels(
    graph: g, hardware: source.name, from: nil, hostScale: nil, ranksPerNode: nil, specs: .embedded)
  let run = try WhatIfRun(graph: g, scenario: scenario)
  let f = run.fidelity
  #expect(f.coverage.shapeTimedPct > 0 && f.coverage.classTimedPct > 0 && f.coverage.measuredPct > 0, "\(f)")
  #expect(hundredths(f.coverage) == 10_000)
  expectConsistent(run.summary.stepNs, "h100 → h100")
  // The same-GPU transfer predicts the baseline: its interval holds the baseline job step.
  let job = try #require(run.summary.jobStepNs)
  #expect(try #require(job.low) <= run.baselineJobStep && run.baselineJobStep <= (job.high ?? .zero))
}
