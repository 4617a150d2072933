import ArgumentParser
import CostModels
import Foundation
import Replay
import Reports

struct ReportCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "report",
    abstract: "All analyses of a run in one JSON document (reprise.report/v2), and one CSV per section.",
    discussion: """
      Sections: summary, verdict, stepTimes, top, breakdown, bubbles, bandwidth, memory, criticalPath, \
      stragglers, whatIf. Prints the verdicts (what bounds the job and each rank, with the evidence), \
      the step-time distribution per rank and the top kernels (on standard error when the JSON goes \
      to standard output). \
      The schema is docs/report.schema.json; the fields are described in docs/report.md. \
      --whatif KEY=VALUE (repeatable; the knobs of `reprise whatif --set`) fills whatIf with the \
      baseline and predicted step per rank and the change per kernel class. The same inputs give \
      byte-identical output. The JSON is a summary; --detail adds the full lists (bubbles.intervals, \
      criticalPath.segments, bandwidth.instances), which bubbles.csv, critical_path.csv and bandwidth.csv hold.
      """)

  @OptionGroup var input: TraceInputs
  @OptionGroup var specs: SpecOptions
  @Option(name: .customLong("whatif"), help: "A what-if knob KEY=VALUE (repeatable), as in `reprise whatif --set`.")
  var whatIf: [String] = []
  @Option(help: "Cluster spec for the what-if: a name in clusters/ (v100-dgx1) or a JSON file.") var cluster: String?
  @Option(
    help:
      "Hardware name in hardware/ (default: from the trace's deviceProperties); its interconnect is the link peak."
  )
  var hardware: String?
  @Option(help: "Per-rank link bandwidth for % of peak, e.g. 300GB/s (overrides the hardware's interconnect).")
  var linkBandwidth: String?
  @Option(
    help:
      "Model name in models/: adds the modeled memory breakdown (weights, gradients, optimizer, activations).")
  var model: String?
  @Option(help: "Sequence length for the modeled activations.") var sequence = 2048
  @Option(help: "Micro-batch size for the modeled activations.") var microBatch = 1
  @Option(help: "Tensor-parallel degree for the memory model.") var tp = 1
  @Option(help: "Pipeline-parallel degree for the memory model.") var pp = 1
  @Option(help: "Context-parallel degree for the memory model.") var cp = 1
  @Option(help: "Data-parallel degree for the memory model (default: world size / (TP·PP·CP); must agree).")
  var dp: Int?
  @Option(help: "ZeRO stage 0–3 for the memory model (states sharded over the data-parallel ranks).") var zero = 0
  @Option(name: .shortAndLong, help: "Write the report here instead of standard output.") var output: String?
  @Option(help: "Also write one CSV per section into this directory.") var csv: String?
  @Flag(help: "Add the full lists to the JSON: every bubble, critical-path segment, collective.") var detail = false

  func validate() throws {
    try checkKnobs(whatIf)
    if !(0...3).contains(zero) { throw ValidationError("--zero: 0, 1, 2 or 3") }
    if tp < 1 || sequence < 1 || microBatch < 1 {
      throw ValidationError("--tp, --sequence and --micro-batch must be ≥ 1")
    }
    _ = try linkGBps(linkBandwidth)
  }

  func run() throws {
    let lib = try specs.library()
    let spec = try specs.cluster(cluster)
    let named = try hardware.map { try lib.hardware($0) }
    let modelSpec = try model.map { try lib.model($0) }
    let result = try input.ingest()
    // As in `whatif --cluster`: the cluster re-times the collectives.
    var options = RunReport.Options(
      scenario: whatIf.isEmpty && spec == nil
        ? nil
        : try Scenario.parse(whatIf, cluster: spec).configuringModels(
          graph: result.graph, hardware: nil, from: nil, hostScale: nil, ranksPerNode: nil, specs: lib))
    options.hardware = try named ?? lib.detectHardware(result.graph)
    options.linkGBps = try linkGBps(linkBandwidth)
    options.modelMemory = try modelSpec.map {
      try ModelMemory(
        model: $0, sequence: sequence, microBatch: microBatch, tensorParallel: tp, pipelineParallel: pp,
        contextParallel: cp, dataParallel: dp, zeroStage: zero, worldOf: result.graph)
    }
    let report = try RunReport(result, inputs: input.paths, options: options)
    for line in report.summary.reportWarnings { printError("warning: " + line) }
    try report.writeJSON(to: output, detail: detail)
    if let output { print("wrote \(output)\n" + report.headline()) } else { printError(report.headline()) }
    if let csv { printError("wrote \(try report.writeCSV(to: csv).count) CSV files to \(csv)/") }
  }
}

struct DiffCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "diff",
    abstract: "What changed between two runs: device time per kernel class and collective kind, sorted by impact.",
    discussion: """
      A and B are traces (a file or a directory of rank files each). With --whatif KEY=VALUE \
      instead of B, compares the identity replay of A with A under the what-if. Prints the job \
      step and job window of each (docs/Glossary.md); device times are the step work's (every \
      device event of a profiler step, full duration), summed over ranks. JSON schema reprise.diff/v1.
      """)

  @Argument(help: "The first run (a trace file or a directory of rank files).") var a: String
  @Argument(help: "The second run; omit with --whatif.") var b: String?
  @Option(name: .customLong("whatif"), help: "Compare A with A under this what-if knob KEY=VALUE (repeatable).")
  var whatIf: [String] = []
  @Option(name: .shortAndLong, help: "Write the JSON here (else a table is printed).") var output: String?
  @Flag(help: "Print JSON on standard output.") var json = false
  @OptionGroup var limit: ReadLimitOptions

  func validate() throws {
    if (b == nil) == whatIf.isEmpty {
      throw ValidationError("give either a second run B or --whatif KEY=VALUE, not both or neither")
    }
    try checkKnobs(whatIf)
  }

  func run() throws {
    let limits = try limit.limits()
    let ra = try TraceInputs.ingest([a], limits: limits)
    let report: DiffReport
    if let b {
      report = DiffReport(ra, try TraceInputs.ingest([b], limits: limits), labels: (a, b))
    } else {
      let run = try WhatIfRun(graph: ra.graph, scenario: try Scenario.parse(whatIf))
      for line in run.knobWarnings { printError("warning: " + line) }
      report = DiffReport(run, labels: (a + " (replayed)", a + " under " + whatIf.joined(separator: " ")))
    }
    if output != nil || json { try emit(try report.json(), to: output) } else { print(report.text()) }
  }
}
