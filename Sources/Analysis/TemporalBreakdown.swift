import TraceModel

/// Where each rank's device time went: compute, communication (exposed vs. hidden under
/// compute), memory copies/sets, and idle.
///
/// Definitions follow Holistic Trace Analysis' temporal breakdown
/// (`hta/analyzers/breakdown_analysis.py`, `get_temporal_breakdown`) so the numbers can be set
/// side by side with HTA's:
/// - the window is a rank's *device span*, from the first device event's start to the last
///   device event's end (all device streams of the rank together);
/// - `idleNs` is the part of the span covered by no device event;
/// - `computeNs` is the union of compute kernels (everything on a device stream that is not a
///   collective/send/recv kernel or a memcpy/memset);
/// - `nonComputeNs = spanNs - computeNs - idleNs` (HTA's "non-compute time").
///
/// Beyond HTA, the non-compute part is split exactly into exposed communication (communication
/// not overlapped by compute) and exposed memory (memcpy/memset overlapped by neither), so
/// `computeNs + exposedCommunicationNs + exposedMemoryNs + idleNs == spanNs` holds by
/// construction. `overlapRatio` is the share of communication time that runs under compute
/// (HTA's `get_comm_comp_overlap`, as a fraction rather than a percentage).
public struct TemporalBreakdown: Sendable, Equatable, Codable {
  public struct Rank: Sendable, Equatable, Codable {
    public var rank: Int
    public var spanStartNs: Int64
    public var spanNs: Int64
    public var computeNs: Int64
    public var communicationNs: Int64
    public var overlappedCommunicationNs: Int64
    public var exposedCommunicationNs: Int64
    public var memoryNs: Int64
    public var exposedMemoryNs: Int64
    public var idleNs: Int64
    public var nonComputeNs: Int64
    /// Device events of the rank by class (with `.steps`, also those outside the steps).
    public var computeEvents: Int
    public var communicationEvents: Int
    public var memoryEvents: Int

    /// Fraction of communication time overlapped by compute; nil without communication.
    public var overlapRatio: Double? {
      communicationNs > 0 ? Double(overlappedCommunicationNs) / Double(communicationNs) : nil
    }
    public func percent(_ ns: Int64) -> Double { spanNs > 0 ? 100 * Double(ns) / Double(spanNs) : 0 }
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

  /// The breakdown of `timeline` (measured or predicted) over `graph`'s device streams.
  public init(_ graph: EventGraph, timeline: Timeline, window: Window = .deviceSpan) {
    precondition(timeline.count == graph.eventCount, "timeline is not parallel to the graph")
    self.window = window
    var perRank: [Int32: [[(start: Int64, end: Int64)]]] = [:]
    var counts: [Int32: [Int]] = [:]
    let keep = window == .completeSteps ? Self.launchedBeforeLastStep(graph, timeline) : nil
    for e in 0..<graph.eventCount {
      let l = graph.lanes[graph.lane[e].index]
      guard l.kind == .deviceStream, let c = Self.deviceClass(graph.kind[e]) else { continue }
      if let keep, !keep[e] { continue }
      let idx = c == .compute ? 0 : c == .communication ? 1 : 2
      perRank[l.rank.rawValue, default: [[], [], []]][idx].append((timeline.start[e], timeline.end[e]))
      counts[l.rank.rawValue, default: [0, 0, 0]][idx] += 1
    }
    var stepWindows: [Int32: [(start: Int64, end: Int64)]] = [:]
    if window == .steps {
      for s in graph.steps where s.event != .none {
        let e = Int(s.event.rawValue)
        stepWindows[s.rank.rawValue, default: []].append((timeline.start[e], timeline.end[e]))
      }
    }
    ranks = perRank.keys.sorted().map { r in
      let lists = perRank[r]!
      var compute = IntervalSet(lists[0]), comm = IntervalSet(lists[1]), mem = IntervalSet(lists[2])
      var all = compute.union(comm).union(mem)
      // The window: the rank's steps when asked for and present, else first to last device event.
      let frame: IntervalSet
      if let steps = stepWindows[r], !steps.isEmpty {
        frame = IntervalSet(steps)
        compute = compute.intersection(frame); comm = comm.intersection(frame); mem = mem.intersection(frame)
        all = all.intersection(frame)
      } else {
        frame = IntervalSet([(all.intervals.first?.start ?? 0, all.intervals.last?.end ?? 0)])
      }
      let span = frame.measure, spanStart = frame.intervals.first?.start ?? 0
      let idle = span - all.measure
      let overlapped = comm.intersection(compute).measure
      let exposedMem = mem.measure - mem.intersection(compute.union(comm)).measure
      let c = counts[r]!
      return Rank(
        rank: Int(r), spanStartNs: spanStart, spanNs: span,
        computeNs: compute.measure, communicationNs: comm.measure,
        overlappedCommunicationNs: overlapped, exposedCommunicationNs: comm.measure - overlapped,
        memoryNs: mem.measure, exposedMemoryNs: exposedMem, idleNs: idle,
        nonComputeNs: span - compute.measure - idle,
        computeEvents: c[0], communicationEvents: c[1], memoryEvents: c[2])
    }
  }

  /// `keep[e]` for `Window.completeSteps`; nil when the run has fewer than two profiler steps.
  static func launchedBeforeLastStep(_ graph: EventGraph, _ timeline: Timeline) -> [Bool]? {
    guard Set(graph.steps.map(\.number)).count >= 2 else { return nil }
    var lastStepStart: [Int32: Int64] = [:]
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
