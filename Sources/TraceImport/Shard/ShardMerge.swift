import TraceModel

/// A shard read for its tables only (`ShardReader.read(deferEvents:)`): its event and edge columns
/// are still in the mapped file, to be decoded straight into the merged graph (`ShardMerge`).
///
/// The reader points into `source`'s mapping, which this object keeps alive; nothing writes to it,
/// so the columns are decoded from several threads at once.
final class DeferredShard: @unchecked Sendable {
  let reader: ShardReader
  let source: ByteSource
  let eventCount: Int
  let edgeCount: Int

  init(reader: ShardReader, source: ByteSource, eventCount: Int, edgeCount: Int) {
    self.reader = reader
    self.source = source
    self.eventCount = eventCount
    self.edgeCount = edgeCount
  }

  /// `tables` (the graph `read(deferEvents: true)` gave) with its own columns decoded.
  func materialized(_ tables: EventGraph) throws -> EventGraph {
    var g = tables
    try withExtendedLifetime(source) { try reader.events(into: &g, count: eventCount, edges: edgeCount) }
    return g
  }
}

/// The ranks of a run read from shards, merged without a copy: the merged tables first
/// (`EventGraph.mergedTables`), then each merged column allocated once, advised for huge pages
/// (`FreshMemory`), and filled by decoding every shard's section into its slice, shards side by
/// side. Each value is checked as `ShardReader` checks it for one shard (ids below the shard's own
/// tables, edge offsets in order, no parent cycle) before it is moved to the merged ids, so the
/// result is the graph `EventGraph.merging` makes of the shards' graphs.
enum ShardMerge {
  /// - Throws: `TraceImportError.malformed` for a damaged column, as reading its shard alone would
  ///   (columns are decoded one after another, each over all shards: the error names the first
  ///   shard in rank order whose column is damaged, in the order the columns are decoded), or for
  ///   shards whose events or edges together reach 2^32; `TraceImportError.insufficientMemory`
  ///   when the merged columns would not fit in the memory available (`MemoryBudget`).
  static func merge(tables parts: [EventGraph], shards: [DeferredShard]) throws -> EventGraph {
    try checkTotals(shards)
    let (b, layout) = EventGraph.mergedTables(
      parts, eventCounts: shards.map(\.eventCount), edgeCounts: shards.map(\.edgeCount))
    let n = layout.eventCount
    let e = layout.edgeCount
    let laneCounts = parts.map(\.lanes.count)
    let nameCounts = parts.map(\.strings.count)
    let fill = Fill(shards: shards, layout: layout)
    let lane: [LaneID] = try fill.events(n) { r, p, out in
      try r.ids("event.lane", into: out, limit: laneCounts[p], adding: Int64(layout.laneBase[p]))
    }
    let name: [NameID] = try fill.events(n) { r, p, out in
      try r.ids("event.name", into: out, limit: nameCounts[p])
      let map = layout.nameMaps[p]
      for i in out.indices { out[i] = map[out[i].index] }
    }
    let kind: [EventKind] = try fill.events(n) { r, _, out in try r.enumColumn("event.kind", into: out) }
    let detail: [UInt8] = try fill.events(n) { r, _, out in try r.column("event.detail", into: out) }
    let start: [Int64] = try fill.events(n) { r, _, out in try r.column("event.start", into: out) }
    let duration: [Int64] = try fill.events(n) { r, _, out in try r.column("event.duration", into: out) }
    let bytes: [Int64] = try fill.events(n) { r, _, out in try r.column("event.bytes", into: out) }
    let correlation: [Int64] = try fill.events(n) { r, _, out in try r.column("event.corr", into: out) }
    let sourceIndex: [UInt32] = try fill.events(n) { r, _, out in try r.column("event.source", into: out) }
    // Whether each shard's parents all come before their children (what every importer writes):
    // then no chain can loop, and the merged graph needs no walk for cycles.
    let backward = Shared(UnsafeMutableBufferPointer<Bool>.allocate(capacity: shards.count))
    defer { backward.buffer.deallocate() }
    backward.buffer.initialize(repeating: false)
    let parent: [EventID] = try fill.events(n) { r, p, out in
      try r.ids("event.parent", into: out, limit: out.count, optional: true)
      let base = layout.eventBase[p]
      var ordered = true
      for i in out.indices where out[i] != .none {
        ordered = ordered && out[i].index < i
        out[i] = EventID(rawValue: out[i].rawValue + base)
      }
      backward.buffer[p] = ordered
    }
    let edgeOffsets = try fill.edgeOffsets(n)
    let edgeTargets: [EventID] = try fill.edges(e) { r, p, out in
      try r.ids("edge.target", into: out, limit: shards[p].eventCount, adding: Int64(layout.eventBase[p]))
    }
    let edgeKinds: [EdgeKind] = try fill.edges(e) { r, _, out in try r.enumColumn("edge.kind", into: out) }
    let g = EventGraph(
      restoring: b.strings, lanes: b.lanes, ranks: b.ranks, lane: lane, name: name, kind: kind, detail: detail,
      start: start, duration: duration, bytes: bytes, correlation: correlation, parent: parent,
      sourceIndex: sourceIndex, edgeOffsets: edgeOffsets, edgeTargets: edgeTargets, edgeKinds: edgeKinds,
      steps: b.steps, collectives: b.collectives, instances: b.instances, p2p: b.p2p, memory: b.memory,
      opShapes: b.opShapes)
    if !backward.buffer.allSatisfy({ $0 }), let cycle = g.parentCycle() {
      let p =
        shards.indices.first {
          Int(layout.eventBase[$0]) <= cycle && cycle < Int(layout.eventBase[$0]) + shards[$0].eventCount
        }
        ?? 0
      let r = shards[p].reader
      throw r.fail(
        r.offset(of: "event.parent"), "parent links that end at a root",
        "a cycle through event \(cycle - Int(layout.eventBase[p]))")
    }
    return g
  }

  /// Bytes the merged graph's columns take per event and per edge (`EventGraph.byteCount`).
  static let bytesPerEvent = 54
  static let bytesPerEdge = 5

  /// The shards' events and edges together fit the graph's 32-bit ids, and their columns fit in
  /// the memory available; checked before anything is allocated, naming the shard that crosses.
  static func checkTotals(_ shards: [DeferredShard]) throws {
    var (events, edges) = (0, 0)
    for s in shards {
      events += s.eventCount
      edges += s.edgeCount
      guard events < Int(UInt32.max), edges <= Int(UInt32.max) else {
        throw s.reader.fail(
          48, "events and edges below 2^32 over all the shards of a run",
          "\(events) events and \(edges) edges up to this shard")
      }
    }
    let need = MemoryBudget.fixedBytes + Int64(events * bytesPerEvent + edges * bytesPerEdge)
    if let available = MemoryBudget.available(), need > available,
      let largest = shards.max(by: { $0.eventCount < $1.eventCount })
    {
      throw TraceImportError.insufficientMemory(
        file: largest.reader.file, neededBytes: need, availableBytes: available,
        basis: .shardColumns(events: Int64(events), edges: Int64(edges)))
    }
  }

  /// Fills merged columns from the shards, one slice per shard, shards side by side.
  private struct Fill: Sendable {
    let shards: [DeferredShard]
    let layout: EventGraph.MergeLayout

    /// A column of `count` values per event; `body` decodes shard `p`'s into its slice.
    func events<T>(
      _ count: Int, _ body: @Sendable (ShardReader, Int, UnsafeMutableBufferPointer<T>) throws -> Void
    ) throws -> [T] {
      try column(
        count, range: { p in Int(layout.eventBase[p])..<Int(layout.eventBase[p]) + shards[p].eventCount }, body)
    }

    /// A column of `count` values per edge.
    func edges<T>(
      _ count: Int, _ body: @Sendable (ShardReader, Int, UnsafeMutableBufferPointer<T>) throws -> Void
    ) throws -> [T] {
      try column(count, range: { p in Int(layout.edgeBase[p])..<Int(layout.edgeBase[p]) + shards[p].edgeCount }, body)
    }

    /// The merged CSR offsets (`n + 1` values): 0, then each shard's offsets after its first
    /// (which must be 0), moved by the edges before it, in order and ending at its edge count.
    func edgeOffsets(_ n: Int) throws -> [UInt32] {
      try FreshMemory.array(count: n + 1) { (all: UnsafeMutableBufferPointer<UInt32>) in
        all[0] = 0
        let out = Shared(all)
        try each { p in
          let (r, shard) = (shards[p].reader, shards[p])
          let from = Int(layout.eventBase[p]) + 1
          let slice = out.slice(from..<from + shard.eventCount)
          let base = layout.edgeBase[p]
          try r.column("edge.offsets", into: slice, from: 1, limit: shard.edgeCount + 1, adding: Int64(base))
          let first = try r.element("edge.offsets", 0)
          let inOrder =
            first == 0 && (slice.last ?? base) == base + UInt32(shard.edgeCount)
            && (0..<slice.count).allSatisfy { $0 == 0 || slice[$0 - 1] <= slice[$0] }
          if !inOrder {
            throw r.fail(r.offset(of: "edge.offsets"), "edge offsets in order, ending at \(shard.edgeCount)", "others")
          }
        }
      }
    }

    private func column<T>(
      _ count: Int, range: (Int) -> Range<Int>,
      _ body: @Sendable (ShardReader, Int, UnsafeMutableBufferPointer<T>) throws -> Void
    ) throws -> [T] {
      let ranges = shards.indices.map(range)
      return try FreshMemory.array(count: count) { (all: UnsafeMutableBufferPointer<T>) in
        let out = Shared(all)
        try each { p in
          try withExtendedLifetime(shards[p].source) { try body(shards[p].reader, p, out.slice(ranges[p])) }
        }
      }
    }

    /// `body(p)` for every shard, side by side; the first error in shard order is thrown.
    private func each(_ body: @Sendable (Int) throws -> Void) throws {
      _ = try Parallel.map(shards.count) { p in try body(p) }
    }
  }

  /// A buffer shared by the threads that fill it, each writing its own slice.
  private struct Shared<T>: @unchecked Sendable {
    let buffer: UnsafeMutableBufferPointer<T>
    init(_ buffer: UnsafeMutableBufferPointer<T>) { self.buffer = buffer }
    func slice(_ r: Range<Int>) -> UnsafeMutableBufferPointer<T> { UnsafeMutableBufferPointer(rebasing: buffer[r]) }
  }
}
