import TraceModel

extension KinetoGraphBuilder {
  /// Sync edges, device work → synchronize call: for each `…Synchronize` call on a host thread,
  /// the latest device work that ended inside the call and was launched before it (searched
  /// among the 64 latest ends inside the call).
  func syncEdges(lanes: Lanes, launchedBy: [Int32], in b: EventGraph.Builder) -> [(EventID, EventID)] {
    var deviceByEnd = (0..<b.eventCount).filter {
      b.kind[$0].isDeviceWork || b.kind[$0] == .collective && lanes.isDevice(b.lane[$0])
    }
    deviceByEnd.sort { (b.start[$0] + b.duration[$0], $0) < (b.start[$1] + b.duration[$1], $1) }
    let deviceEnds = deviceByEnd.map { b.start[$0] + b.duration[$0] }
    var edges: [(EventID, EventID)] = []
    for e in 0..<b.eventCount where b.kind[e] == .sync && !lanes.isDevice(b.lane[e]) {
      let name = b.strings[b.name[e]]
      guard name.hasSuffix("Synchronize") || name == "cuCtxSynchronize" else { continue }
      let s = b.start[e]
      let en = s + b.duration[e]
      var k = deviceEnds.countAtOrBefore(en) { $0 } - 1
      var steps = 0
      while k >= 0 && deviceEnds[k] >= s && steps < 64 {
        let d = deviceByEnd[k]
        let h = launchedBy[d]
        if h >= 0 && b.start[Int(h)] < s {
          edges.append((EventID(d), EventID(e)))
          break
        }
        k -= 1
        steps += 1
      }
    }
    return edges
  }

  /// The profiler steps: host annotations named `ProfilerStep#N`, by number then start.
  func profilerSteps(lanes: Lanes, in b: EventGraph.Builder) -> [Step] {
    var steps: [Step] = []
    for e in 0..<b.eventCount where b.kind[e] == .annotation && !lanes.isDevice(b.lane[e]) {
      let name = b.strings[b.name[e]]
      if name.hasPrefix("ProfilerStep#"), let num = Int(name.dropFirst("ProfilerStep#".count)) {
        steps.append(
          Step(
            rank: rank, number: num, start: Nanoseconds(b.start[e]),
            end: Nanoseconds(b.start[e] + b.duration[e]), event: EventID(e)))
      }
    }
    steps.sort { ($0.number, $0.start) < ($1.number, $1.start) }
    return steps
  }
}
