import Foundation
import Rendering
import Schedules
import TraceModel

/// A simulated pipeline schedule (`reprise schedule`, schema `reprise.schedule/v1`): makespan,
/// bubble rate and fraction, per-stage busy/idle time and peak activation memory, PipeOffload.
public struct ScheduleReport: JSONContract, Equatable {
  public static let schemaName = "reprise.schedule"
  public static let schemaVersion = 1

  public struct Stage: Codable, Sendable, Equatable {
    public var stage: Int
    public var busyNs: Nanoseconds
    public var idleNs: Nanoseconds
    public var peakActivationBytes: Bytes
    public var peakInFlightMicrobatches: Int
  }

  public struct Offload: Codable, Sendable, Equatable {
    public var ratio: Double
    public var pcieBytesPerSecond: Double
    public var savedBytes: [Bytes]
    public var addedNs: [Nanoseconds]
    public var peakActivationBytesAfter: [Bytes]
  }

  public private(set) var schema = Self.schema
  public var schedule: String
  public var stages: Int
  public var microbatches: Int
  public var chunks: Int
  public var makespanNs: Nanoseconds
  public var bubbleRate: Double
  public var bubbleFraction: Double
  public var perStage: [Stage]
  public var offload: Offload?

  public init(_ r: ScheduleResult) {
    schedule = r.name
    stages = r.stages
    microbatches = r.microbatches
    chunks = r.chunks
    makespanNs = r.makespan
    bubbleRate = r.bubbleRate
    bubbleFraction = r.bubbleFraction
    perStage = (0..<r.stages).map { s in
      Stage(
        stage: s, busyNs: r.busy[s], idleNs: r.idle[s], peakActivationBytes: r.peakActivation[s],
        peakInFlightMicrobatches: r.peakInFlight[s])
    }
    offload = r.offload.map {
      Offload(
        ratio: $0.ratio, pcieBytesPerSecond: $0.pcieBandwidth.rawValue, savedBytes: $0.saved, addedNs: $0.added,
        peakActivationBytesAfter: $0.peakActivationAfter)
    }
  }

  /// The per-stage table `reprise schedule NAME` prints.
  public func text() -> String {
    var lines = [
      "\(schedule): p=\(stages), m=\(microbatches)\(chunks > 1 ? ", v=\(chunks)" : "")",
      String(
        format: "  makespan %.3f ms, bubble rate %.4f (Zero Bubble), bubble fraction %.4f (Megatron)",
        makespanNs.milliseconds, bubbleRate, bubbleFraction),
      "  stage   busy ms    idle ms   peak activation   in-flight",
    ]
    for s in perStage {
      lines.append(
        String(
          format: "  %5d  %8.3f  %8.3f  %13.3f GiB  %9d", s.stage, s.busyNs.milliseconds, s.idleNs.milliseconds,
          s.peakActivationBytes.gibibytes, s.peakInFlightMicrobatches))
    }
    if let o = offload {
      lines.append(String(format: "  PipeOffload %.2f over %.0f GB/s:", o.ratio, o.pcieBytesPerSecond / 1e9))
      for s in perStage {
        lines.append(
          String(
            format: "    stage %d: peak %.3f → %.3f GiB (saves %.3f GiB), adds %.3f ms", s.stage,
            s.peakActivationBytes.gibibytes, o.peakActivationBytesAfter[s.stage].gibibytes,
            o.savedBytes[s.stage].gibibytes, o.addedNs[s.stage].milliseconds))
      }
    }
    return lines.joined(separator: "\n")
  }

  /// Every schedule that fits the costs, simulated side by side (`reprise schedule compare`):
  /// interleaved 1F1B and ZeroPP need m divisible by p, BitPipe an even p; `interleaved-1f1b`,
  /// `zeropp` and `hanayo` run with `chunks` (nil: `ScheduleGenerators.defaultChunks`, as `reprise schedule` does).
  /// - Throws: `ScheduleError` when a schedule cannot be simulated or `chunks` is not valid for
  ///   `interleaved-1f1b` (fewer than 2).
  public static func compare(stages p: Int, microbatches m: Int, chunks: Int?, costs: PipelineCosts) throws
    -> [ScheduleReport]
  {
    var out: [ScheduleReport] = []
    for name in ScheduleGenerators.names {
      let v = try ScheduleGenerators.chunks(name, requested: chunks)
      if (name == "interleaved-1f1b" || name == "zeropp") && m % p != 0 { continue }
      if name == "bitpipe" && p % 2 != 0 { continue }
      out.append(
        ScheduleReport(try ScheduleSimulator.simulate(name, stages: p, microbatches: m, chunks: v, costs: costs)))
    }
    return out
  }

  /// The side-by-side table of `compare`.
  public static func comparisonText(_ reports: [ScheduleReport]) -> String {
    // The label column is as wide as the longest label (never cut: `interleaved-1f1b v=2`).
    let labels = reports.map { $0.schedule + ($0.chunks > 1 ? " v=\($0.chunks)" : "") }
    let width = max(labels.map(\.count).max() ?? 0, "schedule".count)
    var lines = ["schedule".padded(width) + "  makespan ms   bubble rate   peak activation (max over stages)"]
    for (r, label) in zip(reports, labels) {
      let peak = r.perStage.map(\.peakActivationBytes).max() ?? .zero
      lines.append(
        label.padded(width)
          + String(format: "  %11.3f   %11.4f   %13.3f GiB", r.makespanNs.milliseconds, r.bubbleRate, peak.gibibytes))
    }
    return lines.joined(separator: "\n")
  }
}

/// A recorded pipeline-parallel run re-timed under another schedule (`reprise whatif
/// --schedule`): the per-stage forward/backward profile of the trace goes through the schedule
/// simulator; everything outside the pipeline is kept as measured.
public struct ScheduleSwap: Sendable {
  public let profile: PipelineProfile
  public let target: String
  public let source: ScheduleResult
  public let predicted: ScheduleResult
  public let predictedStep: Nanoseconds
  public let events: Int
  /// The recorded run.
  public let graph: EventGraph

  /// Re-times `graph` under schedule `target`, with `chunks` per stage for `interleaved-1f1b`
  /// and `hanayo` (nil: `ScheduleGenerators.defaultChunks`).
  /// - Throws: `ScheduleError` (a usage error) when `target` cannot take `chunks`; `RunError.data`
  ///   when the trace is not a pipeline or the schedule cannot run on it.
  public init(_ graph: EventGraph, target: String, chunks: Int? = nil) throws {
    _ = try ScheduleGenerators.chunks(target, requested: chunks)
    do {
      profile = try PipelineProfile.analyze(graph)
      let p = try profile.predict(target, chunks: chunks)
      (source, predicted, predictedStep) = (p.source, p.target, p.predictedStep)
    } catch let e as PipelineProfile.Failure {
      throw RunError.data(e.description)
    } catch let e as ScheduleError {
      throw RunError.data(e.description)
    }
    self.target = target
    self.graph = graph
    events = graph.eventCount
  }

  /// Writes the timelines as Chrome-trace JSON (Perfetto), three process groups: `measured` (the
  /// recorded run, with its bubbles and critical path), `simulated <recorded schedule>` and
  /// `predicted <target>` (the pipeline under each schedule from the recorded per-stage costs,
  /// one process per stage, starting where the recorded run's first profiler step starts).
  /// - Throws: `ChromeTraceWriter.WriteError` when the file cannot be written.
  public func writeTimeline(to path: String) throws {
    let origin = graph.steps.map(\.start).min() ?? .zero
    func simulated(_ label: String, _ r: ScheduleResult) -> ChromeTraceWriter.Group {
      let g = r.eventGraph()
      let t = Timeline(measured: g)
      return ChromeTraceWriter.Group(
        label, graph: g, timeline: Timeline(start: t.start.map { $0 + origin }, end: t.end.map { $0 + origin }))
    }
    let measured = Timeline(measured: graph)
    try ChromeTraceWriter.write(
      [
        ChromeTraceWriter.Group(
          "measured", graph: graph, timeline: measured, annotations: WhatIfRun.annotations(graph, measured)),
        simulated("simulated \(profile.detectedSchedule)", source),
        simulated("predicted \(target)", predicted),
      ], to: path)
  }

  /// Measured over predicted step.
  public var speedup: Double { predictedStep > .zero ? profile.measuredStep / predictedStep : 0 }

  /// Whether the target schedule runs the weight-gradient pass W on its own (Zero Bubble's
  /// schedules), so the fused backward of the trace had to be split.
  public var splitsWeight: Bool { predicted.ops.contains { $0.contains { $0.op.kind == .W } } }

  /// How W was found, when the target needs it: the trace's backward is fused, so W is unknown
  /// and taken as a share of it.
  public var weightNote: String? {
    guard splitsWeight else { return nil }
    let pct = Int((PipelineProfile.fusedWeightFraction * 100).rounded())
    return "W unknown: the recorded backward is fused (B and W in one pass, no separate weight-gradient op); "
      + "split as W = \(pct)% of it, B = the rest (Zero Bubble's T_B = T_W)"
  }

  /// The `reprise.replay/v1` document, with the pipeline profile.
  public var summary: ReplaySummary {
    ReplaySummary(
      stepNs: .init(
        measured: profile.measuredStep, baseline: profile.measuredStep, predicted: predictedStep, interval: interval),
      events: events, schedule: target,
      speedup: (speedup * 10000).rounded() / 10000,
      pipeline: .init(
        stages: profile.stages, microbatches: profile.microbatches, detectedSchedule: profile.detectedSchedule,
        forwardNs: profile.forward, backwardNs: profile.backward, sourceMakespanNs: source.makespan,
        targetMakespanNs: predicted.makespan,
        weight: weightNote.map { note in
          .init(
            known: false, fraction: PipelineProfile.fusedWeightFraction, inputNs: profile.splitBackward.input,
            weightNs: profile.splitBackward.weight, note: note)
        }), fidelity: fidelity)
  }

  public func text() -> String {
    var lines = [
      "pipeline: \(profile.stages) stages, \(profile.microbatches) micro-batches, recorded as \(profile.detectedSchedule)"
    ]
    for s in 0..<profile.stages {
      lines.append(
        String(
          format: "  stage %d: forward %.3f ms, backward %.3f ms per micro-batch", s, profile.forward[s].milliseconds,
          profile.backward[s].milliseconds))
    }
    if let note = weightNote {
      let (input, weight) = profile.splitBackward
      lines.append("  " + note + ":")
      for s in 0..<profile.stages {
        lines.append(
          String(format: "    stage %d: B %.3f ms, W %.3f ms", s, input[s].milliseconds, weight[s].milliseconds))
      }
    }
    lines.append(
      String(
        format: "  simulated %@ %.3f ms → %@ %.3f ms", profile.detectedSchedule, source.makespan.milliseconds, target,
        predicted.makespan.milliseconds))
    lines.append(
      String(
        format: "  job step: measured %.3f ms, predicted under %@ %.3f ms ", profile.measuredStep.milliseconds, target,
        predictedStep.milliseconds) + WhatIfRun.range(interval) + String(format: ", speedup %.3fx", speedup))
    lines.append(fidelity.line)
    return lines.joined(separator: "\n")
  }
}
