import Foundation
import TestSupport
import Testing
import TraceModel

@testable import TraceImport

private func inputs(_ rel: String) throws -> String {
  try #require(TestPaths.corpus) + "/param/et_replay/tests/inputs/" + rel
}

/// A directory holding links to the given files (to ingest ET and Kineto files of one run together).
private func linkDir(_ files: [String]) throws -> String {
  let dir = FileManager.default.temporaryDirectory.appendingPathComponent("reprise-et-\(UUID().uuidString)").path
  try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
  for f in files {
    try FileManager.default.createSymbolicLink(
      atPath: dir + "/" + (f as NSString).lastPathComponent, withDestinationPath: f)
  }
  return dir
}

/// DLRM, 8 ranks: each rank's ET (schema 1.0.1) and Kineto trace come from one capture; at least
/// 99 % of the ET ops match a Kineto op and every kernel in the linked window gets its parent op.
@Test(.needsCorpus) func dlrmExecutionTracesLinkWithTheirKinetoRanks() throws {
  let kineto = try inputs("dlrm_kineto.tar.gz.d/dlrm_kineto")
  let et = try inputs("dlrm_pytorch_et.tar.gz.d/dlrm_pytorch_et")
  let files = try Ingest.expand([kineto, et])
  let dir = try linkDir(files)
  defer { try? FileManager.default.removeItem(atPath: dir) }
  let r = try Ingest.run(paths: [dir])
  #expect(r.graph.ranks.count == 8 && r.etLinks.count == 8 && r.diagnostics.count(of: .error) == 0)
  #expect(r.link.matchedInstances == 8)
  checkAccounts(r, "DLRM ET + Kineto")
  #expect(r.account.dropped[.etLinked, default: 0] >= 8 * 1655)
  for l in r.etLinks {
    #expect(l.etOps == 1672 && l.opFraction >= 0.99 && l.kernels > 250 && l.kernelFraction == 1, "rank \(l.rank): \(l)")
    #expect(l.dataEdges > 1500)
  }
  #expect(r.graph.validate().isEmpty)
}

/// The single-rank pairs: linear (1.0.1) and HTA's simple_add (1.0.1) link completely; the ResNet
/// pair was captured by two different processes (ET pid 1734239 in 2024, Kineto pid 23442), so
/// only the ops both runs share line up.
@Test(.needsCorpus) func singleRankPairsLink() throws {
  let linear = try Ingest.run(paths: [try inputs("linear_et.json.gz"), try inputs("linear_kineto.json.gz")])
  let l = try #require(linear.etLinks.first)
  checkAccounts(linear, "linear ET + Kineto")
  #expect(l.etOps == 928 && l.matchedOps == 928 && l.kernels == 261 && l.kernelsWithParent == 261, "\(l)")
  let hta = try #require(TestPaths.corpus) + "/hta/tests/data/execution_trace"
  let add = try #require(try Ingest.run(paths: [hta]).etLinks.first)
  #expect(add.opFraction == 1 && add.kernelFraction == 1, "\(add)")
  let resnet = try Ingest.run(paths: [try inputs("resnet_et.json.gz"), try inputs("resnet_kineto.json.gz")])
  let rl = try #require(resnet.etLinks.first)
  checkAccounts(resnet, "ResNet ET + Kineto")
  #expect(rl.opFraction > 0.5 && rl.opFraction < 0.8, "\(rl)")
}

/// An ET with one more all_reduce than its Kineto trace (an op the profiler missed) links the
/// rest and counts the extra op, no crash.
@Test(.needsCorpus) func executionTraceMismatchesAreCounted() throws {
  let etPath = try inputs("dlrm_pytorch_et.tar.gz.d/dlrm_pytorch_et/dlrm_eg_0.json")
  var et = try ExecutionTrace.read(etPath)
  let k = try #require(et.nodes.firstIndex { $0.name == "nccl:all_reduce" })
  var extra = et.nodes[k]
  extra.id = 999_999
  et.nodes.insert(extra, at: k + 1)
  let kineto = try Ingest.run(paths: [try inputs("dlrm_kineto.tar.gz.d/dlrm_kineto")])
  var d = Diagnostics()
  let (g, s) = ETLinker.link(kineto.graph, et, file: "edited.json", rank: RankID(0), diagnostics: &d)
  #expect(s.etOps == 1673 && s.matchedOps >= 1668 && s.matchedOps < s.etOps, "\(s)")
  #expect(g.validate().isEmpty && d.items.contains { $0.code == "et.linked" })
}

@Test func malformedExecutionTraceIsAClearError() throws {
  #expect {
    try ExecutionTrace.parse(
      Array(#"{"schema": "1.0.1", "nodes": [{"id": 1, "name": "a"}, {"name": "#.utf8), file: "cut.json")
  } throws: { "\($0)".contains("cut.json:@") }
  #expect {
    try ExecutionTrace.parse(Array(#"{"schema": "1.0.1", "nodes": [{"name": "no id"}]}"#.utf8), file: "x.json")
  } throws: { "\($0)".contains("x.json") && "\($0)".contains("'id'") }
  let ok = try ExecutionTrace.parse(
    Array(
      #"{"schema": "1.1.1-chakra.0.0.4", "nodes": [{"id": 5, "name": "aten::mm", "ctrl_deps": 1, "inputs": {"values": [[3, 4, 0, 16, 4, "cuda:0"]], "shapes": [[4, 4]], "types": ["Tensor(float)"]}, "outputs": {"values": [[7, 8, 0, 16, 4, "cuda:0"]]}, "attrs": [{"name": "rf_id", "type": "uint64", "value": 12}, {"name": "tid", "type": "uint64", "value": 2}]}]}"#
        .utf8), file: "new.json")
  let n = try #require(ok.nodes.first)
  #expect(n.parent == 1 && n.rfID == 12 && n.tid == 2 && n.inputTensors == [3] && n.outputTensors == [7])
}
