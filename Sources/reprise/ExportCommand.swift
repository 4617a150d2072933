import ArgumentParser
import Foundation
import Replay
import Reports
import TraceExport
import TraceImport
import TraceModel

struct ExportCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "export",
    abstract: "Write traces in other formats: Chakra execution traces for ASTRA-sim.",
    subcommands: [ExportChakraCommand.self])
}

struct ExportChakraCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "chakra",
    abstract: "Write a run (as recorded, or under a what-if) as Chakra execution traces, one NAME.RANK.et per rank.",
    discussion: """
      MLCommons Chakra schema 0.0.4 (the .et files ASTRA-sim and Chakra's tools read): compute, \
      memory-copy, collective (comm_type, comm_size, pg_name) and send/recv (comm_src/comm_dst, \
      comm_tag) nodes with control dependencies (lane order) and data dependencies (launches, \
      synchronizes), µs start times and durations. With --whatif the predicted timeline of the \
      replay is written. A generated pipeline schedule: `reprise schedule run NAME … --chakra DIR`. \
      See docs/chakra.md.
      """)

  @OptionGroup var input: TraceInputs
  @Option(name: .shortAndLong, help: "Output directory.") var output: String
  @Option(help: "File name prefix (files are NAME.RANK.et).") var name = "reprise"
  @Option(name: .customLong("whatif"), help: "Export the run under this what-if knob KEY=VALUE (repeatable).")
  var whatIf: [String] = []

  func validate() throws {
    try checkKnobs(whatIf)
    if name.isEmpty || name.contains("/") { throw ValidationError("--name: a file name prefix without '/'") }
  }

  func run() throws {
    let g = try input.ingest().graph
    let timeline =
      whatIf.isEmpty
      ? Timeline(measured: g) : try WhatIfRun.predictedTimeline(graph: g, scenario: try Scenario.parse(whatIf))
    let s = try ChakraExporter.write(g, timeline: timeline, to: output, name: name)
    print(s.text(dir: output, note: whatIf.isEmpty ? "" : " (under \(whatIf.joined(separator: " ")))"))
  }
}

struct DemoCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "demo",
    abstract: "Run the main job on the bundled traces in Traces/ and write the results to out/.",
    discussion: """
      The real 8-rank DLRM run (Traces/public/dlrm-8rank): summary, breakdown, bandwidth, identity \
      replay, two what-ifs, report with CSV, Perfetto timeline and diagrams; then every other \
      bundled set; then the pipeline schedules side by side.
      """)

  @Option(help: "Directory with the bundled traces (public/, kineto-cpu/, generated/).") var traces = "Traces"
  @Option(name: .shortAndLong, help: "Output directory.") var output = "out"
  @OptionGroup var specs: SpecOptions

  func run() throws {
    try Demo(traces: traces, output: output, specs: try specs.library()).run { line in
      print(line)
      fflush(nil)
    }
  }
}

struct BenchCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bench-replay",
    abstract: "Benchmark the replay engine on a generated data-parallel run (for make bench).",
    shouldDisplay: false)

  @Option(help: "Ranks.") var ranks = 8
  @Option(help: "Kernels per rank (each with its launch).") var kernels = 500_000
  @Option(help: "Replays to time.") var repeats = 5

  func run() throws {
    try requireAtLeast(1, ["--ranks": ranks, "--kernels": kernels, "--repeats": repeats])
    print(try ReplayBenchmark(ranks: ranks, kernelsPerRank: kernels, repeats: repeats).text())
  }
}
