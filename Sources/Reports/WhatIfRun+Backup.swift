import Foundation
import Replay
import TraceModel

extension ReplaySummary {
  /// The job step under backup workers (`--set dp.backup=K`, `Scenario+Backup.swift`): JSON
  /// `backupWorkers`.
  public struct BackupWorkers: Codable, Sendable, Equatable {
    /// The ranks whose step does not count in one step.
    public struct Dropped: Codable, Sendable, Equatable {
      /// The profiler step, absent when the whole trace is timed.
      public var step: Int?
      public var ranks: [Int]
    }

    /// Backup workers per data-parallel group (K).
    public var k: Int
    /// Members of the largest data-parallel group (n).
    public var groupSize: Int
    /// All-reduce instances that end at their (n−K)-th arrival.
    public var allReduces: Int
    /// The job step: per step, the (n−K)-th fastest predicted per-rank step of each
    /// data-parallel group (every rank outside those groups counts), the slowest of those;
    /// averaged over the steps. With K = 0 it is the slowest per-rank step (`stepNs.predicted`).
    public var stepNs: Nanoseconds
    /// Per step, the K slowest ranks of each data-parallel group, whose step is not waited for.
    public var droppedRanks: [Dropped]
  }
}

extension WhatIfRun {
  /// The job step under `dp.backup=K`, and the ranks dropped per step; nil without the knob.
  ///
  /// The step of the job is the (n−K)-th fastest rank's predicted per-rank step: the K slowest
  /// ranks of each data-parallel group (by step time, then rank) are the backup workers of that
  /// step, their contribution dropped; ranks outside every data-parallel group always count.
  /// When a group's ranks are unknown, all ranks form the group.
  public var backupWorkers: ReplaySummary.BackupWorkers? {
    guard let scenario, let k = scenario.dataParallelBackup else { return nil }
    let dp = plan.processGroups.groups.filter(\.isDataParallel)
    let everyRank = Set(steps.map(\.rank)).sorted()
    let groups = dp.map { g in g.ranks.isEmpty ? everyRank : g.ranks.map(RankID.init(rawValue:)) }
    var byStep: [Int: [RankID: Nanoseconds]] = [:]
    for s in steps { byStep[s.step ?? -1, default: [:]][s.rank] = s.predicted }
    var total = Nanoseconds.zero
    var dropped: [ReplaySummary.BackupWorkers.Dropped] = []
    for (step, times) in byStep.sorted(by: { $0.key < $1.key }) {
      var out: Set<RankID> = []
      for members in groups {
        let present = members.compactMap { r in times[r].map { ($0, r) } }.sorted(by: <).map(\.1)
        out.formUnion(present.dropFirst(max(1, present.count - k)))
      }
      total += times.filter { !out.contains($0.key) }.values.max() ?? .zero
      dropped.append(.init(step: step < 0 ? nil : step, ranks: out.map { Int($0.rawValue) }.sorted()))
    }
    return ReplaySummary.BackupWorkers(
      k: k, groupSize: dp.map(\.size).max() ?? 0,
      allReduces: scenario.backupWorkers(for: plan).lazy.filter { $0 > 0 }.count,
      stepNs: byStep.isEmpty ? .zero : total / byStep.count, droppedRanks: dropped)
  }

  /// The backup-worker lines of the text: the rule, the job step, the dropped ranks per step.
  func backupLines() -> [String] {
    guard let b = backupWorkers else { return [] }
    guard b.groupSize > 0 else {
      return ["  backup workers (dp.backup=\(b.k)): no data-parallel group; every collective waits for all its members"]
    }
    let keep = b.groupSize - b.k
    let perStep = b.droppedRanks.map { d in
      (d.step.map { "#\($0)" } ?? "all") + " rank "
        + (d.ranks.isEmpty ? "none" : d.ranks.map(String.init).joined(separator: ", "))
    }
    return [
      "  backup workers (dp.backup=\(b.k)): \(b.allReduces) data-parallel all-reduces end at arrival \(keep) of "
        + "\(b.groupSize); the late members drop their contribution and do not hold the others",
      String(
        format: "  job step under backup workers (rank %d of %d by per-rank step): %.3f ms", keep, b.groupSize,
        b.stepNs.milliseconds),
      "  dropped: " + perStep.joined(separator: "; "),
      "  (the job step above and the verdict still count the dropped ranks' work and each all-reduce's last arrival)",
    ]
  }
}
