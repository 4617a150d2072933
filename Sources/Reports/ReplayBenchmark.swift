import Dispatch
import Foundation
import Replay
import TraceModel

/// The replay engine's speed on a generated data-parallel run (`reprise bench-replay`, `make
/// bench`): best and median of `repeats` replays, and whether the identity replay reproduced the
/// generated timeline.
public struct ReplayBenchmark: Sendable {
  public var ranks: Int
  public var events: Int
  public var edges: Int
  public var instances: Int
  public var buildSeconds: Double
  public var planSeconds: Double
  /// Sorted ascending.
  public var replaySeconds: [Double]
  public var isIdentity: Bool
  /// Symmetric-rank folding (`RankFolding`): classes, the time to find them, the folded
  /// replays (sorted ascending), and the largest difference of an event's time from the full
  /// replay's (ns).
  public var classes: Int
  public var foldSeconds: Double
  public var foldedSeconds: [Double]
  public var foldedMaxDifference: Int64

  /// Builds the run and times `repeats` replays on one core.
  /// - Throws: `ReplayError` (never for the generated run).
  public init(ranks: Int, kernelsPerRank: Int, repeats: Int) throws {
    let t0 = Date()
    let graph = SyntheticWorkload.dataParallel(ranks: ranks, kernelsPerRank: kernelsPerRank)
    let t1 = Date()
    let plan = ReplayPlan(graph)
    let t2 = Date()
    var times: [Double] = []
    var timeline: Timeline?
    for _ in 0..<max(repeats, 1) {
      let s = DispatchTime.now().uptimeNanoseconds
      timeline = try Replayer().replay(plan)
      times.append(Double(DispatchTime.now().uptimeNanoseconds - s) / 1e9)
    }
    self.ranks = ranks
    events = graph.eventCount
    edges = graph.edgeCount
    instances = plan.instanceCount
    buildSeconds = t1.timeIntervalSince(t0)
    planSeconds = t2.timeIntervalSince(t1)
    replaySeconds = times.sorted()
    isIdentity = timeline == Timeline(measured: graph)
    let t3 = DispatchTime.now().uptimeNanoseconds
    let folding = RankFolding(plan)
    foldSeconds = Double(DispatchTime.now().uptimeNanoseconds - t3) / 1e9
    classes = folding.classes.count
    var folded: [Double] = []
    var foldedTimeline: Timeline?
    for _ in 0..<max(repeats, 1) {
      let s = DispatchTime.now().uptimeNanoseconds
      foldedTimeline = try Replayer().replay(plan, folding: folding)
      folded.append(Double(DispatchTime.now().uptimeNanoseconds - s) / 1e9)
    }
    foldedSeconds = folded.sorted()
    foldedMaxDifference = zip(foldedTimeline?.end ?? [], timeline?.end ?? []).map { abs(($0 - $1).rawValue) }.max() ?? 0
  }

  public func text() -> String {
    let n = Double(events)
    let best = replaySeconds.first ?? 0
    let median = replaySeconds.isEmpty ? 0 : replaySeconds[replaySeconds.count / 2]
    var lines = [
      "graph: \(ranks) ranks, \(events) events, \(edges) edges, \(instances) collective instances (built in "
        + String(format: "%.2f s, plan %.2f s)", buildSeconds, planSeconds),
      String(
        format: "replay: best %.3f s = %.1f M events/s, median %.3f s = %.1f M events/s (one core); identity "
          + "reproduced: %@", best, n / best / 1e6, median, n / median / 1e6, isIdentity ? "yes" : "NO"),
    ]
    let fb = foldedSeconds.first ?? 0
    lines.append(
      String(
        format: "folded replay (--fold-symmetric): %d classes, found in %.3f s; replay best %.3f s (%.1fx the full "
          + "replay's speed); largest event end difference from the full replay %lld ns", classes, foldSeconds, fb,
        fb > 0 ? best / fb : 0, foldedMaxDifference))
    if let peak = PhaseClock.processStatus()["VmHWM"] { lines.append("peak RSS: \(peak) kB") }
    return lines.joined(separator: "\n")
  }
}
