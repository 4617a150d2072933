import CostModels
import Foundation
import Reports
import Serving
import TestSupport
import Testing
import TraceImport
import TraceModel

/// `reprise serve` (docs/models/serving.md) on the bundled CPU captures and the shared serving traces.
@Suite struct ServeReportTests {
  static let dir = TestPaths.packageRoot + "/Traces/kineto-cpu/serving-llama/"
  static let model = dir + "llama-tiny.json"
  static let cpu = TestPaths.packageRoot + "/Traces/kineto-cpu/gpt-parallel/cpu-calibrated.json"

  func report(_ path: String, knobs: [String] = [], model: String? = ServeReportTests.model, hardware: String? = cpu)
    throws -> ServeReport
  {
    let g = try Ingest.run(paths: [path]).graph
    return try ServeReport(
      graph: g, trace: path, request: ServeRequest(model: model, hardware: hardware, knobs: knobs), specs: .embedded)
  }

  /// One prefill then 23 decodes; tokens, batch and KV length read from the attention shapes.
  @Test func capturedIterations() throws {
    let r = try report(Self.dir + "b1-p512/b1-p512.pt.trace.json.gz")
    #expect(r.iterations.map(\.kind) == ["prefill"] + Array(repeating: "decode", count: 23))
    #expect(r.iterations[0].tokens == 512)
    #expect(r.iterations[0].kvLength == 512)
    #expect(r.iterations.dropFirst().map(\.kvLength) == (513...535).map { $0 })
    #expect(r.iterations.allSatisfy { $0.batch == 1 && $0.source == "annotation" })
    let first = r.iterations[1]
    #expect(first.attentionNs.rawValue > 0 && first.linearNs.rawValue > 0)
    #expect(first.attentionNs.rawValue + first.linearNs.rawValue + first.otherNs.rawValue == first.durationNs.rawValue)
    // K and V of 4 layers × 2 KV heads × 513 tokens × 64 × 4 bytes.
    let kv: Int64 = 2 * 4 * 2 * 513 * 64 * 4
    #expect(first.kvBytesRead == Bytes(kv))
  }

  /// Without a what-if the prediction is the measurement, phase by phase.
  @Test func identity() throws {
    let r = try report(Self.dir + "b1-p512/b1-p512.pt.trace.json.gz")
    let p = try #require(r.prefill)
    let d = try #require(r.decode)
    #expect(p.predictedNs == p.measuredNs && d.predictedNs == d.measuredNs)
    #expect(r.predicted == r.measured)
    #expect(r.iterations.allSatisfy { $0.predictedNs == $0.durationNs })
    #expect(r.trust.identityErrorPct == 0)
  }

  /// fp8 halves a bf16 cache's KV bytes (quarters this fp32 one) and leaves the linear time.
  @Test func kvDtype() throws {
    let base = try report(Self.dir + "b1-p512/b1-p512.pt.trace.json.gz")
    let r = try report(Self.dir + "b1-p512/b1-p512.pt.trace.json.gz", knobs: ["serve.kv-dtype=fp8"])
    for (a, b) in zip(base.iterations, r.iterations) where a.kind == "decode" {
      #expect(b.predictedKVBytesRead?.rawValue == (a.kvBytesRead?.rawValue ?? 0) / 4)
      #expect(b.predictedLinearNs == a.linearNs)
      #expect(b.predictedAttentionNs < a.attentionNs)
    }
  }

  @Test(.needsCorpus) func kvDtypeHalvesABF16Cache() throws {
    let path =
      (TestPaths.corpus ?? "") + "/tracelens/tests/traces/inference/sglang_decode/sglang_Qwen3-8B_decode.json.gz"
    let base = try report(path, model: "qwen3-8b", hardware: "mi300x")
    let r = try report(path, knobs: ["serve.kv-dtype=fp8"], model: "qwen3-8b", hardware: "mi300x")
    let a = try #require(base.iterations.first)
    let b = try #require(r.iterations.first)
    #expect(b.predictedKVBytesRead?.rawValue == (a.kvBytesRead?.rawValue ?? 0) / 2)
    #expect(b.predictedLinearNs == a.linearNs)
  }

  /// A shared prefix as long as the prompt leaves a prefill of 0 new tokens: no attention, no
  /// work that grows with the prompt; what stays is the time kept as measured and the LM head on
  /// the last position (engines recompute the last token to sample from it).
  @Test func prefixOfTheWholePrompt() throws {
    let path = Self.dir + "b1-p512/b1-p512.pt.trace.json.gz"
    let r = try report(path, knobs: ["serve.prefix=512"])
    let it = r.iterations[0]
    #expect(it.predictedAttentionNs.rawValue == 0)
    let g = try Ingest.run(paths: [path]).graph
    let p = ProfileBuilder(g).profiles(IterationFinder(g).iterations())[0]
    let specs = SpecLibrary.embedded
    let retimer = ServingRetimer(
      source: try specs.hardware(Self.cpu), target: try specs.hardware(Self.cpu), model: try specs.model(Self.model))
    var none = ShapeChange()
    none.query = 0
    let zero = ServingPredictor(retimer: retimer, scenario: ServingScenario()).predict(p, none)
    #expect(Double(it.predictedNs.rawValue) == zero.predicted.rounded())
    #expect(zero.predicted < 0.1 * Double(it.durationNs.rawValue))
    #expect(r.decode?.predictedNs == r.decode?.measuredNs)
    #expect(throws: (any Error).self) { try report(path, knobs: ["serve.prefix=513"]) }
  }

  /// The worked example of docs/models/serving.md: k = 4, α = 0.8, t_verify 12 ms, t_draft 1.5 ms.
  @Test func speculativeWorkedExample() throws {
    let s = try ServingScenario.parse(["serve.speculative=4,0.8,draft=llama-3.1-8b"])
    let spec = try #require(s.speculative)
    #expect(abs(spec.expectedTokens - 3.3616) < 1e-12)
    #expect(abs(spec.timePerToken(draft: 1.5, verify: 12) - 5.354593050928129) < 1e-9)
    #expect(ServingScenario.Speculative.expectedTokens(k: 3, alpha: 1) == 4)
  }

  /// A longer prompt costs more in prefill and decode; more requests cost more per iteration.
  @Test func contextAndBatchGrowTheTimes() throws {
    let base = try report(Self.dir + "b1-p512/b1-p512.pt.trace.json.gz")
    let ctx = try report(Self.dir + "b1-p512/b1-p512.pt.trace.json.gz", knobs: ["serve.context=1024"])
    let batch = try report(Self.dir + "b1-p512/b1-p512.pt.trace.json.gz", knobs: ["serve.batch=4"])
    #expect(ctx.prefill!.predictedNs > base.prefill!.predictedNs)
    #expect(ctx.decode!.predictedNs > base.decode!.predictedNs)
    #expect(ctx.iterations[1].predictedKVBytesRead!.rawValue > base.iterations[1].kvBytesRead!.rawValue)
    #expect(batch.prefill!.predictedNs > base.prefill!.predictedNs)
    #expect(batch.decode!.predictedNs > base.decode!.predictedNs)
    // Four requests decode four tokens per iteration.
    #expect(batch.predicted.tokensPerSecond! > 1.5 * base.measured.tokensPerSecond!)
    // Decode GEMMs at M = 4 read the same weights: less than 4× the GEMV time.
    #expect(batch.iterations[1].predictedLinearNs.rawValue < 4 * base.iterations[1].linearNs.rawValue)
  }

  /// A training trace is not serving: its steps are `training`, kept as measured under any knob;
  /// the Qwen inference benchmark is one prefill of 16 × 559 tokens.
  @Test func trainingAndBenchmarkTraces() throws {
    let train = try report(
      TestPaths.packageRoot + "/Traces/generated/ddp-4rank", knobs: ["serve.batch=2"], model: nil, hardware: nil)
    #expect(train.iterations.count == 8 && train.iterations.allSatisfy { $0.kind == "training" })
    #expect(train.iterations.allSatisfy { $0.predictedNs == $0.durationNs })
    #expect(train.notes.contains { $0.contains("backward pass") })
    let qwen = try report(TestPaths.h100, model: nil, hardware: nil)
    #expect(qwen.iterations.map(\.kind) == ["prefill"] && qwen.prefill?.tokens == 16 * 559)
  }

  /// The CPU prefill attention grows with the key blocks PyTorch's flash kernel computes: ×10
  /// from 512 to 2048 tokens, not ×16 (docs/models/serving.md, "Attention cost").
  @Test func cpuPrefillAttentionFollowsTheKernelBlocks() throws {
    let r = try report(Self.dir + "b1-p512", knobs: ["serve.context=2048"])
    let it = r.iterations[0]
    let ratio = Double(it.predictedAttentionNs.rawValue) / Double(it.attentionNs.rawValue)
    #expect(abs(ratio - 10) < 0.05, "\(ratio)")
  }

  /// serve.context then serve.prefix: a 1024-token prompt with 256 of them cached computes the
  /// linear layers of 768 new tokens; the prefix alone (P queries over P keys) is costed apart.
  @Test func contextAndPrefixCompose() throws {
    let path = Self.dir + "b1-p512"
    let both = try report(path, knobs: ["serve.context=1024", "serve.prefix=256"])
    let short = try report(path, knobs: ["serve.context=768"])
    let a = Double(both.iterations[0].predictedLinearNs.rawValue)
    let b = Double(short.iterations[0].predictedLinearNs.rawValue)
    #expect(abs(a - b) <= 0.001 * b)
    let prefix = try report(path, knobs: ["serve.prefix=256"])
    let w = try #require(prefix.whatIfs.first { $0.knob == "serve.prefix" })
    #expect(w.values["prefixOnceNs"]! < w.values["prefillNs"]!)
    #expect(throws: (any Error).self) { try report(path, knobs: ["serve.context=256", "serve.prefix=400"]) }
    _ = try report(path, knobs: ["serve.context=2048", "serve.prefix=1000"])
  }

  /// A rank with no annotation and no repeating range is one iteration: all of its work, not only
  /// its first event's.
  @Test func wholeRankIterationHoldsAllItsWork() throws {
    let events = [
      #"{"ph":"X","cat":"cpu_op","name":"aten::embedding","pid":1,"tid":1,"ts":0,"dur":10}"#,
      #"{"ph":"X","cat":"cpu_op","name":"aten::linear","pid":1,"tid":1,"ts":20,"dur":50}"#,
      #"{"ph":"X","cat":"cpu_op","name":"aten::softmax","pid":1,"tid":1,"ts":80,"dur":5}"#,
    ]
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("serve-whole-\(UUID().uuidString).json")
    let text = #"{"traceEvents": ["# + events.joined(separator: ",") + "]}"
    try text.write(to: path, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(at: path) }
    let r = try report(path.path, model: nil, hardware: nil)
    let it = try #require(r.iterations.first)
    #expect(r.iterations.count == 1 && it.source == "wholeRank")
    #expect(it.durationNs == Nanoseconds(85_000) && it.linearNs == Nanoseconds(50_000))
  }

  @Test func knobErrors() throws {
    for bad in [
      "serve.context=0", "serve.batch=x", "serve.kv-dtype=fp7", "serve.swap=0", "serve.swap=4,block=0",
      "serve.speculative=4,1.2,draft=m", "serve.speculative=4,0.5", "serve.offload=kv:1.5", "serve.offload=gpu:0.5",
      "serve.unknown=1", "serve.context", "serve.context=1000000000", "serve.batch=9223372036854775807",
      "serve.speculative=9223372036854775807,0.5,draft=m",
    ] {
      #expect(throws: ServingKnobError.self, "\(bad)") { try ServingScenario.parse([bad]) }
    }
    #expect(throws: ServingKnobError.self) { try ServingScenario.parse(["serve.context=1024", "serve.context=2048"]) }
    let all = try ServingScenario.parse(["serve.offload=kv:1"])
    #expect(all.offload?.kv == 1)
  }

  /// Same input, byte-identical JSON.
  @Test func deterministic() throws {
    let a = try report(Self.dir + "b1-p512/b1-p512.pt.trace.json.gz", knobs: ["serve.context=1024"]).json()
    let b = try report(Self.dir + "b1-p512/b1-p512.pt.trace.json.gz", knobs: ["serve.context=1024"]).json()
    #expect(a == b)
    #expect(a.contains("\"schema\": \"reprise.serve/v1\""))
  }

  static let inference = "/tracelens/tests/traces/inference/"

  /// The shared inference traces: iteration and phase counts (tools/check_serving_iterations.py
  /// reads the same from the raw JSON).
  @Test(.needsCorpus) func sharedTraces() throws {
    let c = TestPaths.corpus ?? ""
    let sglang = try report(
      c + Self.inference + "sglang_decode/sglang_Qwen3-8B_decode.json.gz", model: nil, hardware: nil)
    #expect(sglang.iterations.count == 1 && sglang.decode?.count == 1 && sglang.decode?.batch == 32)
    #expect(sglang.decode?.kvLength == 1025)
    let mtia = try report(
      c + "/hta/tests/data/mtia_inference_trace/mtia_inference_rank_0.json.gz", model: nil, hardware: nil)
    #expect(mtia.iterations.count == 38 && mtia.otherPhases.map(\.kind) == ["forward"])
    #expect(mtia.iterations.allSatisfy { $0.name == "Stage::processRequest" })
    // Its own thread only: tools/check_serving_iterations.py gives a mean of 0.163 ms.
    #expect(mtia.otherPhases.first?.measuredNs == Nanoseconds(163_365))
    let legacy = try report(c + "/hta/tests/data/trace_file_list/inference_rank_1.json.gz", model: nil, hardware: nil)
    #expect(legacy.iterations.map(\.source) == ["wholeRank"])
    #expect(mtia.iterations.allSatisfy { $0.source == "pattern" && $0.predictedNs == $0.durationNs })
  }

  /// vLLM's CUDA-graph decode: the 421 replayed kernels get the ops captured for them.
  @Test(.needsCorpus) func cudaGraphExpansion() throws {
    let c = (TestPaths.corpus ?? "") + Self.inference + "vllm_decode_full/"
    let exec = try Ingest.run(paths: [c + "graph_execution.json.gz"]).graph
    let capture = try Ingest.run(paths: [
      c + "capture_traces/graph_capture_rank_0.1773709742341309550.pt.trace.json.gz"
    ]).graph
    let r = try ServeReport(
      graph: exec, trace: "vllm", request: ServeRequest(captures: [(capture, "capture")]), specs: .embedded)
    #expect(r.graphCapture?.capturedLaunches == 421)
    #expect(r.graphCapture?.replayedKernels == 421 && r.graphCapture?.mappedKernels == 421)
    #expect(r.decode?.count == 1 && r.decode?.batch == 32 && r.decode?.kvLength == 1721)
    let it = try #require(r.iterations.first)
    #expect(it.attentionNs.rawValue > 0 && it.linearNs.rawValue > 0)
    // Without the capture the graph's kernels have no op: the split rests on kernel names alone.
    let bare = try ServeReport(graph: exec, trace: "vllm", request: ServeRequest(), specs: .embedded)
    #expect(bare.graphCapture == nil)
  }
}
