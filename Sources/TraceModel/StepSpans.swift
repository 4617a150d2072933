/// Which profiler step each event's work belongs to, decided once on the measured times.
///
/// A rank's step is the window of its `ProfilerStep#N` annotation. Its work is every event of
/// the rank that starts inside the window (annotations and allocator markers excluded), plus the
/// device work launched from inside it (a kernel belongs to the step of the host call that
/// launched it, wherever the kernel itself ran). A rank without steps has one "whole trace"
/// step holding all its work.
///
/// Membership depends on the graph only, so a measured timeline and any replay of it count the
/// same events in the same step: a what-if that moves work in time never moves it between steps
/// (docs/Glossary.md: per-rank step).
///
///     let m = StepMembership(graph)
///     m.step[e]   // index into graph.steps, `StepMembership.wholeTrace`, or `StepMembership.none`
///
/// - Complexity: O(events + edges + events·log(steps per rank)).
public struct StepMembership: Sendable, Equatable {
  /// Work of a rank that has no profiler steps (the whole trace is its step).
  public static let wholeTrace: Int32 = -2
  /// Not step work: an annotation, an allocator marker, or work outside every step of its rank.
  public static let none: Int32 = -1

  /// Per event: the index in `graph.steps` of the step it belongs to, `wholeTrace` or `none`.
  public let step: [Int32]

  public init(_ graph: EventGraph) {
    let n = graph.eventCount
    let launcher = Self.launchers(graph)
    var byRank: [Int32: [Int]] = [:]
    for (i, s) in graph.steps.enumerated() where s.event != .none {
      byRank[s.rank.rawValue, default: []].append(i)
    }
    for r in byRank.keys {
      byRank[r]?.sort {
        (graph.start[graph.steps[$0].event.index], $0) < (graph.start[graph.steps[$1].event.index], $1)
      }
    }
    var step = [Int32](repeating: Self.none, count: n)
    for e in 0..<n where graph.kind[e] != .annotation && graph.kind[e] != .memory {
      guard let steps = byRank[graph.rank(of: e).rawValue] else {
        step[e] = Self.wholeTrace
        continue
      }
      let l = Int(launcher[e])
      let key = l >= 0 ? graph.start[l] : graph.start[e]
      // The last step starting at or before `key`, if `key` is inside it.
      let k = steps.countAtOrBefore(key) { graph.start[graph.steps[$0].event.index] } - 1
      guard k >= 0 else { continue }
      let ann = graph.steps[steps[k]].event.index
      if key < graph.end(ann) { step[e] = Int32(steps[k]) }
    }
    self.step = step
  }

  /// The host call that launched each device event (the first launch edge from a host lane), or -1.
  public static func launchers(_ graph: EventGraph) -> [Int32] {
    let isDevice = graph.lanes.map { $0.kind == .deviceStream }
    var out = [Int32](repeating: -1, count: graph.eventCount)
    for u in 0..<graph.eventCount where !isDevice[graph.lane[u].index] {
      for i in Int(graph.edgeOffsets[u])..<Int(graph.edgeOffsets[u + 1]) where graph.edgeKinds[i] == .launch {
        let v = graph.edgeTargets[i].index
        if isDevice[graph.lane[v].index] && out[v] < 0 { out[v] = Int32(u) }
      }
    }
    return out
  }

  /// Whether `e` is work of a step numbered `number` (nil: the whole trace of a rank without
  /// steps).
  public func isWork(_ e: Int, ofStep number: Int?, in graph: EventGraph) -> Bool {
    let s = step[e]
    if s == Self.wholeTrace { return number == nil }
    return s >= 0 && graph.steps[Int(s)].number == number
  }
}

/// The step times of a run under one timeline (measured or replayed), each defined once in
/// docs/Glossary.md:
///
/// - **per-rank step**: one rank's step, from the start of its `ProfilerStep#N` annotation to the
///   last end of that step's work (`StepMembership`), so idle host time at the end of the
///   annotation does not count; a rank without steps: its first to last work.
/// - **job step**: step N of the job, from the earliest start of a rank's step N to the latest end
///   of step N's work on any rank — the span of the per-rank steps. The critical path spans it.
/// - **job window**: step N's annotation span over the ranks (earliest annotation start to latest
///   annotation end); what a timeline of the step shows. Without steps it equals the job step.
/// - **slowest per-rank step**: the longest per-rank step of step N (a lower bound of the job
///   step; equal when every rank entered the step together).
public struct StepSpans: Sendable, Equatable {
  /// One rank's step under the timeline.
  public struct RankStep: Sendable, Equatable {
    public var rank: RankID
    /// The `ProfilerStep#N` number; nil for the whole trace of a rank without steps.
    public var step: Int?
    /// Index in `graph.steps`, or nil for the whole trace.
    public var stepIndex: Int?
    public var start: Nanoseconds
    public var end: Nanoseconds
    public var duration: Nanoseconds { end - start }
  }

  /// One step of the job: the span of its per-rank steps.
  public struct JobStep: Sendable, Equatable {
    /// The step number; nil for the whole trace.
    public var step: Int?
    /// Job step: earliest per-rank step start to latest per-rank step end.
    public var start: Nanoseconds
    public var end: Nanoseconds
    /// Job window: the annotations' span (the job step's span without steps).
    public var windowStart: Nanoseconds
    public var windowEnd: Nanoseconds
    /// The longest per-rank step, and its rank.
    public var slowestRank: RankID
    public var slowestRankStep: Nanoseconds
    /// The rank that entered the step first, and the one whose work ended last.
    public var firstRank: RankID
    public var lastRank: RankID
    /// Ranks that have this step.
    public var ranks: Int
    public var duration: Nanoseconds { end - start }
    public var window: Nanoseconds { windowEnd - windowStart }

    public init(
      step: Int?, start: Nanoseconds, end: Nanoseconds, windowStart: Nanoseconds, windowEnd: Nanoseconds,
      slowestRank: RankID, slowestRankStep: Nanoseconds, firstRank: RankID, lastRank: RankID, ranks: Int
    ) {
      (self.step, self.start, self.end, self.windowStart, self.windowEnd) = (step, start, end, windowStart, windowEnd)
      (self.slowestRank, self.slowestRankStep, self.firstRank, self.lastRank) =
        (slowestRank, slowestRankStep, firstRank, lastRank)
      self.ranks = ranks
    }
  }

  /// Per rank (ascending), its steps in measured start order.
  public var ranks: [RankStep]
  /// Per step number (ascending; the whole trace, nil, first).
  public var jobs: [JobStep]

  /// The spans of `graph`'s steps under `timeline`, with work counted by `membership`.
  /// - Complexity: O(events + steps·log steps).
  public init(_ graph: EventGraph, membership: StepMembership, timeline t: Timeline) {
    let start: [Nanoseconds] = graph.steps.map { $0.event == .none ? .zero : t.start[$0.event.index] }
    var end = start
    var whole: [Int32: (lo: Nanoseconds, hi: Nanoseconds)] = [:]
    for e in 0..<graph.eventCount {
      let s = membership.step[e]
      if s >= 0 {
        end[Int(s)] = max(end[Int(s)], t.end[e])
      } else if s == StepMembership.wholeTrace {
        let r = graph.rank(of: e).rawValue
        let v = whole[r] ?? (.max, .min)
        whole[r] = (min(v.lo, t.start[e]), max(v.hi, t.end[e]))
      }
    }
    var out: [RankStep] = []
    var stepsOfRank: [Int32: [Int]] = [:]
    for (i, s) in graph.steps.enumerated() where s.event != .none {
      stepsOfRank[s.rank.rawValue, default: []].append(i)
    }
    for info in graph.ranks.sorted(by: { $0.rank < $1.rank }) {
      let r = info.rank.rawValue
      if let list = stepsOfRank[r] {
        let sorted = list.sorted {
          (graph.start[graph.steps[$0].event.index], $0) < (graph.start[graph.steps[$1].event.index], $1)
        }
        for i in sorted {
          out.append(RankStep(rank: info.rank, step: graph.steps[i].number, stepIndex: i, start: start[i], end: end[i]))
        }
      } else if let w = whole[r] {
        out.append(RankStep(rank: info.rank, step: nil, stepIndex: nil, start: w.lo, end: w.hi))
      }
    }
    ranks = out
    jobs = Self.jobs(out, graph: graph, timeline: t)
  }

  static func jobs(_ ranks: [RankStep], graph: EventGraph, timeline t: Timeline) -> [JobStep] {
    var byNumber: [Int: JobStep] = [:]
    for s in ranks {
      let ann = s.stepIndex.map { graph.steps[$0].event.index }
      let (wlo, whi) = ann.map { (t.start[$0], t.end[$0]) } ?? (s.start, s.end)
      let key = s.step ?? Int.min
      guard var j = byNumber[key] else {
        byNumber[key] = JobStep(
          step: s.step, start: s.start, end: s.end, windowStart: wlo, windowEnd: whi, slowestRank: s.rank,
          slowestRankStep: s.duration, firstRank: s.rank, lastRank: s.rank, ranks: 1)
        continue
      }
      if s.start < j.start { (j.start, j.firstRank) = (s.start, s.rank) }
      if s.end > j.end { (j.end, j.lastRank) = (s.end, s.rank) }
      j.windowStart = min(j.windowStart, wlo)
      j.windowEnd = max(j.windowEnd, whi)
      if s.duration > j.slowestRankStep { (j.slowestRankStep, j.slowestRank) = (s.duration, s.rank) }
      j.ranks += 1
      byNumber[key] = j
    }
    return byNumber.keys.sorted().compactMap { byNumber[$0] }
  }

  /// The job step averaged over the steps (zero without any).
  public var meanJobStep: Nanoseconds { Self.mean(jobs.map(\.duration)) }
  /// The job window averaged over the steps.
  public var meanJobWindow: Nanoseconds { Self.mean(jobs.map(\.window)) }
  /// The slowest per-rank step averaged over the steps.
  public var meanSlowestRankStep: Nanoseconds { Self.mean(jobs.map(\.slowestRankStep)) }

  static func mean(_ values: [Nanoseconds]) -> Nanoseconds {
    values.isEmpty ? .zero : values.reduce(.zero, +) / values.count
  }
}
