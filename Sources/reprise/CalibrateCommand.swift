import ArgumentParser
import Reports

struct CalibrateCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "calibrate", abstract: "Measure this CPU (STREAM triad, fp32 GEMM) and write it as a hardware spec.",
    discussion: """
      Bandwidth: STREAM triad a[i] = b[i] + s*c[i], fp64 arrays of at least 4x the last-level caches, 24 B/element, \
      best pass (McCalpin 1995). FLOP rate: cache-blocked fp32 GEMM, m = n = k = 960, 2mnk FLOPs, best run. The spec \
      works as --hardware FILE, --from FILE and model roofline --hardware FILE. Fields: docs/models/calibrate.md.
      """)
  @Option(help: "Seconds of measuring, split between the two kernels.") var seconds = 10.0
  @Option(help: "Threads (default 1, as the bundled CPU traces use one intra-op thread).") var threads = 1
  @Option(help: "The spec's name (default: from the CPU model).") var name: String?
  @Option(name: .shortAndLong, help: "Write the hardware spec (JSON) here.") var output: String
  @Flag(help: "Print JSON (schema reprise.calibrate/v1).") var json = false

  func run() throws {
    let report = try CalibrationReport(seconds: seconds, threads: threads, name: name, output: output)
    print(json ? try report.json() : report.text())
  }
}
