import ArgumentParser
import CostModels
import Foundation
import Parallel
import Replay
import Reports
import Schedules
import TraceImport
import TraceModel

/// `--max-bytes`, on every command that reads traces.
struct ReadLimitOptions: ParsableArguments {
  @Option(
    name: .customLong("max-bytes"),
    help: ArgumentHelp(
      "Refuse an input file larger than this once decompressed (K, M, G, T: powers of 1024), or gzip inflating "
        + "more than 1000:1 past 64 MiB.",
      valueName: "size"))
  var maxBytes = "64G"

  func validate() throws { _ = try limits() }

  /// The limits the flag sets (a malformed size is a usage error).
  func limits() throws -> ReadLimits {
    guard let bytes = ReadLimits.parseSize(maxBytes) else {
      throw ValidationError("--max-bytes \(maxBytes): expected a size such as 64G, 512M or 1000000 (bytes)")
    }
    return ReadLimits(maxBytes: bytes)
  }
}

/// The trace arguments of every command that reads a run: paths, `-v` and `--max-bytes`.
struct TraceInputs: ParsableArguments {
  @Argument(help: "Trace files, directories (searched recursively) or .tar.gz bundles (one file per rank).")
  var paths: [String]

  @Flag(name: .shortAndLong, help: "Also print notes, not only warnings and errors.")
  var verbose = false

  @OptionGroup var limit: ReadLimitOptions

  func validate() throws {
    if paths.isEmpty { throw ValidationError("give at least one trace file or directory") }
  }

  /// The `--max-bytes` limits.
  var limits: ReadLimits { (try? limit.limits()) ?? ReadLimits() }

  /// Ingests the paths, prints the diagnostics, and stops (exit 65) on errors in the input,
  /// or on warnings when `strict`.
  func ingest() throws -> IngestResult { try Self.ingest(paths, verbose: verbose, limits: limits) }

  /// `ingest()` of other paths.
  static func ingest(_ paths: [String], verbose: Bool = false, limits: ReadLimits = ReadLimits()) throws
    -> IngestResult
  {
    let result = try read(paths, verbose: verbose, limits: limits)
    try result.requireUsable(strict: false)
    return result
  }

  /// Ingests the paths and prints the diagnostics, showing progress on a terminal for big inputs.
  static func read(_ paths: [String], verbose: Bool = false, limits: ReadLimits = ReadLimits()) throws -> IngestResult {
    var options = IngestOptions()
    options.limits = limits
    let files = try Ingest.expand(paths)
    let total = files.reduce(Int64(0)) {
      $0 + ((try? FileManager.default.attributesOfItem(atPath: $1)[.size] as? Int64) ?? 0)
    }
    if isatty(2) == 1 && total > 100_000_000 {
      options.progress = { file, done, size in
        let name = file.split(separator: "/").last.map(String.init) ?? file
        printError("reading \(name): \(done >> 20) MiB of \(size >> 20) MiB (on disk)")
      }
    }
    let result = try Ingest.run(paths: paths, options: options)
    fflush(nil)
    for d in result.diagnostics.items where verbose || d.severity >= .warning { printError(d.description) }
    for s in result.skipped { printError("note: skipped \(s.path): \(s.reason)") }
    return result
  }
}

/// Where the hardware, model and cluster specs are.
struct SpecOptions: ParsableArguments {
  @Option(
    help:
      "Folder with hardware/, models/, clusters/ specs replacing the built-in ones (default: REPRISE_MODELS if set).")
  var models: String?

  /// `--models`, else `REPRISE_MODELS`, else the specs built into the binary.
  func library() throws -> SpecLibrary { try SpecLibrary.resolve(flag: models) }

  /// The cluster spec `name` (a name in clusters/ or a path), if given.
  func cluster(_ name: String?) throws -> ClusterSpec? { try name.map { try library().cluster($0) } }
}

/// Writes a line to standard error.
func printError(_ line: String) {
  FileHandle.standardError.write(Data((SafeText.escape(line) + "\n").utf8))
}

/// Writes `text` (plus a newline) to `path`, or prints it when `path` is nil.
func emit(_ text: String, to path: String?) throws {
  guard let path else { return print(text) }
  try OutputFile.write(text + "\n", to: path)
  print("wrote \(path)")
}

/// A flag value parsed or checked by the library; a malformed one is a usage error (exit 64).
func flag<T>(_ parse: () throws -> T) throws -> T {
  do { return try parse() } catch let e as ScenarioError { throw ValidationError(e.message) } catch let e
    as ScheduleError
  { throw ValidationError(e.description) } catch let e as ParallelLayout.ParseError { throw ValidationError(e.message) }
}

/// A flag value the library can only check against the ingested run: a bad one is a usage
/// error (exit 64) printed as one line, without the usage text.
func usage<T>(_ check: () throws -> T) throws -> T {
  do { return try check() } catch let e as ScenarioError { throw RunError.usage(e.message) } catch let e
    as ParallelError
  { throw RunError.usage(e.message) } catch let e as ScheduleError { throw RunError.usage(e.description) }
}

/// Integer flags below `minimum` are usage errors naming the flag (`--tp -1: out of range: must be ≥ 1`).
func requireAtLeast(_ minimum: Int, _ flags: KeyValuePairs<String, Int>) throws {
  for (name, value) in flags where value < minimum {
    throw ValidationError("\(name) \(value): out of range: must be ≥ \(minimum)")
  }
}

/// `--link-bandwidth` in GB/s.
func linkGBps(_ value: String?) throws -> Double? {
  try flag { try value.map { try Scenario.bandwidth("--link-bandwidth", $0).rawValue / 1e9 } }
}

/// `--set`-style knobs, checked in `validate()` so a bad one prints the usage.
func checkKnobs(_ knobs: [String]) throws {
  do { _ = try Scenario.parse(knobs) } catch let e as ScenarioError { throw ValidationError(e.description) }
}
