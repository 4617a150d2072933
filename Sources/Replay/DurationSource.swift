import TraceModel

/// Where a replay's durations come from: the measurement, knobs (`Scenario`), or — in a later
/// stage — a cost model predicting each kernel and transfer.
///
/// A source gives the duration of every event (used for device work and host leaves) and the
/// transfer time of every barrier instance of the plan (collectives, send/recv pairs).
public protocol DurationSource: Sendable {
  func durations(for plan: ReplayPlan) -> (durations: [Nanoseconds], transfers: [Nanoseconds])
}

/// The recorded durations and transfer times (identity replay).
public struct MeasuredDurations: DurationSource {
  public init() {}
  public func durations(for plan: ReplayPlan) -> (durations: [Nanoseconds], transfers: [Nanoseconds]) {
    (plan.graph.duration.map(Nanoseconds.init(rawValue:)), plan.instanceTransfer)
  }
}

extension Scenario: DurationSource {
  public func durations(for plan: ReplayPlan) -> (durations: [Nanoseconds], transfers: [Nanoseconds]) {
    apply(to: plan)
  }
}

extension Replayer {
  /// Replays `plan` under `scenario`; also returns the transfer time of every barrier instance
  /// the replay used (for the collective waits).
  /// - Throws: `ScenarioError` when a knob does not fit the run (`Scenario.check`),
  ///   `ReplayError` when the replay cannot proceed.
  /// With `folding`, each class of symmetric ranks is replayed once (`RankFolding`; build it
  /// with `scenario.separateRanks` kept apart).
  public func replay(_ plan: ReplayPlan, under scenario: Scenario, folding: RankFolding? = nil) throws -> (
    timeline: Timeline, transfers: [Nanoseconds]
  ) {
    try scenario.check(plan)
    let (durations, transfers) = scenario.rawDurations(for: plan)
    let timeline = try replay(
      plan, rawDurations: durations, rawTransfers: transfers.map(\.rawValue), backup: scenario.backupWorkers(for: plan),
      folding: folding)
    return (timeline, transfers)
  }

  /// Replays `plan` with the durations `source` gives.
  public func replay(_ plan: ReplayPlan, with source: some DurationSource) throws -> Timeline {
    let (d, t) = source.durations(for: plan)
    return try replay(plan, durations: d, transfers: t)
  }
}

/// How a prediction timed one event: kept as measured, re-timed by a ratio for its class (a
/// knob, a class ceiling ratio, the network model), or re-timed through the roofline from its
/// op's shapes. `fidelity.coverage` in the JSON documents sums event time by method.
public enum TimingMethod: UInt8, Sendable, CaseIterable {
  case measured, classRatio, shapeModel
}

extension Scenario {
  /// How each event of `plan` is timed under this scenario (`TimingMethod`): a hardware
  /// transfer's method for device work (shape-timed through the roofline or class-timed by a
  /// ceiling ratio); class-timed for the members of a barrier instance the network model
  /// re-times or a knob changes, and for any other event whose duration a knob changes;
  /// everything else measured.
  public func timingMethods(for plan: ReplayPlan) -> [TimingMethod] {
    let g = plan.graph
    let (durations, transfers) = rawDurations(for: plan)
    var methods = transfer?.retime(plan).method ?? [TimingMethod](repeating: .measured, count: g.eventCount)
    for e in 0..<g.eventCount where methods[e] == .measured && durations[e] != g.duration[e] {
      methods[e] = .classRatio
    }
    let outcomes = network?.transfers(plan).outcomes
    for i in 0..<plan.instanceCount
    where transfers[i] != plan.instanceTransfer[i] || outcomes?[i] == .retimed {
      for m in plan.members(of: i) where methods[Int(m)] == .measured { methods[Int(m)] = .classRatio }
    }
    return methods
  }
}
