import TraceModel

/// Idle intervals on the device ("bubbles") inside each rank's window, and why each happened.
///
/// A bubble is an interval in which a device stream runs nothing. Two views:
/// - per lane: every gap between consecutive work on one stream, inside the rank's window
///   (its `ProfilerStep` spans, or first to last device event when the rank has no steps);
///   other streams of the rank may be busy meanwhile;
/// - per rank: the time no stream of the rank runs anything (the breakdown's `idle`), whose
///   share of the window is the rank's *bubble ratio*; and the time no compute kernel runs
///   (`computeIdle`, `computeBubbleRatio`), the pipeline view: a stage waiting inside a NCCL
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
/// Cross-check: per rank, Σ of the per-rank bubbles = `TemporalBreakdown(window: .steps).idle`.
public struct BubbleAnalysis: Sendable, Equatable {
  public enum Cause: String, CaseIterable, Sendable, Codable {
    case hostLaunch, collective, recv, sync, crossStream, other
  }

  public struct Bubble: Sendable, Equatable {
    public var rank: Int
    /// Lane index in the graph (`graph.lanes`), or -1 for a rank-level bubble.
    public var lane: Int
    public var start: Nanoseconds
    public var duration: Nanoseconds
    public var cause: Cause
    /// The event that ended the bubble (started at its end), or nil at the window's end.
    public var nextEvent: Int?
  }

  public struct Rank: Sendable, Equatable {
    public var rank: Int
    public var window: Nanoseconds
    /// Time no device stream of the rank ran anything, within the window.
    public var idle: Nanoseconds
    public var idleByCause: [Cause: Nanoseconds]
    /// Σ per-lane bubble time over the rank's streams (streams idle while others may work).
    public var laneBubbleTime: Nanoseconds
    public var bubbles: Int
    /// Time no compute kernel ran (communication and copies may have): the pipeline view, where
    /// a stage waiting inside a receive kernel is in a bubble although its device is busy.
    public var computeIdle: Nanoseconds
    public var bubbleRatio: Double { window > .zero ? idle / window : 0 }
    public var computeBubbleRatio: Double { window > .zero ? computeIdle / window : 0 }
  }

  /// Per-lane bubbles, ordered by rank, lane, start.
  public var laneBubbles: [Bubble]
  /// Rank-level bubbles (no stream busy), ordered by rank, start.
  public var rankBubbles: [Bubble]
  public var ranks: [Rank]
  /// Whether the windows are profiler steps (else device spans).
  public var stepWindows: Bool

  /// How soon after another stream's work ends a start counts as waiting for it.
  public static let crossStreamWindow = Nanoseconds(10_000)
  /// Work that ends up to 1 µs after another starts still counts as before it: Kineto writes
  /// microseconds with rounded fractions, so a start and the end it waited for can differ by that.
  public static let roundingTolerance = Nanoseconds(1_000)

  public init(_ graph: EventGraph, timeline: Timeline) {
    self.init(index: AnalysisIndex(graph, timeline: timeline))
  }

  /// The bubbles of the index's timeline (the index may be shared with other analyses); the
  /// ranks are independent and analysed side by side.
  public init(index ix: AnalysisIndex) {
    let classifier = Classifier(ix)
    let frames = ix.frames(steps: true)
    var lanesOfRank: [Int32: [Int]] = [:]
    for l in ix.graph.lanes.indices where !ix.deviceByLane[l].isEmpty {
      lanesOfRank[ix.graph.lanes[l].rank.rawValue, default: []].append(l)
    }
    let ranks = lanesOfRank.keys.sorted().filter { frames[$0] != nil }
    let lanes = lanesOfRank
    let perRank = Parallel.map(ranks.count) { i in
      Self.rank(
        ranks[i], lanes: lanes[ranks[i]] ?? [], frame: frames[ranks[i]] ?? IntervalSet([]),
        classifier: classifier)
    }
    laneBubbles = perRank.flatMap(\.lanes)
    rankBubbles = perRank.flatMap(\.rank)
    self.ranks = perRank.map(\.summary)
    stepWindows = !ix.graph.steps.isEmpty
  }

  /// One rank: the gaps of each of its streams, then the gaps of all of them together.
  static func rank(_ r: Int32, lanes: [Int], frame: IntervalSet, classifier: Classifier)
    -> (lanes: [Bubble], rank: [Bubble], summary: Rank)
  {
    let ix = classifier.index
    let (graph, timeline) = (ix.graph, ix.timeline)
    var laneOut: [Bubble] = []
    var allBusy: [(start: Nanoseconds, end: Nanoseconds)] = []
    var computeBusy: [(start: Nanoseconds, end: Nanoseconds)] = []
    var firstOf: [(start: Nanoseconds, lane: Int, event: Int)] = []
    for l in lanes {
      let events = ix.deviceByLane[l]
      var busy: [(start: Nanoseconds, end: Nanoseconds)] = []
      busy.reserveCapacity(events.count)
      for e in events.map(Int.init) {
        busy.append((timeline.start[e], timeline.end[e]))
        if TemporalBreakdown.deviceClass(graph.kind[e]) == .compute {
          computeBusy.append((timeline.start[e], timeline.end[e]))
        }
        firstOf.append((timeline.start[e], l, e))
      }
      allBusy += busy
      // Gaps of this lane inside the frame: the complement of its busy set.
      var k = 0
      for g in complement(IntervalSet(busy), within: frame) {
        while k < events.count && timeline.start[Int(events[k])] < g.end { k += 1 }
        let next = k < events.count && timeline.start[Int(events[k])] == g.end ? Int(events[k]) : nil
        let c = classifier.classify(next: next, gapStart: g.start, lane: l)
        laneOut.append(
          Bubble(rank: Int(r), lane: l, start: g.start, duration: g.end - g.start, cause: c, nextEvent: next))
      }
    }
    firstOf.sort { ($0.start, $0.lane, $0.event) < ($1.start, $1.lane, $1.event) }
    var rankOut: [Bubble] = []
    var byCause: [Cause: Nanoseconds] = [:]
    var k = 0
    for g in complement(IntervalSet(allBusy), within: frame) {
      while k < firstOf.count && firstOf[k].start < g.end { k += 1 }
      let next = k < firstOf.count && firstOf[k].start == g.end ? firstOf[k].event : nil
      let c = classifier.classify(next: next, gapStart: g.start, lane: -1)
      rankOut.append(
        Bubble(rank: Int(r), lane: -1, start: g.start, duration: g.end - g.start, cause: c, nextEvent: next))
      byCause[c, default: .zero] += g.end - g.start
    }
    let summary = Rank(
      rank: Int(r), window: frame.measure, idle: rankOut.reduce(.zero) { $0 + $1.duration }, idleByCause: byCause,
      laneBubbleTime: laneOut.reduce(.zero) { $0 + $1.duration }, bubbles: laneOut.count,
      computeIdle: frame.measure - IntervalSet(computeBusy).intersection(frame).measure)
    return (laneOut, rankOut, summary)
  }

  /// The parts of `frame` that `busy` does not cover.
  static func complement(_ busy: IntervalSet, within frame: IntervalSet) -> [(start: Nanoseconds, end: Nanoseconds)] {
    var out: [(start: Nanoseconds, end: Nanoseconds)] = []
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

  /// Why a gap ended, by the rules in the type's documentation.
  struct Classifier: Sendable {
    let index: AnalysisIndex
    /// Host blocking calls per host lane, sorted by end: for "was the launching thread blocked".
    let blocking: [[(end: Nanoseconds, event: Int32)]]

    init(_ ix: AnalysisIndex) {
      index = ix
      var blocking = [[(end: Nanoseconds, event: Int32)]](repeating: [], count: ix.graph.lanes.count)
      for e in 0..<ix.graph.eventCount where ix.graph.lanes[ix.graph.lane[e].index].kind == .hostThread {
        switch ix.graph.kind[e] {
        case .sync, .collective, .send, .recv: blocking[ix.graph.lane[e].index].append((ix.timeline.end[e], Int32(e)))
        default: break
        }
      }
      for l in blocking.indices where blocking[l].count > 1 {
        blocking[l].sort { ($0.end, $0.event) < ($1.end, $1.event) }
      }
      self.blocking = blocking
    }

    func cause(of kind: EventKind) -> Cause? {
      switch kind {
      case .collective: .collective
      case .send, .recv: .recv
      case .sync: .sync
      default: nil
      }
    }

    /// The cause of a gap from `a` to the start of `next` (nil: the window ended) on `lane`
    /// (-1: the rank as a whole).
    func classify(next n: Int?, gapStart a: Nanoseconds, lane: Int) -> Cause {
      guard let n else { return .other }
      let (graph, timeline) = (index.graph, index.timeline)
      let b = timeline.start[n]
      let rank = graph.rank(of: n).rawValue
      if lane >= 0,
        let w = index.latestDeviceEnd(
          rank: rank, notOnLane: lane, from: max(a, b - BubbleAnalysis.crossStreamWindow),
          to: b + BubbleAnalysis.roundingTolerance)
      {
        return cause(of: graph.kind[w]) ?? .crossStream
      }
      let h = Int(index.launcher[n])
      guard h >= 0, timeline.start[h] >= a else { return .other }
      let list = blocking[graph.lane[h].index]
      let launchAt = timeline.start[h]
      let lo = list.countAtOrBefore(launchAt) { $0.end }
      if lo > 0, list[lo - 1].end > a, let c = cause(of: graph.kind[Int(list[lo - 1].event)]) { return c }
      return .hostLaunch
    }
  }
}
