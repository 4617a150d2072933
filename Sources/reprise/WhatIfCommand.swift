import ArgumentParser
import CostModels
import Foundation
import Rendering
import Replay
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

  @Argument(help: "Trace files or directories (one file per rank).")
  var paths: [String]

  @Option(name: .customLong("set"), help: "A what-if knob KEY=VALUE (repeatable).")
  var settings: [String] = []

  @Option(help: "Cluster spec JSON (Models/clusters/NAME.json): nodes, GPUs per node, NVLink and NIC bandwidth.")
  var cluster: String?

  @Flag(help: "Print one JSON object (schema reprise.replay/v1 with whatIf, baselineStepNs, speedup).")
  var json = false

  @Option(help: "Write the measured and predicted timelines as Chrome-trace JSON (opens in Perfetto).")
  var timeline: String?

  @Flag(name: .shortAndLong, help: "Also print notes, not only warnings and errors.")
  var verbose = false

  func validate() throws {
    if settings.isEmpty { throw ValidationError("give at least one --set KEY=VALUE; \(Scenario.validKeys.joined(separator: ", "))") }
    do { _ = try Scenario.parse(settings) } catch let e as ScenarioError { throw ValidationError(e.description) }
  }

  func run() throws {
    let spec: ClusterSpec?
    if let cluster {
      do { spec = try ClusterSpec.load(cluster) } catch let e as ClusterSpecError { throw DataError(message: e.description) }
    } else {
      spec = nil
    }
    let scenario = try Scenario.parse(settings, cluster: spec)
    let result = try ingestWithProgress(paths)
    printDiagnostics(result.diagnostics, verbose: verbose)
    try exitStatus(result.diagnostics, strict: false)
    let run = try ReplayRun(graph: result.graph, scenario: scenario)
    if let timeline { try run.writeTimeline(to: timeline) }
    print(json ? run.json().encoded(pretty: true) : run.text())
  }
}
