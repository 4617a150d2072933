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
    public var aNs: Int64
    public var bNs: Int64
    public var aCount: Int
    public var bCount: Int
    public var deltaNs: Int64 { bNs - aNs }
    /// Δ as a share of A's time; nil when A had none.
    public var deltaPct: Double? { aNs > 0 ? 100 * Double(deltaNs) / Double(aNs) : nil }
  }

  public var aStepNs: Int64
  public var bStepNs: Int64
  public var rows: [Row]
  public var byName: [Row]
  public var deltaStepNs: Int64 { bStepNs - aStepNs }

  public static let topNames = 25

  public init(a: EventGraph, _ ta: Timeline, b: EventGraph, _ tb: Timeline) {
    let (ka, na) = Self.totals(a, ta), (kb, nb) = Self.totals(b, tb)
    rows = Self.rows(ka, kb)
    byName = Array(Self.rows(na, nb).prefix(Self.topNames))
    aStepNs = Self.stepTime(a, ta)
    bStepNs = Self.stepTime(b, tb)
  }

  static func rows(_ a: [String: (Int64, Int)], _ b: [String: (Int64, Int)]) -> [Row] {
    Set(a.keys).union(b.keys).map { k in
      Row(key: k, aNs: a[k]?.0 ?? 0, bNs: b[k]?.0 ?? 0, aCount: a[k]?.1 ?? 0, bCount: b[k]?.1 ?? 0)
    }.sorted { (abs($0.deltaNs), $1.key) > (abs($1.deltaNs), $0.key) }
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

  static func totals(_ g: EventGraph, _ t: Timeline) -> ([String: (Int64, Int)], [String: (Int64, Int)]) {
    let ix = AnalysisIndex(g, timeline: t)
    let frames = ix.frames(steps: true)
    var byKey: [String: (Int64, Int)] = [:], byName: [String: (Int64, Int)] = [:]
    for l in ix.deviceByLane.indices {
      guard let first = ix.deviceByLane[l].first, let frame = frames[g.rank(of: Int(first)).rawValue] else { continue }
      for e32 in ix.deviceByLane[l] {
        let e = Int(e32)
        let inside = frame.intersection(IntervalSet([(t.start[e], t.end[e])])).measure
        if inside == 0 && t.end[e] > t.start[e] { continue }
        if inside == 0 && !frame.intervals.contains(where: { $0.start <= t.start[e] && t.start[e] < $0.end }) { continue }
        let k = key(g, e), name = g.strings[g.name[e]]
        byKey[k, default: (0, 0)].0 += inside; byKey[k, default: (0, 0)].1 += 1
        byName[name, default: (0, 0)].0 += inside; byName[name, default: (0, 0)].1 += 1
      }
    }
    return (byKey, byName)
  }

  /// Mean job step (per step number: latest end − earliest start over ranks), or the device
  /// span of the whole run without steps.
  public static func stepTime(_ g: EventGraph, _ t: Timeline) -> Int64 {
    var per: [Int: (Int64, Int64)] = [:]
    for s in g.steps where s.event != .none {
      let v = per[s.number] ?? (.max, .min)
      per[s.number] = (min(v.0, t.start[s.event.index]), max(v.1, t.end[s.event.index]))
    }
    if !per.isEmpty { return per.values.reduce(0) { $0 + ($1.1 - $1.0) } / Int64(per.count) }
    var lo = Int64.max, hi = Int64.min
    for e in 0..<g.eventCount where AnalysisIndex.isDeviceWork(g, e) { lo = min(lo, t.start[e]); hi = max(hi, t.end[e]) }
    return hi > lo ? hi - lo : 0
  }
}
