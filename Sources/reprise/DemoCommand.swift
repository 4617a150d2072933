import Analysis
import ArgumentParser
import Foundation
import CostModels
import Rendering
import Replay
import Schedules
import TraceImport
import TraceModel

struct DemoCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "demo",
    abstract: "Run the main job on the bundled traces in Traces/ and write results to out/.")

  @Option(help: "Directory with the bundled traces.")
  var traces = "Traces/generated"

  @Option(name: .shortAndLong, help: "Output directory.")
  var output = "out"

  func run() throws {
    let fm = FileManager.default
    let sets = ((try? fm.contentsOfDirectory(atPath: traces)) ?? []).sorted().filter { name in
      var isDir: ObjCBool = false
      return fm.fileExists(atPath: traces + "/" + name, isDirectory: &isDir) && isDir.boolValue
    }
    if sets.isEmpty { throw ValidationError("no trace sets found under \(traces)/") }
    try fm.createDirectory(atPath: output, withIntermediateDirectories: true)
    for set in sets {
      let dir = traces + "/" + set
      let files = try Ingest.expand([dir])
      print("== \(set)  (\(files.count) file(s) in \(dir))")
      fflush(nil)
      let started = Date()
      let result = try Ingest.run(paths: files)
      let seconds = Date().timeIntervalSince(started)
      printDiagnostics(result.diagnostics, verbose: false)
      print(IngestReport.text(result, seconds: seconds))
      let out = output + "/" + set + ".ingest.json"
      try (IngestReport.json(result, seconds: seconds).encoded(pretty: true) + "\n").write(toFile: out, atomically: true, encoding: .utf8)
      print("  wrote \(out)\n")

      // Where the device time went, collective bandwidth and the straggler.
      let measured = Timeline(measured: result.graph)
      let breakdown = TemporalBreakdown(result.graph, timeline: measured)
      if !breakdown.ranks.isEmpty {
        print(BreakdownCommand.text(breakdown))
        let bOut = output + "/" + set + ".breakdown.json"
        try (BreakdownCommand.json(breakdown).encoded(pretty: true) + "\n").write(toFile: bOut, atomically: true, encoding: .utf8)
        print("  wrote \(bOut)\n")
      }
      let bandwidth = BandwidthAnalysis(result.graph, timeline: measured)
      if !bandwidth.instances.isEmpty {
        let stragglers = StragglerAnalysis(result.graph, timeline: measured)
        print(BandwidthCommand.text(bandwidth, stragglers))
        let bwOut = output + "/" + set + ".bandwidth.json"
        try (BandwidthCommand.json(bandwidth, stragglers).encoded(pretty: true) + "\n").write(toFile: bwOut, atomically: true, encoding: .utf8)
        print("  wrote \(bwOut)\n")
      }

      // Identity replay, then what-ifs: the straggler rank fixed, and half-speed links.
      let replay = try ReplayRun(graph: result.graph, scenario: nil)
      print(replay.text())
      let replayOut = output + "/" + set + ".replay.json"
      try (replay.json().encoded(pretty: true) + "\n").write(toFile: replayOut, atomically: true, encoding: .utf8)
      for knobs in [["compute.scale=0.5"], ["comm.scale=2"]] {
        let run = try ReplayRun(graph: result.graph, scenario: try Scenario.parse(knobs))
        print(run.text().split(separator: "\n").filter { $0.hasPrefix("what-if") || $0.contains("step (slowest rank)") }.joined(separator: "\n"))
      }
      // Roofline of the kernels whose launching ops recorded shapes.
      if let hw = detectHardware(result.graph) {
        let report = KernelRooflineReport.analyze(result.graph, hardware: hw)
        for line in RooflineCommand.summary(report, hardware: hw) { print(line) }
        let rooflineOut = output + "/" + set + ".roofline.json"
        try (RooflineCommand.json(report, hardware: hw).encoded(pretty: true) + "\n").write(toFile: rooflineOut, atomically: true, encoding: .utf8)
        print("  wrote \(rooflineOut)")
      }
      let timelineOut = output + "/" + set + ".timeline.json"
      try replay.writeTimeline(to: timelineOut)
      print("  wrote \(replayOut), \(timelineOut) (open in https://ui.perfetto.dev)")

      // The report (all analyses, one JSON + one CSV per section) and the diagrams. The first set
      // is the main job: its files get the plain names (out/report.json, out/*.csv, out/timeline.*).
      let main = set == sets.first
      let prefix = output + "/" + (main ? "" : set + ".")
      let report = try Report(result, inputs: [dir], options: Report.Options(scenario: try Scenario.parse(["compute.scale=0.5"])))
      try (report.document.encoded(pretty: true) + "\n").write(toFile: prefix + "report.json", atomically: true, encoding: .utf8)
      let csvDir = main ? output : output + "/" + set + "-csv"
      let csvFiles = try report.writeCSV(to: csvDir)
      if main { try replay.writeTimeline(to: output + "/timeline.json") }
      var drawn: [String] = []
      for kind in RenderCommand.Kind.allCases {
        let (dot, engine) = try RenderCommand.dot(kind, result.graph, measured, step: nil, cluster: nil, linkGBps: nil)
        let file = prefix + kind.rawValue + ".svg"
        _ = FileManager.default.createFile(atPath: file, contents: Data(try Graphviz.render(dot, format: .svg, engine: engine)))
        drawn.append(file)
      }
      let cp = CriticalPath(result.graph, timeline: measured)
      print(String(format: "  critical path%@: %.3f ms over %d rank(s) (%d hop(s)): ", cp.step.map { " of step \($0)" } ?? "",
                   Double(cp.lengthNs) / 1e6, Set(cp.segments.map(\.rank)).count, cp.rankChanges)
            + CriticalPath.Category.allCases.map { String(format: "%@ %.1f%%", $0.rawValue, 100 * Double(cp.byCategoryNs[$0] ?? 0) / Double(max(cp.lengthNs, 1))) }.joined(separator: ", "))
      print("  wrote \(prefix)report.json (with what-if compute.scale=0.5), \(csvFiles.count) CSV files in \(csvDir)/" + (main ? ", \(output)/timeline.json" : ""))
      print("  wrote " + drawn.joined(separator: ", ") + "\n")
    }
    // Pipeline schedules side by side, and the Zero Bubble ZB-H1 diagram.
    let costs = PipelineCosts(stages: 4, forward: Nanoseconds(18_500_000), backward: Nanoseconds(18_100_000),
                              weight: Nanoseconds(9_300_000), comm: Nanoseconds(600_000),
                              memB: Bytes(1 << 30), memW: Bytes(1 << 29))
    print("== pipeline schedules (p=4, m=8, T_F 18.5 ms, T_B 18.1 ms, T_W 9.3 ms, p2p 0.6 ms)")
    for name in ScheduleGenerators.names {
      let v = name == "interleaved-1f1b" || name == "hanayo" ? 2 : 1
      let r = try ScheduleSimulator.simulate(name, stages: 4, microbatches: 8, chunks: v, costs: costs)
      print("  " + name.padding(toLength: 18, withPad: " ", startingAt: 0)
        + String(format: "makespan %8.1f ms   bubble rate %.4f   peak activation %.2f GiB", Double(r.makespan) / 1e6, r.bubbleRate,
                 Double(r.peakActivation.max() ?? 0) / 1_073_741_824))
      if name == "zb-h1" {
        for ext in [Graphviz.Format.svg, .png] {
          let file = output + "/schedule-zb-h1." + ext.rawValue
          let bytes = try Graphviz.render(ScheduleRenderer.diagram(r).dot(), format: ext, engine: "nop")
          _ = FileManager.default.createFile(atPath: file, contents: Data(bytes))
        }
      }
    }
    print("  wrote \(output)/schedule-zb-h1.svg, \(output)/schedule-zb-h1.png\n")
    print("More real traces: ../shared/traces (see its INVENTORY.md), e.g.")
    print("  reprise ingest ../shared/traces/param/et_replay/tests/inputs/dlrm_kineto.tar.gz.d/dlrm_kineto")
  }
}
