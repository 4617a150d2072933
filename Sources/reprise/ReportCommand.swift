import Analysis
import ArgumentParser
import CostModels
import Foundation
import Rendering
import Replay
import TraceImport
import TraceModel

struct ReportCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "report",
    abstract: "All analyses of a run in one JSON document (reprise.report/v1), and one CSV per section.",
    discussion: """
      Sections: summary, breakdown, bubbles, bandwidth, memory, criticalPath, stragglers, whatIf. \
      The schema is docs/report.schema.json; the fields are described in docs/report.md. \
      --whatif KEY=VALUE (repeatable; the knobs of `reprise whatif --set`) fills whatIf with the \
      baseline and predicted step per rank and the change per kernel class. The same inputs give \
      byte-identical output.
      """)

  @OptionGroup var input: TraceInputs
  @OptionGroup var specs: SpecOptions

  @Option(name: .customLong("whatif"), help: "A what-if knob KEY=VALUE (repeatable), as in `reprise whatif --set`.")
  var whatIf: [String] = []

  @Option(help: "Cluster spec JSON for the what-if (Models/clusters/NAME.json).")
  var cluster: String?

  @Option(help: "Hardware name in Models/hardware/ (default: from the trace's deviceProperties); its interconnect is the link peak.")
  var hardware: String?

  @Option(help: "Per-rank link bandwidth for % of peak, e.g. 300GB/s (overrides the hardware's interconnect).")
  var linkBandwidth: String?

  @Option(help: "Model name in Models/models/: adds the modeled memory breakdown (weights, gradients, optimizer, activations).")
  var model: String?
  @Option(help: "Sequence length for the modeled activations.") var sequence = 2048
  @Option(help: "Micro-batch size for the modeled activations.") var microBatch = 1
  @Option(help: "Tensor-parallel degree for the memory model.") var tp = 1
  @Option(help: "ZeRO stage 0–3 for the memory model (data-parallel degree = ranks in the trace).") var zero = 0

  @Option(name: .shortAndLong, help: "Write the report here instead of standard output.")
  var output: String?

  @Option(help: "Also write one CSV per section into this directory.")
  var csv: String?

  func validate() throws {
    do { _ = try Scenario.parse(whatIf) } catch let e as ScenarioError { throw ValidationError(e.description) }
    if !(0...3).contains(zero) { throw ValidationError("--zero: 0, 1, 2 or 3") }
    if tp < 1 || sequence < 1 || microBatch < 1 { throw ValidationError("--tp, --sequence and --micro-batch must be ≥ 1") }
    _ = try parseLinkGBps(linkBandwidth)
  }

  func run() throws {
    let lib = specs.library
    let spec = try loadCluster(cluster)
    let scenario = whatIf.isEmpty && spec == nil ? nil : try Scenario.parse(whatIf, cluster: spec)
    var hw: HardwareSpec? = nil
    if let hardware { hw = try loadSpec { try lib.hardware(hardware) } }
    let result = try input.ingest()
    if hw == nil { hw = detectHardware(result.graph, lib) }
    var options = Report.Options(scenario: scenario, hardware: hw)
    options.linkGBps = try parseLinkGBps(linkBandwidth)
    if let model {
      let m = try loadSpec { try lib.model(model) }
      options.modelMemory = Report.ModelMemory(model: m, sequence: sequence, microBatch: microBatch, tensorParallel: tp,
                                               dataParallel: max(1, result.graph.ranks.count), zero: zero)
    }
    let report = try Report(result, inputs: input.paths, options: options)
    let text = report.document.encoded(pretty: true) + "\n"
    if let output {
      do { try text.write(toFile: output, atomically: true, encoding: .utf8) } catch {
        throw DataError(message: "\(output): cannot write: \(error.localizedDescription)")
      }
      print("wrote \(output)")
    } else {
      print(text, terminator: "")
    }
    if let csv {
      let files = try report.writeCSV(to: csv)
      printError("wrote \(files.count) CSV files to \(csv)/")
    }
  }
}

struct DiffCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "diff",
    abstract: "What changed between two runs: device time per kernel class and collective kind, sorted by impact.",
    discussion: """
      A and B are traces (a file or a directory of rank files each). With --whatif KEY=VALUE \
      instead of B, compares the identity replay of A with A under the what-if. Times are summed \
      over ranks inside each rank's profiler steps (else its device span). JSON schema reprise.diff/v1.
      """)

  @Argument(help: "The first run (a trace file or a directory of rank files).")
  var a: String
  @Argument(help: "The second run; omit with --whatif.")
  var b: String?

  @Option(name: .customLong("whatif"), help: "Compare A with A under this what-if knob KEY=VALUE (repeatable).")
  var whatIf: [String] = []

  @Option(name: .shortAndLong, help: "Write the JSON here (else a table is printed).")
  var output: String?

  @Flag(help: "Print JSON on standard output.")
  var json = false

  func validate() throws {
    if (b == nil) == whatIf.isEmpty { throw ValidationError("give either a second run B or --whatif KEY=VALUE, not both or neither") }
    do { _ = try Scenario.parse(whatIf) } catch let e as ScenarioError { throw ValidationError(e.description) }
  }

  func run() throws {
    func load(_ p: String) throws -> IngestResult { try TraceInputs.parse([p]).ingest() }
    let ra = try load(a)
    let diff: RunDiff
    let labels: (String, String)
    if let b {
      let rb = try load(b)
      diff = RunDiff(a: ra.graph, Timeline(measured: ra.graph), b: rb.graph, Timeline(measured: rb.graph))
      labels = (a, b)
    } else {
      let run = try ReplayRun(graph: ra.graph, scenario: try Scenario.parse(whatIf))
      diff = RunDiff(a: ra.graph, run.baseline, b: ra.graph, run.predicted)
      labels = (a + " (replayed)", a + " under " + whatIf.joined(separator: " "))
    }
    let doc = Self.json(diff, labels)
    if let output {
      try (doc.encoded(pretty: true) + "\n").write(toFile: output, atomically: true, encoding: .utf8)
      print("wrote \(output)")
    } else if json {
      print(doc.encoded(pretty: true))
    } else {
      print(Self.text(diff, labels))
    }
  }

  static func json(_ d: RunDiff, _ labels: (String, String)) -> JSONDocument {
    func rows(_ rs: [RunDiff.Row]) -> JSONDocument {
      .array(rs.map { r in
        .object(["key": .string(r.key), "aNs": .int(r.aNs), "bNs": .int(r.bNs), "deltaNs": .int(r.deltaNs),
                 "deltaPct": r.deltaPct.map { .double($0) } ?? .null, "aCount": .int(r.aCount), "bCount": .int(r.bCount)])
      })
    }
    return .object([
      "schema": .string("reprise.diff/v1"), "a": .string(labels.0), "b": .string(labels.1),
      "aStepNs": .int(d.aStepNs), "bStepNs": .int(d.bStepNs), "deltaStepNs": .int(d.deltaStepNs),
      "byClass": rows(d.rows), "byName": rows(d.byName),
    ])
  }

  static func text(_ d: RunDiff, _ labels: (String, String)) -> String {
    func ms(_ ns: Int64) -> String { String(format: "%10.3f", Double(ns) / 1e6) }
    var lines = ["A: \(labels.0)", "B: \(labels.1)",
                 String(format: "step: A %.3f ms, B %.3f ms, Δ %+.3f ms", Double(d.aStepNs) / 1e6, Double(d.bStepNs) / 1e6, Double(d.deltaStepNs) / 1e6),
                 "class                          A ms       B ms    Δ ms      Δ %"]
    for r in d.rows {
      lines.append(r.key.padding(toLength: 26, withPad: " ", startingAt: 0) + ms(r.aNs) + " " + ms(r.bNs) + String(format: "%+9.3f", Double(r.deltaNs) / 1e6)
                   + (r.deltaPct.map { String(format: "%+8.1f%%", $0) } ?? "        -"))
    }
    return lines.joined(separator: "\n")
  }
}
