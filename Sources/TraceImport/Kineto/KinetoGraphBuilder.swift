import TraceModel

/// Turns one tokenized Kineto file (`KinetoTrace`) into the `EventGraph` of one rank.
///
/// Decides each event's lane and kind (one table for categories, the classifiers for names),
/// orders events lane by lane, computes host nesting, and links within the rank: program
/// order, CPU launch → device work by `args.correlation` (flows are used only as a fallback
/// hint for device events without one), synchronize calls ← the device work they waited for,
/// and `c10d::` enqueue → the gloo collective it queued on a worker thread (by order).
/// Collective, send/recv and memory records are extracted with their sizes; cross-rank
/// matching is `MultiRankLinker`'s job. Problems are folded into counted diagnostics.
///
/// The phases live in `KinetoGraphBuilder+<Phase>.swift`: lanes, events (kinds, shapes, memory),
/// nesting and program order, launches, synchronization and steps, communication, enqueues.
struct KinetoGraphBuilder {
  /// The tokenized file; its large columns are freed as the phases finish with them
  /// (`addEvents`, `build`), so only its metadata and counts remain after `build`.
  var trace: KinetoTrace
  let rank: RankID
  var diagnostics = Diagnostics()

  init(trace: KinetoTrace, rank: RankID) {
    self.trace = trace
    self.rank = rank
  }

  struct NameInfo {
    var kind: EventKind
    var detail: UInt8
    var comm: CommOp?
  }

  /// Builds the rank's graph; the problems found are added to `diagnostics`. Called once: the
  /// trace's columns are freed as the graph is built.
  mutating func build() -> EventGraph {
    var b = EventGraph.Builder()
    addEventsAndEdges(into: &b)
    // The phases' tables (lane order, launches, kinds) are gone with `addEventsAndEdges`, and the
    // last large column of the trace goes here: `b.build()` lays the edges out beside the
    // events alone.
    trace.category = []
    return b.build()
  }

  /// Every phase of `build`, in order, up to laying out the edges.
  private mutating func addEventsAndEdges(into b: inout EventGraph.Builder) {
    // Strings: file ids map to NameIDs in file order (StringTable reserves 0 for "").
    let nameMap = trace.strings.map { b.strings.intern($0) }
    let categories = categoryKinds()
    var lanes = assignLanes(categories, into: &b)
    let order = LaneOrder(laneCount: lanes.keys.count, lanes: lanes.ofRecord, start: trace.ts, duration: trace.dur)
    let flows = flowHints(lanes: lanes, categories: categories)
    (trace.flows, trace.thread) = ([], [])
    let events = addEvents(in: order.events, lanes: lanes, categories: categories, nameMap: nameMap, into: &b)
    lanes.ofRecord = []
    b.opShapes += shapesOfUnextendedRecords(order: order.events, nameMap: nameMap, in: b)
    b.opShapes.sort { $0.event < $1.event }
    trace.shapes = []
    let nesting = nestAndOrder(order: order, lanes: lanes, in: &b)
    let launches = linkLaunches(order: order.events, lanes: lanes, categories: categories, flows: flows, in: &b)
    trace.externalID = []
    for (from, to) in syncEdges(lanes: lanes, launchedBy: launches.launchedBy, in: b) {
      b.addEdge(from: from, to: to, kind: .sync)
    }
    b.steps = profilerSteps(lanes: lanes, in: b)
    let described = extractCommunication(
      &b, order: order.events, recordInfo: events.info, launchedBy: launches.launchedBy,
      nameMap: nameMap)
    (trace.extraOf, trace.extras) = (ExtrasIndex(), ExtrasTable())
    let unlinked = linkCollectiveEnqueues(lanes: lanes, in: &b)
    if unlinked > 0 {
      diagnostics.note(
        "kineto.unlinkedEnqueue",
        "collectives on worker threads (gloo) have no c10d enqueue before them on another thread; "
          + "replayed without one", at: TraceLocation(file: trace.file), count: unlinked)
    }
    var info = rankInfo()
    let configured = Set(info.processGroups.map(\.name))
    info.processGroups += described.filter { !configured.contains($0.name) }
    b.ranks.append(info)
    reportProblems(events: events, nesting: nesting, launches: launches, in: b)
  }

  /// The category of each string used as one (`.unknown` for the other strings).
  func categoryKinds() -> [KinetoCategory] {
    let t = trace
    var kinds = [KinetoCategory](repeating: .unknown, count: t.strings.count)
    var isUsed = [Bool](repeating: false, count: t.strings.count)
    for i in 0..<t.recordCount { isUsed[Int(t.category[i])] = true }
    for (i, used) in isUsed.enumerated() where used { kinds[i] = KinetoCategory.of(t.strings[i]) }
    return kinds
  }

  /// The rank's record: file, world size, backend, devices, base time, the process groups of
  /// `pg_config` (those only the collectives' args describe are added by `build`).
  func rankInfo() -> RankInfo {
    let t = trace
    let deviceNames = t.deviceProperties?.arrayValue?.map { $0["name"]?.stringValue ?? "" } ?? []
    return RankInfo(
      rank: rank, file: t.file, worldSize: t.worldSize,
      backend: t.distributedInfo?["backend"]?.stringValue, deviceNames: deviceNames,
      baseTimeNanoseconds: t.baseTimeNanoseconds, processGroups: processGroupConfigs())
  }

  /// `distributedInfo.pg_config`: name, description and ranks of each process group.
  func processGroupConfigs() -> [ProcessGroupConfig] {
    (trace.distributedInfo?["pg_config"]?.arrayValue ?? []).compactMap { pg in
      guard let name = pg["pg_name"]?.stringValue ?? pg["pg_name"]?.intValue.map({ String($0) }) else { return nil }
      let ranks = pg["ranks"]?.arrayValue?.compactMap { $0.intValue.flatMap { Int32(exactly: $0) } } ?? []
      return ProcessGroupConfig(name: name, description: pg["pg_desc"]?.stringValue ?? "", ranks: ranks)
    }
  }

  /// Folds the problems the phases counted into diagnostics, one per kind of problem.
  mutating func reportProblems(
    events: AddedEvents, nesting: NestingStats, launches: LaunchStats,
    in b: EventGraph.Builder
  ) {
    let fileLoc = TraceLocation(file: trace.file)
    if nesting.overlaps > 0 {
      let ex =
        nesting.overlapExample.map {
          " (first: '\(b.strings[b.name[$0]].prefix(80))', event #\(b.sourceIndex[$0]))"
        } ?? ""
      diagnostics.warning(
        "kineto.overlap",
        "device work overlaps earlier work on the same stream; kept as measured\(ex)",
        at: fileLoc, count: nesting.overlaps)
    }
    if nesting.nonNesting > 0 {
      diagnostics.note(
        "kineto.nonNesting",
        "host spans overlap without nesting on their thread (async work such as gloo send/recv)",
        at: fileLoc, count: nesting.nonNesting)
    }
    if launches.withoutLaunch > 0 {
      diagnostics.note(
        "kineto.noLaunch",
        "device events have no traced CPU launch (launched before the trace window or no correlation)",
        at: fileLoc, count: launches.withoutLaunch)
    }
    if launches.orphanFlows > 0 {
      diagnostics.note(
        "kineto.orphanFlow", "flow 'f' events have no matching 's' (flows are hints only)", at: fileLoc,
        count: launches.orphanFlows)
    }
    let unknownKernels = events.unknownKernels
    if !unknownKernels.isEmpty {
      let total = unknownKernels.values.reduce(0, +)
      let examples = unknownKernels.keys.sorted().prefix(3).map { "'\(String($0.prefix(60)))'" }.joined(separator: ", ")
      diagnostics.note(
        "classify.unknownKernel",
        "\(unknownKernels.count) kernel names match no compute-class rule and count as 'other' "
          + "(e.g. \(examples))", at: fileLoc, count: total)
    }
    for (cat, count) in events.unknownCategories.sorted(by: { $0.key < $1.key }) {
      diagnostics.note(
        "kineto.unknownCategory", "events with unknown category '\(cat)' kept as kind 'other'",
        at: fileLoc, count: count)
    }
  }

  static func kindFor(_ op: CommOp) -> NameInfo {
    switch op {
    case .collective(let k): NameInfo(kind: .collective, detail: k.rawValue, comm: op)
    case .send: NameInfo(kind: .send, detail: 0, comm: op)
    case .recv: NameInfo(kind: .recv, detail: 0, comm: op)
    case .sendRecv, .generic: NameInfo(kind: .collective, detail: CollectiveKind.unknown.rawValue, comm: op)
    }
  }
}
