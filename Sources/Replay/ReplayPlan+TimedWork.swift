import TraceModel

extension ReplayPlan {
  /// The run's *timed work* per event (measured nanoseconds), the weights of
  /// `fidelity.coverage` (docs/replay.md, Fidelity):
  ///
  /// - device work (kernels, memcpy, memset, collectives and send/recv on device streams, and
  ///   gloo's collectives on their worker threads): its measured duration — for a member of a
  ///   collective instance or send/recv pair, the instance's transfer time (the last arriver's
  ///   duration), never more than its own duration, since the rest of a member's span is waiting
  ///   for peers;
  /// - host leaves on ranks with device streams (launch calls, runtime calls, leaf operators):
  ///   their measured duration;
  /// - on CPU-only ranks, every host operator's own time (its duration less its children's):
  ///   those operators are the rank's compute.
  ///
  /// Zero for everything else: annotations, memory markers, enclosing host ops on GPU ranks
  /// (their children are counted), synchronize calls (they wait) and host-side barrier members.
  public var timedWork: [Nanoseconds] {
    let g = graph
    let own = cpuOnlyRanks.isEmpty ? [] : Scenario.ownTime(self, graph.duration)
    var out = [Nanoseconds](repeating: .zero, count: g.eventCount)
    for e in 0..<g.eventCount {
      switch role[e] {
      case .deviceWork:
        let i = Int(instance[e])
        let d = g.duration[e]
        out[e] = Nanoseconds(rawValue: i >= 0 ? min(d, instanceTransfer[i].rawValue) : d)
      case .hostLeaf, .hostParent:
        guard g.kind[e] == .hostOp else { continue }
        if !own.isEmpty && cpuOnlyRanks.contains(g.rank(of: e)) {
          out[e] = Nanoseconds(rawValue: own[e])
        } else if role[e] == .hostLeaf {
          out[e] = Nanoseconds(rawValue: g.duration[e])
        }
      case .devicePassive, .hostSync, .hostBarrier:
        break
      }
    }
    return out
  }
}
