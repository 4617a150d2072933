import Analysis
import CostModels
import Replay
import Schedules
import TraceModel

/// A bad `--parallel` request the trace cannot answer (exit 64 with the message).
public struct ParallelError: Error, CustomStringConvertible, Sendable, Equatable {
  public var message: String
  public init(_ message: String) { self.message = message }
  public var description: String { message }
}

/// What else a predicted layout changes besides the degrees.
public struct ParallelOptions: Sendable, Equatable {
  /// Pipeline schedule (a `ScheduleGenerators` name); nil: the recorded one, else `1f1b`.
  public var schedule: String?
  /// Micro-batches per step per pipeline; nil: as recorded when the micro-batch size allows it,
  /// else 2·PP (1 without a pipeline).
  public var microbatches: Int?
  /// Sequences per optimizer step over the whole job; nil: as recorded.
  public var globalBatch: Int?
  /// Chunks per stage for the chunked schedules.
  public var chunks: Int?
  /// ZeRO stage (0–3) of the predicted layout's optimizer.
  public var zeroStage: Int
  /// Megatron sequence parallelism: TP's all-reduces become reduce-scatter + all-gather and the
  /// norms and dropouts are split over the TP ranks (Korthikanti et al. 2022, §4.2.2).
  public var sequenceParallel: Bool
  /// Context parallelism's ring sends KV both ways (TokenRing) instead of one way.
  public var bidirectionalRing: Bool
  /// Predict a training step from a trace without a backward pass (inference): the backward is
  /// modeled as twice the forward, and the gradients are synchronised. A trace with a backward
  /// pass is always predicted as training.
  public var training: Bool

  public init(
    schedule: String? = nil, microbatches: Int? = nil, globalBatch: Int? = nil, chunks: Int? = nil,
    zeroStage: Int = 0, sequenceParallel: Bool = false, bidirectionalRing: Bool = true, training: Bool = false
  ) {
    self.training = training
    self.schedule = schedule
    self.microbatches = microbatches
    self.globalBatch = globalBatch
    self.chunks = chunks
    self.zeroStage = zeroStage
    self.sequenceParallel = sequenceParallel
    self.bidirectionalRing = bidirectionalRing
  }
}

/// One layout's predicted step, taken apart (ns per step unless said).
public struct ParallelPrediction: Sendable, Equatable {
  public var layout: ParallelLayout
  public var schedule: String
  public var microbatches: Int
  /// Sequences per micro-batch per rank.
  public var microBatchSize: Int
  public var globalBatch: Int
  /// The step: the modeled part plus the recorded time the model does not explain.
  public var stepNs: Nanoseconds
  /// The pipeline (all micro-batches' forward and backward, TP and CP communication inside
  /// them, the bubble): the schedule's makespan.
  public var pipelineNs: Nanoseconds
  /// Per micro-batch on the slowest stage: forward and backward compute, and the TP and CP
  /// communication inside them.
  public var forwardNs: Nanoseconds
  public var backwardNs: Nanoseconds
  public var tpCommNs: Nanoseconds
  public var cpExposedNs: Nanoseconds
  /// One activation send between stages.
  public var ppSendNs: Nanoseconds
  /// The pipeline's idle share (bubble rate of the simulated schedule; 0 without a pipeline).
  public var bubbleFraction: Double
  /// The data-parallel gradient synchronisation: the whole transfer, and the part not hidden
  /// behind the backward pass.
  public var dpCommNs: Nanoseconds
  public var dpExposedNs: Nanoseconds
  public var optimizerNs: Nanoseconds
  /// Step time outside the phases the layout changes (data loading, other host work), as measured.
  public var otherNs: Nanoseconds
  /// Measured step − modeled recorded step: kept as measured in every prediction.
  public var residualNs: Nanoseconds
  /// The part of the step the models re-timed (the rest is kept as measured).
  public var modeledNs: Nanoseconds
  /// What the models changed against the recorded layout put together the same way, or all of
  /// `modeledNs` when the model's sizes change or a backward is added: what the interval's ±
  /// applies to.
  public var changedNs: Nanoseconds
  /// Peak micro-batches in flight on the first stage (the activation memory multiplier).
  public var peakInFlight: Int
  /// Gradient bytes each rank synchronises per step.
  public var gradientBytes: Bytes
  /// The largest cost: `compute`, `bubble`, `tp`, `cp`, `dp`, `pp`, `optimizer` or `other`.
  public var bottleneck: String
}

/// Predicts other layouts from one recorded run (docs/models/parallel.md).
public struct ParallelModel: Sendable {
  public let recorded: ParallelLayout
  public let recordedMicrobatches: Int
  public let recordedSchedule: String
  public let dims: TransformerDims?
  /// The measured (identity-replayed) job step the predictions are anchored to.
  public let baselineStepNs: Nanoseconds
  /// Parameters of the whole model, and where the count comes from.
  public let parameters: Double?
  public let parametersSource: String
  let profiles: [RankProfile]
  /// Per recorded stage: the mean profile of its ranks.
  let stages: [RankProfile]
  let source: HardwareSpec?
  let target: HardwareSpec?
  let network: ParallelNetwork
  /// Whether the ranks are CPU-only (gloo shares the cores with compute: no overlap).
  let cpuOnly: Bool
  /// The share of the backward that is weight-gradient GEMMs (Zero Bubble's W).
  let weightShare: Double
  let gradientElementBytes: Double
  let activationElementBytes: Double
  /// The recorded layout's modeled step, computed once.
  var recordedTotal: Double? = nil
  /// The predicted model's sizes over the recorded one's (`--model` of another size).
  let ratios: DimFactors.ModelRatios
  /// The trace has no backward pass (inference): predictions add one (`wholeModel`).
  public let backwardMissing: Bool
  /// Layers and hidden size of the predicted model.
  public let targetLayers: Int
  public let targetHidden: Int
  /// Attention heads of the predicted model (what TP must divide).
  public let targetHeads: Int

  /// The predicted model's sizes over the recorded model's, per dimension kind.
  static func ratios(recorded d: TransformerDims, model m: ModelSpec) -> DimFactors.ModelRatios {
    func r(_ a: Int, _ b: Int) -> Double { a > 0 && b > 0 ? Double(a) / Double(b) : 1 }
    let qkvTarget = (m.heads + 2 * m.kvHeads) * m.headDim
    return DimFactors.ModelRatios(
      hidden: r(m.hidden, d.hidden), qkv: r(qkvTarget, 3 * d.hidden), ffn: r(m.ffn, d.ffn), heads: r(m.heads, d.heads),
      headDim: r(m.headDim, d.headDim), vocab: r(m.vocab, d.vocab), layers: r(m.layers, d.layers))
  }

  /// - Parameters:
  ///   - recorded: the recorded layout (detected or `--recorded`).
  ///   - model: `--model`, which fixes the model's sizes and parameter count.
  ///   - source: the recorded device (roofline of the shapes); `target`: the predicted one.
  public init(
    plan: ReplayPlan, recorded: ParallelLayout, recordedSchedule: String? = nil, recordedMicrobatches: Int = 1,
    baseline: Nanoseconds, model: ModelSpec? = nil, source: HardwareSpec? = nil, target: HardwareSpec? = nil,
    cluster: ClusterSpec? = nil
  ) throws {
    let g = plan.graph
    guard recorded.worldSize == max(1, g.ranks.count) || g.ranks.count <= 1 || recorded.worldSize % g.ranks.count == 0
    else {
      throw ParallelError(
        "the recorded layout \(recorded) makes \(recorded.worldSize) ranks, but the trace holds \(g.ranks.count)")
    }
    self.recorded = recorded
    self.recordedMicrobatches = max(1, recordedMicrobatches)
    self.recordedSchedule = recordedSchedule ?? (recorded.pp > 1 ? "1f1b" : "gpipe")
    var dims = TransformerDims.infer(g, model: model, tp: recorded.tp, cp: recorded.cp)
    // The layer count is not a label input: one profile serves before and after it is counted.
    let builder = ProfileBuilder(plan: plan, dims: dims, layout: recorded)
    let first = builder.build()
    if var d = dims, d.layers == 0 {
      // Layers per rank: attention forward calls per micro-batch per step.
      let counted =
        Self.countLayers(plan, phases: builder.phases, profiles: first, microbatches: self.recordedMicrobatches)
        * recorded.pp
      d.layers = counted > 0 ? counted : (model?.layers ?? 0)
      dims = d
    }
    self.dims = dims
    ratios = dims.flatMap { d in model.map { Self.ratios(recorded: d, model: $0) } } ?? DimFactors.ModelRatios()
    targetLayers = model?.layers ?? dims?.layers ?? 0
    targetHidden = model?.hidden ?? dims?.hidden ?? 0
    targetHeads = model?.heads ?? dims?.heads ?? 0
    profiles = first
    baselineStepNs = baseline
    self.source = source
    self.target = target ?? source
    cpuOnly = !plan.cpuOnlyRanks.isEmpty
    stages = Self.stageProfiles(profiles, layout: recorded)
    backwardMissing = Self.backwardMissing(stages)
    network = ParallelNetwork(profiles: profiles, cluster: cluster, hardware: target ?? source, layout: recorded)
    let bwd = profiles.first.map { p in p.ops.filter { $0.key.phase == .backward } } ?? [:]
    let wgrad = bwd.filter { $0.key.isWeightGradient }.values.reduce(0, +)
    let total = bwd.values.reduce(0, +)
    weightShare = total > 0 && wgrad > 0 ? wgrad / total : PipelineProfile.fusedWeightFraction
    activationElementBytes = Self.elementBytes(profiles)
    let dpBytes = profiles.compactMap { $0.transfers[.dp]?.bytes }.max()
    if let model {
      parameters = Double(Transformer.parameters(model))
      parametersSource = "--model \(model.name)"
    } else if let dpBytes, dpBytes > 0 {
      parameters = dpBytes / activationElementBytes * Double(recorded.tp * recorded.pp)
      parametersSource = "the recorded data-parallel gradient bytes × TP·PP"
    } else if let d = dims, d.hidden > 0, d.layers > 0 {
      let ffn = d.ffn > 0 ? d.ffn : 4 * d.hidden
      parameters = Double(d.layers) * Double(4 * d.hidden * d.hidden + 2 * d.hidden * ffn) + Double(d.vocab * d.hidden)
      parametersSource = "the op shapes (L·(4h² + 2h·ffn) + V·h)"
    } else {
      parameters = nil
      parametersSource = "unknown: give --model"
    }
    let shard = Double(recorded.tp * recorded.pp)
    let params = parameters
    if let dpBytes, let params, params > 0 {
      gradientElementBytes = dpBytes / (params / shard)
    } else {
      gradientElementBytes = activationElementBytes
    }
    recordedTotal = try? recordedComposition()
  }

  /// Transformer layers one rank runs: attention forward calls per micro-batch per step.
  static func countLayers(_ plan: ReplayPlan, phases: [Phase], profiles: [RankProfile], microbatches m: Int) -> Int {
    let g = plan.graph
    guard let r = profiles.first?.rank else { return 0 }
    let steps = max(1, g.steps.filter { $0.rank == r && $0.event != .none }.count)
    var calls = 0
    // Forward attention calls (backward ops have other names), whatever phase the profiler's
    // annotations gave them (1F1B annotates none of its forwards).
    for e in 0..<g.eventCount where g.rank(of: e) == r && g.kind[e] == .hostOp && phases[e] != .backward {
      // The outermost attention op of each call (the composite, not also its kernel op).
      let p = g.parent[e]
      if TransformerDims.attentionNames.contains(g.strings[g.name[e]])
        && (p == .none || !TransformerDims.attentionNames.contains(g.strings[g.name[p.index]]))
      {
        calls += 1
      }
    }
    return calls / steps / m
  }

  static func elementBytes(_ profiles: [RankProfile]) -> Double {
    var weight: [Double: Double] = [:]
    for (grp, t) in profiles.first?.ops ?? [:] {
      if let d = grp.types.first, let b = DType(name: d)?.bytes { weight[b, default: 0] += t }
    }
    return weight.max { ($0.value, $1.key) < ($1.value, $0.key) }?.key ?? 2
  }

  /// The mean profile of each recorded stage's ranks (Megatron's rank order: the pipeline
  /// stage is the outermost index, stage = rank / (world / PP)).
  static func stageProfiles(_ profiles: [RankProfile], layout: ParallelLayout) -> [RankProfile] {
    let pp = max(1, layout.pp)
    let perStage = max(1, profiles.count / pp)
    return (0..<pp).map { s in
      let mine = profiles.filter { Int($0.rank.rawValue) / perStage == s }
      return RankProfile.mean(mine.isEmpty ? profiles : mine)
    }
  }
}

extension OpGroup {
  /// A weight-gradient GEMM: `mm` whose token dimension is the inner (reduced) one.
  var isWeightGradient: Bool {
    name == "aten::mm" && labels.count >= 2 && labels[0].count == 2 && labels[0][1] == .tokens
  }
}

extension RankProfile {
  /// The element-wise mean of `ps`.
  static func mean(_ ps: [RankProfile]) -> RankProfile {
    guard var out = ps.first else { return RankProfile(rank: RankID(rawValue: 0)) }
    let k = Double(ps.count)
    guard ps.count > 1 else { return out }
    func avg<K: Hashable>(_ pick: (RankProfile) -> [K: Double]) -> [K: Double] {
      var m: [K: Double] = [:]
      for p in ps { for (key, v) in pick(p) { m[key, default: 0] += v / k } }
      return m
    }
    out.ops = avg(\.ops)
    out.unsized = avg(\.unsized)
    out.framework = avg(\.framework)
    out.overhead = avg(\.overhead)
    out.exposed = avg(\.exposed)
    out.step = ps.map(\.step).reduce(0, +) / k
    var transfers: [CommClass: Transfer] = [:]
    for p in ps {
      for (c, t) in p.transfers {
        var s = transfers[c] ?? Transfer()
        (s.time, s.bytes, s.count) = (s.time + t.time / k, s.bytes + t.bytes / k, s.count + t.count / k)
        s.ranks = max(s.ranks, t.ranks)
        s.kind = s.kind ?? t.kind
        transfers[c] = s
      }
    }
    out.transfers = transfers
    return out
  }
}

extension ParallelModel {
  /// The recorded timed work of one step (ns, summed over the recorded stages' mean ranks) by
  /// how a prediction re-times it: ops with shapes through the roofline, GPU work without shapes
  /// and the collectives by ratio, the rest kept as measured.
  public struct TimedWork: Sendable, Equatable {
    public var shapeTimed: Int64
    public var classTimed: Int64
    public var measured: Int64
  }

  public var timedWork: TimedWork {
    var w = (0.0, 0.0, 0.0)
    for st in stages {
      w.0 += st.ops.values.reduce(0, +)
      w.1 += st.unsized.values.reduce(0, +)
      w.2 += st.framework.values.reduce(0, +)
      w.1 += st.transfers.values.map(\.time).reduce(0, +)
      w.2 += st.overhead.values.reduce(0, +)
    }
    return TimedWork(shapeTimed: Int64(w.0.rounded()), classTimed: Int64(w.1.rounded()), measured: Int64(w.2.rounded()))
  }

  /// The forward and backward ops a tensor-parallel split leaves whole (no dimension labelled
  /// sharded; ns per step on one rank of the first recorded stage), longest first.
  public func unshardedOps(limit: Int) -> [(name: String, time: Nanoseconds)] {
    guard dims != nil, let st = stages.first else { return [] }
    var byName: [String: Double] = [:]
    for (g, t) in st.ops
    where (g.phase == .forward || g.phase == .backward)
      && !g.labels.contains(where: { $0.contains(where: \.isSharded) })
    {
      byName[g.name, default: 0] += t
    }
    return byName.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.prefix(limit).map {
      ($0.key, Nanoseconds(rawValue: Int64($0.value.rounded())))
    }
  }
}
