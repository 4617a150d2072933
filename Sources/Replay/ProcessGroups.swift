import TraceModel

/// The process groups a run's collectives ran on, and which of them are data-parallel: what
/// `dp.degree` rescales and what `pg.NAME.…` knobs name.
///
/// A group is named as its collectives name it (`Process Group Name`, `default` when the trace
/// does not say); its description and ranks come from `distributedInfo.pg_config` (`pg_desc`:
/// `default_pg`, Megatron's `DATA_PARALLEL_GROUP`, …), else from the collectives' own
/// `Process Group Ranks` and group sizes. The data-parallel groups are, in order:
/// 1. the groups whose description says data-parallel (`data_parallel`, `data-parallel` or `dp`);
/// 2. the one group, when the collectives ran on one group only (plain DDP or FSDP);
/// 3. when every group's ranks are known and some are consecutive (tensor-parallel groups in
///    Megatron's rank order) and some strided, the strided ones;
/// else the trace does not tell, and `dp.degree` is refused with the groups listed.
public struct ProcessGroups: Sendable, Equatable {
  public struct Group: Sendable, Equatable {
    /// The name collectives give it (`Process Group Name`), or `default`.
    public var name: String
    /// `pg_desc` from `pg_config`, or empty.
    public var description: String
    /// Participants per collective.
    public var size: Int
    /// Global ranks, when the trace lists them.
    public var ranks: [Int32]
    /// Collective instances on the group.
    public var instances: Int
    public var isDataParallel: Bool
  }

  /// The groups with collectives, by name.
  public var groups: [Group]
  /// How the data-parallel groups were found, or why they could not be.
  public var dataParallelRule: String
  /// Whether some group is known to be data-parallel.
  public var knowsDataParallel: Bool { groups.contains { $0.isDataParallel } }

  public init(_ graph: EventGraph) {
    var configs: [String: ProcessGroupConfig] = [:]
    for r in graph.ranks.sorted(by: { $0.rank < $1.rank }) {
      for pg in r.processGroups where configs[pg.name] == nil { configs[pg.name] = pg }
    }
    let world = configs.values.first { $0.description == "default_pg" }
    var byName: [String: Group] = [:]
    var recordRanks: [EventID: [Int32]] = [:]
    for c in graph.collectives where !c.groupRanks.isEmpty { recordRanks[c.event] = c.groupRanks }
    for inst in graph.instances {
      let name = graph.strings[inst.group]
      let config = configs[name] ?? (name == "default" ? world : nil)
      var g =
        byName[name]
        ?? Group(
          name: name, description: config?.description ?? "", size: inst.expectedSize, ranks: config?.ranks ?? [],
          instances: 0, isDataParallel: false)
      if g.ranks.isEmpty, let listed = inst.members.lazy.compactMap({ recordRanks[$0] }).first { g.ranks = listed }
      if g.ranks.isEmpty && inst.isComplete {
        g.ranks = inst.members.map { graph.rank(of: $0.index).rawValue }.sorted()
      }
      g.size = max(g.size, inst.expectedSize)
      g.instances += 1
      byName[name] = g
    }
    groups = byName.values.sorted { $0.name < $1.name }
    dataParallelRule = Self.markDataParallel(&groups)
  }

  /// Marks the data-parallel groups (rules in the type's documentation); returns the rule used
  /// or why none applies.
  static func markDataParallel(_ groups: inout [Group]) -> String {
    func mark(_ pick: (Group) -> Bool) {
      for i in groups.indices where pick(groups[i]) { groups[i].isDataParallel = true }
    }
    let described = groups.filter { isDataParallel(description: $0.description) }
    if !described.isEmpty {
      mark { isDataParallel(description: $0.description) }
      let names = Set(described.map(\.description)).sorted().map { "'\($0)'" }.joined(separator: ", ")
      return "pg_config describes it as \(names)"
    }
    if groups.count == 1 {
      mark { _ in true }
      return "the only process group with collectives"
    }
    let listing = groups.map(\.label).joined(separator: ", ")
    if !groups.isEmpty && groups.allSatisfy({ $0.ranks.count >= 2 }) {
      let strided = groups.filter { !isConsecutive($0.ranks) }
      if !strided.isEmpty && strided.count < groups.count {
        mark { !isConsecutive($0.ranks) }
        return "its ranks are strided across the consecutive (tensor-parallel) groups: \(listing)"
      }
    }
    return groups.isEmpty
      ? "no collectives"
      : "\(groups.count) process groups (\(listing)) and no pg_config description says which is data-parallel"
  }

  /// Whether a `pg_desc` names a data-parallel group.
  static func isDataParallel(description: String) -> Bool {
    let d = description.lowercased()
    if d.contains("data_parallel") || d.contains("data-parallel") { return true }
    return d.split(whereSeparator: { !$0.isLetter }).contains("dp")
  }

  static func isConsecutive(_ ranks: [Int32]) -> Bool {
    let r = ranks.sorted()
    return zip(r, r.dropFirst()).allSatisfy { $1 == $0 + 1 }
  }

  /// The groups `key` names: by name, else by description (case-insensitive).
  public func named(_ key: String) -> [Group] {
    let byName = groups.filter { $0.name == key }
    return byName.isEmpty
      ? groups.filter { !$0.description.isEmpty && $0.description.lowercased() == key.lowercased() } : byName
  }
}

extension ProcessGroups.Group {
  /// `'NAME' (DESCRIPTION, N ranks)`.
  public var label: String {
    "'\(name)' (" + (description.isEmpty ? "" : description + ", ") + "\(size) ranks)"
  }
}
