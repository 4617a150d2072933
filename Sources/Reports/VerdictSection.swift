import Analysis
import Foundation
import Rendering
import Replay
import TraceModel

/// The bottleneck verdicts of a run as the report and `whatif` write them: one line for the job
/// and one per rank, each with its evidence (rule: docs/analyses.md, "Verdicts").
public struct VerdictSection: Codable, Sendable, Equatable {
  /// The job's verdict and the rule that decided it.
  public struct Job: Codable, Sendable, Equatable {
    public var kind: String
    /// `stragglerHeld`, `pipelineWait`, `criticalPath` or `rankTime`.
    public var basis: String
    public var line: String
    public var timeNs: Nanoseconds
    public var wholeNs: Nanoseconds
    public var share: Double
    @NullWhenAbsent public var straggler: Int?
    public var pathRanks: [Int]
    @NullWhenAbsent public var step: Int?
  }

  @NullWhenAbsent public var job: Job?
  public var ranks: [VerdictRow]

  /// The verdicts of a timeline's analyses.
  public init(_ v: Verdict) {
    let cpuOnly = v.ranks.allSatisfy { !$0.account.hasDevice }
    job = v.job.map { j in
      Job(
        kind: j.kind.rawValue, basis: j.basis.rawValue, line: Self.line(j, cpuOnly: cpuOnly), timeNs: j.time,
        wholeNs: j.whole, share: Self.share(j.time, j.whole), straggler: j.straggler, pathRanks: j.pathRanks,
        step: j.step)
    }
    ranks = v.ranks.map(VerdictRow.init)
  }

  /// The verdicts of `timeline` over `graph` (the measured one, or a replay's prediction).
  public init(_ graph: EventGraph, timeline: Timeline) {
    let index = AnalysisIndex(graph, timeline: timeline)
    let bubbles = BubbleAnalysis(index: index)
    self.init(
      Verdict(
        account: TimeAccount(index: index, bubbles: bubbles), stragglers: StragglerAnalysis(graph, timeline: timeline),
        criticalPath: CriticalPath(index: index), graph: graph))
  }

  /// Rank lines printed before the rest are summarised by kind (the JSON has every rank).
  public static let maxRankLines = 16

  /// The job line, then one line per rank (the first `maxRankLines`, then a count per kind).
  public var lines: [String] {
    var out = (job.map { ["verdict: " + $0.line] } ?? []) + ranks.prefix(Self.maxRankLines).map { "  " + $0.line }
    let rest = ranks.dropFirst(Self.maxRankLines)
    if !rest.isEmpty {
      let counts = Dictionary(grouping: rest, by: \.kind).map { "\($0.key)-bound \($0.value.count)" }.sorted()
      out.append("  … \(rest.count) more ranks: \(counts.joined(separator: ", ")) (every rank in the JSON)")
    }
    return out
  }

  static func share(_ part: Nanoseconds, _ whole: Nanoseconds) -> Double {
    whole > .zero ? ((part / whole) * 10000).rounded() / 10000 : 0
  }

  /// Milliseconds: one decimal from 10 ms, two from 1 ms, else three.
  static func ms(_ t: Nanoseconds) -> String {
    String(format: t.milliseconds >= 10 ? "%.1f" : t.milliseconds >= 1 ? "%.2f" : "%.3f", t.milliseconds)
  }

  static func line(_ j: Verdict.JobVerdict, cpuOnly: Bool) -> String {
    let pct = String(format: "%.0f%%", 100 * share(j.time, j.whole))
    switch j.basis {
    case .stragglerHeld:
      return "straggler-bound: rank \(j.straggler ?? -1) arrived last at \(j.lastCount) of \(j.collectives) "
        + "collectives and held the others \(ms(j.time)) ms, \(pct) of the mean rank's \(ms(j.whole)) ms"
    case .pipelineWait:
      return "pipeline-bound: the ranks wait \(ms(j.time)) of \(ms(j.whole)) ms (\(pct)) for pipeline peers "
        + "(send/recv), mean over ranks"
    case .criticalPath:
      let what =
        switch j.kind {
        case .compute: cpuOnly ? "compute (operators on host threads)" : "compute (device work)"
        case .communication: "communication"
        default: cpuOnly ? "host time between operators (framework, Python)" : "host work (launch/dispatch)"
        }
      let step = j.step.map { " (step \($0))" } ?? ""
      let through =
        j.pathRanks.prefix(4).map(String.init).joined(separator: ", ") + (j.pathRanks.count > 4 ? ", …" : "")
      return "\(j.kind.rawValue)-bound: \(ms(j.time)) of \(ms(j.whole)) ms of the critical path\(step) is \(what), "
        + "through rank\(j.pathRanks.count == 1 ? "" : "s") \(through)"
    case .rankTime:
      return "\(j.kind.rawValue)-bound: \(ms(j.time)) of \(ms(j.whole)) ms per rank (\(pct)), no critical path"
    }
  }
}

/// One rank's verdict and its time account (`verdict.csv`).
public struct VerdictRow: TableRow, Equatable {
  public var rank: Int
  public var kind: String
  public var share: Double
  public var windowNs: Nanoseconds
  public var computeNs: Nanoseconds
  public var communicationNs: Nanoseconds
  public var hostNs: Nanoseconds
  public var stragglerNs: Nanoseconds
  public var pipelineNs: Nanoseconds
  public var otherNs: Nanoseconds
  @NullWhenAbsent public var waitedFor: Int?
  public var lanes: String
  public var line: String

  public enum CodingKeys: String, CodingKey, CaseIterable {
    case rank, kind, share, windowNs, computeNs, communicationNs, hostNs, stragglerNs, pipelineNs, otherNs, waitedFor,
      lanes, line
  }

  init(_ v: Verdict.RankVerdict) {
    let a = v.account
    rank = a.rank
    kind = v.kind.rawValue
    share = VerdictSection.share(v.time, a.window)
    windowNs = a.window
    computeNs = a.compute
    communicationNs = a.communication
    hostNs = a.host
    stragglerNs = a.straggler
    pipelineNs = a.pipeline
    otherNs = a.other
    waitedFor = a.waitedFor
    lanes = a.hasDevice ? "device" : "host"
    let what: String =
      switch v.kind {
      case .compute: a.hasDevice ? "compute (kernels)" : "compute (operators on host threads)"
      case .communication: "communication not hidden by compute"
      case .host: a.hasDevice ? "device idle waiting for the host (launch/dispatch)" : "host time between operators"
      case .straggler: "waiting in collectives for late peers" + (a.waitedFor.map { " (mostly rank \($0))" } ?? "")
      case .pipeline: "waiting for pipeline peers (send/recv)"
      }
    line =
      "\(kind)-bound on rank \(rank): \(VerdictSection.ms(v.time)) of \(VerdictSection.ms(a.window)) ms of its "
      + "\(a.isSteps ? "steps" : "trace") is \(what) (\(String(format: "%.0f%%", 100 * share)))"
  }
}

/// One rank's step-time distribution over all its steps (`step_times.csv`).
public struct StepTimeRow: TableRow, Equatable {
  public var rank: Int
  public var steps: Int
  public var meanNs: Nanoseconds
  public var p50Ns: Nanoseconds
  public var p90Ns: Nanoseconds
  public var p99Ns: Nanoseconds
  public var maxNs: Nanoseconds
  /// The slowest step (the outlier), null when the rank is timed over its whole trace.
  @NullWhenAbsent public var slowestStep: Int?
  /// The slowest step over the median.
  public var maxOverP50: Double

  public enum CodingKeys: String, CodingKey, CaseIterable {
    case rank, steps, meanNs, p50Ns, p90Ns, p99Ns, maxNs, slowestStep, maxOverP50
  }

  /// Per rank, the distribution of its measured per-rank step times (nearest-rank percentiles).
  public static func rows(_ steps: [StepTime]) -> [StepTimeRow] {
    Dictionary(grouping: steps, by: \.rank).sorted { $0.key < $1.key }.map { rank, list in
      let sorted = list.sorted { ($0.measured, $0.step ?? -1) < ($1.measured, $1.step ?? -1) }
      let n = sorted.count
      func pct(_ p: Int) -> Nanoseconds { sorted[max(0, (p * n + 99) / 100 - 1)].measured }
      let slowest = sorted[n - 1]
      let p50 = pct(50)
      return StepTimeRow(
        rank: Int(rank.rawValue), steps: n, meanNs: sorted.reduce(.zero) { $0 + $1.measured } / n, p50Ns: p50,
        p90Ns: pct(90), p99Ns: pct(99), maxNs: slowest.measured, slowestStep: slowest.step,
        maxOverP50: p50 > .zero ? ((slowest.measured / p50) * 1000).rounded() / 1000 : 0)
    }
  }

  /// `rank 0: 3 steps, p50 10.2 ms, p90 …, max 12.0 ms (step 4, 1.18× p50)`.
  public var line: String {
    let m = VerdictSection.ms
    let outlier =
      steps > 1 ? slowestStep.map { " (slowest: step \($0), " + String(format: "%.2f× p50)", maxOverP50) } ?? "" : ""
    return "rank \(rank): \(steps) step\(steps == 1 ? "" : "s"), p50 \(m(p50Ns)) ms, p90 \(m(p90Ns)) ms, "
      + "p99 \(m(p99Ns)) ms, max \(m(maxNs)) ms\(outlier)"
  }
}
