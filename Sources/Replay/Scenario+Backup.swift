import TraceModel

/// Backup workers (`--set dp.backup=K`): synchronous data-parallel SGD in which each gradient
/// all-reduce completes once the first n−K of its n members have arrived, and the K slowest
/// replicas' contributions are dropped for that iteration.
///
/// Sources: J. Chen, X. Pan, R. Monga, S. Bengio, R. Jozefowicz, "Revisiting Distributed
/// Synchronous SGD", arXiv:1604.00981 (2016/2017): synchronous optimization with backup
/// workers, where the parameter update uses the first N of N+b gradients to arrive; and C. Xu,
/// G. Neglia, N. Sebastianelli, "Dynamic backup workers for parallel machine learning",
/// Computer Networks 191 (2021), arXiv:2004.14696: the server waits only for the fastest n−b
/// updates, b being the backup workers (DBW chooses b per iteration; here K is fixed).
///
/// In the replay (`Replayer`), an all-reduce instance of a data-parallel group with n ≥ K+1
/// members ends at the (n−K)-th arrival plus the transfer (`T_(n−K) + transfer`; host-side gloo
/// members at `T_(n−K) + tail`, as they do at the last arrival without backups). The K late
/// members do not hold the others: each still runs its own collective, which starts at its own
/// arrival and ends at `max(own arrival, the early members' end)` (it receives the result the
/// others computed and drops its own contribution). All-to-all, every other collective kind,
/// the collectives of other groups and send/recv pairs still wait for every member.
extension Scenario {
  /// The `dp.backup` value, when set.
  public var dataParallelBackup: Int? { dpBackup }

  /// Parses `dp.backup=K`: an integer K ≥ 0.
  static func backupCount(_ value: String) throws -> Int {
    guard let k = Int(value), k >= 0 else {
      throw ScenarioError(message: "--set dp.backup=\(value): expected an integer ≥ 0")
    }
    return k
  }

  /// `dp.backup` needs the data-parallel groups (as `dp.degree` does), and K below each one's size.
  /// - Throws: `ScenarioError` naming the groups or the group size.
  func checkBackup(_ pgs: ProcessGroups) throws {
    guard let k = dpBackup else { return }
    if !pgs.knowsDataParallel && !pgs.groups.isEmpty {
      throw ScenarioError(
        message: "--set dp.backup: cannot tell the data-parallel group: \(pgs.dataParallelRule)")
    }
    for g in pgs.groups where g.isDataParallel && k >= g.size {
      throw ScenarioError(
        message: "--set dp.backup=\(k): the data-parallel group \(g.label) has \(g.size) ranks; "
          + "K must be below \(g.size) (at least one member must arrive)")
    }
  }

  /// Per barrier instance of `plan`: how many late members it does not wait for (K for an
  /// all-reduce of a data-parallel group with more than K members, else 0). Empty when `dp.backup`
  /// is not set or is 0, so the engine runs exactly as without it.
  public func backupWorkers(for plan: ReplayPlan) -> [Int32] {
    guard let k = dpBackup, k > 0 else { return [] }
    let dataParallel = Set(
      plan.processGroups.groups.filter(\.isDataParallel).compactMap { plan.graph.strings.lookup($0.name) })
    return (0..<plan.instanceCount).map { i in
      plan.collectiveKind(of: i) == .allReduce && dataParallel.contains(plan.instanceGroup[i])
        && plan.members(of: i).count > k ? Int32(k) : 0
    }
  }
}
