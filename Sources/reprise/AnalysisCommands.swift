import Analysis
import ArgumentParser
import Foundation
import Reports

struct BreakdownCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "breakdown",
    abstract: "Temporal breakdown per rank: compute, communication (exposed/overlapped), memcpy/memset, idle.",
    discussion: """
      Measured over each rank's device streams, with Holistic Trace Analysis' definitions: the \
      window is first to last device event (--window device-span, the default) or the rank's \
      ProfilerStep spans (--window steps), or HTA's default trimming (--window complete-steps: \
      with two or more steps, only device work launched before the last step began); idle is \
      time no device event covers. Exposed communication is communication not overlapped by \
      compute; compute + exposed communication + exposed memcpy/memset + idle = span exactly. \
      See docs/analyses.md.
      """)

  enum Window: String, ExpressibleByArgument, CaseIterable {
    case deviceSpan = "device-span"
    case steps
    case completeSteps = "complete-steps"
  }

  @OptionGroup var input: TraceInputs
  @Option(
    help:
      "device-span (first to last device event), steps (inside ProfilerStep spans) or complete-steps (HTA's default: drop the last step's device work)."
  )
  var window: Window = .deviceSpan
  @Flag(help: "Print one JSON object (schema reprise.breakdown/v1) instead of the table.") var json = false

  func run() throws {
    let w: TemporalBreakdown.Window =
      switch window {
      case .deviceSpan: .deviceSpan
      case .steps: .steps
      case .completeSteps: .completeSteps
      }
    let report = try BreakdownReport(try input.ingest().graph, window: w, inputs: input.paths)
    print(json ? try report.json() : report.text())
  }
}

struct BandwidthCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bandwidth",
    abstract: "Achieved algbw/busbw of every collective (nccl-tests convention), by kind and message size.",
    discussion: """
      Per matched collective instance: bytes as nccl-tests counts them, transfer time from the \
      last rank's arrival to the end, algbw = bytes / time, busbw = algbw × bus factor \
      (all-reduce 2(n-1)/n; all-gather, reduce-scatter, all-to-all (n-1)/n). With \
      --link-bandwidth, busbw as % of that peak. Also names the rank that arrives last most often \
      (C4-style straggler detection). See docs/analyses.md.
      """)

  @OptionGroup var input: TraceInputs
  @Option(help: "Per-rank link bandwidth to compare busbw with, e.g. 300GB/s.") var linkBandwidth: String?
  @Flag(help: "Print one JSON object (schema reprise.bandwidth/v1) instead of the table.") var json = false

  func validate() throws { _ = try linkGBps(linkBandwidth) }

  func run() throws {
    let report = try BandwidthReport(
      try input.ingest().graph, linkGBps: try linkGBps(linkBandwidth), inputs: input.paths)
    print(json ? try report.json() : report.text())
  }
}

struct TopCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "top",
    abstract: "Kernels or operators ranked by total or self time: count, mean, p50/p99, shapes, per phase.",
    discussion: "HTA's kernel breakdown and TraceLens' ops table over the whole trace; see docs/analyses.md.")

  @OptionGroup var input: TraceInputs
  @Option(name: .short, help: "Rows to show (at least 1).") var n = 20
  @Option(help: "Rank by total or self time.") var by: TopTable.Order = .total
  @Option(help: "kernel (device work by name) or op (host operators, namespace::op, with self time).") var kind:
    TopTable.Kind = .kernel
  @Option(help: "Only this phase: forward, backward, optimizer or other (from autograd/optimizer/nn.Module ranges).")
  var phase: Phase?
  @Option(help: "Only these ranks (repeatable).") var rank: [Int] = []
  @Flag(help: "Print one JSON object (schema reprise.top/v1).") var json = false
  @Flag(help: "Print CSV (the JSON rows' keys as the header).") var csv = false

  func run() throws {
    let report = TopReport(
      try input.ingest().graph, kind: kind, by: by, phase: phase, ranks: rank.isEmpty ? nil : Set(rank),
      limit: max(1, n))
    print(json ? try report.json() : csv ? try report.csv() : report.text(), terminator: csv && !json ? "" : "\n")
  }
}

extension TopTable.Order: ExpressibleByArgument {}
extension TopTable.Kind: ExpressibleByArgument {}
extension Phase: ExpressibleByArgument {}
