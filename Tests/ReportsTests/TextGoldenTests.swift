import CostModels
import Foundation
import Replay
import Reports
import TestSupport
import Testing
import TraceImport

/// The human tables and the report's CSV files stay as `reprise` printed them before the
/// results became library values (the goldens came from that binary, run from the package root):
/// `ingest`, `replay`, `whatif` (without their first line, which times the run), `breakdown`,
/// `bandwidth`, `diff`, and `report --whatif compute.scale=0.5 --csv DIR` with the files joined
/// in name order under `== NAME.csv` headers.
@Test(arguments: ["public/dlrm-8rank", "generated/ddp-4rank", "kineto-cpu/ddp-gloo-4rank"])
func textTablesAndCSVMatchTheirGoldens(set: String) throws {
  let name = set.replacingOccurrences(of: "/", with: "_")
  let label = "Traces/" + set
  let result = try Ingest.run(paths: [TestPaths.packageRoot + "/" + label])
  let g = result.graph
  let dropFirstLine = { (text: String) in text.split(separator: "\n", omittingEmptySubsequences: false).dropFirst() }
  expectGolden(dropFirstLine(IngestSummary(result).text(seconds: 0)).joined(separator: "\n"), name + ".ingest.txt")
  expectGolden(
    dropFirstLine(try WhatIfRun(graph: g, scenario: nil).text()).joined(separator: "\n"), name + ".replay.txt")
  let half = try Scenario.parse(["compute.scale=0.5"])
  expectGolden(
    dropFirstLine(try WhatIfRun(graph: g, scenario: half).text()).joined(separator: "\n"), name + ".whatif.txt")
  expectGolden(try BreakdownReport(g, window: .deviceSpan, inputs: []).text(), name + ".breakdown.txt")
  expectGolden(try BandwidthReport(g, linkGBps: nil, inputs: []).text(), name + ".bandwidth.txt")
  let comm = try WhatIfRun(graph: g, scenario: try Scenario.parse(["comm.scale=2"]))
  expectGolden(
    DiffReport(comm, labels: ("\(label) (replayed)", "\(label) under comm.scale=2")).text(), name + ".diff.txt")

  let specs = SpecLibrary(root: TestPaths.packageRoot + "/Models")
  let options = RunReport.Options(scenario: half, hardware: try specs.detectHardware(g))
  let tables = try RunReport(result, inputs: [label], options: options).tables()
  let joined = tables.sorted { $0.name < $1.name }.map { "== \($0.name).csv\n" + $0.csv() }.joined()
  // The golden ends each file with its own newline; expectGolden adds one more.
  expectGolden(String(joined.dropLast()), name + ".report-whatif.csv")
}

/// A what-if derived from an earlier run (`with`) replays only the scenario and equals a run
/// built from scratch.
@Test func whatIfFromAnEarlierRunEqualsAFreshOne() throws {
  let g = try Ingest.run(paths: [TestPaths.dlrm]).graph
  let base = try WhatIfRun(graph: g, scenario: nil)
  for knobs in [["host.launch=2us"], ["compute.scale=0.5"]] {
    let scenario = try Scenario.parse(knobs)
    let derived = try base.with(scenario)
    let fresh = try WhatIfRun(graph: g, scenario: scenario)
    #expect(derived.summary == fresh.summary && derived.predicted == fresh.predicted)
  }
  #expect(try base.with(nil).summary == base.summary)
}
