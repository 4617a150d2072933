import ArgumentParser
import CostModels
import Foundation
import Rendering
import Replay
import Schedules
import TraceImport
import TraceModel

struct WhatIfCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "whatif",
    abstract: "Predict a recorded run under changed compute, links, stragglers or group sizes.",
    discussion: """
      Knobs (--set KEY=VALUE, repeatable, composable): \(Scenario.validKeys.joined(separator: ", ")). \
      Durations take ns/us/ms/s, bandwidths GB/s (1e9 B/s), GiB/s or Gb/s.
      """)

  @OptionGroup var input: TraceInputs

  @Option(name: .customLong("set"), help: "A what-if knob KEY=VALUE (repeatable).")
  var settings: [String] = []

  @Option(help: "Cluster spec JSON (Models/clusters/NAME.json): nodes, GPUs per node, NVLink and NIC bandwidth.")
  var cluster: String?

  @Option(help: "Re-time a pipeline-parallel trace under another schedule (\(ScheduleGenerators.names.joined(separator: ", "))).")
  var schedule: String?

  @Option(help: "Chunks for --schedule interleaved-1f1b or hanayo.")
  var chunks = 2

  @Flag(help: "Print one JSON object (schema reprise.replay/v1 with whatIf, baselineStepNs, speedup).")
  var json = false

  @Option(help: "Write the measured and predicted timelines as Chrome-trace JSON (opens in Perfetto).")
  var timeline: String?

  func validate() throws {
    if settings.isEmpty && schedule == nil {
      throw ValidationError("give --schedule NAME or at least one --set KEY=VALUE; \(Scenario.validKeys.joined(separator: ", "))")
    }
    if let schedule, !ScheduleGenerators.names.contains(schedule) {
      throw ValidationError("--schedule \(schedule): expected one of \(ScheduleGenerators.names.joined(separator: ", "))")
    }
    if schedule != nil && !settings.isEmpty { throw ValidationError("--schedule and --set cannot be combined yet") }
    do { _ = try Scenario.parse(settings) } catch let e as ScenarioError { throw ValidationError(e.description) }
  }

  func run() throws {
    let spec = try loadCluster(cluster)
    let scenario = try Scenario.parse(settings, cluster: spec)
    let result = try input.ingest()
    if let schedule {
      try swapSchedule(result.graph, to: schedule)
      return
    }
    let run = try ReplayRun(graph: result.graph, scenario: scenario)
    if let timeline { try run.writeTimeline(to: timeline) }
    print(json ? run.json().encoded(pretty: true) : run.text())
  }

  /// Schedule swap: re-time the recorded pipeline under another schedule.
  func swapSchedule(_ graph: EventGraph, to target: String) throws {
    let profile: PipelineProfile
    do { profile = try PipelineProfile.analyze(graph) } catch let e as PipelineProfile.Failure { throw DataError(message: e.description) }
    let v = (target == "interleaved-1f1b" || target == "hanayo") ? chunks : 1
    let prediction: (source: ScheduleResult, target: ScheduleResult, predictedStep: Int64)
    do { prediction = try profile.predict(target, chunks: v) } catch let e as ScheduleError { throw DataError(message: e.description) }
    let speedup = prediction.predictedStep > 0 ? Double(profile.measuredStep) / Double(prediction.predictedStep) : 0
    if json {
      let doc = JSONDocument.object([
        "schema": .string("reprise.replay/v1"),
        "stepNs": .object(["measured": .int(profile.measuredStep), "predicted": .int(prediction.predictedStep)]),
        "baselineStepNs": .int(profile.measuredStep),
        "whatIf": .object(["schedule": .string(target)]),
        "speedup": .double((speedup * 10000).rounded() / 10000),
        "events": .int(graph.eventCount),
        "pipeline": .object([
          "stages": .int(profile.stages), "microbatches": .int(profile.microbatches),
          "detectedSchedule": .string(profile.detectedSchedule),
          "forwardNs": .array(profile.forward.map { .int($0) }), "backwardNs": .array(profile.backward.map { .int($0) }),
          "sourceMakespanNs": .int(prediction.source.makespan), "targetMakespanNs": .int(prediction.target.makespan),
        ]),
      ])
      print(doc.encoded(pretty: true))
      return
    }
    print("pipeline: \(profile.stages) stages, \(profile.microbatches) micro-batches, recorded as \(profile.detectedSchedule)")
    for s in 0..<profile.stages {
      print(String(format: "  stage %d: forward %.3f ms, backward %.3f ms per micro-batch", s, Double(profile.forward[s]) / 1e6, Double(profile.backward[s]) / 1e6))
    }
    print(String(format: "  simulated %@ %.3f ms → %@ %.3f ms", profile.detectedSchedule, Double(prediction.source.makespan) / 1e6, target, Double(prediction.target.makespan) / 1e6))
    print(String(format: "  step: measured %.3f ms, predicted under %@ %.3f ms, speedup %.3fx", Double(profile.measuredStep) / 1e6, target, Double(prediction.predictedStep) / 1e6, speedup))
  }
}
