import CostModels
import Replay
import TraceModel

/// The transformer dimensions of a recorded run, as one rank saw them: what lets an op's shapes
/// be re-partitioned (docs/models/parallel.md, "Reading the shapes").
///
/// From the shapes first: the hidden size is the last dimension of the norms' input, the heads
/// and head size come from the attention ops' query `[b, heads, s, d]`, the vocabulary is the
/// widest output of a linear layer whose input is the hidden size, the FFN width the other
/// widest. The micro-batch (sequences per rank per micro-batch) and the sequence length come
/// from the attention ops, else from the norms' `[b, s, h]`. What the shapes do not show comes
/// from `--model`.
public struct TransformerDims: Sendable, Equatable, Codable {
  /// Model width h.
  public var hidden: Int
  /// Attention heads of the whole model (per rank: heads / recorded TP).
  public var heads: Int
  public var headDim: Int
  /// FFN inner width of the whole model (0 when unknown).
  public var ffn: Int
  /// Vocabulary (0 when unknown).
  public var vocab: Int
  /// Transformer layers of the whole model.
  public var layers: Int
  /// Sequence length of one sample (all context-parallel ranks together).
  public var sequence: Int
  /// Sequences per micro-batch per rank, as recorded.
  public var microBatch: Int
  /// Where the numbers come from.
  public var source: String

  /// The widths a Megatron tensor-parallel split divides, as one rank of `tp` holds them, by
  /// kind: the fused QKV output, the FFN widths (plain and gated), the attention output's input
  /// (TP > 1); never the hidden size or the vocabulary themselves.
  func shardedWidths(tp: Int) -> [Int64: DimLabel] {
    var w: [Int64: DimLabel] = [:]
    func add(_ full: Int, _ l: DimLabel) {
      if full > 0 && full % tp == 0 && w[Int64(full / tp)] == nil { w[Int64(full / tp)] = l }
    }
    add(3 * hidden, .qkv)
    add(ffn, .ffn)
    add(2 * ffn, .ffn)
    if tp > 1 { add(hidden, .hiddenShard) }
    w[Int64(hidden)] = nil
    w[Int64(vocab)] = nil
    return w
  }
}

/// How one dimension of a recorded tensor changes with the layout and the model.
enum DimLabel: UInt8, Sendable {
  /// Unchanged (weights' other dimensions, scalars).
  case fixed
  /// Tokens of one micro-batch on one rank: batch × local sequence.
  case tokens
  /// Sequences of one micro-batch.
  case batch
  /// The local (context-parallel) sequence.
  case sequence
  /// The model width h (whole on every TP rank).
  case hidden
  /// The vocabulary (the LM head and the loss stay whole).
  case vocab
  /// The attention head size.
  case headDim
  /// TP shards: the fused QKV width, the FFN width, the attention output's input, the heads.
  case qkv, ffn, hiddenShard, heads

  var isSharded: Bool { self == .qkv || self == .ffn || self == .hiddenShard || self == .heads }
}

/// The factor each label scales by, from the recorded to a predicted layout (and model).
struct DimFactors: Hashable, Sendable {
  var batch: Double
  var sequence: Double
  /// Recorded TP / predicted TP.
  var shard: Double
  /// Predicted model's size / recorded model's size, per kind (1 for the same model).
  var model = ModelRatios()
  var tokens: Double { batch * sequence }

  struct ModelRatios: Hashable, Sendable {
    var hidden = 1.0
    var qkv = 1.0
    var ffn = 1.0
    var heads = 1.0
    var headDim = 1.0
    var vocab = 1.0
    var layers = 1.0
  }

  func factor(_ l: DimLabel) -> Double {
    switch l {
    case .fixed: return 1
    case .tokens: return tokens
    case .batch: return batch
    case .sequence: return sequence
    case .hidden: return model.hidden
    case .vocab: return model.vocab
    case .headDim: return model.headDim
    case .qkv: return model.qkv * shard
    case .ffn: return model.ffn * shard
    case .hiddenShard: return model.hidden * shard
    case .heads: return model.heads * shard
    }
  }
}

extension TransformerDims {
  static let attentionNames: Set<String> = [
    "aten::_scaled_dot_product_flash_attention", "aten::_scaled_dot_product_efficient_attention",
    "aten::_scaled_dot_product_cudnn_attention", "aten::_scaled_dot_product_flash_attention_for_cpu",
    "aten::scaled_dot_product_attention",
  ]
  static let normNames: Set<String> = [
    "aten::layer_norm", "aten::native_layer_norm", "aten::rms_norm", "aten::_fused_rms_norm",
  ]

  /// The dimensions of `graph` recorded with `tp`/`cp`: from the shapes, `model` filling what
  /// they do not show when it has the same width; nil when the shapes show no transformer (no
  /// attention and no norms) and no model is given. The layer count is left 0 (counted later).
  static func infer(_ graph: EventGraph, model: ModelSpec?, tp: Int, cp: Int) -> TransformerDims? {
    let g = graph
    var attention: [[Int64]: Int] = [:]
    var norms: [[Int64]: Int] = [:]
    var linears: [[Int64]] = []
    for s in g.opShapes {
      let name = g.strings[g.name[s.event.index]]
      let dims = OpCost.parseDims(g.strings[s.dims])
      if attentionNames.contains(name), let q = dims.first, q.count == 4 {
        attention[q, default: 0] += 1
      } else if normNames.contains(name), let x = dims.first, x.count >= 2 {
        norms[x, default: 0] += 1
      } else if name == "aten::linear", dims.count >= 2, dims[1].count == 2 {
        linears.append(dims[1])
      }
    }
    func mostCommon(_ d: [[Int64]: Int]) -> [Int64]? {
      d.max { ($0.value, $1.key.lexicographicallyPrecedes($0.key) ? 1 : 0) < ($1.value, 0) }?.key
    }
    let q = mostCommon(attention)
    let x = mostCommon(norms)
    guard q != nil || x != nil || model != nil else { return nil }
    let hidden = x?.last.map { Int($0) } ?? q.map { Int($0[1] * $0[3]) * tp } ?? model?.hidden ?? 0
    let heads = q.map { Int($0[1]) * tp } ?? model?.heads ?? 0
    let headDim = q.map { Int($0[3]) } ?? model?.headDim ?? (heads > 0 ? hidden / heads : 0)
    let (batch, localSeq): (Int, Int)
    if let q {
      (batch, localSeq) = (Int(q[0]), Int(q[2]))
    } else if let x, x.count >= 3 {
      (batch, localSeq) = (Int(x[0]), Int(x[1]))
    } else {
      (batch, localSeq) = (1, Int(x?.first ?? 1))
    }
    let fromHidden = linears.filter { $0[1] == Int64(hidden) }.map { Int($0[0]) }
    // The vocabulary: the widest linear output from the hidden size (the LM head), when it is
    // wider than an FFN would be, or --model of the same width agrees.
    let widest = fromHidden.max() ?? 0
    let sameModel = model.map { $0.hidden == hidden } ?? false
    let vocab =
      widest > 4 * hidden || (sameModel && widest == model?.vocab) ? widest : (sameModel ? model?.vocab ?? 0 : 0)
    let ffnGuess = fromHidden.filter { $0 != vocab && $0 != hidden && $0 * tp != 3 * hidden }.max().map { $0 * tp } ?? 0
    let ffn = ffnGuess > 0 ? ffnGuess : (sameModel ? model?.ffn ?? 0 : 0)
    return TransformerDims(
      hidden: hidden, heads: heads, headDim: headDim, ffn: ffn, vocab: vocab, layers: 0,
      sequence: localSeq * cp, microBatch: batch,
      source: sameModel ? "the op shapes and --model \(model?.name ?? "")" : "the op shapes")
  }
}

/// Labels the dimensions of one op's recorded inputs (docs/models/parallel.md, "Reading the
/// shapes"): rows as tokens, or batch × sequence; a projection's two feature dimensions as the
/// hidden size and one TP-sharded width (QKV, FFN, or the attention output's input); the heads
/// of attention; the hidden size and vocabulary elsewhere.
struct ShapeLabeler {
  let dims: TransformerDims
  let tp: Int
  let cp: Int
  let sharded: [Int64: DimLabel]
  var tokens: Int64 { Int64(dims.microBatch * dims.sequence / cp) }
  var localSequence: Int64 { Int64(dims.sequence / cp) }
  var heads: Int64 { Int64(dims.heads / tp) }
  var hidden: Int64 { Int64(dims.hidden) }

  init(dims: TransformerDims, tp: Int, cp: Int) {
    self.dims = dims
    self.tp = tp
    self.cp = cp
    sharded = dims.shardedWidths(tp: tp)
  }

  /// The label of a feature dimension: hidden, vocabulary, a sharded width, else fixed.
  func feature(_ v: Int64) -> DimLabel {
    if v == hidden { return .hidden }
    if v == Int64(dims.vocab) && dims.vocab > 0 { return .vocab }
    return sharded[v] ?? .fixed
  }

  /// Labels of every dimension of every input of op `name`.
  func labels(name: String, dims d: [[Int64]]) -> [[DimLabel]] {
    var out = d.map { [DimLabel](repeating: .fixed, count: $0.count) }
    if TransformerDims.attentionNames.contains(name) || name.hasPrefix("aten::_scaled_dot_product") {
      // [b, heads, s, d]: the batch, the heads (TP) and, for the query (first input), the
      // local sequence (CP: keys and values travel the ring, the queries stay).
      for (i, s) in d.enumerated() where s.count == 4 {
        if s[0] == Int64(dims.microBatch) { out[i][0] = .batch }
        if s[1] == heads { out[i][1] = .heads }
        if i == 0 && s[2] == localSequence { out[i][2] = .sequence }
        if s[3] == Int64(dims.headDim) { out[i][3] = .headDim }
      }
      return out
    }
    switch name {
    case "aten::linear":
      guard d.count >= 2, d[1].count == 2, let x = d.first, !x.isEmpty else { return generic(d) }
      labelRows(x, &out[0], upTo: x.count - 1)
      let (k, n) = project(d[1][1], d[1][0])
      (out[0][x.count - 1], out[1][1], out[1][0]) = (k, k, n)
      if d.count > 2, d[2].count == 1 { out[2][0] = n }
      return out
    case "aten::addmm":
      guard d.count >= 3, d[1].count == 2, d[2].count == 2 else { return generic(d) }
      if d[1][0] == tokens { out[1][0] = .tokens }
      let (k, n) = project(d[1][1], d[2][1])
      (out[1][1], out[2][0], out[2][1]) = (k, k, n)
      if let last = d[0].indices.last { out[0][last] = n }
      return out
    case "aten::mm":
      guard d.count >= 2, d[0].count == 2, d[1].count == 2 else { return generic(d) }
      let (a, b, c) = (d[0][0], d[0][1], d[1][1])
      if a == tokens {
        out[0][0] = .tokens
        let (x, y) = project(b, c)
        (out[0][1], out[1][0], out[1][1]) = (x, x, y)
      } else if b == tokens {
        (out[0][1], out[1][0]) = (.tokens, .tokens)
        let (x, y) = project(a, c)
        (out[0][0], out[1][1]) = (x, y)
      }
      return out
    default:
      return generic(d)
    }
  }

  /// The labels of a projection's two feature dimensions. A Megatron projection has one equal to
  /// the hidden size and the other a sharded width (QKV, FFN, or at TP 1 the attention output's
  /// second hidden size, split row-wise, taken as the first); the LM head (vocabulary) and the
  /// rest stay whole.
  func project(_ first: Int64, _ second: Int64) -> (DimLabel, DimLabel) {
    if first == hidden, let l = sharded[second] { return (.hidden, l) }
    if second == hidden, let l = sharded[first] { return (l, .hidden) }
    if first == hidden && second == hidden { return tp == 1 ? (.hiddenShard, .hidden) : (.hidden, .hidden) }
    return (feature(first), feature(second))
  }

  /// The leading (row) dimensions of an activation: tokens, or batch and sequence.
  func labelRows(_ s: [Int64], _ l: inout [DimLabel], upTo end: Int) {
    if end == 1, s[0] == tokens { l[0] = .tokens }
    if end >= 2 {
      if s[0] == Int64(dims.microBatch) { l[0] = .batch }
      if s[1] == localSequence { l[1] = .sequence }
    }
  }

  /// Elementwise ops, norms, losses and the rest: rows as tokens or batch × sequence; a
  /// trailing width as hidden, vocabulary or (with rows, or alone: a bias gradient) sharded;
  /// four-dimensional `[b, heads, s, d]` tensors as attention's.
  func generic(_ d: [[Int64]]) -> [[DimLabel]] {
    d.map { s in
      var l = [DimLabel](repeating: .fixed, count: s.count)
      guard !s.isEmpty else { return l }
      if s.count >= 2 { labelRows(s, &l, upTo: s.count - 1) }
      let hasRows = l.contains { $0 != .fixed }
      if let last = s.last, hasRows || s.count == 1 {
        let f = feature(last)
        if f != .fixed { l[s.count - 1] = f }
      }
      if s.count == 4, s[1] == heads, l[0] == .batch {
        l[1] = .heads
        if s[3] == Int64(dims.headDim) { l[3] = .headDim }
      }
      return l
    }
  }
}
