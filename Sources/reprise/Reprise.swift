import ArgumentParser
import Foundation
import Reports

/// The `reprise` command line: parses flags, reads inputs, calls one library entry point per
/// command, prints the value it returns, and decides the exit code here, in one place.
@main
struct Reprise: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "reprise",
    abstract: "Replay and analyse distributed ML training and inference traces.",
    discussion: """
      Reads PyTorch profiler (Kineto) traces of one or many ranks into one event graph.
      Exit codes: 0 ok, 64 bad flags, 65 bad input data, 1 other failure.
      """,
    subcommands: [
      IngestCommand.self, BreakdownCommand.self, BandwidthCommand.self, TopCommand.self, ReplayCommand.self,
      WhatIfCommand.self,
      ScheduleCommand.self, ModelCommand.self, ReportCommand.self, DiffCommand.self, RenderCommand.self,
      ExportCommand.self, DemoCommand.self, BenchCommand.self,
    ])

  /// Runs the CLI and maps errors to exit codes: 64 for requests that cannot be met, 65 for input
  /// that cannot be used, 1 for anything else.
  static func main() {
    do {
      var command = try parseAsRoot()
      try command.run()
    } catch let error as any ReportableError {
      fail(error.description, error.isUsageError ? 64 : 65)
    } catch {
      exit(withError: error)
    }
  }

  static func fail(_ message: String, _ code: Int32) -> Never {
    FileHandle.standardError.write(Data("reprise: \(message)\n".utf8))
    Foundation.exit(code)
  }
}
