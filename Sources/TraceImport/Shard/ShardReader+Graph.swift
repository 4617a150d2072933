import TraceModel

extension ShardReader {
  /// The event columns and the edges (CSR), every index checked against what it names.
  func events(into g: inout EventGraph, count n: Int, edges: Int) throws {
    let strings = g.strings.count
    g.lane = try ids("event.lane", count: n, limit: g.lanes.count)
    g.name = try ids("event.name", count: n, limit: strings)
    g.kind = try enumColumn("event.kind", count: n, EventKind.self)
    g.detail = try column("event.detail", count: n)
    g.start = try column("event.start", count: n)
    g.duration = try column("event.duration", count: n)
    g.bytes = try column("event.bytes", count: n)
    g.correlation = try column("event.corr", count: n)
    g.parent = try ids("event.parent", count: n, limit: n, optional: true)
    g.sourceIndex = try column("event.source", count: n)
    g.edgeOffsets = try column("edge.offsets", count: n + 1, limit: edges + 1)
    g.edgeTargets = try ids("edge.target", count: edges, limit: n)
    g.edgeKinds = try enumColumn("edge.kind", count: edges, EdgeKind.self)
    let offsetsOK =
      g.edgeOffsets.first == 0 && g.edgeOffsets.last == UInt32(edges)
      && g.edgeOffsets.withUnsafeBufferPointer { o in (1..<o.count).allSatisfy { o[$0 - 1] <= o[$0] } }
    if !offsetsOK { throw fail(offset(of: "edge.offsets"), "edge offsets in order, ending at \(edges)", "others") }
    if let e = g.parentCycle() {
      throw fail(offset(of: "event.parent"), "parent links that end at a root", "a cycle through event \(e)")
    }
  }

  /// Collectives, send/recv, allocator events and op shapes.
  func records(into g: inout EventGraph) throws {
    let n = eventCount
    let strings = g.strings.count
    let event: [UInt32] = try column("coll.event", atMost: n, limit: n)
    let c = event.count
    let kind = try enumColumn("coll.kind", count: c, CollectiveKind.self)
    let group: [UInt32] = try column("coll.group", count: c, limit: strings)
    let size: [Int32] = try column("coll.size", count: c)
    let rankOffsets: [Int] = try column("coll.ranks.off", count: c + 1)
    let ranks: [Int32] = try column("coll.ranks")
    let sequence: [Int32] = try column("coll.sequence", count: c)
    let traceSeq: [UInt8] = try column("coll.traceseq", count: c)
    let dtype: [UInt32] = try column("coll.dtype", count: c, limit: strings)
    let inBytes: [Int64] = try column("coll.inbytes", count: c)
    let outBytes: [Int64] = try column("coll.outbytes", count: c)
    let instance: [UInt32] = try column("coll.instance", count: c, limit: g.instances.count + 1)
    guard rankOffsets.first == 0, rankOffsets.last == ranks.count,
      zip(rankOffsets, rankOffsets.dropFirst()).allSatisfy({ $0 <= $1 })
    else { throw fail(offset(of: "coll.ranks.off"), "group rank offsets in order", "offsets out of order") }
    g.collectives = (0..<c).map { i in
      var r = CollectiveRecord(
        event: EventID(rawValue: event[i]), kind: kind[i], group: NameID(rawValue: group[i]), groupSize: size[i],
        groupRanks: Array(ranks[rankOffsets[i]..<rankOffsets[i + 1]]), sequence: sequence[i],
        dtype: NameID(rawValue: dtype[i]), inputBytes: inBytes[i], outputBytes: outBytes[i],
        instance: instance[i] == 0 ? nil : CollectiveInstanceID(rawValue: instance[i] - 1))
      r.hasTraceSequence = traceSeq[i] != 0
      return r
    }
    try pointToPoint(into: &g)
    let memEvent: [UInt32] = try column("mem.event", atMost: n, limit: n)
    let m = memEvent.count
    let device: [Int32] = try column("mem.device", count: m)
    let delta: [Int64] = try column("mem.delta", count: m)
    let allocated: [Int64] = try column("mem.allocated", count: m)
    let reserved: [Int64] = try column("mem.reserved", count: m)
    g.memory = (0..<m).map {
      MemoryRecord(
        event: EventID(rawValue: memEvent[$0]), device: device[$0], delta: delta[$0], totalAllocated: allocated[$0],
        totalReserved: reserved[$0])
    }
    let shapeEvent: [UInt32] = try column("shape.event", atMost: n, limit: n)
    let dims: [UInt32] = try column("shape.dims", count: shapeEvent.count, limit: strings)
    let types: [UInt32] = try column("shape.types", count: shapeEvent.count, limit: strings)
    g.opShapes = shapeEvent.indices.map {
      OpShape(
        event: EventID(rawValue: shapeEvent[$0]), dims: NameID(rawValue: dims[$0]), types: NameID(rawValue: types[$0]))
    }
  }

  private func pointToPoint(into g: inout EventGraph) throws {
    let events = eventCount
    let event: [UInt32] = try column("p2p.event", atMost: events, limit: events)
    let n = event.count
    let send: [UInt8] = try column("p2p.send", count: n)
    let hasPeer: [UInt8] = try column("p2p.haspeer", count: n)
    let peer: [Int32] = try column("p2p.peer", count: n)
    let bytes: [Int64] = try column("p2p.bytes", count: n)
    let match: [UInt32] = try column("p2p.match", count: n, limit: events + 1)
    g.p2p = (0..<n).map {
      P2PRecord(
        event: EventID(rawValue: event[$0]), isSend: send[$0] != 0,
        peer: hasPeer[$0] != 0 ? RankID(rawValue: peer[$0]) : nil,
        bytes: bytes[$0], match: match[$0] == 0 ? nil : EventID(rawValue: match[$0] - 1))
    }
  }

  /// A column of an enum's raw values, each checked to name a case.
  func enumColumn<E: RawRepresentable & CaseIterable>(_ tag: String, count: Int, _: E.Type) throws -> [E]
  where E.RawValue == UInt8 {
    try FreshMemory.array(count: count) { try enumColumn(tag, into: $0) }
  }

  /// The enum column `tag`, `out.count` long, decoded into `out` and checked as `enumColumn`: every
  /// stored byte is below the number of cases, and is then the case itself, since the shard's enums
  /// (`EventKind`, `EdgeKind`, `CollectiveKind`) declare their cases in raw-value order from 0
  /// (`isStoredAsRawValue`; an enum that breaks this traps in every shard test, whatever the input).
  func enumColumn<E: RawRepresentable & CaseIterable>(_ tag: String, into out: UnsafeMutableBufferPointer<E>) throws
  where E.RawValue == UInt8 {
    precondition(Self.isStoredAsRawValue(E.self), "\(E.self): cases must be declared in raw-value order from 0")
    try UnsafeMutableRawBufferPointer(out).withMemoryRebound(to: UInt8.self) {
      try column(tag, into: $0, limit: E.allCases.count)
    }
  }

  /// Whether each case of `E` is one byte in memory holding its raw value, and the raw values run
  /// 0, 1, 2, … (so the bytes a shard stores are the cases).
  static func isStoredAsRawValue<E: RawRepresentable & CaseIterable>(_: E.Type) -> Bool where E.RawValue == UInt8 {
    MemoryLayout<E>.size == 1 && MemoryLayout<E>.stride == 1
      && E.allCases.enumerated().allSatisfy { i, c in
        Int(c.rawValue) == i && withUnsafeBytes(of: c) { $0[0] == UInt8(i) }
      }
  }

  /// The indices the metadata's tables hold (lanes, steps, instances) name something that exists,
  /// so no later pass can trap on a crafted shard (the columns' indices are checked as they are
  /// decoded). The graph's own invariants (acyclic edges, parents on their lane) are checked by
  /// `EventGraph.validate` after linking, as for any import.
  func checkIndices(_ g: EventGraph) throws {
    let (n, strings) = (UInt32(eventCount), UInt32(g.strings.count))
    let metaAt = ShardFormat.headerBytes + sectionCount * ShardFormat.sectionEntryBytes
    func check(_ ok: Bool, _ what: String) throws {
      if !ok { throw fail(metaAt, what, "an index out of range in the metadata") }
    }
    try check(g.lanes.allSatisfy { $0.name.rawValue < strings }, "lane names in the string table")
    try check(g.steps.allSatisfy { $0.event.rawValue < n }, "steps on events that exist")
    try check(
      g.instances.allSatisfy { i in i.group.rawValue < strings && i.members.allSatisfy { $0.rawValue < n } },
      "collective instances of events that exist")
    try check(
      g.collectives.allSatisfy { c in c.instance.map { $0.index < g.instances.count } ?? true }, "instances that exist")
  }
}
