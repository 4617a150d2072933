import TraceModel

/// Why a replay could not finish.
public enum ReplayError: Error, Hashable, Sendable, CustomStringConvertible {
  /// Some events wait on each other (a dependency cycle, or a barrier whose members wait on
  /// work that comes after it on another lane).
  case deadlock(stuckEvents: Int, example: String)

  public var description: String {
    switch self {
    case .deadlock(let n, let example):
      return "replay cannot proceed: \(n) events wait on each other (dependency cycle), e.g. \(example)"
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
  public func replay(_ plan: ReplayPlan, durations: [Int64], transfers: [Int64]) throws -> Timeline {
    let g = plan.graph
    let n = g.eventCount
    let laneCount = plan.laneOffsets.count - 1
    var start = [Int64](repeating: 0, count: n)
    var end = [Int64](repeating: 0, count: n)
    var done = [Bool](repeating: false, count: n)
    var arrival = [Int64](repeating: Int64.min, count: n)
    var instArrived = [Int32](repeating: 0, count: plan.instanceCount)
    var instMax = [Int64](repeating: Int64.min, count: plan.instanceCount)
    var cursor = plan.laneOffsets
    var shift = [Int64](repeating: 0, count: laneCount)
    var prevEnd = [Int64](repeating: Int64.min, count: laneCount)
    var open = [[Int32]](repeating: [], count: laneCount)
    var queued = [Bool](repeating: true, count: laneCount)
    var work: [Int32] = (0..<laneCount).reversed().map { Int32($0) }
    work.reserveCapacity(laneCount * 2)

    @inline(__always) func enqueue(_ l: Int) {
      if !queued[l] { queued[l] = true; work.append(Int32(l)) }
    }
    @inline(__always) func notify(_ u: Int) {
      for k in plan.dependentOffsets[u]..<plan.dependentOffsets[u + 1] {
        enqueue(g.lane[Int(plan.dependents[k])].index)
      }
    }
    @inline(__always) func closeOpen(_ l: Int, upTo s: Int64) {
      while let top = open[l].last, g.start[Int(top)] + g.duration[Int(top)] <= s {
        let t = Int(top)
        end[t] = g.start[t] + g.duration[t] + shift[l]
        open[l].removeLast()
      }
    }

    while let l32 = work.popLast() {
      let l = Int(l32)
      queued[l] = false
      let hi = plan.laneOffsets[l + 1]
      let device = plan.isDeviceLane[l]
      lane: while cursor[l] < hi {
        let e = Int(plan.laneEvents[cursor[l]])
        let s = g.start[e]
        if done[e] {
          // A barrier member completed by its instance: finish it on this lane.
          if device {
            prevEnd[l] = max(prevEnd[l], end[e])
            shift[l] = start[e] - s
          } else {
            shift[l] = end[e] - (s + g.duration[e])
          }
          notify(e)
          cursor[l] += 1
          continue
        }
        if device {
          switch plan.role[e] {
          case .deviceWork:
            var ready = Int64.min
            if prevEnd[l] != Int64.min && plan.streamLag[e] != Int64.min { ready = prevEnd[l] + plan.streamLag[e] }
            let launch = Int(plan.launchFrom[e])
            if launch >= 0 {
              if !done[launch] { break lane }
              ready = max(ready, start[launch] + plan.launchLag[e])
            }
            if ready == Int64.min { ready = s }
            let inst = Int(plan.instance[e])
            if inst >= 0 {
              if arrival[e] == Int64.min {
                arrival[e] = ready
                instArrived[inst] += 1
                instMax[inst] = max(instMax[inst], ready)
                let members = plan.members(of: inst)
                if Int(instArrived[inst]) == members.count {
                  let finish = instMax[inst] + transfers[inst]
                  for m in members {
                    let mi = Int(m)
                    start[mi] = arrival[mi]
                    end[mi] = finish
                    done[mi] = true
                    if mi != e { enqueue(g.lane[mi].index) }
                  }
                }
              }
              if !done[e] { break lane }
              continue lane  // finished above through the done[e] path
            }
            start[e] = ready
            end[e] = ready + durations[e]
            prevEnd[l] = max(prevEnd[l], end[e])
            shift[l] = ready - s
          default:
            start[e] = s + shift[l]
            end[e] = g.start[e] + g.duration[e] + shift[l]
          }
        } else {
          closeOpen(l, upTo: s)
          switch plan.role[e] {
          case .hostSync:
            let d = Int(plan.syncFrom[e])
            if !done[d] { break lane }
            start[e] = s + shift[l]
            end[e] = max(start[e] + plan.syncOwn[e], end[d] + plan.syncTail[e])
            shift[l] = end[e] - (s + g.duration[e])
          case .hostBarrier:
            let inst = Int(plan.instance[e])
            if arrival[e] == Int64.min {
              let a = s + shift[l]
              arrival[e] = a
              instArrived[inst] += 1
              instMax[inst] = max(instMax[inst], a)
              let members = plan.members(of: inst)
              if Int(instArrived[inst]) == members.count {
                let finish = instMax[inst] + transfers[inst]
                for m in members {
                  let mi = Int(m)
                  start[mi] = arrival[mi]
                  end[mi] = finish
                  done[mi] = true
                  if mi != e { enqueue(g.lane[mi].index) }
                }
              }
            }
            if !done[e] { break lane }
            continue lane
          case .hostParent:
            start[e] = s + shift[l]
            open[l].append(Int32(e))
          default:
            start[e] = s + shift[l]
            end[e] = start[e] + durations[e]
            shift[l] += durations[e] - g.duration[e]
          }
        }
        done[e] = true
        notify(e)
        cursor[l] += 1
      }
      if cursor[l] == hi && !device { closeOpen(l, upTo: Int64.max) }
    }

    for l in 0..<laneCount where cursor[l] < plan.laneOffsets[l + 1] {
      let stuck = (0..<laneCount).reduce(0) { $0 + plan.laneOffsets[$1 + 1] - cursor[$1] }
      let e = Int(plan.laneEvents[cursor[l]])
      throw ReplayError.deadlock(
        stuckEvents: stuck,
        example: "'\(g.strings[g.name[e]])' (rank \(g.rank(of: e)), \(g.lanes[l].kind.name) \(g.strings[g.lanes[l].name]), source event #\(g.sourceIndex[e]))")
    }
    return Timeline(start: start, end: end)
  }

  /// Identity replay: measured durations and transfer times.
  public func replay(_ plan: ReplayPlan) throws -> Timeline {
    try replay(plan, durations: plan.graph.duration, transfers: plan.instanceTransfer)
  }
}
