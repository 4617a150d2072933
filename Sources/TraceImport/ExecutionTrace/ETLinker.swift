import TraceModel

/// How well a host execution trace linked with its rank's Kineto trace.
public struct ETLinkSummary: Sendable, Equatable, Codable {
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

  /// Links `et` with the Kineto graph `g` of `rank`: matches ops, adds data edges, finds the
  /// kernels' parent ops; the summary goes to `diagnostics` too.
  public static func link(
    _ g: EventGraph, _ et: ExecutionTrace, file: String, rank: RankID,
    diagnostics: inout Diagnostics
  ) -> (EventGraph, ETLinkSummary) {
    let etByTid = etOpsByThread(et)
    let match = matchOps(et, etByTid: etByTid, with: g, kinetoByLane: kinetoOpsByLane(g, rank: rank))
    var b = g.toBuilder()
    let edges = dataEdges(et, match: match, in: g)
    for (from, to) in edges { b.addEdge(from: from, to: to, kind: .data) }
    let (kernels, withParent) = kernelParents(g, rank: rank, match: match)
    let etOps = etByTid.values.reduce(0) { $0 + $1.count }
    let summary = ETLinkSummary(
      rank: Int(rank.rawValue), file: file, etOps: etOps,
      matchedOps: match.filter { $0 >= 0 }.count, kernels: kernels,
      kernelsWithParent: withParent, dataEdges: edges.count)
    report(summary, diagnostics: &diagnostics)
    return (b.build(), summary)
  }

  /// The ET's operator nodes per thread, in entry order (`rf_id`, then id); the profiler's roots
  /// and nodes of other categories left out.
  static func etOpsByThread(_ et: ExecutionTrace) -> [Int64: [Int]] {
    var etByTid: [Int64: [Int]] = [:]
    for (i, n) in et.nodes.enumerated() where !ExecutionTrace.isRoot(n.name) {
      guard n.category == nil || n.category == "cpu_op" || n.category == "user_annotation" else { continue }
      etByTid[n.tid, default: []].append(i)
    }
    return etByTid.mapValues { $0.sorted { entryOrder(et.nodes[$0]) < entryOrder(et.nodes[$1]) } }
  }

  /// A node's position in entry order: its `rf_id` (else its id), then its id.
  static func entryOrder(_ n: ExecutionTrace.Node) -> (Int64, Int64) { (n.rfID ?? n.id, n.id) }

  /// The Kineto events of `rank` that ET ops can match, per host lane, in start order: CPU ops,
  /// annotations and host communication; runtime calls and profiler steps left out.
  static func kinetoOpsByLane(_ g: EventGraph, rank: RankID) -> [Int: [Int]] {
    var kByLane: [Int: [Int]] = [:]
    for e in 0..<g.eventCount where g.rank(of: e) == rank && g.lanes[g.lane[e].index].kind == .hostThread {
      switch g.kind[e] {
      case .hostOp, .annotation, .collective, .send, .recv, .other: break
      default: continue
      }
      let name = g.strings[g.name[e]]
      if name.hasPrefix("cuda") || name.hasPrefix("hip") || name.hasPrefix("ProfilerStep#")
        || name.hasPrefix("PyTorch Profiler")
      {
        continue
      }
      kByLane[g.lane[e].index, default: []].append(e)
    }
    return kByLane.mapValues { $0.sorted { (g.start[$0], -g.duration[$0], $0) < (g.start[$1], -g.duration[$1], $1) } }
  }

  /// The Kineto event each ET node matches, or -1.
  ///
  /// Threads go largest first; each takes the unused Kineto lane where it matches most. The
  /// largest thread anchors anywhere; the others near it in time (one iteration of a longer
  /// capture: forward and backward threads of the same step).
  static func matchOps(
    _ et: ExecutionTrace, etByTid: [Int64: [Int]], with g: EventGraph,
    kinetoByLane kByLane: [Int: [Int]]
  ) -> [Int] {
    var names = NameNumbers()
    var match = [Int](repeating: -1, count: et.nodes.count)
    var usedLanes = Set<Int>()
    var near: ClosedRange<Int64>? = nil
    // Each Kineto lane's name numbers and start times, once (names are compared by number only).
    let lanes = kByLane.sorted(by: { $0.key < $1.key }).map { lane, events in
      (lane: lane, numbers: events.map { names.number(g.strings[g.name[$0]]) }, times: events.map { g.start[$0] })
    }
    for (_, ops) in etByTid.sorted(by: { ($0.value.count, $1.key) > ($1.value.count, $0.key) }) {
      let a = ops.map { names.number(et.nodes[$0].name) }
      var best: (lane: Int, pairs: [(Int, Int)])? = nil
      for (lane, numbers, times) in lanes where !usedLanes.contains(lane) {
        let aligner = SequenceAligner(a: a, b: numbers, times: times)
        var pairs = aligner.align(near: near)
        if pairs.isEmpty && near != nil { pairs = aligner.align(near: nil) }
        if best.map({ pairs.count > $0.pairs.count }) ?? true { best = (lane, pairs) }
      }
      guard let best, !best.pairs.isEmpty, let events = kByLane[best.lane] else { continue }
      usedLanes.insert(best.lane)
      for (i, k) in best.pairs { match[ops[i]] = events[k] }
      if near == nil, let t0 = best.pairs.map({ g.start[events[$0.1]] }).min(),
        let t1 = best.pairs.map({ g.end(events[$0.1]) }).max()
      {
        near = (t0 - (t1 - t0))...(t1 + (t1 - t0))
      }
    }
    return match
  }

  /// Data dependencies between matched ops: the last writer of each tensor → its later readers
  /// (in entry order, each pair once, only forward in time).
  static func dataEdges(_ et: ExecutionTrace, match: [Int], in g: EventGraph) -> [(EventID, EventID)] {
    var lastWriter: [Int64: Int] = [:]
    var added = Set<Int64>()
    var edges: [(EventID, EventID)] = []
    for i in et.nodes.indices.sorted(by: { entryOrder(et.nodes[$0]) < entryOrder(et.nodes[$1]) }) {
      let n = et.nodes[i]
      if match[i] >= 0 {
        for t in n.inputTensors {
          guard let w = lastWriter[t], match[w] >= 0, match[w] != match[i] else { continue }
          let from = match[w]
          let to = match[i]
          guard g.start[from] <= g.start[to] else { continue }
          if added.insert(Int64(from) << 32 | Int64(to)).inserted { edges.append((EventID(from), EventID(to))) }
        }
      }
      for t in n.outputTensors { lastWriter[t] = i }
    }
    return edges
  }

  /// Kernels launched within the matched ops' time span, and how many of them have a matched
  /// ancestor of their launch call (their parent op in the ET).
  static func kernelParents(_ g: EventGraph, rank: RankID, match: [Int]) -> (kernels: Int, withParent: Int) {
    var isMatched = [Bool](repeating: false, count: g.eventCount)
    var lo = Int64.max
    var hi = Int64.min
    for m in match where m >= 0 {
      isMatched[m] = true
      lo = min(lo, g.start[m])
      hi = max(hi, g.end(m))
    }
    var kernels = 0
    var withParent = 0
    for from in 0..<g.eventCount where g.rank(of: from) == rank && g.lanes[g.lane[from].index].kind == .hostThread {
      for (_, kind) in g.edges(from: EventID(from)) where kind == .launch {
        guard g.start[from] >= lo && g.start[from] <= hi else { continue }
        kernels += 1
        var p = from
        while p >= 0 && !isMatched[p] { p = g.parent[p] == .none ? -1 : g.parent[p].index }
        if p >= 0 { withParent += 1 }
      }
    }
    return (kernels, withParent)
  }

  /// Notes how well the trace linked, and warns when too few ops matched.
  static func report(_ summary: ETLinkSummary, diagnostics: inout Diagnostics) {
    let loc = TraceLocation(file: summary.file)
    let linked = String(
      format: "execution trace linked: %d of %d ops matched to Kineto ops (%.1f%%), "
        + "%d of %d kernels have an ET parent op (%.1f%%), %d data dependencies added",
      summary.matchedOps, summary.etOps, 100 * summary.opFraction, summary.kernelsWithParent,
      summary.kernels, 100 * summary.kernelFraction, summary.dataEdges)
    diagnostics.note("et.linked", linked, at: loc)
    if summary.matchedOps < summary.etOps {
      diagnostics.dataLoss(
        "et.unmatchedOps",
        "execution-trace ops that match no Kineto op of rank \(summary.rank) are not in the graph "
          + "(their data dependencies are not added)", at: loc, count: summary.etOps - summary.matchedOps)
    }
    if summary.etOps > 0 && summary.opFraction < 0.5 {
      let poor = String(
        format: "only %.1f%% of the execution trace's ops match the Kineto trace of rank %d: "
          + "are they from the same run?", 100 * summary.opFraction, summary.rank)
      diagnostics.warning("et.poorLink", poor, at: loc)
    }
  }

  /// The graph of an execution trace alone: one host thread per `tid`, one event per op, nested by
  /// parent; ET+ nodes keep their `ts`/`dur`, plain ET ops have no times (zero, with a note).
  public static func graph(_ et: ExecutionTrace, file: String, rank: RankID, diagnostics: inout Diagnostics)
    -> EventGraph
  {
    var b = EventGraph.Builder()
    b.ranks.append(RankInfo(rank: rank, file: file))
    var laneOf: [String: Int] = [:]
    var index: [Int64: Int] = [:]
    var timed = 0
    for (i, n) in et.nodes.enumerated() { index[n.id] = i }
    for n in et.nodes {
      let device = n.category == "kernel" || n.category == "gpu_memcpy" || n.category == "gpu_memset"
      let key = (device ? "d" : "h") + String(n.tid)
      let lane: Int
      if let l = laneOf[key] {
        lane = l
      } else {
        lane = b.lanes.count
        laneOf[key] = lane
        b.lanes.append(
          Lane(
            rank: rank, kind: device ? .deviceStream : .hostThread, device: device ? 0 : -1,
            pid: et.pid ?? 0, tid: n.tid,
            name: b.strings.intern(device ? "stream \(n.tid)" : "thread \(n.tid)")))
      }
      let start = n.ts.map { Nanoseconds(microseconds: $0).rawValue } ?? 0
      let dur = n.dur.map { Nanoseconds(microseconds: $0).rawValue } ?? 0
      if n.ts != nil { timed += 1 }
      let kind: EventKind =
        ExecutionTrace.isRoot(n.name)
        ? .annotation : device ? (n.category == "kernel" ? .kernel : .memcpy) : .hostOp
      b.addEvent(lane: LaneID(lane), name: b.strings.intern(n.name), kind: kind, start: start, duration: dur)
    }
    for (i, n) in et.nodes.enumerated() {
      if let p = index[n.parent], p != i, b.lane[p] == b.lane[i] { b.parent[i] = EventID(p) }
    }
    if timed == 0 {
      diagnostics.note(
        "et.untimed",
        "the execution trace has no times (ts/dur): give the rank's Kineto trace too to link them",
        at: TraceLocation(file: file))
    }
    return b.build()
  }
}
