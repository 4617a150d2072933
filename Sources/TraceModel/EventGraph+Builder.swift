extension EventGraph {
  /// The mutable side of an `EventGraph`: importers append lanes, events and edges, then
  /// call `build()` once to get the immutable value (edges laid out in CSR form).
  public struct Builder: Sendable {
    public var strings = StringTable()
    public var lanes: [Lane] = []
    public var ranks: [RankInfo] = []
    public var lane: [LaneID] = []
    public var name: [NameID] = []
    public var kind: [EventKind] = []
    public var detail: [UInt8] = []
    public var start: [Int64] = []
    public var duration: [Int64] = []
    public var bytes: [Int64] = []
    public var correlation: [Int64] = []
    public var parent: [EventID] = []
    public var sourceIndex: [UInt32] = []
    public var steps: [Step] = []
    public var collectives: [CollectiveRecord] = []
    public var instances: [CollectiveInstance] = []
    public var p2p: [P2PRecord] = []
    public var memory: [MemoryRecord] = []
    public var opShapes: [OpShape] = []
    private var edgeFrom: [UInt32] = []
    private var edgeTo: [UInt32] = []
    private var edgeKind: [EdgeKind] = []
    /// The edges of the graph this builder was made from (`toBuilder`), kept in their CSR form
    /// rather than listed again: `build` puts each event's before the edges added since. A
    /// linker adds a few edges to a graph of millions, and the list would take 9 bytes an edge.
    fileprivate var baseOffsets: [UInt32] = [0]
    fileprivate var baseTargets: [EventID] = []
    fileprivate var baseKinds: [EdgeKind] = []

    public init() {}

    public var eventCount: Int { kind.count }

    /// Reserves room for `n` more events.
    public mutating func reserveEvents(_ n: Int) {
      let c = kind.count + n
      lane.reserveCapacity(c)
      name.reserveCapacity(c)
      kind.reserveCapacity(c)
      detail.reserveCapacity(c)
      start.reserveCapacity(c)
      duration.reserveCapacity(c)
      bytes.reserveCapacity(c)
      correlation.reserveCapacity(c)
      parent.reserveCapacity(c)
      sourceIndex.reserveCapacity(c)
    }

    /// Appends one event and returns its id.
    @discardableResult
    public mutating func addEvent(
      lane l: LaneID, name n: NameID, kind k: EventKind, detail d: UInt8 = 0,
      start s: Int64, duration du: Int64, bytes b: Int64 = 0, correlation c: Int64 = 0,
      parent p: EventID = .none, sourceIndex si: UInt32 = 0
    ) -> EventID {
      let id = EventID(kind.count)
      lane.append(l)
      name.append(n)
      kind.append(k)
      detail.append(d)
      start.append(s)
      duration.append(du)
      bytes.append(b)
      correlation.append(c)
      parent.append(p)
      sourceIndex.append(si)
      return id
    }

    /// Adds a typed edge `from → to`.
    public mutating func addEdge(from: EventID, to: EventID, kind k: EdgeKind) {
      edgeFrom.append(from.rawValue)
      edgeTo.append(to.rawValue)
      edgeKind.append(k)
    }

    public var pendingEdgeCount: Int { baseTargets.count + edgeFrom.count }

    /// Freezes the builder into an `EventGraph`.
    ///
    /// Each event's edges are those of the graph it was made from (`toBuilder`), then those
    /// added, in the order they were added.
    /// - Complexity: O(events + edges) (counting sort of edges by source).
    public func build() -> EventGraph {
      let n = kind.count
      let baseEvents = max(0, baseOffsets.count - 1)
      var offsets = [UInt32](repeating: 0, count: n + 1)
      for e in 0..<baseEvents { offsets[e + 1] = baseOffsets[e + 1] - baseOffsets[e] }
      for f in edgeFrom { offsets[Int(f) + 1] += 1 }
      for i in 0..<n { offsets[i + 1] += offsets[i] }
      var cursor = offsets
      let total = baseTargets.count + edgeFrom.count
      var targets = [EventID](repeating: .none, count: total)
      var kinds = [EdgeKind](repeating: .programOrder, count: total)
      for e in 0..<baseEvents {
        for i in Int(baseOffsets[e])..<Int(baseOffsets[e + 1]) {
          let slot = Int(cursor[e])
          cursor[e] += 1
          targets[slot] = baseTargets[i]
          kinds[slot] = baseKinds[i]
        }
      }
      for i in 0..<edgeFrom.count {
        let f = Int(edgeFrom[i])
        let slot = Int(cursor[f])
        cursor[f] += 1
        targets[slot] = EventID(rawValue: edgeTo[i])
        kinds[slot] = edgeKind[i]
      }
      return EventGraph(
        strings: strings, lanes: lanes, ranks: ranks, lane: lane, name: name, kind: kind, detail: detail,
        start: start, duration: duration, bytes: bytes, correlation: correlation, parent: parent,
        sourceIndex: sourceIndex, edgeOffsets: offsets, edgeTargets: targets, edgeKinds: kinds,
        steps: steps, collectives: collectives, instances: instances, p2p: p2p, memory: memory, opShapes: opShapes)
    }
  }

  /// A builder holding a copy of this graph's contents, to extend it (new edges, tables).
  public func toBuilder() -> Builder {
    var b = Builder()
    b.strings = strings
    b.lanes = lanes
    b.ranks = ranks
    b.lane = lane
    b.name = name
    b.kind = kind
    b.detail = detail
    b.start = start
    b.duration = duration
    b.bytes = bytes
    b.correlation = correlation
    b.parent = parent
    b.sourceIndex = sourceIndex
    b.steps = steps
    b.collectives = collectives
    b.instances = instances
    b.p2p = p2p
    b.memory = memory
    b.opShapes = opShapes
    (b.baseOffsets, b.baseTargets, b.baseKinds) = (edgeOffsets, edgeTargets, edgeKinds)
    return b
  }

  /// Concatenates graphs (typically one per rank) into one, re-interning names.
  ///
  /// Events, lanes, edges and tables keep their order, part after part. Each part is released
  /// once it is copied in, so when the caller hands over the only reference (`consume`) the
  /// peak memory is the merged graph plus one part, not twice the total.
  /// - Complexity: O(total events + edges + distinct names).
  public static func merging(_ parts: consuming [EventGraph]) -> EventGraph {
    if parts.count == 1 { return parts[0] }
    var (b, layout) = mergedTables(parts, eventCounts: parts.map(\.eventCount), edgeCounts: parts.map(\.edgeCount))
    b.reserveEvents(layout.eventCount)
    // The parts' edges, concatenated: each part's are already grouped by source event in event
    // order, which is what `Builder.build()` would produce from them (its sort is stable).
    var offsets: [UInt32] = [0]
    offsets.reserveCapacity(layout.eventCount + 1)
    var targets: [EventID] = []
    targets.reserveCapacity(layout.edgeCount)
    var kinds: [EdgeKind] = []
    kinds.reserveCapacity(layout.edgeCount)
    for index in parts.indices {
      let part = parts[index]
      parts[index] = Builder().build()
      let nameMap = layout.nameMaps[index]
      let (laneBase, eventBase, edgeBase) = (layout.laneBase[index], layout.eventBase[index], layout.edgeBase[index])
      func mapEvent(_ e: EventID) -> EventID { e == .none ? .none : EventID(rawValue: e.rawValue + eventBase) }
      b.lane.append(contentsOf: part.lane.lazy.map { LaneID(rawValue: $0.rawValue + laneBase) })
      b.name.append(contentsOf: part.name.lazy.map { nameMap[$0.index] })
      b.kind.append(contentsOf: part.kind)
      b.detail.append(contentsOf: part.detail)
      b.start.append(contentsOf: part.start)
      b.duration.append(contentsOf: part.duration)
      b.bytes.append(contentsOf: part.bytes)
      b.correlation.append(contentsOf: part.correlation)
      b.parent.append(contentsOf: part.parent.lazy.map(mapEvent))
      b.sourceIndex.append(contentsOf: part.sourceIndex)
      offsets.append(contentsOf: part.edgeOffsets.dropFirst().lazy.map { $0 + edgeBase })
      targets.append(contentsOf: part.edgeTargets.lazy.map(mapEvent))
      kinds.append(contentsOf: part.edgeKinds)
    }
    return EventGraph(
      strings: b.strings, lanes: b.lanes, ranks: b.ranks, lane: b.lane, name: b.name, kind: b.kind,
      detail: b.detail, start: b.start, duration: b.duration, bytes: b.bytes, correlation: b.correlation,
      parent: b.parent, sourceIndex: b.sourceIndex, edgeOffsets: offsets, edgeTargets: targets, edgeKinds: kinds,
      steps: b.steps, collectives: b.collectives, instances: b.instances, p2p: b.p2p, memory: b.memory,
      opShapes: b.opShapes)
  }

  /// Where each part of a merge lands in the merged graph (`mergedTables`).
  public struct MergeLayout: Sendable {
    /// Each part's first event, edge and lane in the merged graph.
    public var eventBase: [UInt32]
    public var edgeBase: [UInt32]
    public var laneBase: [UInt32]
    /// Each part's names (`NameID` index) as ids of the merged string table.
    public var nameMaps: [[NameID]]
    public var eventCount: Int
    public var edgeCount: Int
  }

  /// The tables of `parts` merged as `merging` merges them (strings re-interned part after part;
  /// lanes, ranks, steps, collectives, instances, send/recv, memory and op shapes with their ids
  /// moved), in a builder whose event columns are left empty, and where each part's events,
  /// edges, lanes and names land. `eventCounts` and `edgeCounts` are the parts' own: a part whose
  /// columns are not loaded yet (a deferred shard) has its tables only.
  public static func mergedTables(_ parts: [EventGraph], eventCounts: [Int], edgeCounts: [Int]) -> (
    Builder, MergeLayout
  ) {
    var b = Builder()
    var layout = MergeLayout(
      eventBase: [], edgeBase: [], laneBase: [], nameMaps: [], eventCount: 0, edgeCount: 0)
    // Each table sized once, not grown part by part (a grown table is copied into fresh memory).
    func total<T>(_ table: (EventGraph) -> [T]) -> Int { parts.reduce(0) { $0 + table($1).count } }
    b.ranks.reserveCapacity(total(\.ranks))
    b.lanes.reserveCapacity(total(\.lanes))
    b.steps.reserveCapacity(total(\.steps))
    b.collectives.reserveCapacity(total(\.collectives))
    b.instances.reserveCapacity(total(\.instances))
    b.p2p.reserveCapacity(total(\.p2p))
    b.memory.reserveCapacity(total(\.memory))
    b.opShapes.reserveCapacity(total(\.opShapes))
    for (index, part) in parts.enumerated() {
      let nameMap = part.strings.strings.map { b.strings.intern($0) }
      func mapName(_ id: NameID) -> NameID { nameMap[id.index] }
      let eventBase = UInt32(layout.eventCount)
      func mapEvent(_ e: EventID) -> EventID { e == .none ? .none : EventID(rawValue: e.rawValue + eventBase) }
      layout.eventBase.append(eventBase)
      layout.edgeBase.append(UInt32(layout.edgeCount))
      layout.laneBase.append(UInt32(b.lanes.count))
      layout.nameMaps.append(nameMap)
      layout.eventCount += eventCounts[index]
      layout.edgeCount += edgeCounts[index]
      b.ranks.append(contentsOf: part.ranks)
      for var l in part.lanes {
        l.name = mapName(l.name)
        b.lanes.append(l)
      }
      for var s in part.steps {
        s.event = mapEvent(s.event)
        b.steps.append(s)
      }
      let instanceBase = UInt32(b.instances.count)
      for var c in part.collectives {
        c.event = mapEvent(c.event)
        c.group = mapName(c.group)
        c.dtype = mapName(c.dtype)
        c.instance = c.instance.map { CollectiveInstanceID(rawValue: $0.rawValue + instanceBase) }
        b.collectives.append(c)
      }
      for var inst in part.instances {
        inst.group = mapName(inst.group)
        inst.members = inst.members.map(mapEvent)
        b.instances.append(inst)
      }
      for var p in part.p2p {
        p.event = mapEvent(p.event)
        p.match = p.match.map(mapEvent)
        b.p2p.append(p)
      }
      for var m in part.memory {
        m.event = mapEvent(m.event)
        b.memory.append(m)
      }
      for var o in part.opShapes {
        o.event = mapEvent(o.event)
        o.dims = mapName(o.dims)
        o.types = mapName(o.types)
        b.opShapes.append(o)
      }
    }
    return (b, layout)
  }
}
