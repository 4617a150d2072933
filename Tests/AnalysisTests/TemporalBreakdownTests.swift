import TestSupport
import Testing
import TraceImport
import TraceModel

@testable import Analysis

@Test func intervalSetMergesIntersectsAndClips() {
  func set(_ raw: [(Int64, Int64)]) -> IntervalSet { IntervalSet(raw.map { (Nanoseconds($0.0), Nanoseconds($0.1)) }) }
  let a = set([(10, 20), (0, 5), (15, 30), (40, 40), (50, 45)])
  #expect(a.intervals.map(\.start.rawValue) == [0, 10])
  #expect(a.intervals.map(\.end.rawValue) == [5, 30])
  #expect(a.measure.rawValue == 25)
  let b = set([(3, 12), (25, 60)])
  #expect(a.intersection(b).measure.rawValue == 2 + 2 + 5)
  #expect(a.union(b).measure.rawValue == 60)
  #expect(a.gaps.map(\.start.rawValue) == [5] && a.gaps.map(\.end.rawValue) == [10])
  #expect(a.clipped(to: Nanoseconds(4), Nanoseconds(12)).measure.rawValue == 1 + 2)
}

/// Two device streams on one rank, laid out by hand:
///
///     stream 7: [0 compute 100) [150 compute 200)             [300 memcpy 320)
///     stream 9:        [80 allreduce 180)           [250 recv 270)
///
/// span 0..320 = 320; covered = [0,200) ∪ [250,270) ∪ [300,320) = 240 → idle 80;
/// compute 150; comm 120 of which [80,100)+[150,180) = 50 overlapped → exposed 70;
/// memcpy 20 exposed; 150 + 70 + 20 + 80 = 320.
private func handGraph() -> EventGraph {
  var b = EventGraph.Builder()
  b.lanes.append(Lane(rank: RankID(0), kind: .hostThread, device: -1, pid: 1, tid: 1, name: .empty))
  b.lanes.append(Lane(rank: RankID(0), kind: .deviceStream, device: 0, pid: 0, tid: 7, name: .empty))
  b.lanes.append(Lane(rank: RankID(0), kind: .deviceStream, device: 0, pid: 0, tid: 9, name: .empty))
  b.ranks.append(RankInfo(rank: RankID(0), file: "hand"))
  let n = b.strings.intern("k")
  b.addEvent(lane: LaneID(0), name: n, kind: .hostOp, start: -50, duration: 500)  // host time is not device time
  b.addEvent(lane: LaneID(1), name: n, kind: .kernel, start: 0, duration: 100)
  b.addEvent(lane: LaneID(1), name: n, kind: .kernel, start: 150, duration: 50)
  b.addEvent(lane: LaneID(1), name: n, kind: .memcpy, start: 300, duration: 20)
  b.addEvent(lane: LaneID(2), name: n, kind: .collective, start: 80, duration: 100)
  b.addEvent(lane: LaneID(2), name: n, kind: .recv, start: 250, duration: 20)
  return b.build()
}

@Test func handLaidOutRankBreaksDownExactly() throws {
  let g = handGraph()
  let r = try #require(TemporalBreakdown(g, timeline: Timeline(measured: g)).ranks.first)
  #expect(r.spanStart.rawValue == 0 && r.span.rawValue == 320)
  #expect(r.idle.rawValue == 80)
  #expect(r.compute.rawValue == 150)
  #expect(
    r.communication.rawValue == 120 && r.overlappedCommunication.rawValue == 50 && r.exposedCommunication.rawValue == 70
  )
  #expect(r.memory.rawValue == 20 && r.exposedMemory.rawValue == 20)
  #expect(r.nonCompute.rawValue == 90)
  #expect(r.overlapRatio == 50.0 / 120.0)
  #expect((r.computeEvents, r.communicationEvents, r.memoryEvents) == (2, 2, 1))
}

@Test func stepWindowClipsDeviceTime() throws {
  var b = handGraph().toBuilder()
  let n = b.strings.intern("ProfilerStep#3")
  let step = b.addEvent(lane: LaneID(0), name: n, kind: .annotation, start: 50, duration: 200)
  b.steps.append(Step(rank: RankID(0), number: 3, start: Nanoseconds(50), end: Nanoseconds(250), event: step))
  let g = b.build()
  let r = try #require(TemporalBreakdown(g, timeline: Timeline(measured: g), window: .steps).ranks.first)
  // Inside [50,250): compute [50,100)+[150,200) = 100, comm [80,180) = 100, idle [200,250) = 50.
  #expect(
    r.span.rawValue == 200 && r.compute.rawValue == 100 && r.communication.rawValue == 100 && r.idle.rawValue == 50)
  #expect(
    r.compute.rawValue + r.exposedCommunication.rawValue + r.exposedMemory.rawValue + r.idle.rawValue == r.span.rawValue
  )
}

private let sets = TestPaths.traceSets(corpus: [
  "/hta/tests/data/nccl_parser_config/nccl_data.json.gz",
  "/tracelens/tests/traces/mi300/resnet_act_checkpoint.json.gz",
])

/// On real traces the parts partition the span, and every rank with device work has a breakdown.
@Test(arguments: sets)
func breakdownPartitionsTheSpan(path: String) throws {
  let g = try Ingest.run(paths: [path]).graph
  for window in [TemporalBreakdown.Window.deviceSpan, .steps, .completeSteps] {
    let b = TemporalBreakdown(g, timeline: Timeline(measured: g), window: window)
    #expect(!b.ranks.isEmpty, "\(path)")
    for r in b.ranks {
      #expect(r.span.rawValue > 0 && r.compute.rawValue > 0, "\(path) rank \(r.rank)")
      #expect(r.idle.rawValue >= 0 && r.exposedCommunication.rawValue >= 0 && r.exposedMemory.rawValue >= 0)
      #expect(
        r.compute.rawValue + r.exposedCommunication.rawValue + r.exposedMemory.rawValue + r.idle.rawValue
          == r.span.rawValue,
        "\(path) rank \(r.rank) \(window)")
      #expect(r.nonCompute.rawValue == r.exposedCommunication.rawValue + r.exposedMemory.rawValue)
    }
  }
}

/// HTA 0.x `get_temporal_breakdown` on the DLRM 8-rank set (tools/compare_hta.py, recorded in
/// docs/validation.md): span, idle, compute in µs per rank. Reprise must agree within 1% of span.
@Test func dlrmAgreesWithHTA() throws {
  let dir = TestPaths.dlrm
  let hta: [(span: Int64, idle: Int64, compute: Int64)] = [
    (13009, 6419, 1034), (18749, 6428, 1246), (11350, 7046, 1068), (18853, 8145, 1240),
    (16589, 8887, 1126), (16392, 9121, 1041), (11410, 7051, 1051), (10967, 8308, 1059),
  ]
  let g = try Ingest.run(paths: [dir]).graph
  let b = TemporalBreakdown(g, timeline: Timeline(measured: g))
  #expect(b.ranks.map(\.rank) == Array(0..<8))
  for (r, h) in zip(b.ranks, hta) {
    let tol = Double(h.span) * 10  // 1% of span, in ns
    #expect(abs(Double(r.span.rawValue - h.span * 1000)) <= tol, "rank \(r.rank) span")
    #expect(abs(Double(r.idle.rawValue - h.idle * 1000)) <= tol, "rank \(r.rank) idle")
    #expect(abs(Double(r.compute.rawValue - h.compute * 1000)) <= tol, "rank \(r.rank) compute")
  }
}

/// HTA trims the last (incomplete) step when a run has several: on its own `trace_filter` sample
/// (2 of 128 ranks, several ProfilerSteps) HTA 0.5.0 reports span/idle/compute µs as below, and
/// the untrimmed device span is twice as long.
@Test(.needsCorpus) func completeStepsTrimsLikeHTA() throws {
  let dir = try #require(TestPaths.corpus) + "/hta/tests/data/trace_filter"
  let hta: [(span: Int64, idle: Int64, compute: Int64)] = [(600058, 321378, 106252), (600674, 328671, 135548)]
  let g = try Ingest.run(paths: [dir]).graph
  let trimmed = TemporalBreakdown(g, timeline: Timeline(measured: g), window: .completeSteps)
  let whole = TemporalBreakdown(g, timeline: Timeline(measured: g), window: .deviceSpan)
  #expect(trimmed.ranks.count == 2)
  for (r, h) in zip(trimmed.ranks, hta) {
    let tol = Double(h.span) * 10
    #expect(abs(Double(r.span.rawValue - h.span * 1000)) <= tol, "rank \(r.rank) span \(r.span.rawValue)")
    #expect(abs(Double(r.idle.rawValue - h.idle * 1000)) <= tol, "rank \(r.rank) idle \(r.idle.rawValue)")
    #expect(abs(Double(r.compute.rawValue - h.compute * 1000)) <= tol, "rank \(r.rank) compute \(r.compute.rawValue)")
  }
  for (t, w) in zip(trimmed.ranks, whole.ranks) { #expect(t.span.rawValue < w.span.rawValue) }
  // One step only (DLRM): nothing to trim.
  let dlrm = try Ingest.run(paths: [TestPaths.dlrm]).graph
  #expect(
    TemporalBreakdown(dlrm, timeline: Timeline(measured: dlrm), window: .completeSteps).ranks
      == TemporalBreakdown(dlrm, timeline: Timeline(measured: dlrm)).ranks)
}

/// A CPU-only run (gloo, no device streams) is broken down on its host threads, as the replay
/// treats them: operators are compute, gloo's all-reduces (and the c10d calls that enqueue them)
/// communication, mostly hidden under the backward pass. It used to have no ranks at all (and
/// `reprise breakdown` exited 65).
@Test(arguments: [TemporalBreakdown.Window.deviceSpan, .steps, .completeSteps])
func cpuOnlyRanksAreBrokenDownOnTheirHostThreads(window: TemporalBreakdown.Window) throws {
  let g = try Ingest.run(paths: [TestPaths.packageRoot + "/Traces/kineto-cpu/ddp-gloo-4rank"]).graph
  let b = TemporalBreakdown(g, timeline: Timeline(measured: g), window: window)
  #expect(b.ranks.map(\.rank) == [0, 1, 2, 3])
  for r in b.ranks {
    #expect(r.compute + r.exposedCommunication + r.exposedMemory + r.idle == r.span, "rank \(r.rank)")
    #expect(r.compute > r.span / 2 && r.idle > .zero && r.memory == .zero && r.memoryEvents == 0)
    #expect(r.exposedCommunication > .zero && (r.overlapRatio ?? 0) > 0.5, "rank \(r.rank): \(r)")
    #expect(r.communicationEvents == (window == .completeSteps ? 48 : 72) && r.computeEvents > 800)
  }
}
