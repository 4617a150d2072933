import Foundation
import TestSupport
import Testing

private let ddp = TestPaths.bundledTraces + "/ddp-4rank"

private func tempDir(_ tag: String) -> String {
  let d = FileManager.default.temporaryDirectory.appendingPathComponent("reprise-\(tag)-\(UUID().uuidString)").path
  try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
  return d
}

/// Renders `args` to a file in `dir` and returns its text.
private func render(_ dir: String, _ name: String, _ args: String...) throws -> String {
  let r = try reprise(["render"] + args + ["-o", dir + "/" + name])
  #expect(r.status == 0, "\(args): \(r.stderr)")
  return try String(contentsOfFile: dir + "/" + name, encoding: .utf8)
}

/// The row labels of a timeline's DOT, in order.
private func rows(_ dot: String) -> [String] {
  dot.split(separator: "\n").compactMap { line -> String? in
    guard line.hasPrefix("  \"row"), let a = line.range(of: "label=\""),
      let b = line[a.upperBound...].firstIndex(of: "\"")
    else { return nil }
    return String(line[a.upperBound..<b])
  }
}

/// Issue 12, diagrams: the timeline has a time axis with ticks, SVG tooltips naming op, duration
/// and class, work strong and idle light, and the critical path overlaid.
@Test func timelineHasAxisTooltipsIdleAndCriticalPath() throws {
  let dir = tempDir("tl")
  defer { try? FileManager.default.removeItem(atPath: dir) }
  let dot = try render(dir, "t.dot", "timeline", ddp)
  let ticks = dot.split(separator: "\n").filter { $0.contains(" label\" [label=\"") && $0.contains("\"tick") }
  #expect(ticks.count >= 5, "an axis with ticks")
  #expect(dot.contains(#"of step 3 start"#))
  // Work boxes 28 pt high with an outline, idle boxes 12 pt and pale.
  #expect(dot.contains("color=\"#333333\"") && dot.contains("height=0.39"))
  #expect(dot.contains("fontcolor=\"#666666\", fontsize=7") && dot.contains("height=0.17"))
  #expect(dot.contains("critical path, rank 2") && dot.contains("fillcolor=\"#d62728\""))
  let svg = try render(dir, "t.svg", "timeline", ddp)
  let titles = svg.components(separatedBy: "<title>").dropFirst().map { $0.prefix { $0 != "<" } }
  #expect(
    titles.contains { $0.contains("rank 0 stream 7: ") && $0.contains(" — gemm, ") && $0.contains(" ms at ") },
    "a kernel's tooltip names it, its class and duration")
  #expect(titles.contains { $0.contains("idle") && $0.contains("crossStream") })
}

/// `--ranks`, `--streams`, `--window` choose what the timeline draws; malformed values exit 64.
@Test func timelineFiltersRanksStreamsAndWindow() throws {
  let dir = tempDir("tlf")
  defer { try? FileManager.default.removeItem(atPath: dir) }
  let all = rows(try render(dir, "a.dot", "timeline", ddp))
  #expect(all.count == 8)
  let some = try render(dir, "r.dot", "timeline", ddp, "--ranks", "0-1,3")
  #expect(rows(some) == all.filter { !$0.hasPrefix("rank 2 ") } && some.contains("showing ranks 0-1, 3 of 4"))
  #expect(
    rows(try render(dir, "c.dot", "timeline", ddp, "--streams", "compute")).allSatisfy { $0.hasSuffix("stream 7") })
  #expect(rows(try render(dir, "m.dot", "timeline", ddp, "--streams", "comm")).allSatisfy { $0.hasSuffix("stream 20") })
  #expect(rows(try render(dir, "i.dot", "timeline", ddp, "--streams", "20")).count == 4)
  let window = try render(dir, "w.dot", "timeline", ddp, "--window", "2ms:5ms")
  #expect(window.contains("showing 2.000 to 5.000 ms of the step"))
  let labels = window.split(separator: "\n").filter { $0.contains("\"tick") && $0.contains(" label\"") }
  #expect(
    labels.first?.contains("label=\"2.0\"") == true && labels.last?.contains("label=\"5.0\"") == true, "\(labels)")
  for bad in [
    ["--ranks", "3-1"], ["--ranks", "a"], ["--ranks", "9"], ["--streams", "fast"], ["--streams", "99"],
    ["--window", "5ms"], ["--window", "5ms:2ms"], ["--window", "x:y"], ["--window", "30ms:"],
    ["--collapse-tolerance", "wide"],
  ] {
    let r = try reprise(["render", "timeline", ddp, "-o", dir + "/x.svg"] + bad)
    #expect(r.status == 64 && r.stderr.contains(bad[0]), "\(bad): \(r.status) \(r.stderr)")
  }
  #expect(try reprise(["render", "graph", ddp, "--ranks", "0", "-o", dir + "/g.dot"]).status == 64)
}

/// `--collapse-ranks` draws identical ranks once and says which; ranks 0, 1 and 3 of the
/// generated DDP set run the same kernels within 100 µs, rank 2 is the straggler.
@Test func timelineCollapsesIdenticalRanks() throws {
  let dir = tempDir("tlc")
  defer { try? FileManager.default.removeItem(atPath: dir) }
  let dot = try render(dir, "c.dot", "timeline", ddp, "--collapse-ranks", "--collapse-tolerance", "100us")
  #expect(rows(dot) == ["ranks 0-1, 3 stream 7", "ranks 0-1, 3 stream 20", "rank 2 stream 7", "rank 2 stream 20"])
  #expect(dot.contains("collapsed ranks 0-1, 3 drawn as rank 0 (identical: same streams"))
  let strict = try render(dir, "s.dot", "timeline", ddp, "--collapse-ranks", "--collapse-tolerance", "1us")
  #expect(rows(strict).count == 8 && strict.contains("no ranks collapsed"))
}

/// Issue 12, topology: ranks left to right in order, a utilisation legend from low to high, and
/// over 100 % flagged as a measurement problem in the drawing and as a warning.
@Test func topologyOrdersRanksHasLegendAndFlagsImpossibleUtilisation() throws {
  let dir = tempDir("topo")
  defer { try? FileManager.default.removeItem(atPath: dir) }
  // Graphviz writes "-" as "&#45;" in SVG text.
  let svg = try render(dir, "t.svg", "topology", TestPaths.dlrm).replacingOccurrences(of: "&#45;", with: "-")
  var xs: [Double] = []
  for r in 0..<8 {
    let at = try #require(svg.range(of: ">rank \(r)</text>"))
    let head = svg[..<at.lowerBound]
    let x = try #require(head.range(of: " x=\"", options: .backwards))
    xs.append(Double(head[x.upperBound...].prefix { $0 != "\"" }) ?? -1)
  }
  #expect(xs == xs.sorted() && Set(xs).count == 8, "ranks left to right in order: \(xs)")
  let bins = ["0-20%", "20-40%", "40-60%", "60-80%", "80-100%", "over 100%"].map { svg.range(of: $0)?.lowerBound }
  #expect(
    bins.allSatisfy { $0 != nil } && bins.compactMap { $0 } == bins.compactMap { $0 }.sorted(), "legend low → high")
  #expect(svg.contains("nodes unknown (no --cluster)"))
  let over = try reprise(["render", "topology", ddp, "--link-bandwidth", "100GB/s", "-o", dir + "/o.dot"])
  #expect(
    over.status == 0 && over.stderr.contains("above 100% of their peak") && over.stderr.contains("measurement problem"))
  let dot = try String(contentsOfFile: dir + "/o.dot", encoding: .utf8)
  #expect(dot.contains("180.0 of 100 GB/s (180%)\\nover peak: measurement problem") && dot.contains("#d6168b"))
}
