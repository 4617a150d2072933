import CostModels
import Foundation
import TestSupport
import Testing
import TraceImport
import TraceModel

/// The GPT validation set of `tools/capture_parallel.py` (Traces/kineto-cpu/README.md): one
/// small GPT in five layouts with the same global batch, the step times measured outside the
/// profiler, and the model, link and CPU specs the predictions use.
private let set = TestPaths.packageRoot + "/Traces/kineto-cpu/gpt-parallel"

/// `measured.json`, as far as the tests read it.
private struct Measured: Decodable {
  struct Layout: Decodable {
    struct Overall: Decodable { var medianOfRepeatMediansMs, medianMs, minMs, maxMs: Double }
    struct Repeat: Decodable {
      var stepsMs: [Double]
      var medianMs, minMs, maxMs: Double
    }
    var name: String
    var dp, tp, pp, ranks, globalBatch, microbatches, perRankBatch: Int
    var schedule: String?
    var processGroup: String?
    var firstLoss: Double
    var overall: Overall
    var repeats: [Repeat]
    var profiledStepsMsPerRank: [String: [Double]]
  }
  struct Sweep: Decodable {
    var bytes: Int
    var medianUs, busGBps: Double
    var medianUsAfterCompute: Double
  }
  struct Gloo: Decodable {
    var sweep: [Sweep]
    var atGradientBytes: Sweep
  }
  var schema: String
  var version: Int
  var model: ModelSpec
  var parameters, gradientBytes, globalBatch, timedSteps, profiledSteps, repeats: Int
  var layouts: [Layout]
  var glooAllReduce: Gloo
}

private let layouts: [(name: String, ranks: Int, group: String?)] = [
  ("single", 1, nil), ("dp2", 2, "DATA_PARALLEL_GROUP"), ("tp2", 2, "TENSOR_MODEL_PARALLEL_GROUP"),
  ("pp2-gpipe", 2, "PIPELINE_MODEL_PARALLEL_GROUP"), ("pp2-1f1b", 2, "PIPELINE_MODEL_PARALLEL_GROUP"),
]

/// Every layout ingests without an error or a warning, with its rank count, its process group
/// and three `ProfilerStep`s on every rank; the 2-process layouts hold their communication.
@Test(arguments: layouts.map(\.name))
func gptParallelLayoutIngests(_ name: String) throws {
  let expected = try #require(layouts.first { $0.name == name })
  let r = try Ingest.run(paths: [set + "/" + name])
  let g = r.graph
  #expect(r.diagnostics.count(of: .error) == 0 && r.diagnostics.count(of: .warning) == 0)
  #expect(g.ranks.count == expected.ranks)
  for rank in g.ranks {
    let steps = g.steps.filter { $0.rank == rank.rank }.map(\.number).sorted()
    #expect(steps == [1, 2, 3], "\(name) rank \(rank.rank.rawValue): ProfilerStep numbers \(steps)")
    let groups = rank.processGroups.map(\.description)
    if let group = expected.group { #expect(groups.contains(group), "\(name): process groups \(groups)") }
  }
  let kinds = Set((0..<g.eventCount).map { g.kind[$0] })
  switch name {
  case "dp2", "tp2": #expect(kinds.contains(.collective))
  case "pp2-gpipe", "pp2-1f1b": #expect(kinds.contains(.send) && kinds.contains(.recv))
  default: #expect(!kinds.contains(.collective) && !kinds.contains(.send))
  }
}

/// `measured.json` decodes and describes the same five layouts, every one with the same global
/// batch, consistent dimensions and every repetition's timed steps; the same initial weights
/// and batch give the same first loss in every layout. The model, cluster and hardware specs
/// beside it load as `--model`, `--cluster` and `--hardware` files.
@Test func gptParallelMeasurementsAndSpecsDecode() throws {
  let data = try Data(contentsOf: URL(fileURLWithPath: set + "/measured.json"))
  let m = try JSONDecoder().decode(Measured.self, from: data)
  #expect(m.schema == "reprise.capture.gpt-parallel" && m.version == 1)
  #expect(m.layouts.map(\.name) == layouts.map(\.name))
  let first = try #require(m.layouts.first?.firstLoss)
  for l in m.layouts {
    #expect(l.globalBatch == m.globalBatch && l.dp * l.tp * l.pp == l.ranks)
    #expect(l.perRankBatch * l.dp == l.globalBatch && l.globalBatch % l.microbatches == 0)
    #expect(l.repeats.count == m.repeats && l.repeats.allSatisfy { $0.stepsMs.count == m.timedSteps })
    #expect(l.profiledStepsMsPerRank.count == l.ranks)
    #expect(l.profiledStepsMsPerRank.values.allSatisfy { $0.count == m.profiledSteps })
    #expect(l.overall.minMs <= l.overall.medianMs && l.overall.medianMs <= l.overall.maxMs)
    #expect(abs(l.firstLoss - first) < 1e-3, "\(l.name): first loss \(l.firstLoss), single \(first)")
  }
  #expect(m.glooAllReduce.atGradientBytes.bytes == m.gradientBytes && m.gradientBytes == 4 * m.parameters)
  #expect(Transformer.parameters(m.model) == Int64(m.parameters), "the spec counts what torch counted")
  let lib = SpecLibrary.embedded
  #expect(try lib.model(set + "/gpt-tiny.json") == m.model)
  let cluster = try lib.cluster(set + "/cpu-gloo-loopback.json")
  #expect(cluster.gpusPerNode == 2)
  // Hockney's model t = 2α + S/busbw (2 ranks) fitted to the after-compute medians by least squares.
  let xs = m.glooAllReduce.sweep.map { Double($0.bytes) }
  let ys = m.glooAllReduce.sweep.map { $0.medianUsAfterCompute * 1e-6 }
  let (mx, my) = (xs.reduce(0, +) / Double(xs.count), ys.reduce(0, +) / Double(ys.count))
  var sxy = 0.0
  var sxx = 0.0
  for (x, y) in zip(xs, ys) {
    sxy += (x - mx) * (y - my)
    sxx += (x - mx) * (x - mx)
  }
  let slope = sxy / sxx
  let alpha = try #require(cluster.latencyUs)
  let busbw = try #require(cluster.nodes.first?.intraNodeGBps)
  #expect(abs(busbw - 1 / slope / 1e9) < 1e-4, "intraNodeGBps \(busbw), fit \(1 / slope / 1e9)")
  #expect(abs(alpha - max(0, my - slope * mx) / 2 * 1e6) < 0.1, "latencyUs \(alpha)")
  _ = try lib.hardware(set + "/cpu-calibrated.json")
}
