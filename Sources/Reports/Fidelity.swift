import Foundation
import Replay
import TraceModel

/// How far a prediction can be trusted (`fidelity` in `reprise.replay/v1` and in the report's
/// `whatIf`; docs/replay.md, Fidelity): how well the identity replay reproduces the measured job
/// step, and how much of the run's timed work the prediction re-timed, and how.
public struct Fidelity: Codable, Sendable, Equatable {
  /// The shares of the run's timed work (`ReplayPlan.timedWork`) per `TimingMethod`, in percent
  /// with two decimals; the three always sum to exactly 100 (largest-remainder rounding in
  /// hundredths of a percent).
  public struct Coverage: Codable, Sendable, Equatable {
    /// Re-timed through the roofline from the op's shapes.
    public var shapeTimedPct: Double
    /// Re-timed by a ratio for its class (a knob, a class ceiling ratio, the network model).
    public var classTimedPct: Double
    /// Kept as measured.
    public var measuredPct: Double
    /// The total the shares divide: measured nanoseconds of timed work.
    public var timedWorkNs: Nanoseconds

    public init(shapeTimedPct: Double, classTimedPct: Double, measuredPct: Double, timedWorkNs: Nanoseconds) {
      (self.shapeTimedPct, self.classTimedPct, self.measuredPct) = (shapeTimedPct, classTimedPct, measuredPct)
      self.timedWorkNs = timedWorkNs
    }

    /// The shares of `work` (per event) timed by each of `methods` (per event).
    public init(work: [Nanoseconds], methods: [TimingMethod]) {
      // Saturating sums: a hostile trace's durations (each up to 2^61 ns) may add past Int64.
      func add(_ a: Int64, _ b: Int64) -> Int64 {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? (b > 0 ? .max : .min) : sum
      }
      var sums = [Int64](repeating: 0, count: TimingMethod.allCases.count)
      for (w, m) in zip(work, methods) { sums[Int(m.rawValue)] = add(sums[Int(m.rawValue)], w.rawValue) }
      let ordered = [TimingMethod.shapeModel, .classRatio, .measured].map { sums[Int($0.rawValue)] }
      let pct = Fidelity.percentages(ordered)
      self.init(
        shapeTimedPct: pct[0], classTimedPct: pct[1], measuredPct: pct[2], timedWorkNs: Nanoseconds(sums.reduce(0, add))
      )
    }
  }

  /// (baseline − measured) / measured job step × 100, rounded to 3 decimals; the baseline is the
  /// identity replay (a schedule swap: the recorded schedule as simulated).
  public var identityErrorPct: Double
  public var coverage: Coverage
  /// What was re-timed, when the coverage alone does not say (a schedule swap).
  public var note: String?

  public init(identityErrorPct: Double, coverage: Coverage, note: String? = nil) {
    (self.identityErrorPct, self.coverage, self.note) = (identityErrorPct, coverage, note)
  }

  /// The text line: identity error and the shares of timed work by timing method.
  public var line: String {
    let c = coverage
    return String(
      format: "  fidelity: identity error %+.3f%% (job step); timed work %.2f%% measured, %.2f%% class-timed, "
        + "%.2f%% shape-timed", identityErrorPct, c.measuredPct, c.classTimedPct, c.shapeTimedPct)
      + (note.map { "\n    re-timed: " + $0 } ?? "")
  }

  /// (value − reference) / reference × 100; 0 when the reference is zero.
  public static func errorPct(_ value: Nanoseconds, _ reference: Nanoseconds) -> Double {
    reference > .zero ? Double(value.rawValue - reference.rawValue) / Double(reference.rawValue) * 100 : 0
  }

  /// `x` rounded to 3 decimals, as the JSON documents write percentages of error.
  static func round3(_ x: Double) -> Double { (x * 1000).rounded() / 1000 }

  /// Percentages of `parts` with two decimals that sum to exactly 100: each part's share in
  /// hundredths of a percent is rounded down, and the hundredths left over go one each to the
  /// parts with the largest remainders (ties: the earlier part). All zero: the last part
  /// (`measured`) takes 100.
  public static func percentages(_ parts: [Int64]) -> [Double] {
    let total = parts.reduce(0.0) { $0 + Double($1) }
    guard total > 0 else { return parts.indices.map { $0 == parts.count - 1 ? 100 : 0 } }
    let exact = parts.map { Double($0) / total * 10_000 }
    var hundredths = exact.map { Int($0.rounded(.down)) }
    let left = 10_000 - hundredths.reduce(0, +)
    let order = exact.indices.sorted {
      (exact[$0] - exact[$0].rounded(.down), -$0) > (exact[$1] - exact[$1].rounded(.down), -$1)
    }
    for i in order.prefix(max(0, left)) { hundredths[i] += 1 }
    return hundredths.map { Double($0) / 100 }
  }
}

/// The interval of a predicted step time (`stepNs.low` / `stepNs.high`; docs/replay.md,
/// Interval): the range over the measured steps of the predicted step and of each rank's
/// re-scaled step, widened by the identity error.
///
/// For each step s with baseline (identity replay) B_s and prediction P_s, and each rank r with
/// per-rank ratio q_{s,r} = predicted / baseline per-rank step, the candidates are P_s and
/// B_s · q_{s,r}. With e the identity error of the mean step ((B̄ − M̄) / M̄), low = min · (1 − |e|)
/// (never below 0) and high = max · (1 + |e|), each rounded to the nearest nanosecond. The
/// prediction (the mean of P_s, whole nanoseconds) lies between the smallest and largest P_s,
/// so low ≤ predicted ≤ high always.
public struct StepInterval: Sendable, Equatable {
  /// One measured step: its step time measured, replayed as measured, and predicted, and per rank
  /// the predicted over baseline per-rank step.
  public struct Step: Sendable, Equatable {
    public var measured: Nanoseconds
    public var baseline: Nanoseconds
    public var predicted: Nanoseconds
    public var rankRatios: [Double]
    /// The step predicted with the cost models' ceilings × (1 ± ε) (`WhatIfRun.modelBoundSpans`):
    /// the model's own uncertainty; empty when no cost model re-times anything.
    public var modelBounds: [Nanoseconds]

    public init(
      measured: Nanoseconds, baseline: Nanoseconds, predicted: Nanoseconds, rankRatios: [Double],
      modelBounds: [Nanoseconds] = []
    ) {
      (self.measured, self.baseline, self.predicted, self.rankRatios) = (measured, baseline, predicted, rankRatios)
      self.modelBounds = modelBounds
    }
  }

  public var low: Nanoseconds
  public var high: Nanoseconds
  /// The identity error the range was widened by, in percent.
  public var identityErrorPct: Double

  public init(low: Nanoseconds, high: Nanoseconds, identityErrorPct: Double) {
    (self.low, self.high, self.identityErrorPct) = (low, high, identityErrorPct)
  }

  /// The interval of `steps` (empty: zero).
  public init(_ steps: [Step]) {
    guard !steps.isEmpty else {
      self.init(low: .zero, high: .zero, identityErrorPct: 0)
      return
    }
    let m = steps.map(\.measured).reduce(.zero, +) / steps.count
    let b = steps.map(\.baseline).reduce(.zero, +) / steps.count
    let e = Fidelity.errorPct(b, m)
    var lo = Double.infinity
    var hi = -Double.infinity
    for s in steps {
      let p = Double(s.predicted.rawValue)
      (lo, hi) = (min(lo, p), max(hi, p))
      for q in s.rankRatios {
        let v = Double(s.baseline.rawValue) * q
        (lo, hi) = (min(lo, v), max(hi, v))
      }
      for b in s.modelBounds { (lo, hi) = (min(lo, Double(b.rawValue)), max(hi, Double(b.rawValue))) }
    }
    let widen = abs(e) / 100
    self.init(
      low: Nanoseconds(max(0, Int64(saturating: (lo * (1 - widen)).rounded()))),
      high: Nanoseconds(Int64(saturating: (hi * (1 + widen)).rounded())), identityErrorPct: e)
  }

  /// Whether `value` lies in the interval (bounds included).
  public func contains(_ value: Nanoseconds) -> Bool { low <= value && value <= high }
}

extension WhatIfRun {
  /// The fidelity of this run's prediction: the identity error of the job step and the coverage
  /// of the scenario's timing methods (`Scenario.timingMethods`); a plain replay measures all.
  public var fidelity: Fidelity {
    let methods =
      scenario?.timingMethods(for: plan) ?? [TimingMethod](repeating: .measured, count: plan.graph.eventCount)
    return Fidelity(
      identityErrorPct: Fidelity.round3(Fidelity.errorPct(baselineJobStep, measuredJobStep)),
      coverage: Fidelity.Coverage(work: plan.timedWork, methods: methods))
  }

  /// The interval of the predicted job step (`jobStepNs.low/high`).
  public var jobStepInterval: StepInterval { StepInterval(intervalSteps(slowest: false)) }
  /// The interval of the predicted slowest per-rank step (`stepNs.low/high`).
  public var slowestStepInterval: StepInterval { StepInterval(intervalSteps(slowest: true)) }

  /// Per measured step: the job step (or, with `slowest`, the slowest per-rank step) measured,
  /// replayed and predicted, and each rank's predicted over baseline per-rank step.
  public func intervalSteps(slowest: Bool) -> [StepInterval.Step] {
    var ratios: [Int: [Double]] = [:]
    for (b, p) in zip(baselineSpans.ranks, predictedSpans.ranks) where b.duration > .zero {
      ratios[b.step ?? Int.min, default: []].append(p.duration / b.duration)
    }
    return zip(measuredSpans.jobs, zip(baselineSpans.jobs, predictedSpans.jobs)).enumerated().map { i, mbp in
      let (m, (b, p)) = mbp
      let bounds = modelBoundSpans.compactMap { spans in
        spans.jobs.indices.contains(i) ? (slowest ? spans.jobs[i].slowestRankStep : spans.jobs[i].duration) : nil
      }
      return StepInterval.Step(
        measured: slowest ? m.slowestRankStep : m.duration, baseline: slowest ? b.slowestRankStep : b.duration,
        predicted: slowest ? p.slowestRankStep : p.duration, rankRatios: ratios[m.step ?? Int.min] ?? [],
        modelBounds: bounds)
    }
  }
}

extension WhatIfRun {
  /// `stepNs` (slowest per-rank step) and `jobStepNs` of the JSON documents: measured, baseline,
  /// predicted and the interval.
  public var stepTimes: (slowest: ReplaySummary.StepTimes, job: ReplaySummary.StepTimes) {
    (
      .init(measured: measuredStep, baseline: baselineStep, predicted: predictedStep, interval: slowestStepInterval),
      .init(
        measured: measuredJobStep, baseline: baselineJobStep, predicted: predictedJobStep, interval: jobStepInterval)
    )
  }
}

extension ReplaySummary.StepTimes {
  /// Measured, baseline and predicted step with the prediction's interval.
  init(measured: Nanoseconds, baseline: Nanoseconds, predicted: Nanoseconds, interval: StepInterval) {
    self.init(measured: measured, predicted: predicted)
    self.baseline = baseline
    (low, high) = (interval.low, interval.high)
  }
}

extension ScheduleSwap {
  /// The fidelity of a schedule swap: the identity error is the recorded schedule as simulated
  /// (its makespan) against the measured job step; the coverage is the share of the stages'
  /// time over the measured step (stages × job step) that the simulator re-timed — the
  /// forward and backward passes, `source.busy` — the rest kept as measured.
  public var fidelity: Fidelity {
    let busy = source.busy.reduce(Nanoseconds.zero, +).rawValue
    let total = Int64(profile.stages) * profile.measuredStep.rawValue
    let retimed = min(busy, total)
    let pct = Fidelity.percentages([0, retimed, max(0, total - retimed)])
    return Fidelity(
      identityErrorPct: Fidelity.round3(Fidelity.errorPct(source.makespan, profile.measuredStep)),
      coverage: .init(
        shapeTimedPct: pct[0], classTimedPct: pct[1], measuredPct: pct[2], timedWorkNs: Nanoseconds(total)),
      note: "the schedule simulator re-timed the stages' forward and backward passes (per-stage medians per "
        + "micro-batch); work and gaps outside them are kept as measured")
  }

  /// The interval of the predicted job step: per measured job step M_s the prediction
  /// M_s − source + target; their range, widened on each side by |identity error| × the
  /// simulated target makespan (only the simulated part is uncertain by the simulator's error).
  public var interval: StepInterval {
    let jobs = StepSpans(graph, membership: StepMembership(graph), timeline: Timeline(measured: graph)).jobs
    let predictions = jobs.map { $0.duration - source.makespan + predicted.makespan }
    let e = Fidelity.errorPct(source.makespan, profile.measuredStep)
    let widen = predicted.makespan * (abs(e) / 100)
    let lo = (predictions.min() ?? predictedStep) - widen
    return StepInterval(
      low: max(.zero, min(lo, predictedStep)), high: max((predictions.max() ?? predictedStep) + widen, predictedStep),
      identityErrorPct: e)
  }
}
