import Foundation
import TraceModel

extension ServeReport {
  /// Rows of the iteration table shown in text (all up to this many, else the first and last).
  static let textRows = 40

  static func ms(_ ns: Nanoseconds?) -> String {
    guard let ns else { return "-" }
    return TextFormat.fixed(Double(ns.rawValue) / 1e6, 3)
  }

  static func int(_ v: Int?) -> String { v.map(String.init) ?? "-" }

  /// Cells right-aligned in `widths` columns (the first left-aligned).
  static func row(_ cells: [String], _ widths: [Int]) -> String {
    var out = ""
    for (i, (c, w)) in zip(cells, widths).enumerated() { out += i == 0 ? c.padded(w) : c.leftPadded(w) }
    return out
  }
  static let phaseWidths = [9, 7, 8, 7, 10, 14, 14]

  /// The human-readable report.
  public func text() -> String {
    var lines: [String] = []
    let kinds = Dictionary(grouping: iterations, by: \.kind).map { "\($0.value.count) \($0.key)" }.sorted()
    lines.append("serve: \(trace)")
    lines.append(
      "  \(iterations.count) iterations (\(kinds.joined(separator: ", "))); model \(model ?? "none (--model)"), "
        + "hardware \(hardware ?? "none (--hardware)")" + (recordedHardware.map { ", recorded on \($0)" } ?? ""))
    if !knobs.isEmpty { lines.append("  what-ifs: \(knobs.joined(separator: " "))") }
    lines.append("")
    lines.append(iterationTable().joined(separator: "\n"))
    lines.append("")
    lines.append("phase      count  tokens  batch  kvLength   measured ms  predicted ms")
    if let p = prefill {
      let cells = [
        "prefill", String(p.count), String(p.tokens), String(p.batch), "-", Self.ms(p.measuredNs),
        Self.ms(p.predictedNs),
      ]
      lines.append(Self.row(cells, Self.phaseWidths))
    }
    if let d = decode {
      let cells = [
        "decode", String(d.count), "-", String(d.batch), String(d.kvLength), Self.ms(d.measuredNs),
        Self.ms(d.predictedNs),
      ]
      lines.append(Self.row(cells, Self.phaseWidths))
    }
    for o in otherPhases {
      let cells = [o.kind, String(o.count), "-", "-", "-", Self.ms(o.measuredNs), Self.ms(o.predictedNs)]
      lines.append(Self.row(cells, Self.phaseWidths))
    }
    lines.append("")
    lines.append(contentsOf: latencyLines())
    if let b = bounds { lines.append(contentsOf: Self.boundLines(b)) }
    for w in whatIfs {
      let values = w.values.sorted { $0.key < $1.key }.map { "\($0.key) \(TextFormat.compact($0.value))" }
      lines.append("\(w.knob): \(w.formula)")
      lines.append("  " + values.joined(separator: ", "))
    }
    if let c = graphCapture {
      lines.append(
        "graph capture \(c.file): \(c.capturedLaunches) captured launches, \(c.mappedKernels) of "
          + "\(c.replayedKernels) replayed kernels given their op")
    }
    lines.append(
      "trust: re-timed through the roofline \(Self.pct(trust.retimedShare)), scaled with tokens "
        + "\(Self.pct(trust.scaledShare)), kept as measured \(Self.pct(trust.keptShare)); interval ±"
        + "\(TextFormat.compact(trust.modelErrorPct)) % of the part the models changed")
    for n in notes { lines.append("note: \(n)") }
    return lines.joined(separator: "\n")
  }

  static func pct(_ share: Double) -> String { TextFormat.compact(share * 100) + " %" }

  func iterationTable() -> [String] {
    var lines = [
      "   #  rank  kind     tokens  batch  kvLength  duration ms  attention  linear    other  KV read MB  predicted ms"
    ]
    let shown: [Iteration]
    if iterations.count > Self.textRows {
      shown = Array(iterations.prefix(Self.textRows - 5)) + Array(iterations.suffix(5))
    } else {
      shown = iterations
    }
    for (i, it) in shown.enumerated() {
      if iterations.count > Self.textRows && i == Self.textRows - 5 {
        lines.append("   … \(iterations.count - Self.textRows) more")
      }
      let kv = it.kvBytesRead.map { TextFormat.fixed(Double($0.rawValue) / 1e6, 2) } ?? "-"
      let cells = [
        String(it.index).leftPadded(4) + String(it.rank).leftPadded(6) + "  " + it.kind, Self.int(it.tokens),
        Self.int(it.batch), Self.int(it.kvLength), Self.ms(it.durationNs), Self.ms(it.attentionNs),
        Self.ms(it.linearNs), Self.ms(it.otherNs), kv, Self.ms(it.predictedNs),
      ]
      lines.append(Self.row(cells, [19, 8, 7, 10, 13, 11, 8, 9, 12, 14]))
    }
    return lines
  }

  func latencyLines() -> [String] {
    var lines: [String] = []
    func range(_ i: Interval?) -> String {
      guard let i, i.lowNs != i.highNs else { return "" }
      return " [\(Self.ms(i.lowNs)) – \(Self.ms(i.highNs))]"
    }
    lines.append(
      "TTFT      measured \(Self.ms(measured.ttftNs)) ms, predicted \(Self.ms(predicted.ttftNs)) ms\(range(trust.ttft))"
    )
    lines.append(
      "TPOT      measured \(Self.ms(measured.tpotNs)) ms, predicted \(Self.ms(predicted.tpotNs)) ms\(range(trust.tpot))"
    )
    let m = measured.tokensPerSecond.map { TextFormat.compact($0) } ?? "-"
    let p = predicted.tokensPerSecond.map { TextFormat.compact($0) } ?? "-"
    lines.append("tokens/s  measured \(m), predicted \(p)")
    return lines
  }

  static func boundLines(_ b: Bounds) -> [String] {
    var lines = ["Fu 2024 bounds for \(b.model) on \(b.hardware):"]
    if let p = b.prefillNs {
      lines.append(
        "  prefill ≥ \(ms(p)) ms (compute-bound); measured reaches \(b.prefillAchievedPct.map { TextFormat.compact($0) } ?? "-") %"
      )
    }
    if let d = b.decodeNs {
      lines.append(
        "  decode  ≥ \(ms(d)) ms (memory-bound); measured reaches \(b.decodeAchievedPct.map { TextFormat.compact($0) } ?? "-") %"
      )
    }
    lines.append(
      "  at most \(b.maxConcurrentRequests) concurrent requests of \(b.contextTokens) tokens in "
        + "\(TextFormat.gib(Double(b.hbmBytes.rawValue))) GiB")
    if let c = b.predictedContextTokens {
      let n = b.predictedMaxConcurrentRequests.map(String.init) ?? "unbounded (all KV offloaded)"
      lines.append("  under the what-ifs: at most \(n) concurrent requests of \(c) tokens")
    }
    return lines
  }
}
