import TraceModel

/// Simulates a pipeline schedule: each stage runs its op list in order, without preemption; an
/// op starts when its stage is free and its dependency has ended (plus the transfer time when
/// the dependency ran on another stage).
///
/// Dependencies (Qi et al., Zero Bubble Pipeline Parallelism, ICLR'24, arXiv 2401.10241, §2): F of virtual stage k waits for F of k−1;
/// B (or fused BW) of k waits for B of k+1, the last virtual stage for its own F; W waits for
/// B on its stage. Virtual stage k = chunk·p + stage, so chunk c of stage p−1 feeds chunk c+1 of
/// stage 0 (Megatron's interleaving).
public enum ScheduleSimulator {
  public static func simulate(_ name: String, stages p: Int, microbatches m: Int, chunks requested: Int = 1, costs: PipelineCosts) throws -> ScheduleResult {
    let v = ScheduleGenerators.chunks(name, requested: requested)
    guard costs.forward.count == p, costs.backward.count == p, costs.weight.count == p else {
      throw ScheduleError.invalid("per-stage costs must list \(p) values")
    }
    let orders = try ScheduleGenerators.orders(name, stages: p, microbatches: m, chunks: v)
    let placement = ScheduleGenerators.placement(name)
    let V = p * v
    var fEnd = [[Int64]](repeating: [Int64](repeating: Int64.min, count: m), count: V)
    var bEnd = fEnd
    var cursor = [Int](repeating: 0, count: p)
    var free = [Int64](repeating: 0, count: p)
    var ops: [[(op: PipelineOp, start: Int64, end: Int64)]] = Array(repeating: [], count: p)
    let comm = costs.comm.rawValue
    func dur(_ op: PipelineOp) -> Int64 {
      let s = op.stage
      let d: Int64
      switch op.kind {
      case .F: d = costs.forward[s].rawValue
      case .B: d = costs.backward[s].rawValue
      case .W: d = costs.weight[s].rawValue
      case .BW: d = costs.backward[s].rawValue + costs.weight[s].rawValue
      }
      return d / Int64(v)
    }
    var remaining = orders.reduce(0) { $0 + $1.count }
    while remaining > 0 {
      var progress = false
      for s in 0..<p {
        stageLoop: while cursor[s] < orders[s].count {
          let op = orders[s][cursor[s]]
          let j = op.microbatch
          let k = placement.virtualStage(stage: s, chunk: op.chunk, microbatch: j, stages: p)
          var ready: Int64
          switch op.kind {
          case .F:
            if k == 0 { ready = 0 } else {
              let e = fEnd[k - 1][j]
              if e == Int64.min { break stageLoop }
              ready = e + (placement.stage(of: k - 1, microbatch: j, stages: p) == s ? 0 : comm)
            }
          case .B, .BW:
            if k == V - 1 {
              let e = fEnd[k][j]
              if e == Int64.min { break stageLoop }
              ready = e
            } else {
              let e = bEnd[k + 1][j]
              if e == Int64.min { break stageLoop }
              ready = e + (placement.stage(of: k + 1, microbatch: j, stages: p) == s ? 0 : comm)
            }
          case .W:
            let e = bEnd[k][j]
            if e == Int64.min { break stageLoop }
            ready = e
          }
          // Same-stage dependencies (F before its own B, B before W) are satisfied by the order.
          let start = max(free[s], ready)
          let end = start + dur(op)
          free[s] = end
          ops[s].append((op, start, end))
          if op.kind == .F { fEnd[k][j] = end } else if op.kind != .W { bEnd[k][j] = end }
          cursor[s] += 1
          remaining -= 1
          progress = true
          continue
        }
      }
      if !progress {
        let stuck = (0..<p).first { cursor[$0] < orders[$0].count }!
        throw ScheduleError.deadlock("stage \(stuck) waits on \(orders[stuck][cursor[stuck]]) whose dependency never runs")
      }
    }
    // Metrics.
    let spans = ops.map { ($0.last?.end ?? 0) - ($0.first?.start ?? 0) }
    let cost = spans.max() ?? 0
    let work = (0..<p).map { Int64(m) * (costs.forward[$0].rawValue + costs.backward[$0].rawValue + costs.weight[$0].rawValue) }
    let ideal = work.max() ?? 0
    let globalStart = ops.compactMap { $0.first?.start }.min() ?? 0
    let globalEnd = ops.compactMap { $0.last?.end }.max() ?? 0
    var busy = [Int64](repeating: 0, count: p), idle = busy, peak = busy
    var peakInFlight = [Int](repeating: 0, count: p)
    let memB = costs.memB.rawValue / Int64(v), memW = costs.memW.rawValue / Int64(v)
    for s in 0..<p {
      var mem: Int64 = 0, inFlight = 0
      for (op, st, en) in ops[s] {
        busy[s] += en - st
        switch op.kind {
        case .F: mem += memB; inFlight += 1
        case .B: mem -= memB - memW; inFlight -= 1
        case .W: mem -= memW
        case .BW: mem -= memB; inFlight -= 1
        }
        peak[s] = max(peak[s], mem)
        peakInFlight[s] = max(peakInFlight[s], inFlight)
      }
      idle[s] = (globalEnd - globalStart) - busy[s]
    }
    return ScheduleResult(
      name: name, stages: p, microbatches: m, chunks: v, ops: ops, makespan: cost,
      bubbleRate: cost > 0 ? Double(cost - ideal) / Double(cost) : 0,
      bubbleFraction: ideal > 0 ? Double(cost - ideal) / Double(ideal) : 0,
      busy: busy, idle: idle, peakActivation: peak, peakInFlight: peakInFlight)
  }

  /// PipeOffload (Wan et al., "PipeOffload: Improving Scalability of Pipeline Parallelism with
  /// Memory Optimization", arXiv 2503.01328): a fraction r of each micro-batch's activations
  /// (r·M_B) moves to host memory over PCIe after its forward and back before its backward.
  /// Only the micro-batch being computed must stay on the device, so the peak drops by
  /// r·M_B·(in-flight − 1); each transfer overlaps the next op on the stage, and what does not fit
  /// under it is added: per micro-batch max(0, r·M_B/BW − T_F) + max(0, r·M_B/BW − T_B).
  public static func offload(_ result: ScheduleResult, costs: PipelineCosts, ratio r: Double, pcie: BytesPerSecond) -> ScheduleResult {
    var out = result
    let moved = r * Double(costs.memB.rawValue)
    let transfer = moved / pcie.rawValue * 1e9
    var saved: [Int64] = [], added: [Int64] = [], after: [Int64] = []
    for s in 0..<result.stages {
      let save = Int64(moved * Double(max(result.peakInFlight[s] - 1, 0)) / Double(result.chunks))
      saved.append(save)
      after.append(result.peakActivation[s] - save)
      let f = Double(costs.forward[s].rawValue), b = Double(costs.backward[s].rawValue)
      added.append(Int64((Double(result.microbatches) * (max(0, transfer - f) + max(0, transfer - b))).rounded()))
    }
    out.offload = ScheduleResult.Offload(ratio: r, pcieBytesPerSecond: pcie.rawValue, savedBytes: saved, addedNs: added,
                                         peakActivationAfter: after)
    return out
  }
}
