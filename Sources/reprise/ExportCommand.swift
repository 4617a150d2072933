import ArgumentParser
import Foundation
import Replay
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

  @Option(name: .shortAndLong, help: "Output directory.")
  var output: String

  @Option(help: "File name prefix (files are NAME.RANK.et).")
  var name = "reprise"

  @Option(name: .customLong("whatif"), help: "Export the run under this what-if knob KEY=VALUE (repeatable).")
  var whatIf: [String] = []

  func validate() throws {
    do { _ = try Scenario.parse(whatIf) } catch let e as ScenarioError { throw ValidationError(e.description) }
    if name.isEmpty || name.contains("/") { throw ValidationError("--name: a file name prefix without '/'") }
  }

  func run() throws {
    let result = try input.ingest()
    let g = result.graph
    var timeline = Timeline(measured: g)
    if !whatIf.isEmpty {
      timeline = try ReplayRun(graph: g, scenario: try Scenario.parse(whatIf)).predicted
    }
    let s: ChakraExporter.Summary
    do { s = try ChakraExporter.write(g, timeline: timeline, to: output, name: name) } catch let e as ChakraExporter.WriteError {
      throw DataError(message: e.description)
    }
    print("wrote \(s.files.count) file(s), \(s.nodes) nodes, to \(output)/" + (whatIf.isEmpty ? "" : " (under \(whatIf.joined(separator: " ")))"))
    if s.skippedMemoryEvents > 0 { print("  left out \(s.skippedMemoryEvents) allocator event(s): Chakra has no node type for them") }
    if s.droppedDependencies > 0 { print("  left out \(s.droppedDependencies) dependency(ies) that closed a cycle with the timeline's order") }
    if s.crossRankEdges > 0 { print("  \(s.crossRankEdges) cross-rank edge(s) (send → recv) are not dependencies: each file holds one rank; comm_tag pairs them") }
  }
}
