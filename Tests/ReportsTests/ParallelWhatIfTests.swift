import CostModels
import Foundation
import Parallel
import Replay
import Reports
import TestSupport
import Testing
import TraceImport
import TraceModel

/// `whatif --parallel` (docs/models/parallel.md) on the bundled traces.
@Suite struct ParallelWhatIfTests {
  static let root = TestPaths.packageRoot + "/Traces/"

  func study(_ path: String, recorded: ParallelLayout? = nil, model: String? = nil, hardware: String? = nil)
    throws -> ParallelStudy
  {
    let g = try Ingest.run(paths: [path]).graph
    return try ParallelStudy(
      graph: g, trace: path, recorded: recorded, model: model, hardware: hardware, from: nil, cluster: nil,
      specs: .embedded)
  }

  /// The recorded layout predicts the identity replay (within 0.1 %) on every bundled set.
  @Test(arguments: [
    "public/dlrm-8rank", "kineto-cpu/ddp-gloo-4rank", "kineto-cpu/ddp-gloo-4rank-straggler", "kineto-cpu/pipeline-1f1b",
    "kineto-cpu/pipeline-gpipe", "generated/ddp-4rank", "generated/pipeline-2rank", "generated/comm-bound-4rank",
    "generated/megatron-tp8", "public/h100-qwen1.5-0.5b", "public/mi300-qwen1.5-0.5b", "public/mi250-minitoy",
  ])
  func recordedLayoutIsTheBaseline(set: String) throws {
    let s = try study(Self.root + set)
    let doc = try ParallelWhatIf(s, target: s.predictor.recorded, options: ParallelOptions())
    let base = Double(doc.stepNs.baseline.rawValue)
    #expect(abs(Double(doc.stepNs.predicted.rawValue) - base) <= 0.001 * base, "\(set): \(doc.stepNs)")
    #expect(doc.stepNs.low <= doc.stepNs.predicted && doc.stepNs.predicted <= doc.stepNs.high)
  }

  /// The memory of a predicted layout is `reprise model memory` for the same configuration.
  @Test func memoryEqualsModelMemory() throws {
    let s = try study(TestPaths.h100, model: "llama-2-7b", hardware: "h100-sxm5-80gb")
    let target = ParallelLayout(dp: 2, tp: 2, pp: 2)
    let options = ParallelOptions(schedule: "1f1b", microbatches: 8, globalBatch: 32, training: true)
    let doc = try ParallelWhatIf(s, target: target, options: options)
    let mem = try #require(doc.memory)
    let d = try #require(s.predictor.dims)
    let m = ModelMemory(
      model: try SpecLibrary.embedded.model("llama-2-7b"), sequence: d.sequence, microBatch: 2, tensorParallel: 2,
      pipelineParallel: 2, contextParallel: 1, dataParallel: 2, zeroStage: 0)
    #expect(doc.layout.predicted.microBatchSize == 2)
    #expect(mem.peakBytesPerRank == Bytes(rounding: m.breakdown().totalBytes))
    #expect(mem.inFlightMicrobatches == 2)
    #expect(mem.fits)
  }

  /// A layout over the device's memory is marked infeasible with the bytes over.
  @Test func layoutOverTheHBMIsInfeasible() throws {
    let s = try study(TestPaths.h100, model: "llama-2-7b", hardware: "h100-sxm5-80gb")
    let doc = try ParallelWhatIf(
      s, target: ParallelLayout(dp: 8), options: ParallelOptions(globalBatch: 64, training: true))
    let mem = try #require(doc.memory)
    #expect(!mem.fits && mem.overBytes > .zero && mem.overBytes == mem.peakBytesPerRank - mem.hbmBytes)
    #expect(!doc.feasible && doc.notes.contains { $0.hasPrefix("infeasible") })
  }

  /// A forward-only trace predicts inference steps unless training is asked for; then the
  /// backward is twice the forward and the step grows.
  @Test func inferenceTraceTrainsOnlyWhenAsked() throws {
    let s = try study(TestPaths.h100)
    #expect(s.predictor.backwardMissing)
    let same = try s.predictor.predict(s.predictor.recorded, ParallelOptions())
    let training = try s.predictor.predict(s.predictor.recorded, ParallelOptions(training: true))
    #expect(same.stepNs == s.baselineStep)
    #expect(training.backwardNs.rawValue >= 2 * training.forwardNs.rawValue * 99 / 100)
    #expect(training.stepNs > same.stepNs)
  }

  /// Without transformer shapes only dp and pp can change; a batch that does not split is refused.
  @Test func refusesWhatTheTraceCannotAnswer() throws {
    let s = try study(TestPaths.dlrm)
    #expect(s.predictor.dims == nil)
    #expect(throws: ParallelError.self) { try s.predictor.predict(ParallelLayout(dp: 4, tp: 2), ParallelOptions()) }
    #expect(throws: ParallelError.self) { try s.predictor.predict(ParallelLayout(dp: 3), ParallelOptions()) }
    let q = try study(TestPaths.h100)
    #expect(throws: ParallelError.self) { try q.predictor.predict(ParallelLayout(tp: 3), ParallelOptions()) }
  }

  /// More data-parallel ranks for the same global batch shorten the compute per rank.
  @Test func moreDataParallelRanksShortenTheCompute() throws {
    let s = try study(Self.root + "kineto-cpu/ddp-gloo-4rank")
    let four = try s.predictor.predict(s.predictor.recorded, ParallelOptions())
    let two = try s.predictor.predict(ParallelLayout(dp: 2), ParallelOptions())
    #expect(two.pipelineNs > four.pipelineNs)
    #expect(two.microBatchSize == 2 * four.microBatchSize)
  }

  /// A layout with more ranks than the cluster has GPUs says so.
  @Test func layoutLargerThanTheClusterIsNoted() throws {
    let g = try Ingest.run(paths: [TestPaths.h100]).graph
    let s = try ParallelStudy(
      graph: g, trace: "h100", recorded: nil, model: "llama-2-7b", hardware: "h100-sxm5-80gb", from: nil,
      cluster: "dgx-h100-4node", specs: .embedded)
    let options = ParallelOptions(globalBatch: 64, training: true)
    let big = try ParallelWhatIf(s, target: ParallelLayout(dp: 8, tp: 8), options: options)
    #expect(big.notes.contains { $0.contains("holds 32 GPUs, fewer than 64 ranks") })
    let small = try ParallelWhatIf(s, target: ParallelLayout(dp: 4, tp: 8), options: options)
    #expect(!small.notes.contains { $0.contains("holds 32 GPUs") })
  }
}
