import ArgumentParser
import CostModels
import Parallel
import Replay
import Reports

/// The flags of a layout prediction (`whatif --parallel`, `plan`; docs/models/parallel.md).
struct LayoutFlags: ParsableArguments {
  @Option(help: "The recorded layout dp=…,tp=…,pp=…,cp=…, when the detected one is wrong.") var recorded: String?
  @Option(help: "Micro-batches per step per pipeline.") var microbatches: Int?
  @Option(help: "Sequences per step over the job (default: as recorded).") var globalBatch: Int?
  @Option(help: "Model spec (a name in models/ or a JSON file): its sizes and memory.") var model: String?
  @Option(help: "ZeRO stage 0–3 of the predicted layout.") var zero = 0
  @Option(help: "Activation memory: \(Transformer.ActivationConfig.allCases.map(\.rawValue).joined(separator: ", ")).")
  var activations: Transformer.ActivationConfig = .tensorSequenceSelective
  @Flag(help: "Megatron sequence parallelism in the TP groups.") var sequenceParallel = false
  @Flag(help: "On a trace without a backward pass: predict training steps (backward = 2 × forward).") var training =
    false

  /// Whether no layout flag is given.
  var isDefault: Bool {
    recorded == nil && microbatches == nil && globalBatch == nil && model == nil && zero == 0 && !sequenceParallel
      && !training && activations == .tensorSequenceSelective
  }

  func validate(target: String?) throws {
    if !(0...3).contains(zero) { throw ValidationError("--zero: 0, 1, 2 or 3") }
    try requireAtLeast(1, ["--microbatches": microbatches ?? 1, "--global-batch": globalBatch ?? 1])
    _ = try flag { (try target.map { try ParallelLayout(parsing: $0) }, try recordedLayout()) }
  }

  func recordedLayout() throws -> ParallelLayout? {
    try recorded.map { try ParallelLayout(parsing: $0, flag: "--recorded") }
  }

  func options(schedule: String?, chunks: Int?) -> ParallelOptions {
    ParallelOptions(
      schedule: schedule, microbatches: microbatches, globalBatch: globalBatch, chunks: chunks, zeroStage: zero,
      sequenceParallel: sequenceParallel, training: training)
  }
}

extension WhatIfCommand {
  /// `whatif --parallel`: one predicted layout (`reprise.parallel/v1`).
  func runParallel(_ parallel: String) throws {
    let target = try ParallelLayout(parsing: parallel)
    let graph = try input.ingest().graph
    let study = try usage {
      try ParallelStudy(
        graph: graph, trace: input.paths.joined(separator: " "), recorded: try layout.recordedLayout(),
        model: layout.model, hardware: hardware, from: from, cluster: cluster, specs: try specs.library())
    }
    let doc = try usage {
      try ParallelWhatIf(
        study, target: target, options: layout.options(schedule: schedule, chunks: chunks),
        activations: layout.activations)
    }
    print(json ? try doc.json() : doc.text())
  }
}
