import ArgumentParser
import Foundation
import Reports
import Serving

struct ServeCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "serve",
    abstract: "Find the engine iterations of a serving trace, its prefill and decode, and predict them under what-ifs.",
    discussion: """
      Iterations come from engine annotations (prefill/decode record_function ranges, vLLM's \
      execute_…_context_…_generation_…, SGLang's step[DECODE bs=N]), else ProfilerStep#N, else the \
      repeating root range. Each is split into attention, linear and other time; --set re-times \
      the recorded ops through the roofline with their measured efficiency carried over: \
      \(ServingScenario.names.joined(separator: ", ")). Without --set the prediction is the \
      measurement. JSON schema reprise.serve/v1 (docs/models/serving.md).
      """)

  @OptionGroup var input: TraceInputs
  @OptionGroup var specs: SpecOptions
  @Option(help: "The model spec (a name in models/ or a JSON file): bounds, KV bytes, model-level re-timing.")
  var model: String?
  @Option(
    help:
      "The device to predict on (a name in hardware/ or a JSON file); also the recorded one when the trace names none.")
  var hardware: String?
  @Option(help: "The recorded device's hardware spec (default: the GPU the trace names, else --hardware).")
  var from: String?
  @Option(
    name: .customLong("set"),
    help:
      "A serving what-if KEY=VALUE (repeatable): serve.context=N, serve.batch=N, serve.kv-dtype=fp8, serve.prefix=P, serve.swap=N[,block=B], serve.parallel-encoding=C, serve.speculative=k,alpha,draft=MODEL[,on=HW], serve.offload=weights:F|kv:F."
  )
  var knobs: [String] = []
  @Option(
    help:
      "The CUDA/HIP graph capture trace whose ops the replayed graph kernels get (default: capture_traces/ beside a given directory)."
  )
  var graphCapture: String?
  @Flag(help: "Print one JSON object (schema reprise.serve/v1).") var json = false

  func validate() throws {
    do { _ = try ServingScenario.parse(knobs) } catch { throw ValidationError(error.description) }
  }

  func run() throws {
    let (paths, capturePath) = try ServeRequest.splitCapture(input.paths, capture: graphCapture)
    let graph = try TraceInputs.ingest(paths, verbose: input.verbose, limits: input.limits).graph
    let captures = try capturePath.map { (graph: try TraceInputs.ingest([$0], limits: input.limits).graph, file: $0) }
    let request = ServeRequest(model: model, hardware: hardware, from: from, knobs: knobs, captures: captures)
    let report = try usage {
      do {
        return try ServeReport(
          graph: graph, trace: input.paths.joined(separator: " "), request: request, specs: try specs.library())
      } catch let e as ServingKnobError { throw RunError.usage(e.message) }
    }
    print(json ? try report.json() : report.text())
  }
}
