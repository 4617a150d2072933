import ArgumentParser
import CostModels
import Foundation
import Replay
import Reports
import Schedules

struct PlanCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "plan",
    abstract: "Rank every DP/TP/PP/CP layout of N devices by its step predicted from a recorded run.",
    discussion: """
      Enumerates every (dp, tp, pp, cp) with dp·tp·pp·cp = --gpus, every pipeline schedule for \
      pp > 1 (\(ScheduleGenerators.names.joined(separator: ", "))) and the micro-batch counts \
      \(ParallelPlan.microbatchRule). Each candidate's memory per rank is checked first (those \
      that do not fit are counted, never ranked), then its step is predicted as `whatif \
      --parallel` would. Ranked by predicted step; ties: fewer pipeline stages, then the name. \
      JSON schema reprise.plan/v1 (docs/models/parallel.md).
      """)

  @OptionGroup var input: TraceInputs
  @OptionGroup var specs: SpecOptions
  @Option(help: "Devices to lay out (dp·tp·pp·cp).") var gpus: Int
  @Option(help: "The device to predict on and check the memory against (a name in hardware/ or a JSON file).")
  var hardware: String?
  @Option(help: "Cluster spec: a name in clusters/ or a JSON file; nodes, GPUs per node, link bandwidths.")
  var cluster: String?
  @Option(help: "The model spec (a name in models/ or a JSON file) for its sizes and memory.") var model: String?
  @Option(help: "Plans to show.") var top = 10
  @Flag(help: "Print one JSON object (schema reprise.plan/v1).") var json = false
  @Option(help: "Sequences per step over the job (default: as recorded).") var globalBatch: Int?
  @Option(help: "ZeRO stage 0–3 of every plan.") var zero = 0
  @Option(help: "Activation memory (\(Transformer.ActivationConfig.allCases.map(\.rawValue).joined(separator: ", "))).")
  var activations: Transformer.ActivationConfig = .tensorSequenceSelective
  @Option(help: "The recorded device's hardware spec (default: the GPU the trace names in deviceProperties).")
  var from: String?
  @Option(help: "The recorded layout dp=A,tp=B,pp=C[,cp=D], when the detected one is wrong.") var recorded: String?

  func validate() throws {
    try requireAtLeast(1, ["--gpus": gpus, "--top": top])
    if let globalBatch { try requireAtLeast(1, ["--global-batch": globalBatch]) }
    if !(0...3).contains(zero) { throw ValidationError("--zero: 0, 1, 2 or 3") }
    _ = try recordedLayout()
  }

  func recordedLayout() throws -> ParallelLayout? {
    try flag { try recorded.map { try ParallelLayout(parsing: $0, flag: "--recorded") } }
  }

  func run() throws {
    let graph = try input.ingest().graph
    let request = PlanRequest(gpus: gpus, top: top, globalBatch: globalBatch, zeroStage: zero, activations: activations)
    let plan = try usage {
      let study = try ParallelStudy(
        graph: graph, trace: input.paths.joined(separator: " "), recorded: try recordedLayout(), model: model,
        hardware: hardware, from: from, cluster: cluster, specs: try specs.library())
      return try ParallelPlan(study, cluster: cluster, request: request)
    }
    print(json ? try plan.json() : plan.text())
  }
}
