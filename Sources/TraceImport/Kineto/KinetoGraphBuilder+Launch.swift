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
    order: [Int32], lanes: Lanes, categories: [KinetoCategory], flows: FlowHints,
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
    stats.orphanFlows = flows.orphanFinishes
    let flowLaunches = launchesByFlow(of: needFlowFallback, hints: flows, order: order, lanes: lanes, in: b)
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
    let host = (0..<order.count).lazy.filter { !lanes.isDevice(b.lane[$0]) }
    var launchers = Launchers(
      byCorrelation: IDIndex(ids: host.map { b.correlation[$0] }.filter { $0 != 0 }),
      byExternalID: IDIndex(ids: host.map { t.externalID[Int(order[$0])] }.filter { $0 != 0 }))
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

  /// Where a flow event sits: its thread (`KinetoTrace.threads` index) and time.
  struct FlowPosition: Hashable {
    var thread: Int32
    var ts: Int64
  }

  /// What the flow events can still tell once the records are read: how many finishes have no
  /// start, and, for each device record without a correlation id (the only ones the flow
  /// fallback serves), where the start of the flow that finishes at its position sits. Worked
  /// out before the events are added, so the flows (two for every three records of a GPU
  /// trace) are freed before the graph is built.
  struct FlowHints {
    var orphanFinishes = 0
    /// Record → the position of the start of the flow finishing at the record's position.
    var startOfRecord: [Int32: FlowPosition] = [:]
  }

  /// The flow hints of the trace (`FlowHints`). For several finishes with one id the last counts,
  /// as for several starts; for several finishes at one position, the first in the file.
  func flowHints(lanes: Lanes, categories: [KinetoCategory]) -> FlowHints {
    let flows = trace.flows
    var hints = FlowHints()
    guard !flows.isEmpty else { return hints }
    var startIDs = Set<UInt64>(minimumCapacity: flows.count / 2)
    for f in flows where f.phase == UInt8(ascii: "s") { startIDs.insert(f.id) }
    hints.orphanFinishes = flows.count { $0.phase == UInt8(ascii: "f") && !startIDs.contains($0.id) }
    startIDs = []
    var wanted: [FlowPosition: [Int32]] = [:]
    // The device records `linkLaunches` may ask about: no correlation id, and not of a category
    // whose events are always annotations or syncs (GPU user annotations carry none).
    for r in 0..<trace.recordCount where trace.correlation[r] == 0 && lanes.keys[Int(lanes.ofRecord[r])].device {
      let category = categories[Int(trace.category[r])]
      if category == .gpuUserAnnotation || category == .cudaSync { continue }
      wanted[FlowPosition(thread: trace.thread[r], ts: trace.ts[r]), default: []].append(Int32(r))
    }
    guard !wanted.isEmpty else { return hints }
    var startOf: [UInt64: FlowPosition] = [:]
    for f in flows where f.phase == UInt8(ascii: "s") { startOf[f.id] = FlowPosition(thread: f.thread, ts: f.ts) }
    var lastFinish: [UInt64: Int] = [:]
    for (i, f) in flows.enumerated() where f.phase == UInt8(ascii: "f") { lastFinish[f.id] = i }
    var taken = Set<FlowPosition>()
    for (i, f) in flows.enumerated() where f.phase == UInt8(ascii: "f") && lastFinish[f.id] == i {
      let at = FlowPosition(thread: f.thread, ts: f.ts)
      guard let records = wanted[at], taken.insert(at).inserted, let start = startOf[f.id] else { continue }
      for r in records { hints.startOfRecord[r] = start }
    }
    return hints
  }

  /// For each device event of `events`, the host event a flow links it from, or nil: a flow's
  /// `s` at (thread, ts) of the host event → its `f` at (thread, ts) of the device event. The
  /// thread of an event is its lane's.
  func launchesByFlow(
    of events: [Int], hints: FlowHints, order: [Int32], lanes: Lanes, in b: EventGraph.Builder
  ) -> [Int?] {
    let starts = Set(hints.startOfRecord.values)
    guard !events.isEmpty, !starts.isEmpty else { return events.map { _ in nil } }
    var byPosition: [FlowPosition: Int] = [:]
    for e in 0..<order.count {
      let at = FlowPosition(thread: lanes.keys[Int(b.lane[e].rawValue)].thread, ts: b.start[e])
      if starts.contains(at), byPosition[at] == nil { byPosition[at] = e }
    }
    return events.map { e in
      guard let s = hints.startOfRecord[order[e]], let h = byPosition[s], !lanes.isDevice(b.lane[h]) else { return nil }
      return h
    }
  }
}
