import TraceModel

extension KinetoGraphBuilder {
  /// What linking launches found.
  struct LaunchStats {
    /// The host event that launched each event, or -1.
    var launchedBy: [Int32]
    /// Device events without a traced launch.
    var withoutLaunch = 0
    /// Flow finish events without a start.
    var orphanFlows = 0
  }

  /// The host events that may launch device work, by the ids device events name them with.
  struct Launchers {
    /// Runtime calls (else CPU ops) by correlation id.
    var byCorrelation: IDIndex
    /// Second choice when a device event has no correlation id: its `External id` names the
    /// host op that launched it (the op, not the runtime call, since one op may launch several).
    var byExternalID: IDIndex
  }

  /// Event indices by a trace's integer id: a plain array over the ids' range when they are
  /// dense (profilers count correlation and external ids up from a base), else a dictionary.
  struct IDIndex {
    private var base: Int64 = 0
    private var dense: [Int32] = []
    private var sparse: [Int64: Int32] = [:]
    private let isDense: Bool

    /// An index for ids in `ids` (the ones that will be stored; others may be looked up).
    init(ids: some Sequence<Int64>) {
      var (lo, hi, n) = (Int64.max, Int64.min, 0)
      for id in ids {
        lo = min(lo, id)
        hi = max(hi, id)
        n += 1
      }
      // Dense when the range is at most 4× the ids (and an array of it is small).
      let (span, overflow) = hi.subtractingReportingOverflow(lo)
      if n > 0, !overflow, span <= Int64(4 * n + 1024) {
        isDense = true
        base = lo
        dense = [Int32](repeating: -1, count: Int(hi - lo) + 1)
      } else {
        isDense = false
      }
    }

    subscript(id: Int64) -> Int32? {
      get {
        guard isDense else { return sparse[id] }
        let (offset, overflow) = id.subtractingReportingOverflow(base)
        guard !overflow, offset >= 0, offset < Int64(dense.count) else { return nil }
        let v = dense[Int(offset)]
        return v < 0 ? nil : v
      }
      set {
        guard isDense else {
          sparse[id] = newValue
          return
        }
        // Only ids given to `init` are stored, so the offset is in range.
        dense[Int(id - base)] = newValue ?? -1
      }
    }
  }

  /// Adds launch edges, CPU launch → device event: by correlation id, else by external id, else
  /// by flow events (hints only).
  func linkLaunches(
    order: [Int32], lanes: Lanes, categories: [KinetoCategory],
    in b: inout EventGraph.Builder
  ) -> LaunchStats {
    let t = trace
    let launchers = findLaunchers(order: order, lanes: lanes, categories: categories, in: b)
    var stats = LaunchStats(launchedBy: [Int32](repeating: -1, count: order.count))
    var needFlowFallback: [Int] = []
    for e in 0..<order.count where lanes.isDevice(b.lane[e]) && b.kind[e] != .annotation && b.kind[e] != .sync {
      let c = b.correlation[e]
      let x = t.externalID[Int(order[e])]
      if c != 0, let h = launchers.byCorrelation[c] {
        b.addEdge(from: EventID(Int(h)), to: EventID(e), kind: .launch)
        stats.launchedBy[e] = h
      } else if c == 0 && x != 0, let h = launchers.byExternalID[x] {
        b.addEdge(from: EventID(Int(h)), to: EventID(e), kind: .launch)
        stats.launchedBy[e] = h
      } else if c == 0 {
        needFlowFallback.append(e)
      } else {
        stats.withoutLaunch += 1
      }
    }
    stats.orphanFlows = orphanFlowCount()
    let flowLaunches = launchesByFlow(of: needFlowFallback, order: order, lanes: lanes, in: b)
    for (e, h) in zip(needFlowFallback, flowLaunches) {
      if let h {
        b.addEdge(from: EventID(h), to: EventID(e), kind: .launch)
        stats.launchedBy[e] = Int32(h)
      } else {
        stats.withoutLaunch += 1
      }
    }
    return stats
  }

  /// The host events that device events can name as their launch.
  func findLaunchers(order: [Int32], lanes: Lanes, categories: [KinetoCategory], in b: EventGraph.Builder)
    -> Launchers
  {
    let t = trace
    let host = (0..<order.count).filter { !lanes.isDevice(b.lane[$0]) }
    var launchers = Launchers(
      byCorrelation: IDIndex(ids: host.lazy.map { b.correlation[$0] }.filter { $0 != 0 }),
      byExternalID: IDIndex(ids: host.lazy.map { t.externalID[Int(order[$0])] }.filter { $0 != 0 }))
    for e in host {
      let r = Int(order[e])
      let cat = categories[Int(t.category[r])]
      let c = b.correlation[e]
      if c != 0 && (cat == .runtime || cat == .mtiaRuntime || (cat == .cpuOp && launchers.byCorrelation[c] == nil)) {
        launchers.byCorrelation[c] = Int32(e)
      }
      let x = t.externalID[r]
      if x != 0 && cat == .cpuOp && launchers.byExternalID[x] == nil { launchers.byExternalID[x] = Int32(e) }
    }
    return launchers
  }

  /// Flow finish events (`ph: f`) whose id no start (`ph: s`) has.
  func orphanFlowCount() -> Int {
    let flows = trace.flows
    guard !flows.isEmpty else { return 0 }
    var startIDs = Set<UInt64>(minimumCapacity: flows.count / 2)
    for f in flows where f.phase == UInt8(ascii: "s") { startIDs.insert(f.id) }
    return flows.filter { $0.phase == UInt8(ascii: "f") && !startIDs.contains($0.id) }.count
  }

  /// For each device event of `events`, the host event a flow links it from, or nil: a flow's
  /// `s` at (thread, ts) of the host event → its `f` at (thread, ts) of the device event.
  func launchesByFlow(of events: [Int], order: [Int32], lanes: Lanes, in b: EventGraph.Builder) -> [Int?] {
    let t = trace
    guard !events.isEmpty, !t.flows.isEmpty else { return events.map { _ in nil } }
    var starts: [UInt64: FlowRecord] = [:]
    var finishes: [UInt64: FlowRecord] = [:]
    for f in t.flows {
      if f.phase == UInt8(ascii: "s") { starts[f.id] = f } else if f.phase == UInt8(ascii: "f") { finishes[f.id] = f }
    }
    struct At: Hashable {
      var thread: Int32
      var ts: Int64
    }
    var byPosition: [At: Int] = [:]
    for e in 0..<order.count {
      let r = Int(order[e])
      let at = At(thread: t.thread[r], ts: t.ts[r])
      if byPosition[at] == nil { byPosition[at] = e }
    }
    var flowTarget: [At: UInt64] = [:]
    for (id, f) in finishes { flowTarget[At(thread: f.thread, ts: f.ts)] = id }
    return events.map { e in
      let r = Int(order[e])
      guard let id = flowTarget[At(thread: t.thread[r], ts: t.ts[r])], let s = starts[id],
        let h = byPosition[At(thread: s.thread, ts: s.ts)], !lanes.isDevice(b.lane[h])
      else { return nil }
      return h
    }
  }
}
