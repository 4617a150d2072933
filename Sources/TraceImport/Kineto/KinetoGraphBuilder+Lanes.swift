import TraceModel

extension KinetoGraphBuilder {
  /// A lane's identity in the file: a thread, and whether its records are device work.
  struct LaneKey: Hashable {
    var thread: Int32
    var device: Bool
  }

  /// The lanes of the rank and the lane of each record.
  struct Lanes {
    /// The key of each lane, in lane order: host threads first, then by pid and tid.
    var keys: [LaneKey]
    /// The lane of each record (file order).
    var ofRecord: [Int32]

    /// Whether lane `l` is a device stream.
    func isDevice(_ l: LaneID) -> Bool { keys[Int(l.rawValue)].device }
  }

  /// Gives each record its lane, (thread, device?) → lane, and appends the lanes to `b`.
  func assignLanes(_ categories: [KinetoCategory], into b: inout EventGraph.Builder) -> Lanes {
    let t = trace
    let keys = sortedLaneKeys(categories)
    var laneSlot = [Int32](repeating: -1, count: t.threads.count * 2)
    for (i, k) in keys.enumerated() {
      laneSlot[Int(k.thread) * 2 + (k.device ? 1 : 0)] = Int32(i)
      let l = lane(for: k, strings: &b.strings)
      b.lanes.append(l)
    }
    var recordLane = [Int32](repeating: 0, count: t.recordCount)
    for i in 0..<t.recordCount {
      let dev = categories[Int(t.category[i])].isDevice
      recordLane[i] = laneSlot[Int(t.thread[i]) * 2 + (dev ? 1 : 0)]
    }
    return Lanes(keys: keys, ofRecord: recordLane)
  }

  /// The distinct (thread, device?) keys of the records: host threads first, then by pid, tid.
  func sortedLaneKeys(_ categories: [KinetoCategory]) -> [LaneKey] {
    let t = trace
    var isSeen = [Bool](repeating: false, count: t.threads.count * 2)
    var keys: [LaneKey] = []
    for i in 0..<t.recordCount {
      let dev = categories[Int(t.category[i])].isDevice
      let slot = Int(t.thread[i]) * 2 + (dev ? 1 : 0)
      if !isSeen[slot] {
        isSeen[slot] = true
        keys.append(LaneKey(thread: t.threads.isEmpty ? 0 : t.thread[i], device: dev))
      }
    }
    keys.sort { l, r in
      if l.device != r.device { return !l.device }
      let a = t.threads[Int(l.thread)]
      let c = t.threads[Int(r.thread)]
      if a.pid != c.pid { return idPrecedes(a.pid, c.pid) }
      if a.tid != c.tid { return idPrecedes(a.tid, c.tid) }
      return false
    }
    return keys
  }

  /// Order of pids and tids: numbers first (ascending), then names.
  func idPrecedes(_ a: TraceID, _ b: TraceID) -> Bool {
    switch (a, b) {
    case (.int(let x), .int(let y)): return x < y
    case (.int, .string): return true
    case (.string, .int): return false
    case (.string(let x), .string(let y)): return trace.strings[Int(x)] < trace.strings[Int(y)]
    }
  }

  /// The lane of `k`, its label interned into `strings`: the thread's name, else its string tid,
  /// else `thread N` / `stream N`.
  func lane(for k: LaneKey, strings: inout StringTable) -> Lane {
    let t = trace
    let key = t.threads[Int(k.thread)]
    let pid: Int64
    let tid: Int64
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
    return Lane(
      rank: rank, kind: k.device ? .deviceStream : .hostThread,
      device: k.device ? Int32(truncatingIfNeeded: pid) : -1, pid: pid, tid: tid,
      name: strings.intern(label))
  }
}
