import Analysis
import TraceModel

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Writes timelines of an `EventGraph` as Chrome trace-event JSON (opens in Perfetto and
/// chrome://tracing), streaming — no tree is built, so million-event timelines are cheap.
///
/// Each timeline is a process group: process `"<label> rank R"` per rank, one thread per lane
/// (`thread_name` metadata), complete (`X`) events in microseconds with ns fractions. Flow
/// events link each collective instance's members (`cat: "collective"`). Output is
/// deterministic (events in graph order, fixed number formatting).
/// Analyses drawn on top of a timeline in Perfetto: bubbles as slices on their own tracks and the
/// critical path as slices plus flow arrows between consecutive path events.
public struct TraceAnnotations: Sendable {
  public struct Slice: Sendable {
    public var rank: RankID
    public var track: String
    public var name: String
    public var category: String
    public var start: Nanoseconds
    public var end: Nanoseconds
  }
  public var slices: [Slice] = []
  /// Events of the critical path in time order (graph event indices); drawn as flow arrows.
  public var flow: [Int] = []

  public init() {}

  /// Bubbles (per stream, `<stream> idle` tracks) and the critical path (`critical path` track).
  public init(_ g: EventGraph, bubbles: BubbleAnalysis, criticalPath cp: CriticalPath) {
    for b in bubbles.laneBubbles {
      slices.append(Slice(rank: RankID(rawValue: Int32(b.rank)), track: g.strings[g.lanes[b.lane].name] + " idle", name: "idle: " + b.cause.rawValue,
                          category: "bubble", start: b.start, end: b.start + b.duration))
    }
    for s in cp.segments {
      let name = s.event.map { g.strings[g.name[$0]] } ?? "wait"
      slices.append(Slice(rank: RankID(rawValue: Int32(s.rank)), track: "critical path", name: "\(s.category.rawValue): \(name)",
                          category: "critical_path", start: s.start, end: s.end))
    }
    var last = -1
    for s in cp.segments { if let e = s.event, e != last { flow.append(e); last = e } }
  }
}

public enum ChromeTraceWriter {
  public struct WriteError: Error, CustomStringConvertible {
    public var description: String
  }

  public static func write(graph g: EventGraph, timelines: [(String, Timeline)], to path: String) throws {
    try write(graph: g, timelines: timelines.map { ($0.0, $0.1, nil) }, to: path)
  }

  /// As above, with analyses drawn on each timeline that has annotations.
  public static func write(graph g: EventGraph, timelines: [(String, Timeline, TraceAnnotations?)], to path: String) throws {
    guard let f = fopen(path, "w") else {
      throw WriteError(description: "\(path): cannot write: \(String(cString: strerror(errno)))")
    }
    defer { fclose(f) }
    var buf: [UInt8] = []
    buf.reserveCapacity(1 << 20)
    func flush() { buf.withUnsafeBytes { _ = fwrite($0.baseAddress, 1, $0.count, f) }; buf.removeAll(keepingCapacity: true) }
    func put(_ s: String) { buf.append(contentsOf: s.utf8); if buf.count > 1 << 20 { flush() } }
    func esc(_ s: String) -> String {
      var out = ""
      for u in s.unicodeScalars {
        switch u {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        default:
          if u.value < 0x20 {
            let hex = String(u.value, radix: 16)
            out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
          } else {
            out.unicodeScalars.append(u)
          }
        }
      }
      return out
    }
    func us(_ time: Nanoseconds) -> String {
      let ns = time.rawValue
      let neg = ns < 0
      let a = neg ? -ns : ns
      let frac = a % 1000
      let fs = frac < 10 ? "00\(frac)" : frac < 100 ? "0\(frac)" : "\(frac)"
      return (neg ? "-" : "") + "\(a / 1000).\(fs)"
    }
    put("{\"displayTimeUnit\": \"ns\", \"traceEvents\": [\n")
    var first = true
    func event(_ s: String) { put(first ? s : ",\n" + s); first = false }
    let rankIndex = Dictionary(uniqueKeysWithValues: g.ranks.enumerated().map { ($1.rank, $0) })
    for (t, (label, tl, notes)) in timelines.enumerated() {
      let base = t * (g.ranks.count + 1) + 1
      for (i, r) in g.ranks.enumerated() {
        event("{\"ph\": \"M\", \"name\": \"process_name\", \"pid\": \(base + i), \"args\": {\"name\": \"\(esc(label)) rank \(r.rank)\"}}")
        event("{\"ph\": \"M\", \"name\": \"process_sort_index\", \"pid\": \(base + i), \"args\": {\"sort_index\": \(base + i)}}")
      }
      for (l, lane) in g.lanes.enumerated() {
        let pid = base + (rankIndex[lane.rank] ?? 0)
        event("{\"ph\": \"M\", \"name\": \"thread_name\", \"pid\": \(pid), \"tid\": \(l), \"args\": {\"name\": \"\(esc(g.strings[lane.name]))\"}}")
      }
      for e in 0..<g.eventCount {
        let lane = g.lane[e].index
        let pid = base + (rankIndex[g.lanes[lane].rank] ?? 0)
        let dur = max(.zero, tl.end[e] - tl.start[e])
        event("{\"ph\": \"X\", \"cat\": \"\(g.kind[e].name)\", \"name\": \"\(esc(g.strings[g.name[e]]))\", \"pid\": \(pid), \"tid\": \(lane), \"ts\": \(us(tl.start[e])), \"dur\": \(us(dur))}")
      }
      if let notes {
        // Extra tracks per rank, after the lanes: one per distinct track name, in first-seen order.
        var trackID: [String: Int] = [:]
        for s in notes.slices {
          let key = "\(s.rank.rawValue)/\(s.track)"
          if trackID[key] == nil {
            let id = g.lanes.count + trackID.count
            trackID[key] = id
            event("{\"ph\": \"M\", \"name\": \"thread_name\", \"pid\": \(base + (rankIndex[s.rank] ?? 0)), \"tid\": \(id), \"args\": {\"name\": \"\(esc(s.track))\"}}")
          }
          event("{\"ph\": \"X\", \"cat\": \"\(esc(s.category))\", \"name\": \"\(esc(s.name))\", \"pid\": \(base + (rankIndex[s.rank] ?? 0)), \"tid\": \(trackID[key]!), \"ts\": \(us(s.start)), \"dur\": \(us(max(.zero, s.end - s.start)))}")
        }
        // Critical path: arrows from each path event to the next.
        var pathID = t * 10_000_000 + 5_000_000
        for (a, b) in zip(notes.flow, notes.flow.dropFirst()) {
          pathID += 1
          let pa = base + (rankIndex[g.rank(of: a)] ?? 0), pb = base + (rankIndex[g.rank(of: b)] ?? 0)
          event("{\"ph\": \"s\", \"cat\": \"critical_path\", \"name\": \"critical path\", \"id\": \(pathID), \"pid\": \(pa), \"tid\": \(g.lane[a].index), \"ts\": \(us(max(tl.start[a], tl.end[a] - Nanoseconds(1))))}")
          event("{\"ph\": \"f\", \"bp\": \"e\", \"cat\": \"critical_path\", \"name\": \"critical path\", \"id\": \(pathID), \"pid\": \(pb), \"tid\": \(g.lane[b].index), \"ts\": \(us(tl.start[b]))}")
        }
      }
      // Collective instances as flows from the first member to the others.
      var flowID = t * 10_000_000
      for inst in g.instances where inst.members.count >= 2 {
        let from = inst.members[0].index
        for m in inst.members.dropFirst() {
          flowID += 1
          let to = m.index
          let pf = base + (rankIndex[g.rank(of: from)] ?? 0), pt = base + (rankIndex[g.rank(of: to)] ?? 0)
          event("{\"ph\": \"s\", \"cat\": \"collective\", \"name\": \"\(inst.kind.name)\", \"id\": \(flowID), \"pid\": \(pf), \"tid\": \(g.lane[from].index), \"ts\": \(us(tl.start[from]))}")
          event("{\"ph\": \"f\", \"bp\": \"e\", \"cat\": \"collective\", \"name\": \"\(inst.kind.name)\", \"id\": \(flowID), \"pid\": \(pt), \"tid\": \(g.lane[to].index), \"ts\": \(us(tl.start[to]))}")
        }
      }
    }
    put("\n]}\n")
    flush()
    if ferror(f) != 0 { throw WriteError(description: "\(path): write failed") }
  }
}
