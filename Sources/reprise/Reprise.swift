import ArgumentParser
import Foundation
import Replay
import TraceImport
import TraceModel

/// The `reprise` command line: thin — parses flags, calls the libraries, prints, decides exit codes.
@main
struct Reprise: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "reprise",
    abstract: "Replay and analyse distributed ML training and inference traces.",
    discussion: """
      Reads PyTorch profiler (Kineto) traces of one or many ranks into one event graph.
      Exit codes: 0 ok, 64 bad flags, 65 bad input data, 1 other failure.
      """,
    subcommands: [IngestCommand.self, BreakdownCommand.self, BandwidthCommand.self, ReplayCommand.self, WhatIfCommand.self, ScheduleCommand.self, ModelCommand.self, ReportCommand.self, DiffCommand.self, RenderCommand.self, ExportCommand.self, DemoCommand.self, BenchCommand.self])

  /// Runs the CLI and maps errors to exit codes in one place.
  static func main() {
    do {
      var command = try parseAsRoot()
      try command.run()
    } catch let error as TraceImportError {
      FileHandle.standardError.write(Data("reprise: \(error)\n".utf8))
      Foundation.exit(65)
    } catch let error as ReplayError {
      FileHandle.standardError.write(Data("reprise: \(error)\n".utf8))
      Foundation.exit(65)
    } catch let error as DataError {
      FileHandle.standardError.write(Data("reprise: \(error.message)\n".utf8))
      Foundation.exit(65)
    } catch {
      exit(withError: error)
    }
  }
}

/// The input was read but is not acceptable (diagnostics at error level, or warnings under --strict).
struct DataError: Error {
  var message: String
}

/// Writes a line to standard error.
func printError(_ line: String) {
  FileHandle.standardError.write(Data((line + "\n").utf8))
}

/// Whether standard error is a terminal (progress is shown only there).
var stderrIsTerminal: Bool { isatty(2) == 1 }
