import Foundation
import TestSupport
import Testing
import TraceModel

@testable import Replay
@testable import TraceImport

/// A run of `world` ranks, one kernel each, whose `distributedInfo.pg_config` lists `groups`
/// (description, then each group's ranks), names `1`, `2`, … in that order.
private func describedRun(world: Int, _ groups: [(String, [[Int]])]) throws -> EventGraph {
  let dir = FileManager.default.temporaryDirectory.appendingPathComponent("reprise-layout-\(UUID().uuidString)").path
  try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(atPath: dir) }
  var configs = [#"{"pg_name": "0", "pg_desc": "default_pg", "ranks": \#(Array(0..<world))}"#]
  for (desc, lists) in groups {
    for ranks in lists {
      configs.append(#"{"pg_name": "\#(configs.count)", "pg_desc": "\#(desc)", "ranks": \#(ranks)}"#)
    }
  }
  for r in 0..<world {
    let info =
      #"{"backend": "nccl", "rank": \#(r), "world_size": \#(world), "pg_config": [\#(configs.joined(separator: ","))]}"#
    let kernel = #"{"ph": "X", "cat": "kernel", "name": "sgemm", "pid": 0, "tid": 7, "ts": 0, "dur": 10}"#
    try #"{"distributedInfo": \#(info), "traceEvents": [\#(kernel)]}"#
      .write(toFile: dir + "/rank\(r).json", atomically: true, encoding: .utf8)
  }
  return try Ingest.run(paths: [dir]).graph
}

/// Megatron's rank order (tp innermost, then cp, dp, pp): the groups of one dimension.
private func megatronGroups(tp: Int, cp: Int, dp: Int, pp: Int) -> [String: [[Int]]] {
  let world = tp * cp * dp * pp
  func groups(stride: Int, size: Int) -> [[Int]] {
    var seen = Set<Int>()
    var out: [[Int]] = []
    for r in 0..<world where !seen.contains(r) {
      let g = (0..<size).map { r + $0 * stride }
      seen.formUnion(g)
      out.append(g)
    }
    return out
  }
  return [
    "tp": groups(stride: 1, size: tp), "cp": groups(stride: tp, size: cp), "dp": groups(stride: tp * cp, size: dp),
    "pp": groups(stride: tp * cp * dp, size: pp),
  ]
}

private func detect(_ path: String) throws -> LayoutDetection {
  LayoutDetection.detect(try Ingest.run(paths: [path]).graph)
}

@Suite struct LayoutDetectionTests {
  @Test func dlrmIsDataParallelOverItsEightRanks() throws {
    let d = try detect(TestPaths.dlrm)
    #expect(d.layout == ParallelLayout(dp: 8))
    #expect(d.worldSize == 8 && d.worldSizeSource == "distributedInfo.world_size")
    #expect(d.evidence == [.init(dimension: "dp", degree: 8, source: "world size 8 over TP·PP·CP = 1")])
  }

  @Test func glooDDPIsDataParallel() throws {
    let d = try detect(TestPaths.packageRoot + "/Traces/kineto-cpu/ddp-gloo-4rank")
    #expect(d.layout == ParallelLayout(dp: 4))
  }

  /// The captured 1F1B pipeline: c10d::send/recv_ pairs between ranks 0 and 1, one pg.
  @Test func sendRecvPairsMakeAPipeline() throws {
    let d = try detect(TestPaths.packageRoot + "/Traces/kineto-cpu/pipeline-1f1b")
    #expect(d.layout == ParallelLayout(pp: 2))
    #expect(
      d.evidence.last == .init(dimension: "pp", degree: 2, source: "send/recv pairs between ranks 0→1 (24 pairs)"))
  }

  @Test func megatronTP8IsTensorParallel() throws {
    let d = try detect(TestPaths.megatron)
    #expect(d.layout == ParallelLayout(tp: 8))
    #expect(
      d.evidence.contains { $0.dimension == "tp" && $0.source.hasPrefix("pg_config 'TENSOR_MODEL_PARALLEL_GROUP'") })
  }

  @Test func oneRankWithoutDistributedInfoIsAllOnes() throws {
    let d = try detect(TestPaths.packageRoot + "/Traces/public/mi250-minitoy")
    #expect(d.layout == ParallelLayout() && d.worldSize == 1 && d.summary == "dp=1,tp=1,pp=1,cp=1 (one rank)")
  }

  /// The synthetic TP=2 × DP=2 run: from Megatron's pg_config descriptions, and without them
  /// from the collectives' groups (consecutive TP pairs, strided DP pairs), with or without the
  /// ranks listed in the collectives' args.
  @Test(arguments: [(true, true), (true, false), (false, true), (false, false)])
  func tensorTimesDataParallel(describe: Bool, ranks: Bool) throws {
    let d = LayoutDetection.detect(try tpDPRun(describe: describe, ranks: ranks))
    #expect(d.layout == ParallelLayout(dp: 2, tp: 2), "\(d.evidence)")
    let sources = d.evidence.map(\.source)
    if describe {
      #expect(
        sources == [
          "pg_config 'DATA_PARALLEL_GROUP' (ranks 0,2, 2 groups)",
          "pg_config 'TENSOR_MODEL_PARALLEL_GROUP' (ranks 0,1, 2 groups)",
        ])
    } else {
      #expect(
        sources == [
          "collectives on strided group '3' (ranks 0,2) and 1 more",
          "collectives on consecutive group '1' (ranks 0,1) and 1 more",
        ])
    }
  }

  /// Megatron-Core's descriptions for every dimension, DP given as DATA_PARALLEL_GROUP_WITH_CP
  /// (DP·CP) or directly, and their `_GLOO` twins.
  @Test func megatronDescriptionsGiveEveryDegree() throws {
    let g = megatronGroups(tp: 2, cp: 2, dp: 3, pp: 2)
    let cpdp = megatronGroups(tp: 2, cp: 6, dp: 1, pp: 2)["cp"]!
    let withCP = try describedRun(
      world: 24,
      [
        ("TENSOR_MODEL_PARALLEL_GROUP", g["tp"]!), ("CONTEXT_PARALLEL_GROUP", g["cp"]!),
        ("PIPELINE_MODEL_PARALLEL_GROUP", g["pp"]!), ("DATA_PARALLEL_GROUP_WITH_CP", cpdp),
      ])
    let d = LayoutDetection.detect(withCP)
    #expect(d.layout == ParallelLayout(dp: 3, tp: 2, pp: 2, cp: 2), "\(d.evidence)")
    #expect(
      d.evidence.first?.source == "pg_config 'DATA_PARALLEL_GROUP_WITH_CP' (ranks 0,2,4,6,8,10, 4 groups) over CP = 2")
    let direct = try describedRun(
      world: 24,
      [
        ("TENSOR_MODEL_PARALLEL_GROUP", g["tp"]!), ("CONTEXT_PARALLEL_GROUP_GLOO", g["cp"]!),
        ("PIPELINE_MODEL_PARALLEL_GROUP", g["pp"]!), ("DATA_PARALLEL_GROUP_GLOO", g["dp"]!),
        ("EMBEDDING_GROUP", [[0, 12]]),
      ])
    #expect(LayoutDetection.detect(direct).layout == ParallelLayout(dp: 3, tp: 2, pp: 2, cp: 2))
  }

  /// PyTorch DeviceMesh names its groups `mesh_<dim>` (torchtitan: dp_replicate × dp_shard, tp).
  @Test func deviceMeshDescriptionsGiveEveryDegree() throws {
    let g = megatronGroups(tp: 2, cp: 2, dp: 2, pp: 1)
    let run = try describedRun(
      world: 8, [("mesh_tp", g["tp"]!), ("mesh_dp_shard", g["cp"]!), ("mesh_dp_replicate", g["dp"]!)])
    let d = LayoutDetection.detect(run)
    #expect(d.layout == ParallelLayout(dp: 4, tp: 2), "\(d.evidence)")
    #expect(d.evidence.first?.source.contains("'mesh_dp_replicate'") == true)
    #expect(d.evidence.first?.source.contains("'mesh_dp_shard'") == true)
  }

  /// Degrees that do not multiply to the world are reported, and the layout falls back to DP.
  @Test func contradictionsFallBackToDataParallel() throws {
    let three = try describedRun(world: 8, [("TENSOR_MODEL_PARALLEL_GROUP", [[0, 1, 2], [3, 4, 5]])])
    let d = LayoutDetection.detect(three)
    #expect(d.layout == ParallelLayout(dp: 8))
    #expect(
      d.evidence.last?.source
        == "contradiction: TP·PP·CP = 3 does not divide the world size 8; falling back to dp = world")
    let tooMany = try describedRun(
      world: 4, [("TENSOR_MODEL_PARALLEL_GROUP", [[0, 1], [2, 3]]), ("DATA_PARALLEL_GROUP", [[0, 1, 2, 3]])])
    let e = LayoutDetection.detect(tooMany)
    #expect(e.layout == ParallelLayout(dp: 4))
    #expect(e.evidence.last?.source.contains("DP·TP·PP·CP = 8 is not the world size 4") == true)
  }

  /// `--recorded` replaces the detection when it multiplies to the world size, and is a usage
  /// error naming both numbers when it does not.
  @Test func recordedOverridesOrIsRefused() throws {
    let g = try Ingest.run(paths: [TestPaths.dlrm]).graph
    let r = try LayoutDetection.resolve(graph: g, recorded: ParallelLayout(dp: 2, tp: 4))
    #expect(r.layout == ParallelLayout(dp: 2, tp: 4))
    #expect(r.evidence.map(\.source).allSatisfy { $0 == "--recorded (the trace suggests dp=8,tp=1,pp=1,cp=1)" })
    #expect(try LayoutDetection.resolve(graph: g, recorded: nil) == LayoutDetection.detect(g))
    #expect(
      throws: LayoutError(
        message:
          "--recorded dp=2,tp=2,pp=1,cp=1: dp·tp·pp·cp = 4, but the trace's world size is 8 (distributedInfo.world_size)"
      )
    ) { try LayoutDetection.resolve(graph: g, recorded: ParallelLayout(dp: 2, tp: 2)) }
  }
}

/// Every Kineto file of the trace corpus, and its multi-rank sets: the detection never fails
/// and its layout multiplies to the world size.
private let corpusInputs: [String] = {
  guard let root = TestPaths.corpus else { return [] }
  let files = TestPaths.jsonFiles(under: root).filter { path in
    (try? Ingest.detectFormat(path))?.name == KinetoImporter.descriptor.name
      && !path.hasSuffix("capture_traces/execution_details.json")
  }
  return files.sorted() + [
    root + "/param/et_replay/tests/inputs/dlrm_kineto.tar.gz.d/dlrm_kineto", root + "/hta/tests/data/trace_filter",
  ]
}()

@Test(.needsCorpus) func corpusHasInputsForLayoutDetection() {
  #expect(corpusInputs.count >= 60)
}

@Test(.needsCorpus, arguments: corpusInputs)
func everyCorpusTraceHasALayoutOfItsWorldSize(path: String) throws {
  let d = LayoutDetection.detect(try Ingest.run(paths: [path]).graph)
  #expect(d.layout.worldSize == d.worldSize, "\(path): \(d.summary) \(d.evidence)")
  #expect(d.worldSize >= 1 && !d.evidence.isEmpty)
}

/// Which descriptions name a dimension: exact Megatron / DeviceMesh names, not groups that merely
/// contain one (`TENSOR_AND_DATA_PARALLEL_GROUP` spans two dimensions).
@Test func descriptionsNameTheirDimensionExactly() {
  let cases: [(String, String?)] = [
    ("TENSOR_MODEL_PARALLEL_GROUP", "tp"), ("tensor_model_parallel_group", "tp"), ("DATA_PARALLEL_GROUP_GLOO", "dp"),
    ("DATA_PARALLEL_GROUP_WITH_CP", "dp_cp"), ("CONTEXT_PARALLEL_GROUP", "cp"), ("PIPELINE_MODEL_PARALLEL_GROUP", "pp"),
    ("mesh_tp", "tp"), ("mesh_dp_shard", "dp_shard"), ("mesh_dp_replicate", "dp_replicate"), ("mesh_dp_cp", "dp_cp"),
    ("TENSOR_AND_DATA_PARALLEL_GROUP", nil), ("EMBEDDING_GROUP", nil), ("MODEL_PARALLEL_GROUP", nil),
    ("default_pg", nil), ("mesh_default", nil), ("mesh_dim_0", nil), ("", nil),
  ]
  for (d, want) in cases { #expect(LayoutDetection.dimension(ofDescription: d) == want, "\(d)") }
}

/// The captured GPT validation set (`Traces/kineto-cpu/gpt-parallel`, tools/capture_parallel.py):
/// each layout is detected as captured, from its pg_config description (the single process: one rank).
@Test(arguments: [
  ("single", ParallelLayout(), "one rank"),
  ("dp2", ParallelLayout(dp: 2), "pg_config 'DATA_PARALLEL_GROUP' (ranks 0,1)"),
  ("tp2", ParallelLayout(tp: 2), "pg_config 'TENSOR_MODEL_PARALLEL_GROUP' (ranks 0,1)"),
  ("pp2-gpipe", ParallelLayout(pp: 2), "pg_config 'PIPELINE_MODEL_PARALLEL_GROUP' (ranks 0,1)"),
  ("pp2-1f1b", ParallelLayout(pp: 2), "pg_config 'PIPELINE_MODEL_PARALLEL_GROUP' (ranks 0,1)"),
])
func gptParallelLayoutsAreDetectedAsCaptured(name: String, captured: ParallelLayout, source: String) throws {
  let d = try detect(TestPaths.packageRoot + "/Traces/kineto-cpu/gpt-parallel/" + name)
  #expect(d.layout == captured, "\(name): \(d.evidence)")
  #expect(d.evidence.map(\.source).contains(source), "\(name): \(d.evidence)")
}
