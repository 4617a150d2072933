import Analysis
import CostModels
import Replay
import Schedules
import TraceModel

extension ParallelModel {
  /// The recorded global batch (sequences per step): micro-batch × micro-batches × DP; in
  /// micro-batch units when the shapes do not show the batch.
  public var recordedGlobalBatch: Int { (dims?.microBatch ?? 1) * recordedMicrobatches * recorded.dp }

  /// The micro-batch count and size of `target` under `options`.
  /// - Throws: `ParallelError` when the global batch does not split evenly.
  public func batching(_ target: ParallelLayout, _ options: ParallelOptions) throws -> (
    microbatches: Int, size: Int, global: Int
  ) {
    if options.globalBatch != nil && dims == nil {
      throw ParallelError("--global-batch needs the batch size, which the trace's shapes do not show; give --model")
    }
    let global = options.globalBatch ?? recordedGlobalBatch
    guard global % target.dp == 0 else {
      throw ParallelError("the global batch \(global) does not split over dp=\(target.dp) ranks")
    }
    let perReplica = global / target.dp
    let m: Int
    if let given = options.microbatches {
      m = given
    } else if target.pp == 1 {
      m = recorded.pp == 1 ? min(recordedMicrobatches, perReplica) : 1
    } else {
      let recordedSize = dims?.microBatch ?? 1
      m =
        perReplica % recordedSize == 0 && perReplica / recordedSize >= target.pp
        ? perReplica / recordedSize : min(perReplica, 2 * target.pp)
    }
    guard m >= 1, perReplica % m == 0 else {
      throw ParallelError(
        "\(perReplica) sequences per data-parallel replica (global batch \(global) / dp=\(target.dp)) do not split into \(m) micro-batches"
      )
    }
    return (m, perReplica / m, global)
  }

  /// The modeled step of the recorded layout itself (what the residual is measured against).
  public func recordedComposition() throws -> Double {
    if let cached = recordedTotal { return cached }
    return try compose(
      recorded, ParallelOptions(schedule: recordedSchedule, microbatches: recordedMicrobatches), asRecorded: true
    ).total
  }

  /// Predicts the step of `target`.
  /// - Throws: `ParallelError` when the trace cannot answer (no transformer shapes for TP or CP,
  ///   a batch that does not split, no link for a new group, an unknown schedule).
  public func predict(_ target: ParallelLayout, _ options: ParallelOptions = ParallelOptions()) throws
    -> ParallelPrediction
  {
    let a = try compose(target, options)
    let base = try recordedComposition()
    let residual = Double(baselineStepNs.rawValue) - base
    var p = a.prediction
    p.residualNs = Nanoseconds(rawValue: Int64((residual).rounded()))
    // What the models changed: the difference from the recorded composition, or all of the
    // re-timed step when the model's sizes change or a backward is added.
    let sameModel = ratios == DimFactors.ModelRatios() && !(backwardMissing && options.training)
    p.changedNs = sameModel ? ns(abs(a.total - base)) : p.modeledNs
    p.stepNs = Nanoseconds(rawValue: max(0, Int64((a.total + residual).rounded())))
    return p
  }

  /// The modeled step of `target` (without the residual) and its parts.
  /// `asRecorded`: the recorded run itself (its own model sizes, no backward added to a
  /// forward-only trace), which the residual is measured against.
  func compose(_ t: ParallelLayout, _ options: ParallelOptions, asRecorded: Bool = false) throws -> (
    total: Double, prediction: ParallelPrediction
  ) {
    try checkAnswerable(t)
    let (m, size, global) = try batching(t, options)
    let schedule = options.schedule ?? (t.pp == recorded.pp ? recordedSchedule : "1f1b")
    let factors = DimFactors(
      batch: Double(size) / Double(dims?.microBatch ?? 1),
      sequence: Double(recorded.cp) / Double(t.cp), shard: Double(recorded.tp) / Double(t.tp),
      model: asRecorded ? DimFactors.ModelRatios() : ratios)
    let training = !backwardMissing || (options.training && !asRecorded)
    let whole = wholeModel(factors, training: training)
    let recordedLayers = dims?.layers ?? 0
    let layers = max(
      1, (asRecorded ? recordedLayers : targetLayers) > 0 ? (asRecorded ? recordedLayers : targetLayers) : t.pp)
    guard layers >= t.pp else { throw ParallelError("pp=\(t.pp) exceeds the model's \(layers) layers") }
    let e = activationElementBytes
    let tokensPerMicrobatch = Double(size) * Double((dims?.sequence ?? 1) / t.cp)
    let actBytes = tokensPerMicrobatch * Double(asRecorded ? (dims?.hidden ?? 0) : targetHidden) * e
    // TP: two all-reduces forward, two backward per layer (Shoeybi et al. 2019, §3); with
    // sequence parallelism a reduce-scatter + all-gather pair each, the same bytes on a ring.
    let tpOne = try network.time(.tp, .allReduce, bytes: actBytes, ranks: t.tp, stride: 1)
    let tpPerLayer = 2 * tpOne
    // CP: ring attention, one KV block per step, overlapped with the block's attention.
    let cpPerLayer = try contextExposed(t, options, whole: whole, tokens: tokensPerMicrobatch, layers: layers)
    let ppSend =
      t.pp > 1
      ? try network.time(
        .pp, nil, bytes: actBytes / (options.sequenceParallel ? Double(t.tp) : 1), ranks: 2, stride: t.tp * t.cp * t.dp)
      : 0
    let stages = stageCosts(
      t, whole: whole, layers: layers, perLayer: (tpPerLayer + cpPerLayer.forward, tpPerLayer + cpPerLayer.backward),
      schedule: schedule)
    let (forward, backward, weight) = (stages.forward, stages.backward, stages.weight)
    let (pipe, bubble, inFlight) = try simulate(
      t, schedule: schedule, microbatches: m, chunks: options.chunks, stages: stages, send: ppSend)
    let stageParams = training ? (parameters ?? 0) / Double(t.tp * t.pp) : 0
    let gradBytes = stageParams * gradientElementBytes
    // A bidirectional pipeline (BitPipe, Chimera) holds two copies of each stage: their
    // gradients are reduced together with the data-parallel ones (Li & Hoefler, SC'21, §3).
    let replicas = t.pp > 1 && ScheduleGenerators.placement(schedule) == .bidirectional ? 2 : 1
    let dpRanks = t.dp * t.cp * replicas
    // Without a parameter count the gradient synchronisation of the recorded data-parallel size
    // stays as measured (in the residual); another size cannot be sized.
    let sameGroup =
      dpRanks == recorded.dp * recorded.cp
      * (recorded.pp > 1 && ScheduleGenerators.placement(recordedSchedule) == .bidirectional ? 2 : 1)
    if training && dpRanks > 1 && parameters == nil && !sameGroup {
      throw ParallelError("the gradient all-reduce of dp=\(t.dp) cannot be sized: parameters \(parametersSource)")
    }
    let dpAll =
      parameters == nil ? 0 : try network.time(.dp, .allReduce, bytes: gradBytes, ranks: dpRanks, stride: t.tp)
    let dpExposed = exposedDataParallel(
      dpAll, lastBackward: backward.last ?? 0, layersPerStage: Double(layers) / Double(t.pp))
    let shardRatio = Double(recorded.tp * recorded.pp) / Double(t.tp * t.pp)
    let zeroRatio = options.zeroStage >= 1 ? Double(recorded.dp) / Double(t.dp) : 1
    let optimizer = whole.optimizerScaled * shardRatio * zeroRatio + whole.optimizerKept
    let total = pipe + dpExposed + optimizer + whole.other
    let kept = whole.other + whole.optimizerKept + Double(m) * whole.kept / Double(t.pp)
    let parts: [(String, Double)] = [
      (
        "compute",
        pipe * (1 - bubble) - Double(m) * Double(layers) / Double(t.pp)
          * (2 * tpPerLayer + cpPerLayer.forward + cpPerLayer.backward)
      ),
      ("bubble", pipe * bubble), ("tp", Double(m) * Double(layers) / Double(t.pp) * 2 * tpPerLayer),
      ("cp", Double(m) * Double(layers) / Double(t.pp) * (cpPerLayer.forward + cpPerLayer.backward)),
      ("dp", dpExposed), ("pp", Double(m) * ppSend), ("optimizer", optimizer), ("other", whole.other),
    ]
    let slowest =
      forward.indices.max { forward[$0] + backward[$0] + weight[$0] < forward[$1] + backward[$1] + weight[$1] } ?? 0
    let prediction = ParallelPrediction(
      layout: t, schedule: t.pp > 1 ? schedule : "none", microbatches: m, microBatchSize: size, globalBatch: global,
      stepNs: ns(total), pipelineNs: ns(pipe), forwardNs: ns(forward[slowest]),
      backwardNs: ns(backward[slowest] + weight[slowest]), tpCommNs: ns(2 * tpPerLayer * Double(layers) / Double(t.pp)),
      cpExposedNs: ns((cpPerLayer.forward + cpPerLayer.backward) * Double(layers) / Double(t.pp)), ppSendNs: ns(ppSend),
      bubbleFraction: bubble, dpCommNs: ns(dpAll), dpExposedNs: ns(dpExposed), optimizerNs: ns(optimizer),
      otherNs: ns(whole.other), residualNs: .zero, modeledNs: ns(total - kept), changedNs: .zero,
      peakInFlight: inFlight,
      gradientBytes: Bytes(rounding: gradBytes),
      bottleneck: parts.max { ($0.1, $1.0) < ($1.1, $0.0) }?.0 ?? "compute")
    return (total, prediction)
  }

  /// Refuses what the trace cannot answer: TP or CP without transformer shapes, degrees that do
  /// not divide the sequence or the heads.
  func checkAnswerable(_ t: ParallelLayout) throws {
    if (t.tp != recorded.tp || t.cp != recorded.cp) && dims == nil {
      throw ParallelError(
        "the trace's shapes show no transformer layers (no attention or layer-norm shapes): "
          + "only dp and pp can change; give --model for tp and cp")
    }
    if t.cp != recorded.cp, let d = dims, d.sequence % t.cp != 0 {
      throw ParallelError("cp=\(t.cp) does not divide the sequence length \(d.sequence)")
    }
    if t.tp != recorded.tp, targetHeads > 0, targetHeads % t.tp != 0 {
      throw ParallelError("tp=\(t.tp) does not divide the \(targetHeads) attention heads")
    }
  }

  /// Per stage, one micro-batch's forward, backward (B) and weight-gradient (W) time: its share
  /// of the layers, the first stage's and the last stage's extras, and per layer the TP and CP
  /// communication (`perLayer`: forward, backward). W is split off for the zero-bubble schedules.
  func stageCosts(
    _ t: ParallelLayout, whole: WholeModel, layers: Int, perLayer: (Double, Double), schedule: String
  ) -> (forward: [Double], backward: [Double], weight: [Double]) {
    var out: (forward: [Double], backward: [Double], weight: [Double]) = ([], [], [])
    let zb = ["zb-h1", "zb-h2", "zb-v", "zeropp"].contains(schedule)
    for s in 0..<t.pp {
      let ls = Double(layers / t.pp + (s < layers % t.pp ? 1 : 0))
      let frac = ls / Double(layers)
      let f = frac * whole.layerF + (s == 0 ? whole.firstF : 0) + (s == t.pp - 1 ? whole.lastF : 0) + ls * perLayer.0
      let b = frac * whole.layerB + (s == 0 ? whole.firstB : 0) + (s == t.pp - 1 ? whole.lastB : 0) + ls * perLayer.1
      let w = zb ? b * weightShare : 0
      out.forward.append(f)
      out.backward.append(b - w)
      out.weight.append(w)
    }
    return out
  }

  /// The pipeline's makespan, bubble fraction and the first stage's peak in-flight micro-batches:
  /// M·(F + B + W) without a pipeline, else the schedule simulator's.
  func simulate(
    _ t: ParallelLayout, schedule: String, microbatches m: Int, chunks: Int?,
    stages: (forward: [Double], backward: [Double], weight: [Double]), send: Double
  ) throws -> (makespan: Double, bubble: Double, inFlight: Int) {
    if t.pp == 1 { return (Double(m) * (stages.forward[0] + stages.backward[0] + stages.weight[0]), 0, 1) }
    let costs = PipelineCosts(
      forward: stages.forward.map(ns), backward: stages.backward.map(ns), weight: stages.weight.map(ns),
      comm: ns(send), memB: Bytes(0), memW: Bytes(0))
    do {
      let r = try ScheduleSimulator.simulate(schedule, stages: t.pp, microbatches: m, chunks: chunks, costs: costs)
      return (Double(r.makespan.rawValue), r.bubbleFraction, r.peakInFlight.first ?? 1)
    } catch {
      throw ParallelError("--schedule \(schedule) with pp=\(t.pp) and \(m) micro-batches: \(error)")
    }
  }

  /// The part of the gradient all-reduce not hidden behind the backward pass: as recorded when
  /// the trace has data-parallel collectives (the measured exposed share); on CPU-only ranks all
  /// of it (gloo's threads share the cores the backward runs on); on GPUs DDP overlaps the
  /// buckets with the last micro-batch's backward, so max(one layer's share, T − that backward).
  func exposedDataParallel(_ all: Double, lastBackward: Double, layersPerStage: Double) -> Double {
    guard all > 0 else { return 0 }
    if let recordedShare { return all * recordedShare }
    if cpuOnly { return all }
    return max(all / max(layersPerStage, 1), all - lastBackward)
  }

  /// The exposed share of the recorded data-parallel transfer, nil when there is none.
  var recordedShare: Double? {
    let t = stages.compactMap { $0.transfers[.dp] }.filter { $0.ranks >= 2 && $0.time > 0 }
    guard !t.isEmpty else { return nil }
    let time = t.map(\.time).reduce(0, +) / Double(t.count)
    let exposed = stages.map { $0.exposed[.dp] ?? 0 }.reduce(0, +) / Double(stages.count)
    return min(1, exposed / time)
  }

  /// Context parallelism's exposed ring transfer per layer per micro-batch (forward, backward):
  /// each of cp−1 steps overlaps one KV block's transfer with attention on the block held
  /// (Liu et al., Ring Attention, arXiv 2310.01889); the backward passes KV and its gradient.
  func contextExposed(
    _ t: ParallelLayout, _ options: ParallelOptions, whole: WholeModel, tokens: Double, layers: Int
  ) throws -> (forward: Double, backward: Double) {
    guard t.cp > 1, let d = dims else { return (0, 0) }
    let kvWidth = Double(max(1, d.heads) * max(1, d.headDim)) / Double(t.tp)
    let block = 2 * tokens * kvWidth * activationElementBytes
    let bw = try network.bandwidth(.other, ranks: t.cp, stride: t.tp)
    let send = (options.bidirectionalRing ? block / 2 : block) / bw * 1e9
    let steps = Double(t.cp - 1)
    let fStep = whole.attentionF / Double(layers) / Double(t.cp)
    let bStep = whole.attentionB / Double(layers) / Double(t.cp)
    return (steps * max(0, send - fStep), steps * max(0, 2 * send - bStep))
  }

  func ns(_ x: Double) -> Nanoseconds { Nanoseconds(rawValue: Int64(max(0, x).rounded())) }
}

/// The whole model's work per micro-batch at a predicted layout's shapes (ns), summed over the
/// recorded stages (one rank each).
struct WholeModel {
  var layerF = 0.0
  var layerB = 0.0
  var firstF = 0.0
  var firstB = 0.0
  var lastF = 0.0
  var lastB = 0.0
  var attentionF = 0.0
  var attentionB = 0.0
  var optimizerScaled = 0.0
  var optimizerKept = 0.0
  var other = 0.0
  /// Forward and backward time kept as measured per micro-batch (overhead, CPU work without shapes).
  var kept = 0.0
}

extension ParallelModel {
  /// Re-times every recorded op group by `f` and sums them per phase and model part.
  func wholeModel(_ f: DimFactors, training: Bool) -> WholeModel {
    var w = WholeModel()
    let m = Double(recordedMicrobatches)
    let retimer = ShapeRetimer(target: target, source: source)
    for st in stages {
      for (grp, time) in st.ops {
        let r = retimer.ratio(grp, f) * retimer.hardwareRatio(grp)
        let t = time * r / m
        switch grp.phase {
        case .forward:
          switch grp.part {
          case .layer: w.layerF += t
          case .first: w.firstF += t
          case .last: w.lastF += t
          }
          if TransformerDims.attentionNames.contains(grp.name) { w.attentionF += t }
        case .backward:
          switch grp.part {
          case .layer: w.layerB += t
          case .first: w.firstB += t
          case .last: w.lastB += t
          }
          if grp.name.hasPrefix("aten::_scaled_dot_product") { w.attentionB += t }
        case .optimizer: w.optimizerScaled += time
        case .other: w.other += time
        }
      }
      // Work without shapes: GPU kernels scale with the tokens and the model width (activations
      // of b·s·h elements); CPU framework overhead stays.
      let unsizedFactor = f.tokens * f.model.hidden
      func kept(_ p: Phase) -> Double { (st.overhead[p] ?? 0) + (st.framework[p] ?? 0) }
      w.layerF += ((st.unsized[.forward] ?? 0) * unsizedFactor + kept(.forward)) / m
      w.layerB += ((st.unsized[.backward] ?? 0) * unsizedFactor + kept(.backward)) / m
      w.kept += (kept(.forward) + kept(.backward)) / m
      w.optimizerKept += (st.unsized[.optimizer] ?? 0) + kept(.optimizer)
      w.other += (st.unsized[.other] ?? 0) + kept(.other) + (st.exposed[.other] ?? 0)
    }
    // Another model's layer count scales the layers' work.
    (w.layerF, w.layerB, w.attentionF, w.attentionB) = (
      w.layerF * f.model.layers, w.layerB * f.model.layers, w.attentionF * f.model.layers,
      w.attentionB * f.model.layers
    )
    if training && backwardMissing {
      // A trace without a backward pass (inference): the backward takes twice the forward's
      // compute (Narayanan et al., SC'21, §5.1: 2 of the 3 GEMMs per layer's 3·2·bsh² FLOPs).
      (w.layerB, w.firstB, w.lastB, w.attentionB) = (2 * w.layerF, 2 * w.firstF, 2 * w.lastF, 2 * w.attentionF)
    }
    // The recorded stages each ran once per step: `other` and the optimizer are per rank.
    let k = Double(max(1, stages.count))
    w.optimizerScaled /= k
    w.optimizerKept /= k
    w.other /= k
    return w
  }
}

extension ParallelModel {
  /// Whether the trace has no backward pass (an inference trace), so a training step's backward
  /// is modeled as twice the forward.
  static func backwardMissing(_ stages: [RankProfile]) -> Bool {
    let backward = stages.map { st in
      st.ops.filter { $0.key.phase == .backward }.values.reduce(0, +) + (st.unsized[.backward] ?? 0)
    }
    let forward = stages.map { st in st.ops.filter { $0.key.phase == .forward }.values.reduce(0, +) }
    return backward.reduce(0, +) == 0 && forward.reduce(0, +) > 0
  }
}
