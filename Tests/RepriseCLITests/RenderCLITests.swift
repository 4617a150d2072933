import Foundation
import TestSupport
import Testing

#if canImport(FoundationXML)
  import FoundationXML
#endif

private let ddp = TestPaths.bundledTraces + "/ddp-4rank"
private let pipeline = TestPaths.bundledTraces + "/pipeline-2rank"
private let cpu = TestPaths.packageRoot + "/Traces/kineto-cpu/pipeline-1f1b"

private func tempDir(_ tag: String) -> String {
  let d = FileManager.default.temporaryDirectory.appendingPathComponent("reprise-\(tag)-\(UUID().uuidString)").path
  try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
  return d
}

/// Whether `data` is well-formed XML (Foundation's parser; it rejects control characters and
/// undefined entities as any XML reader must).
private func isWellFormedXML(_ data: Data) -> (ok: Bool, error: String) {
  let parser = XMLParser(data: data)
  let ok = parser.parse()
  return (ok, parser.parserError.map { "\($0)" } ?? "")
}

/// Bytes that are control characters other than newline (and tab, which text tables may use).
private func controlBytes(_ data: Data) -> [UInt8] {
  data.filter { ($0 < 0x20 && $0 != 0x0A && $0 != 0x09) || $0 == 0x7F }
}

/// The pipeline-2rank sample with control characters in a kernel's name (no longer a gemm by
/// name, so the classifier notes it), a stream's name and a host op's name, written as the
/// JSON escapes `\u0000`, `\u0007`, `\u001b` (valid JSON), plus `&#27;` and `&foo;`, which
/// Graphviz would read as entities.
private func controlCharacterTrace() throws -> String {
  let dir = tempDir("ctl")
  let evil = #"\u0007bell\u001b[31mred\u0000 &#27; &foo; <b> \"q\" \\l"#
  for r in 0..<2 {
    var text = try String(contentsOfFile: pipeline + "/rank\(r).pt.trace.json", encoding: .utf8)
    text = text.replacingOccurrences(
      of:
        "sm90_xmma_gemm_bf16bf16_bf16f32_f32_tn_n_tilesize128x128x64_warpgroupsize1x1x1_execute_segment_k_off_kernel__5x_cublas",
      with: evil)
    text = text.replacingOccurrences(of: "\"stream 7 \"", with: #""stream\u0000 7\u001b[2J""#)
    text = text.replacingOccurrences(of: "## forward stage0 ##", with: #"fwd\u0000\u0007\u001b"#)
    text = text.replacingOccurrences(of: "NVIDIA H100 80GB HBM3", with: #"NVIDIA H100 80GB HBM3\u001b[31m\u0000"#)
    try text.write(toFile: dir + "/rank\(r).pt.trace.json", atomically: true, encoding: .utf8)
  }
  return dir
}

/// Issue 12, bug 6: names with `\u0000`, `\u0007`, `\u001b` made invalid DOT (Graphviz's raw
/// parser error on stderr, exit 65 for the critical path and the topology) and SVGs that are not
/// well-formed XML; CSV cells and text carried the raw bytes. Every renderer and every text and
/// CSV output now escapes them.
@Test func controlCharactersInNamesAreEscapedEverywhere() throws {
  let trace = try controlCharacterTrace()
  let out = tempDir("ctl-out")
  defer {
    try? FileManager.default.removeItem(atPath: trace)
    try? FileManager.default.removeItem(atPath: out)
  }
  for kind in ["timeline", "graph", "critical-path", "topology"] {
    for ext in ["dot", "svg", "png"] {
      let file = out + "/\(kind).\(ext)"
      let r = try reprise("render", kind, trace, "-o", file)
      #expect(r.status == 0 && !r.stderr.contains("syntax error"), "\(kind).\(ext): \(r.stderr)")
      guard let data = FileManager.default.contents(atPath: file) else {
        Issue.record("\(kind).\(ext) was not written")
        continue
      }
      if ext == "svg" {
        let xml = isWellFormedXML(data)
        #expect(xml.ok, "\(kind).svg is not well-formed XML: \(xml.error)")
        #expect(controlBytes(data).isEmpty, "\(kind).svg")
      }
      if ext == "dot" { #expect(controlBytes(data).isEmpty, "\(kind).dot") }
    }
  }
  // The escaped name is what the diagrams show.
  let timeline = (try? String(contentsOfFile: out + "/timeline.svg", encoding: .utf8)) ?? ""
  #expect(timeline.contains("\\u0007bell\\u001b[31mred\\u0000"))
  let report = try reprise("report", trace, "-o", out + "/r.json", "--csv", out + "/csv")
  #expect(report.status == 0, "\(report.stderr)")
  for file in try FileManager.default.contentsOfDirectory(atPath: out + "/csv") {
    let data = try #require(FileManager.default.contents(atPath: out + "/csv/" + file))
    #expect(controlBytes(data).isEmpty, "\(file)")
  }
  let critical = try String(contentsOfFile: out + "/csv/critical_path.csv", encoding: .utf8)
  #expect(critical.contains("\\u0007bell"))
  for args in [
    ["ingest", "-v"], ["breakdown"], ["bandwidth"], ["replay"], ["whatif", "--set", "compute.scale=2"], ["report"],
    ["model", "roofline"], ["diff", pipeline],
  ] {
    let r = try runProcess(TestPaths.reprise, args + [trace], cwd: TestPaths.packageRoot)
    #expect(controlBytes(Data((r.stdout + r.stderr).utf8)).isEmpty, "\(args): \(r.stdout) \(r.stderr)")
  }
  let notes = try reprise("ingest", "-v", trace)
  #expect(notes.stderr.contains("\\u0007bell\\u001b[31mred\\u0000"), "\(notes.stderr)")
}

/// Issue 12, bug 9: `render graph|critical-path --step N` ignored --step.
@Test func graphAndCriticalPathDrawTheStepAsked() throws {
  let dir = tempDir("step")
  defer { try? FileManager.default.removeItem(atPath: dir) }
  for kind in ["graph", "critical-path"] {
    var dots: [String] = []
    for step in ["3", "4"] {
      let file = dir + "/\(kind)-\(step).dot"
      let r = try reprise("render", kind, ddp, "--step", step, "-o", file)
      #expect(r.status == 0, "\(r.stderr)")
      let dot = try String(contentsOfFile: file, encoding: .utf8)
      #expect(dot.contains("step \(step)"), "\(kind) --step \(step)")
      dots.append(dot)
    }
    #expect(dots[0] != dots[1], "\(kind): steps 3 and 4 draw the same")
    let missing = try reprise("render", kind, ddp, "--step", "99", "-o", dir + "/x.dot")
    #expect(missing.status == 64 && missing.stderr.contains("no such profiler step"), "\(missing.stderr)")
  }
  // The graph counts the step's events only.
  let all = try String(contentsOfFile: dir + "/graph-3.dot", encoding: .utf8)
  #expect(all.contains("events of step 3"))
  #expect(try reprise("render", "topology", ddp, "--step", "3", "-o", dir + "/t.dot").status == 64)
}

/// Issue 12, bug 10: `render timeline` on a CPU-only (gloo) capture exited 65; it draws the host
/// threads as the lanes and says so.
@Test func cpuOnlyTimelineDrawsHostThreads() throws {
  let dir = tempDir("cpu")
  defer { try? FileManager.default.removeItem(atPath: dir) }
  let r = try reprise("render", "timeline", cpu, "-o", dir + "/t.svg")
  #expect(r.status == 0, "\(r.stderr)")
  let svg = try #require(FileManager.default.contents(atPath: dir + "/t.svg"))
  #expect(isWellFormedXML(svg).ok)
  let text = String(decoding: svg, as: UTF8.self).replacingOccurrences(of: "&#45;", with: "-")
  #expect(text.contains("CPU-only trace: host threads drawn as the lanes"))
  #expect(text.contains("rank 0 thread") && text.contains("rank 1 thread"))
  #expect(text.contains("aten::") && text.contains("cpu op"), "tooltips name the CPU ops")
  #expect(text.contains("critical path"))
}
