import Analysis
import Foundation
import Rendering
import TestSupport
import Testing
import TraceImport
import TraceModel

@testable import Reports

// Issue 16: the report is a summary; the full interval and segment lists go out only on request
// (`--detail`) and in the CSV files, streamed row by row.

private func tempPath(_ name: String) -> String {
  FileManager.default.temporaryDirectory.appendingPathComponent("reprise-detail-\(UUID().uuidString)-\(name)").path
}

private func read(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

@Test(arguments: [TestPaths.dlrm, TestPaths.bundledTraces + "/ddp-4rank"])
func summaryReportAggregatesTheFullLists(path: String) throws {
  let report = try RunReport(try Ingest.run(paths: [path]), inputs: [path])
  let json = try report.json()
  let doc = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
  #expect(doc["schema"] as? String == "reprise.report/v2")
  let bubbles = try #require(doc["bubbles"] as? [String: Any])
  let pathSection = try #require(doc["criticalPath"] as? [String: Any])
  #expect(bubbles["intervals"] == nil && pathSection["segments"] == nil)
  for key in ["intervalCount", "byCause", "byLane", "longest"] { #expect(bubbles[key] != nil, "\(key)") }
  for key in ["segmentCount", "byOp", "longestSegments"] { #expect(pathSection[key] != nil, "\(key)") }

  let intervals = report.detail.intervals
  let b = report.bubbles
  #expect(!intervals.isEmpty && b.intervalCount == intervals.count && report.detail.intervalCount == intervals.count)
  let total = intervals.reduce(Nanoseconds.zero) { $0 + $1.durationNs }
  #expect(b.byCause.reduce(Nanoseconds.zero) { $0 + $1.durationNs } == total)
  #expect(b.byCause.reduce(0) { $0 + $1.intervals } == intervals.count)
  #expect(b.byCause.map(\.cause) == BubbleAnalysis.Cause.allCases.map(\.rawValue))
  #expect(b.byLane.reduce(Nanoseconds.zero) { $0 + $1.durationNs } == total)
  #expect(b.byLane.reduce(0) { $0 + $1.intervals } == intervals.count)
  #expect(
    b.byLane.map { [$0.rank, $0.lane] }
      == b.byLane.map { [$0.rank, $0.lane] }.sorted { $0.lexicographicallyPrecedes($1) })
  for row in b.byLane {
    let mine = intervals.filter { $0.rank == row.rank && $0.lane == row.lane && $0.cause == row.cause }
    #expect(mine.count == row.intervals && mine.map(\.durationNs).max() == row.maxNs)
  }
  // The longest: the head of the full list in the documented order.
  let byLength = intervals.sorted {
    ($1.durationNs, $0.rank, $0.lane, $0.startNs) < ($0.durationNs, $1.rank, $1.lane, $1.startNs)
  }
  #expect(b.longest == Array(byLength.prefix(RunReport.topIntervals)))
  #expect(b.longest.count == min(intervals.count, RunReport.topIntervals))

  let segments = report.detail.segments
  let cp = report.criticalPath
  #expect(!segments.isEmpty && cp.segmentCount == segments.count)
  let bySegment = segments.sorted {
    ($1.durationNs, $0.startNs, $0.rank, $0.lane) < ($0.durationNs, $1.startNs, $1.rank, $1.lane)
  }
  #expect(cp.longestSegments == Array(bySegment.prefix(RunReport.topIntervals)))
  var ops: [String: (Int, Nanoseconds)] = [:]
  for s in segments {
    let key = [s.event ?? "wait", s.kind, s.category].joined(separator: "\u{0}")
    ops[key] = ((ops[key]?.0 ?? 0) + 1, (ops[key]?.1 ?? .zero) + s.durationNs)
  }
  #expect(cp.byOp.count == min(ops.count, RunReport.topIntervals))
  #expect(cp.byOp.map(\.durationNs) == cp.byOp.map(\.durationNs).sorted(by: >))
  for row in cp.byOp {
    let want = ops[[row.name, row.kind, row.category].joined(separator: "\u{0}")]
    #expect(want?.0 == row.segments && want?.1 == row.durationNs, "\(row.name)")
  }
  if ops.count <= RunReport.topIntervals {
    #expect(cp.byOp.reduce(Nanoseconds.zero) { $0 + $1.durationNs } == cp.lengthNs)
  }

  let instances = report.detail.instanceRows
  let bw = report.bandwidth
  #expect(!instances.isEmpty && bw.instanceCount == instances.count)
  #expect(bw.byGroup.reduce(0) { $0 + $1.instances } == instances.count)
  #expect(bw.byGroup.reduce(Bytes.zero) { $0 + $1.bytes } == instances.reduce(Bytes.zero) { $0 + $1.bytes })
  #expect(
    bw.byGroup.reduce(Nanoseconds.zero) { $0 + $1.durationNs }
      == instances.reduce(Nanoseconds.zero) { $0 + $1.durationNs })
  #expect(
    bw.byGroup.map { [$0.kind, $0.group] }
      == bw.byGroup.map { [$0.kind, $0.group] }.sorted { $0.lexicographicallyPrecedes($1) })
  let byDuration = instances.sorted {
    ($1.durationNs, $0.startNs, $0.kind, $0.group, $0.sequence)
      < ($0.durationNs, $1.startNs, $1.kind, $1.group, $1.sequence)
  }
  #expect(bw.longest == Array(byDuration.prefix(RunReport.topIntervals)))
}

/// `--detail` streams the lists into the document: byte for byte what encoding the document
/// with the lists in it gives; the CSV files hold every row, streamed, as the in-memory tables.
@Test(arguments: [TestPaths.dlrm, TestPaths.bundledTraces + "/pipeline-2rank"])
func detailedReportAndCSVHoldTheFullLists(path: String) throws {
  let report = try RunReport(try Ingest.run(paths: [path]), inputs: [path])
  var full = report
  full.bubbles.intervals = report.detail.intervals
  full.criticalPath.segments = report.detail.segments
  full.bandwidth.instances = report.detail.instanceRows
  let file = tempPath("detail.json")
  defer { try? FileManager.default.removeItem(atPath: file) }
  try report.writeJSON(to: file, detail: true)
  #expect(try read(file) == (try full.json()) + "\n")
  try report.writeJSON(to: file)
  #expect(try read(file) == (try report.json()) + "\n")

  let dir = tempPath("csv")
  defer { try? FileManager.default.removeItem(atPath: dir) }
  let written = try report.writeCSV(to: dir)
  let tables = try report.tables()
  #expect(written.map { ($0 as NSString).lastPathComponent } == tables.map { $0.name + ".csv" })
  for table in tables { #expect(try read(dir + "/" + table.name + ".csv") == table.csv(), "\(table.name)") }
  let bubbles = try #require(tables.first { $0.name == "bubbles" })
  #expect(bubbles.rows.count == report.bubbles.intervalCount)
  #expect(tables.first { $0.name == "critical_path" }?.rows.count == report.criticalPath.segmentCount)
  #expect(tables.first { $0.name == "bandwidth" }?.rows.count == report.bandwidth.instanceCount)
  for name in ["bubble_lanes", "bubble_causes", "critical_path_ops"] { #expect(tables.contains { $0.name == name }) }
}

/// The hand-written rows write what `Codable` writes: the same values per column, the same
/// JSON bytes (escapes included) and the same CSV fields.
@Test func streamedRowsMatchTheirCodableEncoding() throws {
  let names = [
    "plain", "quote \" back \\ slash /", "ctl \u{0}\u{1}\u{8}\u{9}\u{a}\u{c}\u{d}\u{1b}\u{1f}", "é ü 中 \u{7f}\u{2028}",
    "a,b",
  ]
  var bubbles: [RunReport.BubbleRow] = []
  var segments: [RunReport.CriticalPathRow] = []
  for (i, name) in names.enumerated() {
    let b = try JSONSerialization.data(withJSONObject: [
      "rank": i, "lane": i - 1, "laneName": name, "startNs": -5 + i, "durationNs": 2_147_483_647 * i,
      "cause": "sync", "nextEvent": i % 2 == 0 ? name as Any : NSNull(),
    ])
    bubbles.append(try JSONDecoder().decode(RunReport.BubbleRow.self, from: b))
    let s = try JSONSerialization.data(withJSONObject: [
      "rank": i, "lane": i, "laneName": name, "event": i % 2 == 0 ? NSNull() : name as Any, "kind": "wait",
      "startNs": i, "durationNs": 7, "category": "host", "heldBy": i % 2 == 0 ? name as Any : NSNull(),
      "heldByKind": i % 2 == 0 ? "hostOp" as Any : NSNull(),
    ])
    segments.append(try JSONDecoder().decode(RunReport.CriticalPathRow.self, from: s))
  }
  try expectStreamed(bubbles)
  try expectStreamed(segments)
  let reals: [Any] = [0.0, 1.5, 1e-7, 123_456_789.123_456_7, 3e20, -0.25, 2.0 / 3.0]
  let instances = try reals.enumerated().map { i, real in
    try JSONDecoder().decode(
      RunReport.BandwidthRow.self,
      from: try JSONSerialization.data(withJSONObject: [
        "kind": "allReduce", "group": names[i % names.count], "sequence": i, "ranks": 8, "membersPresent": 8,
        "bytes": 1 << 20, "startNs": 10, "durationNs": 5, "transferNs": 4, "algBandwidthGBps": real,
        "busBandwidthGBps": real, "peakPct": i % 2 == 0 ? real : NSNull(), "lastRank": 3, "arrivalSpreadNs": 1,
        "matched": i % 2 == 0,
      ]))
  }
  try expectStreamed(instances)
  var infinite = instances[0]
  infinite.busBandwidthGBps = .infinity
  infinite.algBandwidthGBps = -.infinity
  try expectStreamed([infinite])
  try expectStreamed([RunReport.BubbleRow]())
}

private func expectStreamed<Row: StreamableRow & Equatable>(_ rows: [Row]) throws {
  let encoder = JSONDocumentEncoder()
  for row in rows {
    guard case .object(let members) = try encoder.encode(row) else { throw RunError.data("not an object") }
    #expect(Row.CodingKeys.allCases.map { members[$0.rawValue] ?? .int(-999) } == row.columnValues)
  }
  #expect(Row.csvColumns == Row.CodingKeys.allCases.map(\.rawValue))
  // The array as the value of a key on a line indented by 4, as in the report.
  let whole = try encoder.encodedText(["section": ["list": rows]])
  let head = "{\n  \"section\": {\n    \"list\": "
  let tail = "\n  }\n}"
  #expect(whole.hasPrefix(head) && whole.hasSuffix(tail))
  let expected = String(whole.dropFirst(head.count).dropLast(tail.count))
  let file = tempPath("rows")
  defer { try? FileManager.default.removeItem(atPath: file) }
  try StreamedOutput.write(to: file) { try $0.appendJSONArray(Row.self, indent: 4, forEach: rows.forEach) }
  #expect(try read(file) == expected)
  try StreamedOutput.write(to: file) { try $0.appendCSV(Row.self, forEach: rows.forEach) }
  #expect(try read(file) == (try CSVTable("t", rows)).csv())
}

/// Writing through a symbolic link replaces the file it points to, whole: a short output after
/// a long one leaves only the short one (not the long one's tail).
@Test func streamedOutputThroughASymlinkReplacesTheTarget() throws {
  let dir = NSTemporaryDirectory() + "reprise-symlink-\(getpid())"
  try? FileManager.default.removeItem(atPath: dir)
  try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(atPath: dir) }
  let real = dir + "/real.json"
  let link = dir + "/out.json"
  try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: real)
  try StreamedOutput.write(to: link) { try $0.append(String(repeating: "long ", count: 1000)) }
  try StreamedOutput.write(to: link) { try $0.append("short") }
  #expect(try String(contentsOfFile: real, encoding: .utf8) == "short")
  #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: link)) == real)
}
