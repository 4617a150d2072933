import TraceModel

/// The training phase of every event: forward, backward, optimizer or other.
///
/// From the annotations PyTorch writes, outermost first (an op inside a marked range takes the
/// range's phase; only an unmarked ancestry lets an event's own name decide):
/// - `optimizer`: a range whose name starts with `Optimizer.` (`Optimizer.step#AdamW.step`,
///   `Optimizer.zero_grad#…`, written by `torch.optim`'s profiling hook) or contains `optimizer`;
/// - `backward`: `autograd::engine::evaluate_function: …` (the autograd engine's node ranges) or
///   any name containing `backward` (`## backward ##` ranges, `Backward 3` of pipeline schedules,
///   `aten::…_backward` ops);
/// - `forward`: `nn.Module: …` (`with_modules=True`) or any name containing `forward`;
/// - an unmarked host event of a profiler step that starts before the rank's first backward
///   event in that step is `forward` (the forward pass runs first); after it, `other`. Events
///   outside every step are `other`.
///
/// Device work takes the phase of the host call that launched it (`other` without one).
public enum Phase: String, CaseIterable, Sendable, Codable {
  case forward, backward, optimizer, other

  /// The phase a name marks, if any.
  static func marked(by name: String) -> Phase? {
    let lower = name.lowercased()
    if name.hasPrefix("Optimizer.") || lower.contains("optimizer") { return .optimizer }
    if name.hasPrefix("autograd::engine::evaluate_function") || lower.contains("backward") { return .backward }
    if name.hasPrefix("nn.Module:") || lower.contains("forward") { return .forward }
    return nil
  }

  /// The phase of every event of `g` (by event index).
  /// - Complexity: O(events + edges); one name test per distinct name.
  public static func of(_ g: EventGraph) -> [Phase] {
    let n = g.eventCount
    var markByName = [NameID: Phase?]()
    let isDevice = g.lane.map { g.lanes[$0.index].kind == .deviceStream }
    var marked = [Phase?](repeating: nil, count: n)
    // Parents are host events on the same lane that start no later, so lane order visits them first.
    // Graphs are usually laid out in that order already: check before sorting.
    let inOrder = (1..<max(1, n)).allSatisfy {
      (g.lane[$0 - 1].rawValue, g.start[$0 - 1]) <= (g.lane[$0].rawValue, g.start[$0])
    }
    let order =
      inOrder
      ? Array(0..<n)
      : (0..<n).sorted { (g.lane[$0].rawValue, g.start[$0], $0) < (g.lane[$1].rawValue, g.start[$1], $1) }
    for e in order where !isDevice[e] {
      let p = g.parent[e]
      if p != .none, let inherited = marked[p.index] {
        marked[e] = inherited
        continue
      }
      let key = g.name[e]
      if let known = markByName[key] {
        marked[e] = known
      } else {
        let m = Phase.marked(by: g.strings[g.name[e]])
        markByName[key] = m
        marked[e] = m
      }
    }
    return resolve(g, marked, isDevice: isDevice)
  }

  /// Unmarked host events by step position; device work by its launcher.
  private static func resolve(_ g: EventGraph, _ marked: [Phase?], isDevice: [Bool]) -> [Phase] {
    var firstBackward: [Int: Int64] = [:]  // per step event
    var stepsOfRank: [Int32: [Step]] = [:]
    for s in g.steps where s.event != .none { stepsOfRank[s.rank.rawValue, default: []].append(s) }
    func step(of e: Int) -> Step? {
      stepsOfRank[g.rank(of: e).rawValue]?.first {
        g.start[$0.event.index] <= g.start[e] && g.start[e] < g.end($0.event.index)
      }
    }
    for e in 0..<g.eventCount where marked[e] == .backward {
      if let s = step(of: e) { firstBackward[s.event.index] = min(firstBackward[s.event.index] ?? .max, g.start[e]) }
    }
    var out = marked.map { $0 ?? .other }
    for e in 0..<g.eventCount where marked[e] == nil && !isDevice[e] {
      if let s = step(of: e), g.start[e] < firstBackward[s.event.index] ?? .max, e != s.event.index {
        out[e] = .forward
      }
    }
    for from in 0..<g.eventCount where g.edgeOffsets[from] != g.edgeOffsets[from + 1] {
      for (to, kind) in g.edges(from: EventID(rawValue: UInt32(from))) where kind == .launch {
        out[to.index] = out[from]
      }
    }
    return out
  }
}
