import ArgumentParser
import Foundation
import Reports

struct IngestCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "ingest",
    abstract: "Import traces of one run (files or directories, one file per rank) and summarize them.",
    discussion: """
      Reads Kineto / Chrome-trace JSON (.json, .json.gz) of every PyTorch era, Chakra execution traces \
      and PyTorch host execution traces; links CPU launches to device work, matches collectives and \
      send/recv across ranks, estimates clock offsets, and detects the parallel layout (dp, tp, pp, cp) \
      from the process groups and send/recv pairs. Bad input exits 65 with one line: \
      file:@byte-offset: what was expected, what was found.
      """)

  @OptionGroup var input: TraceInputs
  @Flag(help: "Print one JSON object (schema reprise.ingest/v1) instead of the summary.") var json = false
  @Flag(help: "Treat warnings as errors (exit 65).") var strict = false
  @Option(help: "The recorded layout dp=A,tp=B,pp=C[,cp=D], instead of the detected one.") var recorded: String?

  func run() throws {
    let started = Date()
    let result = try TraceInputs.read(input.paths, verbose: input.verbose, limits: input.limits)
    let summary = try IngestSummary(result, recorded: recorded)
    print(json ? try summary.json() : summary.text(seconds: Date().timeIntervalSince(started)))
    try result.requireUsable(strict: strict)
  }
}
