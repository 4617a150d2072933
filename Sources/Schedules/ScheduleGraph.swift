import TraceModel

extension ScheduleResult {
  /// The simulated schedule as an `EventGraph`, to replay through the same engine as recorded
  /// traces (what-if knobs, timelines).
  ///
  /// One rank and one device stream per stage; one kernel per op (`F3`, `B3`, `W3`, `BW3`, with
  /// `.c1` for chunks), GEMM class; program order on each stage; a `data` edge from each op's
  /// cross-stage dependency (F from the previous virtual stage's F, B from the next one's B).
  /// Transfer time is not modelled as events (the dependency edges carry none).
  public func eventGraph() -> EventGraph {
    var b = EventGraph.Builder()
    let placement = ScheduleGenerators.placement(name)
    for s in 0..<stages {
      b.lanes.append(
        Lane(
          rank: RankID(s), kind: .deviceStream, device: Int32(s), pid: Int64(s), tid: 0,
          name: b.strings.intern("stage \(s)")))
      b.ranks.append(RankInfo(rank: RankID(s), file: "schedule:\(name)", worldSize: stages))
    }
    struct Key: Hashable {
      var kind: PipelineOp.Kind
      var k: Int
      var j: Int
    }
    var id: [Key: EventID] = [:]
    for (s, stageOps) in ops.enumerated() {
      var prev: EventID? = nil
      for (op, start, end) in stageOps {
        let k = placement.virtualStage(stage: s, chunk: op.chunk, microbatch: op.microbatch, stages: stages)
        let label = "\(op.kind.rawValue)\(op.microbatch)\(chunks > 1 ? ".c\(op.chunk)" : "")"
        let e = b.addEvent(
          lane: LaneID(s), name: b.strings.intern(label), kind: .kernel, detail: ComputeClass.gemm.rawValue,
          start: start.rawValue, duration: (end - start).rawValue)
        if let prev { b.addEdge(from: prev, to: e, kind: .programOrder) }
        prev = e
        id[Key(kind: op.kind == .BW ? .B : op.kind, k: k, j: op.microbatch)] = e
      }
    }
    let virtualStages = stages * chunks
    for (s, stageOps) in ops.enumerated() {
      for (op, _, _) in stageOps {
        let k = placement.virtualStage(stage: s, chunk: op.chunk, microbatch: op.microbatch, stages: stages)
        // Every op was added above under this key.
        guard let me = id[Key(kind: op.kind == .BW ? .B : op.kind, k: k, j: op.microbatch)] else { continue }
        var dep: EventID? = nil
        switch op.kind {
        case .F: if k > 0 { dep = id[Key(kind: .F, k: k - 1, j: op.microbatch)] }
        case .B, .BW: dep = k == virtualStages - 1 ? nil : id[Key(kind: .B, k: k + 1, j: op.microbatch)]
        case .W: dep = nil
        }
        if let dep, b.lane[dep.index] != b.lane[me.index] { b.addEdge(from: dep, to: me, kind: .data) }
      }
    }
    return b.build()
  }
}
