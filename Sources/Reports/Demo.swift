import Analysis
import CostModels
import Foundation
import Rendering
import Replay
import Schedules
import TraceImport
import TraceModel

/// The main job on the bundled traces (`reprise demo`, `make demo`): every analysis, two
/// what-ifs, the report and the diagrams of the real 8-rank DLRM run, and the same run written as
/// shards and read back; then a shorter pass over every other bundled set, then the pipeline
/// schedules side by side.
///
/// Writes into `output`; reports progress as lines through `log` (the CLI prints them).
public struct Demo: Sendable {
  /// The folder holding `public/`, `kineto-cpu/` and `generated/` (the repository's `Traces`).
  public var traces: String
  public var output: String
  /// The main set, relative to `traces`.
  public var main = "public/dlrm-8rank"
  /// The what-ifs of the main job; the first also goes into the report.
  public var whatIfs = [["host.launch=2us"], ["compute.scale=0.5"]]
  /// Clusters the main set's collectives are re-timed on (`whatif --cluster`).
  public var networkWhatIfs = ["dgx-h100-4node", "mixed-nic-4node"]
  /// Two sets recording the same workload on different GPUs: the hardware-transfer check.
  public var transferPair: (String, String)? = ("public/h100-qwen1.5-0.5b", "public/mi300-qwen1.5-0.5b")
  /// A set recorded in several layouts: its single-process run predicted in each of the others
  /// (`whatif --parallel`), with the model, CPU and link specs beside it.
  public var parallelSet: String? = "kineto-cpu/gpt-parallel"
  /// The serving captures `serving(log:)` reads (`reprise serve`).
  public var servingSet: String? = "kineto-cpu/serving-llama"
  public var specs: SpecLibrary

  public init(traces: String, output: String, specs: SpecLibrary) {
    self.traces = traces
    self.output = output
    self.specs = specs
  }

  /// The trace sets under `traces`: `<group>/<set>` folders holding trace files, main set first.
  /// A folder with subfolders of traces (one run per subfolder, as the layouts of
  /// `kineto-cpu/gpt-parallel/<layout>/`) gives one set per subfolder; of `servingSet`'s eight
  /// captures only `b1-p512`.
  /// - Throws: `RunError.usage` when the main set is missing.
  public func sets() throws -> [String] {
    let fm = FileManager.default
    var found: [String] = []
    for group in ["public", "kineto-cpu", "generated"] {
      let names = ((try? fm.contentsOfDirectory(atPath: traces + "/" + group)) ?? []).sorted()
      for name in names {
        let path = traces + "/" + group + "/" + name
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue,
          let files = try? Ingest.expand([path])
        else { continue }
        let folders = Set(files.map { ($0 as NSString).deletingLastPathComponent }).subtracting([path])
        if folders.isEmpty {
          found.append(group + "/" + name)
        } else if group + "/" + name == servingSet {
          // One serving capture runs the set jobs; `serving(log:)` reads the others.
          found += folders.sorted().filter { $0.hasSuffix("/b1-p512") }.map { String($0.dropFirst(traces.count + 1)) }
        } else {
          found += folders.sorted().map { String($0.dropFirst(traces.count + 1)) }
        }
      }
    }
    guard found.contains(main) else { throw RunError.usage("\(traces)/\(main): the main trace set is missing") }
    return [main] + found.filter { $0 != main }
  }

  /// Runs the whole demo.
  /// - Throws: input, replay and rendering errors of any set (`TraceImportError`, `ReplayError`,
  ///   `RunError`, `Graphviz.RenderError`).
  public func run(log: (String) -> Void) throws {
    try OutputFile.makeDirectory(output)
    for set in try sets() {
      let started = Date()
      let result = try Ingest.run(paths: [traces + "/" + set])
      let seconds = Date().timeIntervalSince(started)
      // The set's warnings go under its header line, which each job prints first.
      let warnings = result.diagnostics.items.filter { $0.severity >= .warning }.map(\.description)
      if set == main {
        try mainJob(result, seconds: seconds, set: set, warnings: warnings, log: log)
        try shards(of: result, log: log)
      } else {
        try shortJob(result, set: set, warnings: warnings, log: log)
      }
    }
    try transfers(log: log)
    try layouts(log: log)
    try serving(log: log)
    try schedules(log: log)
  }

  func write(_ text: String, _ name: String) throws -> String {
    let path = output + "/" + name
    try OutputFile.write(text + "\n", to: path)
    return path
  }

  func draw(_ kind: TraceDiagram.Kind, _ g: EventGraph, _ t: Timeline, to name: String) throws -> String {
    let options = TraceDiagram.Options(hardware: kind == .topology ? try specs.detectHardware(g) : nil)
    let path = output + "/" + name
    try OutputFile.write(try TraceDiagram.render(kind, g, t, format: .svg, options: options), to: path)
    return path
  }
}
