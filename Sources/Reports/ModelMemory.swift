import CostModels
import Rendering
import TraceModel

/// Modeled training memory per GPU for a model spec: model states with ZeRO sharding and
/// activations after Korthikanti et al. (docs/models/memory.md).
///
/// Mixed-precision Adam (Rajbhandari et al., ZeRO, SC'20 §3.1): 2Ψ bytes of fp16 weights, 2Ψ of
/// fp16 gradients and 12Ψ of fp32 optimizer state for Ψ parameters per tensor-parallel shard;
/// stage 1 shards the optimizer state over the data-parallel ranks, stage 2 also the gradients,
/// stage 3 also the weights. Activations per layer from Korthikanti et al., "Reducing Activation
/// Recomputation in Large Transformer Models" (arXiv 2205.05198), Table 2, times the layers.
public struct ModelMemory: Sendable, Equatable {
  public var model: ModelSpec
  public var sequence: Int
  public var microBatch: Int
  public var tensorParallel: Int
  public var dataParallel: Int
  public var zeroStage: Int
  public var activations: Transformer.ActivationConfig

  public init(
    model: ModelSpec, sequence: Int, microBatch: Int, tensorParallel: Int, dataParallel: Int,
    zeroStage: Int, activations: Transformer.ActivationConfig = .tensorSequenceSelective
  ) {
    self.model = model
    self.sequence = sequence
    self.microBatch = microBatch
    self.tensorParallel = tensorParallel
    self.dataParallel = dataParallel
    self.zeroStage = zeroStage
    self.activations = activations
  }

  /// The model as `graph` ran it: every rank of the trace is one data-parallel replica, so the
  /// ZeRO shards divide by the rank count (at least 1), as `reprise report --model` assumes.
  public init(
    model: ModelSpec, sequence: Int, microBatch: Int, tensorParallel: Int, zeroStage: Int, ranksOf graph: EventGraph
  ) {
    self.init(
      model: model, sequence: sequence, microBatch: microBatch, tensorParallel: tensorParallel,
      dataParallel: max(1, graph.ranks.count), zeroStage: zeroStage)
  }

  /// The split per GPU, as the report's `memory.modeled` shows it (bytes as reals: sharded
  /// states need not be whole bytes).
  public struct Breakdown: Codable, Sendable, Equatable {
    public var model: String
    public var parameters: Int64
    public var sequence: Int
    public var microBatch: Int
    public var tensorParallel: Int
    public var dataParallel: Int
    public var zeroStage: Int
    public var weightBytes: Double
    public var gradientBytes: Double
    public var optimizerBytes: Double
    public var modelStateBytes: Double
    public var activationBytes: Double
    /// Training traces hold no KV cache.
    @NullWhenAbsent public var kvCacheBytes: Double?
    public var totalBytes: Double
  }

  /// Parameters of the whole model (not per shard).
  public var parameters: Int64 { Transformer.parameters(model) }

  /// Weights, gradients and optimizer state per GPU (bytes).
  public var modelStateBytes: Double {
    Transformer.zeroBytes(parameters: shardParameters, dataParallel: Double(dataParallel), stage: zeroStage)
  }

  /// Activations of all layers per GPU (bytes).
  public var activationBytes: Double {
    Transformer.activationBytesPerLayer(
      sequence: Double(sequence), microBatch: Double(microBatch), hidden: Double(model.hidden),
      heads: Double(model.heads), tensorParallel: Double(tensorParallel), config: activations) * Double(model.layers)
  }

  private var shardParameters: Double { Double(parameters) / Double(tensorParallel) }

  /// The split with every part on its own.
  public func breakdown() -> Breakdown {
    let psi = shardParameters
    let dp = Double(dataParallel)
    let states = modelStateBytes
    let act = activationBytes
    return Breakdown(
      model: model.name, parameters: parameters, sequence: sequence, microBatch: microBatch,
      tensorParallel: tensorParallel, dataParallel: dataParallel, zeroStage: zeroStage,
      weightBytes: 2 * psi / (zeroStage >= 3 ? dp : 1), gradientBytes: 2 * psi / (zeroStage >= 2 ? dp : 1),
      optimizerBytes: 12 * psi / (zeroStage >= 1 ? dp : 1), modelStateBytes: states, activationBytes: act,
      kvCacheBytes: nil, totalBytes: states + act)
  }
}
