import TraceModel

/// Why a replay could not finish.
public enum ReplayError: Error, Hashable, Sendable, CustomStringConvertible {
  /// Some events wait on each other (a dependency cycle, or a barrier whose members wait on
  /// work that comes after it on another lane).
  case deadlock(stuckEvents: Int, example: String)
  /// The replayed times could pass the range of Int64 nanoseconds (a trace whose times are near
  /// the importers' ±2^61 ns bound, scaled up by a what-if).
  case timeOverflow(boundNs: Double)

  public var description: String {
    switch self {
    case .deadlock(let n, let example):
      return "replay cannot proceed: \(n) events wait on each other (dependency cycle), e.g. \(example)"
    case .timeOverflow(let bound):
      return "replay cannot proceed: its times could reach \(bound) ns, past the 2^62 ns Reprise replays "
        + "(event times plus every duration, transfer and lag)"
    }
  }
}

/// The deterministic discrete-event replay engine.
///
/// Lanes advance one event at a time; an event is processed when every dependency it has on
/// other lanes is resolved (a device event needs its CPU launch to have started; a synchronize
/// call needs the device work it waits for to have ended; a barrier member needs every member
/// of its instance to have arrived). Times are a pure function of the dependencies, so the
/// order in which ready lanes are served cannot change the result: same graph, same
/// durations → the same timeline, bit for bit. See `ReplayPlan` for the timing rules.
///
/// - Complexity: O(events + dependencies) per replay.
public struct Replayer: Sendable {
  public init() {}

  /// Replays `plan` with the given per-event durations and per-instance transfer times.
  ///
  /// - Parameters:
  ///   - durations: new duration (ns) of every event; used for device work, host leaves.
  ///   - transfers: transfer time (ns) of every barrier instance of the plan.
  /// - Throws: `ReplayError.deadlock` when dependencies form a cycle.
  public func replay(_ plan: ReplayPlan, durations: [Nanoseconds], transfers: [Nanoseconds]) throws -> Timeline {
    try replay(plan, rawDurations: durations.map(\.rawValue), rawTransfers: transfers.map(\.rawValue))
  }

  /// Identity replay: measured durations and transfer times.
  public func replay(_ plan: ReplayPlan) throws -> Timeline {
    try replay(plan, rawDurations: plan.graph.duration, rawTransfers: plan.instanceTransfer.map(\.rawValue))
  }

  /// The engine works on raw nanosecond columns (the graph's own), converted once at this edge.
  /// `backup`: per instance, how many late members it does not wait for (`dp.backup`,
  /// `Scenario.backupWorkers(for:)`); empty: every instance waits for all.
  /// `folding`: replay each class of symmetric ranks once (`RankFolding`); nil or trivial: every rank.
  func replay(
    _ plan: ReplayPlan, rawDurations: [Int64], rawTransfers: [Int64], backup: [Int32] = [],
    folding: RankFolding? = nil
  ) throws -> Timeline {
    // An upper bound on every replayed time: the latest recorded start plus all the time added.
    var bound = Double(plan.graph.start.lazy.map { abs($0) }.max() ?? 0)
    for d in rawDurations { bound += Double(abs(d)) }
    for t in rawTransfers { bound += Double(abs(t)) }
    for l in plan.waitLag { bound += Double(abs(l)) }
    if bound >= 0x1p62 { throw ReplayError.timeOverflow(boundNs: bound) }
    var engine = Engine(
      plan: plan, durations: rawDurations, transfers: rawTransfers, folding: folding?.isTrivial == false ? folding : nil
    )
    engine.backup = backup
    try engine.run()
    return Timeline(start: engine.start, end: engine.end)
  }

  /// Identity replay of each class of symmetric ranks once (`RankFolding`); the folded ranks
  /// take their representative's times plus their measured offsets.
  public func replay(_ plan: ReplayPlan, folding: RankFolding?) throws -> Timeline {
    try replay(
      plan, rawDurations: plan.graph.duration, rawTransfers: plan.instanceTransfer.map(\.rawValue), folding: folding)
  }
}

/// The engine's mutable state; one per replay. Stored properties (not captured locals) keep
/// the hot loop free of boxed variables.
private struct Engine {
  let plan: ReplayPlan
  let g: EventGraph
  let durations: [Int64]
  let transfers: [Int64]
  var start: [Nanoseconds]
  var end: [Nanoseconds]
  var done: [Bool]
  var arrival: [Int64]
  var instArrived: [Int32]
  var instMax: [Int64]
  var cursor: [Int]
  var shift: [Int64]
  var prevEnd: [Int64]
  var open: [[Int32]]
  var queued: [Bool]
  var work: [Int32]
  /// Per instance: late members not waited for (backup workers); empty when none.
  var backup: [Int32] = []
  /// Symmetric ranks replayed once per class; nil: every rank.
  let folding: RankFolding?
  /// With folding, per host-thread event: how much the durations of the events before it on its
  /// lane changed (the shift the engine accumulates there, waits aside); empty otherwise.
  var drift: [Int64] = []
  /// With folding, per host-thread lane: whether its rank is CPU-only (its threads are timed by
  /// their own rules, `ownHostStart`); per event, the memo of `shiftAfter`.
  var cpuOnlyLane: [Bool] = []
  var shiftMemo: [Int64] = []

  init(plan: ReplayPlan, durations: [Int64], transfers: [Int64], folding: RankFolding?) {
    self.plan = plan
    self.folding = folding
    if folding != nil {
      drift = Self.drift(plan, durations)
      cpuOnlyLane = plan.graph.lanes.indices.map {
        !plan.isDeviceLane[$0] && plan.cpuOnlyRanks.contains(plan.graph.lanes[$0].rank)
      }
      shiftMemo = [Int64](repeating: Int64.min, count: plan.graph.eventCount)
    }
    g = plan.graph
    self.durations = durations
    self.transfers = transfers
    let n = g.eventCount
    let laneCount = plan.laneOffsets.count - 1
    start = [Nanoseconds](repeating: .zero, count: n)
    end = [Nanoseconds](repeating: .zero, count: n)
    done = [Bool](repeating: false, count: n)
    arrival = [Int64](repeating: Int64.min, count: n)
    instArrived = [Int32](repeating: 0, count: plan.instanceCount)
    instMax = [Int64](repeating: Int64.min, count: plan.instanceCount)
    cursor = plan.laneOffsets
    shift = [Int64](repeating: 0, count: laneCount)
    prevEnd = [Int64](repeating: Int64.min, count: laneCount)
    open = [[Int32]](repeating: [], count: laneCount)
    queued = [Bool](repeating: true, count: laneCount)
    // Folded ranks' lanes are never advanced (they stay marked as queued).
    work = (0..<laneCount).reversed().filter { folding?.foldedLane[$0] != true }.map { Int32($0) }
    work.reserveCapacity(laneCount * 2)
  }

  @inline(__always) mutating func enqueue(_ l: Int) {
    if !queued[l] {
      queued[l] = true
      work.append(Int32(l))
    }
  }

  @inline(__always) mutating func notify(_ u: Int) {
    let lo = plan.dependentOffsets[u]
    let hi = plan.dependentOffsets[u + 1]
    if lo == hi { return }
    for k in lo..<hi { enqueue(g.lane[Int(plan.dependents[k])].index) }
  }

  @inline(__always) mutating func closeOpen(_ l: Int, upTo s: Int64) {
    while let top = open[l].last, g.start[Int(top)] + g.duration[Int(top)] <= s {
      let t = Int(top)
      end[t] = Nanoseconds(rawValue: g.start[t] + g.duration[t] + shift[l])
      open[l].removeLast()
    }
  }

  /// Records an arrival at barrier `inst`; completes the instance when it is the last.
  ///
  /// With backup workers (`backup[inst]` = K > 0) the instance's time is decided by its
  /// (n−K)-th arrival instead of the last; it is still completed here, once every arrival is
  /// known (the engine is not time-ordered, so which members are late is known only then), and
  /// a late member ends no earlier than its own arrival.
  @inline(__always) mutating func arrive(_ e: Int, at a: Int64, instance inst: Int) {
    arrival[e] = a
    instArrived[inst] += 1
    instMax[inst] = max(instMax[inst], a)
    let lo = plan.instanceOffsets[inst]
    let hi = plan.instanceOffsets[inst + 1]
    if Int(instArrived[inst]) == (folding.map { Int($0.expected[inst]) } ?? hi - lo) {
      if let folding {
        foldedArrivals(inst, folding)
      } else if !backup.isEmpty && backup[inst] > 0 {
        // The (n−K)-th arrival stands in for the last one below.
        let times = (lo..<hi).map { arrival[Int(plan.instanceMembers[$0])] }.sorted()
        instMax[inst] = times[hi - lo - Int(backup[inst]) - 1]
      }
      let finish = instMax[inst] + transfers[inst]
      if let folding { foldedEnds(inst, folding) }
      let measured = plan.instanceTransfer[inst].rawValue
      for k in lo..<hi {
        let mi = Int(plan.instanceMembers[k])
        if let folding, folding.isFolded(mi, g) { continue }
        // Host-side members leave when they did after the last arrival, scaled with the transfer.
        var tail = plan.instanceTails[k]
        if tail >= 0 && transfers[inst] != measured && measured > 0 {
          tail = Int64(saturating: Double(tail) * Double(transfers[inst]) / Double(measured))
        }
        start[mi] = Nanoseconds(rawValue: arrival[mi])
        // max(): a late member (backup workers) ends no earlier than it arrived.
        end[mi] = Nanoseconds(rawValue: max(arrival[mi], tail < 0 ? finish : instMax[inst] + tail))
        done[mi] = true
        if mi != e { enqueue(g.lane[mi].index) }
      }
    }
  }

  mutating func run() throws {
    drain()
    try checkStuck()
    guard folding != nil else { return }
    unfold()
    drain()
    try checkStuck()
  }

  mutating func drain() {
    while let l32 = work.popLast() {
      let l = Int(l32)
      queued[l] = false
      advance(l)
    }
  }

  /// Throws when a lane the replay advances could not finish (a folded rank's lanes count once
  /// `unfold` has queued them).
  func checkStuck() throws {
    let laneCount = plan.laneOffsets.count - 1
    for l in 0..<laneCount where cursor[l] < plan.laneOffsets[l + 1] && !(queued[l] && folding?.foldedLane[l] == true) {
      let stuck = (0..<laneCount).reduce(0) { $0 + plan.laneOffsets[$1 + 1] - cursor[$1] }
      let e = Int(plan.laneEvents[cursor[l]])
      throw ReplayError.deadlock(
        stuckEvents: stuck,
        example:
          "'\(g.strings[g.name[e]])' (rank \(g.rank(of: e)), \(g.lanes[l].kind.name) \(g.strings[g.lanes[l].name]), source event #\(g.sourceIndex[e]))"
      )
    }
  }

  /// Processes lane `l` until it finishes or waits on another lane.
  mutating func advance(_ l: Int) {
    let hi = plan.laneOffsets[l + 1]
    let device = plan.isDeviceLane[l]
    while cursor[l] < hi {
      let e = Int(plan.laneEvents[cursor[l]])
      let s = g.start[e]
      if done[e] {
        // A barrier member completed by its instance: finish it on this lane.
        if device {
          prevEnd[l] = max(prevEnd[l], end[e].rawValue)
          shift[l] = start[e].rawValue - s
        } else {
          shift[l] = end[e].rawValue - (s + g.duration[e])
        }
        notify(e)
        cursor[l] += 1
        continue
      }
      if device {
        if plan.role[e] == .deviceWork {
          var ready = Int64.min
          let lag = plan.streamLag[e]
          if prevEnd[l] != Int64.min && lag != Int64.min { ready = prevEnd[l] + lag }
          let launch = Int(plan.launchFrom[e])
          if launch >= 0 {
            if !done[launch] { return }
            ready = max(
              ready, (plan.launchFromEnd[e] ? end[launch].rawValue : start[launch].rawValue) + plan.launchLag[e])
          }
          let wait = Int(plan.waitFrom[e])
          if wait >= 0 {
            if !done[wait] { return }
            ready = max(ready, end[wait].rawValue + plan.waitLag[e])
          }
          if ready == Int64.min { ready = s }
          let inst = Int(plan.instance[e])
          if inst >= 0 {
            if arrival[e] == Int64.min { arrive(e, at: ready, instance: inst) }
            if !done[e] { return }
            continue  // finished through the done[e] path above
          }
          start[e] = Nanoseconds(rawValue: ready)
          end[e] = Nanoseconds(rawValue: ready + durations[e])
          prevEnd[l] = max(prevEnd[l], end[e].rawValue)
          shift[l] = ready - s
        } else {
          start[e] = Nanoseconds(rawValue: s + shift[l])
          end[e] = Nanoseconds(rawValue: g.start[e] + g.duration[e] + shift[l])
        }
      } else {
        if !open[l].isEmpty { closeOpen(l, upTo: s) }
        let wait = Int(plan.waitFrom[e])
        if wait >= 0 {
          // An inferred wait for a host-side collective (gloo): resume after it ends.
          if !done[wait] { return }
          shift[l] = max(shift[l] - plan.waitSlack[e], end[wait].rawValue + plan.waitLag[e] - s)
        }
        switch plan.role[e] {
        case .hostSync:
          let d = Int(plan.syncFrom[e])
          if !done[d] { return }
          start[e] = Nanoseconds(rawValue: s + shift[l])
          end[e] = Nanoseconds(rawValue: max(start[e].rawValue + plan.syncOwn[e], end[d].rawValue + plan.syncTail[e]))
          shift[l] = end[e].rawValue - (s + g.duration[e])
        case .hostBarrier:
          if arrival[e] == Int64.min { arrive(e, at: s + shift[l], instance: Int(plan.instance[e])) }
          if !done[e] { return }
          continue
        case .hostParent:
          start[e] = Nanoseconds(rawValue: s + shift[l])
          // A changed duration of a parent is a change of its own time (CPU operators): its
          // children and its end move by it.
          shift[l] += durations[e] - g.duration[e]
          open[l].append(Int32(e))
        default:
          start[e] = Nanoseconds(rawValue: s + shift[l])
          end[e] = Nanoseconds(rawValue: start[e].rawValue + durations[e])
          shift[l] += durations[e] - g.duration[e]
        }
      }
      done[e] = true
      notify(e)
      cursor[l] += 1
    }
    if !device && !open[l].isEmpty { closeOpen(l, upTo: Int64.max) }
  }
}

extension Engine {
  /// Shortest measured time since the anchor barrier over which the replay's stretch `σ` is
  /// applied to a folded rank's jitter (`RankFolding`); shorter: σ = 1.
  static let minStretchSpan: Int64 = 10_000

  /// The replayed start of folded event `x` whose counterpart `c` starts at `repStart`
  /// (`RankFolding`: the counterpart's start plus the jitter, measured from the anchor barrier
  /// and stretched as the replay stretched the representative's time since it).
  mutating func foldedStart(_ x: Int, _ c: Int, repStart: Int64, _ folding: RankFolding) -> Int64 {
    if cpuOnlyLane[g.lane[x].index], let s = ownHostStart(x, folding) { return s }
    let a = Int(folding.anchor[x])
    let host = !plan.isDeviceLane[g.lane[x].index]
    guard a >= 0 else { return repStart + (g.start[x] - g.start[c]) + (host ? drift[x] - drift[c] : 0) }
    let ac = Int(folding.counterpart[a])
    let spanC = g.start[c] - g.end(ac)
    let replayed = repStart - end[ac].rawValue
    var jitter = (g.start[x] - g.end(a)) - spanC
    if host {
      let (xa, ca) = (Int(folding.anchorAt[x]), Int(folding.counterpart[Int(folding.anchorAt[x])]))
      jitter += (drift[x] - drift[xa]) - (drift[c] - drift[ca])
    } else if spanC >= Self.minStretchSpan {
      jitter = Int64(saturating: Double(jitter) * min(max(Double(replayed) / Double(spanC), 0), 10))
    }
    return end[a].rawValue + replayed + jitter
  }

  /// A folded CPU-only rank's host event by the engine's own rules for its thread: its measured
  /// start plus the shift its thread carries (the change of the durations before it, reset where
  /// the thread waited for a collective: `shiftAfter`); nil while a collective it depends on is
  /// not timed yet.
  mutating func ownHostStart(_ x: Int, _ folding: RankFolding) -> Int64? {
    let at = Int(folding.anchorAt[x])
    guard at >= 0 else { return g.start[x] + drift[x] }
    if at == x && (plan.role[x] == .hostSync || plan.role[x] == .hostBarrier) {
      let p = Int(folding.priorAt[x])
      guard p >= 0 else { return g.start[x] + drift[x] }
      return shiftAfter(p, folding).map { g.start[x] + $0 + drift[x] - drift[p] }
    }
    return shiftAfter(at, folding).map { g.start[x] + $0 + drift[x] - drift[at] }
  }

  /// The shift of a folded CPU-only thread right after event `e` waited for a collective (a
  /// wait, a synchronize or a host-side member), as the engine sets it; nil while that collective
  /// is not timed yet.
  mutating func shiftAfter(_ e: Int, _ folding: RankFolding) -> Int64? {
    if shiftMemo[e] != Int64.min { return shiftMemo[e] }
    let p = Int(folding.priorAt[e])
    var before = drift[e]
    if p >= 0 {
      guard let s = shiftAfter(p, folding) else { return nil }
      before = s + drift[e] - drift[p]
    }
    let s0 = g.start[e]
    var shift: Int64
    if plan.instance[e] >= 0 {
      guard arrival[e] != Int64.min else { return nil }
      shift = end[e].rawValue - g.end(e)
    } else if plan.role[e] == .hostSync {
      let d = Int(plan.syncFrom[e])
      guard arrival[d] != Int64.min else { return nil }
      shift = max(s0 + before + plan.syncOwn[e], end[d].rawValue + plan.syncTail[e]) - g.end(e)
    } else {
      let w = Int(plan.waitFrom[e])
      guard w >= 0, arrival[w] != Int64.min else { return nil }
      let slack = plan.waitSlack.isEmpty ? 0 : plan.waitSlack[e]
      shift = max(before - slack, end[w].rawValue + plan.waitLag[e] - s0)
    }
    shiftMemo[e] = shift
    return shift
  }

  /// Per host-thread event, the change of the durations before it on its lane (`drift`).
  static func drift(_ plan: ReplayPlan, _ durations: [Int64]) -> [Int64] {
    let g = plan.graph
    var out = [Int64](repeating: 0, count: g.eventCount)
    for l in 0..<(plan.laneOffsets.count - 1) where !plan.isDeviceLane[l] {
      var sum: Int64 = 0
      for k in plan.laneOffsets[l]..<plan.laneOffsets[l + 1] {
        let e = Int(plan.laneEvents[k])
        out[e] = sum
        switch plan.role[e] {
        case .hostLeaf, .hostParent: sum += durations[e] - g.duration[e]
        default: break
        }
      }
    }
    return out
  }

  /// When folded barrier member `m` (counterpart `c`) arrives: by the engine's own rule for it
  /// (after the previous work on its lane plus its stream lag, its launch plus its launch lag, the
  /// work it waits for plus its wait lag), with the folded rank's times (`foldedTime`) as inputs;
  /// on a host thread, at `foldedStart`.
  mutating func foldedArrival(_ m: Int, _ c: Int, _ folding: RankFolding) -> Int64 {
    guard plan.role[m] == .deviceWork else { return foldedStart(m, c, repStart: arrival[c], folding) }
    var ready = Int64.min
    let prev = Int(folding.previousWork[m])
    if prev >= 0 && plan.streamLag[m] != Int64.min { ready = foldedTime(prev, folding).end + plan.streamLag[m] }
    let launch = Int(plan.launchFrom[m])
    if launch >= 0 {
      let t = foldedTime(launch, folding)
      ready = max(ready, (plan.launchFromEnd[m] ? t.end : t.start) + plan.launchLag[m])
    }
    let wait = Int(plan.waitFrom[m])
    if wait >= 0 { ready = max(ready, foldedTime(wait, folding).end + plan.waitLag[m]) }
    return ready == Int64.min ? foldedStart(m, c, repStart: arrival[c], folding) : ready
  }

  /// The replayed start and end of folded event `e` before `unfold` runs: a barrier member's as
  /// timed with its instance, any other's from its counterpart (`foldedStart`), ending after its
  /// own duration (a parent: moved as its start moved).
  mutating func foldedTime(_ e: Int, _ folding: RankFolding) -> (start: Int64, end: Int64) {
    if !folding.isFolded(e, g) || plan.instance[e] >= 0 { return (start[e].rawValue, end[e].rawValue) }
    let c = Int(folding.counterpart[e])
    let s = foldedStart(e, c, repStart: start[c].rawValue, folding)
    switch plan.role[e] {
    case .deviceWork, .hostLeaf: return (s, s + durations[e])
    default: return (s, end[c].rawValue + (s - start[c].rawValue) + g.duration[e] - g.duration[c])
    }
  }

  /// A folded instance's arrivals: each folded member arrives at `foldedStart`; the last (with
  /// backup workers K, the (n−K)-th of each instance folded into this one) decides.
  mutating func foldedArrivals(_ inst: Int, _ folding: RankFolding) {
    let (xlo, xhi) = (folding.extraOffsets[inst], folding.extraOffsets[inst + 1])
    for x in xlo..<xhi {
      let m = Int(folding.extraMembers[x])
      let c = Int(folding.counterpart[m])
      arrival[m] = foldedArrival(m, c, folding)
      instMax[inst] = max(instMax[inst], arrival[m])
    }
    let k = backup.isEmpty ? 0 : Int(backup[inst])
    guard k > 0 else { return }
    var times = plan.members(of: inst).filter { !folding.isFolded(Int($0), g) }.map { arrival[Int($0)] }
    times += (xlo..<xhi).map { arrival[Int(folding.extraMembers[$0])] }
    times.sort()
    let copies = max(1, times.count / plan.members(of: inst).count)
    instMax[inst] = times[max(0, times.count - k * copies - 1)]
  }

  /// The folded members' ends, once instance `inst` is timed: at its end (host-side members after
  /// their own tail, scaled with the transfer), no earlier than they arrived.
  mutating func foldedEnds(_ inst: Int, _ folding: RankFolding) {
    for x in folding.extraOffsets[inst]..<folding.extraOffsets[inst + 1] {
      let m = Int(folding.extraMembers[x])
      let own = Int(plan.instance[m])
      var tail = plan.instanceTails[Int(folding.memberSlot[m])]
      let measured = plan.instanceTransfer[own].rawValue
      if tail >= 0 && transfers[own] != measured && measured > 0 {
        tail = Int64(saturating: Double(tail) * Double(transfers[own]) / Double(measured))
      }
      start[m] = Nanoseconds(rawValue: arrival[m])
      end[m] = Nanoseconds(rawValue: max(arrival[m], instMax[inst] + (tail < 0 ? transfers[own] : tail)))
    }
  }

  /// Times the folded ranks' own events by the engine's rules, now that every collective is
  /// timed with its folded members (`foldedArrivals`, `foldedEnds`): their lanes are queued and
  /// advanced like any other, and they pass their collectives as completed barriers.
  mutating func unfold() {
    guard let folding else { return }
    for m in folding.extraMembers { done[Int(m)] = true }
    // Folded lanes were held as queued since the start; queue them now.
    for l in (0..<(plan.laneOffsets.count - 1)).reversed() where folding.foldedLane[l] { work.append(Int32(l)) }
  }
}
