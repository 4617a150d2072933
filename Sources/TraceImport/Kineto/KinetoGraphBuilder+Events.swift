import TraceModel

extension KinetoGraphBuilder {
  /// What adding the events found: each event's kind information and the names and categories
  /// no rule knows.
  struct AddedEvents {
    /// Kind, detail and communication operation of each event (event order).
    var info: [NameInfo]
    /// Kernel names that match no compute-class rule, with their counts.
    var unknownKernels: [String: Int]
    /// Unknown (and flow) categories of events, with their counts.
    var unknownCategories: [String: Int]
  }

  /// Appends one event per record to `b`, in lane order (`order[e]` is the record of event `e`),
  /// with its op shapes and memory records.
  ///
  /// The columns copied as they are (times, correlation, source index) are moved into event
  /// order one after another, and each is freed from the trace once moved, as are the names: a
  /// huge trace is not held beside its graph (docs/reliability.md, "Huge inputs").
  mutating func addEvents(
    in order: [Int32], lanes: Lanes, categories: [KinetoCategory], nameMap: [NameID],
    into b: inout EventGraph.Builder
  ) -> AddedEvents {
    var names = NameClassifier(nameCount: trace.strings.count)
    var unknownCategories: [String: Int] = [:]
    var recordInfo = [NameInfo]()
    recordInfo.reserveCapacity(order.count)
    precondition(b.eventCount == 0, "addEvents adds the graph's first events")
    b.lane.reserveCapacity(order.count)
    b.name.reserveCapacity(order.count)
    b.kind.reserveCapacity(order.count)
    b.detail.reserveCapacity(order.count)
    b.bytes.reserveCapacity(order.count)
    for (e, record) in order.enumerated() {
      let r = Int(record)
      let cat = categories[Int(trace.category[r])]
      if cat == .unknown || cat == .flow { unknownCategories[trace.strings[Int(trace.category[r])], default: 0] += 1 }
      var inf = names.info(cat, trace.name[r], strings: trace.strings)
      let x = trace.extraOf.entry(ofRecord: r).map { trace.extras[Int($0)] }
      var bytes: Int64 = 0
      if let x {
        if inf.kind == .memcpy || inf.kind == .memset { bytes = x.bytes ?? 0 }
        if inf.kind == .memory { bytes = x.memoryBytes ?? 0 }
        if cat == .mtiaDevice && inf.kind == .memcpy && x.direction >= 0 {
          inf.detail = MemcpyClassifier.direction(trace.strings[Int(x.direction)]).rawValue
        }
      }
      recordInfo.append(inf)
      b.lane.append(LaneID(rawValue: UInt32(lanes.ofRecord[r])))
      b.name.append(nameMap[Int(max(trace.name[r], 0))])
      b.kind.append(inf.kind)
      b.detail.append(inf.detail)
      b.bytes.append(bytes)
      guard let x else { continue }
      if inf.kind == .hostOp && inf.comm == nil && x.inputDims >= 0 {
        b.opShapes.append(
          OpShape(
            event: EventID(e), dims: nameMap[Int(x.inputDims)],
            types: x.inputType >= 0 ? nameMap[Int(x.inputType)] : .empty))
      }
      if inf.kind == .memory {
        b.memory.append(
          MemoryRecord(
            event: EventID(e), device: Int32(truncatingIfNeeded: x.deviceID ?? -1),
            delta: x.memoryBytes ?? 0, totalAllocated: x.totalAllocated ?? -1,
            totalReserved: x.totalReserved ?? -1))
      }
    }
    trace.name = []
    func moved<T>(_ column: [T]) -> [T] {
      [T](unsafeUninitializedCapacity: order.count) { out, n in
        for (e, r) in order.enumerated() { out.initializeElement(at: e, to: column[Int(r)]) }
        n = order.count
      }
    }
    b.start = moved(trace.ts)
    trace.ts = []
    b.duration = moved(trace.dur)
    trace.dur = []
    b.correlation = moved(trace.correlation)
    trace.correlation = []
    b.sourceIndex = moved(trace.index)
    trace.index = []
    b.parent = [EventID](repeating: .none, count: order.count)
    return AddedEvents(info: recordInfo, unknownKernels: names.unknownKernels, unknownCategories: unknownCategories)
  }

  /// The op shapes of host ops whose only extras are their shapes (`KinetoTrace.shapes`).
  func shapesOfUnextendedRecords(order: [Int32], nameMap: [NameID], in b: EventGraph.Builder) -> [OpShape] {
    var eventOf = [Int32](repeating: 0, count: order.count)
    for (e, r) in order.enumerated() { eventOf[Int(r)] = Int32(e) }
    return trace.shapes.compactMap { sh in
      let e = Int(eventOf[Int(sh.record)])
      guard b.kind[e] == .hostOp else { return nil }
      return OpShape(
        event: EventID(e), dims: nameMap[Int(sh.dims)],
        types: sh.types >= 0 ? nameMap[Int(sh.types)] : .empty)
    }
  }
}

/// Kinds of events by (category, name), cached: most names appear under one category, so the
/// first category seen for a name is checked first, then a cache by (category, name).
struct NameClassifier {
  private var cache: [Int64: KinetoGraphBuilder.NameInfo] = [:]
  private var byName: [Int32]
  private var byNameCategory: [KinetoCategory]
  private var infos: [KinetoGraphBuilder.NameInfo] = []
  /// Kernel names that match no compute-class rule, with the number of times each was classified.
  private(set) var unknownKernels: [String: Int] = [:]

  init(nameCount: Int) {
    byName = [Int32](repeating: -1, count: nameCount)
    byNameCategory = [KinetoCategory](repeating: .unknown, count: nameCount)
  }

  /// The kind information of an event of category `cat` named `strings[nameIndex]` (-1: no name).
  mutating func info(_ cat: KinetoCategory, _ nameIndex: Int32, strings: [String]) -> KinetoGraphBuilder.NameInfo {
    if nameIndex >= 0 {
      let slot = byName[Int(nameIndex)]
      if slot >= 0 && byNameCategory[Int(nameIndex)] == cat { return infos[Int(slot)] }
    }
    let key = Int64(cat.rawValue) << 32 | Int64(nameIndex)
    if let hit = cache[key] { return hit }
    let result = classify(cat, name: nameIndex < 0 ? "" : strings[Int(nameIndex)])
    cache[key] = result
    if nameIndex >= 0 && byName[Int(nameIndex)] < 0 {
      byName[Int(nameIndex)] = Int32(infos.count)
      byNameCategory[Int(nameIndex)] = cat
      infos.append(result)
    }
    return result
  }

  /// The category table, with the name classifiers for device work and communication.
  private mutating func classify(_ cat: KinetoCategory, name: String) -> KinetoGraphBuilder.NameInfo {
    typealias Info = KinetoGraphBuilder.NameInfo
    switch cat {
    case .kernel, .mtiaDevice:
      if cat == .mtiaDevice && name == "dma_request" {
        return Info(kind: .memcpy, detail: MemcpyDirection.unknown.rawValue, comm: nil)
      } else if let op = CommClassifier.kernelName(name) {
        return KinetoGraphBuilder.kindFor(op)
      }
      let (cls, matched) = KernelClassifier.classify(name)
      if !matched { unknownKernels[name, default: 0] += 1 }
      return Info(kind: .kernel, detail: cls.rawValue, comm: nil)
    case .memcpy: return Info(kind: .memcpy, detail: MemcpyClassifier.direction(name).rawValue, comm: nil)
    case .memset: return Info(kind: .memset, detail: 0, comm: nil)
    case .cpuOp, .pythonFunction, .mtiaRuntime, .overhead:
      return Info(kind: .hostOp, detail: 0, comm: CommClassifier.hostName(name)?.op)
    case .runtime:
      return Info(kind: SyncClassifier.isSync(name) ? .sync : .hostOp, detail: 0, comm: nil)
    case .userAnnotation:
      if let (backend, op) = CommClassifier.hostName(name), backend == "gloo" {
        // gloo runs the collective itself on a worker thread: the span is the collective.
        return KinetoGraphBuilder.kindFor(op)
      }
      return Info(kind: .annotation, detail: 0, comm: CommClassifier.hostName(name)?.op)
    case .gpuUserAnnotation, .trace, .profilerRange: return Info(kind: .annotation, detail: 0, comm: nil)
    case .cudaSync: return Info(kind: .sync, detail: 0, comm: nil)
    case .cpuInstant, .none:
      return Info(kind: name == "[memory]" ? .memory : .annotation, detail: 0, comm: nil)
    case .flow, .unknown:
      return Info(kind: .other, detail: 0, comm: nil)
    }
  }
}
