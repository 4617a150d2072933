import Analysis
import CostModels
import Foundation
import Parallel
import Rendering
import Replay
import Schedules
import TraceImport
import TraceModel

extension Demo {
  /// Everything on the main set: summary, breakdown, bandwidth, identity replay, the what-ifs,
  /// roofline, the report with CSV, the Perfetto timeline and the four diagrams.
  func mainJob(_ result: IngestResult, seconds: Double, set: String, warnings: [String], log: (String) -> Void)
    throws
  {
    let g = result.graph
    let dir = traces + "/" + set
    log("== \(set): \(result.files.count) file(s) in \(dir) — the main job")
    warnings.forEach(log)
    let ingest = IngestSummary(result)
    log(ingest.text(seconds: seconds))
    var written = [try write(try ingest.json(), "ingest.json")]
    let measured = Timeline(measured: g)
    // The report's window (profiler steps when the trace has them), so the printed breakdown,
    // breakdown.json, report.json and breakdown.csv agree.
    let window: TemporalBreakdown.Window = g.steps.isEmpty ? .deviceSpan : .steps
    let breakdown = BreakdownReport(TemporalBreakdown(g, timeline: measured, window: window))
    log("\n" + breakdown.text())
    written.append(try write(try breakdown.json(), "breakdown.json"))
    let bandwidth = BandwidthReport(BandwidthAnalysis(g, timeline: measured), StragglerAnalysis(g, timeline: measured))
    log("\n" + bandwidth.text())
    written.append(try write(try bandwidth.json(), "bandwidth.json"))
    let replay = try WhatIfRun(graph: g, scenario: nil)
    log("\n" + replay.text() + "\n  " + replay.timingText)
    written.append(try write(try replay.summary.json(), "replay.json"))
    for knobs in whatIfs { log(try replay.with(try Scenario.parse(knobs)).headline()) }
    for name in networkWhatIfs {
      let scenario = try Scenario(cluster: try specs.cluster(name)).configuringModels(
        graph: g, hardware: nil, from: nil, hostScale: nil, ranksPerNode: nil, specs: specs)
      let run = try replay.with(scenario)
      log(([run.headline()] + (run.networkSection?.lines.map { "  " + $0 } ?? [])).joined(separator: "\n"))
    }
    let hardware = try specs.detectHardware(g)
    if let hardware {
      let roofline = RooflineReport(g, hardware: hardware)
      log("\n" + roofline.summaryLines().joined(separator: "\n"))
      written.append(try write(try roofline.json(), "roofline.json"))
    }
    let options = RunReport.Options(scenario: try Scenario.parse(whatIfs.first ?? []), hardware: hardware)
    let report = try RunReport(result, inputs: [dir], options: options)
    written.append(try write(try report.json(), "report.json"))
    let csv = try report.writeCSV(to: output)
    try replay.writeTimeline(to: output + "/timeline.json")
    written.append(output + "/timeline.json")
    for kind in TraceDiagram.Kind.allCases { written.append(try draw(kind, g, measured, to: kind.rawValue + ".svg")) }
    log("\n" + criticalPathLine(report))
    log("  wrote " + written.joined(separator: ", ") + " and \(csv.count) CSV tables in \(output)/")
    log(
      "  report.json holds the what-if \((whatIfs.first ?? []).joined(separator: " ")); open timeline.json in "
        + "https://ui.perfetto.dev\n")
  }

  /// The main set written as shards (`reprise shard`, docs/scale-out.md) into `shards/` and read
  /// back: their size against the traces', and the linked graph they give, which must be the
  /// traces' own.
  /// - Throws: `RunError.data` when the shards give another graph or other diagnostics.
  func shards(of result: IngestResult, log: (String) -> Void) throws {
    let dir = output + "/shards"
    let summary = try ShardSummary.write(paths: [traces + "/" + main], to: dir)
    let started = Date()
    let back = try Ingest.run(paths: [dir])
    let ms = Date().timeIntervalSince(started) * 1e3
    guard back.graph == result.graph, back.diagnostics == result.diagnostics else {
      throw RunError.data("\(dir): the shards of \(main) give another graph than its traces")
    }
    log("== shards: \(main) written as \(summary.shards.count) shards (reprise shard) and read back")
    let totals = summary.text().split(separator: "\n").last.map(String.init) ?? ""
    log(
      "  \(totals); read back in " + String(format: "%.0f ms", ms) + ": the same \(back.graph.eventCount) events, "
        + "\(back.graph.edgeCount) edges and diagnostics as the traces")
    log("  wrote \(dir)/rank-*.rshard: every command reads the directory as it reads the traces\n")
  }

  /// Every other set: the summary line, the identity replay, the report, the timeline diagram,
  /// the roofline when the device is known and, for a pipeline, a schedule swap.
  func shortJob(_ result: IngestResult, set: String, warnings: [String], log: (String) -> Void) throws {
    let g = result.graph
    let dir = traces + "/" + set
    // kineto-cpu/ddp-gloo-4rank → ddp-gloo-4rank; kineto-cpu/gpt-parallel/dp2 → gpt-parallel-dp2
    let name = set.split(separator: "/").dropFirst().joined(separator: "-")
    log("== \(set): \(result.files.count) file(s), \(g.ranks.count) rank(s), \(g.eventCount) events")
    warnings.forEach(log)
    let replay = try WhatIfRun(graph: g, scenario: nil)
    log(replay.text().split(separator: "\n").last.map(String.init) ?? "")
    var written = [try write(try IngestSummary(result).json(), name + ".ingest.json")]
    written.append(try write(try replay.summary.json(), name + ".replay.json"))
    let hardware = try specs.detectHardware(g)
    if let hardware, g.kind.contains(.kernel) {
      let roofline = RooflineReport(g, hardware: hardware)
      log(roofline.summaryLines().joined(separator: "\n"))
      written.append(try write(try roofline.json(), name + ".roofline.json"))
    }
    let report = try RunReport(result, inputs: [dir], options: .init(hardware: hardware))
    written.append(try write(try report.json(), name + ".report.json"))
    if let profile = try? PipelineProfile.analyze(g) {
      let target = profile.detectedSchedule == "gpipe" ? "1f1b" : "gpipe"
      let swap = try ScheduleSwap(g, target: target, chunks: 2)
      log(
        "  recorded as \(profile.detectedSchedule); "
          + (swap.text().split(separator: "\n").last.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""))
    }
    written.append(try draw(.timeline, g, Timeline(measured: g), to: name + ".timeline.svg"))
    log("  wrote " + written.joined(separator: ", ") + "\n")
  }

  /// The pipeline schedules side by side on one set of costs, and the ZB-H1 diagram.
  func schedules(log: (String) -> Void) throws {
    let costs = PipelineCosts(
      stages: 4, forward: Nanoseconds(18_500_000), backward: Nanoseconds(18_100_000), weight: Nanoseconds(9_300_000),
      comm: Nanoseconds(600_000), memB: Bytes(1 << 30), memW: Bytes(1 << 29))
    log("== pipeline schedules (p=4, m=8, T_F 18.5 ms, T_B 18.1 ms, T_W 9.3 ms, p2p 0.6 ms)")
    for name in ScheduleGenerators.names {
      let r = try ScheduleSimulator.simulate(name, stages: 4, microbatches: 8, costs: costs)
      log(
        "  " + name.padded(18)
          + String(
            format: "makespan %8.1f ms   bubble rate %.4f   peak activation %.2f GiB", r.makespan.milliseconds,
            r.bubbleRate, (r.peakActivation.max() ?? .zero).gibibytes))
      if name == "zb-h1" {
        for format in [Graphviz.Format.svg, .png] {
          let file = output + "/schedule-zb-h1." + format.rawValue
          try OutputFile.write(
            try Graphviz.render(ScheduleRenderer.diagram(r).dot(), format: format, engine: "nop"), to: file)
        }
      }
    }
    log("  wrote \(output)/schedule-zb-h1.svg, \(output)/schedule-zb-h1.png")
  }

  /// The report's critical path in one line (the analysis is not run again).
  private func criticalPathLine(_ report: RunReport) -> String {
    let cp = report.criticalPath
    var ranks = Set<Int>()
    report.detail.forEachSegment { ranks.insert($0.rank) }
    let shares = CriticalPath.Category.allCases.map {
      String(
        format: "%@ %.1f%%", $0.rawValue,
        100 * ((cp.byCategoryNs[$0.rawValue] ?? .zero) / max(cp.lengthNs, Nanoseconds(1))))
    }
    let top = cp.waitsByHolder.first.map { w in
      String(
        format: "; longest %@ wait held by %@ on rank %d: %.3f ms", w.category, w.heldBy ?? "nothing named", w.rank,
        w.durationNs.milliseconds)
    }
    return String(
      format: "critical path of job step%@ (%.3f ms, first rank's entry to last work): %d rank(s), %d hop(s): ",
      cp.step.map { " \($0)" } ?? " (whole trace)", cp.lengthNs.milliseconds, ranks.count,
      cp.rankChanges) + shares.joined(separator: ", ") + (top ?? "")
  }
}

extension Demo {
  /// The hardware-transfer pair: each trace predicted on the other's GPU and checked against the
  /// other's measurement (`whatif A --hardware NAME --compare B`); skipped when a half is missing.
  func transfers(log: (String) -> Void) throws {
    guard let pair = transferPair, (try? Ingest.expand([traces + "/" + pair.0, traces + "/" + pair.1])) != nil else {
      return
    }
    let graphs = try [pair.0, pair.1].map { try Ingest.run(paths: [traces + "/" + $0]).graph }
    log("== hardware transfer: \(pair.0) ⇄ \(pair.1), each predicted on the other's GPU")
    var written: [String] = []
    for (a, b) in [(0, 1), (1, 0)] {
      guard let target = try specs.detectHardware(graphs[b]) else { continue }
      let scenario = try Scenario().configuringModels(
        graph: graphs[a], hardware: target.name, from: nil, hostScale: nil, ranksPerNode: nil, specs: specs)
      let check = try TransferCheck(
        try WhatIfRun(graph: graphs[a], scenario: scenario, specs: specs), measuredOnTarget: graphs[b])
      log(check.text().split(separator: "\n").first.map { "  " + $0 } ?? "")
      let name = ([pair.0, pair.1][a].split(separator: "/").last.map(String.init) ?? "") + ".on-" + target.name
      written.append(try write(try check.json(), name + ".transfercheck.json"))
    }
    log("  wrote " + written.joined(separator: ", ") + "\n")
  }
}

extension Demo {
  /// The layout predictions: `parallelSet`'s single-process run predicted in each recorded
  /// layout (`whatif single --parallel …`) beside that layout's own run; skipped when the set or
  /// its specs are missing.
  func layouts(log: (String) -> Void) throws {
    guard let set = parallelSet else { return }
    let dir = traces + "/" + set
    let files = ["single", "gpt-tiny.json", "cpu-calibrated.json", "cpu-gloo-loopback.json"].map { dir + "/" + $0 }
    guard files.allSatisfy({ FileManager.default.fileExists(atPath: $0) }) else { return }
    let graph = try Ingest.run(paths: [files[0]]).graph
    let study = try ParallelStudy(
      graph: graph, trace: set + "/single", recorded: nil, model: files[1], hardware: files[2], from: nil,
      cluster: files[3], specs: specs)
    log("== layouts: \(set)/single predicted in the other layouts (whatif --parallel)")
    var written: [String] = []
    let targets: [(String, ParallelLayout, ParallelOptions)] = [
      ("dp2", ParallelLayout(dp: 2), ParallelOptions()), ("tp2", ParallelLayout(tp: 2), ParallelOptions()),
      ("pp2-1f1b", ParallelLayout(pp: 2), ParallelOptions(schedule: "1f1b", microbatches: 4)),
    ]
    for (name, layout, options) in targets where FileManager.default.fileExists(atPath: dir + "/" + name) {
      let doc = try ParallelWhatIf(study, target: layout, options: options)
      let own = try WhatIfRun(graph: try Ingest.run(paths: [dir + "/" + name]).graph, scenario: nil, specs: specs)
      let (p, m) = (Double(doc.stepNs.predicted.rawValue) / 1e6, Double(own.baselineStep.rawValue) / 1e6)
      log(String(format: "  %@: predicted %.1f ms, its own run %.1f ms (%+.1f%%)", name, p, m, (p - m) / m * 100))
      written.append(try write(try doc.json(), "gpt-parallel-single.as-\(name).parallel.json"))
    }
    log("  wrote " + written.joined(separator: ", ") + "\n")
  }
}

extension Demo {
  /// The serving predictions: `servingSet`'s batch-1, 512-token capture read by `reprise serve`
  /// and predicted at the other captured batch and prompt sizes beside their own traces;
  /// skipped when the set or its specs are missing.
  func serving(log: (String) -> Void) throws {
    guard let set = servingSet else { return }
    let dir = traces + "/" + set
    let source = dir + "/b1-p512"
    let (model, hardware) = (dir + "/llama-tiny.json", traces + "/" + (parallelSet ?? "") + "/cpu-calibrated.json")
    guard [source, model, hardware].allSatisfy({ FileManager.default.fileExists(atPath: $0) }) else { return }
    let graph = try Ingest.run(paths: [source]).graph
    func serve(_ g: EventGraph, _ knobs: [String]) throws -> ServeReport {
      try ServeReport(
        graph: g, trace: set + "/b1-p512", request: ServeRequest(model: model, hardware: hardware, knobs: knobs),
        specs: specs)
    }
    log("== serving: \(set)/b1-p512 (serve), predicted at other batch and prompt sizes (serve --set)")
    let base = try serve(graph, [])
    var written = [try write(try base.json(), "serving-llama-b1-p512.serve.json")]
    written.append(try write(base.text() + "\n", "serving-llama-b1-p512.serve.txt"))
    for (b, p) in [(4, 512), (1, 2048), (4, 1024)] where FileManager.default.fileExists(atPath: dir + "/b\(b)-p\(p)") {
      let doc = try serve(graph, ["serve.batch=\(b)", "serve.context=\(p)"])
      let own = try serve(try Ingest.run(paths: [dir + "/b\(b)-p\(p)"]).graph, [])
      func ms(_ v: Nanoseconds?) -> Double { Double(v?.rawValue ?? 0) / 1e6 }
      let (tp, tm) = (ms(doc.predicted.ttftNs), ms(own.measured.ttftNs))
      let (dp, dm) = (ms(doc.predicted.tpotNs), ms(own.measured.tpotNs))
      log(
        String(
          format:
            "  b%d-p%d: TTFT predicted %.1f ms, its own trace %.1f ms (%+.1f%%); TPOT %.2f ms vs %.2f ms (%+.1f%%)",
          b, p, tp, tm, (tp - tm) / tm * 100, dp, dm, (dp - dm) / dm * 100))
      written.append(try write(try doc.json(), "serving-llama-b1-p512.as-b\(b)-p\(p).serve.json"))
    }
    log("  wrote " + written.joined(separator: ", ") + "\n")
  }
}
