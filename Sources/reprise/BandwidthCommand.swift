import Analysis
import ArgumentParser
import Foundation
import Rendering
import Replay
import TraceImport
import TraceModel

struct BandwidthCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bandwidth",
    abstract: "Achieved algbw/busbw of every collective (nccl-tests convention), by kind and message size.",
    discussion: """
      Per matched collective instance: bytes as nccl-tests counts them, transfer time from the \
      last rank's arrival to the end, algbw = bytes / time, busbw = algbw × bus factor \
      (all-reduce 2(n-1)/n; all-gather, reduce-scatter, all-to-all (n-1)/n). With \
      --link-bandwidth, busbw as % of that peak. Also names the rank that arrives last most often \
      (C4-style straggler detection). See docs/analyses.md.
      """)

  @OptionGroup var input: TraceInputs

  @Option(help: "Per-rank link bandwidth to compare busbw with, e.g. 300GB/s.")
  var linkBandwidth: String?

  @Flag(help: "Print one JSON object (schema reprise.bandwidth/v1) instead of the table.")
  var json = false

  func validate() throws {
    _ = try parseLinkGBps(linkBandwidth)
  }

  func run() throws {
    let result = try input.ingest()
    let g = result.graph
    let t = Timeline(measured: g)
    let a = BandwidthAnalysis(g, timeline: t, linkGBps: try parseLinkGBps(linkBandwidth))
    if a.instances.isEmpty { throw DataError(message: "\(input.paths.joined(separator: " ")): no collectives or send/recv in the trace") }
    let s = StragglerAnalysis(g, timeline: t)
    print(json ? Self.json(a, s).encoded(pretty: true) : Self.text(a, s))
  }

  static func json(_ a: BandwidthAnalysis, _ s: StragglerAnalysis) -> JSONDocument {
    func opt(_ v: Double?) -> JSONDocument { v.map { .double($0) } ?? .null }
    return .object([
      "schema": .string("reprise.bandwidth/v1"),
      "linkBandwidthGBps": opt(a.linkGBps),
      "unmatched": .int(Int64(a.unmatched)),
      "unmatchedP2P": .int(Int64(a.unmatchedP2P)),
      "stragglers": .object([
        "instances": .int(Int64(s.instances)),
        "ranks": .array(s.ranks.map { r in
          .object([
            "rank": .int(Int64(r.rank)), "collectives": .int(Int64(r.collectives)), "lastCount": .int(Int64(r.lastCount)),
            "heldOthersNs": .int(r.heldOthersNs), "flagged": .bool(r.flagged),
          ])
        }),
      ]),
      "instances": .array(a.instances.map { i in
        .object([
          "kind": .string(BandwidthAnalysis.kindName(i.kind)), "group": .string(i.group), "sequence": .int(Int64(i.sequence)),
          "ranks": .int(Int64(i.ranks)), "membersPresent": .int(Int64(i.membersPresent)), "bytes": .int(i.bytes),
          "startNs": .int(i.startNs), "durationNs": .int(i.durationNs), "transferNs": .int(i.transferNs),
          "algBandwidthGBps": .double(i.algbwGBps), "busBandwidthGBps": .double(i.busbwGBps),
          "peakPct": opt(i.peakPct), "lastRank": .int(Int64(i.lastRank)), "arrivalSpreadNs": .int(i.arrivalSpreadNs),
          "matched": .bool(i.matched),
        ])
      }),
      "buckets": .array(a.buckets.map { b in
        .object([
          "kind": .string(BandwidthAnalysis.kindName(b.kind)), "maxBytes": .int(b.maxBytes), "count": .int(Int64(b.count)),
          "bytes": .int(b.bytes), "transferNs": .int(b.transferNs), "busBandwidthGBps": .double(b.busbwGBps),
          "medianBusBandwidthGBps": .double(b.medianBusbwGBps),
        ])
      }),
    ])
  }

  static func text(_ a: BandwidthAnalysis, _ s: StragglerAnalysis) -> String {
    func size(_ b: Int64) -> String {
      b >= 1 << 30 ? "\(b >> 30) GiB" : b >= 1 << 20 ? "\(b >> 20) MiB" : b >= 1 << 10 ? "\(b >> 10) KiB" : "\(b) B"
    }
    var lines = ["collective      size ≤      count   busbw GB/s (all)   busbw GB/s (median)"]
    for b in a.buckets {
      lines.append(BandwidthAnalysis.kindName(b.kind).padding(toLength: 14, withPad: " ", startingAt: 0) + size(b.maxBytes).leftPad(8)
                   + String(b.count).leftPad(11) + String(format: "%19.2f", b.busbwGBps) + String(format: "%22.2f", b.medianBusbwGBps))
    }
    let matched = a.instances.filter(\.matched).count
    let pairs = a.instances.filter { $0.kind == nil }.count
    lines.append("\(a.instances.count - pairs) collective(s): \(matched - pairs) matched across ranks, \(a.unmatched) measured on one rank only; "
                 + "\(pairs) send/recv pair(s), \(a.unmatchedP2P) unmatched send/recv")
    if let l = a.linkGBps, let best = a.instances.map(\.busbwGBps).max() {
      lines.append(String(format: "best busbw %.2f GB/s = %.1f%% of the %.1f GB/s link", best, 100 * best / l, l))
    }
    if s.instances > 0 {
      let worst = s.ranks.max { ($0.lastCount, $1.rank) < ($1.lastCount, $0.rank) }!
      let flagged = s.ranks.filter(\.flagged).map { "rank \($0.rank)" }
      lines.append(String(format: "last to arrive most often: rank %d, %d of %d collectives, holding the others %.3f ms in all",
                          worst.rank, worst.lastCount, worst.collectives, Double(worst.heldOthersNs) / 1e6)
                   + (flagged.isEmpty ? "; no straggler flagged" : "; straggler: " + flagged.joined(separator: ", ")))
    }
    return lines.joined(separator: "\n")
  }
}

extension String {
  fileprivate func leftPad(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
}
