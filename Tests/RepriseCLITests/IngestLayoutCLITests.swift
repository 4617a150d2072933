import Foundation
import TestSupport
import Testing

/// `reprise ingest` prints the layout the run was recorded with, with its evidence, in the
/// summary and as the `layout` object of `reprise.ingest/v1`.
@Test func ingestPrintsTheDetectedLayout() throws {
  let text = try reprise("ingest", "Traces/kineto-cpu/pipeline-1f1b")
  #expect(text.status == 0, "\(text.stderr)")
  #expect(text.stdout.contains("  layout        dp=1,tp=1,pp=2,cp=1 (world size 2 from distributedInfo.world_size)\n"))
  #expect(text.stdout.contains("                pp=2: send/recv pairs between ranks 0→1 (24 pairs)\n"))
  let json = try reprise("ingest", "Traces/generated/megatron-tp8", "--json")
  #expect(json.status == 0, "\(json.stderr)")
  let obj = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
  let layout = try #require(obj["layout"] as? [String: Any])
  #expect(
    layout["dp"] as? Int == 1 && layout["tp"] as? Int == 8 && layout["pp"] as? Int == 1 && layout["cp"] as? Int == 1)
  #expect(layout["worldSize"] as? Int == 8 && layout["worldSizeSource"] as? String == "distributedInfo.world_size")
  let evidence = try #require(layout["evidence"] as? [[String: Any]])
  #expect(evidence.map { $0["dimension"] as? String } == ["dp", "tp"])
  #expect(evidence.last?["source"] as? String == "pg_config 'TENSOR_MODEL_PARALLEL_GROUP' (ranks 0,1,2,3,4,5,6,7)")
}

/// `--recorded` replaces the detected layout when it multiplies to the world size; otherwise,
/// or when it does not parse, it is a usage error (64) in one line.
@Test func ingestTakesARecordedLayoutThatFitsTheWorld() throws {
  let ok = try reprise("ingest", "Traces/public/dlrm-8rank", "--recorded", "dp=4,tp=2")
  #expect(ok.status == 0, "\(ok.stderr)")
  #expect(ok.stdout.contains("  layout        dp=4,tp=2,pp=1,cp=1 (world size 8 from distributedInfo.world_size)\n"))
  #expect(ok.stdout.contains("tp=2: --recorded (the trace suggests dp=8,tp=1,pp=1,cp=1)"))
  let wrong = try reprise("ingest", "Traces/public/dlrm-8rank", "--recorded", "dp=2,tp=2,pp=1")
  #expect(wrong.status == 64 && wrong.stdout.isEmpty)
  #expect(
    wrong.stderr
      == "reprise: --recorded dp=2,tp=2,pp=1,cp=1: dp·tp·pp·cp = 4, but the trace's world size is 8 (distributedInfo.world_size)\n"
  )
  let bad = try reprise("ingest", "Traces/public/dlrm-8rank", "--recorded", "dp=two")
  #expect(bad.status == 64)
  #expect(bad.stderr == "reprise: --recorded dp=two: dp expects a whole number from 1 to 1048576, found 'two'\n")
}

/// `whatif --parallel` starts from the detected layout: the Megatron TP=8 set is recorded as
/// tp=8 (its pg_config), so `--parallel tp=8` is the baseline, not a TP change from dp=8 that
/// the shapes cannot support; a `--recorded` that does not fit the world exits 64.
@Test func whatIfParallelStartsFromTheDetectedLayout() throws {
  let r = try reprise("whatif", "Traces/generated/megatron-tp8", "--parallel", "tp=8")
  #expect(r.status == 0, "\(r.stderr)")
  #expect(
    r.stdout.contains(
      "recorded:  dp=1 tp=8 pp=1 cp=1 (8 ranks), 1 micro-batch(es) of 1, global batch 1 [dp=1: world size 8 over "
        + "TP·PP·CP = 8; tp=8: pg_config 'TENSOR_MODEL_PARALLEL_GROUP' (ranks 0,1,2,3,4,5,6,7)]"))
  #expect(r.stdout.contains("(+0.0%)") && r.stdout.contains("note: the recorded layout: the baseline"))
  let wrong = try reprise("whatif", "Traces/kineto-cpu/pipeline-1f1b", "--parallel", "pp=2", "--recorded", "dp=4")
  #expect(wrong.status == 64)
  #expect(
    wrong.stderr
      == "reprise: --recorded dp=4,tp=1,pp=1,cp=1: dp·tp·pp·cp = 4, but the trace's world size is 2 (distributedInfo.world_size)\n"
  )
}

/// The captured TP=2 GPT (`gpt-parallel/tp2`) is recorded as tp=2 from its pg_config, so
/// `--parallel tp=2` is its baseline (it was read as dp=2 and predicted as a layout change).
@Test func capturedTensorParallelRunIsItsOwnBaseline() throws {
  let r = try reprise("whatif", "Traces/kineto-cpu/gpt-parallel/tp2", "--parallel", "tp=2")
  #expect(r.status == 0, "\(r.stderr)")
  #expect(r.stdout.contains("recorded:  dp=1 tp=2 pp=1 cp=1 (2 ranks)"))
  #expect(r.stdout.contains("tp=2: pg_config 'TENSOR_MODEL_PARALLEL_GROUP' (ranks 0,1)]"))
  #expect(r.stdout.contains("note: the recorded layout: the baseline"))
}
