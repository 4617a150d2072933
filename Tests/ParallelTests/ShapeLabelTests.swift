import Testing

@testable import Parallel

/// The shape rules of docs/models/parallel.md, "Reading the shapes", on a GPT with h = 256,
/// 4 heads of 64, FFN 1024, vocabulary 1000, 8 sequences of 100 tokens per micro-batch.
@Suite struct ShapeLabelTests {
  static let dims = TransformerDims(
    hidden: 256, heads: 4, headDim: 64, ffn: 1024, vocab: 1000, layers: 4, sequence: 100, microBatch: 8,
    source: "test")

  @Test func projectionsShardOneFeatureDimension() {
    let l = ShapeLabeler(dims: Self.dims, tp: 1, cp: 1)
    // QKV: x[8,100,256]·W[768,256]: the output width is TP's.
    #expect(
      l.labels(name: "aten::linear", dims: [[8, 100, 256], [768, 256], [768]]) == [
        [.batch, .sequence, .hidden], [.qkv, .hidden], [.qkv],
      ])
    // MLP down: x[800,1024]·W[1024,256] (addmm): the input width is TP's (row-parallel).
    #expect(
      l.labels(name: "aten::addmm", dims: [[256], [800, 1024], [1024, 256]]) == [
        [.hidden], [.tokens, .ffn], [.ffn, .hidden],
      ])
    // Weight gradient dW = dYᵀ[1024,800]·X[800,256]: tokens are the inner dimension.
    #expect(l.labels(name: "aten::mm", dims: [[1024, 800], [800, 256]]) == [[.ffn, .tokens], [.tokens, .hidden]])
    // The LM head stays whole.
    #expect(
      l.labels(name: "aten::linear", dims: [[8, 100, 256], [1000, 256]]) == [
        [.batch, .sequence, .hidden], [.vocab, .hidden],
      ])
    // The attention output projection at TP 1: one of its two hidden sizes is split.
    #expect(
      l.labels(name: "aten::mm", dims: [[800, 256], [256, 256]]) == [
        [.tokens, .hiddenShard], [.hiddenShard, .hidden],
      ])
  }

  @Test func recordedTensorParallelShardsAreFoundByTheirWidth() {
    let l = ShapeLabeler(dims: Self.dims, tp: 2, cp: 1)
    #expect(
      l.labels(name: "aten::linear", dims: [[8, 100, 256], [512, 256]]) == [
        [.batch, .sequence, .hidden], [.ffn, .hidden],
      ])
    #expect(l.labels(name: "aten::gelu", dims: [[8, 100, 512]]) == [[.batch, .sequence, .ffn]])
    #expect(
      l.labels(name: "aten::scaled_dot_product_attention", dims: [[8, 2, 100, 64], [8, 2, 100, 64]]) == [
        [.batch, .heads, .sequence, .headDim], [.batch, .heads, .fixed, .headDim],
      ])
    // Replicated under TP: norms over the hidden size.
    #expect(
      l.labels(name: "aten::native_layer_norm", dims: [[8, 100, 256], [256]]) == [
        [.batch, .sequence, .hidden], [.hidden],
      ])
  }

  @Test func factorsScaleEachLabel() {
    let f = DimFactors(batch: 0.5, sequence: 0.5, shard: 0.5)
    #expect(f.factor(.tokens) == 0.25 && f.factor(.ffn) == 0.5 && f.factor(.hidden) == 1 && f.factor(.fixed) == 1)
    let grp = OpGroup(
      name: "aten::addmm", dims: [[1024], [800, 256], [256, 1024]], types: ["float", "float", "float"],
      labels: [[.ffn], [.tokens, .hidden], [.hidden, .ffn]], phase: .forward, part: .layer)
    // FLOPs 2·M·K·N: tokens × ¼ and the FFN width × ½ make ⅛ (no device: the FLOP ratio).
    #expect(abs(ShapeRetimer(target: nil, source: nil).ratio(grp, f) - 0.125) < 1e-12)
  }
}
