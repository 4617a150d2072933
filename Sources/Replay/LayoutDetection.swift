import TraceModel

/// The parallel layout a trace was recorded with (`reprise ingest` prints it; `whatif --parallel`
/// predicts from it), and the evidence for each degree.
///
/// `detect(_:)` reads the world size from `distributedInfo.world_size` (the largest any rank
/// gives), else from the ranks in the trace (at least the highest rank + 1), and then the degrees, each from
/// the first rule that gives it:
/// 1. **pg_config descriptions** (`distributedInfo.pg_config[].pg_desc`): Megatron-Core's
///    `TENSOR_MODEL_PARALLEL_GROUP` (tp), `PIPELINE_MODEL_PARALLEL_GROUP` (pp),
///    `CONTEXT_PARALLEL_GROUP` (cp), `DATA_PARALLEL_GROUP` (dp) and `DATA_PARALLEL_GROUP_WITH_CP`
///    (dp·cp), with their `_GLOO` twins; PyTorch DeviceMesh's `mesh_<dim>` (torchtitan's dims:
///    `mesh_tp`, `mesh_pp`, `mesh_cp`, `mesh_dp`, `mesh_dp_cp`, and `mesh_dp_replicate` ×
///    `mesh_dp_shard`). A group's size (its `ranks`) is the degree; groups of one kind that
///    differ in size contradict each other.
/// 2. **the collectives' groups** that pg_config does not describe, smaller than the world and
///    with their ranks known (`ProcessGroups`), leaving out the ranks of a pipeline chain (rule 3):
///    consecutive ranks are tensor-parallel (Megatron's rank order puts TP innermost), strided
///    ranks data-parallel. The rank order alone cannot tell TP from DP when one of them is 1: a
///    pg_config description or `--recorded` can.
/// 3. **pipeline send/recv pairs**: ranks joined by matched send→recv pairs (or a send/recv's
///    recorded peer) form chains; pp is the number of ranks in a chain.
/// 4. **the world size**: dp = world / (tp·pp·cp) when no rule gave dp. When the degrees do not
///    multiply to the world (or tp·pp·cp does not divide it) the contradiction is one more
///    evidence line and the layout falls back to dp = world, tp = pp = cp = 1.
///
/// A single rank without `distributedInfo` is dp = tp = pp = cp = 1 ("one rank").
public struct LayoutDetection: Sendable, Equatable, Codable {
  /// Why one degree is what it is.
  public struct Evidence: Sendable, Equatable, Codable {
    /// `dp`, `tp`, `pp` or `cp`.
    public var dimension: String
    public var degree: Int
    /// One line: where the degree was read (`pg_config 'TENSOR_MODEL_PARALLEL_GROUP' (ranks 0,1)`).
    public var source: String

    public init(dimension: String, degree: Int, source: String) {
      self.dimension = dimension
      self.degree = degree
      self.source = source
    }
  }

  public var layout: ParallelLayout
  /// The degrees found, in the order dp, tp, pp, cp, then any contradiction.
  public var evidence: [Evidence]
  public var worldSize: Int
  /// Where the world size came from (`distributedInfo.world_size`, `ranks in the trace`, `one rank`).
  public var worldSizeSource: String

  public init(layout: ParallelLayout, evidence: [Evidence], worldSize: Int, worldSizeSource: String) {
    self.layout = layout
    self.evidence = evidence
    self.worldSize = worldSize
    self.worldSizeSource = worldSizeSource
  }

  /// JSON: the degrees flat (`dp`, `tp`, `pp`, `cp`), then `worldSize`, `worldSizeSource`, `evidence`.
  enum CodingKeys: String, CodingKey { case dp, tp, pp, cp, worldSize, worldSizeSource, evidence }

  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    layout = ParallelLayout(
      dp: try c.decode(Int.self, forKey: .dp), tp: try c.decode(Int.self, forKey: .tp),
      pp: try c.decode(Int.self, forKey: .pp), cp: try c.decode(Int.self, forKey: .cp))
    worldSize = try c.decode(Int.self, forKey: .worldSize)
    worldSizeSource = try c.decode(String.self, forKey: .worldSizeSource)
    evidence = try c.decode([Evidence].self, forKey: .evidence)
  }

  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(layout.dp, forKey: .dp)
    try c.encode(layout.tp, forKey: .tp)
    try c.encode(layout.pp, forKey: .pp)
    try c.encode(layout.cp, forKey: .cp)
    try c.encode(worldSize, forKey: .worldSize)
    try c.encode(worldSizeSource, forKey: .worldSizeSource)
    try c.encode(evidence, forKey: .evidence)
  }

  /// The layout `graph` was recorded with (rules in the type's documentation). Never fails: what
  /// the trace does not tell is 1, and a contradiction falls back to dp = world.
  public static func detect(_ graph: EventGraph) -> LayoutDetection {
    let (world, worldSource) = worldSize(graph)
    guard world > 1 else {
      return LayoutDetection(
        layout: ParallelLayout(), evidence: [Evidence(dimension: "dp", degree: 1, source: "one rank")],
        worldSize: 1, worldSizeSource: worldSource)
    }
    let groups = ProcessGroups(graph)
    var found = Found()
    described(graph, groups: groups, into: &found)
    let chains = pipelineChains(graph)
    if found.pp == nil, let chain = chains.first {
      let more = chains.count > 1 ? " and \(chains.count - 1) more chain(s)" : ""
      found.set(
        "pp", chain.ranks.count, "send/recv pairs between ranks \(arrow(chain.ranks)) (\(chain.pairs) pairs)\(more)")
      if let other = chains.first(where: { $0.ranks.count != chain.ranks.count }) {
        found.conflicts.append(
          "pipeline chains differ in length (ranks \(arrow(chain.ranks)), ranks \(arrow(other.ranks)))")
      }
    }
    undescribed(groups, world: world, skipping: Set(chains.map { Set($0.ranks) }), into: &found)
    return combine(found, world: world, worldSource: worldSource)
  }

  /// The layout a run uses: `recorded` (`--recorded dp=…,tp=…,pp=…`) when given, else the one
  /// `detect(_:)` finds.
  /// - Throws: `LayoutError` (a usage error) when `recorded` does not multiply to the world size.
  public static func resolve(graph: EventGraph, recorded: ParallelLayout?) throws -> LayoutDetection {
    let detected = detect(graph)
    guard let recorded else { return detected }
    guard recorded.worldSize == detected.worldSize else {
      throw LayoutError(
        message:
          "--recorded \(recorded): dp·tp·pp·cp = \(recorded.worldSize), but the trace's world size is "
          + "\(detected.worldSize) (\(detected.worldSizeSource))")
    }
    let source = "--recorded (the trace suggests \(detected.layout))"
    let degrees = [("dp", recorded.dp), ("tp", recorded.tp), ("pp", recorded.pp), ("cp", recorded.cp)]
    return LayoutDetection(
      layout: recorded, evidence: degrees.map { Evidence(dimension: $0.0, degree: $0.1, source: source) },
      worldSize: detected.worldSize, worldSizeSource: detected.worldSizeSource)
  }

  // MARK: Rules

  /// The degrees found so far, with their sources, and the contradictions met.
  struct Found {
    var degrees: [String: (degree: Int, source: String)] = [:]
    var conflicts: [String] = []
    var pp: Int? { degrees["pp"]?.degree }

    mutating func set(_ dimension: String, _ degree: Int, _ source: String) {
      if degrees[dimension] == nil { degrees[dimension] = (degree, source) }
    }
  }

  /// The world size and where it came from.
  static func worldSize(_ graph: EventGraph) -> (Int, String) {
    if let recorded = graph.ranks.compactMap(\.worldSize).max(), recorded > 0 {
      return (recorded, "distributedInfo.world_size")
    }
    let highest = graph.ranks.map { Int($0.rank.rawValue) }.max() ?? 0
    let n = max(graph.ranks.count, highest + 1)
    if n <= 1 { return (1, "one rank") }
    return graph.ranks.count == n ? (n, "ranks in the trace") : (n, "highest rank in the trace + 1")
  }

  /// The parallel dimension a `pg_desc` names (rule 1's table, case-insensitive): `tp`, `pp`,
  /// `cp`, `dp`, `dp_cp` (a DP·CP group), `dp_replicate` or `dp_shard` (factors of DP); nil for
  /// any other description (`default_pg`, `EMBEDDING_GROUP`, `TENSOR_AND_DATA_PARALLEL_GROUP`, …).
  public static func dimension(ofDescription description: String) -> String? {
    let d = description.uppercased()
    let megatron = [
      "TENSOR_MODEL_PARALLEL_GROUP": "tp", "PIPELINE_MODEL_PARALLEL_GROUP": "pp", "CONTEXT_PARALLEL_GROUP": "cp",
      "DATA_PARALLEL_GROUP": "dp", "DATA_PARALLEL_GROUP_WITH_CP": "dp_cp",
    ]
    let base = d.hasSuffix("_GLOO") ? String(d.dropLast(5)) : d
    if let k = megatron[base] { return k }
    guard d.hasPrefix("MESH_") else { return nil }
    let dim = d.dropFirst(5).lowercased()
    return ["tp", "pp", "cp", "dp", "dp_cp", "dp_replicate", "dp_shard"].contains(dim) ? dim : nil
  }

  /// Rule 1: the groups `pg_config` describes.
  static func described(_ graph: EventGraph, groups: ProcessGroups, into found: inout Found) {
    var configs: [String: ProcessGroupConfig] = [:]
    for r in graph.ranks.sorted(by: { $0.rank < $1.rank }) {
      for pg in r.processGroups where configs[pg.name] == nil { configs[pg.name] = pg }
    }
    var byKind: [String: [(desc: String, ranks: [Int32], size: Int)]] = [:]
    for c in configs.values.sorted(by: { ($0.ranks.first ?? 0, $0.name) < ($1.ranks.first ?? 0, $1.name) }) {
      guard let k = dimension(ofDescription: c.description) else { continue }
      let size = c.ranks.isEmpty ? (groups.named(c.name).first?.size ?? 0) : c.ranks.count
      if size > 0 { byKind[k, default: []].append((c.description, c.ranks, size)) }
    }
    var sizes: [String: (Int, String)] = [:]
    for (k, list) in byKind.sorted(by: { $0.key < $1.key }) {
      let first = list[0]
      let distinct = Set(list.map(\.size)).sorted()
      if distinct.count > 1 {
        found.conflicts.append("pg_config '\(first.desc)' groups differ in size (\(list.count) groups of \(distinct))")
      }
      let ranks = first.ranks.isEmpty ? "\(first.size) ranks" : "ranks \(rankList(first.ranks))"
      let more = list.count > 1 ? ", \(list.count) groups" : ""
      sizes[k] = (first.size, "pg_config '\(first.desc)' (\(ranks)\(more))")
    }
    for k in ["tp", "pp", "cp", "dp"] { if let s = sizes[k] { found.set(k, s.0, s.1) } }
    if found.degrees["dp"] == nil, let r = sizes["dp_replicate"] ?? sizes["dp_shard"] {
      let s = sizes["dp_shard"] ?? (1, "")
      let both = sizes["dp_replicate"] != nil && sizes["dp_shard"] != nil
      found.set("dp", both ? r.0 * s.0 : r.0, both ? "\(r.1) × \(s.1)" : r.1)
    }
    if found.degrees["dp"] == nil, let dc = sizes["dp_cp"] {
      let cp = found.degrees["cp"]?.degree ?? 1
      if dc.0 % cp == 0 {
        found.set("dp", dc.0 / cp, "\(dc.1) over CP = \(cp)")
      } else {
        found.conflicts.append("\(dc.1) is DP·CP = \(dc.0), not a multiple of CP = \(cp)")
      }
    }
  }

  /// Rule 2: the collectives' groups no description names, smaller than the world, outside the
  /// pipeline chains: consecutive ranks → tp, strided → dp.
  static func undescribed(
    _ groups: ProcessGroups, world: Int, skipping chains: Set<Set<Int>>, into found: inout Found
  ) {
    let candidates = groups.groups.filter { g in
      (g.description.isEmpty || g.description == "default_pg") && g.ranks.count >= 2 && g.ranks.count == g.size
        && g.size < world && !chains.contains(Set(g.ranks.map(Int.init)))
    }
    for (dimension, consecutive) in [("tp", true), ("dp", false)] where found.degrees[dimension] == nil {
      let picked = candidates.filter { ProcessGroups.isConsecutive($0.ranks) == consecutive }
      guard let first = picked.first else { continue }
      let shape = consecutive ? "consecutive" : "strided"
      let sizes = Set(picked.map(\.size)).sorted()
      if sizes.count > 1 {
        found.conflicts.append("the \(shape) process groups differ in size (\(sizes))")
      }
      let more = picked.count > 1 ? " and \(picked.count - 1) more" : ""
      found.set(
        dimension, first.size, "collectives on \(shape) group '\(first.name)' (ranks \(rankList(first.ranks)))\(more)")
    }
  }

  /// One pipeline chain: ranks joined by send/recv pairs, and how many pairs join them.
  struct Chain: Equatable {
    var ranks: [Int]
    var pairs: Int
  }

  /// Rule 3: the ranks joined by send/recv (a matched pair, or a recorded peer), as connected
  /// components of two or more ranks, by lowest rank.
  static func pipelineChains(_ graph: EventGraph) -> [Chain] {
    var parent: [Int: Int] = [:]
    func root(_ x: Int) -> Int {
      var x = x
      while let p = parent[x], p != x { x = p }
      return x
    }
    var links: [(Int, Int)] = []
    for p in graph.p2p {
      let me = Int(graph.rank(of: p.event.index).rawValue)
      guard let other = p.match.map({ Int(graph.rank(of: $0.index).rawValue) }) ?? p.peer.map({ Int($0.rawValue) }),
        other != me, p.isSend || p.match == nil
      else { continue }
      links.append((me, other))
      for x in [me, other] where parent[x] == nil { parent[x] = x }
      let (a, b) = (root(me), root(other))
      if a != b { parent[max(a, b)] = min(a, b) }
    }
    var members: [Int: [Int]] = [:]
    var pairs: [Int: Int] = [:]
    for x in parent.keys.sorted() { members[root(x), default: []].append(x) }
    for (a, _) in links { pairs[root(a), default: 0] += 1 }
    return members.sorted { $0.key < $1.key }.map { Chain(ranks: $0.value, pairs: pairs[$0.key] ?? 0) }
  }

  /// Rule 4: dp from the world size, the contradictions checked, the evidence in order.
  static func combine(_ found: Found, world: Int, worldSource: String) -> LayoutDetection {
    let d = found.degrees
    let tp = d["tp"]?.degree ?? 1
    let pp = d["pp"]?.degree ?? 1
    let cp = d["cp"]?.degree ?? 1
    let others = tp * pp * cp
    var evidence: [Evidence] = []
    var conflicts = found.conflicts
    var dp = d["dp"]?.degree ?? 0
    if let given = d["dp"] {
      evidence.append(Evidence(dimension: "dp", degree: given.degree, source: given.source))
      if given.degree * others != world {
        conflicts.append("DP·TP·PP·CP = \(given.degree * others) is not the world size \(world)")
      }
    } else if world % others == 0 {
      dp = world / others
      evidence.append(Evidence(dimension: "dp", degree: dp, source: "world size \(world) over TP·PP·CP = \(others)"))
    } else {
      conflicts.append("TP·PP·CP = \(others) does not divide the world size \(world)")
    }
    for k in ["tp", "pp", "cp"] {
      if let v = d[k] { evidence.append(Evidence(dimension: k, degree: v.degree, source: v.source)) }
    }
    var layout = ParallelLayout(dp: dp, tp: tp, pp: pp, cp: cp)
    if !conflicts.isEmpty {
      layout = ParallelLayout(dp: world)
      let why = conflicts.joined(separator: "; ")
      evidence.append(
        Evidence(dimension: "dp", degree: world, source: "contradiction: \(why); falling back to dp = world"))
    }
    return LayoutDetection(layout: layout, evidence: evidence, worldSize: world, worldSizeSource: worldSource)
  }

  /// `0,1,2,3` (the first 8, then `…`).
  static func rankList(_ ranks: [Int32]) -> String {
    let shown = ranks.prefix(8).map(String.init).joined(separator: ",")
    return ranks.count > 8 ? shown + ",…(\(ranks.count))" : shown
  }

  /// `0→1→2` (the first 8, then `…`).
  static func arrow(_ ranks: [Int]) -> String {
    let shown = ranks.prefix(8).map(String.init).joined(separator: "→")
    return ranks.count > 8 ? shown + "→…(\(ranks.count))" : shown
  }
}

extension LayoutDetection {
  /// `dp=8,tp=1,pp=1,cp=1 (world size 8 from distributedInfo.world_size)`, or `(one rank)`.
  public var summary: String {
    worldSizeSource == "one rank"
      ? "\(layout) (one rank)" : "\(layout) (world size \(worldSize) from \(worldSizeSource))"
  }
}

/// A `--recorded` layout that does not fit the trace: the CLI exits 64 with its one line.
public struct LayoutError: Error, CustomStringConvertible, Sendable, Equatable {
  public var message: String
  public var description: String { message }
  public init(message: String) { self.message = message }
}
