/// Builds op orders for schedules defined by a placement and a priority rule rather than a
/// fixed formula (ZB-V, Hanayo, BitPipe): an event-driven list scheduler with unit-free
/// durations (F = B = W = 1, fused B+W = 2, per chunk) where each idle stage picks, among its
/// ready ops, a backward first (deepest virtual stage, oldest micro-batch), else a forward if its
/// activations in flight are under the limit (deepest virtual stage first, so started
/// micro-batches finish before new ones enter), else a pending W. The resulting order is then
/// simulated with the real costs.
enum Greedy {
  static func orders(
    stages p: Int, microbatches m: Int, chunks v: Int, placement: Placement, splitBackward: Bool,
    admit: Int = Int.max, limit: @escaping (Int) -> Int
  ) throws -> [[PipelineOp]] {
    var g = GreedyState(
      stages: p, microbatches: m, chunks: v, placement: placement, splitBackward: splitBackward,
      admit: admit, limit: limit)
    let total = p * v * m * (splitBackward ? 3 : 2)
    while g.count < total {
      var progressed = false
      for s in 0..<p where g.free[s] <= g.time {
        progressed = g.step(stage: s) || progressed
      }
      if !progressed {
        if (0..<p).allSatisfy({ g.free[$0] <= g.time }) && !(0..<p).contains(where: { !g.pendingW[$0].isEmpty }) {
          // Nothing runs and nothing can start: every stage waits on work blocked by a limit.
          let waiting = (0..<p).map { "\(g.inFlight[$0]) in flight on stage \($0) (limit \(limit($0)))" }
          throw ScheduleError.deadlock(
            "the greedy order cannot continue at step \(g.time): \(waiting.joined(separator: ", "))")
        }
        g.time += 1
      }
    }
    return g.orders
  }
}

/// The greedy scheduler's state: end times of every scheduled F and B, each stage's order, when
/// it is free, its activations in flight, and the admission count.
private struct GreedyState {
  let p: Int
  let m: Int
  let placement: Placement
  let splitBackward: Bool
  let admit: Int
  let limit: (Int) -> Int
  let virtualStages: Int
  /// End time of each virtual stage's F and B per micro-batch (-1: not scheduled).
  var fDone: [[Int]]
  var bDone: [[Int]]
  var orders: [[PipelineOp]]
  var free: [Int]
  var inFlight: [Int]
  /// Micro-batches started (first F) and finished (last B): admission control.
  var started = 0
  var finished = 0
  var pendingW: [[(k: Int, j: Int)]]
  /// Per stage and virtual stage: the micro-batches whose F (B) is not scheduled yet, ascending
  /// (the ops `placement` puts on that stage; the pick rules scan only these).
  var todoF: [[[Int]]]
  var todoB: [[[Int]]]
  var count = 0
  var time = 0

  init(
    stages p: Int, microbatches m: Int, chunks v: Int, placement: Placement, splitBackward: Bool, admit: Int,
    limit: @escaping (Int) -> Int
  ) {
    (self.p, self.m, self.placement, self.splitBackward, self.admit, self.limit) =
      (p, m, placement, splitBackward, admit, limit)
    virtualStages = p * v
    fDone = [[Int]](repeating: [Int](repeating: -1, count: m), count: p * v)
    bDone = fDone
    orders = [[PipelineOp]](repeating: [], count: p)
    free = [Int](repeating: 0, count: p)
    inFlight = [Int](repeating: 0, count: p)
    pendingW = [[(k: Int, j: Int)]](repeating: [], count: p)
    todoF = [[[Int]]](repeating: [[Int]](repeating: [], count: p * v), count: p)
    for k in 0..<(p * v) {
      for j in 0..<m { todoF[placement.stage(of: k, microbatch: j, stages: p)][k].append(j) }
    }
    todoB = todoF
  }

  /// Schedules one op on idle stage `s`: a backward, else a forward, else a pending W.
  /// Returns whether it scheduled anything.
  mutating func step(stage s: Int) -> Bool {
    if let b = readyBackward(stage: s) {
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
      if let i = todoB[s][b.k].firstIndex(of: b.j) { todoB[s][b.k].remove(at: i) }
      if b.k == 0 { finished += 1 }
      inFlight[s] -= 1
    } else if inFlight[s] < limit(s), let f = readyForward(stage: s) {
      orders[s].append(PipelineOp(kind: .F, stage: s, chunk: f.k / p, microbatch: f.j))
      free[s] = time + 1
      fDone[f.k][f.j] = free[s]
      if let i = todoF[s][f.k].firstIndex(of: f.j) { todoF[s][f.k].remove(at: i) }
      if f.k == 0 { started += 1 }
      inFlight[s] += 1
    } else if !pendingW[s].isEmpty {
      let w = pendingW[s].removeFirst()
      orders[s].append(PipelineOp(kind: .W, stage: s, chunk: w.k / p, microbatch: w.j))
      free[s] = time + 1
    } else {
      return false
    }
    count += 1
    return true
  }

  /// The ready backward of stage `s`: deepest virtual stage first, then the oldest micro-batch.
  func readyBackward(stage s: Int) -> (k: Int, j: Int)? {
    for k in stride(from: virtualStages - 1, through: 0, by: -1) {
      // A virtual stage's micro-batches become ready in order (each list is ascending and its
      // dependencies ran in that order on one stage), so the first one not ready ends the scan.
      for j in todoB[s][k] {
        let ready = k == virtualStages - 1 ? fDone[k][j] : bDone[k + 1][j]
        if ready >= 0 && ready <= time && fDone[k][j] >= 0 && fDone[k][j] <= time { return (k, j) }
        break
      }
    }
    return nil
  }

  /// The ready forward of stage `s` (deepest virtual stage first); a new micro-batch enters
  /// only while fewer than `admit` are started and unfinished.
  func readyForward(stage s: Int) -> (k: Int, j: Int)? {
    for k in stride(from: virtualStages - 1, through: 0, by: -1) {
      for j in todoF[s][k] {
        if k == 0 && started - finished >= admit { break }
        let ready = k == 0 ? 0 : fDone[k - 1][j]
        if ready >= 0 && ready <= time { return (k, j) }
        break
      }
    }
    return nil
  }
}
