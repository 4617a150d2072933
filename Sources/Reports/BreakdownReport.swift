import Analysis
import Foundation
import Rendering
import TraceModel

/// Where each rank's device time went (`reprise breakdown`, schema `reprise.breakdown/v1`):
/// compute, exposed and overlapped communication, memory copies, idle — HTA's definitions.
public struct BreakdownReport: JSONContract, Equatable {
  public static let schemaName = "reprise.breakdown"
  public static let schemaVersion = 1

  public struct Events: Codable, Sendable, Equatable {
    public var compute: Int
    public var communication: Int
    public var memory: Int
  }

  public struct Rank: Codable, Sendable, Equatable {
    public var rank: Int
    /// `deviceStreams`, or `hostThreads` for a rank without device streams (CPU-only, gloo).
    public var lanes: String
    public var spanStartNs: Nanoseconds
    public var spanNs: Nanoseconds
    public var computeNs: Nanoseconds
    public var communicationNs: Nanoseconds
    public var overlappedCommunicationNs: Nanoseconds
    public var exposedCommunicationNs: Nanoseconds
    public var memoryNs: Nanoseconds
    public var exposedMemoryNs: Nanoseconds
    public var idleNs: Nanoseconds
    public var nonComputeNs: Nanoseconds
    @NullWhenAbsent public var overlapRatio: Double?
    public var events: Events
  }

  public private(set) var schema = Self.schema
  public var window: String
  public var ranks: [Rank]
  /// The breakdown of a graph's measured timeline.
  /// - Throws: `RunError.data` when no rank has device work, or host work without device streams.
  public init(_ graph: EventGraph, window: TemporalBreakdown.Window, inputs: [String]) throws {
    let b = TemporalBreakdown(graph, timeline: Timeline(measured: graph), window: window)
    if b.ranks.isEmpty {
      throw RunError.data(
        "\(inputs.joined(separator: " ")): no device events (kernels, memcpy, collectives) and no host ops "
          + "to break down")
    }
    self.init(b)
  }

  /// The document of a breakdown.
  public init(_ b: TemporalBreakdown) {
    window = b.window.rawValue
    ranks = b.ranks.map { r in
      Rank(
        rank: r.rank, lanes: r.lanes.rawValue, spanStartNs: r.spanStart, spanNs: r.span, computeNs: r.compute,
        communicationNs: r.communication, overlappedCommunicationNs: r.overlappedCommunication,
        exposedCommunicationNs: r.exposedCommunication, memoryNs: r.memory, exposedMemoryNs: r.exposedMemory,
        idleNs: r.idle, nonComputeNs: r.nonCompute, overlapRatio: r.overlapRatio,
        events: Events(compute: r.computeEvents, communication: r.communicationEvents, memory: r.memoryEvents))
    }
  }

  /// The table `reprise breakdown` prints: shares of each rank's span.
  public func text() -> String {
    func pct(_ r: Rank, _ part: Nanoseconds) -> String {
      String(format: "%5.1f%%", r.spanNs > .zero ? 100 * (part / r.spanNs) : 0)
    }
    func us(_ time: Nanoseconds) -> String { String(format: "%10.1f", time.microseconds) }
    let w =
      switch TemporalBreakdown.Window(rawValue: window) {
      case .deviceSpan, nil: "device span (first to last device event; not a step time, docs/Glossary.md)"
      case .steps: "step windows (each rank's ProfilerStep annotations; not the per-rank or job step)"
      case .completeSteps: "device span of work launched before the last profiler step (HTA's trimming)"
      }
    let onHost = ranks.filter { $0.lanes == TemporalBreakdown.Lanes.hostThreads.rawValue }.map(\.rank)
    let allHost = !onHost.isEmpty && onHost.count == ranks.count
    var lines = ["window: " + (allHost ? w.replacingOccurrences(of: "device", with: "host") : w)]
    if !onHost.isEmpty {
      lines.append(
        "lanes: host threads for rank(s) \(onHost.map(String.init).joined(separator: ", ")) (no device streams): "
          + "compute = host ops, communication = gloo collectives and c10d calls, spans over host work")
    }
    lines.append("rank     span µs   compute   exp.comm  exp.mem    idle   overlap")
    for r in ranks {
      let ov = r.overlapRatio.map { String(format: "%6.1f%%", 100 * $0) } ?? "      -"
      lines.append(
        String(format: "%4d", r.rank) + us(r.spanNs) + "   " + pct(r, r.computeNs) + "   "
          + pct(r, r.exposedCommunicationNs) + "   " + pct(r, r.exposedMemoryNs) + "  " + pct(r, r.idleNs) + "  " + ov)
    }
    return lines.joined(separator: "\n")
  }
}
