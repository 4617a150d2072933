import TraceModel

extension ReplayPlan {
  /// The barrier instances: complete collective instances and matched send/recv pairs on
  /// device streams, each with its members, measured transfer time, kind and bytes.
  ///
  /// Send/recv pairs on device streams (NCCL) are barriers. Host pairs (gloo) are not: their
  /// spans are asynchronous and overlap later work on the same thread (see Traces/kineto-cpu),
  /// so blocking the thread on them would distort the replay; they replay as measured.
  struct Barriers {
    var instanceOf: [Int32]
    var offsets: [Int] = [0]
    var members: [Int32] = []
    /// The duration of the last member to arrive (it did not wait for peers).
    var transfer: [Int64] = []
    var kinds: [BarrierKind] = []
    var bytes: [Int64] = []
    /// Per member: how long after the last arrival it ended, for instances on host threads
    /// (gloo's ranks do not leave together); -1 on device streams, where all end together.
    var tails: [Int64] = []
    var groups: [NameID] = []

    init(_ graph: EventGraph, deviceLane: [Bool]) {
      let n = graph.eventCount
      instanceOf = [Int32](repeating: -1, count: n)
      var recordBytes = [Int64](repeating: 0, count: n)
      for c in graph.collectives { recordBytes[c.event.index] = max(c.inputBytes, c.outputBytes) }
      for inst in graph.instances where inst.members.count >= 2 && inst.members.count >= inst.expectedSize {
        add(
          inst.members.map(\.index), .collective(inst.kind), group: inst.group, graph: graph, recordBytes: recordBytes)
      }
      for p in graph.p2p where p.isSend {
        if let m = p.match, deviceLane[graph.lane[p.event.index].index], deviceLane[graph.lane[m.index].index] {
          add([p.event.index, m.index], .pointToPoint, group: .empty, graph: graph, recordBytes: recordBytes)
        }
      }
    }

    mutating func add(
      _ events: [Int], _ kind: BarrierKind, group: NameID, graph: EventGraph, recordBytes: [Int64]
    ) {
      guard events.count >= 2, events.allSatisfy({ instanceOf[$0] < 0 }),
        let last = events.max(by: { (graph.start[$0], $0) < (graph.start[$1], $1) })
      else { return }
      let id = Int32(transfer.count)
      let onHost = events.allSatisfy { graph.lanes[graph.lane[$0].index].kind == .hostThread }
      for e in events {
        instanceOf[e] = id
        members.append(Int32(e))
        tails.append(onHost ? max(0, graph.end(e) - graph.start[last]) : -1)
      }
      groups.append(group)
      offsets.append(members.count)
      transfer.append(graph.duration[last])
      kinds.append(kind)
      bytes.append(events.map { max(recordBytes[$0], graph.bytes[$0]) }.max() ?? 0)
    }
  }

  /// Roles and measured lags, lane by lane: device work keeps its queueing gap on the stream
  /// and its lag after the launch; synchronize calls their own time and return latency.
  struct LaneTiming {
    var role: [Role]
    /// Device work: gap after the previous work on the stream (`Int64.min` for the first).
    var streamLag: [Int64]
    var launchLag: [Int64]
    var syncOwn: [Int64]
    var syncTail: [Int64]
    /// The measured gap after the previous work on the stream (`Int64.min`: none).
    var measuredGap: [Int64]
    /// Whether the launch lag counts from the launching call's end (a leaf such as
    /// `cudaLaunchKernel`: the work is enqueued as it returns) or its start (an enclosing op).
    var fromEnd: [Bool]
    var anchorTime: [Int64]

    init(
      _ graph: EventGraph, order: LaneOrder, deviceLane: [Bool], launchFrom: [Int32], syncFrom: [Int32],
      instance: [Int32]
    ) {
      let n = graph.eventCount
      role = [Role](repeating: .hostLeaf, count: n)
      streamLag = [Int64](repeating: Int64.min, count: n)
      launchLag = [Int64](repeating: 0, count: n)
      syncOwn = [Int64](repeating: 0, count: n)
      syncTail = [Int64](repeating: 0, count: n)
      measuredGap = [Int64](repeating: Int64.min, count: n)
      var hasChild = [Bool](repeating: false, count: n)
      for e in 0..<n where graph.parent[e] != .none { hasChild[graph.parent[e].index] = true }
      fromEnd = [Bool](repeating: false, count: n)
      anchorTime = [Int64](repeating: 0, count: n)
      for e in 0..<n where launchFrom[e] >= 0 {
        let l = Int(launchFrom[e])
        fromEnd[e] = !hasChild[l]
        anchorTime[e] = fromEnd[e] ? graph.end(l) : graph.start[l]
      }
      for l in 0..<graph.lanes.count {
        let events = order.events(of: l).map(Int.init)
        if deviceLane[l] {
          timeDeviceLane(events, graph, launchFrom: launchFrom)
        } else {
          timeHostLane(events, graph, syncFrom: syncFrom, instance: instance, hasChild: hasChild)
        }
      }
    }

    /// A device stream: queueing gaps and launch lags, against the stream's intrinsic launch
    /// latency (the median lag of kernels that did not queue).
    mutating func timeDeviceLane(_ events: [Int], _ graph: EventGraph, launchFrom: [Int32]) {
      var prevEnd: Int64? = nil
      var lags: [Int64] = []
      for e in events where ReplayPlan.isDeviceWork(graph.kind[e]) {
        if launchFrom[e] >= 0, prevEnd.map({ graph.start[e] - $0 > ReplayPlan.queuedGap }) ?? true {
          lags.append(graph.start[e] - anchorTime[e])
        }
        prevEnd = max(prevEnd ?? Int64.min, graph.end(e))
      }
      lags.sort()
      let intrinsic = lags.isEmpty ? ReplayPlan.queuedGap : lags[lags.count / 2]
      prevEnd = nil
      for e in events {
        guard ReplayPlan.isDeviceWork(graph.kind[e]) else {
          role[e] = .devicePassive
          continue
        }
        role[e] = .deviceWork
        let launched = launchFrom[e] >= 0
        if let pe = prevEnd {
          let q = graph.start[e] - pe
          measuredGap[e] = q
          streamLag[e] = (launched && q > ReplayPlan.queuedGap) ? ReplayPlan.queuedGap : q
          if launched {
            let lag = graph.start[e] - anchorTime[e]
            launchLag[e] = q > ReplayPlan.queuedGap ? lag : min(lag, max(intrinsic, 0))
          }
        } else if launched {
          launchLag[e] = graph.start[e] - anchorTime[e]
        }
        prevEnd = max(prevEnd ?? Int64.min, graph.end(e))
      }
    }

    /// A host thread: barriers, synchronize calls (own time and return latency after the awaited
    /// work), parents and leaves.
    mutating func timeHostLane(
      _ events: [Int], _ graph: EventGraph, syncFrom: [Int32], instance: [Int32],
      hasChild: [Bool]
    ) {
      for e in events {
        if instance[e] >= 0 {
          role[e] = .hostBarrier
        } else if syncFrom[e] >= 0 {
          role[e] = .hostSync
          let devEnd = graph.end(Int(syncFrom[e]))
          let wait = min(max(devEnd - graph.start[e], 0), graph.duration[e])
          syncOwn[e] = graph.duration[e] - wait
          syncTail[e] = max(0, graph.end(e) - devEnd)
        } else {
          role[e] = hasChild[e] ? .hostParent : .hostLeaf
        }
      }
    }
  }

  /// Device work that waited for work on another lane: explicit data dependencies, then
  /// inferred cross-stream event waits.
  struct Waits {
    var from: [Int32]
    var lag: [Int64]
    var explicit: [Bool]
    var launchLag: [Int64]
    var streamLag: [Int64]
    /// Host events with an inferred wait: the part of the idle gap before them that was waiting
    /// (allocated by the first such wait).
    var slack: [Int64]

    init(n: Int, launchLag: [Int64], streamLag: [Int64]) {
      from = [Int32](repeating: -1, count: n)
      lag = [Int64](repeating: 0, count: n)
      slack = []
      explicit = [Bool](repeating: false, count: n)
      self.launchLag = launchLag
      self.streamLag = streamLag
    }

    /// Explicit cross-lane data dependencies between device work (generated graphs such as
    /// pipeline schedules): the work waits for its producer. When the producer explains the
    /// start, the gap after the previous work on the stream is the wait itself, not a fixed lag.
    mutating func addExplicit(_ graph: EventGraph, role: [Role], depCount: inout [Int]) {
      for u in 0..<graph.eventCount where role[u] == .deviceWork {
        for i in Int(graph.edgeOffsets[u])..<Int(graph.edgeOffsets[u + 1]) where graph.edgeKinds[i] == .data {
          let v = graph.edgeTargets[i].index
          guard role[v] == .deviceWork, graph.lane[v] != graph.lane[u] else { continue }
          guard from[v] < 0 || graph.end(u) > graph.end(Int(from[v])) else { continue }
          if from[v] >= 0 { depCount[Int(from[v]) + 1] -= 1 }
          from[v] = Int32(u)
          lag[v] = max(0, graph.start[v] - graph.end(u))
          depCount[u + 1] += 1
          explicit[v] = true
        }
      }
      for v in 0..<graph.eventCount where explicit[v] && streamLag[v] != Int64.min && lag[v] == 0 {
        streamLag[v] = min(streamLag[v], 0)
      }
    }

    /// Cross-stream waits (`cudaStreamWaitEvent`): device work whose start neither its stream
    /// nor its launch explains, and which began right after work on another stream of the same
    /// device ended, waited for that work.
    mutating func addCrossStream(_ graph: EventGraph, timing: LaneTiming, launchFrom: [Int32], depCount: inout [Int]) {
      struct DeviceKey: Hashable {
        var rank: RankID
        var device: Int32
      }
      var byDevice: [DeviceKey: [Int]] = [:]
      for e in 0..<graph.eventCount where timing.role[e] == .deviceWork {
        let lane = graph.lanes[graph.lane[e].index]
        guard lane.kind == .deviceStream else { continue }  // gloo worker threads wait for no stream
        byDevice[DeviceKey(rank: lane.rank, device: lane.device), default: []].append(e)
      }
      for (_, list) in byDevice.sorted(by: { ($0.key.rank, $0.key.device) < ($1.key.rank, $1.key.device) }) {
        let events = list.sorted { (graph.end($0), $0) < (graph.end($1), $1) }
        guard Set(events.map { graph.lane[$0] }).count > 1 else { continue }
        let ends = events.map { graph.end($0) }
        for e in events where !explicit[e] {
          addCrossStream(
            e, events: events, ends: ends, graph, timing: timing, launchFrom: launchFrom,
            depCount: &depCount)
        }
      }
    }

    /// The cross-stream wait of device event `e`, if its start is unexplained: the latest work on
    /// another lane of its device that ended within `crossStreamWindow` before it.
    mutating func addCrossStream(
      _ e: Int, events: [Int], ends: [Int64], _ graph: EventGraph, timing: LaneTiming,
      launchFrom: [Int32], depCount: inout [Int]
    ) {
      let s = graph.start[e]
      let gap = timing.measuredGap[e]
      let prevFree = gap == Int64.min ? Int64.min : s - gap
      let launchReady =
        launchFrom[e] >= 0 ? timing.anchorTime[e] + min(launchLag[e], ReplayPlan.queuedGap) : Int64.min
      guard max(prevFree, launchReady) < s - ReplayPlan.queuedGap else { return }
      var k = ends.countAtOrBefore(s) { $0 } - 1
      while k >= 0 && ends[k] >= s - ReplayPlan.crossStreamWindow {
        let d = events[k]
        if graph.lane[d] != graph.lane[e] {
          from[e] = Int32(d)
          lag[e] = s - ends[k]
          depCount[d + 1] += 1
          if launchFrom[e] >= 0 { launchLag[e] = min(launchLag[e], ReplayPlan.queuedGap) }
          return
        }
        k -= 1
      }
    }
  }
}
