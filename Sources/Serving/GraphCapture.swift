import TraceModel

/// CUDA/HIP graphs: the kernels a graph launch replays, each given the op that launched it
/// while the graph was captured (docs/models/serving.md, "CUDA graphs").
///
/// A graph-execution trace shows the replayed kernels, all correlated to one `cudaGraphLaunch`
/// (`hipGraphLaunch`), but not the framework ops behind them: those ran once, at capture. The
/// capture trace (vLLM and SGLang write one per captured batch size) has the launches between
/// `cudaStreamBeginCapture` and `cudaStreamEndCapture` inside their ops, with shapes, and no
/// kernels. A graph replays its kernels in capture order, so the n-th replayed kernel (by start
/// time) gets the n-th captured launch's op.
public struct GraphCapture: Sendable, Equatable {
  /// The ops behind the captured launches, in capture order.
  public var ops: [CapturedOp]
  /// Each replayed kernel of the execution trace mapped to its captured op.
  public var map: [EventID: CapturedOp] = [:]
  /// Kernels the execution trace's graph launches replayed, and how many were mapped.
  public var replayed = 0
  public var mapped: Int { map.count }

  /// The captured launches of `capture` (the first capture window of any thread).
  public init(capture g: EventGraph) {
    let builder = ProfileBuilder(g)
    var begin: Int? = nil
    var end: Int? = nil
    for e in 0..<g.eventCount where g.kind[e] == .hostOp || g.kind[e] == .sync {
      let name = g.strings[g.name[e]]
      if begin == nil, name.hasSuffix("StreamBeginCapture") { begin = e }
      if let b = begin, end == nil, e != b, name.hasSuffix("StreamEndCapture"), g.lane[e] == g.lane[b] { end = e }
    }
    var launches: [Int] = []
    if let b = begin {
      let stop = end.map { g.start[$0] } ?? .max
      for e in 0..<g.eventCount where g.kind[e] == .hostOp && g.lane[e] == g.lane[b] {
        guard g.start[e] > g.start[b], g.start[e] < stop else { continue }
        if g.strings[g.name[e]].contains("LaunchKernel") { launches.append(e) }
      }
    }
    launches.sort { (g.start[$0], $0) < (g.start[$1], $1) }
    ops = launches.map { e in
      guard let o = builder.launchingOp(e) else { return CapturedOp(op: "", dims: [], types: []) }
      let (dims, types) = builder.shape(o)
      return CapturedOp(op: g.strings[g.name[o]], dims: dims, types: types)
    }
  }

  /// Maps the kernels replayed by `exec`'s graph launches onto the captured ops, position by
  /// position (each launch replays the whole graph from its first op).
  public mutating func apply(to g: EventGraph) {
    map = [:]
    replayed = 0
    for e in 0..<g.eventCount where g.kind[e] == .hostOp && g.strings[g.name[e]].hasSuffix("GraphLaunch") {
      var kernels: [Int] = []
      for (t, k) in g.edges(from: EventID(e)) where k == .launch && g.kind[t.index] == .kernel {
        kernels.append(t.index)
      }
      kernels.sort { (g.start[$0], $0) < (g.start[$1], $1) }
      replayed += kernels.count
      for (i, k) in kernels.enumerated() where i < ops.count { map[EventID(k)] = ops[i] }
    }
  }
}
