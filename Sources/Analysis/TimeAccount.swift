import TraceModel

/// Where each rank's step time went, split into parts that do not overlap and add up to the
/// rank's window: the evidence behind the bottleneck verdicts (`Verdict`).
///
/// The window is the rank's profiler steps (all of them together), else its device span, as in
/// `BubbleAnalysis` and `TemporalBreakdown(window: .steps)`. A rank's *lanes* are its device
/// streams; a rank without device work (a CPU/gloo capture) uses its host threads. At every
/// instant of the window the first of these that applies takes the time (HTA's temporal
/// breakdown order: compute hides communication, communication hides copies):
/// 1. `compute`: a compute kernel runs (on a CPU-only rank: a leaf host op that is not
///    communication, i.e. an operator doing the work);
/// 2. a collective, send or recv runs, and the rank's part has started while the last member of
///    its instance has not yet arrived (latest member start): `straggler` for a collective,
///    `pipeline` for a send/recv pair — the rank is waiting for a peer;
/// 3. a collective, send or recv runs after the last arrival, or a memcpy/memset runs:
///    `communication` (the transfer itself);
/// 4. nothing runs (idle). On a device rank the idle time is split by the bubble cause of
///    `BubbleAnalysis`: `hostLaunch` and `sync` → `host` (the device waits for the host to
///    launch), `recv` → `pipeline`, `collective` → `communication`, `crossStream` and `other` →
///    `other`. On a CPU-only rank idle time is `host`: framework and Python time between
///    operators.
///
/// So `compute + communication + host + straggler + pipeline + other == window` per rank.
public struct TimeAccount: Sendable, Equatable {
  public struct Rank: Sendable, Equatable {
    public var rank: Int
    /// Whether the rank's lanes are device streams (else host threads: a CPU-only rank).
    public var hasDevice: Bool
    /// Whether the window is the rank's profiler steps (else its span of work).
    public var isSteps: Bool
    public var window: Nanoseconds
    public var compute: Nanoseconds
    public var communication: Nanoseconds
    public var host: Nanoseconds
    /// Waiting inside collectives for late peers.
    public var straggler: Nanoseconds
    /// Waiting for send/recv peers, and device idle ended by a receive.
    public var pipeline: Nanoseconds
    public var other: Nanoseconds
    /// The peer whose late arrival this rank waited for longest in collectives, if any.
    public var waitedFor: Int?
  }

  public var ranks: [Rank]

  /// The account of the index's timeline; `bubbles` must come from the same index.
  public init(index ix: AnalysisIndex, bubbles: BubbleAnalysis) {
    let work = Self.collect(ix)
    let frames = ix.frames(steps: true)
    let stepRanks = Set(ix.graph.steps.filter { $0.event != .none }.map(\.rank.rawValue))
    let causes = Dictionary(bubbles.ranks.map { (Int32($0.rank), $0.idleByCause) }) { a, _ in a }
    ranks = work.keys.sorted().map { r in
      let w = work[r] ?? Work()
      let all = IntervalSet(w.compute + w.comm + w.memory)
      let frame = frames[r] ?? IntervalSet([(all.intervals.first?.start ?? .zero, all.intervals.last?.end ?? .zero)])
      return Self.rank(
        Int(r), w, frame: frame, isSteps: stepRanks.contains(r), hasDevice: ix.deviceEndsByRank[r] != nil,
        causes: causes[r] ?? [:])
    }
  }

  /// One rank's work intervals by part, and its waits for late peers.
  struct Work {
    var compute: [(start: Nanoseconds, end: Nanoseconds)] = []
    var comm: [(start: Nanoseconds, end: Nanoseconds)] = []
    var memory: [(start: Nanoseconds, end: Nanoseconds)] = []
    var collectiveWait: [(start: Nanoseconds, end: Nanoseconds)] = []
    var p2pWait: [(start: Nanoseconds, end: Nanoseconds)] = []
    var waitedFor: [Int32: Nanoseconds] = [:]
  }

  /// Each rank's lanes' work: device work on ranks that have it, else leaf host work.
  static func collect(_ ix: AnalysisIndex) -> [Int32: Work] {
    let (g, t) = (ix.graph, ix.timeline)
    let arrivals = lastArrivals(g, t)
    var hasChild = [Bool](repeating: false, count: g.eventCount)
    for e in 0..<g.eventCount where g.parent[e] != .none { hasChild[g.parent[e].index] = true }
    var work: [Int32: Work] = [:]
    for e in 0..<g.eventCount {
      let r = g.rank(of: e).rawValue
      let part: TemporalBreakdown.DeviceClass?
      if ix.deviceEndsByRank[r] != nil {
        part = AnalysisIndex.isDeviceWork(g, e) ? TemporalBreakdown.deviceClass(g.kind[e]) : nil
      } else {
        switch g.kind[e] {
        case .collective, .send, .recv: part = .communication
        case .hostOp: part = hasChild[e] ? nil : .compute
        default: part = nil
        }
      }
      guard let part else { continue }
      let iv = (start: t.start[e], end: t.end[e])
      switch part {
      case .compute: work[r, default: Work()].compute.append(iv)
      case .memory: work[r, default: Work()].memory.append(iv)
      case .communication:
        work[r, default: Work()].comm.append(iv)
        if let a = arrivals[e], a.start > iv.start {
          let wait = (start: iv.start, end: min(a.start, iv.end))
          if a.isP2P {
            work[r, default: Work()].p2pWait.append(wait)
          } else {
            work[r, default: Work()].collectiveWait.append(wait)
            work[r, default: Work()].waitedFor[a.rank, default: .zero] += wait.end - wait.start
          }
        }
      }
    }
    return work
  }

  /// For every member of a collective instance (two or more members) or matched send/recv pair:
  /// the latest start among its members and that member's rank.
  static func lastArrivals(_ g: EventGraph, _ t: Timeline) -> [Int: (start: Nanoseconds, rank: Int32, isP2P: Bool)] {
    var out: [Int: (start: Nanoseconds, rank: Int32, isP2P: Bool)] = [:]
    func mark(_ members: [Int], isP2P: Bool) {
      guard let last = members.max(by: { (t.start[$0], -$0) < (t.start[$1], -$1) }) else { return }
      for m in members { out[m] = (t.start[last], g.rank(of: last).rawValue, isP2P) }
    }
    for inst in g.instances where inst.members.count >= 2 { mark(inst.members.map(\.index), isP2P: false) }
    for p in g.p2p where p.isSend {
      if let m = p.match, out[p.event.index] == nil, out[m.index] == nil {
        mark([p.event.index, m.index], isP2P: true)
      }
    }
    return out
  }

  /// The exclusive split of one rank's window.
  static func rank(
    _ r: Int, _ w: Work, frame: IntervalSet, isSteps: Bool, hasDevice: Bool,
    causes: [BubbleAnalysis.Cause: Nanoseconds]
  ) -> Rank {
    let compute = IntervalSet(w.compute).intersection(frame)
    let comm = IntervalSet(w.comm).intersection(frame).subtracting(compute)
    let memory = IntervalSet(w.memory).intersection(frame).subtracting(compute).subtracting(comm)
    let collectiveWait = IntervalSet(w.collectiveWait)
    let straggler = comm.intersection(collectiveWait).measure
    let pipelineWait = comm.subtracting(collectiveWait).intersection(IntervalSet(w.p2pWait)).measure
    let transfer = comm.measure - straggler - pipelineWait + memory.measure
    let idle = frame.measure - compute.measure - comm.measure - memory.measure
    var out = Rank(
      rank: r, hasDevice: hasDevice, isSteps: isSteps, window: frame.measure, compute: compute.measure,
      communication: transfer, host: .zero, straggler: straggler, pipeline: pipelineWait, other: .zero,
      waitedFor: w.waitedFor.max { ($0.value, -$0.key) < ($1.value, -$1.key) }.map { Int($0.key) })
    if hasDevice {
      let host = min(idle, (causes[.hostLaunch] ?? .zero) + (causes[.sync] ?? .zero))
      let recv = min(idle - host, causes[.recv] ?? .zero)
      let coll = min(idle - host - recv, causes[.collective] ?? .zero)
      out.host = host
      out.pipeline += recv
      out.communication += coll
      out.other = idle - host - recv - coll
    } else {
      out.host = idle
    }
    return out
  }
}
