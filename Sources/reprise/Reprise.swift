import ArgumentParser
import Foundation
import Reports
import TraceModel

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
      A value that starts with '-' and a digit is read as the option's value (--width -5).
      """,
    version: ToolVersion.current,
    subcommands: [
      IngestCommand.self, ShardCommand.self, BreakdownCommand.self, BandwidthCommand.self, TopCommand.self,
      ReplayCommand.self,
      WhatIfCommand.self, PlanCommand.self, ServeCommand.self,
      ScheduleCommand.self, ModelCommand.self, ReportCommand.self, DiffCommand.self, RenderCommand.self,
      ExportCommand.self, DemoCommand.self, BenchCommand.self, CalibrateCommand.self,
    ])

  /// Runs the CLI and maps errors to exit codes: 64 for requests that cannot be met, 65 for input
  /// that cannot be used, 1 for anything else. A flag error found after parsing (in `run()`)
  /// prints the usage of the command that was run, not the top-level one.
  static func main() {
    var command: (any ParsableCommand)?
    do {
      command = try parseAsRoot(CommandLineArguments.attachingNegativeValues(Array(CommandLine.arguments.dropFirst())))
      try command?.run()
    } catch let error as any ReportableError {
      fail(error.description, error.isUsageError ? 64 : 65)
    } catch let error as ValidationError where command != nil {  // thrown by run(), after parsing
      let usage = usageString(for: type(of: command ?? Reprise()))  // "reprise schedule run [<options>] <name> …"
      let path = usage.split(separator: " ").prefix { !"<[-".contains($0.first ?? "<") }.joined(separator: " ")
      fail("\(message(for: error))\nUsage: \(usage)\n  See '\(path) --help' for more information.", 64, "Error: ")
    } catch {
      exit(withError: error)
    }
  }

  /// Prints `message` on stderr, each of its lines escaped (`SafeText`), and exits with `code`.
  static func fail(_ message: String, _ code: Int32, _ prefix: String = "reprise: ") -> Never {
    let lines = message.split(separator: "\n", omittingEmptySubsequences: false).map { SafeText.escape(String($0)) }
    FileHandle.standardError.write(Data("\(prefix)\(lines.joined(separator: "\n"))\n".utf8))
    Foundation.exit(code)
  }

}
