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
/// is known. Clock offsets are the median, over complete instances, of each rank's collective
/// end time minus the reference rank's (NCCL collectives end together on all ranks).
public struct MultiRankLinker: Sendable {
  /// Offsets below this are treated as the same clock and not applied (ns).
  public var clockSkewThreshold: Int64 = 20_000

  public init() {}

  public func link(_ graph: EventGraph, diagnostics: inout Diagnostics) -> (EventGraph, LinkSummary) {
    var b = graph.toBuilder()
    var summary = LinkSummary()
    let rankSet = Set(graph.ranks.map(\.rank))
    let loadedRanks = rankSet.count
    let worldSize = graph.ranks.compactMap(\.worldSize).max()

    // Per (group, rank): collectives in start order.
    struct GroupRank: Hashable { var group: NameID; var rank: RankID }
    var perGroupRank: [GroupRank: [Int]] = [:]
    for (i, c) in b.collectives.enumerated() {
      let r = graph.rank(of: c.event.index)
      perGroupRank[GroupRank(group: c.group, rank: r), default: []].append(i)
    }
    for key in perGroupRank.keys.sorted(by: { ($0.group, $0.rank) < ($1.group, $1.rank) }) {
      let list = perGroupRank[key]!.sorted {
        let a = b.collectives[$0].event.index, c = b.collectives[$1].event.index
        return (b.start[a], a) < (b.start[c], c)
      }
      // Sequence metadata from the trace wins when every call of the group on this rank has it.
      let traced = list.allSatisfy { b.collectives[$0].hasTraceSequence }
      if !traced {
        for (seq, i) in list.enumerated() {
          b.collectives[i].sequence = Int32(seq)
          b.collectives[i].hasTraceSequence = false
        }
      }
      perGroupRank[key] = list
    }
    // Instances keyed by (group, sequence), members ordered by rank.
    struct InstanceKey: Hashable, Comparable {
      var group: NameID; var sequence: Int32
      static func < (l: Self, r: Self) -> Bool { (l.group, l.sequence) < (r.group, r.sequence) }
    }
    var members: [InstanceKey: [Int]] = [:]
    for key in perGroupRank.keys.sorted(by: { ($0.group, $0.rank) < ($1.group, $1.rank) }) {
      for i in perGroupRank[key]! {
        members[InstanceKey(group: key.group, sequence: b.collectives[i].sequence), default: []].append(i)
      }
    }
    var kindMismatch = 0
    var incompleteByGroup: [NameID: Int] = [:]
    for key in members.keys.sorted() {
      let recs = members[key]!
      var expected = recs.map { Int(b.collectives[$0].groupSize) }.max() ?? 0
      if expected <= 0 { expected = key.group == b.strings.lookup("default") ? (worldSize ?? loadedRanks) : loadedRanks }
      let kinds = Set(recs.map { b.collectives[$0].kind }.filter { $0 != .unknown })
      if kinds.count > 1 { kindMismatch += 1 }
      let kind = kinds.count == 1 ? kinds.first! : (kinds.isEmpty ? .unknown : b.collectives[recs[0]].kind)
      let id = CollectiveInstanceID(b.instances.count)
      let evs = recs.map { b.collectives[$0].event }
      b.instances.append(CollectiveInstance(kind: kind, group: key.group, sequence: key.sequence, members: evs, expectedSize: expected))
      for i in recs { b.collectives[i].instance = id }
      for m in evs.dropFirst() { b.addEdge(from: m, to: evs[0], kind: .collective) }
      summary.collectiveInstances += 1
      summary.instancesByKind[kind, default: 0] += 1
      if evs.count >= expected {
        summary.matchedInstances += 1
      } else {
        summary.unmatchedInstances += 1
        incompleteByGroup[key.group, default: 0] += 1
      }
    }
    if kindMismatch > 0 {
      diagnostics.warning("link.kindMismatch", "collective instances whose ranks disagree on the operation (matched by order; check that all ranks traced the same steps)",
                          count: kindMismatch)
    }
    for (group, n) in incompleteByGroup.sorted(by: { $0.key < $1.key }) {
      let gname = b.strings[group]
      let partial = worldSize.map { $0 > loadedRanks ? " (partial world: \(loadedRanks) of \($0) ranks loaded)" : "" } ?? ""
      diagnostics.warning("link.unmatchedCollective", "collective instances of group '\(gname)' lack participants\(partial)", count: n)
    }

    // Send/recv pairs.
    struct Pair: Hashable { var src: RankID; var dst: RankID }
    var sends: [Pair: [Int]] = [:]
    var recvs: [Pair: [Int]] = [:]
    var unknownPeer = 0
    for (i, p) in b.p2p.enumerated() {
      let r = graph.rank(of: p.event.index)
      guard let peer = p.peer else { unknownPeer += 1; continue }
      if p.isSend { sends[Pair(src: r, dst: peer), default: []].append(i) } else { recvs[Pair(src: peer, dst: r), default: []].append(i) }
    }
    for pair in sends.keys.sorted(by: { ($0.src, $0.dst) < ($1.src, $1.dst) }) {
      let s = sends[pair]!.sorted { b.start[b.p2p[$0].event.index] < b.start[b.p2p[$1].event.index] }
      let r = (recvs[pair] ?? []).sorted { b.start[b.p2p[$0].event.index] < b.start[b.p2p[$1].event.index] }
      for k in 0..<min(s.count, r.count) {
        b.p2p[s[k]].match = b.p2p[r[k]].event
        b.p2p[r[k]].match = b.p2p[s[k]].event
        b.addEdge(from: b.p2p[s[k]].event, to: b.p2p[r[k]].event, kind: .p2p)
        summary.p2pPairs += 1
      }
    }
    summary.p2pUnmatched = b.p2p.filter { $0.match == nil }.count
    if summary.p2pUnmatched > 0 {
      let why = unknownPeer > 0 ? " (\(unknownPeer) without a peer rank in the trace)" : ""
      diagnostics.warning("link.unmatchedP2P", "send/recv events have no matching partner\(why)", count: summary.p2pUnmatched)
    }

    // Clock offsets from complete instances.
    let ref = rankSet.min()
    var diffs: [RankID: [Int64]] = [:]
    for inst in b.instances where inst.members.count >= 2 && inst.members.count >= inst.expectedSize {
      guard let refEvent = inst.members.first(where: { graph.rank(of: $0.index) == ref }) else { continue }
      let refEnd = b.start[refEvent.index] + b.duration[refEvent.index]
      for m in inst.members {
        let r = graph.rank(of: m.index)
        if r != ref { diffs[r, default: []].append(b.start[m.index] + b.duration[m.index] - refEnd) }
      }
    }
    for r in rankSet.sorted() {
      var d = diffs[r] ?? []
      d.sort()
      summary.clockOffsets[r] = d.isEmpty ? 0 : -d[(d.count - 1) / 2]
    }
    if summary.clockOffsets.values.contains(where: { abs($0) >= clockSkewThreshold }) {
      summary.clockAligned = true
      for e in 0..<b.eventCount {
        let off = summary.clockOffsets[graph.rank(of: e)] ?? 0
        b.start[e] += off
      }
      for i in b.steps.indices {
        let off = summary.clockOffsets[b.steps[i].rank] ?? 0
        b.steps[i].start.rawValue += off
        b.steps[i].end.rawValue += off
      }
      for i in b.ranks.indices { b.ranks[i].clockOffset = Nanoseconds(summary.clockOffsets[b.ranks[i].rank] ?? 0) }
      let shown = summary.clockOffsets.sorted { $0.key < $1.key }.filter { $0.value != 0 }
        .map { "rank \($0.key): \($0.value) ns" }.joined(separator: ", ")
      diagnostics.warning("link.clockSkew", "rank clocks disagree; aligned on collective end times (\(shown))")
    }
    var spreads: [Int64] = []
    for inst in b.instances where inst.members.count >= 2 && inst.members.count >= inst.expectedSize {
      let ends = inst.members.map { b.start[$0.index] + b.duration[$0.index] }
      spreads.append(ends.max()! - ends.min()!)
    }
    spreads.sort()
    summary.maxEndSpreadNs = spreads.last ?? 0
    summary.medianEndSpreadNs = spreads.isEmpty ? 0 : spreads[(spreads.count - 1) / 2]
    return (b.build(), summary)
  }
}
