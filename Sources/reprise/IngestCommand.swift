import ArgumentParser
import Foundation
import Rendering
import TraceImport
import TraceModel

struct IngestCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "ingest",
    abstract: "Import traces of one run (files or directories, one file per rank) and summarize them.",
    discussion: """
      Reads Kineto / Chrome-trace JSON (.json, .json.gz) of every PyTorch era, links CPU launches to \
      device work, matches collectives and send/recv across ranks, and estimates clock offsets. \
      Bad input exits 65 with one line: file:@byte-offset: what was expected, what was found.
      """)

  @Argument(help: "Trace files or directories (one file per rank).")
  var paths: [String]

  @Flag(help: "Print one JSON object (schema reprise.ingest/v1) instead of the summary.")
  var json = false

  @Flag(help: "Treat warnings as errors (exit 65).")
  var strict = false

  @Flag(name: .shortAndLong, help: "Also print notes, not only warnings and errors.")
  var verbose = false

  func validate() throws {
    if paths.isEmpty { throw ValidationError("give at least one trace file or directory") }
  }

  func run() throws {
    let started = Date()
    let result = try ingestWithProgress(paths)
    let seconds = Date().timeIntervalSince(started)
    printDiagnostics(result.diagnostics, verbose: verbose)
    if json {
      print(IngestReport.json(result, seconds: seconds).encoded(pretty: true))
    } else {
      print(IngestReport.text(result, seconds: seconds))
    }
    try exitStatus(result.diagnostics, strict: strict)
  }
}

/// The trace arguments of the commands that analyse or replay a run: paths and `-v`.
struct TraceInputs: ParsableArguments {
  @Argument(help: "Trace files or directories (one file per rank).")
  var paths: [String]

  @Flag(name: .shortAndLong, help: "Also print notes, not only warnings and errors.")
  var verbose = false

  func validate() throws {
    if paths.isEmpty { throw ValidationError("give at least one trace file or directory") }
  }

  /// Ingests the paths, prints the diagnostics, and stops (exit 65) on errors in the input.
  func ingest() throws -> IngestResult {
    let result = try ingestWithProgress(paths)
    printDiagnostics(result.diagnostics, verbose: verbose)
    try exitStatus(result.diagnostics, strict: false)
    return result
  }
}

/// Runs ingestion, showing progress on a terminal for inputs over ~100 MB.
func ingestWithProgress(_ paths: [String]) throws -> IngestResult {
  var options = IngestOptions()
  let files = try Ingest.expand(paths)
  let total = files.reduce(Int64(0)) { acc, p in
    acc + ((try? FileManager.default.attributesOfItem(atPath: p)[.size] as? Int64) ?? 0)
  }
  if stderrIsTerminal && total > 100_000_000 {
    options.progress = { file, done, size in
      let name = file.split(separator: "/").last.map(String.init) ?? file
      printError("reading \(name): \(done >> 20) MiB of \(size >> 20) MiB (on disk)")
    }
  }
  return try Ingest.run(paths: files, options: options)
}

/// Prints diagnostics to stderr: warnings and worse always, notes when verbose.
/// Standard output is flushed first so that the two streams interleave in order on a terminal.
func printDiagnostics(_ diagnostics: Diagnostics, verbose: Bool) {
  fflush(nil)
  for d in diagnostics.items where verbose || d.severity >= .warning {
    printError(d.description)
  }
}

/// Exit 65 when diagnostics say the data cannot be trusted (errors; warnings under --strict).
func exitStatus(_ diagnostics: Diagnostics, strict: Bool) throws {
  let errors = diagnostics.count(of: .error)
  let warnings = diagnostics.count(of: .warning) + diagnostics.count(of: .dataLoss)
  if errors > 0 { throw DataError(message: "\(errors) error(s) in the input; see above") }
  if strict && warnings > 0 { throw DataError(message: "--strict: \(warnings) warning(s) in the input; see above") }
}
