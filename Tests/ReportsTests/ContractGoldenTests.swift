import CostModels
import Foundation
import Replay
import Reports
import Schedules
import TestSupport
import Testing
import TraceImport
import TraceModel

/// Every JSON contract stays byte-identical to its golden: the goldens were written by `reprise`
/// before the contracts became library values (issue: library first), so these tests say that
/// the move changed no byte. `RECORD_GOLDENS=1` rewrites a golden after a deliberate change.
private let root = TestPaths.packageRoot
private let specs = SpecLibrary(root: root + "/Models")

/// The trace sets bundled in Traces/.
let bundledSets = [
  "public/dlrm-8rank", "public/mi300-qwen1.5-0.5b", "public/mi250-minitoy", "generated/ddp-4rank",
  "generated/pipeline-2rank", "generated/megatron-tp8", "generated/comm-bound-4rank", "kineto-cpu/pipeline-1f1b",
  "kineto-cpu/pipeline-gpipe", "kineto-cpu/ddp-gloo-4rank", "kineto-cpu/ddp-gloo-4rank-straggler",
]

/// Compares `json` (as the CLI prints it, plus a newline) with `Goldens/<name>.gz`; absolute paths
/// under the package root are written relative to it, as the CLI run from the root writes them.
func expectGolden(_ json: String, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) {
  let text = json.replacingOccurrences(of: root + "/", with: "") + "\n"
  let path = root + "/Tests/ReportsTests/Goldens/" + name + ".gz"
  if ProcessInfo.processInfo.environment["RECORD_GOLDENS"] != nil {
    #expect(gzip(Array(text.utf8), to: path), "cannot write \(path)")
    Issue.record("recorded \(name); run again without RECORD_GOLDENS", sourceLocation: sourceLocation)
    return
  }
  guard let golden = gunzip(path).map({ String(decoding: $0, as: UTF8.self) }) else {
    Issue.record("no golden \(path)", sourceLocation: sourceLocation)
    return
  }
  if text != golden {
    let a = text.split(separator: "\n", omittingEmptySubsequences: false)
    let b = golden.split(separator: "\n", omittingEmptySubsequences: false)
    let line = (0..<min(a.count, b.count)).first { a[$0] != b[$0] } ?? min(a.count, b.count)
    let got = line < a.count ? String(a[line]) : "<end>"
    let want = line < b.count ? String(b[line]) : "<end>"
    Issue.record("\(name) differs at line \(line + 1): got \(got), golden \(want)", sourceLocation: sourceLocation)
  }
}

@Test(arguments: bundledSets)
func ingestReplayReportAndDiffMatchTheirGoldens(set: String) throws {
  let name = set.replacingOccurrences(of: "/", with: "_")
  let result = try Ingest.run(paths: [root + "/Traces/" + set])
  expectGolden(try IngestSummary(result).json(), name + ".ingest.json")
  expectGolden(try WhatIfRun(graph: result.graph, scenario: nil).summary.json(), name + ".replay.json")
  let options = RunReport.Options(hardware: try specs.detectHardware(result.graph))
  expectGolden(try RunReport(result, inputs: ["Traces/" + set], options: options).json(), name + ".report.json")
  let whatIf = try WhatIfRun(graph: result.graph, scenario: try Scenario.parse(["compute.scale=0.5"]))
  let labels = ("Traces/\(set) (replayed)", "Traces/\(set) under compute.scale=0.5")
  expectGolden(try DiffReport(whatIf, labels: labels).json(), name + ".diff.json")
}

@Test func whatIfReportBreakdownBandwidthAndScheduleSwapMatchTheirGoldens() throws {
  let ddp = try Ingest.run(paths: [root + "/Traces/generated/ddp-4rank"])
  let memory = ModelMemory(
    model: try specs.model("llama-2-7b"), sequence: 2048, microBatch: 1, tensorParallel: 1,
    dataParallel: 4, zeroStage: 0)
  let options = RunReport.Options(
    scenario: try Scenario.parse(["compute.scale=0.5"]),
    hardware: try specs.detectHardware(ddp.graph), modelMemory: memory)
  expectGolden(
    try RunReport(ddp, inputs: ["Traces/generated/ddp-4rank"], options: options).json(),
    "generated_ddp-4rank.report-whatif.json")
  let dlrm = try Ingest.run(paths: [TestPaths.dlrm])
  expectGolden(
    try WhatIfRun(graph: dlrm.graph, scenario: try Scenario.parse(["host.launch=2us"])).summary.json(),
    "public_dlrm-8rank.whatif.json")
  let gloo = try Ingest.run(paths: [root + "/Traces/kineto-cpu/ddp-gloo-4rank"])
  for (result, name) in [
    (dlrm, "public_dlrm-8rank"), (ddp, "generated_ddp-4rank"), (gloo, "kineto-cpu_ddp-gloo-4rank"),
  ] {
    expectGolden(try BreakdownReport(result.graph, window: .deviceSpan, inputs: []).json(), name + ".breakdown.json")
    expectGolden(try BandwidthReport(result.graph, linkGBps: nil, inputs: []).json(), name + ".bandwidth.json")
  }
  let f1b = try Ingest.run(paths: [root + "/Traces/kineto-cpu/pipeline-1f1b"])
  expectGolden(
    try ScheduleSwap(f1b.graph, target: "gpipe", chunks: 2).summary.json(),
    "kineto-cpu_pipeline-1f1b.whatif-schedule.json")
  let gpipe = try Ingest.run(paths: [root + "/Traces/kineto-cpu/pipeline-gpipe"])
  expectGolden(
    try DiffReport(f1b, gpipe, labels: ("Traces/kineto-cpu/pipeline-1f1b", "Traces/kineto-cpu/pipeline-gpipe")).json(),
    "kineto-cpu_pipeline-1f1b.diff-gpipe.json")
}

@Test func modelAndScheduleContractsMatchTheirGoldens() throws {
  let yi = try specs.model("yi-34b")
  let a100 = try specs.hardware("a100-sxm4-80gb")
  let longctx = try LongContextAnalysis.analyze(model: yi, hardware: a100, context: 50_000, outputTokens: 250)
  expectGolden(
    try LongContextReport(
      longctx, model: yi, hardware: a100, context: 50_000, outputTokens: 250,
      tensorParallel: 1, kvDtype: "bf16"
    ).json(), "model.longctx.json")
  let llama70 = try specs.model("llama-3.1-70b")
  let h100 = try specs.hardware("h100-sxm5-80gb")
  let kv = KVCacheAnalysis.analyze(
    model: llama70, kvDtype: .bf16, context: 8192, requests: 4, sharedPrefix: 1024,
    hardware: h100)
  expectGolden(try KVCacheReport(kv, model: llama70, kvDtype: "bf16").json(), "model.kvcache.json")
  let comm = CommEstimate(
    kind: .allReduce, bytes: Bytes(1_073_741_824), ranks: 8, bandwidth: BytesPerSecond(rawValue: 450e9),
    latency: Nanoseconds(5_000), algorithm: .ring)
  expectGolden(try comm.json(), "model.comm.json")
  let memory = ModelMemory(
    model: try specs.model("llama-2-7b"), sequence: 2048, microBatch: 1, tensorParallel: 2,
    dataParallel: 4, zeroStage: 1)
  expectGolden(try MemoryEstimate(memory).json(), "model.memory.json")
  let op = try OperationRoofline(hardware: h100, dtype: "bf16", flops: FLOPs(rawValue: 2e12), bytes: Bytes(1 << 30))
  expectGolden(try op.json(), "model.roofline-op.json")
  let mi300 = try Ingest.run(paths: [TestPaths.mi300])
  expectGolden(
    try RooflineReport(mi300.graph, hardware: try specs.hardware("mi300x")).json(),
    "public_mi300-qwen1.5-0.5b.roofline.json")
  let ms = { (x: Double) in Nanoseconds(Int64(x * 1e6)) }
  let costs = PipelineCosts(
    stages: 4, forward: ms(18.5), backward: ms(18.1), weight: ms(9.3), comm: ms(0.6),
    memB: Bytes(1 << 30), memW: Bytes(512 << 20))
  let zb = ScheduleSimulator.offload(
    try ScheduleSimulator.simulate("zb-h1", stages: 4, microbatches: 8, costs: costs), costs: costs, ratio: 0.5,
    pcie: BytesPerSecond(rawValue: 32e9))
  expectGolden(try ScheduleReport(zb).json(), "schedule.zb-h1.json")
  let plain = PipelineCosts(stages: 4, forward: ms(18.5), backward: ms(18.1), weight: ms(9.3))
  expectGolden(
    try ScheduleReport.compare(stages: 4, microbatches: 8, chunks: nil, costs: plain).json(),
    "schedule.compare.json")
}
