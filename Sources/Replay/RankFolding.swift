import TraceModel

/// Symmetric-rank folding: ranks whose event sequences match (data-parallel replicas) are
/// replayed once per equivalence class; every other rank of a class is *folded* into the class's
/// representative (its latest rank at the barriers, `slowestFirst`) and keeps its measured spread
/// as jitter (docs/replay.md, Symmetric-rank folding).
///
/// Two ranks are symmetric when they have the same lanes (kind, device index relative to the
/// rank's first, stream name) in the same order, and lane by lane the same events in replay
/// order: kind, name, replay role, barrier membership (collective kind, process group, member
/// count) and the same launch and synchronize sources (lane and position). Durations and start
/// times may differ, and so may the waits the plan infers from timing. Each rank's shape is
/// digested once (O(events)); ranks with equal digests are compared field by field, so a digest
/// collision cannot fold unequal ranks.
///
/// Event `x` of a folded rank stands for the representative's event `c` at the same lane and
/// position (`counterpart`). The folded replay (`Replayer.replay(_:folding:)`) first advances the
/// representatives' lanes only. Each collective waits for its representatives' members and for
/// every folded member (of it, or of an instance of folded ranks whose members map onto it),
/// which arrives as the engine would let it from the folded rank's own lags and its launch's
/// time estimated from the representative's timeline plus the measured jitter (`foldedArrival`,
/// `foldedStart`): the slowest replica still decides when a collective ends. Then the folded
/// ranks' lanes are advanced by the engine's own rules, passing their collectives as completed
/// barriers (`unfold`). Only the folded members' arrival times are estimated.
///
/// Folding must map instances onto instances: every instance's members map onto the members of
/// a single instance (its own for data-parallel all-reduces). Ranks of an instance that does
/// not are replayed themselves (unfolded), until every instance maps.
///
/// - Complexity: O(events + barrier members) to build.
public struct RankFolding: Sendable, Equatable {
  /// Ranks in the graph.
  public let rankCount: Int
  /// The equivalence classes by lowest rank: the representative first, then the ranks folded
  /// into it in rank order.
  public let classes: [[RankID]]
  /// Ranks replayed through their representative.
  public var foldedRanks: Int { rankCount - classes.count }

  /// Per event: the representative's event it stands for (itself on a representative rank).
  let counterpart: [Int32]
  /// Per lane: whether it belongs to a folded rank (the engine does not advance it).
  let foldedLane: [Bool]
  /// Per instance: members on representative ranks, the arrivals the engine waits for (0: an
  /// instance of folded ranks only, timed from the instance it maps onto).
  let expected: [Int32]
  /// Per instance (`extraOffsets[i] ..< extraOffsets[i + 1]`): the folded members it waits for
  /// (`extraMembers`), of it or of the instances of folded ranks that map onto it.
  let extraOffsets: [Int]
  let extraMembers: [Int32]
  /// Per event: its slot in `ReplayPlan.instanceMembers`, or -1 (filled for folded members only).
  let memberSlot: [Int32]
  /// Per event: the last barrier member its lane passed or waited for (its *anchor*), or -1;
  /// and the event of its lane that passed or waited for it.
  let anchor: [Int32]
  let anchorAt: [Int32]
  /// Per event: the event that passed or waited for the anchor before this event's own waits.
  let priorAt: [Int32]
  /// Per device-work event: the device work before it on its lane, or -1.
  let previousWork: [Int32]

  /// Why nothing was folded although ranks may be symmetric (`Scenario.symmetryBreaker`).
  public private(set) var offReason: String?

  /// Folds the symmetric ranks of `plan`'s graph for a replay under `scenario`; none when the
  /// scenario has a knob that singles out ranks (`Scenario.symmetryBreaker`).
  public init(_ plan: ReplayPlan, for scenario: Scenario?) {
    let reason = scenario?.symmetryBreaker
    self.init(plan, keepSeparate: reason == nil ? [] : Set(plan.graph.lanes.map(\.rank) + plan.graph.ranks.map(\.rank)))
    offReason = reason
  }

  /// Folds the symmetric ranks of `plan`'s graph; the ranks in `keepSeparate` are never folded
  /// and never stand for others.
  public init(_ plan: ReplayPlan, keepSeparate: Set<RankID> = []) {
    let g = plan.graph
    let shape = Shape(plan)
    var classOf = Self.slowestFirst(Self.group(shape, keepSeparate: keepSeparate), plan, shape)
    var counterpart = Self.counterparts(shape, plan, classOf: classOf)
    // Unfold the ranks of instances whose members do not map onto one instance.
    while let broken = Self.unmappedRanks(plan, counterpart: counterpart, laneRank: shape.laneRank) {
      for r in broken { classOf[r] = r }
      counterpart = Self.counterparts(shape, plan, classOf: classOf)
    }
    rankCount = shape.ranks.count
    var byRep: [Int: [RankID]] = [:]
    for (i, r) in shape.ranks.enumerated() where classOf[i] != i { byRep[classOf[i], default: []].append(r) }
    classes = (0..<shape.ranks.count).filter { classOf[$0] == $0 }.map { [shape.ranks[$0]] + (byRep[$0] ?? []) }
      .sorted { ($0.min() ?? RankID(0)) < ($1.min() ?? RankID(0)) }
    let foldedRank = (0..<shape.ranks.count).map { classOf[$0] != $0 }
    foldedLane = shape.laneRank.map { foldedRank[$0] }
    self.counterpart = counterpart
    (expected, extraOffsets, extraMembers, memberSlot) = Self.instanceFolds(
      plan, counterpart: counterpart, foldedLane: foldedLane)
    (anchor, anchorAt, priorAt) = Self.anchors(plan)
    previousWork = Self.previousWork(plan)
  }

  /// Per device-work event, the device work before it on its lane, or -1.
  static func previousWork(_ plan: ReplayPlan) -> [Int32] {
    var out = [Int32](repeating: -1, count: plan.graph.eventCount)
    for l in 0..<(plan.laneOffsets.count - 1) where plan.isDeviceLane[l] {
      var last: Int32 = -1
      for k in plan.laneOffsets[l]..<plan.laneOffsets[l + 1] where plan.role[Int(plan.laneEvents[k])] == .deviceWork {
        out[Int(plan.laneEvents[k])] = last
        last = plan.laneEvents[k]
      }
    }
    return out
  }

  /// Per event, its anchor: the last barrier member its lane passed or waited for (a wait or a
  /// synchronize on a collective, this event's own included), or -1.
  static func anchors(_ plan: ReplayPlan) -> (anchor: [Int32], at: [Int32], prior: [Int32]) {
    var out = [Int32](repeating: -1, count: plan.graph.eventCount)
    var (at, prior) = (out, out)
    for l in 0..<(plan.laneOffsets.count - 1) {
      var (last, lastAt): (Int32, Int32) = (-1, -1)
      for k in plan.laneOffsets[l]..<plan.laneOffsets[l + 1] {
        let e = Int(plan.laneEvents[k])
        prior[e] = lastAt
        let (w, y) = (plan.waitFrom[e], plan.syncFrom[e])
        if w >= 0 && plan.instance[Int(w)] >= 0 { (last, lastAt) = (w, Int32(e)) }
        if y >= 0 && plan.instance[Int(y)] >= 0 { (last, lastAt) = (y, Int32(e)) }
        (out[e], at[e]) = (last, lastAt)
        if plan.instance[e] >= 0 { (last, lastAt) = (Int32(e), Int32(e)) }
      }
    }
    return (out, at, prior)
  }

  /// No folding: every rank replayed.
  public var isTrivial: Bool { foldedRanks == 0 }

  @inline(__always) func isFolded(_ e: Int, _ g: EventGraph) -> Bool { foldedLane[g.lane[e].index] }

  /// The class of every rank (index into `shape.ranks`): the index of its representative.
  static func group(_ shape: Shape, keepSeparate: Set<RankID>) -> [Int] {
    var classOf = Array(0..<shape.ranks.count)
    var reps: [Int: [Int]] = [:]
    for i in 0..<shape.ranks.count where !keepSeparate.contains(shape.ranks[i]) {
      let h = shape.hash(rank: i)
      if let rep = reps[h]?.first(where: { shape.equal($0, i) }) {
        classOf[i] = rep
      } else {
        reps[h, default: []].append(i)
      }
    }
    return classOf
  }

  /// The same classes, each represented by its latest rank to arrive at its barriers (the largest
  /// sum of measured arrival times; ties: the lowest rank): in a data-parallel job the straggler,
  /// which decides when the collectives end, is replayed itself.
  static func slowestFirst(_ classOf: [Int], _ plan: ReplayPlan, _ shape: Shape) -> [Int] {
    let g = plan.graph
    let base = g.start.min() ?? 0
    var lateness = [Double](repeating: 0, count: classOf.count)
    for m in plan.instanceMembers { lateness[shape.laneRank[g.lane[Int(m)].index]] += Double(g.start[Int(m)] - base) }
    var best: [Int: Int] = [:]
    for i in classOf.indices where lateness[i] > lateness[best[classOf[i]] ?? classOf[i]] { best[classOf[i]] = i }
    return classOf.map { best[$0] ?? $0 }
  }

  /// Per event, the event of its class representative at the same lane and position.
  static func counterparts(_ shape: Shape, _ plan: ReplayPlan, classOf: [Int]) -> [Int32] {
    var cp = (0..<Int32(plan.graph.eventCount)).map { $0 }
    for (i, rep) in classOf.enumerated() where rep != i {
      for (l, lr) in zip(shape.lanes[i], shape.lanes[rep]) {
        let (lo, hi, loR) = (plan.laneOffsets[l], plan.laneOffsets[l + 1], plan.laneOffsets[lr])
        for k in 0..<(hi - lo) { cp[Int(plan.laneEvents[lo + k])] = plan.laneEvents[loR + k] }
      }
    }
    return cp
  }

  /// The folded ranks of the instances whose members do not map onto one instance, or nil when
  /// every instance maps.
  static func unmappedRanks(_ plan: ReplayPlan, counterpart cp: [Int32], laneRank: [Int]) -> Set<Int>? {
    let g = plan.graph
    var broken = Set<Int>()
    for i in 0..<plan.instanceCount {
      let members = plan.members(of: i)
      guard let first = members.first else { continue }
      let target = plan.instance[Int(cp[Int(first)])]
      guard target < 0 || members.contains(where: { plan.instance[Int(cp[Int($0)])] != target }) else { continue }
      for m in members where cp[Int(m)] != m { broken.insert(laneRank[g.lane[Int(m)].index]) }
    }
    return broken.isEmpty ? nil : broken
  }

  /// The engine's view of the instances: how many representative members each waits for, the
  /// folded members it waits for, and each folded member's slot.
  static func instanceFolds(_ plan: ReplayPlan, counterpart cp: [Int32], foldedLane: [Bool]) -> (
    [Int32], [Int], [Int32], [Int32]
  ) {
    let g = plan.graph
    var expected = [Int32](repeating: 0, count: plan.instanceCount)
    var counts = [Int](repeating: 0, count: plan.instanceCount + 1)
    var slot = [Int32](repeating: -1, count: g.eventCount)
    for i in 0..<plan.instanceCount {
      for k in plan.instanceOffsets[i]..<plan.instanceOffsets[i + 1] {
        let m = Int(plan.instanceMembers[k])
        if foldedLane[g.lane[m].index] {
          counts[Int(plan.instance[Int(cp[m])]) + 1] += 1
          slot[m] = Int32(k)
        } else {
          expected[i] += 1
        }
      }
    }
    for i in 0..<plan.instanceCount { counts[i + 1] += counts[i] }
    var fill = counts
    var members = [Int32](repeating: 0, count: counts[plan.instanceCount])
    for i in 0..<plan.instanceCount {
      for m in plan.members(of: i) where foldedLane[g.lane[Int(m)].index] {
        let target = Int(plan.instance[Int(cp[Int(m)])])
        members[fill[target]] = m
        fill[target] += 1
      }
    }
    return (expected, counts, members, slot)
  }
}

extension RankFolding {
  /// What the replay must match between two ranks, lane by lane and event by event.
  struct Shape {
    let plan: ReplayPlan
    /// Ranks in rank order, and each rank's lanes in graph order.
    let ranks: [RankID]
    /// Per lane: the index of its rank in `ranks`.
    let laneRank: [Int]
    let lanes: [[Int]]
    /// Per lane: its index among its rank's lanes; per event: its position on its lane.
    let laneOrdinal: [Int]
    let position: [Int32]
    /// Per rank: its lowest device index (ranks of one job use different GPUs).
    let firstDevice: [Int32]
    /// Per barrier instance: its process group, member count and collective kind in one word.
    let barrierCode: [Int64]

    init(_ plan: ReplayPlan) {
      self.plan = plan
      let g = plan.graph
      ranks = Set(g.lanes.map(\.rank)).union(g.ranks.map(\.rank)).sorted()
      let rankIndex = Dictionary(uniqueKeysWithValues: ranks.enumerated().map { ($1, $0) })
      var lanes = [[Int]](repeating: [], count: ranks.count)
      var ordinal = [Int](repeating: 0, count: g.lanes.count)
      var laneRank = ordinal
      for (l, lane) in g.lanes.enumerated() {
        let r = rankIndex[lane.rank] ?? 0  // every lane's rank is in `ranks`
        (ordinal[l], laneRank[l]) = (lanes[r].count, r)
        lanes[r].append(l)
      }
      self.lanes = lanes
      self.laneRank = laneRank
      laneOrdinal = ordinal
      firstDevice = lanes.map { ls in ls.map { g.lanes[$0].device }.filter { $0 >= 0 }.min() ?? 0 }
      var position = [Int32](repeating: 0, count: g.eventCount)
      for l in 0..<g.lanes.count {
        for k in plan.laneOffsets[l]..<plan.laneOffsets[l + 1] {
          position[Int(plan.laneEvents[k])] = Int32(k - plan.laneOffsets[l])
        }
      }
      self.position = position
      barrierCode = (0..<plan.instanceCount).map { i in
        Int64(plan.instanceGroup[i].rawValue) << 24 | Int64(plan.members(of: i).count) << 8
          | Int64(plan.collectiveKind(of: i).map { Int($0.rawValue) } ?? 255)
      }
    }

    /// A dependency source as (lane ordinal, position), or -1.
    @inline(__always) func source(_ s: Int32) -> Int64 {
      s < 0 ? -1 : Int64(laneOrdinal[plan.graph.lane[Int(s)].index]) << 32 | Int64(position[Int(s)])
    }

    /// The fields of lane `l`'s header that must match.
    func laneKey(_ l: Int) -> [Int64] {
      let lane = plan.graph.lanes[l]
      let name = lane.kind == .deviceStream ? Int64(lane.name.rawValue) : -1
      let device = lane.device < 0 ? -1 : Int64(lane.device) - Int64(firstDevice[laneRank[l]])
      return [Int64(lane.kind.rawValue), device, name, Int64(plan.laneOffsets[l + 1] - plan.laneOffsets[l])]
    }

    /// The fields of event `e` that must match.
    @inline(__always) func eventKey(_ e: Int) -> EventKey {
      let g = plan.graph
      let i = Int(plan.instance[e])
      return EventKey(
        kind: g.kind[e].rawValue, role: plan.role[e].rawValue, name: g.name[e].rawValue,
        barrier: i < 0 ? -1 : barrierCode[i],
        launch: source(plan.launchFrom[e]), sync: source(plan.syncFrom[e]))
    }

    /// A 64-bit digest of rank `r`'s shape (FNV-1a over the key fields: deterministic, and cheap
    /// enough for a million events).
    func hash(rank r: Int) -> Int {
      var h: UInt64 = 0xcbf2_9ce4_8422_2325
      @inline(__always) func mix(_ v: Int64) { h = (h ^ UInt64(bitPattern: v)) &* 0x0000_0100_0000_01b3 }
      for l in lanes[r] {
        for v in laneKey(l) { mix(v) }
        for k in plan.laneOffsets[l]..<plan.laneOffsets[l + 1] {
          let key = eventKey(Int(plan.laneEvents[k]))
          mix(Int64(key.kind) << 40 | Int64(key.role) << 32 | Int64(key.name))
          mix(key.barrier)
          mix(key.launch)
          mix(key.sync)
        }
      }
      return Int(bitPattern: UInt(h))
    }

    func equal(_ a: Int, _ b: Int) -> Bool {
      guard lanes[a].count == lanes[b].count else { return false }
      for (la, lb) in zip(lanes[a], lanes[b]) {
        guard laneKey(la) == laneKey(lb) else { return false }
        let (oa, ob) = (plan.laneOffsets[la], plan.laneOffsets[lb])
        for k in 0..<(plan.laneOffsets[la + 1] - oa)
        where eventKey(Int(plan.laneEvents[oa + k])) != eventKey(Int(plan.laneEvents[ob + k])) {
          return false
        }
      }
      return true
    }
  }

  struct EventKey: Hashable {
    var kind: UInt8
    var role: UInt8
    var name: UInt32
    var barrier: Int64
    var launch: Int64
    var sync: Int64
  }
}
