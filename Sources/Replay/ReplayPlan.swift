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

  /// Members of barrier instance `i`.
  public func members(of i: Int) -> ArraySlice<Int32> { instanceMembers[instanceOffsets[i]..<instanceOffsets[i + 1]] }

  /// Prepares `graph` for replay.
  ///
  /// - Complexity: O(events log events) (per-lane ordering) + O(edges).
  public init(_ graph: EventGraph) {
    self.graph = graph
    let n = graph.eventCount
    let laneCount = graph.lanes.count
    isDeviceLane = graph.lanes.map { $0.kind == .deviceStream }

    // Lane order: (start, longest first, id).
    var offsets = [Int](repeating: 0, count: laneCount + 1)
    for l in graph.lane { offsets[l.index + 1] += 1 }
    for i in 0..<laneCount { offsets[i + 1] += offsets[i] }
    var order = [Int32](repeating: 0, count: n)
    var cursor = offsets
    for e in 0..<n {
      let l = graph.lane[e].index
      order[cursor[l]] = Int32(e)
      cursor[l] += 1
    }
    for l in 0..<laneCount {
      let lo = offsets[l], hi = offsets[l + 1]
      var sorted = true
      if hi - lo > 1 {
        for k in (lo + 1)..<hi {
          let a = Int(order[k - 1]), b = Int(order[k])
          if (graph.start[a], -graph.duration[a], a) > (graph.start[b], -graph.duration[b], b) { sorted = false; break }
        }
      }
      if !sorted {
        var keys = (lo..<hi).map { k -> (Int64, Int64, Int32) in
          let e = Int(order[k])
          return (graph.start[e], -graph.duration[e], order[k])
        }
        keys.sort { $0 < $1 }
        for (k, key) in keys.enumerated() { order[lo + k] = key.2 }
      }
    }
    laneOffsets = offsets
    laneEvents = order

    // Reverse edges we need: launch (host → device), sync (device → host).
    launchFrom = [Int32](repeating: -1, count: n)
    syncFrom = [Int32](repeating: -1, count: n)
    var depCount = [Int](repeating: 0, count: n + 1)
    for u in 0..<n {
      for i in Int(graph.edgeOffsets[u])..<Int(graph.edgeOffsets[u + 1]) {
        let v = graph.edgeTargets[i].index
        switch graph.edgeKinds[i] {
        case .launch where isDeviceLane[graph.lane[v].index] && !isDeviceLane[graph.lane[u].index]:
          if launchFrom[v] < 0 { launchFrom[v] = Int32(u); depCount[u + 1] += 1 }
        case .sync where !isDeviceLane[graph.lane[v].index]:
          let cur = syncFrom[v]
          if cur < 0 {
            syncFrom[v] = Int32(u); depCount[u + 1] += 1
          } else if graph.end(u) > graph.end(Int(cur)) {
            depCount[Int(cur) + 1] -= 1; syncFrom[v] = Int32(u); depCount[u + 1] += 1
          }
        default: break
        }
      }
    }
    // Barrier instances: complete collective instances and matched send/recv pairs.
    var instanceOf = [Int32](repeating: -1, count: n)
    var instOffsets: [Int] = [0]
    var instMembers: [Int32] = []
    var transfer: [Int64] = []
    var kinds: [BarrierKind] = []
    var bytes: [Int64] = []
    var recordBytes = [Int64](repeating: 0, count: n)
    for c in graph.collectives { recordBytes[c.event.index] = max(c.inputBytes, c.outputBytes) }
    func addInstance(_ evs: [Int], _ kind: BarrierKind) {
      guard evs.count >= 2, evs.allSatisfy({ instanceOf[$0] < 0 }) else { return }
      let id = Int32(transfer.count)
      for e in evs { instanceOf[e] = id; instMembers.append(Int32(e)) }
      instOffsets.append(instMembers.count)
      let last = evs.max { (graph.start[$0], $0) < (graph.start[$1], $1) }!
      transfer.append(graph.duration[last])
      kinds.append(kind)
      bytes.append(evs.map { max(recordBytes[$0], graph.bytes[$0]) }.max() ?? 0)
    }
    for inst in graph.instances where inst.members.count >= 2 && inst.members.count >= inst.expectedSize {
      addInstance(inst.members.map(\.index), .collective(inst.kind))
    }
    // Send/recv pairs on device streams (NCCL) are barriers. Host pairs (gloo) are not: their
    // spans are asynchronous and overlap later work on the same thread (see Traces/kineto-cpu),
    // so blocking the thread on them would distort the replay; they replay as measured.
    let deviceLane = isDeviceLane
    for p in graph.p2p where p.isSend {
      if let m = p.match, deviceLane[graph.lane[p.event.index].index], deviceLane[graph.lane[m.index].index] {
        addInstance([p.event.index, m.index], .pointToPoint)
      }
    }
    instance = instanceOf
    instanceOffsets = instOffsets
    instanceMembers = instMembers
    instanceTransfer = transfer.map(Nanoseconds.init(rawValue:))
    instanceKind = kinds
    instanceBytes = bytes.map(Bytes.init(rawValue:))

    // Roles and lags.
    role = [Role](repeating: .hostLeaf, count: n)
    streamLag = [Int64](repeating: Int64.min, count: n)
    launchLag = [Int64](repeating: 0, count: n)
    syncOwn = [Int64](repeating: 0, count: n)
    syncTail = [Int64](repeating: 0, count: n)
    var measuredGap = [Int64](repeating: Int64.min, count: n)
    var hasChild = [Bool](repeating: false, count: n)
    for e in 0..<n where graph.parent[e] != .none { hasChild[graph.parent[e].index] = true }
    // The launch anchor: the end of a leaf launch call (the work is enqueued as it returns),
    // the start of an enclosing op.
    var fromEnd = [Bool](repeating: false, count: n)
    var anchorTime = [Int64](repeating: 0, count: n)
    for e in 0..<n where launchFrom[e] >= 0 {
      let l = Int(launchFrom[e])
      fromEnd[e] = !hasChild[l]
      anchorTime[e] = fromEnd[e] ? graph.end(l) : graph.start[l]
    }
    launchFromEnd = fromEnd
    for l in 0..<laneCount {
      let lo = offsets[l], hi = offsets[l + 1]
      if isDeviceLane[l] {
        var prevEnd: Int64? = nil
        // Intrinsic launch latency on this stream: median lag of kernels that did not queue.
        var lags: [Int64] = []
        for k in lo..<hi {
          let e = Int(order[k])
          guard Self.isDeviceWork(graph.kind[e]) else { continue }
          if launchFrom[e] >= 0, prevEnd.map({ graph.start[e] - $0 > Self.queuedGap }) ?? true {
            lags.append(graph.start[e] - anchorTime[e])
          }
          prevEnd = max(prevEnd ?? Int64.min, graph.end(e))
        }
        lags.sort()
        let intrinsic = lags.isEmpty ? Self.queuedGap : lags[lags.count / 2]
        prevEnd = nil
        for k in lo..<hi {
          let e = Int(order[k])
          guard Self.isDeviceWork(graph.kind[e]) else { role[e] = .devicePassive; continue }
          role[e] = .deviceWork
          let launched = launchFrom[e] >= 0
          if let pe = prevEnd {
            let q = graph.start[e] - pe
            measuredGap[e] = q
            streamLag[e] = (launched && q > Self.queuedGap) ? Self.queuedGap : q
            if launched {
              let lag = graph.start[e] - anchorTime[e]
              launchLag[e] = q > Self.queuedGap ? lag : min(lag, max(intrinsic, 0))
            }
          } else if launched {
            launchLag[e] = graph.start[e] - anchorTime[e]
          }
          prevEnd = max(prevEnd ?? Int64.min, graph.end(e))
        }
      } else {
        for k in lo..<hi {
          let e = Int(order[k])
          if instance[e] >= 0 {
            role[e] = .hostBarrier
          } else if syncFrom[e] >= 0 {
            role[e] = .hostSync
            let d = Int(syncFrom[e])
            let devEnd = graph.end(d)
            let wait = min(max(devEnd - graph.start[e], 0), graph.duration[e])
            syncOwn[e] = graph.duration[e] - wait
            syncTail[e] = max(0, graph.end(e) - devEnd)
          } else {
            role[e] = hasChild[e] ? .hostParent : .hostLeaf
          }
        }
      }
    }

    waitFrom = [Int32](repeating: -1, count: n)
    waitLag = [Int64](repeating: 0, count: n)
    // Explicit cross-lane data dependencies between device work (generated graphs such as
    // pipeline schedules): the work waits for its producer. When the producer explains the start,
    // the gap after the previous work on the stream is the wait itself, not a fixed lag.
    var explicitWait = [Bool](repeating: false, count: n)
    for u in 0..<n where role[u] == .deviceWork {
      for i in Int(graph.edgeOffsets[u])..<Int(graph.edgeOffsets[u + 1]) where graph.edgeKinds[i] == .data {
        let v = graph.edgeTargets[i].index
        guard role[v] == .deviceWork, graph.lane[v] != graph.lane[u] else { continue }
        let lag = max(0, graph.start[v] - graph.end(u))
        if waitFrom[v] < 0 || graph.end(u) > graph.end(Int(waitFrom[v])) {
          if waitFrom[v] >= 0 { depCount[Int(waitFrom[v]) + 1] -= 1 }
          waitFrom[v] = Int32(u)
          waitLag[v] = lag
          depCount[u + 1] += 1
          explicitWait[v] = true
        }
      }
    }
    for v in 0..<n where explicitWait[v] && streamLag[v] != Int64.min && waitLag[v] == 0 { streamLag[v] = min(streamLag[v], 0) }

    // Cross-stream waits (cudaStreamWaitEvent): device work whose start neither its stream nor
    // its launch explains, and which began right after work on another stream of the same
    // device ended, waited for that work.
    struct DeviceKey: Hashable { var rank: RankID; var device: Int32 }
    var byDevice: [DeviceKey: [Int]] = [:]
    for e in 0..<n where role[e] == .deviceWork {
      let lane = graph.lanes[graph.lane[e].index]
      byDevice[DeviceKey(rank: lane.rank, device: lane.device), default: []].append(e)
    }
    for key in byDevice.keys.sorted(by: { ($0.rank, $0.device) < ($1.rank, $1.device) }) {
      let events = byDevice[key]!.sorted { (graph.end($0), $0) < (graph.end($1), $1) }
      guard Set(events.map { graph.lane[$0] }).count > 1 else { continue }
      let ends = events.map { graph.end($0) }
      for e in events where !explicitWait[e] {
        let s = graph.start[e]
        // Unexplained start: the stream was free and the launch long done well before it.
        let prevFree = measuredGap[e] == Int64.min ? Int64.min : s - measuredGap[e]
        let launchReady = launchFrom[e] >= 0 ? anchorTime[e] + min(launchLag[e], Self.queuedGap) : Int64.min
        guard max(prevFree, launchReady) < s - Self.queuedGap else { continue }
        var lo = 0, hi = ends.count
        while lo < hi { let mid = (lo + hi) / 2; if ends[mid] <= s { lo = mid + 1 } else { hi = mid } }
        var k = lo - 1
        while k >= 0 && ends[k] >= s - Self.crossStreamWindow {
          let d = events[k]
          if graph.lane[d] != graph.lane[e] {
            waitFrom[e] = Int32(d)
            waitLag[e] = s - ends[k]
            depCount[d + 1] += 1
            if launchFrom[e] >= 0 { launchLag[e] = min(launchLag[e], Self.queuedGap) }
            break
          }
          k -= 1
        }
      }
    }
    for i in 0..<n { depCount[i + 1] += depCount[i] }
    var deps = [Int32](repeating: 0, count: depCount[n])
    var fill = depCount
    for v in 0..<n {
      if launchFrom[v] >= 0 { let u = Int(launchFrom[v]); deps[fill[u]] = Int32(v); fill[u] += 1 }
      if syncFrom[v] >= 0 { let u = Int(syncFrom[v]); deps[fill[u]] = Int32(v); fill[u] += 1 }
      if waitFrom[v] >= 0 { let u = Int(waitFrom[v]); deps[fill[u]] = Int32(v); fill[u] += 1 }
    }
    dependentOffsets = depCount
    dependents = deps

  }

  static func isDeviceWork(_ k: EventKind) -> Bool {
    switch k {
    case .kernel, .memcpy, .memset, .collective, .send, .recv: true
    default: false
    }
  }
}
