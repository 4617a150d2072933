import Foundation
import Replay
import Reports
import TestSupport
import Testing
import TraceImport
import TraceModel

/// The table of docs/replay.md (Interval): on every multi-step trace at hand, does the identity
/// interval contain every measured step's baseline replay, every measured step, and (leave one
/// step out) the held-out step? Prints the table; `REPRISE_INTERVAL_TABLE=FILE` also writes it.
/// Nothing here depends on timing: every number is a replay of recorded durations.

/// Corpus traces with two or more `ProfilerStep#N` annotations, by their public origin (a folder:
/// its files as the ranks of one run).
private let corpusMultiStep = [
  "hta/tests/data/trace_diff/control/control.json.gz",
  "hta/tests/data/trace_diff/test/test.json.gz",
  "hta/tests/data/ns_resolution_trace/rank-0.Apr_03_18_51_38.1102.pt.trace.json.gz",
  "hta/tests/data/df_index_resolver/df_index_resolver.json.gz",
  "hta/tests/data/negative_queue_length_values_check/rank0.json.gz",
  "hta/tests/data/nccl_parser_config/nccl_data.json.gz",
  "hta/tests/data/trace_filter",
  "hta/tests/data/trace_filter/sampled_rank-0.json.gz",
  "hta/tests/data/trace_filter/sampled_rank-1.json.gz",
  "hta/tests/data/timeline_analysis/sampled_rank-0.json.gz",
  "hta/tests/data/trace_compare/base/base.json.gz",
  "hta/tests/data/trace_compare/test/test.json.gz",
  "kineto/tb_plugin/samples/resnet50_num_workers_0/worker0.pt.trace.json.gz",
  "kineto/tb_plugin/samples/resnet50_num_workers_0/worker0.1623143089861.pt.trace.json.gz",
  "tracelens/tests/traces/mi300/resnet_act_checkpoint.json.gz",
]

/// One row per multi-step run; runs with fewer than two steps or that cannot be ingested are
/// named in `skipped` with the reason.
private func coverage(_ inputs: [(name: String, path: String)]) -> (rows: [IntervalCoverage], skipped: [String]) {
  var rows: [IntervalCoverage] = []
  var skipped: [String] = []
  for (name, path) in inputs {
    do {
      let run = try WhatIfRun(graph: try Ingest.run(paths: [path]).graph, scenario: nil)
      if let row = IntervalCoverage(name: name, run: run) {
        rows.append(row)
      } else {
        skipped.append("\(name): \(run.measuredSpans.jobs.count) step")
      }
    } catch {
      skipped.append("\(name): \(error)")
    }
  }
  return (rows, skipped)
}

private func report(_ rows: [IntervalCoverage], _ skipped: [String]) {
  let table = IntervalCoverage.table(rows) + "\n\nnot multi-step or not replayable: " + skipped.joined(separator: "; ")
  print(table)
  if let path = ProcessInfo.processInfo.environment["REPRISE_INTERVAL_TABLE"] {
    try? (table + "\n").write(toFile: path, atomically: true, encoding: .utf8)
  }
}

/// The bundled sets always; the corpus's multi-step traces too when it is present (said on
/// stdout when it is not).
@Test func identityIntervalCoverageOnEveryMultiStepTrace() {
  var inputs = bundledSets.map { ("Traces/" + $0, TestPaths.packageRoot + "/Traces/" + $0) }
  if let corpus = TestPaths.corpus {
    inputs += corpusMultiStep.map { ($0, corpus + "/" + $0) }
  } else {
    print("interval coverage: bundled traces only; " + TestPaths.corpusMissing)
  }
  let (rows, skipped) = coverage(inputs)
  report(rows, skipped)
  #expect(
    rows.count >= (TestPaths.hasCorpus ? 20 : 7), "multi-step traces replayed: \(rows.count); skipped: \(skipped)")
  checkInvariants(rows)
}

/// What holds by construction: the interval contains every step's baseline replay, and each
/// held-out step's baseline lies inside whenever it lies between the other steps' baselines.
private func checkInvariants(_ rows: [IntervalCoverage]) {
  for r in rows {
    #expect(r.containsEveryBaselineStep, "\(r.name): \(r.interval)")
    #expect(r.interval.low <= r.interval.high)
    #expect(r.heldOutBaselineInside <= r.steps && r.heldOutMeasuredInside <= r.steps)
    #expect(r.heldOutBaselineInside >= r.steps - 2, "\(r.name): only the extreme steps can fall outside")
  }
}
