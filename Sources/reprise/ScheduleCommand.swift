import ArgumentParser
import Foundation
import Rendering
import Replay
import Schedules
import TraceExport
import TraceImport
import TraceModel

struct ScheduleCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "schedule",
    abstract: "Generate and simulate a pipeline-parallel schedule; bubbles, memory, diagram.",
    subcommands: [ScheduleRun.self, ScheduleCompare.self],
    defaultSubcommand: ScheduleRun.self)
}

/// Costs shared by `schedule` and `schedule compare`.
struct ScheduleOptions: ParsableArguments {
  @Option(help: "Pipeline stages p.") var stages: Int
  @Option(help: "Micro-batches m.") var microbatches: Int
  @Option(help: "Model chunks per stage v (interleaved schedules).") var chunks = 1
  @Option(help: "Forward time per micro-batch per stage (e.g. 18.5ms); comma-separated for per-stage values.") var forward: String
  @Option(help: "Input-gradient backward time (B).") var backward: String
  @Option(help: "Weight-gradient backward time (W); 1F1B-style schedules fuse B+W.") var weight = "0ms"
  @Option(help: "Stage-to-stage transfer time.") var p2p = "0ms"
  @Option(name: .customLong("act-mem-b"), help: "Activation memory held from F until B per micro-batch (e.g. 1GiB).") var actMemB = "0"
  @Option(name: .customLong("act-mem-w"), help: "Memory held from B until W per micro-batch.") var actMemW = "0"

  func validate() throws {
    if stages < 1 || microbatches < 1 || chunks < 1 { throw ValidationError("--stages, --microbatches and --chunks must be ≥ 1") }
  }

  func durations(_ text: String, _ flag: String) throws -> [Nanoseconds] {
    let parts = text.split(separator: ",").map(String.init)
    let values = try parts.map { p -> Nanoseconds in
      do { return Nanoseconds(try Scenario.duration(flag, p)) } catch let e as ScenarioError { throw ValidationError(e.message) }
    }
    if values.count == 1 { return Array(repeating: values[0], count: stages) }
    guard values.count == stages else { throw ValidationError("\(flag): give one value or \(stages) (one per stage)") }
    return values
  }

  func costs() throws -> PipelineCosts {
    let comm: Int64
    do { comm = try Scenario.duration("--p2p", p2p) } catch let e as ScenarioError { throw ValidationError(e.message) }
    return PipelineCosts(forward: try durations(forward, "--forward"), backward: try durations(backward, "--backward"),
                         weight: try durations(weight, "--weight"), comm: Nanoseconds(comm),
                         memB: Bytes(Int64(try parseBytes(actMemB))), memW: Bytes(Int64(try parseBytes(actMemW))))
  }
}

func scheduleJSON(_ r: ScheduleResult) -> JSONDocument {
  var doc: [String: JSONDocument] = [
    "schema": .string("reprise.schedule/v1"), "schedule": .string(r.name), "stages": .int(r.stages),
    "microbatches": .int(r.microbatches), "chunks": .int(r.chunks), "makespanNs": .int(r.makespan),
    "bubbleRate": .double(r.bubbleRate), "bubbleFraction": .double(r.bubbleFraction),
    "perStage": .array((0..<r.stages).map { s in
      .object(["stage": .int(s), "busyNs": .int(r.busy[s]), "idleNs": .int(r.idle[s]),
               "peakActivationBytes": .int(r.peakActivation[s]), "peakInFlightMicrobatches": .int(r.peakInFlight[s])])
    }),
  ]
  if let o = r.offload {
    doc["offload"] = .object([
      "ratio": .double(o.ratio), "pcieBytesPerSecond": .double(o.pcieBytesPerSecond),
      "savedBytes": .array(o.savedBytes.map { .int($0) }), "addedNs": .array(o.addedNs.map { .int($0) }),
      "peakActivationBytesAfter": .array(o.peakActivationAfter.map { .int($0) }),
    ])
  }
  return .object(doc)
}

struct ScheduleRun: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "run", abstract: "Simulate one schedule (the default: `reprise schedule NAME …`).")
  @Argument(help: "Schedule: \(ScheduleGenerators.names.joined(separator: ", ")).") var name: String
  @OptionGroup var options: ScheduleOptions
  @Flag(help: "Print JSON (schema reprise.schedule/v1).") var json = false
  @Option(name: .shortAndLong, help: "Write the diagram: .svg, .png or .dot.") var output: String?
  @Option(help: "PipeOffload: fraction of activations moved to host memory (0…1).") var offloadRatio: Double?
  @Option(help: "PCIe bandwidth per direction for the offload (e.g. 32GB/s).") var pcie = "32GB/s"
  @Option(help: "Also write the schedule as Chakra execution traces (one NAME.STAGE.et per stage) into this directory.") var chakra: String?

  func run() throws {
    var r: ScheduleResult
    let costs = try options.costs()
    do {
      r = try ScheduleSimulator.simulate(name, stages: options.stages, microbatches: options.microbatches, chunks: options.chunks, costs: costs)
    } catch let e as ScheduleError { throw ValidationError(e.description) }
    if let ratio = offloadRatio {
      guard (0...1).contains(ratio) else { throw ValidationError("--offload-ratio must be within 0…1") }
      let bw: Double
      do { bw = try Scenario.bandwidth("--pcie", pcie) } catch let e as ScenarioError { throw ValidationError(e.message) }
      r = ScheduleSimulator.offload(r, costs: costs, ratio: ratio, pcie: BytesPerSecond(rawValue: bw))
    }
    if let output {
      let ext = (output as NSString).pathExtension.lowercased()
      guard let format = Graphviz.Format(rawValue: ext) else { throw ValidationError("-o \(output): expected .svg, .png or .dot") }
      let bytes = try Graphviz.render(ScheduleRenderer.diagram(r).dot(), format: format, engine: "nop")
      guard FileManager.default.createFile(atPath: output, contents: Data(bytes)) else { throw ValidationError("cannot write \(output)") }
    }
    if let chakra {
      let g = r.eventGraph()
      let summary = try ChakraExporter.write(g, timeline: Timeline(measured: g), to: chakra, name: r.name)
      printError("wrote \(summary.files.count) Chakra file(s), \(summary.nodes) nodes, to \(chakra)/")
    }
    if json {
      print(scheduleJSON(r).encoded(pretty: true))
      return
    }
    print("\(r.name): p=\(r.stages), m=\(r.microbatches)\(r.chunks > 1 ? ", v=\(r.chunks)" : "")")
    print(String(format: "  makespan %.3f ms, bubble rate %.4f (Zero Bubble), bubble fraction %.4f (Megatron)", Double(r.makespan) / 1e6, r.bubbleRate, r.bubbleFraction))
    print("  stage   busy ms    idle ms   peak activation   in-flight")
    for s in 0..<r.stages {
      print(String(format: "  %5d  %8.3f  %8.3f  %13.3f GiB  %9d", s, Double(r.busy[s]) / 1e6, Double(r.idle[s]) / 1e6, Double(r.peakActivation[s]) / 1_073_741_824, r.peakInFlight[s]))
    }
    if let o = r.offload {
      print(String(format: "  PipeOffload %.2f over %.0f GB/s:", o.ratio, o.pcieBytesPerSecond / 1e9))
      for s in 0..<r.stages {
        print(String(format: "    stage %d: peak %.3f → %.3f GiB (saves %.3f GiB), adds %.3f ms", s,
                     Double(r.peakActivation[s]) / 1_073_741_824, Double(o.peakActivationAfter[s]) / 1_073_741_824,
                     Double(o.savedBytes[s]) / 1_073_741_824, Double(o.addedNs[s]) / 1e6))
      }
    }
    if let output { print("  wrote \(output)") }
  }
}

struct ScheduleCompare: ParsableCommand {
  static let configuration = CommandConfiguration(commandName: "compare", abstract: "Every schedule side by side.")
  @OptionGroup var options: ScheduleOptions
  @Flag(help: "Compare all schedules (the default).") var all = false
  @Flag(help: "Print a JSON array of reprise.schedule/v1 objects.") var json = false

  func run() throws {
    let costs = try options.costs()
    var results: [ScheduleResult] = []
    for name in ScheduleGenerators.names {
      let v = (name == "interleaved-1f1b" || name == "hanayo") ? max(options.chunks, 2) : 1
      if name == "interleaved-1f1b" && options.microbatches % options.stages != 0 { continue }
      if name == "bitpipe" && options.stages % 2 != 0 { continue }
      results.append(try ScheduleSimulator.simulate(name, stages: options.stages, microbatches: options.microbatches, chunks: v, costs: costs))
    }
    if json {
      print(JSONDocument.array(results.map(scheduleJSON)).encoded(pretty: true))
      return
    }
    print("schedule            makespan ms   bubble rate   peak activation (stage 0)")
    for r in results {
      print((r.name + (r.chunks > 1 ? " v=\(r.chunks)" : "")).padding(toLength: 18, withPad: " ", startingAt: 0) + String(format: "  %11.3f   %11.4f   %13.3f GiB", Double(r.makespan) / 1e6, r.bubbleRate,
                   Double(r.peakActivation.max() ?? 0) / 1_073_741_824))
    }
  }
}
