import Analysis
import TraceModel

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

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
      slices.append(
        Slice(
          rank: RankID(rawValue: Int32(b.rank)), track: g.strings[g.lanes[b.lane].name] + " idle",
          name: "idle: " + b.cause.rawValue,
          category: "bubble", start: b.start, end: b.start + b.duration))
    }
    for s in cp.segments {
      let name = s.event.map { g.strings[g.name[$0]] } ?? "wait in " + (s.heldBy.map { g.strings[g.name[$0]] } ?? "?")
      slices.append(
        Slice(
          rank: RankID(rawValue: Int32(s.rank)), track: "critical path", name: "\(s.category.rawValue): \(name)",
          category: "critical_path", start: s.start, end: s.end))
    }
    var last = -1
    for s in cp.segments {
      if let e = s.event, e != last {
        flow.append(e)
        last = e
      }
    }
  }
}

/// Writes timelines of an `EventGraph` as Chrome trace-event JSON (opens in Perfetto and
/// chrome://tracing), streaming — no tree is built, so million-event timelines are cheap.
///
/// Each timeline is a process group: process `"<label> rank R"` per rank, one thread per lane
/// (`thread_name` metadata), complete (`X`) events in microseconds with ns fractions. Flow
/// events link each collective instance's members (`cat: "collective"`). Output is
/// deterministic (events in graph order, fixed number formatting).
public enum ChromeTraceWriter {
  public struct WriteError: Error, CustomStringConvertible {
    public var description: String
  }

  /// One process group of the output: a timeline of a graph, with its label and, optionally,
  /// analyses drawn on top.
  public struct Group: Sendable {
    public var label: String
    public var graph: EventGraph
    public var timeline: Timeline
    public var annotations: TraceAnnotations?

    public init(_ label: String, graph: EventGraph, timeline: Timeline, annotations: TraceAnnotations? = nil) {
      (self.label, self.graph, self.timeline, self.annotations) = (label, graph, timeline, annotations)
    }
  }

  public static func write(graph g: EventGraph, timelines: [(String, Timeline)], to path: String) throws {
    try write(graph: g, timelines: timelines.map { ($0.0, $0.1, nil) }, to: path)
  }

  /// As above, with analyses drawn on each timeline that has annotations.
  public static func write(graph g: EventGraph, timelines: [(String, Timeline, TraceAnnotations?)], to path: String)
    throws
  {
    try write(timelines.map { Group($0.0, graph: g, timeline: $0.1, annotations: $0.2) }, to: path)
  }

  /// Writes groups that may come from different graphs (a recorded run and simulated schedules):
  /// each group's ranks get their own processes, numbered after the previous group's.
  /// - Throws: `WriteError` when the file cannot be written.
  public static func write(_ groups: [Group], to path: String) throws {
    guard let f = fopen(path, "w") else {
      throw WriteError(description: "\(path): cannot write: \(String(cString: strerror(errno)))")
    }
    defer { fclose(f) }
    var out = EventStream(file: f)
    out.put("{\"displayTimeUnit\": \"ns\", \"traceEvents\": [\n")
    var base = 1
    for (t, group) in groups.enumerated() {
      let (label, g, tl, notes) = (group.label, group.graph, group.timeline, group.annotations)
      let rankIndex = Dictionary(uniqueKeysWithValues: g.ranks.enumerated().map { ($1.rank, $0) })
      let groupBase = base
      base += g.ranks.count + 1
      let pid = { (rank: RankID) in groupBase + (rankIndex[rank] ?? 0) }
      metadata(g, label: label, base: groupBase, pid: pid, &out)
      for e in 0..<g.eventCount {
        let lane = g.lane[e].index
        let dur = max(.zero, tl.end[e] - tl.start[e])
        // One literal (a line continuation, not `+`): this line runs once per event.
        out.event(
          """
          {"ph": "X", "cat": "\(g.kind[e].name)", "name": "\(esc(g.strings[g.name[e]]))", \
          "pid": \(pid(g.lanes[lane].rank)), "tid": \(lane), "ts": \(us(tl.start[e])), "dur": \(us(dur))}
          """)
      }
      if let notes { annotations(notes, g, tl, timelineIndex: t, pid: pid, &out) }
      collectiveFlows(g, tl, timelineIndex: t, pid: pid, &out)
    }
    out.put("\n]}\n")
    out.flush()
    if ferror(f) != 0 { throw WriteError(description: "\(path): write failed") }
  }

  /// One process per rank (named and sorted) and one thread per lane.
  static func metadata(_ g: EventGraph, label: String, base: Int, pid: (RankID) -> Int, _ out: inout EventStream) {
    for (i, r) in g.ranks.enumerated() {
      out.event(
        "{\"ph\": \"M\", \"name\": \"process_name\", \"pid\": \(base + i), \"args\": {\"name\": \"\(esc(label)) rank \(r.rank)\"}}"
      )
      out.event(
        "{\"ph\": \"M\", \"name\": \"process_sort_index\", \"pid\": \(base + i), \"args\": {\"sort_index\": \(base + i)}}"
      )
    }
    for (l, lane) in g.lanes.enumerated() {
      out.event(
        "{\"ph\": \"M\", \"name\": \"thread_name\", \"pid\": \(pid(lane.rank)), \"tid\": \(l), "
          + "\"args\": {\"name\": \"\(esc(g.strings[lane.name]))\"}}")
    }
  }

  /// Extra tracks per rank after the lanes (one per distinct track name, in first-seen order),
  /// and the critical path as arrows from each path event to the next.
  static func annotations(
    _ notes: TraceAnnotations, _ g: EventGraph, _ tl: Timeline, timelineIndex t: Int,
    pid: (RankID) -> Int, _ out: inout EventStream
  ) {
    var trackID: [String: Int] = [:]
    for s in notes.slices {
      let key = "\(s.rank.rawValue)/\(s.track)"
      let id = trackID[key] ?? g.lanes.count + trackID.count
      if trackID[key] == nil {
        trackID[key] = id
        out.event(
          "{\"ph\": \"M\", \"name\": \"thread_name\", \"pid\": \(pid(s.rank)), \"tid\": \(id), "
            + "\"args\": {\"name\": \"\(esc(s.track))\"}}")
      }
      out.event(
        "{\"ph\": \"X\", \"cat\": \"\(esc(s.category))\", \"name\": \"\(esc(s.name))\", \"pid\": \(pid(s.rank)), "
          + "\"tid\": \(id), \"ts\": \(us(s.start)), \"dur\": \(us(max(.zero, s.end - s.start)))}")
    }
    var pathID = t * 10_000_000 + 5_000_000
    for (a, b) in zip(notes.flow, notes.flow.dropFirst()) {
      pathID += 1
      out.event(
        "{\"ph\": \"s\", \"cat\": \"critical_path\", \"name\": \"critical path\", \"id\": \(pathID), "
          + "\"pid\": \(pid(g.rank(of: a))), \"tid\": \(g.lane[a].index), "
          + "\"ts\": \(us(max(tl.start[a], tl.end[a] - Nanoseconds(1))))}")
      out.event(
        "{\"ph\": \"f\", \"bp\": \"e\", \"cat\": \"critical_path\", \"name\": \"critical path\", \"id\": \(pathID), "
          + "\"pid\": \(pid(g.rank(of: b))), \"tid\": \(g.lane[b].index), \"ts\": \(us(tl.start[b]))}")
    }
  }

  /// Collective instances as flows from the first member to the others.
  static func collectiveFlows(
    _ g: EventGraph, _ tl: Timeline, timelineIndex t: Int, pid: (RankID) -> Int,
    _ out: inout EventStream
  ) {
    var flowID = t * 10_000_000
    for inst in g.instances where inst.members.count >= 2 {
      let from = inst.members[0].index
      for m in inst.members.dropFirst() {
        flowID += 1
        let to = m.index
        out.event(
          "{\"ph\": \"s\", \"cat\": \"collective\", \"name\": \"\(inst.kind.name)\", \"id\": \(flowID), "
            + "\"pid\": \(pid(g.rank(of: from))), \"tid\": \(g.lane[from].index), \"ts\": \(us(tl.start[from]))}")
        out.event(
          "{\"ph\": \"f\", \"bp\": \"e\", \"cat\": \"collective\", \"name\": \"\(inst.kind.name)\", "
            + "\"id\": \(flowID), \"pid\": \(pid(g.rank(of: to))), \"tid\": \(g.lane[to].index), "
            + "\"ts\": \(us(tl.start[to]))}")
      }
    }
  }

  /// A JSON string body: quotes, backslashes and control characters escaped.
  static func esc(_ s: String) -> String {
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

  /// Microseconds with exactly three decimals (the nanoseconds), no floating point.
  static func us(_ time: Nanoseconds) -> String {
    let ns = time.rawValue
    let neg = ns < 0
    let a = neg ? -ns : ns
    let frac = a % 1000
    let fs = frac < 10 ? "00\(frac)" : frac < 100 ? "0\(frac)" : "\(frac)"
    return (neg ? "-" : "") + "\(a / 1000).\(fs)"
  }
}

/// Buffered events into a C stream, separated by commas.
struct EventStream {
  let file: UnsafeMutablePointer<FILE>
  var buffer: [UInt8] = []
  var first = true

  init(file: UnsafeMutablePointer<FILE>) {
    self.file = file
    buffer.reserveCapacity(1 << 20)
  }

  mutating func flush() {
    buffer.withUnsafeBytes { _ = fwrite($0.baseAddress, 1, $0.count, file) }
    buffer.removeAll(keepingCapacity: true)
  }

  mutating func put(_ s: String) {
    buffer.append(contentsOf: s.utf8)
    if buffer.count > 1 << 20 { flush() }
  }

  mutating func event(_ s: String) {
    if !first { put(",\n") }
    put(s)
    first = false
  }
}
