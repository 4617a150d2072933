import TraceModel

/// What changed between two runs: device time per kernel class, memcpy direction and
/// collective kind, sorted by impact (largest |Δ| first), plus the step times of each.
///
/// The runs are two traces (e.g. before and after a change) or one graph under two timelines
/// (measured vs. a what-if replay). Work is counted by step membership (`StepMembership`, as the
/// replay's step times): every device event that is work of a profiler step (or of the whole
/// trace, for a rank without steps) counts once with its full duration under the run's timeline,
/// summed over the ranks — so a what-if that moves work in time never changes which work is
/// counted, and a class it does not touch keeps its count and total. Keys: `kernel:<class>`
/// (gemm, attention, elementwise, reduction, other; the kernel classifier's classes),
/// `memcpy:<direction>`, `memset`, `collective:<kind>`, `sendRecv`. `byName` repeats the
/// comparison per event name (the 25 names with the largest |Δ|).
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

  /// The job window of each run (docs/Glossary.md), averaged over the steps.
  public var aStep: Nanoseconds
  public var bStep: Nanoseconds
  /// The job step of each run (first rank's entry to the step's last work), averaged over the steps.
  public var aJobStep: Nanoseconds
  public var bJobStep: Nanoseconds
  public var rows: [Row]
  public var byName: [Row]
  public var deltaStep: Nanoseconds { bStep - aStep }
  public var deltaJobStep: Nanoseconds { bJobStep - aJobStep }

  public static let topNames = 25

  public init(a: EventGraph, _ ta: Timeline, b: EventGraph, _ tb: Timeline) {
    let ma = StepMembership(a)
    let mb = a == b ? ma : StepMembership(b)
    let (ka, na) = Self.totals(a, ta, membership: ma)
    let (kb, nb) = Self.totals(b, tb, membership: mb)
    rows = Self.rows(ka, kb)
    byName = Array(Self.rows(na, nb).prefix(Self.topNames))
    let sa = StepSpans(a, membership: ma, timeline: ta)
    let sb = StepSpans(b, membership: mb, timeline: tb)
    (aStep, bStep) = (sa.meanJobWindow, sb.meanJobWindow)
    (aJobStep, bJobStep) = (sa.meanJobStep, sb.meanJobStep)
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

  /// Device time and count per class and per name of the step work of `g` under `t`.
  static func totals(_ g: EventGraph, _ t: Timeline, membership: StepMembership)
    -> ([String: (Nanoseconds, Int)], [String: (Nanoseconds, Int)])
  {
    var byKey: [String: (Nanoseconds, Int)] = [:]
    var byName: [String: (Nanoseconds, Int)] = [:]
    for e in 0..<g.eventCount where membership.step[e] != StepMembership.none && AnalysisIndex.isDeviceWork(g, e) {
      let k = key(g, e)
      let name = g.strings[g.name[e]]
      let d = t.end[e] - t.start[e]
      byKey[k, default: (.zero, 0)].0 += d
      byKey[k, default: (.zero, 0)].1 += 1
      byName[name, default: (.zero, 0)].0 += d
      byName[name, default: (.zero, 0)].1 += 1
    }
    return (byKey, byName)
  }
}
