import TraceModel

/// What bounds the step: one verdict for the job and one per rank, each with its evidence.
///
/// Per rank, the verdict is the largest part of the rank's `TimeAccount` among compute,
/// communication, host, straggler (waiting in collectives for late peers) and pipeline (waiting
/// for send/recv peers); a tie goes to the earlier of that list. This is HTA's temporal
/// breakdown (`get_temporal_breakdown`) read as a verdict, with its idle time split by the
/// bubble causes and its communication split into waiting and transfer.
///
/// For the job, the first rule that holds decides:
/// 1. **straggler** — C4's straggler signal (Dong et al., arXiv 2406.04594, §3): a rank is
///    flagged by `StragglerAnalysis` and the time it alone held the others (latest minus
///    second-latest arrival, summed over its collectives) is at least `stragglerShare` of the
///    mean rank window;
/// 2. **pipeline** — the run has matched send/recv pairs and, over all ranks, at least
///    `pipelineShare` of the windows is spent waiting for pipeline peers (the pipeline bubble,
///    Huang et al., GPipe, NeurIPS'19; Narayanan et al., SC'21);
/// 3. **critical path** — the largest category (compute, communication, host) of the
///    cross-rank critical path (`CriticalPath`; critical-path analysis as in Yang & Miller,
///    ICDCS'88, and HTA's `critical_path_analysis`): what the step cannot finish without. On a
///    rank without device work, the path's leaf host ops are its compute; waits between them
///    stay host time. Device bubbles on the path are not a category;
/// 4. else (no path) the largest part summed over the ranks' accounts.
public struct Verdict: Sendable, Equatable {
  public enum Kind: String, CaseIterable, Sendable, Codable {
    case compute, communication, host, straggler, pipeline
  }

  /// Which job rule decided.
  public enum Basis: String, Sendable, Codable {
    case stragglerHeld, pipelineWait, criticalPath, rankTime
  }

  public struct RankVerdict: Sendable, Equatable {
    public var kind: Kind
    /// The time of the deciding part, out of `account.window`.
    public var time: Nanoseconds
    public var account: TimeAccount.Rank
  }

  public struct JobVerdict: Sendable, Equatable {
    public var kind: Kind
    public var basis: Basis
    /// The deciding time, out of `whole`: held time of the straggler or mean pipeline wait, out
    /// of the mean rank window; or the path's category, out of the path's length.
    public var time: Nanoseconds
    public var whole: Nanoseconds
    /// The straggler (rule 1).
    public var straggler: Int?
    /// Collectives the straggler took part in and was last at (rule 1).
    public var collectives: Int
    public var lastCount: Int
    /// The ranks the critical path runs through, in the order it first reaches them (rule 3).
    public var pathRanks: [Int]
    /// The profiler step the critical path explains (rule 3).
    public var step: Int?
  }

  public var job: JobVerdict?
  public var ranks: [RankVerdict]

  /// Rule 1: the straggler's held time, as a share of the mean rank window.
  public static let stragglerShare = 0.10
  /// Rule 2: time waiting for pipeline peers, as a share of all ranks' windows.
  public static let pipelineShare = 0.20

  public init(
    account: TimeAccount, stragglers: StragglerAnalysis, criticalPath cp: CriticalPath, graph g: EventGraph
  ) {
    ranks = account.ranks.filter { $0.window > .zero }.map { a in
      let parts = Self.parts(a)
      let best = parts.max { $0.1 < $1.1 || ($0.1 == $1.1 && $0.0.order > $1.0.order) } ?? (.compute, .zero)
      return RankVerdict(kind: best.0, time: best.1, account: a)
    }
    job = Self.job(ranks.map(\.account), stragglers: stragglers, criticalPath: cp, graph: g)
  }

  /// The verdict parts of an account, in tie-break order.
  static func parts(_ a: TimeAccount.Rank) -> [(Kind, Nanoseconds)] {
    [
      (.compute, a.compute), (.communication, a.communication), (.host, a.host), (.straggler, a.straggler),
      (.pipeline, a.pipeline),
    ]
  }

  static func job(
    _ accounts: [TimeAccount.Rank], stragglers: StragglerAnalysis, criticalPath cp: CriticalPath, graph g: EventGraph
  ) -> JobVerdict? {
    guard !accounts.isEmpty else { return nil }
    let n = accounts.count
    let meanWindow = accounts.reduce(Nanoseconds.zero) { $0 + $1.window } / n
    var v = JobVerdict(
      kind: .compute, basis: .stragglerHeld, time: .zero, whole: meanWindow, straggler: nil, collectives: 0,
      lastCount: 0, pathRanks: [], step: nil)
    if let s = stragglers.ranks.filter(\.flagged).max(by: { ($0.heldOthers, -$0.rank) < ($1.heldOthers, -$1.rank) }),
      meanWindow > .zero, s.heldOthers / meanWindow >= stragglerShare
    {
      (v.kind, v.time, v.straggler, v.collectives, v.lastCount) = (
        .straggler, s.heldOthers, s.rank, s.collectives, s.lastCount
      )
      return v
    }
    let pipelineWait = accounts.reduce(Nanoseconds.zero) { $0 + $1.pipeline }
    let windows = accounts.reduce(Nanoseconds.zero) { $0 + $1.window }
    if g.p2p.contains(where: { $0.isSend && $0.match != nil }), windows > .zero, pipelineWait / windows >= pipelineShare
    {
      (v.kind, v.basis, v.time) = (.pipeline, .pipelineWait, pipelineWait / n)
      return v
    }
    let path = pathParts(cp, graph: g, cpuRanks: Set(accounts.filter { !$0.hasDevice }.map(\.rank)))
    if let best = path.max(by: { $0.1 < $1.1 || ($0.1 == $1.1 && $0.0.order > $1.0.order) }), best.1 > .zero {
      (v.kind, v.basis, v.time, v.whole, v.step) = (best.0, .criticalPath, best.1, cp.length, cp.step)
      for s in cp.segments where !v.pathRanks.contains(s.rank) { v.pathRanks.append(s.rank) }
      return v
    }
    var sums: [(Kind, Nanoseconds)] = Kind.allCases.map { ($0, .zero) }
    for a in accounts { for (i, p) in parts(a).enumerated() { sums[i].1 += p.1 } }
    let best = sums.max { $0.1 < $1.1 || ($0.1 == $1.1 && $0.0.order > $1.0.order) } ?? (.compute, .zero)
    (v.kind, v.basis, v.time, v.whole) = (best.0, .rankTime, best.1 / n, meanWindow)
    return v
  }

  /// Compute, communication and host time on the critical path; on CPU-only ranks a leaf host op
  /// on the path is compute.
  static func pathParts(_ cp: CriticalPath, graph g: EventGraph, cpuRanks: Set<Int>) -> [(Kind, Nanoseconds)] {
    var out: [(Kind, Nanoseconds)] = [(.compute, .zero), (.communication, .zero), (.host, .zero)]
    for s in cp.segments {
      switch s.category {
      case .compute: out[0].1 += s.duration
      case .communication: out[1].1 += s.duration
      case .host:
        if let e = s.event, cpuRanks.contains(s.rank), g.kind[e] == .hostOp {
          out[0].1 += s.duration
        } else {
          out[2].1 += s.duration
        }
      case .bubble, .lateStart: break
      }
    }
    return out
  }
}

extension Verdict.Kind {
  /// Position in the tie-break order.
  var order: Int { Self.allCases.firstIndex(of: self) ?? 0 }
}
