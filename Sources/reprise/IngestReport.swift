import Foundation
import Rendering
import TraceImport
import TraceModel

/// The `reprise.ingest/v1` JSON object and the human summary of an ingestion.
enum IngestReport {
  static func json(_ r: IngestResult, seconds: Double) -> JSONDocument {
    let g = r.graph
    let counts = g.countByKind()
    var byKind: [String: JSONDocument] = [:]
    for k in EventKind.allCases { byKind[k.name] = .int(counts[k] ?? 0) }
    var collByKind: [String: JSONDocument] = [:]
    for (k, n) in r.link.instancesByKind { collByKind[k.name] = .int(n) }
    var offsets: [String: JSONDocument] = [:]
    for (rank, off) in r.link.clockOffsets { offsets[String(rank.rawValue)] = .int(off) }
    let d = r.diagnostics
    let files: [JSONDocument] = r.files.map { f in
      var o: [String: JSONDocument] = [
        "path": .string(f.path), "rank": .int(Int64(f.rank.rawValue)), "bytes": .int(f.bytesOnDisk),
        "decompressedBytes": .int(f.decompressedBytes),
        "gzip": .bool(f.isGzip), "events": .int(f.events), "format": .string(f.format),
      ]
      if !f.recordTypes.isEmpty { o["recordTypes"] = .object(f.recordTypes.mapValues { .int($0) }) }
      return .object(o)
    }
    return .object([
      "schema": .string("reprise.ingest/v1"),
      "files": .array(files),
      "ranks": .int(g.ranks.count),
      "lanes": .int(g.lanes.count),
      "events": .object(["total": .int(g.eventCount), "byKind": .object(byKind)]),
      "edges": .int(g.edgeCount),
      "steps": .int(Set(g.steps.map(\.number)).count),
      "collectives": .object([
        "instances": .int(r.link.collectiveInstances), "matched": .int(r.link.matchedInstances),
        "unmatched": .int(r.link.unmatchedInstances), "byKind": .object(collByKind),
        "maxEndSpreadNs": .int(r.link.maxEndSpreadNs), "medianEndSpreadNs": .int(r.link.medianEndSpreadNs),
      ]),
      "p2p": .object(["pairs": .int(r.link.p2pPairs), "unmatched": .int(r.link.p2pUnmatched)]),
      "clockOffsetsNs": .object(offsets),
      "clockAligned": .bool(r.link.clockAligned),
      "diagnostics": .object([
        "note": .int(d.count(of: .note)), "warning": .int(d.count(of: .warning)),
        "dataLoss": .int(d.count(of: .dataLoss)), "error": .int(d.count(of: .error)),
      ]),
      "inputBytes": .int(r.inputBytes),
      "executionTraces": .array(r.etLinks.map { l in
        .object(["rank": .int(l.rank), "file": .string(l.file), "ops": .int(l.etOps), "matchedOps": .int(l.matchedOps),
                 "kernels": .int(l.kernels), "kernelsWithParent": .int(l.kernelsWithParent), "dataEdges": .int(l.dataEdges)])
      }),
    ])
  }

  static func text(_ r: IngestResult, seconds: Double) -> String {
    let g = r.graph
    let counts = g.countByKind()
    let mb = Double(r.inputBytes) / 1e6
    var lines: [String] = []
    lines.append("ingested \(r.files.count) file(s), \(g.ranks.count) rank(s), \(format(mb)) MB on disk in \(format(seconds)) s")
    let kinds = EventKind.allCases.filter { (counts[$0] ?? 0) > 0 }.map { "\($0.name) \(counts[$0]!)" }
    lines.append("  events        \(g.eventCount) (\(kinds.joined(separator: ", ")))")
    lines.append("  lanes         \(g.lanes.count) (\(g.lanes.filter { $0.kind == .hostThread }.count) host threads, \(g.lanes.filter { $0.kind == .deviceStream }.count) device streams)")
    lines.append("  edges         \(g.edgeCount)")
    let stepNumbers = Set(g.steps.map(\.number)).sorted()
    lines.append("  steps         \(stepNumbers.count)\(stepNumbers.isEmpty ? "" : " (ProfilerStep#\(stepNumbers.map(String.init).joined(separator: ", #")))")")
    let l = r.link
    let byKind = l.instancesByKind.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.name) \($0.value)" }.joined(separator: ", ")
    lines.append("  collectives   \(l.collectiveInstances) instances: \(l.matchedInstances) matched, \(l.unmatchedInstances) unmatched\(byKind.isEmpty ? "" : " (\(byKind))")")
    if l.matchedInstances > 0 && g.ranks.count > 1 {
      lines.append("                end-time spread across ranks: median \(format(Double(l.medianEndSpreadNs) / 1000)) µs, max \(format(Double(l.maxEndSpreadNs) / 1000)) µs")
    }
    lines.append("  send/recv     \(l.p2pPairs) pairs, \(l.p2pUnmatched) unmatched")
    if g.ranks.count > 1 {
      let offs = l.clockOffsets.sorted { $0.key < $1.key }.map { "r\($0.key): \($0.value)" }.joined(separator: ", ")
      lines.append("  clock offsets \(l.clockAligned ? "applied" : "estimated, not applied (below 20 µs)") [ns] \(offs)")
    }
    for l in r.etLinks {
      lines.append(String(format: "  exec. trace   rank %d: %d of %d ops linked to Kineto ops (%.1f%%), %d of %d kernels with their parent op (%.1f%%), %d data deps",
                          l.rank, l.matchedOps, l.etOps, 100 * l.opFraction, l.kernelsWithParent, l.kernels, 100 * l.kernelFraction, l.dataEdges))
    }
    let d = r.diagnostics
    lines.append("  diagnostics   \(d.count(of: .error)) errors, \(d.count(of: .warning)) warnings, \(d.count(of: .dataLoss)) data loss, \(d.count(of: .note)) notes\(d.count(of: .note) > 0 ? " (-v shows notes)" : "")")
    return lines.joined(separator: "\n")
  }

  static func format(_ v: Double) -> String {
    if v >= 100 { return String(format: "%.0f", v) }
    if v >= 10 { return String(format: "%.1f", v) }
    return String(format: "%.2f", v)
  }
}
