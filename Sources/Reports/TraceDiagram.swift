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
    /// The profiler step (timeline, graph, critical path; default: the critical path's step,
    /// else the whole trace).
    public var step: Int?
    public var cluster: ClusterSpec?
    /// Per-rank link peak for the topology; default: the cluster's, else the hardware's interconnect.
    public var linkGBps: Double?
    public var hardware: HardwareSpec?
    /// Timeline width in points.
    public var width: Double
    /// Timeline rows: ranks, streams, collapsing.
    public var selection: TimelineSelection
    /// Timeline: the part of the step to draw, as offsets from its start (either may be nil).
    public var window: (start: Nanoseconds?, end: Nanoseconds?)?
    public init(
      step: Int? = nil, cluster: ClusterSpec? = nil, linkGBps: Double? = nil, hardware: HardwareSpec? = nil,
      width: Double = 1200, selection: TimelineSelection = TimelineSelection(),
      window: (start: Nanoseconds?, end: Nanoseconds?)? = nil
    ) {
      self.step = step
      self.cluster = cluster
      self.linkGBps = linkGBps
      self.hardware = hardware
      self.width = width
      self.selection = selection
      self.window = window
    }
  }

  /// The DOT text of a diagram, the Graphviz engine that lays it out, and what the reader should
  /// be warned about (printed on stderr).
  public struct Drawing: Sendable {
    public var dot: String
    public var engine: String
    public var warnings: [String]
  }

  /// The DOT text of `kind` and its Graphviz engine.
  /// - Throws: `RunError.usage` for a step the trace does not have, or filters that leave nothing;
  ///   `RunError.data` when there is nothing to draw.
  public static func drawing(_ kind: Kind, _ g: EventGraph, _ t: Timeline, options o: Options = Options()) throws
    -> Drawing
  {
    switch kind {
    case .timeline:
      return Drawing(dot: try timeline(g, t, o).dot(), engine: "nop", warnings: [])
    case .graph:
      let index = AnalysisIndex(g, timeline: t)
      let include = try o.step.map { try stepMembers(index, step: $0) }
      let cp = CriticalPath(index: index, step: o.step)
      return Drawing(
        dot: DependencyGraphRenderer.dot(g, timeline: t, criticalPath: cp, include: include), engine: "dot",
        warnings: [])
    case .criticalPath:
      let index = AnalysisIndex(g, timeline: t)
      if let step = o.step { _ = try window(index, step: step) }
      let cp = CriticalPath(index: index, step: o.step)
      if cp.segments.isEmpty { throw RunError.data("no work to follow: the trace has no device work or host calls") }
      return Drawing(dot: CriticalPathRenderer.dot(g, criticalPath: cp), engine: "dot", warnings: [])
    case .topology:
      let bw = BandwidthAnalysis(g, timeline: t)
      var link = o.linkGBps
      if link == nil, o.cluster == nil { link = o.hardware?.interconnect?.gbpsPerDirection }
      let d = TopologyRenderer.diagram(g, bandwidth: bw, cluster: o.cluster, linkGBps: link)
      return Drawing(dot: d.dot, engine: "dot", warnings: d.warnings)
    }
  }

  /// The DOT text of `kind` and its Graphviz engine (`drawing` without the warnings).
  public static func dot(_ kind: Kind, _ g: EventGraph, _ t: Timeline, options o: Options = Options()) throws
    -> (dot: String, engine: String)
  {
    let d = try drawing(kind, g, t, options: o)
    return (d.dot, d.engine)
  }

  /// Renders `kind` to `format` bytes.
  /// - Throws: as `dot`, and `Graphviz.RenderError`.
  public static func render(
    _ kind: Kind, _ g: EventGraph, _ t: Timeline, format: Graphviz.Format,
    options: Options = Options()
  ) throws -> [UInt8] {
    try renderReporting(kind, g, t, format: format, options: options).bytes
  }

  /// Renders `kind` to `format` bytes, with the diagram's and Graphviz's warnings.
  /// - Throws: as `dot`, and `Graphviz.RenderError`.
  public static func renderReporting(
    _ kind: Kind, _ g: EventGraph, _ t: Timeline, format: Graphviz.Format,
    options: Options = Options()
  ) throws -> (bytes: [UInt8], warnings: [String]) {
    let d = try drawing(kind, g, t, options: options)
    let r = try Graphviz.renderReporting(d.dot, format: format, engine: d.engine)
    return (r.bytes, d.warnings + r.warnings)
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

  /// The events of `step`: those of each rank that start inside that rank's span of the step,
  /// device work by the start of the host call that launched it (as replay's step times count).
  /// - Throws: `RunError.usage` when the trace has no such step.
  static func stepMembers(_ index: AnalysisIndex, step: Int) throws -> [Bool] {
    _ = try window(index, step: step)
    let (g, t) = (index.graph, index.timeline)
    var spans: [Int32: [(Nanoseconds, Nanoseconds)]] = [:]
    for s in g.steps where s.number == step && s.event != .none {
      spans[s.rank.rawValue, default: []].append((t.start[s.event.index], t.end[s.event.index]))
    }
    var launcher = [Int32](repeating: -1, count: g.eventCount)
    for from in 0..<g.eventCount where g.edgeOffsets[from] != g.edgeOffsets[from + 1] {
      for (to, kind) in g.edges(from: EventID(rawValue: UInt32(from))) where kind == .launch {
        launcher[to.index] = Int32(from)
      }
    }
    return (0..<g.eventCount).map { e in
      let key = launcher[e] >= 0 ? t.start[Int(launcher[e])] : t.start[e]
      return spans[g.rank(of: e).rawValue]?.contains { key >= $0.0 && key < $0.1 } ?? false
    }
  }
}
