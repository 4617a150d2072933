import TraceModel

/// How well a host execution trace linked with its rank's Kineto trace.
public struct ETLinkSummary: Sendable, Equatable {
  public var rank: Int
  public var file: String
  /// ET operator nodes (the profiler's per-thread roots left out).
  public var etOps: Int
  /// Of those, matched to a Kineto CPU op or annotation.
  public var matchedOps: Int
  /// Kernels (device work with a launch) whose launch falls inside the matched ops' time span.
  public var kernels: Int
  /// Of those, the ones whose launch sits inside a matched op (their parent op in the ET).
  public var kernelsWithParent: Int
  /// Data-dependency edges added between matched ops (tensor produced → consumed).
  public var dataEdges: Int
  public var opFraction: Double { etOps > 0 ? Double(matchedOps) / Double(etOps) : 0 }
  public var kernelFraction: Double { kernels > 0 ? Double(kernelsWithParent) / Double(kernels) : 0 }
}

/// Links a PyTorch host execution trace with the Kineto trace of the same rank.
///
/// PyTorch's ET numbers ops by record-function entry (`rf_id`), but Kineto traces of this era do
/// not carry that id, so the link is by order and name, per thread, as Chakra's trace linker
/// falls back to: ET ops in entry order are aligned with the Kineto CPU ops and annotations of
/// one host thread in start order (runtime `cuda*` calls and profiler steps left out). The ET
/// usually covers one iteration of a longer Kineto capture, so the alignment first finds the
/// anchor (the Kineto position where the ET's first ops match best), then walks both sequences,
/// matching each ET op to the next Kineto op of the same name within a window of 64 and
/// skipping ET ops with no partner (recorded, counted). Each ET thread takes the Kineto thread
/// where it matches most.
///
/// Matched ops gain the ET's data dependencies (`data` edges from the op that wrote a tensor to
/// each later op that reads it); kernels gain their parent op: the nearest matched ancestor of
/// their launch call. Mismatches (an op in one trace only, e.g. one more all_reduce in the ET
/// than in Kineto) are counted in the summary, never fatal.
public enum ETLinker {
  static let window = 64
  static let anchorProbe = 64

  public static func link(_ g: EventGraph, _ et: ExecutionTrace, file: String, rank: RankID,
                          diagnostics: inout Diagnostics) -> (EventGraph, ETLinkSummary) {
    // Interned names.
    var nameID: [String: Int] = [:]
    func intern(_ s: String) -> Int {
      if let v = nameID[s] { return v }
      let v = nameID.count
      nameID[s] = v
      return v
    }
    // ET ops per thread, in entry order.
    var etByTid: [Int64: [Int]] = [:]
    for (i, n) in et.nodes.enumerated() where !ExecutionTrace.isRoot(n.name) && (n.category == nil || n.category == "cpu_op" || n.category == "user_annotation") {
      etByTid[n.tid, default: []].append(i)
    }
    for k in etByTid.keys { etByTid[k]!.sort { (et.nodes[$0].rfID ?? et.nodes[$0].id, et.nodes[$0].id) < (et.nodes[$1].rfID ?? et.nodes[$1].id, et.nodes[$1].id) } }
    // Kineto candidates per host lane, in start order.
    var kByLane: [Int: [Int]] = [:]
    for e in 0..<g.eventCount where g.rank(of: e) == rank && g.lanes[g.lane[e].index].kind == .hostThread {
      switch g.kind[e] {
      case .hostOp, .annotation, .collective, .send, .recv, .other: break
      default: continue
      }
      let name = g.strings[g.name[e]]
      if name.hasPrefix("cuda") || name.hasPrefix("hip") || name.hasPrefix("ProfilerStep#") || name.hasPrefix("PyTorch Profiler") { continue }
      kByLane[g.lane[e].index, default: []].append(e)
    }
    for k in kByLane.keys { kByLane[k]!.sort { (g.start[$0], -g.duration[$0], $0) < (g.start[$1], -g.duration[$1], $1) } }

    func align(_ a: [Int], _ b: [Int], times: [Int64], near: ClosedRange<Int64>?, limit: Int? = nil) -> [(Int, Int)] {
      // a, b: name ids. Anchor on the best of the candidate starts for the first few ET ops.
      guard !a.isEmpty, !b.isEmpty else { return [] }
      // Greedy walk: each ET op takes the next Kineto op of its name within the window. After a
      // run of misses (the sequences drifted apart), re-anchor on the next position ahead where
      // the coming ET ops match again.
      func walk(from j0: Int, count: Int) -> [(Int, Int)] {
        var out: [(Int, Int)] = []
        var j = j0
        var misses = 0
        var i = 0
        let n = min(count, a.count)
        while i < n && j < b.count {
          var k = j
          let end = min(b.count, j + window)
          while k < end && b[k] != a[i] { k += 1 }
          // A far match must be confirmed by the next ops, else this op is one the Kineto trace lacks.
          if k < end && (k - j <= 2 || confirmed(i + 1, from: k + 1)) {
            out.append((i, k)); j = k + 1; misses = 0
          } else {
            misses += 1
            if misses >= 4, let r = resync(i: i + 1, from: j, limit: 20 * window) { j = r; misses = 0 }
          }
          i += 1
        }
        return out
      }
      // How many of a[i ..< i+count] match in order after `from`, each within `reach` of the last.
      func hitsAhead(_ i: Int, from: Int, count: Int, reach: Int) -> (hits: Int, probed: Int) {
        var hits = 0, q = from, probed = 0
        for t in i..<min(a.count, i + count) {
          var k = q
          let stop = min(b.count, q + reach)
          while k < stop && b[k] != a[t] { k += 1 }
          if k < stop { hits += 1; q = k + 1 }
          probed += 1
        }
        return (hits, probed)
      }
      // Whether the next 3 ET ops match right after `from` (2 of 3, each within 8).
      func confirmed(_ i: Int, from: Int) -> Bool {
        let h = hitsAhead(i, from: from, count: 3, reach: 8)
        return h.hits >= min(2, h.probed)
      }
      // The first position in b[from ..< from+limit] where a[i ..< i+8] match in order (≥ 6 of 8).
      func resync(i: Int, from: Int, limit: Int) -> Int? {
        guard i < a.count else { return nil }
        let end = min(b.count, from + limit)
        var p = from
        while p < end {
          if b[p] == a[i] {
            let h = hitsAhead(i, from: p, count: 8, reach: 16)
            if h.hits >= min(6, h.probed) { return p }
          }
          p += 1
        }
        return nil
      }
      var best = (score: -1, start: 0)
      var tried = 0
      for first in 0..<min(4, a.count) {
        for j in 0..<b.count where b[j] == a[first] && (near.map { $0.contains(times[j]) } ?? true) {
          let s = walk(from: j, count: anchorProbe).count
          if s > best.score { best = (s, j) }
          tried += 1
          if tried > 4000 { break }
        }
      }
      guard best.score >= 0 else { return [] }
      // Exact alignment (a longest common subsequence, Myers' diff) of the ET ops with the Kineto
      // ops from the anchor on; the greedy walk when the two differ too much for it.
      let lo = max(0, best.start - 16), hi = min(b.count, best.start + 2 * a.count + 64)
      if let pairs = myersMatches(a, Array(b[lo..<hi]), maxEdits: 3000) {
        return pairs.map { ($0.0, $0.1 + lo) }
      }
      return walk(from: best.start, count: limit ?? a.count)
    }

    var match = [Int](repeating: -1, count: et.nodes.count)
    var usedLanes = Set<Int>()
    // The largest thread anchors anywhere; the others near it in time (one iteration of a
    // longer capture: forward and backward threads of the same step).
    var near: ClosedRange<Int64>? = nil
    for tid in etByTid.keys.sorted(by: { (etByTid[$0]!.count, $1) > (etByTid[$1]!.count, $0) }) {
      let ops = etByTid[tid]!
      let a = ops.map { intern(et.nodes[$0].name) }
      var best: (lane: Int, pairs: [(Int, Int)])? = nil
      for lane in kByLane.keys.sorted() where !usedLanes.contains(lane) {
        let events = kByLane[lane]!
        let b = events.map { intern(g.strings[g.name[$0]]) }
        var pairs = align(a, b, times: events.map { g.start[$0] }, near: near)
        if pairs.isEmpty && near != nil { pairs = align(a, b, times: events.map { g.start[$0] }, near: nil) }
        if best == nil || pairs.count > best!.pairs.count { best = (lane, pairs) }
      }
      guard let best, !best.pairs.isEmpty else { continue }
      usedLanes.insert(best.lane)
      let events = kByLane[best.lane]!
      for (i, k) in best.pairs { match[ops[i]] = events[k] }
      if near == nil {
        let t0 = best.pairs.map { g.start[events[$0.1]] }.min()!, t1 = best.pairs.map { g.end(events[$0.1]) }.max()!
        near = (t0 - (t1 - t0))...(t1 + (t1 - t0))
      }
    }

    var b = g.toBuilder()
    // Data dependencies: last writer of each tensor → later readers.
    var lastWriter: [Int64: Int] = [:]
    var added = Set<Int64>()
    var dataEdges = 0
    let order = et.nodes.indices.sorted { (et.nodes[$0].rfID ?? et.nodes[$0].id, et.nodes[$0].id) < (et.nodes[$1].rfID ?? et.nodes[$1].id, et.nodes[$1].id) }
    for i in order {
      let n = et.nodes[i]
      if match[i] >= 0 {
        for t in n.inputTensors {
          guard let w = lastWriter[t], match[w] >= 0, match[w] != match[i] else { continue }
          let from = match[w], to = match[i]
          guard g.start[from] <= g.start[to] else { continue }
          let key = Int64(from) << 32 | Int64(to)
          if added.insert(key).inserted { b.addEdge(from: EventID(from), to: EventID(to), kind: .data); dataEdges += 1 }
        }
      }
      for t in n.outputTensors { lastWriter[t] = i }
    }
    // Kernels and their parent op.
    var isMatched = [Bool](repeating: false, count: g.eventCount)
    var lo = Int64.max, hi = Int64.min
    for m in match where m >= 0 { isMatched[m] = true; lo = min(lo, g.start[m]); hi = max(hi, g.end(m)) }
    var kernels = 0, withParent = 0
    for from in 0..<g.eventCount where g.rank(of: from) == rank && g.lanes[g.lane[from].index].kind == .hostThread {
      for (to, kind) in g.edges(from: EventID(from)) where kind == .launch {
        guard g.start[from] >= lo && g.start[from] <= hi else { continue }
        kernels += 1
        var p = from
        while p >= 0 && !isMatched[p] { p = g.parent[p] == .none ? -1 : g.parent[p].index }
        if p >= 0 { withParent += 1 }
        _ = to
      }
    }
    let etOps = etByTid.values.reduce(0) { $0 + $1.count }
    let summary = ETLinkSummary(rank: Int(rank.rawValue), file: file, etOps: etOps, matchedOps: match.filter { $0 >= 0 }.count,
                                kernels: kernels, kernelsWithParent: withParent, dataEdges: dataEdges)
    let loc = TraceLocation(file: file)
    diagnostics.note("et.linked", String(format: "execution trace linked: %d of %d ops matched to Kineto ops (%.1f%%), %d of %d kernels have an ET parent op (%.1f%%), %d data dependencies added",
                                        summary.matchedOps, etOps, 100 * summary.opFraction, withParent, kernels, 100 * summary.kernelFraction, dataEdges), at: loc)
    if etOps > 0 && summary.opFraction < 0.5 {
      diagnostics.warning("et.poorLink", String(format: "only %.1f%% of the execution trace's ops match the Kineto trace of rank %d: are they from the same run?", 100 * summary.opFraction, Int(rank.rawValue)), at: loc)
    }
    return (b.build(), summary)
  }

  /// The matched positions of a longest common subsequence of `a` and `b` (Myers, "An O(ND)
  /// Difference Algorithm and Its Variations", Algorithmica 1986, §2–3), or nil when more than
  /// `maxEdits` insertions and deletions separate them. Memory O(D²) for the trace, D ≤ maxEdits.
  static func myersMatches(_ a: [Int], _ b: [Int], maxEdits: Int) -> [(Int, Int)]? {
    let n = a.count, m = b.count
    let maxD = min(n + m, maxEdits)
    let offset = maxD + 1
    var v = [Int32](repeating: 0, count: 2 * maxD + 3)
    var trace: [[Int32]] = []  // trace[d]: v[k] for k in -d...d at the start of round d
    var found = -1
    search: for d in 0...maxD {
      trace.append(Array(v[(offset - d)...(offset + d)]))
      for k in stride(from: -d, through: d, by: 2) {
        var x: Int
        if k == -d || (k != d && v[offset + k - 1] < v[offset + k + 1]) { x = Int(v[offset + k + 1]) } else { x = Int(v[offset + k - 1]) + 1 }
        var y = x - k
        while x < n && y < m && a[x] == b[y] { x += 1; y += 1 }
        v[offset + k] = Int32(x)
        if x >= n && y >= m { found = d; break search }
      }
    }
    guard found >= 0 else { return nil }
    var out: [(Int, Int)] = []
    var x = n, y = m
    var d = found
    while d > 0 {
      let prev = trace[d]  // v at the start of round d, indexed k + d
      func at(_ k: Int) -> Int { Int(prev[k + d]) }
      let k = x - y
      let down = k == -d || (k != d && at(k - 1) < at(k + 1))
      let prevK = down ? k + 1 : k - 1
      let prevX = at(prevK), prevY = prevX - prevK
      let startX = down ? prevX : prevX + 1
      while x > startX && y > startX - k { x -= 1; y -= 1; out.append((x, y)) }
      x = prevX; y = prevY
      d -= 1
    }
    while x > 0 && y > 0 { x -= 1; y -= 1; out.append((x, y)) }
    return out.reversed()
  }

  /// The graph of an execution trace alone: one host thread per `tid`, one event per op, nested by
  /// parent; ET+ nodes keep their `ts`/`dur`, plain ET ops have no times (zero, with a note).
  public static func graph(_ et: ExecutionTrace, file: String, rank: RankID, diagnostics: inout Diagnostics) -> EventGraph {
    var b = EventGraph.Builder()
    b.ranks.append(RankInfo(rank: rank, file: file))
    var laneOf: [String: Int] = [:]
    var index: [Int64: Int] = [:]
    var timed = 0
    for (i, n) in et.nodes.enumerated() { index[n.id] = i }
    for n in et.nodes {
      let device = n.category == "kernel" || n.category == "gpu_memcpy" || n.category == "gpu_memset"
      let key = (device ? "d" : "h") + String(n.tid)
      if laneOf[key] == nil {
        laneOf[key] = b.lanes.count
        b.lanes.append(Lane(rank: rank, kind: device ? .deviceStream : .hostThread, device: device ? 0 : -1, pid: et.pid ?? 0, tid: n.tid,
                            name: b.strings.intern(device ? "stream \(n.tid)" : "thread \(n.tid)")))
      }
      let start = n.ts.map { Int64(($0 * 1000).rounded()) } ?? 0
      let dur = n.dur.map { Int64(($0 * 1000).rounded()) } ?? 0
      if n.ts != nil { timed += 1 }
      let kind: EventKind = ExecutionTrace.isRoot(n.name) ? .annotation : device ? (n.category == "kernel" ? .kernel : .memcpy) : .hostOp
      b.addEvent(lane: LaneID(laneOf[key]!), name: b.strings.intern(n.name), kind: kind, start: start, duration: dur)
    }
    for (i, n) in et.nodes.enumerated() {
      if let p = index[n.parent], p != i, b.lane[p] == b.lane[i] { b.parent[i] = EventID(p) }
    }
    if timed == 0 {
      diagnostics.note("et.untimed", "the execution trace has no times (ts/dur): give the rank's Kineto trace too to link them", at: TraceLocation(file: file))
    }
    return b.build()
  }
}
