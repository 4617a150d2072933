import Analysis
import Foundation
import Rendering
import Reports
import Testing
import TraceModel

private struct Sample: Codable, Equatable {
  var name: String
  var count: Int
  var ratio: Double
  var span: Nanoseconds
  var size: Bytes
  var step: Int?
  @NullWhenAbsent var hardware: String?
  var nested: [String: [Int]]
}

@Test func codableValuesEncodeToTheSameJSONAsBefore() throws {
  let value = Sample(
    name: "a\"b", count: 3, ratio: 0.5, span: Nanoseconds(1_500), size: Bytes(4096), step: nil, hardware: nil,
    nested: ["z": [1, 2], "a": []])
  let json = try JSONDocumentEncoder().encode(value).encoded(pretty: false)
  // Keys sorted, integers stay integers (units too), reals keep a decimal point, absent optionals
  // are left out unless @NullWhenAbsent.
  #expect(
    json
      == #"{"count":3,"hardware":null,"name":"a\"b","nested":{"a":[],"z":[1,2]},"ratio":0.5,"size":4096,"span":1500}"#)
  let back = try JSONDecoder().decode(Sample.self, from: Data(json.utf8))
  #expect(back == value)
  // Non-finite reals become null rather than invalid JSON.
  #expect(try JSONDocumentEncoder().encode([Double.nan, 1]).encoded(pretty: false) == "[null,1.0]")
  // The direct text path (no intermediate document) writes the same bytes.
  for pretty in [false, true] {
    #expect(
      try JSONDocumentEncoder().encodedText(value, pretty: pretty)
        == JSONDocumentEncoder().encode(value).encoded(pretty: pretty))
  }
  #expect(try JSONDocumentEncoder().encodedText([Sample]()) == "[]")
}

@Test func csvTablesFollowTheCodingKeyOrder() throws {
  let json = #"""
    [{"key": "kernel:gemm, fused", "baselineNs": 100, "predictedNs": 50, "deltaNs": -50, "deltaPct": -50, "count": 2},
     {"count": 1, "deltaPct": null, "deltaNs": 0, "predictedNs": 0, "baselineNs": 0, "key": "memset"}]
    """#
  let rows = try JSONDecoder().decode([RunReport.WhatIfClassRow].self, from: Data(json.utf8))
  let table = try CSVTable("whatif_classes", rows)
  #expect(
    table.csv()
      == "key,baselineNs,predictedNs,deltaNs,deltaPct,count\n\"kernel:gemm, fused\",100,50,-50,-50,2\nmemset,0,0,0,,1\n"
  )
}

/// Every idle cause the analysis knows has its column in `bubbles_by_rank.csv`, and the summary
/// table keeps exactly the scalar columns.
@Test func tableColumnsCoverTheAnalysesTheyFlatten() {
  let columns = Set(RunReport.BubbleRankRow.CodingKeys.allCases.map(\.rawValue))
  for cause in BubbleAnalysis.Cause.allCases {
    #expect(columns.contains(cause.rawValue + "Ns"), "no column for idle cause \(cause.rawValue)")
  }
  #expect(
    RunReport.SummaryRow.csvColumns == [
      "ranks", "lanes", "events", "steps", "measuredStepNs", "replayedStepNs", "jobStepNs", "replayedJobStepNs",
      "jobWindowNs", "collectiveInstances", "unmatchedCollectives", "criticalPathNs", "stragglers", "errors",
      "warnings", "hardware",
    ])
}

/// Issue 12, bug 9: negative numbers after a long option become its value, nothing else moves.
@Test func negativeNumbersAreAttachedToTheirOption() {
  let a = CommandLineArguments.attachingNegativeValues
  #expect(a(["--width", "-5", "-o", "x.svg"]) == ["--width=-5", "-o", "x.svg"])
  #expect(
    a(["--forward", "-1ms", "--flops", "-2e12", "--x", "-.5"]) == ["--forward=-1ms", "--flops=-2e12", "--x=-.5"])
  #expect(
    a(["--json", "-v", "--set", "comm.scale=-1", "-o", "-5"]) == ["--json", "-v", "--set", "comm.scale=-1", "-o", "-5"])
  #expect(a(["--width=-5", "--", "--width", "-5"]) == ["--width=-5", "--", "--width", "-5"])
  #expect(a(["--step", "-", "--top", "-x1"]) == ["--step", "-", "--top", "-x1"])
}
