import Analysis
import ArgumentParser
import Foundation
import Rendering
import TraceImport
import TraceModel

struct BreakdownCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "breakdown",
    abstract: "Temporal breakdown per rank: compute, communication (exposed/overlapped), memcpy/memset, idle.",
    discussion: """
      Measured over each rank's device streams, with Holistic Trace Analysis' definitions: the \
      window is first to last device event (--window device-span, the default) or the rank's \
      ProfilerStep spans (--window steps), or HTA's default trimming (--window complete-steps: \
      with two or more steps, only device work launched before the last step began); idle is time no device event covers. Exposed \
      communication is communication not overlapped by compute; compute + exposed communication \
      + exposed memcpy/memset + idle = span exactly. See docs/analyses.md.
      """)

  @OptionGroup var input: TraceInputs

  @Option(help: "device-span (first to last device event), steps (inside ProfilerStep spans) or complete-steps (HTA's default: drop the last step's device work).")
  var window: String = "device-span"

  @Flag(help: "Print one JSON object (schema reprise.breakdown/v1) instead of the table.")
  var json = false

  func validate() throws {
    if parsedWindow == nil { throw ValidationError("--window must be device-span, steps or complete-steps, not '\(window)'") }
  }

  private var parsedWindow: TemporalBreakdown.Window? {
    switch window {
    case "device-span": .deviceSpan
    case "steps": .steps
    case "complete-steps": .completeSteps
    default: nil
    }
  }

  func run() throws {
    let result = try input.ingest()
    let g = result.graph
    let b = TemporalBreakdown(g, timeline: Timeline(measured: g), window: parsedWindow!)
    if b.ranks.isEmpty { throw DataError(message: "\(input.paths.joined(separator: " ")): no device events (kernels, memcpy, collectives) to break down") }
    print(json ? Self.json(b).encoded(pretty: true) : Self.text(b))
  }

  static func json(_ b: TemporalBreakdown) -> JSONDocument {
    .object([
      "schema": .string("reprise.breakdown/v1"),
      "window": .string(b.window.rawValue),
      "ranks": .array(b.ranks.map { r in
        .object([
          "rank": .int(Int64(r.rank)), "spanStartNs": .int(r.spanStartNs), "spanNs": .int(r.spanNs),
          "computeNs": .int(r.computeNs), "communicationNs": .int(r.communicationNs),
          "overlappedCommunicationNs": .int(r.overlappedCommunicationNs),
          "exposedCommunicationNs": .int(r.exposedCommunicationNs),
          "memoryNs": .int(r.memoryNs), "exposedMemoryNs": .int(r.exposedMemoryNs),
          "idleNs": .int(r.idleNs), "nonComputeNs": .int(r.nonComputeNs),
          "overlapRatio": r.overlapRatio.map { .double($0) } ?? .null,
          "events": .object([
            "compute": .int(Int64(r.computeEvents)), "communication": .int(Int64(r.communicationEvents)),
            "memory": .int(Int64(r.memoryEvents)),
          ]),
        ])
      }),
    ])
  }

  static func text(_ b: TemporalBreakdown) -> String {
    func pct(_ r: TemporalBreakdown.Rank, _ ns: Int64) -> String { String(format: "%5.1f%%", r.percent(ns)) }
    func us(_ ns: Int64) -> String { String(format: "%10.1f", Double(ns) / 1000) }
    let w = switch b.window {
    case .deviceSpan: "device span (first to last device event)"
    case .steps: "profiler steps"
    case .completeSteps: "device span of work launched before the last profiler step (HTA's trimming)"
    }
    var lines = ["window: \(w)",
                 "rank     span µs   compute   exp.comm  exp.mem    idle   overlap"]
    for r in b.ranks {
      let ov = r.overlapRatio.map { String(format: "%6.1f%%", 100 * $0) } ?? "      -"
      lines.append(String(format: "%4d", r.rank) + us(r.spanNs) + "   " + pct(r, r.computeNs) + "   " + pct(r, r.exposedCommunicationNs)
                   + "   " + pct(r, r.exposedMemoryNs) + "  " + pct(r, r.idleNs) + "  " + ov)
    }
    return lines.joined(separator: "\n")
  }
}
