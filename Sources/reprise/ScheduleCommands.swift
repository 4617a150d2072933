import ArgumentParser
import Foundation
import Rendering
import Replay
import Reports
import Schedules
import TraceModel

struct ScheduleCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "schedule",
    abstract: "Generate and simulate a pipeline-parallel schedule; bubbles, memory, diagram.",
    subcommands: [ScheduleRunCommand.self, ScheduleCompareCommand.self],
    defaultSubcommand: ScheduleRunCommand.self)
}

/// Costs shared by `schedule` and `schedule compare`.
struct ScheduleOptions: ParsableArguments {
  @Option(help: "Pipeline stages p.") var stages: Int
  @Option(help: "Micro-batches m.") var microbatches: Int
  @Option(help: "Model chunks per stage v for interleaved-1f1b and zeropp (≥ 2) and hanayo (waves) (default: 2).")
  var chunks: Int?
  @Option(help: "Forward time per micro-batch per stage (e.g. 18.5ms); comma-separated for per-stage values.")
  var forward: String
  @Option(help: "Input-gradient backward time (B).") var backward: String
  @Option(help: "Weight-gradient backward time (W); 1F1B-style schedules fuse B+W.") var weight = "0ms"
  @Option(help: "Stage-to-stage transfer time.") var p2p = "0ms"
  @Option(name: .customLong("act-mem-b"), help: "Activation memory held from F until B per micro-batch (e.g. 1GiB).")
  var actMemB = "0"
  @Option(name: .customLong("act-mem-w"), help: "Memory held from B until W per micro-batch.") var actMemW = "0"

  func validate() throws {
    try requireAtLeast(1, ["--stages": stages, "--microbatches": microbatches, "--chunks": chunks ?? 1])
  }

  func costs() throws -> PipelineCosts {
    try flag {
      PipelineCosts(
        forward: try Scenario.durations("--forward", forward, count: stages),
        backward: try Scenario.durations("--backward", backward, count: stages),
        weight: try Scenario.durations("--weight", weight, count: stages), comm: try Scenario.duration("--p2p", p2p),
        memB: try Scenario.size("--act-mem-b", actMemB), memW: try Scenario.size("--act-mem-w", actMemW))
    }
  }
}

struct ScheduleRunCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "run", abstract: "Simulate one schedule (the default: `reprise schedule NAME …`).")
  @Argument(help: "Schedule: \(ScheduleGenerators.names.joined(separator: ", ")).") var name: String
  @OptionGroup var options: ScheduleOptions
  @Flag(help: "Print JSON (schema reprise.schedule/v1).") var json = false
  @Option(name: .shortAndLong, help: "Write the diagram: .svg, .png or .dot.") var output: String?
  @Option(help: "PipeOffload: fraction of activations moved to host memory (0…1).") var offloadRatio: Double?
  @Option(help: "PCIe bandwidth per direction for the offload (e.g. 32GB/s).") var pcie = "32GB/s"
  @Option(help: "Also write the schedule as Chakra execution traces (one NAME.STAGE.et per stage) into this directory.")
  var chakra: String?

  func validate() throws {
    _ = try flag { try ScheduleGenerators.chunks(name, requested: options.chunks) }
    if let offloadRatio, !(0...1).contains(offloadRatio) { throw ValidationError("--offload-ratio must be within 0…1") }
    if let output, Graphviz.Format(rawValue: (output as NSString).pathExtension.lowercased()) == nil {
      throw ValidationError("-o \(output): expected .svg, .png or .dot")
    }
  }

  func run() throws {
    let format = output.flatMap { Graphviz.Format(rawValue: ($0 as NSString).pathExtension.lowercased()) }
    let run = try ScheduleRun(
      ScheduleRun.Request(
        name: name, stages: options.stages, microbatches: options.microbatches, chunks: options.chunks,
        costs: try options.costs(),
        offload: try offloadRatio.map { ($0, try flag { try Scenario.bandwidth("--pcie", pcie) }) },
        diagram: output.flatMap { path in format.map { (path, $0) } }, chakraDirectory: chakra))
    if let chakra, let summary = run.chakra {
      printError("wrote \(summary.files.count) Chakra file(s), \(summary.nodes) nodes, to \(chakra)/")
    }
    print(json ? try run.report.json() : run.report.text() + (output.map { "\n  wrote \($0)" } ?? ""))
  }
}

struct ScheduleCompareCommand: ParsableCommand {
  static let configuration = CommandConfiguration(commandName: "compare", abstract: "Every schedule side by side.")
  @OptionGroup var options: ScheduleOptions
  @Flag(help: "Compare all schedules (the default).") var all = false
  @Flag(help: "Print a JSON array of reprise.schedule/v1 objects.") var json = false

  func validate() throws {
    _ = try flag { try ScheduleGenerators.chunks("interleaved-1f1b", requested: options.chunks) }
  }

  func run() throws {
    let reports = try ScheduleReport.compare(
      stages: options.stages, microbatches: options.microbatches,
      chunks: options.chunks, costs: try options.costs())
    print(json ? try reports.json() : ScheduleReport.comparisonText(reports))
  }
}
