import Analysis
import Foundation
import Rendering
import Replay
import TraceImport
import TraceModel

extension TraceDiagram {
  /// The timeline of one step (or the whole trace): its job window (earliest start to latest end
  /// over the ranks), cut to `--window`, rows filtered by `--ranks` and `--streams`, the step's
  /// critical path overlaid.
  /// - Throws: `RunError.usage` for a step the trace does not have, a window outside the step, or
  ///   filters that leave no rows; `RunError.data` when the trace has nothing to draw.
  static func timeline(_ g: EventGraph, _ t: Timeline, _ o: Options) throws -> TimelineDiagram {
    try checkSelection(g, o.selection)
    let index = AnalysisIndex(g, timeline: t)
    let (stepLo, stepHi, label) = try window(index, step: o.step)
    let (lo, hi) = try cut(stepLo, stepHi, label: label, o.window)
    let cp = CriticalPath(index: index, step: o.step)
    let hostMode = !TraceTimelineRenderer.hasDeviceWork(g)
    let title =
      "\(g.ranks.count) rank(s), \(label): \(String(format: "%.3f", (stepHi - stepLo).milliseconds)) ms"

    var d = TraceTimelineRenderer.diagram(
      g, timeline: t, bubbles: BubbleAnalysis(index: index), criticalPath: cp, from: lo, to: hi, origin: stepLo,
      title: title, selection: o.selection,
      hostCommunication: hostMode ? hostCommunication(g) : [], width: o.width)
    if d.rows.isEmpty {
      let all = TraceTimelineRenderer.diagram(
        g, timeline: t, bubbles: BubbleAnalysis(index: index), from: lo, to: hi, title: "", width: o.width)
      if all.rows.isEmpty {
        throw RunError.data("nothing to draw in \(label): no device work and no host calls")
      }
      throw RunError.usage(
        "--ranks/--streams leave nothing to draw in \(label); it has: "
          + all.rows.map(\.name).joined(separator: ", "))
    }
    let what =
      hostMode
      ? "work: CPU ops (strong boxes); idle: no traced op (low pale boxes)"
      : "work: strong boxes by class; idle: low pale boxes by cause"
    d.notes.insert(
      what + "; red strip: the critical path of \(cp.step.map { "job step \($0)" } ?? "the trace") "
        + "(\(String(format: "%.3f", cp.length.milliseconds)) ms)", at: 0)
    let filters = filterNote(g, d, o, lo: lo - stepLo, hi: hi - stepLo)
    if !filters.isEmpty { d.notes.insert("showing " + filters, at: 1) }
    d.axisCaption = "ms from \(label) start"
    return d
  }

  /// Ranks and stream ids the trace does not have are usage errors, not silently dropped.
  static func checkSelection(_ g: EventGraph, _ s: TimelineSelection) throws {
    let have = g.ranks.map { Int($0.rank.rawValue) }
    if let ranks = s.ranks, !ranks.isSubset(of: have) {
      let missing = ranks.subtracting(have).sorted().map(String.init).joined(separator: ", ")
      throw RunError.usage("--ranks: the trace has no rank \(missing) (it has \(RankRanges.text(have)))")
    }
    if case .ids(let ids) = s.streams {
      let lanes = Set(g.lanes.map(\.tid))
      if !ids.isSubset(of: lanes) {
        let missing = ids.subtracting(lanes).sorted().map(String.init).joined(separator: ", ")
        let known = lanes.sorted().map(String.init).joined(separator: ", ")
        throw RunError.usage("--streams: no stream or thread \(missing) in the trace (it has \(known))")
      }
    }
  }

  /// Per event, whether its name is a host-side communication call (`c10d::recv_`, `gloo:send`).
  static func hostCommunication(_ g: EventGraph) -> [Bool] {
    let byName = g.strings.strings.map { CommClassifier.hostName($0) != nil }
    return g.name.map { byName[$0.index] }
  }

  /// `[lo, hi]` cut to `window` (offsets from `lo`).
  static func cut(
    _ lo: Nanoseconds, _ hi: Nanoseconds, label: String, _ window: (start: Nanoseconds?, end: Nanoseconds?)?
  ) throws -> (Nanoseconds, Nanoseconds) {
    guard let window else { return (lo, hi) }
    let length = hi - lo
    let s = window.start ?? .zero
    let e = window.end ?? length
    guard s < length else {
      throw RunError.usage(
        "--window: starts at \(String(format: "%.3f", s.milliseconds)) ms, after the end of \(label) "
          + "(\(String(format: "%.3f", length.milliseconds)) ms long)")
    }
    return (lo + s, lo + min(e, length))
  }

  /// What the filters kept, for the notes; empty when nothing was filtered.
  static func filterNote(_ g: EventGraph, _ d: TimelineDiagram, _ o: Options, lo: Nanoseconds, hi: Nanoseconds)
    -> String
  {
    var parts: [String] = []
    if let ranks = o.selection.ranks {
      parts.append("ranks \(RankRanges.text(Array(ranks))) of \(g.ranks.count)")
    }
    switch o.selection.streams {
    case .all: break
    case .compute: parts.append("compute streams only")
    case .communication: parts.append("communication streams only")
    case .ids(let ids): parts.append("streams \(ids.sorted().map(String.init).joined(separator: ", "))")
    }
    if o.window != nil {
      parts.append(
        "\(String(format: "%.3f", lo.milliseconds)) to \(String(format: "%.3f", hi.milliseconds)) ms of the step")
    }
    return parts.joined(separator: "; ")
  }

  // MARK: - Flag values

  /// The timeline's command-line flags as a selection and a window.
  /// - Throws: `RunError.usage` for a malformed value, a timeline flag given to another kind, or
  ///   `--step` with the topology (which counts every collective).
  public static func timelineFlags(
    _ kind: Kind, step: Int?, ranks: String?, streams: String?, window: String?, collapseRanks: Bool,
    collapseTolerance: String?
  ) throws -> (TimelineSelection, (start: Nanoseconds?, end: Nanoseconds?)?) {
    let given: [(String, Bool)] = [
      ("--ranks", ranks != nil), ("--streams", streams != nil), ("--window", window != nil),
      ("--collapse-ranks", collapseRanks), ("--collapse-tolerance", collapseTolerance != nil),
    ]
    if kind != .timeline, let (name, _) = given.first(where: { $0.1 }) {
      throw RunError.usage("\(name) applies to 'render timeline' only")
    }
    if kind == .topology && step != nil {
      throw RunError.usage("--step does not apply to topology (every collective of the trace counts)")
    }
    let tolerance: Nanoseconds?
    do {
      tolerance = try collapseTolerance.map { try Scenario.duration("--collapse-tolerance", $0) }
    } catch let e as ScenarioError { throw RunError.usage(e.message) }
    let selection = TimelineSelection(
      ranks: try ranks.map(parseRanks), streams: try streams.map(parseStreams) ?? .all, collapseRanks: collapseRanks,
      collapseTolerance: tolerance)
    return (selection, try window.map(parseWindow))
  }

  /// `0-3,7` → {0, 1, 2, 3, 7}.
  /// - Throws: `RunError.usage` for anything else.
  public static func parseRanks(_ text: String) throws -> Set<Int> {
    var out = Set<Int>()
    for part in text.split(separator: ",", omittingEmptySubsequences: false) {
      let ends = part.split(separator: "-", omittingEmptySubsequences: false)
      guard (1...2).contains(ends.count), let a = Int(ends[0]), let b = Int(ends[ends.count - 1]), a >= 0, a <= b,
        b - a < 1_000_000
      else {
        throw RunError.usage("--ranks \(text): expected ranks and ranges such as 0-3,7")
      }
      out.formUnion(a...b)
    }
    return out
  }

  /// `all`, `compute`, `comm` (or `communication`), or stream/thread ids such as `7,22`.
  /// - Throws: `RunError.usage` for anything else.
  public static func parseStreams(_ text: String) throws -> StreamSelection {
    switch text {
    case "all": return .all
    case "compute": return .compute
    case "comm", "communication": return .communication
    default:
      let ids = text.split(separator: ",", omittingEmptySubsequences: false).map { Int64($0) }
      guard !ids.isEmpty, ids.allSatisfy({ $0 != nil }) else {
        throw RunError.usage("--streams \(text): expected all, compute, comm or stream ids such as 7,22")
      }
      return .ids(Set(ids.compactMap { $0 }))
    }
  }

  /// `START:END` as offsets from the step's start, each a duration (`2ms`, `1500us`) or empty.
  /// - Throws: `RunError.usage` for anything else, or an end not after the start.
  public static func parseWindow(_ text: String) throws -> (start: Nanoseconds?, end: Nanoseconds?) {
    let sides = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
    let usage = "--window \(text): expected START:END from the step's start, such as 2ms:5.5ms, 2ms: or :500us"
    guard sides.count == 2, !(sides[0].isEmpty && sides[1].isEmpty) else { throw RunError.usage(usage) }
    do {
      let s = try sides[0].isEmpty ? nil : Scenario.duration("--window", sides[0])
      let e = try sides[1].isEmpty ? nil : Scenario.duration("--window", sides[1])
      if let s, let e, e <= s { throw RunError.usage("--window \(text): the end must come after the start") }
      return (s, e)
    } catch is ScenarioError {
      throw RunError.usage(usage)
    }
  }
}
