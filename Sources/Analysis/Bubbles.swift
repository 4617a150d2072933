import TraceModel

/// Idle intervals on the device ("bubbles") inside each rank's window, and why each happened.
///
/// A bubble is an interval in which a device stream runs nothing. Two views:
/// - per lane: every gap between consecutive work on one stream, inside the rank's window
///   (its `ProfilerStep` spans, or first to last device event when the rank has no steps);
///   other streams of the rank may be busy meanwhile;
/// - per rank: the time no stream of the rank runs anything (the breakdown's `idleNs`), whose
///   share of the window is the rank's *bubble ratio*; and the time no compute kernel runs
///   (`computeIdleNs`, `computeBubbleRatio`), the pipeline view: a stage waiting inside a NCCL
///   receive kernel keeps its device busy but is in a pipeline bubble.
///
/// A bubble is classified by what the work that ends it was waiting for (`Cause`):
/// 1. another stream of the same rank finished at most 10 µs before it started (or up to 1 µs
///    after, timestamp rounding) (an inferred
///    cross-stream event wait; `ReplayPlan` uses the same window): a collective → `collective`
///    (peers late, or the communication itself), a send/recv → `recv` (a pipeline bubble), other
///    work → `crossStream` (e.g. a communication stream waiting for the gradients being computed);
/// 2. else, when the host call that launched it started after the stream went idle, the host was
///    late: if that host thread was blocked in a synchronize call, a host-side collective or a
///    send/recv that ended inside the bubble → `sync`, `collective` or `recv`; otherwise
///    `hostLaunch` (host-bound: the CPU did not issue work fast enough);
/// 3. else (launched before the bubble began, or nothing starts after it) → `other`.
///
/// Cross-check: per rank, Σ of the per-rank bubbles = `TemporalBreakdown(window: .steps).idleNs`.
public struct BubbleAnalysis: Sendable, Equatable {
  public enum Cause: String, CaseIterable, Sendable, Codable {
    case hostLaunch, collective, recv, sync, crossStream, other
  }

  public struct Bubble: Sendable, Equatable {
    public var rank: Int
    /// Lane index in the graph (`graph.lanes`), or -1 for a rank-level bubble.
    public var lane: Int
    public var startNs: Int64
    public var durationNs: Int64
    public var cause: Cause
    /// The event that ended the bubble (started at its end), or nil at the window's end.
    public var nextEvent: Int?
  }

  public struct Rank: Sendable, Equatable {
    public var rank: Int
    public var windowNs: Int64
    /// Time no device stream of the rank ran anything, within the window.
    public var idleNs: Int64
    public var idleByCauseNs: [Cause: Int64]
    /// Σ per-lane bubble time over the rank's streams (streams idle while others may work).
    public var laneBubbleNs: Int64
    public var bubbles: Int
    /// Time no compute kernel ran (communication and copies may have): the pipeline view, where
    /// a stage waiting inside a receive kernel is in a bubble although its device is busy.
    public var computeIdleNs: Int64
    public var bubbleRatio: Double { windowNs > 0 ? Double(idleNs) / Double(windowNs) : 0 }
    public var computeBubbleRatio: Double { windowNs > 0 ? Double(computeIdleNs) / Double(windowNs) : 0 }
  }

  /// Per-lane bubbles, ordered by rank, lane, start.
  public var laneBubbles: [Bubble]
  /// Rank-level bubbles (no stream busy), ordered by rank, start.
  public var rankBubbles: [Bubble]
  public var ranks: [Rank]
  /// Whether the windows are profiler steps (else device spans).
  public var stepWindows: Bool

  /// How soon after another stream's work ends a start counts as waiting for it (ns).
  public static let crossStreamWindowNs: Int64 = 10_000
  /// Work that ends up to 1 µs after another starts still counts as before it: Kineto writes
  /// microseconds with rounded fractions, so a start and the end it waited for can differ by that.
  public static let roundingToleranceNs: Int64 = 1_000

  public init(_ graph: EventGraph, timeline: Timeline) {
    self.init(index: AnalysisIndex(graph, timeline: timeline))
  }

  /// The bubbles of the index's timeline (the index may be shared with other analyses).
  public init(index ix: AnalysisIndex) {
    let graph = ix.graph
    let timeline = ix.timeline
    let frames = ix.frames(steps: true)
    stepWindows = !graph.steps.isEmpty
    // Host blocking calls per host lane, sorted by end: for "was the launching thread blocked".
    var blocking = [[(end: Int64, event: Int32)]](repeating: [], count: graph.lanes.count)
    for e in 0..<graph.eventCount where graph.lanes[graph.lane[e].index].kind == .hostThread {
      switch graph.kind[e] {
      case .sync, .collective, .send, .recv: blocking[graph.lane[e].index].append((timeline.end[e], Int32(e)))
      default: break
      }
    }
    for l in blocking.indices where blocking[l].count > 1 { blocking[l].sort { ($0.end, $0.event) < ($1.end, $1.event) } }

    func cause(of kind: EventKind) -> Cause? {
      switch kind {
      case .collective: .collective
      case .send, .recv: .recv
      case .sync: .sync
      default: nil
      }
    }
    func classify(next n: Int?, gapStart a: Int64, lane: Int) -> Cause {
      guard let n else { return .other }
      let b = timeline.start[n]
      let rank = graph.rank(of: n).rawValue
      if lane >= 0, let w = ix.latestDeviceEnd(rank: rank, notOnLane: lane, from: max(a, b - Self.crossStreamWindowNs), to: b + Self.roundingToleranceNs) {
        return cause(of: graph.kind[w]) ?? .crossStream
      }
      let h = Int(ix.launcher[n])
      guard h >= 0, timeline.start[h] >= a else { return .other }
      let list = blocking[graph.lane[h].index]
      let launchAt = timeline.start[h]
      var lo = 0, hi = list.count
      while lo < hi { let m = (lo + hi) / 2; if list[m].end <= launchAt { lo = m + 1 } else { hi = m } }
      if lo > 0, list[lo - 1].end > a, let c = cause(of: graph.kind[Int(list[lo - 1].event)]) { return c }
      return .hostLaunch
    }

    var laneOut: [Bubble] = [], rankOut: [Bubble] = []
    var ranks: [Rank] = []
    var lanesOfRank: [Int32: [Int]] = [:]
    for l in graph.lanes.indices where !ix.deviceByLane[l].isEmpty { lanesOfRank[graph.lanes[l].rank.rawValue, default: []].append(l) }
    for r in lanesOfRank.keys.sorted() {
      guard let frame = frames[r] else { continue }
      var laneTotal: Int64 = 0, count = 0
      var allBusy: [(start: Int64, end: Int64)] = [], computeBusy: [(start: Int64, end: Int64)] = []
      var firstOf: [(start: Int64, lane: Int, event: Int)] = []
      for l in lanesOfRank[r]! {
        let events = ix.deviceByLane[l]
        var busy: [(start: Int64, end: Int64)] = []
        busy.reserveCapacity(events.count)
        for e in events {
          busy.append((timeline.start[Int(e)], timeline.end[Int(e)]))
          if TemporalBreakdown.deviceClass(graph.kind[Int(e)]) == .compute { computeBusy.append(busy[busy.count - 1]) }
          firstOf.append((timeline.start[Int(e)], l, Int(e)))
        }
        allBusy += busy
        // Gaps of this lane inside the frame: complement of its busy set.
        let idle = Self.complement(IntervalSet(busy), within: frame)
        var k = 0
        for g in idle {
          while k < events.count && timeline.start[Int(events[k])] < g.end { k += 1 }
          let next = k < events.count && timeline.start[Int(events[k])] == g.end ? Int(events[k]) : nil
          let c = classify(next: next, gapStart: g.start, lane: l)
          laneOut.append(Bubble(rank: Int(r), lane: l, startNs: g.start, durationNs: g.end - g.start, cause: c, nextEvent: next))
          laneTotal += g.end - g.start
          count += 1
        }
      }
      firstOf.sort { ($0.start, $0.lane, $0.event) < ($1.start, $1.lane, $1.event) }
      var byCause: [Cause: Int64] = [:]
      var idleTotal: Int64 = 0
      var k = 0
      for g in Self.complement(IntervalSet(allBusy), within: frame) {
        while k < firstOf.count && firstOf[k].start < g.end { k += 1 }
        let next = k < firstOf.count && firstOf[k].start == g.end ? firstOf[k].event : nil
        let c = classify(next: next, gapStart: g.start, lane: -1)
        rankOut.append(Bubble(rank: Int(r), lane: -1, startNs: g.start, durationNs: g.end - g.start, cause: c, nextEvent: next))
        byCause[c, default: 0] += g.end - g.start
        idleTotal += g.end - g.start
      }
      ranks.append(Rank(rank: Int(r), windowNs: frame.measure, idleNs: idleTotal, idleByCauseNs: byCause,
                        laneBubbleNs: laneTotal, bubbles: count,
                        computeIdleNs: frame.measure - IntervalSet(computeBusy).intersection(frame).measure))
    }
    laneBubbles = laneOut
    rankBubbles = rankOut
    self.ranks = ranks
  }

  /// The parts of `frame` that `busy` does not cover.
  static func complement(_ busy: IntervalSet, within frame: IntervalSet) -> [(start: Int64, end: Int64)] {
    var out: [(start: Int64, end: Int64)] = []
    for f in frame.intervals {
      var t = f.start
      for b in busy.clipped(to: f.start, f.end).intervals {
        if b.start > t { out.append((t, b.start)) }
        t = max(t, b.end)
      }
      if t < f.end { out.append((t, f.end)) }
    }
    return out
  }
}
