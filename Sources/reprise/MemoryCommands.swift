import ArgumentParser
import CostModels
import Foundation
import Reports
import TraceModel

struct MemoryCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "memory",
    abstract: "Training memory per GPU: weights, gradients, optimizer (ZeRO), activations (Korthikanti).")
  @OptionGroup var specs: SpecOptions
  @Option(help: "Model name.") var model: String
  @Option(help: "Sequence length.") var sequence = 2048
  @Option(help: "Micro-batch size.") var microBatch = 1
  @Option(help: "Tensor-parallel degree.") var tp = 1
  @Option(help: "Pipeline-parallel degree (divides the model states; 1F1B keeps all layers' activations).") var pp = 1
  @Option(help: "Context-parallel degree (divides the sequence of the activations).") var cp = 1
  @Option(help: "Data-parallel degree.") var dp = 1
  @Option(help: "ZeRO stage 0–3.") var zero = 0
  @Option(help: "Activations: none, tensor, tensorSequence, tensorSelective, tensorSequenceSelective, full.")
  var activations: Transformer.ActivationConfig = .tensorSequenceSelective
  @Option(help: "Pipeline schedule whose peak in-flight micro-batches hold activations (default: 1F1B's PP).")
  var schedule: String?
  @Option(help: "With --schedule: micro-batches per step.") var microbatches: Int?
  @Option(help: "With --schedule: chunks per stage for the chunked schedules.") var chunks: Int?
  @Flag(help: "Print JSON (schema reprise.memory/v1).") var json = false

  func validate() throws {
    if !(0...3).contains(zero) { throw ValidationError("--zero: 0, 1, 2 or 3") }
    if (schedule == nil) != (microbatches == nil) { throw ValidationError("--schedule and --microbatches go together") }
    if let schedule, let microbatches {
      _ = try flag {
        try ModelMemory.inFlight(schedule: schedule, stages: pp, microbatches: microbatches, chunks: chunks)
      }
    }
    try requireAtLeast(
      1, ["--sequence": sequence, "--micro-batch": microBatch, "--tp": tp, "--pp": pp, "--cp": cp, "--dp": dp])
  }

  func run() throws {
    let m = ModelMemory(
      model: try specs.library().model(model), sequence: sequence, microBatch: microBatch, tensorParallel: tp,
      pipelineParallel: pp, contextParallel: cp, dataParallel: dp, zeroStage: zero, activations: activations,
      inFlightMicrobatches: try schedule.map {
        try ModelMemory.inFlight(schedule: $0, stages: pp, microbatches: microbatches ?? pp, chunks: chunks)
      }, stageReplicas: schedule.map { ModelMemory.stageReplicas(schedule: $0, stages: pp) } ?? 1)
    let estimate = MemoryEstimate(m)
    print(json ? try estimate.json() : estimate.text())
  }
}

struct LongContextCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "longctx",
    abstract: "Long-context serving at peak numbers: prefill, decode, concurrency, context switch (Fu 2024).")
  @OptionGroup var specs: SpecOptions
  @Option(help: "Model name in models/.") var model: String
  @Option(help: "Hardware name in hardware/.") var hardware: String
  @Option(help: "Context length in tokens.") var context: Int
  @Option(help: "Tokens to decode.") var outputTokens = 0
  @Option(help: "Tensor-parallel degree (multiplies HBM, FLOPs and bandwidth; comm neglected).") var tp = 1
  @Option(help: "KV-cache dtype.") var kvDtype: DType = .bf16
  @Option(help: "Weight dtype.") var weightDtype: DType = .bf16
  @Option(help: "Compute efficiency (fraction of peak).") var computeEfficiency = 1.0
  @Option(help: "Memory-bandwidth efficiency.") var memoryEfficiency = 1.0
  @Flag(help: "Print one JSON object (schema reprise.longctx/v1).") var json = false

  func validate() throws {
    try requireAtLeast(1, ["--context": context, "--tp": tp])
    try requireAtLeast(0, ["--output-tokens": outputTokens])
    for (flag, v) in [("--compute-efficiency", computeEfficiency), ("--memory-efficiency", memoryEfficiency)]
    where !(v > 0 && v <= 1) {
      throw ValidationError("\(flag): expected a fraction of peak in (0, 1], found \(v)")
    }
    try checkKVDtype(kvDtype)
    try checkKVDtype(weightDtype, flag: "--weight-dtype")
  }

  func run() throws {
    let (lib, m) = (try specs.library(), try specs.library().model(model))
    let hw = try lib.hardware(hardware)
    let a = try LongContextAnalysis.analyze(
      model: m, hardware: hw, context: context, outputTokens: outputTokens, tensorParallel: tp,
      weightDtype: weightDtype,
      kvDtype: kvDtype, computeEfficiency: computeEfficiency, memoryEfficiency: memoryEfficiency)
    let report = LongContextReport(
      a, model: m, hardware: hw, context: context, outputTokens: outputTokens, tensorParallel: tp,
      kvDtype: kvDtype.rawValue)
    print(json ? try report.json() : report.text())
  }
}

struct KVCacheCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "kvcache",
    abstract: "KV-cache cost: bytes per token by attention type, sharing, paging, capacity, swap, reuse.")
  @OptionGroup var specs: SpecOptions
  @Option(help: "Model name.") var model: String
  @Option(help: "Context length in tokens.") var context = 4096
  @Option(help: "Concurrent requests.") var requests = 1
  @Option(help: "Tokens of prefix shared by all requests.") var sharedPrefix = 0
  @Option(help: "KV dtype.") var kvDtype: DType = .bf16
  @Option(help: "Paged-attention block size (tokens).") var blockSize = 16
  @Option(help: "Hardware name (capacity, swap cost).") var hardware: String?
  @Option(help: "Tensor-parallel degree.") var tp = 1
  @Option(help: "Contexts encoded for APE-style parallel prefill.") var contexts = 1
  @Option(help: "Turns reusing a shared context.") var turns = 1
  @Flag(help: "Print one JSON object (schema reprise.kvcache/v1).") var json = false

  func validate() throws {
    try checkKVDtype(kvDtype)
    try requireAtLeast(1, ["--context": context, "--requests": requests, "--block-size": blockSize, "--tp": tp])
    try requireAtLeast(1, ["--contexts": contexts, "--turns": turns])
    if sharedPrefix < 0 || sharedPrefix > context { throw ValidationError("--shared-prefix must be within 0…context") }
  }

  func run() throws {
    let lib = try specs.library()
    let m = try lib.model(model)
    let hw = try hardware.map { try lib.hardware($0) }
    let a = KVCacheAnalysis.analyze(
      model: m, kvDtype: kvDtype, context: context, requests: requests, sharedPrefix: sharedPrefix,
      blockSize: blockSize,
      hardware: hw, tensorParallel: tp, contexts: contexts, turns: turns)
    let report = KVCacheReport(a, model: m, kvDtype: kvDtype.rawValue)
    print(json ? try report.json() : report.text())
  }
}
