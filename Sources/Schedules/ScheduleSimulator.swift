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
  /// Generates schedule `name` and simulates it, with `requested` chunks per stage for the
  /// chunked schedules (nil: `ScheduleGenerators.defaultChunks`).
  /// - Throws: `ScheduleError` for an unknown schedule, a chunk count it cannot run with, costs
  ///   of the wrong length, or an order whose dependencies can never be met.
  public static func simulate(
    _ name: String, stages p: Int, microbatches m: Int, chunks requested: Int? = nil,
    costs: PipelineCosts
  ) throws -> ScheduleResult {
    let v = try ScheduleGenerators.chunks(name, requested: requested)
    guard costs.forward.count == p, costs.backward.count == p, costs.weight.count == p else {
      throw ScheduleError.invalid("per-stage costs must list \(p) values")
    }
    let orders = try ScheduleGenerators.orders(name, stages: p, microbatches: m, chunks: v)
    var run = Run(placement: ScheduleGenerators.placement(name), stages: p, microbatches: m, chunks: v, costs: costs)
    try run.execute(orders)
    return metrics(name, microbatches: m, chunks: v, costs: costs, ops: run.ops)
  }

  /// The schedule's cost (Zero Bubble's max stage span), bubble rate and fraction, and per stage
  /// busy and idle time, peak activation memory and peak micro-batches in flight.
  static func metrics(
    _ name: String, microbatches m: Int, chunks v: Int, costs: PipelineCosts,
    ops: [[(op: PipelineOp, start: Nanoseconds, end: Nanoseconds)]]
  ) -> ScheduleResult {
    let p = ops.count
    let spans = ops.map { ($0.last?.end ?? .zero) - ($0.first?.start ?? .zero) }
    let cost = spans.max() ?? .zero
    let perStage = (0..<p).map { s in (costs.forward[s] + costs.backward[s] + costs.weight[s]).rawValue * Int64(m) }
    let ideal = Nanoseconds(perStage.max() ?? 0)
    let globalStart = ops.compactMap { $0.first?.start }.min() ?? .zero
    let globalEnd = ops.compactMap { $0.last?.end }.max() ?? .zero
    var busy = [Nanoseconds](repeating: .zero, count: p)
    var idle = busy
    var peak = [Bytes](repeating: .zero, count: p)
    var peakInFlight = [Int](repeating: 0, count: p)
    let memB = costs.memB.rawValue / Int64(v)
    let memW = costs.memW.rawValue / Int64(v)
    for s in 0..<p {
      var mem: Int64 = 0
      var inFlight = 0
      for (op, st, en) in ops[s] {
        busy[s] += en - st
        switch op.kind {
        case .F: (mem, inFlight) = (mem + memB, inFlight + 1)
        case .B: (mem, inFlight) = (mem - (memB - memW), inFlight - 1)
        case .W: mem -= memW
        case .BW: (mem, inFlight) = (mem - memB, inFlight - 1)
        }
        peak[s] = max(peak[s], Bytes(mem))
        peakInFlight[s] = max(peakInFlight[s], inFlight)
      }
      idle[s] = (globalEnd - globalStart) - busy[s]
    }
    return ScheduleResult(
      name: name, stages: p, microbatches: m, chunks: v, ops: ops, makespan: cost,
      bubbleRate: cost > .zero ? (cost - ideal) / cost : 0, bubbleFraction: ideal > .zero ? (cost - ideal) / ideal : 0,
      busy: busy, idle: idle, peakActivation: peak, peakInFlight: peakInFlight)
  }

  /// The list scheduler: each stage runs its ops in order; an op starts when its stage is free
  /// and its cross-stage dependency has ended (plus the transfer time between stages).
  struct Run {
    let placement: Placement
    let stages: Int
    let chunks: Int
    let costs: PipelineCosts
    /// End of each virtual stage's forward and backward per micro-batch (`Int64.min`: not yet).
    var fEnd: [[Int64]]
    var bEnd: [[Int64]]
    var ops: [[(op: PipelineOp, start: Nanoseconds, end: Nanoseconds)]]

    init(placement: Placement, stages p: Int, microbatches m: Int, chunks v: Int, costs: PipelineCosts) {
      (self.placement, stages, chunks, self.costs) = (placement, p, v, costs)
      fEnd = [[Int64]](repeating: [Int64](repeating: Int64.min, count: m), count: p * v)
      bEnd = fEnd
      ops = Array(repeating: [], count: p)
    }

    /// An op's duration on its stage: the stage's cost split over the chunks.
    func duration(_ op: PipelineOp) -> Int64 {
      let s = op.stage
      let d: Nanoseconds
      switch op.kind {
      case .F: d = costs.forward[s]
      case .B: d = costs.backward[s]
      case .W: d = costs.weight[s]
      case .BW: d = costs.backward[s] + costs.weight[s]
      }
      return d.rawValue / Int64(chunks)
    }

    /// When `op` (virtual stage `k`) may start on stage `s`; nil while its dependency has not run.
    func ready(_ op: PipelineOp, virtualStage k: Int, stage s: Int) -> Int64? {
      let j = op.microbatch
      let virtualStages = stages * chunks
      let comm = costs.comm.rawValue
      func after(_ e: Int64, from other: Int) -> Int64? {
        e == Int64.min ? nil : e + (placement.stage(of: other, microbatch: j, stages: stages) == s ? 0 : comm)
      }
      switch op.kind {
      case .F: return k == 0 ? 0 : after(fEnd[k - 1][j], from: k - 1)
      case .B, .BW:
        return k == virtualStages - 1
          ? (fEnd[k][j] == Int64.min ? nil : fEnd[k][j]) : after(bEnd[k + 1][j], from: k + 1)
      case .W: return bEnd[k][j] == Int64.min ? nil : bEnd[k][j]
      }
    }

    /// Runs every stage's order to the end; same-stage dependencies (F before its own B, B
    /// before W) hold by the order.
    /// - Throws: `ScheduleError.deadlock` when no stage can make progress.
    mutating func execute(_ orders: [[PipelineOp]]) throws {
      var cursor = [Int](repeating: 0, count: stages)
      var free = [Int64](repeating: 0, count: stages)
      var remaining = orders.reduce(0) { $0 + $1.count }
      while remaining > 0 {
        var progress = false
        for s in 0..<stages {
          while cursor[s] < orders[s].count {
            let op = orders[s][cursor[s]]
            let k = placement.virtualStage(stage: s, chunk: op.chunk, microbatch: op.microbatch, stages: stages)
            guard let ready = ready(op, virtualStage: k, stage: s) else { break }
            let start = max(free[s], ready)
            let end = start + duration(op)
            free[s] = end
            ops[s].append((op, Nanoseconds(start), Nanoseconds(end)))
            if op.kind == .F { fEnd[k][op.microbatch] = end } else if op.kind != .W { bEnd[k][op.microbatch] = end }
            cursor[s] += 1
            remaining -= 1
            progress = true
          }
        }
        if !progress, let stuck = (0..<stages).first(where: { cursor[$0] < orders[$0].count }) {
          throw ScheduleError.deadlock(
            "stage \(stuck) waits on \(orders[stuck][cursor[stuck]]) whose dependency never runs")
        }
      }
    }
  }

  /// PipeOffload (Wan et al., "PipeOffload: Improving Scalability of Pipeline Parallelism with
  /// Memory Optimization", arXiv 2503.01328): a fraction r of each micro-batch's activations
  /// (r·M_B) moves to host memory over PCIe after its forward and back before its backward.
  /// Only the micro-batch being computed must stay on the device, so the peak drops by
  /// r·M_B·(in-flight − 1); each transfer overlaps the next op on the stage, and what does not fit
  /// under it is added: per micro-batch max(0, r·M_B/BW − T_F) + max(0, r·M_B/BW − T_B).
  public static func offload(_ result: ScheduleResult, costs: PipelineCosts, ratio r: Double, pcie: BytesPerSecond)
    -> ScheduleResult
  {
    var out = result
    let moved = r * Double(costs.memB.rawValue)
    let transfer = moved / pcie.rawValue * 1e9
    var saved: [Bytes] = []
    var added: [Nanoseconds] = []
    var after: [Bytes] = []
    for s in 0..<result.stages {
      let save = Bytes(
        Int64(saturating: moved * Double(max(result.peakInFlight[s] - 1, 0)) / Double(result.chunks), rule: .towardZero)
      )
      saved.append(save)
      after.append(result.peakActivation[s] - save)
      let f = Double(costs.forward[s].rawValue)
      let b = Double(costs.backward[s].rawValue)
      added.append(
        Nanoseconds(
          rawValue: Int64(saturating: Double(result.microbatches) * (max(0, transfer - f) + max(0, transfer - b)))))
    }
    out.offload = ScheduleResult.Offload(
      ratio: r, pcieBandwidth: pcie, saved: saved, added: added, peakActivationAfter: after)
    return out
  }
}
