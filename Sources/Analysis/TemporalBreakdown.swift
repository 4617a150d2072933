import TraceModel

/// Where each rank's device time went: compute, communication (exposed vs. hidden under
/// compute), memory copies/sets, and idle.
///
/// Definitions follow Holistic Trace Analysis' temporal breakdown
/// (`hta/analyzers/breakdown_analysis.py`, `get_temporal_breakdown`) so the numbers can be set
/// side by side with HTA's:
/// - the window is a rank's *device span*, from the first device event's start to the last
///   device event's end (all device streams of the rank together);
/// - `idle` is the part of the span covered by no device event;
/// - `compute` is the union of compute kernels (everything on a device stream that is not a
///   collective/send/recv kernel or a memcpy/memset);
/// - `nonCompute = span - compute - idle` (HTA's "non-compute time").
///
/// Beyond HTA, the non-compute part is split exactly into exposed communication (communication
/// not overlapped by compute) and exposed memory (memcpy/memset overlapped by neither), so
/// `compute + exposedCommunication + exposedMemory + idle == span` holds by
/// construction. `overlapRatio` is the share of communication time that runs under compute
/// (HTA's `get_comm_comp_overlap`, as a fraction rather than a percentage).
public struct TemporalBreakdown: Sendable, Equatable, Codable {
  public struct Rank: Sendable, Equatable, Codable {
    public var rank: Int
    public var spanStart: Nanoseconds
    public var span: Nanoseconds
    public var compute: Nanoseconds
    public var communication: Nanoseconds
    public var overlappedCommunication: Nanoseconds
    public var exposedCommunication: Nanoseconds
    public var memory: Nanoseconds
    public var exposedMemory: Nanoseconds
    public var idle: Nanoseconds
    public var nonCompute: Nanoseconds
    /// Device events of the rank by class (with `.steps`, also those outside the steps).
    public var computeEvents: Int
    public var communicationEvents: Int
    public var memoryEvents: Int

    /// Fraction of communication time overlapped by compute; nil without communication.
    public var overlapRatio: Double? {
      communication > .zero ? overlappedCommunication / communication : nil
    }
    /// `part` as a percentage of the span.
    public func percent(_ part: Nanoseconds) -> Double { span > .zero ? 100 * (part / span) : 0 }
  }

  /// What window each rank is measured over.
  public enum Window: String, Sendable, Codable {
    /// First to last device event of the rank (HTA's definition).
    case deviceSpan
    /// Inside the rank's profiler steps (`ProfilerStep#N`): device time outside every step is
    /// left out, and idle counts from step start to step end. Ranks without steps fall back to
    /// `deviceSpan`.
    case steps
    /// HTA's default trimming (`Trace._filter_irrelevant_gpu_kernels`): when the run has two or
    /// more profiler steps, the last one is taken as incomplete and only device events launched
    /// by a host event that started before the rank's last `ProfilerStep` are kept (device events
    /// with no launcher are dropped too); then as `deviceSpan`. With fewer than two steps nothing
    /// is trimmed.
    case completeSteps
  }

  public var window: Window
  public var ranks: [Rank]

  /// Device-event classes the breakdown tells apart.
  public enum DeviceClass: Sendable { case compute, communication, memory }

  public static func deviceClass(_ kind: EventKind) -> DeviceClass? {
    switch kind {
    case .collective, .send, .recv: .communication
    case .memcpy, .memset: .memory
    case .kernel, .other: .compute
    case .hostOp, .annotation, .sync, .memory: nil
    }
  }

  /// The breakdown of `timeline` (measured or predicted) over `graph`'s device streams; the
  /// ranks are independent and computed side by side.
  public init(_ graph: EventGraph, timeline: Timeline, window: Window = .deviceSpan) {
    precondition(timeline.count == graph.eventCount, "timeline is not parallel to the graph")
    self.window = window
    let work = Self.deviceWork(graph, timeline, window: window)
    let ranks = work.keys.sorted()
    self.ranks = Parallel.map(ranks.count) { i in Self.rank(Int(ranks[i]), work[ranks[i]] ?? RankWork()) }
  }

  /// One rank's device intervals by class, its event counts and its step windows.
  struct RankWork: Sendable {
    var intervals: [[(start: Nanoseconds, end: Nanoseconds)]] = [[], [], []]
    var counts = [0, 0, 0]
    var steps: [(start: Nanoseconds, end: Nanoseconds)] = []
  }

  /// Groups the device events (and, with `.steps`, the step windows) by rank.
  static func deviceWork(_ graph: EventGraph, _ timeline: Timeline, window: Window) -> [Int32: RankWork] {
    var work: [Int32: RankWork] = [:]
    let keep = window == .completeSteps ? launchedBeforeLastStep(graph, timeline) : nil
    for e in 0..<graph.eventCount {
      let l = graph.lanes[graph.lane[e].index]
      guard l.kind == .deviceStream, let c = deviceClass(graph.kind[e]) else { continue }
      if let keep, !keep[e] { continue }
      let idx = c == .compute ? 0 : c == .communication ? 1 : 2
      work[l.rank.rawValue, default: RankWork()].intervals[idx].append((timeline.start[e], timeline.end[e]))
      work[l.rank.rawValue, default: RankWork()].counts[idx] += 1
    }
    if window == .steps {
      for s in graph.steps where s.event != .none && work[s.rank.rawValue] != nil {
        let e = s.event.index
        work[s.rank.rawValue, default: RankWork()].steps.append((timeline.start[e], timeline.end[e]))
      }
    }
    return work
  }

  /// The breakdown of one rank: its window is its steps when asked for and present, else first
  /// to last device event.
  static func rank(_ r: Int, _ w: RankWork) -> Rank {
    var compute = IntervalSet(w.intervals[0])
    var comm = IntervalSet(w.intervals[1])
    var mem = IntervalSet(w.intervals[2])
    var all = compute.union(comm).union(mem)
    let frame: IntervalSet
    if !w.steps.isEmpty {
      frame = IntervalSet(w.steps)
      compute = compute.intersection(frame)
      comm = comm.intersection(frame)
      mem = mem.intersection(frame)
      all = all.intersection(frame)
    } else {
      frame = IntervalSet([(all.intervals.first?.start ?? .zero, all.intervals.last?.end ?? .zero)])
    }
    let span = frame.measure
    let spanStart = frame.intervals.first?.start ?? .zero
    let idle = span - all.measure
    let overlapped = comm.intersection(compute).measure
    let exposedMem = mem.measure - mem.intersection(compute.union(comm)).measure
    return Rank(
      rank: r, spanStart: spanStart, span: span, compute: compute.measure, communication: comm.measure,
      overlappedCommunication: overlapped, exposedCommunication: comm.measure - overlapped, memory: mem.measure,
      exposedMemory: exposedMem, idle: idle, nonCompute: span - compute.measure - idle, computeEvents: w.counts[0],
      communicationEvents: w.counts[1], memoryEvents: w.counts[2])
  }

  /// `keep[e]` for `Window.completeSteps`; nil when the run has fewer than two profiler steps.
  static func launchedBeforeLastStep(_ graph: EventGraph, _ timeline: Timeline) -> [Bool]? {
    guard Set(graph.steps.map(\.number)).count >= 2 else { return nil }
    var lastStepStart: [Int32: Nanoseconds] = [:]
    for s in graph.steps where s.event != .none {
      let t = timeline.start[Int(s.event.rawValue)]
      lastStepStart[s.rank.rawValue] = max(lastStepStart[s.rank.rawValue] ?? .min, t)
    }
    var keep = [Bool](repeating: false, count: graph.eventCount)
    for from in 0..<graph.eventCount where graph.lanes[graph.lane[from].index].kind == .hostThread {
      guard let cut = lastStepStart[graph.rank(of: from).rawValue], timeline.start[from] < cut else { continue }
      for (to, kind) in graph.edges(from: EventID(rawValue: UInt32(from))) where kind == .launch {
        keep[to.index] = true
      }
    }
    return keep
  }
}
