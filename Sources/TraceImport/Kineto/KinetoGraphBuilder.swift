import TraceModel

/// Turns one tokenized Kineto file (`KinetoTrace`) into the `EventGraph` of one rank.
///
/// Decides each event's lane and kind (one table for categories, the classifiers for names),
/// orders events lane by lane, computes host nesting, and links within the rank: program
/// order, CPU launch → device work by `args.correlation` (flows are used only as a fallback
/// hint for device events without one), synchronize calls ← the device work they waited for.
/// Collective, send/recv and memory records are extracted with their sizes; cross-rank
/// matching is `MultiRankLinker`'s job. Problems are folded into counted diagnostics.
struct KinetoGraphBuilder {
  let trace: KinetoTrace
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

  mutating func build() -> EventGraph {
    let t = trace
    let n = t.recordCount
    var b = EventGraph.Builder()
    b.reserveEvents(n)

    // Strings: file ids map to NameID id+1 (StringTable reserves 0 for "").
    for s in t.strings { _ = b.strings.intern(s) }
    var nameMap = [NameID](repeating: .empty, count: t.strings.count)
    for (i, s) in t.strings.enumerated() { nameMap[i] = b.strings.lookup(s)! }

    // Categories.
    var catKind = [KinetoCategory](repeating: .unknown, count: t.strings.count)
    var categoryUsed = [Bool](repeating: false, count: t.strings.count)
    for i in 0..<n { categoryUsed[Int(t.category[i])] = true }
    for (i, used) in categoryUsed.enumerated() where used { catKind[i] = KinetoCategory.of(t.strings[i]) }

    // Lanes: (thread, device?) → lane, ordered host threads first, then by pid/tid.
    struct LaneKey: Hashable { var thread: Int32; var device: Bool }
    var laneSlot = [Int32](repeating: -1, count: t.threads.count * 2)
    var laneKeys: [LaneKey] = []
    for i in 0..<n {
      let dev = catKind[Int(t.category[i])].isDevice
      let slot = Int(t.thread[i]) * 2 + (dev ? 1 : 0)
      if laneSlot[slot] < 0 {
        laneSlot[slot] = 0
        laneKeys.append(LaneKey(thread: t.threads.isEmpty ? 0 : t.thread[i], device: dev))
      }
    }
    func idOrder(_ a: TraceID, _ b: TraceID) -> Bool {
      switch (a, b) {
      case (.int(let x), .int(let y)): return x < y
      case (.int, .string): return true
      case (.string, .int): return false
      case (.string(let x), .string(let y)): return t.strings[Int(x)] < t.strings[Int(y)]
      }
    }
    laneKeys.sort { l, r in
      if l.device != r.device { return !l.device }
      let a = t.threads[Int(l.thread)], c = t.threads[Int(r.thread)]
      if a.pid != c.pid { return idOrder(a.pid, c.pid) }
      if a.tid != c.tid { return idOrder(a.tid, c.tid) }
      return false
    }
    for (i, k) in laneKeys.enumerated() {
      laneSlot[Int(k.thread) * 2 + (k.device ? 1 : 0)] = Int32(i)
      let key = t.threads[Int(k.thread)]
      let pid: Int64, tid: Int64
      if case .int(let p) = key.pid { pid = p } else { pid = -1 }
      switch key.tid {
      case .int(let q): tid = q
      case .string(let sid):
        // Legacy traces name streams "stream 7": keep the number.
        tid = Int64(String(t.strings[Int(sid)].reversed().prefix { $0.isNumber }.reversed())) ?? -1
      }
      let label: String
      if k.device {
        if let name = t.threadNames[key] {
          label = String(name.drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
        } else if case .string(let sid) = key.tid {
          label = t.strings[Int(sid)]
        } else {
          label = "stream \(tid)"
        }
      } else if let name = t.threadNames[key] {
        label = name
      } else if case .string(let s) = key.tid {
        label = t.strings[Int(s)]
      } else {
        label = "thread \(tid)"
      }
      b.lanes.append(Lane(rank: rank, kind: k.device ? .deviceStream : .hostThread,
                          device: k.device ? Int32(truncatingIfNeeded: pid) : -1, pid: pid, tid: tid,
                          name: b.strings.intern(label)))
    }
    var recordLane = [Int32](repeating: 0, count: n)
    for i in 0..<n {
      let dev = catKind[Int(t.category[i])].isDevice
      recordLane[i] = laneSlot[Int(t.thread[i]) * 2 + (dev ? 1 : 0)]
    }

    // Order: counting sort by lane, then (ts, -dur, file order) within each lane.
    var laneStart = [Int](repeating: 0, count: laneKeys.count + 1)
    for l in recordLane { laneStart[Int(l) + 1] += 1 }
    for i in 0..<laneKeys.count { laneStart[i + 1] += laneStart[i] }
    var order = [Int32](repeating: 0, count: n)
    var cursor = laneStart
    for i in 0..<n {
      let l = Int(recordLane[i])
      order[cursor[l]] = Int32(i)
      cursor[l] += 1
    }
    for l in 0..<laneKeys.count {
      let lo = laneStart[l], hi = laneStart[l + 1]
      var sorted = true
      var k = lo + 1
      while k < hi {
        let a = Int(order[k - 1]), c = Int(order[k])
        if t.ts[a] > t.ts[c] || (t.ts[a] == t.ts[c] && t.dur[a] < t.dur[c]) { sorted = false; break }
        k += 1
      }
      if !sorted {
        var keys = (lo..<hi).map { k -> (Int64, Int64, Int32) in
          let r = Int(order[k])
          return (t.ts[r], -t.dur[r], order[k])
        }
        keys.sort { $0 < $1 }
        for (k, key) in keys.enumerated() { order[lo + k] = key.2 }
      }
    }
    var eventOf = [Int32](repeating: 0, count: n)
    for (e, r) in order.enumerated() { eventOf[Int(r)] = Int32(e) }

    // Kinds, cached per (category family, name).
    var infoCache: [Int64: NameInfo] = [:]
    var unknownKernels: [String: Int] = [:]
    var unknownCategories: [String: Int] = [:]
    // Fast path: most names appear under one category; cache by name, check the category.
    var byName = [Int32](repeating: -1, count: t.strings.count)
    var byNameCategory = [KinetoCategory](repeating: .unknown, count: t.strings.count)
    var infos: [NameInfo] = []
    func info(_ cat: KinetoCategory, _ nameIndex: Int32) -> NameInfo {
      if nameIndex >= 0 {
        let slot = byName[Int(nameIndex)]
        if slot >= 0 && byNameCategory[Int(nameIndex)] == cat { return infos[Int(slot)] }
      }
      let key = Int64(cat.rawValue) << 32 | Int64(nameIndex)
      if let hit = infoCache[key] { return hit }
      let name = nameIndex < 0 ? "" : t.strings[Int(nameIndex)]
      var result: NameInfo
      switch cat {
      case .kernel, .mtiaDevice:
        if cat == .mtiaDevice && name == "dma_request" {
          result = NameInfo(kind: .memcpy, detail: MemcpyDirection.unknown.rawValue, comm: nil)
        } else if let op = CommClassifier.kernelName(name) {
          result = Self.kindFor(op)
        } else {
          let (cls, matched) = KernelClassifier.classify(name)
          if !matched { unknownKernels[name, default: 0] += 1 }
          result = NameInfo(kind: .kernel, detail: cls.rawValue, comm: nil)
        }
      case .memcpy: result = NameInfo(kind: .memcpy, detail: MemcpyClassifier.direction(name).rawValue, comm: nil)
      case .memset: result = NameInfo(kind: .memset, detail: 0, comm: nil)
      case .cpuOp, .pythonFunction, .mtiaRuntime, .overhead:
        result = NameInfo(kind: .hostOp, detail: 0, comm: CommClassifier.hostName(name)?.op)
      case .runtime:
        result = NameInfo(kind: SyncClassifier.isSync(name) ? .sync : .hostOp, detail: 0, comm: nil)
      case .userAnnotation:
        if let (backend, op) = CommClassifier.hostName(name), backend == "gloo" {
          // gloo runs the collective itself on a worker thread: the span is the collective.
          result = Self.kindFor(op)
        } else {
          result = NameInfo(kind: .annotation, detail: 0, comm: CommClassifier.hostName(name)?.op)
        }
      case .gpuUserAnnotation, .trace, .profilerRange: result = NameInfo(kind: .annotation, detail: 0, comm: nil)
      case .cudaSync: result = NameInfo(kind: .sync, detail: 0, comm: nil)
      case .cpuInstant, .none:
        result = NameInfo(kind: name == "[memory]" ? .memory : .annotation, detail: 0, comm: nil)
      case .flow, .unknown:
        result = NameInfo(kind: .other, detail: 0, comm: nil)
      }
      infoCache[key] = result
      if nameIndex >= 0 && byName[Int(nameIndex)] < 0 {
        byName[Int(nameIndex)] = Int32(infos.count)
        byNameCategory[Int(nameIndex)] = cat
        infos.append(result)
      }
      return result
    }

    // Events.
    var recordInfo = [NameInfo]()
    recordInfo.reserveCapacity(n)
    for e in 0..<n {
      let r = Int(order[e])
      let cat = catKind[Int(t.category[r])]
      if cat == .unknown || cat == .flow { unknownCategories[t.strings[Int(t.category[r])], default: 0] += 1 }
      var inf = info(cat, t.name[r])
      var bytes: Int64 = 0
      if t.extra[r] >= 0 {
        let x = t.extras[Int(t.extra[r])]
        if inf.kind == .memcpy || inf.kind == .memset { bytes = x.bytes ?? 0 }
        if inf.kind == .memory { bytes = x.memoryBytes ?? 0 }
        if cat == .mtiaDevice && inf.kind == .memcpy && x.direction >= 0 {
          inf.detail = MemcpyClassifier.direction(t.strings[Int(x.direction)]).rawValue
        }
      }
      recordInfo.append(inf)
      let ts = t.ts[r]
      b.addEvent(lane: LaneID(rawValue: UInt32(recordLane[r])), name: nameMap[Int(max(t.name[r], 0))],
                 kind: inf.kind, detail: inf.detail, start: ts, duration: t.dur[r], bytes: bytes,
                 correlation: t.correlation[r], parent: .none, sourceIndex: t.index[r])
      if inf.kind == .hostOp && inf.comm == nil, t.extra[r] >= 0 {
        let x = t.extras[Int(t.extra[r])]
        if x.inputDims >= 0 {
          b.opShapes.append(OpShape(event: EventID(e), dims: nameMap[Int(x.inputDims)],
                                    types: x.inputType >= 0 ? nameMap[Int(x.inputType)] : .empty))
        }
      }
      if inf.kind == .memory, t.extra[r] >= 0 {
        let x = t.extras[Int(t.extra[r])]
        b.memory.append(MemoryRecord(event: EventID(e), device: Int32(truncatingIfNeeded: x.deviceID ?? -1),
                                     delta: x.memoryBytes ?? 0, totalAllocated: x.totalAllocated ?? -1,
                                     totalReserved: x.totalReserved ?? -1))
      }
    }

    for sh in t.shapes {
      let e = Int(eventOf[Int(sh.record)])
      if b.kind[e] == .hostOp {
        b.opShapes.append(OpShape(event: EventID(e), dims: nameMap[Int(sh.dims)], types: sh.types >= 0 ? nameMap[Int(sh.types)] : .empty))
      }
    }
    b.opShapes.sort { $0.event < $1.event }

    // Nesting on host lanes, program order, overlap diagnostics on device lanes.
    var nonNesting = 0
    var overlaps = 0
    var overlapExample: Int? = nil
    var stack: [Int] = []
    for l in 0..<laneKeys.count {
      let lo = laneStart[l], hi = laneStart[l + 1]
      let isDevice = laneKeys[l].device
      stack.removeAll(keepingCapacity: true)
      var prevWork = -1
      var prevWorkEnd = Int64.min
      for e in lo..<hi {
        let k = b.kind[e]
        let s = b.start[e], en = s + b.duration[e]
        if !isDevice {
          while let top = stack.last {
            let topEnd = b.start[top] + b.duration[top]
            if topEnd <= s && !(b.start[top] == s && b.duration[top] >= b.duration[e]) { stack.removeLast() } else { break }
          }
          if let top = stack.last {
            if en <= b.start[top] + b.duration[top] {
              b.parent[e] = EventID(top)
            } else {
              nonNesting += 1
              // Keep the stack consistent: the straddling span closes what it outlives.
              while let t2 = stack.last, b.start[t2] + b.duration[t2] < en { stack.removeLast() }
              if let t2 = stack.last { b.parent[e] = EventID(t2) }
            }
          }
          if k != .memory && b.duration[e] > 0 { stack.append(e) }
        }
        let isWork = isDevice ? (k == .kernel || k == .memcpy || k == .memset || k == .collective || k == .send || k == .recv)
          : (k != .memory && k != .other)
        if isWork {
          if prevWork >= 0 { b.addEdge(from: EventID(prevWork), to: EventID(e), kind: .programOrder) }
          // 1 ns tolerance: µs timestamps and durations are rounded separately by the profiler.
          if isDevice && s + 1 < prevWorkEnd {
            overlaps += 1
            if overlapExample == nil { overlapExample = e }
          }
          prevWork = e
          prevWorkEnd = max(prevWorkEnd, en)
        }
      }
    }

    // Launch edges: runtime correlation → device event.
    var launcher = [Int64: Int32]()
    var launchedBy = [Int32](repeating: -1, count: n)
    for e in 0..<n where b.correlation[e] != 0 && !laneKeys[Int(b.lane[e].rawValue)].device {
      let cat = catKind[Int(t.category[Int(order[e])])]
      if cat == .runtime || cat == .mtiaRuntime || (cat == .cpuOp && launcher[b.correlation[e]] == nil) {
        launcher[b.correlation[e]] = Int32(e)
      }
    }
    var withoutLaunch = 0
    var needFlowFallback: [Int] = []
    // Second choice when a device event has no correlation id: its `External id` names the
    // host op that launched it (the op, not the runtime call, since one op may launch several).
    var externalOwner: [Int64: Int32] = [:]
    for e in 0..<n where !laneKeys[Int(b.lane[e].rawValue)].device {
      let x = t.externalID[Int(order[e])]
      if x != 0 && catKind[Int(t.category[Int(order[e])])] == .cpuOp && externalOwner[x] == nil { externalOwner[x] = Int32(e) }
    }
    for e in 0..<n where laneKeys[Int(b.lane[e].rawValue)].device && b.kind[e] != .annotation && b.kind[e] != .sync {
      let c = b.correlation[e]
      let x = t.externalID[Int(order[e])]
      if c != 0, let h = launcher[c] {
        b.addEdge(from: EventID(Int(h)), to: EventID(e), kind: .launch)
        launchedBy[e] = h
      } else if c == 0 && x != 0, let h = externalOwner[x] {
        b.addEdge(from: EventID(Int(h)), to: EventID(e), kind: .launch)
        launchedBy[e] = h
      } else if c == 0 {
        needFlowFallback.append(e)
      } else {
        withoutLaunch += 1
      }
    }
    var orphanFlows = 0
    if !t.flows.isEmpty {
      var startIDs = Set<UInt64>(minimumCapacity: t.flows.count / 2)
      for f in t.flows where f.phase == UInt8(ascii: "s") { startIDs.insert(f.id) }
      for f in t.flows where f.phase == UInt8(ascii: "f") && !startIDs.contains(f.id) { orphanFlows += 1 }
      if !needFlowFallback.isEmpty {
        // Flow hints: s at (thread, ts) → f at (thread, ts). Used for device events without correlation.
        var starts: [UInt64: FlowRecord] = [:]
        var finishes: [UInt64: FlowRecord] = [:]
        for f in t.flows {
          if f.phase == UInt8(ascii: "s") { starts[f.id] = f } else if f.phase == UInt8(ascii: "f") { finishes[f.id] = f }
        }
        struct At: Hashable { var thread: Int32; var ts: Int64 }
        var byPosition: [At: Int] = [:]
        for e in 0..<n {
          let r = Int(order[e])
          let at = At(thread: t.thread[r], ts: t.ts[r])
          if byPosition[at] == nil { byPosition[at] = e }
        }
        var flowTarget: [At: UInt64] = [:]
        for (id, f) in finishes { flowTarget[At(thread: f.thread, ts: f.ts)] = id }
        for e in needFlowFallback {
          let r = Int(order[e])
          if let id = flowTarget[At(thread: t.thread[r], ts: t.ts[r])], let s = starts[id],
             let h = byPosition[At(thread: s.thread, ts: s.ts)], !laneKeys[Int(b.lane[h].rawValue)].device {
            b.addEdge(from: EventID(h), to: EventID(e), kind: .launch)
            launchedBy[e] = Int32(h)
          } else {
            withoutLaunch += 1
          }
        }
      }
    } else {
      withoutLaunch += needFlowFallback.count
    }

    // Sync edges: the latest device work that ended inside a synchronize call and was launched before it.
    var deviceByEnd: [Int] = (0..<n).filter { b.kind[$0].isDeviceWork || b.kind[$0] == .collective && laneKeys[Int(b.lane[$0].rawValue)].device }
    deviceByEnd.sort { (b.start[$0] + b.duration[$0], $0) < (b.start[$1] + b.duration[$1], $1) }
    let deviceEnds = deviceByEnd.map { b.start[$0] + b.duration[$0] }
    for e in 0..<n where b.kind[e] == .sync && !laneKeys[Int(b.lane[e].rawValue)].device {
      let name = b.strings[b.name[e]]
      guard name.hasSuffix("Synchronize") || name == "cuCtxSynchronize" else { continue }
      let s = b.start[e], en = s + b.duration[e]
      var lo = 0, hi = deviceEnds.count
      while lo < hi { let mid = (lo + hi) / 2; if deviceEnds[mid] <= en { lo = mid + 1 } else { hi = mid } }
      var k = lo - 1
      var steps = 0
      while k >= 0 && deviceEnds[k] >= s && steps < 64 {
        let d = deviceByEnd[k]
        let h = launchedBy[d]
        if h >= 0 && b.start[Int(h)] < s {
          b.addEdge(from: EventID(d), to: EventID(e), kind: .sync)
          break
        }
        k -= 1
        steps += 1
      }
    }

    // Steps.
    for e in 0..<n where b.kind[e] == .annotation && !laneKeys[Int(b.lane[e].rawValue)].device {
      let name = b.strings[b.name[e]]
      if name.hasPrefix("ProfilerStep#"), let num = Int(name.dropFirst("ProfilerStep#".count)) {
        b.steps.append(Step(rank: rank, number: num, start: Nanoseconds(b.start[e]),
                            end: Nanoseconds(b.start[e] + b.duration[e]), event: EventID(e)))
      }
    }
    b.steps.sort { ($0.number, $0.start) < ($1.number, $1.start) }

    // Collectives and point-to-point.
    extractCommunication(&b, order: order, recordInfo: recordInfo, launchedBy: launchedBy, nameMap: nameMap)

    // Rank info.
    var deviceNames: [String] = []
    if let props = t.deviceProperties?.arrayValue {
      for p in props { deviceNames.append(p["name"]?.stringValue ?? "") }
    }
    b.ranks.append(RankInfo(rank: rank, file: t.file, worldSize: t.worldSize,
                            backend: t.distributedInfo?["backend"]?.stringValue, deviceNames: deviceNames,
                            baseTimeNanoseconds: t.baseTimeNanoseconds))

    // Diagnostics.
    let fileLoc = TraceLocation(file: t.file)
    if overlaps > 0 {
      let ex = overlapExample.map { " (first: '\(b.strings[b.name[$0]].prefix(80))', event #\(b.sourceIndex[$0]))" } ?? ""
      diagnostics.warning("kineto.overlap", "device work overlaps earlier work on the same stream; kept as measured\(ex)",
                          at: fileLoc, count: overlaps)
    }
    if nonNesting > 0 {
      diagnostics.note("kineto.nonNesting", "host spans overlap without nesting on their thread (async work such as gloo send/recv)",
                       at: fileLoc, count: nonNesting)
    }
    if withoutLaunch > 0 {
      diagnostics.note("kineto.noLaunch", "device events have no traced CPU launch (launched before the trace window or no correlation)",
                       at: fileLoc, count: withoutLaunch)
    }
    if orphanFlows > 0 {
      diagnostics.note("kineto.orphanFlow", "flow 'f' events have no matching 's' (flows are hints only)", at: fileLoc, count: orphanFlows)
    }
    if !unknownKernels.isEmpty {
      let total = unknownKernels.values.reduce(0, +)
      let examples = unknownKernels.keys.sorted().prefix(3).map { "'\(String($0.prefix(60)))'" }.joined(separator: ", ")
      diagnostics.note("classify.unknownKernel", "\(unknownKernels.count) kernel names match no compute-class rule and count as 'other' (e.g. \(examples))",
                       at: fileLoc, count: total)
    }
    for (cat, count) in unknownCategories.sorted(by: { $0.key < $1.key }) {
      diagnostics.note("kineto.unknownCategory", "events with unknown category '\(cat)' kept as kind 'other'", at: fileLoc, count: count)
    }
    return b.build()
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
