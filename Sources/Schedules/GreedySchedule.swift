/// Builds op orders for schedules defined by a placement and a priority rule rather than a
/// fixed formula (ZB-V, Hanayo, BitPipe): an event-driven list scheduler with unit-free
/// durations (F = B = W = 1, fused B+W = 2, per chunk) where each idle stage picks, among its
/// ready ops, a backward first (deepest virtual stage, oldest micro-batch), else a forward if its
/// activations in flight are under the limit (deepest virtual stage first, so started
/// micro-batches finish before new ones enter), else a pending W. The resulting order is then
/// simulated with the real costs.
enum Greedy {
  static func orders(stages p: Int, microbatches m: Int, chunks v: Int, placement: Placement, splitBackward: Bool,
                     admit: Int = Int.max, limit: (Int) -> Int) throws -> [[PipelineOp]] {
    let V = p * v
    var fDone = [[Int]](repeating: [Int](repeating: -1, count: m), count: V)  // end time
    var bDone = fDone
    var orders = [[PipelineOp]](repeating: [], count: p)
    var free = [Int](repeating: 0, count: p)
    var inFlight = [Int](repeating: 0, count: p)
    // Micro-batches started (first F) but not finished (last B): admission control.
    var started = 0, finished = 0
    var pendingW = [[(k: Int, j: Int)]](repeating: [], count: p)
    var scheduledF = Set<Int>(), scheduledB = Set<Int>()
    let total = V * m * (splitBackward ? 3 : 2)
    var count = 0
    var time = 0
    func key(_ k: Int, _ j: Int) -> Int { k * m + j }
    while count < total {
      var progressed = false
      for s in 0..<p where free[s] <= time {
        // Ready backward ops on this stage.
        var best: (k: Int, j: Int)? = nil
        for k in stride(from: V - 1, through: 0, by: -1) {
          for j in 0..<m where placement.stage(of: k, microbatch: j, stages: p) == s && !scheduledB.contains(key(k, j)) {
            let ready = k == V - 1 ? fDone[k][j] : bDone[k + 1][j]
            if ready >= 0 && ready <= time && fDone[k][j] >= 0 && fDone[k][j] <= time { best = (k, j); break }
          }
          if best != nil { break }
        }
        if let b = best {
          let c = b.k / p
          if splitBackward {
            orders[s].append(PipelineOp(kind: .B, stage: s, chunk: c, microbatch: b.j))
            pendingW[s].append(b)
            free[s] = time + 1
          } else {
            orders[s].append(PipelineOp(kind: .BW, stage: s, chunk: c, microbatch: b.j))
            free[s] = time + 2
          }
          bDone[b.k][b.j] = free[s]
          scheduledB.insert(key(b.k, b.j))
          if b.k == 0 { finished += 1 }
          inFlight[s] -= 1
          count += 1
          progressed = true
          continue
        }
        var forward: (k: Int, j: Int)? = nil
        if inFlight[s] < limit(s) {
          search: for k in stride(from: V - 1, through: 0, by: -1) {
            for j in 0..<m where placement.stage(of: k, microbatch: j, stages: p) == s && !scheduledF.contains(key(k, j)) {
              if k == 0 && started - finished >= admit { continue }
              let ready = k == 0 ? 0 : fDone[k - 1][j]
              if ready >= 0 && ready <= time { forward = (k, j); break search }
            }
          }
        }
        if let f = forward {
          orders[s].append(PipelineOp(kind: .F, stage: s, chunk: f.k / p, microbatch: f.j))
          free[s] = time + 1
          fDone[f.k][f.j] = free[s]
          scheduledF.insert(key(f.k, f.j))
          if f.k == 0 { started += 1 }
          inFlight[s] += 1
          count += 1
          progressed = true
          continue
        }
        if !pendingW[s].isEmpty {
          let w = pendingW[s].removeFirst()
          orders[s].append(PipelineOp(kind: .W, stage: s, chunk: w.k / p, microbatch: w.j))
          free[s] = time + 1
          count += 1
          progressed = true
        }
      }
      if !progressed {
        if (0..<p).allSatisfy({ free[$0] <= time }) && !(0..<p).contains(where: { !pendingW[$0].isEmpty }) {
          // Nothing runs and nothing can start: every stage waits on work blocked by a limit.
          let waiting = (0..<p).map { "\(inFlight[$0]) in flight on stage \($0) (limit \(limit($0)))" }.joined(separator: ", ")
          throw ScheduleError.deadlock("the greedy order cannot continue at step \(time): \(waiting)")
        }
        time += 1
      }
    }
    return orders
  }
}
