import Analysis
import CostModels
import Foundation
import Rendering
import TraceModel

/// The diagrams `reprise render` draws of a run, as DOT text plus the Graphviz engine that lays
/// each out (docs/rendering.md).
public enum TraceDiagram {
  public enum Kind: String, CaseIterable, Sendable {
    /// One row per device stream of every rank over one step; idle gaps coloured by cause.
    case timeline
    /// The dependency graph collapsed to op classes, the critical path in red.
    case graph
    /// The cross-rank critical path as a chain.
    case criticalPath = "critical-path"
    /// Ranks on nodes, links coloured by achieved bus bandwidth over the peak.
    case topology
  }

  /// What to draw and with what.
  public struct Options: Sendable {
    /// The profiler step of the timeline (default: the critical path's step, else the whole trace).
    public var step: Int?
    public var cluster: ClusterSpec?
    /// Per-rank link peak for the topology; default: the cluster's, else the hardware's interconnect.
    public var linkGBps: Double?
    public var hardware: HardwareSpec?
    /// Timeline width in points.
    public var width: Double
    public init(
      step: Int? = nil, cluster: ClusterSpec? = nil, linkGBps: Double? = nil, hardware: HardwareSpec? = nil,
      width: Double = 1200
    ) {
      self.step = step
      self.cluster = cluster
      self.linkGBps = linkGBps
      self.hardware = hardware
      self.width = width
    }
  }

  /// The DOT text of `kind` and its Graphviz engine.
  /// - Throws: `RunError.usage` for a step the trace does not have; `RunError.data` when there is
  ///   nothing to draw.
  public static func dot(_ kind: Kind, _ g: EventGraph, _ t: Timeline, options o: Options = Options()) throws
    -> (dot: String, engine: String)
  {
    switch kind {
    case .timeline:
      let index = AnalysisIndex(g, timeline: t)
      let (lo, hi, label) = try window(index, step: o.step)
      let bubbles = BubbleAnalysis(index: index)
      let title =
        "\(g.ranks.count) rank(s), \(label): \(String(format: "%.3f", (hi - lo).milliseconds)) ms; idle gaps coloured by cause"
      let d = TraceTimelineRenderer.diagram(
        g, timeline: t, bubbles: bubbles, from: lo, to: hi, title: title,
        width: o.width)
      if d.rows.isEmpty { throw RunError.data("no device work in \(label) to draw") }
      return (d.dot(), "nop")
    case .graph:
      return (DependencyGraphRenderer.dot(g, timeline: t, criticalPath: CriticalPath(g, timeline: t)), "dot")
    case .criticalPath:
      let cp = CriticalPath(g, timeline: t)
      if cp.segments.isEmpty { throw RunError.data("no work to follow: the trace has no device work or host calls") }
      return (CriticalPathRenderer.dot(g, criticalPath: cp), "dot")
    case .topology:
      let bw = BandwidthAnalysis(g, timeline: t)
      var link = o.linkGBps
      if link == nil, o.cluster == nil { link = o.hardware?.interconnect?.gbpsPerDirection }
      return (TopologyRenderer.dot(g, bandwidth: bw, cluster: o.cluster, linkGBps: link), "dot")
    }
  }

  /// Renders `kind` to `format` bytes.
  /// - Throws: as `dot`, and `Graphviz.RenderError`.
  public static func render(
    _ kind: Kind, _ g: EventGraph, _ t: Timeline, format: Graphviz.Format,
    options: Options = Options()
  ) throws -> [UInt8] {
    let (text, engine) = try dot(kind, g, t, options: options)
    return try Graphviz.render(text, format: format, engine: engine)
  }

  /// The time window of `step` (job-wide), or the default: the critical path's step, else the
  /// whole trace.
  static func window(_ index: AnalysisIndex, step: Int?) throws -> (Nanoseconds, Nanoseconds, String) {
    let (g, t) = (index.graph, index.timeline)
    guard let step else {
      let cp = CriticalPath(index: index)
      return (cp.windowStart, cp.windowEnd, cp.step.map { "job window of step \($0)" } ?? "whole trace")
    }
    let spans = g.steps.filter { $0.number == step && $0.event != .none }
    guard let lo = spans.map({ t.start[$0.event.index] }).min(), let hi = spans.map({ t.end[$0.event.index] }).max()
    else {
      let have = Set(g.steps.map(\.number)).sorted().map(String.init).joined(separator: ", ")
      throw RunError.usage("--step \(step): no such profiler step (the trace has: \(have.isEmpty ? "none" : have))")
    }
    return (lo, hi, "job window of step \(step)")
  }
}
