import TraceModel

/// Everything the engine needs about a graph, computed once and reused by every scenario.
///
/// Lanes are serial resources replayed in measured order. Device work keeps the measured
/// gaps that the graph cannot explain (launch latency, cross-stream waits): each device
/// event carries a *stream lag* (after the previous work on its stream ends) and a *launch
/// lag* (after its CPU launch starts), chosen so that an identity replay reproduces the
/// measured start exactly while faster hosts or devices can still move it. Host threads keep
/// their measured gaps as a running shift: an event starts at its measured time plus the
/// delay accumulated so far on its thread; blocking calls (synchronize, host collectives)
/// change the shift by how much longer or shorter they wait.
///
/// Collective instances and matched send/recv pairs become *barriers*: every member starts
/// when it arrives; all end together at the last arrival plus the transfer time (the measured
/// duration of the last arriver, whose kernel did not wait for peers).
///
/// CPU-only ranks (gloo): the worker threads that run the collectives (`gloo:all_reduce`) are
/// replayed like device streams, each collective launched by the `c10d::` op that enqueued it;
/// host-side collectives end on each rank as long after the last arrival as they did in the
/// trace (gloo's ranks leave the ring one after another). The thread that enqueued them waits
/// for them without an event of its own: that wait is inferred (`Waits.addHostWaits`), as
/// cross-stream waits are on a GPU.
public struct ReplayPlan: Sendable {
  public let graph: EventGraph

  /// Per-event role in the replay.
  enum Role: UInt8 {
    case deviceWork, devicePassive, hostLeaf, hostParent, hostSync, hostBarrier
  }

  /// Events of lane `l` in replay order: `laneEvents[laneOffsets[l] ..< laneOffsets[l+1]]`.
  var laneOffsets: [Int]
  var laneEvents: [Int32]
  var isDeviceLane: [Bool]
  var role: [Role]
  /// Device work: lag after the previous work on the stream ends (ns), or nil marker `Int64.min` for the first.
  var streamLag: [Int64]
  var launchFrom: [Int32]
  var launchLag: [Int64]
  /// Whether the launch lag counts from the launching call's end (a host leaf such as
  /// `cudaLaunchKernel`) rather than its start (an enclosing op, whose end is not known early).
  var launchFromEnd: [Bool]
  /// Device work that waited for another stream (inferred cross-stream event wait): the work
  /// it waited for, and the lag after that work's end.
  var waitFrom: [Int32]
  var waitLag: [Int64]
  /// Host synchronize calls: the device event waited for, time spent not waiting, and the
  /// return latency after the device work ended.
  var syncFrom: [Int32]
  var syncOwn: [Int64]
  var syncTail: [Int64]
  /// Barrier instance of an event, or -1.
  var instance: [Int32]
  var instanceOffsets: [Int]
  var instanceMembers: [Int32]
  /// Per member slot (parallel to `instanceMembers`): for host-side instances, how long after
  /// the last arrival the member ended in the trace; -1 where members end together.
  var instanceTails: [Int64]
  /// Host events that waited for a host-side collective without an event of their own: the part
  /// of the idle gap before them that was waiting (ns); see `Waits.addHostWaits`. Empty when
  /// no host event waits so.
  var waitSlack: [Int64]
  /// Compute class of each host op that is CPU compute (an operator on a rank without device
  /// streams, `HostCompute`), else `ReplayPlan.noClass`; empty without CPU-only ranks.
  public internal(set) var hostComputeClass: [UInt8]
  /// The ranks without device streams (CPU-only, gloo): their host ops are their work.
  public let cpuOnlyRanks: Set<RankID>
  /// Process group of each barrier instance (`NameID.empty` for point-to-point pairs).
  public internal(set) var instanceGroup: [NameID]
  /// The run's process groups and which of them are data-parallel.
  public let processGroups: ProcessGroups
  /// Measured transfer time of each instance (duration of the last arriver).
  public internal(set) var instanceTransfer: [Nanoseconds]
  /// What each instance is: a collective (its record's kind) or a point-to-point pair.
  public internal(set) var instanceKind: [BarrierKind]
  /// Message bytes of each instance (largest member record), 0 when unknown.
  public internal(set) var instanceBytes: [Bytes]
  /// Cross-lane dependents: events that wait for event `u` (launch and sync successors).
  var dependentOffsets: [Int]
  var dependents: [Int32]

  /// What a barrier instance is.
  public enum BarrierKind: Hashable, Sendable {
    case collective(CollectiveKind)
    case pointToPoint
  }

  /// Gap below which a device event counts as queued behind the previous one (ns).
  static let queuedGap: Int64 = 5_000
  /// How soon after another stream's work ends an unexplained start counts as waiting for it (ns).
  static let crossStreamWindow: Int64 = 10_000

  public var instanceCount: Int { instanceTransfer.count }

  /// The collective kind of barrier instance `i`; nil for a send/recv pair.
  public func collectiveKind(of i: Int) -> CollectiveKind? {
    if case .collective(let k) = instanceKind[i] { return k }
    return nil
  }

  /// Members of barrier instance `i`.
  public func members(of i: Int) -> ArraySlice<Int32> { instanceMembers[instanceOffsets[i]..<instanceOffsets[i + 1]] }

  /// Prepares `graph` for replay.
  ///
  /// - Complexity: O(events log events) (per-lane ordering) + O(edges).
  public init(_ graph: EventGraph) {
    self.graph = graph
    let n = graph.eventCount
    // Device streams, and the host threads that run collectives other threads enqueue (gloo).
    let deviceLane = zip(graph.lanes, Self.workerLanes(graph)).map { $0.kind == .deviceStream || $1 }
    isDeviceLane = deviceLane
    let order = LaneOrder(graph)
    laneOffsets = order.offsets
    laneEvents = order.events
    var depCount = [Int](repeating: 0, count: n + 1)
    (launchFrom, syncFrom) = Self.crossLaneSources(graph, deviceLane: deviceLane, depCount: &depCount)
    let barriers = Barriers(graph, deviceLane: deviceLane)
    instance = barriers.instanceOf
    instanceOffsets = barriers.offsets
    instanceMembers = barriers.members
    instanceTransfer = barriers.transfer.map(Nanoseconds.init(rawValue:))
    instanceKind = barriers.kinds
    instanceBytes = barriers.bytes.map(Bytes.init(rawValue:))
    instanceTails = barriers.tails
    instanceGroup = barriers.groups
    processGroups = ProcessGroups(graph)
    cpuOnlyRanks = Set(graph.ranks.map(\.rank)).subtracting(
      graph.lanes.filter { $0.kind == .deviceStream }.map(\.rank))
    hostComputeClass = Self.hostCompute(graph, cpuOnly: cpuOnlyRanks)
    var timing = LaneTiming(
      graph, order: order, deviceLane: deviceLane, launchFrom: launchFrom, syncFrom: syncFrom,
      instance: barriers.instanceOf)
    role = timing.role
    syncOwn = timing.syncOwn
    syncTail = timing.syncTail
    launchFromEnd = timing.fromEnd
    // The waits refine the lags: hand the arrays over (no copy-on-write copy of either).
    var waits = Waits(n: n, launchLag: timing.launchLag, streamLag: timing.streamLag)
    (timing.launchLag, timing.streamLag) = ([], [])
    waits.addExplicit(graph, role: timing.role, depCount: &depCount)
    waits.addCrossStream(graph, timing: timing, launchFrom: launchFrom, depCount: &depCount)
    waits.addHostWaits(
      graph, order: order, timing: timing, deviceLane: deviceLane, launchFrom: launchFrom,
      instance: barriers.instanceOf, depCount: &depCount)
    waitSlack = waits.slack
    waitFrom = waits.from
    waitLag = waits.lag
    launchLag = waits.launchLag
    streamLag = waits.streamLag
    (dependentOffsets, dependents) = Self.dependents(
      n: n, counts: depCount, launchFrom: launchFrom, syncFrom: syncFrom,
      waitFrom: waits.from)
  }

  /// Reverse edges the engine needs: the host call that launched each device event, and the
  /// device event each synchronize call waited for (the one that ends last). Counts each as a
  /// dependent of its source in `depCount[source + 1]`.
  static func crossLaneSources(_ graph: EventGraph, deviceLane: [Bool], depCount: inout [Int])
    -> (launch: [Int32], sync: [Int32])
  {
    let n = graph.eventCount
    var launchFrom = [Int32](repeating: -1, count: n)
    var syncFrom = [Int32](repeating: -1, count: n)
    for u in 0..<n {
      for i in Int(graph.edgeOffsets[u])..<Int(graph.edgeOffsets[u + 1]) {
        let v = graph.edgeTargets[i].index
        switch graph.edgeKinds[i] {
        case .launch where deviceLane[graph.lane[v].index] && !deviceLane[graph.lane[u].index]:
          if launchFrom[v] < 0 {
            launchFrom[v] = Int32(u)
            depCount[u + 1] += 1
          }
        case .sync where !deviceLane[graph.lane[v].index]:
          let cur = syncFrom[v]
          if cur < 0 {
            syncFrom[v] = Int32(u)
            depCount[u + 1] += 1
          } else if graph.end(u) > graph.end(Int(cur)) {
            depCount[Int(cur) + 1] -= 1
            syncFrom[v] = Int32(u)
            depCount[u + 1] += 1
          }
        default: break
        }
      }
    }
    return (launchFrom, syncFrom)
  }

  /// Cross-lane dependents in CSR form: the events that wait for event `u` (launch, sync and
  /// wait successors), from the per-source counts.
  static func dependents(n: Int, counts: [Int], launchFrom: [Int32], syncFrom: [Int32], waitFrom: [Int32])
    -> (offsets: [Int], dependents: [Int32])
  {
    var offsets = counts
    for i in 0..<n { offsets[i + 1] += offsets[i] }
    var deps = [Int32](repeating: 0, count: offsets[n])
    var fill = offsets
    func add(_ source: Int32, _ v: Int) {
      guard source >= 0 else { return }
      let u = Int(source)
      deps[fill[u]] = Int32(v)
      fill[u] += 1
    }
    for v in 0..<n {
      add(launchFrom[v], v)
      add(syncFrom[v], v)
      add(waitFrom[v], v)
    }
    return (offsets, deps)
  }

  /// Marks `hostComputeClass` entries that are not CPU compute.
  public static let noClass = UInt8.max

  /// The host threads that run collectives enqueued on another thread (gloo's worker threads):
  /// a `launch` edge from another host thread reaches them, and they hold nothing but
  /// communication (and annotations).
  static func workerLanes(_ graph: EventGraph) -> [Bool] {
    var worker = [Bool](repeating: false, count: graph.lanes.count)
    var other = [Bool](repeating: false, count: graph.lanes.count)
    for u in 0..<graph.eventCount {
      let lu = graph.lane[u].index
      switch graph.kind[u] {
      case .collective, .send, .recv, .annotation, .memory: break
      default: other[lu] = true
      }
      guard graph.lanes[lu].kind == .hostThread else { continue }
      for i in Int(graph.edgeOffsets[u])..<Int(graph.edgeOffsets[u + 1]) where graph.edgeKinds[i] == .launch {
        let lv = graph.lane[graph.edgeTargets[i].index].index
        if lv != lu && graph.lanes[lv].kind == .hostThread { worker[lv] = true }
      }
    }
    return zip(worker, other).map { $0 && !$1 }
  }

  /// The compute class of every host op that is an operator on a CPU-only rank (`HostCompute`),
  /// else `noClass`.
  static func hostCompute(_ graph: EventGraph, cpuOnly: Set<RankID>) -> [UInt8] {
    guard !cpuOnly.isEmpty else { return [] }
    var out = [UInt8](repeating: noClass, count: graph.eventCount)
    var byName: [NameID: UInt8] = [:]
    for e in 0..<graph.eventCount where graph.kind[e] == .hostOp && cpuOnly.contains(graph.rank(of: e)) {
      let name = graph.name[e]
      if let c = byName[name] {
        out[e] = c
      } else {
        let c = HostCompute.computeClass(graph.strings[name])?.rawValue ?? noClass
        byName[name] = c
        out[e] = c
      }
    }
    return out
  }

  static func isDeviceWork(_ k: EventKind) -> Bool {
    switch k {
    case .kernel, .memcpy, .memset, .collective, .send, .recv: true
    default: false
    }
  }
}
