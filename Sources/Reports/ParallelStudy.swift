import CostModels
import Foundation
import Parallel
import Replay
import Schedules
import TraceModel

/// One recorded run set up for layout predictions: the identity replay it is anchored to, the
/// recorded layout, the specs, and the predictor (`whatif --parallel` and `plan` share it).
public struct ParallelStudy: Sendable {
  public let predictor: ParallelModel
  public let trace: String
  public let recordedSource: String
  public let modelSpec: ModelSpec?
  public let modelSource: String
  /// The device the memory is checked against and the ops are re-timed on.
  public let hardware: HardwareSpec?
  public let measuredStep: Nanoseconds
  public let baselineStep: Nanoseconds
  public let identityErrorPct: Double
  /// Coverage of the recorded timed work by how a prediction re-times it.
  public let coverage: Fidelity.Coverage
  public let unsharded: [ParallelWhatIf.UnshardedOp]
  /// `--cluster`, when given.
  public let cluster: ClusterSpec?

  /// A note when `world` ranks do not fit in the cluster: ranks past its GPUs reuse its last node
  /// entry (`ClusterSpec.bottleneck`).
  public func clusterNote(world: Int) -> String? {
    guard let c = cluster else { return nil }
    let gpus = c.expandedNodes.count * c.gpusPerNode
    guard world > gpus else { return nil }
    return
      "the cluster \(c.name) holds \(gpus) GPUs, fewer than \(world) ranks: ranks past them are placed on copies of its last node"
  }

  /// The fidelity line for a layout prediction, which is anchored to the slowest per-rank step.
  static func fidelityLine(_ f: Fidelity) -> String {
    f.line.replacingOccurrences(of: "(job step)", with: "(slowest per-rank step)")
  }

  /// Sets up `graph`.
  /// - Throws: `ParallelError` / `LayoutError` for a recorded layout that does not fit the trace,
  ///   `SpecError` for unknown specs.
  public init(
    graph: EventGraph, trace: String, recorded: ParallelLayout?, model: String?, hardware: String?, from: String?,
    cluster: String?, specs: SpecLibrary
  ) throws {
    let run = try WhatIfRun(graph: graph, scenario: nil, specs: specs)
    measuredStep = run.measuredStep
    baselineStep = run.baselineStep
    identityErrorPct = (Fidelity.errorPct(baselineStep, measuredStep) * 1000).rounded() / 1000
    let detected = try Self.recordedLayout(graph, given: recorded)
    recordedSource = detected.source
    let spec = try model.map { try specs.model($0) }
    modelSpec = spec
    let source = try from.map { try specs.hardware($0) } ?? specs.detectHardware(graph)
    let target = try hardware.map { try specs.hardware($0) } ?? source
    self.hardware = target
    let clusterSpec = try cluster.map { try specs.cluster($0) }
    self.cluster = clusterSpec
    var schedule: String? = nil
    var microbatches = 1
    if detected.layout.pp > 1, let profile = try? PipelineProfile.analyze(graph) {
      schedule = profile.detectedSchedule
      microbatches = profile.microbatches
    }
    predictor = try ParallelModel(
      plan: run.plan, recorded: detected.layout, recordedSchedule: schedule, recordedMicrobatches: microbatches,
      baseline: baselineStep, model: spec, source: source, target: target, cluster: clusterSpec)
    modelSource = spec.map { "--model \($0.name)" } ?? "inferred from the op shapes"
    self.trace = trace
    coverage = Self.coverage(predictor.timedWork)
    unsharded = predictor.unshardedOps(limit: 10).map { .init(op: $0.name, durationNs: $0.time) }
  }

  static func coverage(_ w: ParallelModel.TimedWork) -> Fidelity.Coverage {
    let pct = Fidelity.percentages([w.shapeTimed, w.classTimed, w.measured])
    return Fidelity.Coverage(
      shapeTimedPct: pct[0], classTimedPct: pct[1], measuredPct: pct[2],
      timedWorkNs: Nanoseconds(w.shapeTimed + w.classTimed + w.measured))
  }

  /// The recorded layout: `given` (`--recorded`), else the one `LayoutDetection` finds from the
  /// process groups and send/recv pairs, its evidence as the source.
  /// - Throws: `LayoutError` when `given` does not multiply to the trace's world size.
  static func recordedLayout(_ graph: EventGraph, given: ParallelLayout?) throws -> (
    layout: ParallelLayout, source: String
  ) {
    let d = try LayoutDetection.resolve(graph: graph, recorded: given)
    if given != nil { return (d.layout, "--recorded") }
    return (d.layout, d.evidence.map { "\($0.dimension)=\($0.degree): \($0.source)" }.joined(separator: "; "))
  }

  /// The model spec memory is computed with: `--model`, else one built from the trace's shapes.
  public var memoryModel: ModelSpec? {
    if let modelSpec { return modelSpec }
    guard let d = predictor.dims, d.hidden > 0, d.heads > 0, d.layers > 0, d.vocab > 0 else { return nil }
    return ModelSpec(
      name: "inferred", source: "the trace's op shapes", layers: d.layers, hidden: d.hidden, heads: d.heads,
      kvHeads: d.heads, headDim: d.headDim, ffn: d.ffn > 0 ? d.ffn : 4 * d.hidden, ffnType: "plain", vocab: d.vocab,
      tiedEmbeddings: false, norm: "layernorm", bias: true)
  }

  /// The memory of prediction `p`: `reprise model memory` with the same configuration and the
  /// schedule's peak in-flight micro-batches, against the device's HBM.
  public func memory(
    _ p: ParallelPrediction, options: ParallelOptions, activations: Transformer.ActivationConfig
  ) throws -> (memory: ParallelWhatIf.Memory?, note: String?) {
    let schedule = p.layout.pp > 1 ? p.schedule : "1f1b"
    let held = try ModelMemory.inFlight(
      schedule: schedule, stages: p.layout.pp, microbatches: p.microbatches, chunks: options.chunks)
    return memory(
      p.layout, schedule: schedule, microBatchSize: p.microBatchSize, inFlight: held, zeroStage: options.zeroStage,
      activations: activations)
  }

  /// The memory of `layout` with micro-batches of `microBatchSize` sequences, `inFlight` of them
  /// held by the first stage (`ModelMemory.inFlight` of `schedule`), against the device's HBM;
  /// nil and why when the model sizes or the device are unknown.
  public func memory(
    _ layout: ParallelLayout, schedule: String, microBatchSize: Int, inFlight held: Double, zeroStage: Int,
    activations: Transformer.ActivationConfig
  ) -> (memory: ParallelWhatIf.Memory?, note: String?) {
    guard let spec = memoryModel, let d = predictor.dims else {
      return (nil, "no model sizes: give --model NAME (the shapes do not show hidden, heads, layers and vocabulary)")
    }
    guard let hw = hardware else { return (nil, "no device to check the memory against: give --hardware NAME") }
    let b = ModelMemory(
      model: spec, sequence: d.sequence, microBatch: microBatchSize, tensorParallel: layout.tp,
      pipelineParallel: layout.pp, contextParallel: layout.cp, dataParallel: layout.dp, zeroStage: zeroStage,
      activations: activations, inFlightMicrobatches: held,
      stageReplicas: ModelMemory.stageReplicas(schedule: schedule, stages: layout.pp)
    ).breakdown()
    let peak = Bytes(rounding: b.totalBytes)
    let hbm = hw.hbmBytes
    return (
      ParallelWhatIf.Memory(
        peakBytesPerRank: peak, hbmBytes: hbm, fits: peak <= hbm, overBytes: peak > hbm ? peak - hbm : .zero,
        model: spec.name, modelSource: modelSpec == nil ? "inferred from the op shapes" : "--model",
        activations: activations.rawValue, zeroStage: zeroStage, inFlightMicrobatches: held,
        weightBytes: b.weightBytes, gradientBytes: b.gradientBytes, optimizerBytes: b.optimizerBytes,
        activationBytes: b.activationBytes, hardware: hw.name), nil
    )
  }
}
