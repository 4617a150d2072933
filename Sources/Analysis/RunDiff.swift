import TraceModel

/// What changed between two runs: device time per kernel class, memcpy direction and
/// collective kind, sorted by impact (largest |Δ| first), plus the step time of each.
///
/// The runs are two traces (e.g. before and after a change) or one graph under two timelines
/// (measured vs. a what-if replay). Times are Σ over every rank of the device events' durations
/// inside each rank's window (profiler steps when present, else device span), so a class that
/// got faster on every rank moves by the sum. Keys: `kernel:<class>` (gemm, attention,
/// elementwise, reduction, other; the kernel classifier's classes), `memcpy:<direction>`,
/// `memset`, `collective:<kind>`, `sendRecv`. `byName` repeats the comparison per event name
/// (the 25 names with the largest |Δ|).
public struct RunDiff: Sendable, Equatable {
  public struct Row: Sendable, Equatable {
    public var key: String
    public var a: Nanoseconds
    public var b: Nanoseconds
    public var aCount: Int
    public var bCount: Int
    public var delta: Nanoseconds { b - a }
    /// Δ as a share of A's time; nil when A had none.
    public var deltaPct: Double? { a > .zero ? 100 * Double(delta.rawValue) / Double(a.rawValue) : nil }
  }

  public var aStep: Nanoseconds
  public var bStep: Nanoseconds
  public var rows: [Row]
  public var byName: [Row]
  public var deltaStep: Nanoseconds { bStep - aStep }

  public static let topNames = 25

  public init(a: EventGraph, _ ta: Timeline, b: EventGraph, _ tb: Timeline) {
    let (ka, na) = Self.totals(a, ta)
    let (kb, nb) = Self.totals(b, tb)
    rows = Self.rows(ka, kb)
    byName = Array(Self.rows(na, nb).prefix(Self.topNames))
    aStep = Self.stepTime(a, ta)
    bStep = Self.stepTime(b, tb)
  }

  static func rows(_ a: [String: (Nanoseconds, Int)], _ b: [String: (Nanoseconds, Int)]) -> [Row] {
    Set(a.keys).union(b.keys).map { k in
      Row(key: k, a: a[k]?.0 ?? .zero, b: b[k]?.0 ?? .zero, aCount: a[k]?.1 ?? 0, bCount: b[k]?.1 ?? 0)
    }.sorted { (abs($0.delta.rawValue), $1.key) > (abs($1.delta.rawValue), $0.key) }
  }

  /// The class of a device event, as used in `rows`.
  public static func key(_ g: EventGraph, _ e: Int) -> String {
    switch g.kind[e] {
    case .kernel: "kernel:" + (ComputeClass(rawValue: g.detail[e])?.name ?? "other")
    case .other: "kernel:other"
    case .memcpy: "memcpy:" + (MemcpyDirection(rawValue: g.detail[e])?.name ?? "unknown")
    case .memset: "memset"
    case .collective: "collective:" + (CollectiveKind(rawValue: g.detail[e])?.name ?? "unknown")
    case .send, .recv: "sendRecv"
    default: g.kind[e].name
    }
  }

  static func totals(_ g: EventGraph, _ t: Timeline) -> ([String: (Nanoseconds, Int)], [String: (Nanoseconds, Int)]) {
    let ix = AnalysisIndex(g, timeline: t)
    let frames = ix.frames(steps: true)
    var byKey: [String: (Nanoseconds, Int)] = [:]
    var byName: [String: (Nanoseconds, Int)] = [:]
    for l in ix.deviceByLane.indices {
      guard let first = ix.deviceByLane[l].first, let frame = frames[g.rank(of: Int(first)).rawValue] else { continue }
      for e32 in ix.deviceByLane[l] {
        let e = Int(e32)
        let inside = frame.intersection(IntervalSet([(t.start[e], t.end[e])])).measure
        if inside == .zero && t.end[e] > t.start[e] { continue }
        if inside == .zero && !frame.intervals.contains(where: { $0.start <= t.start[e] && t.start[e] < $0.end }) {
          continue
        }
        let k = key(g, e)
        let name = g.strings[g.name[e]]
        byKey[k, default: (.zero, 0)].0 += inside
        byKey[k, default: (.zero, 0)].1 += 1
        byName[name, default: (.zero, 0)].0 += inside
        byName[name, default: (.zero, 0)].1 += 1
      }
    }
    return (byKey, byName)
  }

  /// Mean job step (per step number: latest end − earliest start over ranks), or the device
  /// span of the whole run without steps.
  public static func stepTime(_ g: EventGraph, _ t: Timeline) -> Nanoseconds {
    var per: [Int: (Nanoseconds, Nanoseconds)] = [:]
    for s in g.steps where s.event != .none {
      let v = per[s.number] ?? (.max, .min)
      per[s.number] = (min(v.0, t.start[s.event.index]), max(v.1, t.end[s.event.index]))
    }
    if !per.isEmpty { return per.values.reduce(Nanoseconds.zero) { $0 + ($1.1 - $1.0) } / per.count }
    var lo = Nanoseconds.max
    var hi = Nanoseconds.min
    for e in 0..<g.eventCount where AnalysisIndex.isDeviceWork(g, e) {
      lo = min(lo, t.start[e])
      hi = max(hi, t.end[e])
    }
    return hi > lo ? hi - lo : .zero
  }
}
