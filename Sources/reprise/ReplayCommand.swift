import ArgumentParser
import Foundation
import Rendering
import Replay
import TraceImport
import TraceModel

struct ReplayCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "replay",
    abstract: "Replay a recorded run as measured (identity replay) and compare step times.",
    discussion: """
      Each host thread and device stream is a serial lane; launches, synchronizations, \
      collectives and send/recv pairs are the dependencies. An identity replay should \
      reproduce every rank's measured step time; the error per rank says how well it does.
      """)

  @OptionGroup var input: TraceInputs

  @Flag(help: "Print one JSON object (schema reprise.replay/v1).")
  var json = false

  @Option(help: "Write the measured and predicted timelines as Chrome-trace JSON (opens in Perfetto).")
  var timeline: String?

  func run() throws {
    let result = try input.ingest()
    let run = try ReplayRun(graph: result.graph, scenario: nil)
    if let timeline { try run.writeTimeline(to: timeline) }
    if json {
      print(run.json().encoded(pretty: true))
    } else {
      print(run.text())
    }
  }
}
