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
///
/// A rank without device streams (a CPU-only gloo run) is analysed on its host threads instead,
/// as the replay treats them (`Lanes.hostThreads`): compute is the union of its host ops (the
/// `c10d::` enqueue calls count as communication), communication the union of its host-side
/// collectives and send/recv (gloo's worker threads, its async send/recv spans), memory is
/// zero, and the window's span runs from its first to its last host op or collective.
public struct TemporalBreakdown: Sendable, Equatable, Codable {
  /// Which lanes a rank's work was taken from.
  public enum Lanes: String, Sendable, Codable {
    /// Device streams (kernels, memcpy/memset, device collectives): HTA's definition.
    case deviceStreams
    /// Host threads (operators, gloo collectives): a rank without device streams.
    case hostThreads
  }

  public struct Rank: Sendable, Equatable, Codable {
    public var rank: Int
    public var lanes: Lanes
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

  /// The class of a host event on a rank without device streams: host ops are compute, except
  /// the `c10d::` calls that enqueue communication; host-side collectives and send/recv are
  /// communication.
  static func hostClass(_ kind: EventKind, isComm: @autoclosure () -> Bool) -> DeviceClass? {
    switch kind {
    case .collective, .send, .recv: .communication
    case .hostOp: isComm() ? .communication : .compute
    default: nil
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

  /// One rank's device (or host) intervals by class, its event counts and its step windows.
  struct RankWork: Sendable {
    var lanes = Lanes.deviceStreams
    var intervals: [[(start: Nanoseconds, end: Nanoseconds)]] = [[], [], []]
    var counts = [0, 0, 0]
    var steps: [(start: Nanoseconds, end: Nanoseconds)] = []
  }

  /// Groups the device events (host events on ranks without device streams and, with `.steps`,
  /// the step windows) by rank.
  static func deviceWork(_ graph: EventGraph, _ timeline: Timeline, window: Window) -> [Int32: RankWork] {
    var work: [Int32: RankWork] = [:]
    let keep = window == .completeSteps ? launchedBeforeLastStep(graph, timeline) : nil
    let deviceRanks = Set(graph.lanes.filter { $0.kind == .deviceStream }.map(\.rank))
    var commName: [NameID: Bool] = [:]
    func isComm(_ e: Int) -> Bool {
      if let hit = commName[graph.name[e]] { return hit }
      let hit = graph.strings[graph.name[e]].hasPrefix("c10d::")
      commName[graph.name[e]] = hit
      return hit
    }
    for e in 0..<graph.eventCount {
      let l = graph.lanes[graph.lane[e].index]
      let onHost = !deviceRanks.contains(l.rank)
      let cls =
        l.kind == .deviceStream
        ? deviceClass(graph.kind[e]) : onHost ? hostClass(graph.kind[e], isComm: isComm(e)) : nil
      guard let c = cls else { continue }
      if let keep, !keep[e] { continue }
      let idx = c == .compute ? 0 : c == .communication ? 1 : 2
      work[l.rank.rawValue, default: RankWork()].intervals[idx].append((timeline.start[e], timeline.end[e]))
      work[l.rank.rawValue, default: RankWork()].counts[idx] += 1
      if onHost { work[l.rank.rawValue, default: RankWork()].lanes = .hostThreads }
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
      rank: r, lanes: w.lanes, spanStart: spanStart, span: span, compute: compute.measure, communication: comm.measure,
      overlappedCommunication: overlapped, exposedCommunication: comm.measure - overlapped, memory: mem.measure,
      exposedMemory: exposedMem, idle: idle, nonCompute: span - compute.measure - idle, computeEvents: w.counts[0],
      communicationEvents: w.counts[1], memoryEvents: w.counts[2])
  }

  /// `keep[e]` for `Window.completeSteps`; nil when the run has fewer than two profiler steps.
  /// Host events (ranks without device streams) are kept when they start before the cut.
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
      keep[from] = true
      for (to, kind) in graph.edges(from: EventID(rawValue: UInt32(from))) where kind == .launch {
        keep[to.index] = true
      }
    }
    return keep
  }
}
