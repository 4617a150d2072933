import ArgumentParser
import CostModels
import Foundation
import Parallel
import Replay
import Reports
import Schedules

struct ReplayCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "replay",
    abstract: "Replay a recorded run as measured (identity replay) and compare step times.",
    discussion: """
      Each host thread and device stream is a serial lane; launches, synchronizations, \
      collectives and send/recv pairs are the dependencies. An identity replay should \
      reproduce every rank's measured step time; the error per rank says how well it does. \
      Prints the per-rank steps, then the job step (first rank's entry to the step's last work) \
      with its variants, the slowest per-rank step and the job window (docs/Glossary.md).
      Output is the same for the same inputs; -v also prints the replay's wall time on stderr.
      """)

  @OptionGroup var input: TraceInputs
  @Flag(help: "Print one JSON object (schema reprise.replay/v1).") var json = false
  @Option(help: "Write the measured and predicted timelines as Chrome-trace JSON (opens in Perfetto).")
  var timeline: String?
  @Flag(help: "Replay symmetric ranks once per class (docs/replay.md).") var foldSymmetric = false

  func run() throws {
    let run = try WhatIfRun(graph: try input.ingest().graph, scenario: nil, fold: foldSymmetric)
    if let timeline { try run.writeTimeline(to: timeline) }
    if input.verbose { printError(run.timingText) }
    print(json ? try run.summary.json() : run.text())
  }
}

struct WhatIfCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "whatif",
    abstract: "Predict a recorded run under changed compute, links, stragglers or group sizes.",
    discussion: """
      Knobs (--set KEY=VALUE, repeatable, composable): \(Scenario.validKeys.joined(separator: ", ")). \
      Durations take ns/us/ms/s, bandwidths GB/s (1e9 B/s), GiB/s or Gb/s. kernel.match's REGEX is \
      case-sensitive and matches anywhere in the kernel name; (?i) makes it ignore case: \
      kernel.match=(?i)gemm,scale=0.5. A knob that matches nothing (no such rank, kernel or class) \
      prints a warning; --json lists what each knob matched (knobs). dp.degree rescales the \
      data-parallel process group's collectives only; dp.backup=K (backup workers, K below the \
      group size) ends each data-parallel all-reduce at its (n-K)-th arrival, drops the K late \
      members' contributions and reports the job step as the (n-K)-th fastest rank's step with the \
      dropped ranks per step (all-to-all, send/recv and other groups still wait for every member); \
      pg.NAME.scale|bandwidth|degree act on one \
      process group (NAME as the trace names it, or its pg_config description such as \
      DATA_PARALLEL_GROUP). On CPU-only (gloo) traces compute.* and rank.N.slowdown act on the \
      aten operators. A zb-* --schedule on a fused backward splits it evenly into B and W, and says so.
      """)

  @OptionGroup var input: TraceInputs
  @Option(name: .customLong("set"), help: "A what-if knob KEY=VALUE (repeatable).") var settings: [String] = []
  @OptionGroup var specs: SpecOptions
  @Option(help: "Cluster spec: a name in clusters/ (v100-dgx1) or a JSON file; nodes, GPUs per node, link bandwidths.")
  var cluster: String?
  @Option(
    help:
      "Re-time a pipeline-parallel trace under another schedule (\(ScheduleGenerators.names.joined(separator: ", "))).")
  var schedule: String?
  @Option(help: "Chunks per stage for --schedule interleaved-1f1b or zeropp (≥ 2) or hanayo (default: 2).") var chunks:
    Int?
  @Option(help: "Predict the run on this hardware spec (a name in hardware/, or a JSON file from `reprise calibrate`).")
  var hardware: String?
  @Option(help: "The recorded device's hardware spec (default: the GPU the trace names in deviceProperties).")
  var from: String?
  @Option(help: "With --hardware: factor on host (CPU) work, for another host CPU (default: 1, as measured).")
  var hostScale: Double?
  @Option(help: "With --cluster: ranks per node (default: the job spread evenly over the cluster's nodes).")
  var ranksPerNode: Int?
  @Option(help: "With --hardware: a trace of the same workload measured on that hardware, to check the prediction.")
  var compare: String?
  @Flag(help: "Print one JSON object (schema reprise.replay/v1 with whatIf, baselineStepNs, speedup).") var json = false
  @Option(help: "Write the measured and predicted timelines (with --schedule: simulated pipelines) for Perfetto.")
  var timeline: String?
  @Option(
    help: "Predict another layout dp=A,tp=B,pp=C[,cp=D] (docs/models/parallel.md); JSON schema reprise.parallel/v1.")
  var parallel: String?
  @OptionGroup(title: "Layout prediction (with --parallel)") var layout: LayoutFlags
  @Flag(help: "Replay symmetric ranks once per class (docs/replay.md).") var foldSymmetric = false

  func validate() throws {
    if parallel != nil {
      if !settings.isEmpty || compare ?? timeline != nil || hostScale != nil || ranksPerNode != nil || foldSymmetric {
        throw ValidationError(
          "--parallel takes no --set, --compare, --timeline, --host-scale, --ranks-per-node or --fold-symmetric yet")
      }
      return try layout.validate(target: parallel)
    }
    if hardware == nil && (from != nil || hostScale != nil) {
      throw ValidationError("--from and --host-scale need --hardware NAME (the device to predict on)")
    }
    if cluster == nil && ranksPerNode != nil { throw ValidationError("--ranks-per-node needs --cluster") }
    if hardware == nil && compare != nil { throw ValidationError("--compare needs --hardware NAME") }
    if !layout.isDefault {
      throw ValidationError(
        "--recorded, --microbatches, --global-batch, --model, --zero, --activations, --sequence-parallel and --training need --parallel"
      )
    }
    if settings.isEmpty && schedule == nil && hardware == nil && cluster == nil {
      throw ValidationError(
        "give --hardware NAME, --cluster FILE, --schedule NAME or at least one --set KEY=VALUE; "
          + Scenario.validKeys.joined(separator: ", "))
    }
    if let schedule, !ScheduleGenerators.names.contains(schedule) {
      throw ValidationError(
        "--schedule \(schedule): expected one of \(ScheduleGenerators.names.joined(separator: ", "))")
    }
    if schedule != nil && !(settings.isEmpty && hardware == nil && cluster == nil && !foldSymmetric) {
      throw ValidationError("--schedule cannot be combined with --set, --hardware, --cluster or --fold-symmetric yet")
    }
    if let schedule { _ = try flag { try ScheduleGenerators.chunks(schedule, requested: chunks) } }
    try checkKnobs(settings)
  }

  func run() throws {
    if let parallel { return try runParallel(parallel) }
    let scenario = try Scenario.parse(settings, cluster: try specs.cluster(cluster))
    let graph = try input.ingest().graph
    if let schedule {
      let swap = try ScheduleSwap(graph, target: schedule, chunks: chunks)
      if let timeline { try swap.writeTimeline(to: timeline) }
      return print(json ? try swap.summary.json() : swap.text())
    }
    let library = try specs.library()
    let models = try usage {
      try scenario.configuringModels(
        graph: graph, hardware: hardware, from: from, hostScale: hostScale, ranksPerNode: ranksPerNode, specs: library)
    }
    let run = try WhatIfRun(graph: graph, scenario: models, specs: library, fold: foldSymmetric)
    for line in run.knobWarnings { printError("warning: " + line) }
    if let timeline { try run.writeTimeline(to: timeline) }
    if input.verbose { printError(run.timingText) }
    guard let compare else { return print(json ? try run.summary.json() : run.text()) }
    let check = try TransferCheck(run, measuredOnTarget: try TraceInputs.ingest([compare], limits: input.limits).graph)
    print(json ? try check.json() : run.text() + "\n" + check.text())
  }
}
