import Foundation
import TraceModel

/// What one engine iteration (one forward pass of the batch) does.
public enum IterationKind: String, Sendable, Codable, CaseIterable {
  /// Every request in it processes its prompt.
  case prefill
  /// Every request in it generates one token (or verifies a few, speculative decoding).
  case decode
  /// Prompts and generated tokens in one batch (chunked prefill, continuous batching).
  case mixed
  /// A forward pass whose phase the trace does not show (no annotation says it and no attention
  /// op has shapes): recommendation and encoder inference.
  case forward
  /// A step with a backward pass: a training trace, not serving (kept as measured).
  case training
}

/// How an iteration was found (docs/models/serving.md, "Finding the iterations").
public enum IterationSource: String, Sendable, Codable {
  /// An engine or user annotation: `prefill`/`decode`, vLLM's `execute_…_context_…_generation_…`,
  /// SGLang's `step[DECODE bs=N]`, or a Python `execute_model` frame.
  case annotation
  /// One `ProfilerStep#N` range per iteration.
  case profilerStep
  /// The root host range that repeats and covers the most time.
  case pattern
  /// No repeating unit: the whole rank is one iteration.
  case wholeRank
}

/// One engine iteration of a recorded serving trace.
public struct ServingIteration: Sendable, Equatable {
  public var rank: RankID
  public var kind: IterationKind
  public var source: IterationSource
  /// The range that delimits it (annotation name), as recorded.
  public var name: String
  /// The delimiting range on the host.
  public var event: EventID
  public var start: Int64
  /// The end of the range or of the last device work launched inside it, whichever is later.
  public var end: Int64
  /// Requests in the batch, when the annotation or the shapes show it.
  public var batch: Int?
  /// Query tokens per request (1 for decode).
  public var queryLength: Int?
  /// Tokens processed in total (prompt tokens of prefill, one per decode request).
  public var tokens: Int?
  /// KV length each request attends to (mean over the batch).
  public var kvLength: Int?
  public var duration: Int64 { end - start }
}

/// Finds the engine iterations of each rank of a graph (docs/models/serving.md).
public struct IterationFinder {
  let graph: EventGraph

  public init(_ graph: EventGraph) { self.graph = graph }

  /// A recognised engine annotation name and what it says.
  struct Parsed: Equatable {
    var kind: IterationKind?
    var batch: Int?
    var tokens: Int?
    var kvLength: Int?
  }

  /// Parses an engine annotation name; nil when it is not one.
  ///
  /// - `prefill` / `decode` (any case): `record_function` ranges around each forward.
  /// - vLLM's `execute_{R}_context_{T}(sq…sk…)_generation_{G}(sq{Q}sk{K}…)` (R prompt requests
  ///   of T tokens in all; G decode requests of Q query tokens attending to K KV tokens in all).
  /// - SGLang's `step[DECODE bs=N]`, `step[EXTEND bs=N]`, `step[PREFILL bs=N]`, `step[MIXED …]`.
  static func parse(_ name: String) -> Parsed? {
    switch name.lowercased() {
    case "prefill": return Parsed(kind: .prefill)
    case "decode": return Parsed(kind: .decode)
    default: break
    }
    if name.hasPrefix("execute_"), let p = parseExecute(name) { return p }
    if name.hasPrefix("step["), name.hasSuffix("]") {
      let body = name.dropFirst(5).dropLast()
      let words = body.split(separator: " ")
      guard let mode = words.first else { return nil }
      var p = Parsed()
      switch mode.uppercased() {
      case "DECODE": p.kind = .decode
      case "EXTEND", "PREFILL": p.kind = .prefill
      case "MIXED": p.kind = .mixed
      default: return nil
      }
      for w in words.dropFirst() where w.hasPrefix("bs=") { p.batch = Int(w.dropFirst(3)) }
      return p
    }
    return nil
  }

  /// `execute_{N}_context_{R}(sq{T}sk{…}…)_generation_{G}(sq{Q}sk{K}…)`: N requests, R of them
  /// prefilling T prompt tokens in all, G decoding Q query tokens against K KV tokens in all.
  static func parseExecute(_ name: String) -> Parsed? {
    func int(after prefix: String, in text: Substring) -> (Int, Substring)? {
      guard let r = text.range(of: prefix) else { return nil }
      let rest = text[r.upperBound...]
      let digits = rest.prefix { $0.isNumber }
      guard let v = Int(digits) else { return nil }
      return (v, rest.dropFirst(digits.count))
    }
    guard let (n, a) = int(after: "execute_", in: Substring(name)), let (r, b) = int(after: "_context_", in: a),
      let (t, c) = int(after: "(sq", in: b), let (g, d) = int(after: "_generation_", in: c),
      let (q, e) = int(after: "(sq", in: d), let (k, _) = int(after: "sk", in: e)
    else { return nil }
    var p = Parsed(batch: max(n, r + g), tokens: t + q)
    switch (r > 0, g > 0) {
    case (false, true): p.kind = .decode
    case (true, false): p.kind = .prefill
    case (true, true): p.kind = .mixed
    case (false, false): p.kind = nil
    }
    if g > 0 {
      p.kvLength = Int((Double(k) / Double(g)).rounded())
    } else if r > 0 {
      p.kvLength = Int((Double(t) / Double(r)).rounded())
    }
    return p
  }

  /// A Python frame of an engine's per-iteration entry point (vLLM `…: execute_model`).
  static func isEngineFrame(_ name: String) -> Bool { name.hasSuffix(": execute_model") }

  /// The iterations of every rank, in rank then time order.
  public func iterations() -> [ServingIteration] {
    let g = graph
    var byRank: [RankID: [Int]] = [:]
    for e in 0..<g.eventCount where g.kind[e] == .annotation || g.kind[e] == .hostOp {
      guard g.lanes[g.lane[e].index].kind == .hostThread else { continue }
      byRank[g.rank(of: e), default: []].append(e)
    }
    let launchEnd = deviceEnds()
    var out: [ServingIteration] = []
    for (rank, events) in byRank.sorted(by: { $0.key < $1.key }) {
      let host = events.sorted { (g.start[$0], $0) < (g.start[$1], $1) }
      var found = annotated(host)
      if found.isEmpty { found = profilerSteps(host) }
      if found.isEmpty { found = pattern(host, launchers: launchEnd) }
      if found.isEmpty, let first = host.first {
        let end = host.map { g.end($0) }.max() ?? g.end(first)
        found = [
          ServingIteration(
            rank: rank, kind: .forward, source: .wholeRank, name: "", event: EventID(first), start: g.start[first],
            end: end)
        ]
      }
      for var it in found {
        it.end = max(it.end, deviceEnd(of: it, host: host, launchEnd: launchEnd))
        out.append(it)
      }
    }
    return out
  }

  /// The roots of the recognised engine annotations (nested ones belong to their outermost).
  func annotated(_ host: [Int]) -> [ServingIteration] {
    let g = graph
    var parsed: [(Int, Parsed)] = []
    for e in host where g.kind[e] == .annotation {
      if let p = Self.parse(g.strings[g.name[e]]) { parsed.append((e, p)) }
    }
    if parsed.isEmpty {
      for e in host where g.kind[e] == .hostOp && Self.isEngineFrame(g.strings[g.name[e]]) {
        parsed.append((e, Parsed()))
      }
    }
    var out: [ServingIteration] = []
    var openEnd = Int64.min
    for (e, p) in parsed {
      if g.start[e] < openEnd, var last = out.popLast() {
        // Nested inside the previous root: it adds what the outer one did not say.
        last.kind = last.kind == .forward ? (p.kind ?? .forward) : last.kind
        last.batch = last.batch ?? p.batch
        last.tokens = last.tokens ?? p.tokens
        last.kvLength = last.kvLength ?? p.kvLength
        out.append(last)
        continue
      }
      openEnd = g.end(e)
      out.append(
        ServingIteration(
          rank: g.rank(of: e), kind: p.kind ?? .forward, source: .annotation, name: g.strings[g.name[e]],
          event: EventID(e), start: g.start[e], end: g.end(e), batch: p.batch, tokens: p.tokens, kvLength: p.kvLength))
    }
    return out
  }

  /// `ProfilerStep#N` ranges.
  func profilerSteps(_ host: [Int]) -> [ServingIteration] {
    let g = graph
    return host.filter { g.kind[$0] == .annotation && g.strings[g.name[$0]].hasPrefix("ProfilerStep#") }.map { e in
      ServingIteration(
        rank: g.rank(of: e), kind: .forward, source: .profilerStep, name: g.strings[g.name[e]], event: EventID(e),
        start: g.start[e], end: g.end(e))
    }
  }

  /// The repeating unit: among root ranges (no enclosing host event), the name that occurs at
  /// least twice without overlapping itself and covers the most time (ties: name order). User
  /// annotations (`record_function`) first; else framework ops and Python frames, never runtime
  /// calls (`cuda…`, `hip…`, or anything that launches device work).
  func pattern(_ host: [Int], launchers: [Int: Int64]) -> [ServingIteration] {
    let g = graph
    func runtime(_ e: Int) -> Bool {
      let name = g.strings[g.name[e]]
      return launchers[e] != nil || name.hasPrefix("cuda") || name.hasPrefix("hip") || g.kind[e] != .hostOp
    }
    let annotated = repeating(host.filter { g.kind[$0] == .annotation })
    return annotated.isEmpty ? repeating(host.filter { !runtime($0) }) : annotated
  }

  func repeating(_ candidates: [Int]) -> [ServingIteration] {
    let g = graph
    var groups: [NameID: [Int]] = [:]
    for e in candidates where g.parent[e] == .none && g.duration[e] > 0 { groups[g.name[e], default: []].append(e) }
    var best: (total: Int64, name: String, events: [Int])? = nil
    for (name, events) in groups where events.count >= 2 {
      var overlaps = false
      for (a, b) in zip(events, events.dropFirst()) where g.end(a) > g.start[b] { overlaps = true }
      if overlaps { continue }
      let total = events.reduce(Int64(0)) { $0 + g.duration[$1] }
      let text = g.strings[name]
      if let b = best, b.total > total || (b.total == total && b.name <= text) { continue }
      best = (total, text, events)
    }
    guard let best else { return [] }
    return best.events.map { e in
      ServingIteration(
        rank: g.rank(of: e), kind: .forward, source: .pattern, name: best.name, event: EventID(e), start: g.start[e],
        end: g.end(e))
    }
  }

  /// For each host event that launches device work: the latest end of that work.
  func deviceEnds() -> [Int: Int64] {
    let g = graph
    var out: [Int: Int64] = [:]
    for e in 0..<g.eventCount where g.kind[e] == .hostOp || g.kind[e] == .sync || g.kind[e] == .annotation {
      for (t, k) in g.edges(from: EventID(e)) where k == .launch {
        out[e] = max(out[e] ?? .min, g.end(t.index))
      }
    }
    return out
  }

  /// The latest end of device work launched by host events inside the iteration's range.
  func deviceEnd(of it: ServingIteration, host: [Int], launchEnd: [Int: Int64]) -> Int64 {
    guard !launchEnd.isEmpty else { return it.end }
    let g = graph
    let lo = host.countAtOrBefore(it.start - 1) { g.start[$0] }
    var end = it.end
    var i = lo
    let lane = g.lane[it.event.index]
    while i < host.count, g.start[host[i]] < it.end {
      // Launches on the iteration's own thread (a whole-rank iteration: every thread).
      if it.source == .wholeRank || g.lane[host[i]] == lane, let d = launchEnd[host[i]] { end = max(end, d) }
      i += 1
    }
    return end
  }
}
