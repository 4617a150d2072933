import CostModels
import TraceModel

/// What a piece of an iteration's work is, for the attention / linear / other split.
public enum WorkCategory: String, Sendable, Codable, CaseIterable {
  case attention, linear, other
}

/// One measured piece of an iteration that the what-ifs re-time: an outermost framework op on a
/// CPU rank, or one device kernel (copy, set) on a GPU rank with the op that launched it.
public struct WorkItem: Sendable, Equatable {
  /// Measured ns.
  public var duration: Double
  public var category: WorkCategory
  /// The op whose shapes size it (the launching op on GPUs, the captured op for CUDA-graph
  /// kernels); empty when none is known.
  public var op: String
  /// Recorded `Input Dims` and `Input type` of that op; empty when the trace has none.
  public var dims: [[Int64]]
  public var types: [String]
  /// A framework op timed on the host (a CPU-only iteration), not device work.
  public var onHost = false
  public var sized: Bool { !dims.isEmpty }
}

/// An op captured into a CUDA/HIP graph: what launched the graph's kernel at that position.
public struct CapturedOp: Sendable, Equatable {
  public var op: String
  public var dims: [[Int64]]
  public var types: [String]
  public init(op: String, dims: [[Int64]], types: [String]) {
    self.op = op
    self.dims = dims
    self.types = types
  }
}

/// An iteration taken apart into work items and time kept as measured.
public struct IterationProfile: Sendable, Equatable {
  public var iteration: ServingIteration
  public var items: [WorkItem]
  /// The rest of the iteration (host, framework, idle), ns: its duration less the work items,
  /// negative when work on several streams or threads overlaps.
  public var kept: Double
  /// Batch, query tokens per request and KV length, from the annotation or the attention shapes.
  public var batch: Int
  public var queryLength: Int
  public var kvLength: Int
  /// Bytes per element of the recorded KV cache (the attention's K input), nil when unseen.
  public var kvElementBytes: Double?
  /// K and V bytes the attention ops read (recorded shapes), nil without attention shapes.
  public var kvBytesRead: Double?
  /// Bytes per element of the weights (the first GEMM's weight input), nil when unseen.
  public var weightElementBytes: Double?

  public func time(_ c: WorkCategory) -> Double {
    let sum = items.filter { $0.category == c }.reduce(0) { $0 + $1.duration }
    return c == .other ? sum + kept : sum
  }
}

/// Builds iteration profiles from a graph (docs/models/serving.md, "Taking an iteration apart").
public struct ProfileBuilder {
  let graph: EventGraph
  let captured: [EventID: CapturedOp]
  var shapeOf: [Int: Int] = [:]

  public init(_ graph: EventGraph, captured: [EventID: CapturedOp] = [:]) {
    self.graph = graph
    self.captured = captured
    for (i, s) in graph.opShapes.enumerated() { shapeOf[s.event.index] = i }
  }

  static let attentionOps: Set<String> = [
    "aten::scaled_dot_product_attention", "aten::_scaled_dot_product_flash_attention",
    "aten::_scaled_dot_product_efficient_attention", "aten::_scaled_dot_product_cudnn_attention",
    "aten::_flash_attention_forward", "aten::_efficient_attention_forward",
    "aten::_scaled_dot_product_flash_attention_for_cpu",
  ]
  static let linearOps: Set<String> = [
    "aten::linear", "aten::addmm", "aten::mm", "aten::matmul", "aten::bmm", "aten::baddbmm",
  ]

  /// attention for attention ops and kernels, linear for GEMM ops and kernels, other otherwise.
  static func category(op: String, kernel: String = "", compute: ComputeClass? = nil) -> WorkCategory {
    if attentionOps.contains(op) { return .attention }
    let lower = (op + " " + kernel).lowercased()
    if lower.contains("attention") || lower.contains("attn") || lower.contains("flash_fwd")
      || compute == .attention
    {
      return .attention
    }
    if linearOps.contains(op) || op.hasSuffix("_gemm") || compute == .gemm { return .linear }
    return .other
  }

  /// A framework op (`aten::…`, `vllm::…`), not a Python frame or a runtime call.
  func isOp(_ e: Int) -> Bool {
    guard graph.kind[e] == .hostOp else { return false }
    let name = graph.strings[graph.name[e]]
    return name.contains("::") && !name.contains(".py(") && !name.hasPrefix("<")
  }

  func shape(_ e: Int) -> ([[Int64]], [String]) {
    guard let i = shapeOf[e] else { return ([], []) }
    let s = graph.opShapes[i]
    return (ShapeText.dims(graph.strings[s.dims]), ShapeText.strings(graph.strings[s.types]))
  }

  /// The nearest enclosing op (itself included) with shapes, else the nearest op.
  func launchingOp(_ e: Int) -> Int? {
    var p = e
    var firstOp: Int? = nil
    while p != EventID.none.index {
      if isOp(p) {
        if shapeOf[p] != nil { return p }
        firstOp = firstOp ?? p
      }
      p = graph.parent[p].index
    }
    return firstOp
  }

  /// The profiles of `iterations`.
  public func profiles(_ iterations: [ServingIteration]) -> [IterationProfile] {
    let g = graph
    var hostByRank: [RankID: [Int]] = [:]
    for e in 0..<g.eventCount where g.lanes[g.lane[e].index].kind == .hostThread && g.kind[e] != .memory {
      hostByRank[g.rank(of: e), default: []].append(e)
    }
    for r in hostByRank.keys { hostByRank[r]?.sort { (g.start[$0], $0) < (g.start[$1], $1) } }
    return iterations.map { profile($0, host: hostByRank[$0.rank] ?? []) }
  }

  func profile(_ it: ServingIteration, host: [Int]) -> IterationProfile {
    let g = graph
    let lo = host.countAtOrBefore(it.start - 1) { g.start[$0] }
    var inside: [Int] = []
    var i = lo
    // The delimiting range on the host; a whole-rank iteration is the rank's whole span.
    let hostEnd = it.source == .wholeRank ? it.end : g.end(it.event.index)
    let lane = g.lane[it.event.index]
    while i < host.count, g.start[host[i]] < hostEnd {
      let e = host[i]
      // The iteration's own thread (a whole-rank iteration: every thread).
      if (g.end(e) <= hostEnd || e == it.event.index) && (it.source == .wholeRank || g.lane[e] == lane) {
        inside.append(e)
      }
      i += 1
    }
    var device: [(Int, Int)] = []  // (device event, launcher)
    for e in inside {
      for (t, k) in g.edges(from: EventID(e)) where k == .launch && g.kind[t.index].isDeviceWork {
        device.append((t.index, e))
      }
    }
    var items: [WorkItem] = []
    if device.isEmpty {
      let set = Set(inside)
      for e in inside where isOp(e) {
        var p = g.parent[e].index
        var nested = false
        while p != EventID.none.index, set.contains(p) {
          if isOp(p) { nested = true }
          p = g.parent[p].index
        }
        if nested { continue }
        let name = g.strings[g.name[e]]
        let (dims, types) = shape(e)
        items.append(
          WorkItem(
            duration: Double(g.duration[e]), category: Self.category(op: name), op: name, dims: dims, types: types,
            onHost: true))
      }
    } else {
      device.sort { (g.start[$0.0], $0.0) < (g.start[$1.0], $1.0) }
      for (d, launcher) in device {
        let kernel = g.strings[g.name[d]]
        let compute = g.kind[d] == .kernel ? ComputeClass(rawValue: g.detail[d]) : nil
        var op = ""
        var dims: [[Int64]] = []
        var types: [String] = []
        if let c = captured[EventID(d)] {
          (op, dims, types) = (c.op, c.dims, c.types)
        } else if let o = launchingOp(launcher) {
          op = g.strings[g.name[o]]
          (dims, types) = shape(o)
        }
        items.append(
          WorkItem(
            duration: Double(g.duration[d]), category: Self.category(op: op, kernel: kernel, compute: compute), op: op,
            dims: dims, types: types))
      }
    }
    let busy = items.reduce(0) { $0 + $1.duration }
    var p = IterationProfile(
      iteration: it, items: items, kept: Double(it.duration) - busy, batch: it.batch ?? 1,
      queryLength: it.queryLength ?? 1, kvLength: it.kvLength ?? 0)
    fillShapes(&p)
    return p
  }

  /// Batch, query and KV length from the first attention op with shapes (q [b, h, s, d],
  /// k [b, h_kv, t, d]; flash layouts [b, s, h, d]), else the first linear input [b, s, k];
  /// K/V bytes read from all attention shapes.
  func fillShapes(_ p: inout IterationProfile) {
    var kvRead = 0.0
    var sawAttention = false
    for item in p.items where item.category == .attention && item.sized {
      guard let a = AttentionShape(op: item.op, dims: item.dims, types: item.types) else { continue }
      if !sawAttention {
        if p.iteration.batch == nil { p.batch = a.batch }
        if p.iteration.queryLength == nil { p.queryLength = a.query }
        if p.iteration.kvLength == nil { p.kvLength = a.kv }
        p.kvElementBytes = a.kvElementBytes
      }
      sawAttention = true
      kvRead += a.kvBytes
    }
    if sawAttention { p.kvBytesRead = kvRead }
    if let gemm = p.items.first(where: { $0.category == .linear && $0.sized }) {
      // The weight input: linear(x, W, b) and mm(a, W) second, addmm(bias, a, W) third.
      let i = gemm.op == "aten::addmm" || gemm.op == "aten::baddbmm" ? 2 : 1
      if gemm.types.count > i, DType(name: gemm.types[i]) != nil {
        p.weightElementBytes = OpCost.elementBytes(gemm.types[i])
      }
    }
    var known = sawAttention || p.iteration.batch != nil
    if !sawAttention, p.iteration.batch == nil,
      let lin = p.items.first(where: { $0.op == "aten::linear" && $0.sized }), lin.dims[0].count == 3
    {
      p.batch = Int(lin.dims[0][0])
      p.queryLength = Int(lin.dims[0][1])
      known = true
    }
    if p.iteration.queryLength == nil, p.iteration.kind == .decode { p.queryLength = 1 }
    if p.iteration.kind == .forward, p.items.contains(where: { $0.op.lowercased().contains("backward") }) {
      p.iteration.kind = .training
    }
    guard known else { return }
    if p.iteration.tokens == nil { p.iteration.tokens = p.batch * p.queryLength }
    if p.iteration.batch == nil { p.iteration.batch = p.batch }
    if p.iteration.kvLength == nil, sawAttention || p.kvLength > 0 { p.iteration.kvLength = p.kvLength }
    if p.iteration.queryLength == nil { p.iteration.queryLength = p.queryLength }
    if p.iteration.kind == .forward, sawAttention {
      p.iteration.kind = p.queryLength > 1 ? .prefill : .decode
    }
  }
}

/// The shapes of an attention op: q [b, h, s, d], k and v [b, h_kv, t, d] (SDPA layout), or
/// [b, s, h, d] for `_flash_attention_forward` / `_efficient_attention_forward`.
struct AttentionShape {
  var batch: Int
  var heads: Int
  var query: Int
  var kv: Int
  var headDim: Int
  var kvHeads: Int
  var elementBytes: Double
  var kvElementBytes: Double
  /// K and V bytes.
  var kvBytes: Double { 2 * Double(batch * kvHeads * kv * headDim) * kvElementBytes }

  init?(op: String, dims: [[Int64]], types: [String]) {
    guard dims.count >= 3, dims[0].count == 4, dims[1].count == 4 else { return nil }
    let q = dims[0]
    let k = dims[1]
    let flash = op.hasPrefix("aten::_flash") || op.hasPrefix("aten::_efficient")
    (batch, heads, query, headDim) =
      flash ? (Int(q[0]), Int(q[2]), Int(q[1]), Int(q[3])) : (Int(q[0]), Int(q[1]), Int(q[2]), Int(q[3]))
    (kvHeads, kv) = flash ? (Int(k[2]), Int(k[1])) : (Int(k[1]), Int(k[2]))
    elementBytes = OpCost.elementBytes(types.first ?? "")
    kvElementBytes = OpCost.elementBytes(types.count > 1 ? types[1] : (types.first ?? ""))
  }
}
