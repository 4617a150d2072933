import Foundation
import TraceImport
import TraceModel

extension IngestSummary {
  /// The human summary `reprise ingest` prints; `seconds` is how long ingestion took.
  public func text(seconds: Double) -> String {
    var lines: [String] = []
    let mb = Double(inputBytes.rawValue) / 1e6
    lines.append(
      "ingested \(files.count) file(s), \(ranks) rank(s), \(TextFormat.compact(mb)) MB on disk in "
        + "\(TextFormat.compact(seconds)) s")
    let kinds = EventKind.allCases.compactMap { k in
      (events.byKind[k.name] ?? 0) > 0 ? "\(k.name) \(events.byKind[k.name] ?? 0)" : nil
    }
    lines.append("  events        \(events.total) (\(kinds.joined(separator: ", ")))")
    lines.append(recordsLine())
    lines.append("  lanes         \(lanes) (\(hostLanes) host threads, \(deviceLanes) device streams)")
    lines.append("  edges         \(edges)")
    let numbers = stepNumbers.isEmpty ? "" : " (ProfilerStep#\(stepNumbers.map(String.init).joined(separator: ", #")))"
    lines.append("  steps         \(steps)\(numbers)")
    lines.append(contentsOf: collectiveLines())
    lines.append("  send/recv     \(p2p.pairs) pairs, \(p2p.unmatched) unmatched")
    lines.append("  layout        \(layout.summary)")
    for e in layout.evidence { lines.append("                \(e.dimension)=\(e.degree): \(e.source)") }
    if ranks > 1 {
      let offsets = clockOffsetsNs.sorted { (Int($0.key) ?? 0) < (Int($1.key) ?? 0) }.map {
        "r\($0.key): \($0.value.rawValue)"
      }
      lines.append(
        "  clock offsets \(clockAligned ? "applied" : "estimated, not applied (below 20 µs)") [ns] "
          + offsets.joined(separator: ", "))
    }
    for l in executionTraces {
      let opPct = l.ops > 0 ? 100 * Double(l.matchedOps) / Double(l.ops) : 0
      let kernelPct = l.kernels > 0 ? 100 * Double(l.kernelsWithParent) / Double(l.kernels) : 0
      lines.append(
        String(
          format: "  exec. trace   rank %d: %d of %d ops linked to Kineto ops (%.1f%%), "
            + "%d of %d kernels with their parent op (%.1f%%), %d data deps",
          l.rank, l.matchedOps, l.ops, opPct, l.kernelsWithParent, l.kernels, kernelPct, l.dataEdges))
    }
    let notTraces = skippedFiles.filter { !$0.isBesideShards }
    if !notTraces.isEmpty {
      lines.append(
        "  skipped       \(notTraces.count) file(s) that are not traces: "
          + notTraces.map(\.path).joined(separator: ", "))
    }
    for s in skippedFiles where s.isBesideShards {
      lines.append("  not read      in \(s.path): \(s.reason)")
    }
    let d = diagnostics
    lines.append(
      "  diagnostics   \(d.error) errors, \(d.warning) warnings, \(d.dataLoss) data loss, \(d.note) notes"
        + (d.note > 0 ? " (-v shows notes)" : ""))
    return lines.joined(separator: "\n")
  }

  /// Records read: kept as events, used as something else, lost (each by reason).
  private func recordsLine() -> String {
    func list(_ loss: Bool) -> (Int, String) {
      let reasons = DropReason.allCases.filter { $0.isLoss == loss }.compactMap { r in
        events.dropped[r.rawValue].map { (r.rawValue, $0) }
      }
      let text = reasons.map { "\($0.0) \($0.1)" }.joined(separator: ", ")
      return (reasons.reduce(0) { $0 + $1.1 }, text.isEmpty ? "" : " (\(text))")
    }
    let (used, usedText) = list(false)
    let (lost, lostText) = list(true)
    return "  records       \(events.read) read: \(events.kept) events, \(used) used otherwise\(usedText), "
      + "\(lost) lost\(lostText)"
  }

  private func collectiveLines() -> [String] {
    let c = collectives
    let byKind = CollectiveKind.allCases.compactMap { k in c.byKind[k.name].map { "\(k.name) \($0)" } }
      .joined(separator: ", ")
    var lines = [
      "  collectives   \(c.instances) instances: \(c.matched) matched, \(c.unmatched) unmatched"
        + (byKind.isEmpty ? "" : " (\(byKind))")
    ]
    if c.matched > 0 && ranks > 1 {
      lines.append(
        "                end-time spread across ranks: median \(TextFormat.compact(c.medianEndSpreadNs.microseconds)) µs, "
          + "max \(TextFormat.compact(c.maxEndSpreadNs.microseconds)) µs")
    }
    return lines
  }
}
