import TraceModel

/// What cross-rank linking found: counts for the ingest summary.
public struct LinkSummary: Sendable, Equatable {
  public var collectiveInstances = 0
  public var matchedInstances = 0
  public var unmatchedInstances = 0
  public var instancesByKind: [CollectiveKind: Int] = [:]
  public var p2pPairs = 0
  public var p2pUnmatched = 0
  /// Estimated offset per rank (ns added to that rank's timestamps), relative to the lowest rank.
  public var clockOffsets: [RankID: Int64] = [:]
  /// Whether the offsets were applied (they are when any exceeds `clockSkewThreshold`).
  public var clockAligned = false
  /// Over complete instances, after alignment: largest spread of member end times.
  public var maxEndSpreadNs: Int64 = 0
  /// Median of that spread.
  public var medianEndSpreadNs: Int64 = 0
  public init() {}
}

/// Links the ranks of a multi-rank graph: collective instances, send/recv pairs, clocks.
///
/// Collectives are matched per process group by sequence: the trace's `Seq` numbers when every
/// call of the group on a rank has one, else per-group order — the k-th call of a group on
/// each rank forms instance k (as HTA and Chakra's trace linker do). An instance is complete when every rank of
/// the group is present; partial worlds (sampled ranks) leave instances incomplete, counted
/// and reported. Sends match receives in order per (source, destination) pair when the peer
/// is known. Clock offsets are the median, over complete instances on device streams, of each
/// rank's collective end time minus the reference rank's (NCCL collectives end together on all
/// ranks; gloo's host-side ones do not).
public struct MultiRankLinker: Sendable {
  /// Offsets below this are treated as the same clock and not applied (ns).
  public var clockSkewThreshold: Int64 = 20_000

  public init() {}

  /// Links the ranks of `graph`: collective instances (`collective` edges to each instance's
  /// first member), send → recv pairs (`p2p` edges) and, when ranks' clocks disagree by at least
  /// `clockSkewThreshold`, aligned start times.
  public func link(_ graph: EventGraph, diagnostics: inout Diagnostics) -> (EventGraph, LinkSummary) {
    var b = graph.toBuilder()
    var summary = LinkSummary()
    let ranks = Set(graph.ranks.map(\.rank))
    let world = World(loadedRanks: ranks.count, size: graph.ranks.compactMap(\.worldSize).max())
    let perGroupRank = Self.sequenceCollectives(graph, in: &b)
    let collectives = Self.formInstances(perGroupRank, world: world, in: &b)
    summary.collectiveInstances = collectives.instances
    summary.instancesByKind = collectives.byKind
    summary.matchedInstances = collectives.matched
    summary.unmatchedInstances = collectives.instances - collectives.matched
    Self.report(collectives, world: world, strings: b.strings, diagnostics: &diagnostics)
    let p2p = Self.matchSendsAndReceives(graph, in: &b)
    summary.p2pPairs = p2p.pairs
    summary.p2pUnmatched = b.p2p.filter { $0.match == nil }.count
    if summary.p2pUnmatched > 0 {
      let why = p2p.unknownPeer > 0 ? " (\(p2p.unknownPeer) without a peer rank in the trace)" : ""
      diagnostics.warning(
        "link.unmatchedP2P", "send/recv events have no matching partner\(why)",
        count: summary.p2pUnmatched)
    }
    summary.clockOffsets = Self.clockOffsets(graph, ranks: ranks, in: b)
    if summary.clockOffsets.values.contains(where: { abs($0) >= clockSkewThreshold }) {
      summary.clockAligned = true
      Self.apply(summary.clockOffsets, graph, to: &b)
      let shown = summary.clockOffsets.sorted { $0.key < $1.key }.filter { $0.value != 0 }
        .map { "rank \($0.key): \($0.value) ns" }.joined(separator: ", ")
      diagnostics.warning("link.clockSkew", "rank clocks disagree; aligned on collective end times (\(shown))")
    }
    let spreads = Self.endSpreads(in: b)
    summary.maxEndSpreadNs = spreads.last ?? 0
    summary.medianEndSpreadNs = spreads.isEmpty ? 0 : spreads[(spreads.count - 1) / 2]
    return (b.build(), summary)
  }

  /// The ranks loaded and the world size the traces state.
  struct World {
    var loadedRanks: Int
    var size: Int?
  }

  /// A process group on one rank.
  struct GroupRank: Hashable {
    var group: NameID
    var rank: RankID
  }

  /// Each (group, rank)'s collectives in start order, by (group, rank); numbers each list in that
  /// order unless every call of the group on the rank has a sequence number from the trace.
  static func sequenceCollectives(_ graph: EventGraph, in b: inout EventGraph.Builder) -> [(GroupRank, [Int])] {
    var perGroupRank: [GroupRank: [Int]] = [:]
    for (i, c) in b.collectives.enumerated() {
      perGroupRank[GroupRank(group: c.group, rank: graph.rank(of: c.event.index)), default: []].append(i)
    }
    let sorted = perGroupRank.sorted { ($0.key.group, $0.key.rank) < ($1.key.group, $1.key.rank) }
    return sorted.map { key, calls in
      let list = calls.sorted {
        let a = b.collectives[$0].event.index
        let c = b.collectives[$1].event.index
        return (b.start[a], a) < (b.start[c], c)
      }
      // Sequence metadata from the trace wins when every call of the group on this rank has it.
      if !list.allSatisfy({ b.collectives[$0].hasTraceSequence }) {
        for (seq, i) in list.enumerated() {
          b.collectives[i].sequence = Int32(seq)
          b.collectives[i].hasTraceSequence = false
        }
      }
      return (key, list)
    }
  }

  /// What forming the collective instances found.
  struct CollectiveMatch {
    var instances = 0
    var matched = 0
    var byKind: [CollectiveKind: Int] = [:]
    /// Instances whose ranks disagree on the operation.
    var kindMismatch = 0
    /// Incomplete instances per group.
    var incompleteByGroup: [NameID: Int] = [:]
  }

  /// One instance per (group, sequence), members in rank order, each linked to the first member.
  static func formInstances(_ perGroupRank: [(GroupRank, [Int])], world: World, in b: inout EventGraph.Builder)
    -> CollectiveMatch
  {
    struct InstanceKey: Hashable, Comparable {
      var group: NameID
      var sequence: Int32
      static func < (l: Self, r: Self) -> Bool { (l.group, l.sequence) < (r.group, r.sequence) }
    }
    var members: [InstanceKey: [Int]] = [:]
    for (key, list) in perGroupRank {
      for i in list {
        members[InstanceKey(group: key.group, sequence: b.collectives[i].sequence), default: []].append(i)
      }
    }
    var match = CollectiveMatch()
    let defaultGroup = b.strings.lookup("default")
    for (key, recs) in members.sorted(by: { $0.key < $1.key }) {
      var expected = recs.map { Int(b.collectives[$0].groupSize) }.max() ?? 0
      if expected <= 0 { expected = key.group == defaultGroup ? (world.size ?? world.loadedRanks) : world.loadedRanks }
      let kinds = Set(recs.map { b.collectives[$0].kind }.filter { $0 != .unknown })
      if kinds.count > 1 { match.kindMismatch += 1 }
      let kind = kinds.count == 1 ? kinds.first ?? .unknown : (kinds.isEmpty ? .unknown : b.collectives[recs[0]].kind)
      let id = CollectiveInstanceID(b.instances.count)
      let evs = recs.map { b.collectives[$0].event }
      b.instances.append(
        CollectiveInstance(
          kind: kind, group: key.group, sequence: key.sequence, members: evs,
          expectedSize: expected))
      for i in recs { b.collectives[i].instance = id }
      for m in evs.dropFirst() { b.addEdge(from: m, to: evs[0], kind: .collective) }
      match.instances += 1
      match.byKind[kind, default: 0] += 1
      if evs.count >= expected {
        match.matched += 1
      } else {
        match.incompleteByGroup[key.group, default: 0] += 1
      }
    }
    return match
  }

  /// Warns about instances whose ranks disagree on the operation and groups with incomplete
  /// instances.
  static func report(_ match: CollectiveMatch, world: World, strings: StringTable, diagnostics: inout Diagnostics) {
    if match.kindMismatch > 0 {
      diagnostics.warning(
        "link.kindMismatch",
        "collective instances whose ranks disagree on the operation "
          + "(matched by order; check that all ranks traced the same steps)",
        count: match.kindMismatch)
    }
    for (group, n) in match.incompleteByGroup.sorted(by: { $0.key < $1.key }) {
      let partial =
        world.size.map {
          $0 > world.loadedRanks ? " (partial world: \(world.loadedRanks) of \($0) ranks loaded)" : ""
        } ?? ""
      diagnostics.warning(
        "link.unmatchedCollective",
        "collective instances of group '\(strings[group])' lack participants\(partial)", count: n)
    }
  }

  /// Pairs sends with receives in start order per (source, destination), when the peer is known.
  static func matchSendsAndReceives(_ graph: EventGraph, in b: inout EventGraph.Builder)
    -> (pairs: Int, unknownPeer: Int)
  {
    struct Pair: Hashable {
      var src: RankID
      var dst: RankID
    }
    var sends: [Pair: [Int]] = [:]
    var recvs: [Pair: [Int]] = [:]
    var unknownPeer = 0
    for (i, p) in b.p2p.enumerated() {
      let r = graph.rank(of: p.event.index)
      guard let peer = p.peer else {
        unknownPeer += 1
        continue
      }
      if p.isSend {
        sends[Pair(src: r, dst: peer), default: []].append(i)
      } else {
        recvs[Pair(src: peer, dst: r), default: []].append(i)
      }
    }
    var pairs = 0
    for (pair, list) in sends.sorted(by: { ($0.key.src, $0.key.dst) < ($1.key.src, $1.key.dst) }) {
      let s = list.sorted { b.start[b.p2p[$0].event.index] < b.start[b.p2p[$1].event.index] }
      let r = (recvs[pair] ?? []).sorted { b.start[b.p2p[$0].event.index] < b.start[b.p2p[$1].event.index] }
      for k in 0..<min(s.count, r.count) {
        b.p2p[s[k]].match = b.p2p[r[k]].event
        b.p2p[r[k]].match = b.p2p[s[k]].event
        b.addEdge(from: b.p2p[s[k]].event, to: b.p2p[r[k]].event, kind: .p2p)
        pairs += 1
      }
    }
    return (pairs, unknownPeer)
  }

  /// Each rank's clock offset (ns to add to its times): the median, over complete instances on
  /// device streams, of the lowest rank's collective end minus the rank's; 0 for the lowest rank.
  /// Host-side collectives (gloo on worker threads) are left out: their ranks leave the ring one
  /// after another, so their ends do not line up the way NCCL kernels' do.
  static func clockOffsets(_ graph: EventGraph, ranks: Set<RankID>, in b: EventGraph.Builder) -> [RankID: Int64] {
    let ref = ranks.min()
    var diffs: [RankID: [Int64]] = [:]
    let onDevice = { (e: EventID) in graph.lanes[graph.lane[e.index].index].kind == .deviceStream }
    for inst in b.instances
    where inst.members.count >= 2 && inst.members.count >= inst.expectedSize && inst.members.allSatisfy(onDevice) {
      guard let refEvent = inst.members.first(where: { graph.rank(of: $0.index) == ref }) else { continue }
      let refEnd = b.start[refEvent.index] + b.duration[refEvent.index]
      for m in inst.members {
        let r = graph.rank(of: m.index)
        if r != ref { diffs[r, default: []].append(b.start[m.index] + b.duration[m.index] - refEnd) }
      }
    }
    var offsets: [RankID: Int64] = [:]
    for r in ranks.sorted() {
      let d = (diffs[r] ?? []).sorted()
      offsets[r] = d.isEmpty ? 0 : -d[(d.count - 1) / 2]
    }
    return offsets
  }

  /// Shifts every event, step and rank record by its rank's clock offset.
  static func apply(_ offsets: [RankID: Int64], _ graph: EventGraph, to b: inout EventGraph.Builder) {
    for e in 0..<b.eventCount { b.start[e] += offsets[graph.rank(of: e)] ?? 0 }
    for i in b.steps.indices {
      let off = offsets[b.steps[i].rank] ?? 0
      b.steps[i].start.rawValue += off
      b.steps[i].end.rawValue += off
    }
    for i in b.ranks.indices { b.ranks[i].clockOffset = Nanoseconds(offsets[b.ranks[i].rank] ?? 0) }
  }

  /// Over complete instances, the spread of their members' end times (ns), ascending.
  static func endSpreads(in b: EventGraph.Builder) -> [Int64] {
    var spreads: [Int64] = []
    for inst in b.instances where inst.members.count >= 2 && inst.members.count >= inst.expectedSize {
      let ends = inst.members.map { b.start[$0.index] + b.duration[$0.index] }
      if let last = ends.max(), let first = ends.min() { spreads.append(last - first) }
    }
    return spreads.sorted()
  }
}
