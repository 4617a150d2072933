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
public enum ChromeTraceWriter {
  public struct WriteError: Error, CustomStringConvertible {
    public var description: String
  }

  public static func write(graph g: EventGraph, timelines: [(String, Timeline)], to path: String) throws {
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
    func us(_ ns: Int64) -> String {
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
    for (t, (label, tl)) in timelines.enumerated() {
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
        let dur = max(0, tl.end[e] - tl.start[e])
        event("{\"ph\": \"X\", \"cat\": \"\(g.kind[e].name)\", \"name\": \"\(esc(g.strings[g.name[e]]))\", \"pid\": \(pid), \"tid\": \(lane), \"ts\": \(us(tl.start[e])), \"dur\": \(us(dur))}")
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
