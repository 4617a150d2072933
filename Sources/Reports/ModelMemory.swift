import CostModels
import Rendering
import Schedules
import TraceModel

/// Modeled training memory per GPU for a model spec: model states with ZeRO sharding and
/// activations after Korthikanti et al. (docs/models/memory.md).
///
/// Mixed-precision Adam (Rajbhandari et al., ZeRO, SC'20 §3.1): 2Ψ bytes of fp16 weights, 2Ψ of
/// fp16 gradients and 12Ψ of fp32 optimizer state for Ψ parameters per tensor- and
/// pipeline-parallel shard; stage 1 shards the optimizer state over the data-parallel ranks,
/// stage 2 also the gradients, stage 3 also the weights. Activations per layer from Korthikanti
/// et al., "Reducing Activation Recomputation in Large Transformer Models" (arXiv 2205.05198),
/// Table 2, for the sequence share of one context-parallel rank, times all layers: under 1F1B the
/// first pipeline stage holds p micro-batches of L/p layers (§4.2.3), as much as L layers.
public struct ModelMemory: Sendable, Equatable {
  public var model: ModelSpec
  public var sequence: Int
  public var microBatch: Int
  public var tensorParallel: Int
  public var pipelineParallel: Int
  public var contextParallel: Int
  public var dataParallel: Int
  public var zeroStage: Int
  public var activations: Transformer.ActivationConfig
  /// Micro-batches whose activations the first pipeline stage holds at its peak, in whole-stage
  /// units (a chunked schedule's chunk counts 1/v); nil: PP, as 1F1B (Korthikanti et al. §4.2.3).
  public var inFlightMicrobatches: Double?
  /// Copies of each stage's model states a rank holds: 2 for bidirectional pipelines (BitPipe,
  /// Chimera: each device holds a stage of each of the two pipelines, Li & Hoefler, SC'21, §3),
  /// else 1.
  public var stageReplicas = 1

  public init(
    model: ModelSpec, sequence: Int, microBatch: Int, tensorParallel: Int, pipelineParallel: Int = 1,
    contextParallel: Int = 1, dataParallel: Int, zeroStage: Int,
    activations: Transformer.ActivationConfig = .tensorSequenceSelective, inFlightMicrobatches: Double? = nil,
    stageReplicas: Int = 1
  ) {
    self.inFlightMicrobatches = inFlightMicrobatches
    self.stageReplicas = stageReplicas
    self.model = model
    self.sequence = sequence
    self.microBatch = microBatch
    self.tensorParallel = tensorParallel
    self.pipelineParallel = pipelineParallel
    self.contextParallel = contextParallel
    self.dataParallel = dataParallel
    self.zeroStage = zeroStage
    self.activations = activations
  }

  /// The model as `graph` ran it: the data-parallel degree is the world size (the traces'
  /// `distributedInfo.world_size`, else the rank count) over TP·PP·CP, as `reprise report
  /// --model` derives it; `dataParallel`, when given, must agree.
  /// - Throws: `RunError.usage` (exit 64) when TP·PP·CP does not divide the world size, when
  ///   `dataParallel` disagrees with it, or when a degree is below 1.
  public init(
    model: ModelSpec, sequence: Int, microBatch: Int, tensorParallel: Int, pipelineParallel: Int = 1,
    contextParallel: Int = 1, dataParallel: Int? = nil, zeroStage: Int, worldOf graph: EventGraph
  ) throws {
    let dp = try Self.dataParallel(
      world: Self.worldSize(graph), tensor: tensorParallel, pipeline: pipelineParallel, context: contextParallel,
      given: dataParallel)
    self.init(
      model: model, sequence: sequence, microBatch: microBatch, tensorParallel: tensorParallel,
      pipelineParallel: pipelineParallel, contextParallel: contextParallel, dataParallel: dp, zeroStage: zeroStage)
  }

  /// The world size of `graph`'s run, and where it comes from: `distributedInfo.world_size`
  /// when a trace gives it, else the ranks in the trace.
  public static func worldSize(_ graph: EventGraph) -> (size: Int, source: String) {
    if let w = graph.ranks.compactMap(\.worldSize).max(), w >= graph.ranks.count {
      return (w, "distributedInfo.world_size")
    }
    return (max(1, graph.ranks.count), "ranks in the trace")
  }

  /// DP = world / (TP·PP·CP).
  /// - Throws: `RunError.usage` when the product does not divide the world, `given` disagrees,
  ///   or a degree is below 1.
  public static func dataParallel(
    world: (size: Int, source: String), tensor tp: Int, pipeline pp: Int, context cp: Int, given: Int?
  ) throws -> Int {
    for (flag, v) in [("--tp", tp), ("--pp", pp), ("--cp", cp), ("--dp", given ?? 1)] where v < 1 {
      throw RunError.usage("\(flag) \(v): expected ≥ 1")
    }
    let worldText = "the world size \(world.size) (\(world.source))"
    let layout = "TP \(tp) × PP \(pp) × CP \(cp)"
    let (tpp, overflow) = tp.multipliedReportingOverflow(by: pp)
    let (product, overflow2) = tpp.multipliedReportingOverflow(by: cp)
    guard !overflow, !overflow2, world.size % product == 0 else {
      throw RunError.usage(
        "\(layout) = \(overflow || overflow2 ? "too many" : "\(product)") does not divide \(worldText); "
          + "DP = world / (TP·PP·CP) must be a whole number")
    }
    let dp = world.size / product
    if let given, given != dp {
      throw RunError.usage("--dp \(given) conflicts with \(worldText): world / (\(layout)) = \(dp)")
    }
    return dp
  }

  /// The split per GPU, as the report's `memory.modeled` shows it (bytes as reals: sharded
  /// states need not be whole bytes).
  public struct Breakdown: Codable, Sendable, Equatable {
    public var model: String
    public var parameters: Int64
    public var sequence: Int
    public var microBatch: Int
    public var tensorParallel: Int
    public var pipelineParallel: Int
    public var contextParallel: Int
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

  /// Weights, gradients and optimizer state per GPU (bytes), × `stageReplicas`.
  public var modelStateBytes: Double {
    Transformer.zeroBytes(parameters: shardParameters, dataParallel: Double(dataParallel), stage: zeroStage)
      * Double(stageReplicas)
  }

  /// `stageReplicas` for schedule `name` on `stages` stages: 2 for a bidirectional placement.
  public static func stageReplicas(schedule name: String, stages p: Int) -> Int {
    p > 1 && ScheduleGenerators.names.contains(name) && ScheduleGenerators.placement(name) == .bidirectional ? 2 : 1
  }

  /// Activations per GPU (bytes): one layer's × the first stage's L/PP layers × the micro-batches
  /// it holds at its peak (`inFlightMicrobatches`; PP under 1F1B, which makes all L layers).
  public var activationBytes: Double {
    let perLayer = Transformer.activationBytesPerLayer(
      sequence: Double(sequence) / Double(contextParallel), microBatch: Double(microBatch),
      hidden: Double(model.hidden),
      heads: Double(model.heads), tensorParallel: Double(tensorParallel), config: activations)
    guard let held = inFlightMicrobatches else { return perLayer * Double(model.layers) }
    return perLayer * Double(model.layers) / Double(pipelineParallel) * held
  }

  /// The micro-batches (in whole-stage units) the first stage of schedule `name` holds at its
  /// peak, from the schedule simulator with unit costs (peak in-flight F ops / chunks).
  /// - Throws: `ScheduleError` for an unknown schedule or one that cannot run with these counts.
  public static func inFlight(schedule name: String, stages p: Int, microbatches m: Int, chunks: Int? = nil) throws
    -> Double
  {
    guard p > 1 else { return 1 }
    let unit = Nanoseconds(rawValue: 1000)
    let r = try ScheduleSimulator.simulate(
      name, stages: p, microbatches: m, chunks: chunks,
      costs: PipelineCosts(stages: p, forward: unit, backward: unit, weight: unit))
    return Double(r.peakInFlight.first ?? p) / Double(r.chunks)
  }

  /// Parameters per GPU before ZeRO: the model split over the tensor- and pipeline-parallel ranks.
  private var shardParameters: Double { Double(parameters) / Double(tensorParallel * pipelineParallel) }

  /// The split with every part on its own.
  public func breakdown() -> Breakdown {
    let psi = shardParameters * Double(stageReplicas)
    let dp = Double(dataParallel)
    let states = modelStateBytes
    let act = activationBytes
    return Breakdown(
      model: model.name, parameters: parameters, sequence: sequence, microBatch: microBatch,
      tensorParallel: tensorParallel, pipelineParallel: pipelineParallel, contextParallel: contextParallel,
      dataParallel: dataParallel, zeroStage: zeroStage, weightBytes: 2 * psi / (zeroStage >= 3 ? dp : 1),
      gradientBytes: 2 * psi / (zeroStage >= 2 ? dp : 1),
      optimizerBytes: 12 * psi / (zeroStage >= 1 ? dp : 1), modelStateBytes: states, activationBytes: act,
      kvCacheBytes: nil, totalBytes: states + act)
  }
}
