import Analysis
import Foundation
import Rendering
import TraceModel

/// Achieved bandwidth of every collective and send/recv pair, by kind and size, and the rank
/// that arrives last (`reprise bandwidth`, schema `reprise.bandwidth/v1`).
public struct BandwidthReport: JSONContract, Equatable {
  public static let schemaName = "reprise.bandwidth"
  public static let schemaVersion = 1

  public struct StragglerRank: Codable, Sendable, Equatable {
    public var rank: Int
    public var collectives: Int
    public var lastCount: Int
    public var heldOthersNs: Nanoseconds
    public var flagged: Bool
  }

  public struct Stragglers: Codable, Sendable, Equatable {
    public var instances: Int
    public var ranks: [StragglerRank]
  }

  public private(set) var schema = Self.schema
  @NullWhenAbsent public var linkBandwidthGBps: Double?
  public var unmatched: Int
  public var unmatchedP2P: Int
  public var stragglers: Stragglers
  public var instances: [RunReport.BandwidthRow]
  public var buckets: [RunReport.BandwidthBucketRow]

  /// The bandwidth of a graph's measured collectives.
  /// - Parameter linkGBps: per-rank link peak for `peakPct`, when known.
  /// - Throws: `RunError.data` when the run has no collectives or send/recv.
  public init(_ graph: EventGraph, linkGBps: Double?, inputs: [String]) throws {
    let t = Timeline(measured: graph)
    let a = BandwidthAnalysis(graph, timeline: t, linkGBps: linkGBps)
    if a.instances.isEmpty {
      throw RunError.data("\(inputs.joined(separator: " ")): no collectives or send/recv in the trace")
    }
    self.init(a, StragglerAnalysis(graph, timeline: t))
  }

  /// The document of the analyses.
  public init(_ a: BandwidthAnalysis, _ s: StragglerAnalysis) {
    linkBandwidthGBps = a.linkGBps
    unmatched = a.unmatched
    unmatchedP2P = a.unmatchedP2P
    stragglers = Stragglers(
      instances: s.instances,
      ranks: s.ranks.map {
        StragglerRank(
          rank: $0.rank, collectives: $0.collectives, lastCount: $0.lastCount,
          heldOthersNs: $0.heldOthers, flagged: $0.flagged)
      })
    instances = a.instances.map(RunReport.BandwidthRow.init)
    buckets = a.buckets.map(RunReport.BandwidthBucketRow.init)
  }

  /// The table `reprise bandwidth` prints: busbw by kind and size, matching, the straggler.
  public func text() -> String {
    var lines = ["collective      size ≤      count   busbw GB/s (all)   busbw GB/s (median)"]
    for b in buckets {
      lines.append(
        b.kind.padded(14) + TextFormat.size(b.maxBytes.rawValue).leftPadded(8) + String(b.count).leftPadded(11)
          + String(format: "%19.2f", b.busBandwidthGBps) + String(format: "%22.2f", b.medianBusBandwidthGBps))
    }
    let matched = instances.filter(\.matched).count
    let pairs = instances.filter { $0.kind == BandwidthAnalysis.kindName(nil) }.count
    lines.append(
      "\(instances.count - pairs) collective(s): \(matched - pairs) matched across ranks, \(unmatched) measured on "
        + "one rank only; \(pairs) send/recv pair(s), \(unmatchedP2P) unmatched send/recv")
    if let l = linkBandwidthGBps, let best = instances.map(\.busBandwidthGBps).max() {
      lines.append(String(format: "best busbw %.2f GB/s = %.1f%% of the %.1f GB/s link", best, 100 * best / l, l))
    }
    if stragglers.instances > 0,
      let worst = stragglers.ranks.max(by: { ($0.lastCount, $1.rank) < ($1.lastCount, $0.rank) })
    {
      let flagged = stragglers.ranks.filter(\.flagged).map { "rank \($0.rank)" }
      lines.append(
        String(
          format: "last to arrive most often: rank %d, %d of %d collectives, holding the others %.3f ms in all",
          worst.rank, worst.lastCount, worst.collectives, worst.heldOthersNs.milliseconds)
          + (flagged.isEmpty ? "; no straggler flagged" : "; straggler: " + flagged.joined(separator: ", ")))
    }
    return lines.joined(separator: "\n")
  }
}
