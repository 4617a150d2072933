import TraceModel

/// Where time went by name: kernels or operators ranked by total or self time, with count,
/// mean, p50, p99, max and the input shapes they ran on (`reprise top`, the report's `top`).
///
/// - **kernels**: every piece of device work (kernels, collectives, memcpy/memset) grouped by
///   name; `total` = Σ duration and `self` = `total` (device work does not nest): Holistic Trace
///   Analysis' kernel breakdown (`get_gpu_kernel_breakdown`: per kernel name, sum, mean, max of
///   `dur`). `category` is the class (`kernel:gemm`, `collective:allReduce`, `memcpy:HtoD`, as
///   in `reprise diff`); the shapes are those of the operator that launched it.
/// - **ops**: host operators (names `namespace::op`, such as `aten::mm` or `c10d::allreduce_`;
///   Python functions, runtime calls and annotations are not ops). `total` = Σ duration
///   (inclusive); `self` = Σ (duration − the time of its direct children). `deviceSelf` and
///   `deviceTotal` are TraceLens' kernel-launcher times (`TreePerf.get_df_kernel_launchers`):
///   per instance, the busy time (union) of the device work it launched directly (its runtime
///   calls, through Python functions and annotations but not through another op) and of all
///   device work launched in its subtree (summed over instances not nested in one of the same
///   name, so `aten::arange` → `aten::arange` counts once); communication kernels are left out, as
///   TraceLens does by default. `launches` counts the instances that launched device work directly (TraceLens'
///   `Count`).
///
/// Statistics (mean, p50, p99, max) are over instances of the ranked time (total or self);
/// percentiles are nearest-rank. Rows are sorted by the ranked time, largest first, then by
/// name. `phase` keeps only events of one phase (`Phase`); `ranks` only those ranks. The window
/// is the whole trace, as in HTA and TraceLens.
public struct TopTable: Sendable, Equatable {
  public enum Kind: String, CaseIterable, Sendable, Codable { case kernel, op }
  public enum Order: String, CaseIterable, Sendable, Codable { case total, `self` }

  /// An input shape and how many instances ran on it.
  public struct Shape: Sendable, Equatable {
    public var dims: String
    public var count: Int
  }

  public struct Row: Sendable, Equatable {
    public var name: String
    public var category: String
    public var count: Int
    public var total: Nanoseconds
    public var selfTime: Nanoseconds
    public var mean: Nanoseconds
    public var p50: Nanoseconds
    public var p99: Nanoseconds
    public var max: Nanoseconds
    /// Operators only.
    public var deviceSelf: Nanoseconds?
    public var deviceTotal: Nanoseconds?
    public var launches: Int?
    /// Up to three input shapes (`Input Dims` text), most frequent first, with their counts.
    public var shapes: [Shape]

  }

  public var kind: Kind
  public var order: Order
  public var phase: Phase?
  /// The first `limit` rows.
  public var rows: [Row]
  /// Distinct names before the cut.
  public var names: Int
  /// Σ of the ranked time over every name (for shares).
  public var total: Nanoseconds

  /// The table of `graph`'s `timeline`.
  public init(
    _ g: EventGraph, timeline t: Timeline, kind: Kind, order: Order = .total, phase: Phase? = nil,
    ranks: Set<Int>? = nil, limit: Int = 10
  ) {
    let instances = Self.instances(index: AnalysisIndex(g, timeline: t), kind: kind)
    self.init(
      instances, graph: g, kind: kind, order: order, phase: phase, phases: phase == nil ? nil : Phase.of(g),
      ranks: ranks, limit: limit)
  }

  /// The table of instances computed once (`instances(index:kind:)`), for several tables of one
  /// graph; `phases` (`Phase.of`) is needed when `phase` is given.
  ///
  /// - Complexity: O(instances + names · log names) for the grouping, plus sorting each name's times.
  public init(
    _ instances: Instances, graph g: EventGraph, kind: Kind, order: Order = .total, phase: Phase? = nil,
    phases: [Phase]? = nil, ranks: Set<Int>? = nil, limit: Int = 10
  ) {
    self.kind = kind
    self.order = order
    self.phase = phase
    // Names are dense ids: one slot per name seen, found through an array (no hashing).
    var slotOf = [Int32](repeating: -1, count: g.strings.count)
    var samples: [Samples] = []
    for i in instances.items {
      let e = Int(i.event)
      if let phase, let phases, phases[e] != phase { continue }
      if let ranks, !ranks.contains(Int(g.rank(of: e).rawValue)) { continue }
      let name = g.name[e].index
      var slot = Int(slotOf[name])
      if slot < 0 {
        slot = samples.count
        slotOf[name] = Int32(slot)
        samples.append(
          Samples(name: g.strings[g.name[e]], category: kind == .kernel ? RunDiff.key(g, e) : "op", isOp: kind == .op))
      }
      // Mutated in place: copying a `Samples` out and back would copy its growing arrays on
      // every instance (quadratic).
      Self.add(i, to: &samples[slot])
    }
    var all = samples.map { Self.row($0, order: order, shapeTexts: instances.shapeTexts) }
    all.sort { (l, r) in
      let (a, b) = order == .total ? (l.total, r.total) : (l.selfTime, r.selfTime)
      return a != b ? a > b : l.name < r.name
    }
    names = all.count
    total = all.reduce(.zero) { $0 + (order == .total ? $1.total : $1.selfTime) }
    rows = Array(all.prefix(max(0, limit)))
  }

  /// One event of a table's kind with its times, before grouping by name.
  static func add(_ i: Instance, to s: inout Samples) {
    s.total.append(i.total)
    s.selfTime.append(i.selfTime)
    if i.deviceSelf >= 0 {
      s.launches += 1
      s.deviceSelf += i.deviceSelf
    }
    s.deviceTotal += i.deviceTotal
    if i.shape >= 0 { s.shapes[i.shape, default: 0] += 1 }
  }

  /// Every instance of one kind, with the shape texts they refer to (computed once per graph).
  public struct Instances: Sendable {
    var items: [Instance]
    /// `Instance.shape` indexes this list; each text is distinct.
    var shapeTexts: [String]
  }

  public struct Instance: Sendable {
    var event: Int32
    var total: Int64
    var selfTime: Int64
    /// Device busy time launched directly; -1 when it launched none (operators only).
    var deviceSelf: Int64
    /// Device busy time launched in its subtree; 0 when nested in an instance of its own name.
    var deviceTotal: Int64
    /// Index in `Instances.shapeTexts`; -1 when no shape was recorded.
    var shape: Int32
  }

  /// Every instance of `kind` in the index's timeline.
  public static func instances(index ix: AnalysisIndex, kind: Kind) -> Instances {
    var shapes = ShapeLookup(ix.graph)
    let items = kind == .kernel ? kernelInstances(ix, shapes: &shapes) : OpTimes(ix).instances(shapes: &shapes)
    return Instances(items: items, shapeTexts: shapes.texts)
  }

  /// Instances of one name.
  struct Samples {
    var name: String
    var category: String
    var total: [Int64] = []
    var selfTime: [Int64] = []
    var deviceSelf: Int64 = 0
    var deviceTotal: Int64 = 0
    var launches = 0
    var isOp = false
    /// Instances per shape (`Instances.shapeTexts` index).
    var shapes: [Int32: Int] = [:]
  }

  static func kernelInstances(_ ix: AnalysisIndex, shapes shapeOf: inout ShapeLookup) -> [Instance] {
    let g = ix.graph
    return (0..<g.eventCount).filter { AnalysisIndex.isDeviceWork(g, $0) }.map { e in
      let d = ix.timeline.end[e].rawValue &- ix.timeline.start[e].rawValue
      let l = Int(ix.launcher[e])
      return Instance(
        event: Int32(e), total: d, selfTime: d, deviceSelf: -1, deviceTotal: 0,
        shape: l >= 0 ? shapeOf.dims(above: l) : -1)
    }
  }

  static func row(_ s: Samples, order: Order, shapeTexts: [String]) -> Row {
    let ranked = (order == .total ? s.total : s.selfTime).sorted()
    let n = ranked.count
    func pct(_ p: Int) -> Nanoseconds { n == 0 ? .zero : Nanoseconds(ranked[Swift.max(0, (p * n + 99) / 100 - 1)]) }
    let shapes = s.shapes.map { (dims: shapeTexts[Int($0.key)], count: $0.value) }
      .sorted { ($0.count, $1.dims) > ($1.count, $0.dims) }.prefix(3).map { Shape(dims: $0.dims, count: $0.count) }
    return Row(
      name: s.name, category: s.category, count: n, total: Nanoseconds(s.total.reduce(0, &+)),
      selfTime: Nanoseconds(s.selfTime.reduce(0, &+)),
      mean: n == 0 ? .zero : Nanoseconds(ranked.reduce(0, &+) / Int64(n)),
      p50: pct(50), p99: pct(99), max: Nanoseconds(ranked.last ?? 0),
      deviceSelf: s.isOp ? Nanoseconds(s.deviceSelf) : nil,
      deviceTotal: s.isOp ? Nanoseconds(s.deviceTotal) : nil, launches: s.isOp ? s.launches : nil, shapes: shapes)
  }

  /// Whether a host event's name is an operator's (`namespace::op`).
  public static func isOperator(_ name: String) -> Bool { name.contains("::") }
}

/// The `Input Dims` of the nearest host event at or above an event that recorded them, as an
/// index into `texts` (each distinct formatted text once; formatted once per interned string).
struct ShapeLookup {
  let graph: EventGraph
  /// Per event: the interned `Input Dims` it recorded, -1 when none.
  let dims: [Int32]
  /// The formatted texts; `Instance.shape` indexes them.
  private(set) var texts: [String] = []
  private var textIndex: [String: Int32] = [:]
  /// Per interned `Input Dims` string: its index in `texts` (-1: not formatted yet).
  private var byName: [Int32]
  init(_ g: EventGraph) {
    graph = g
    var dims = [Int32](repeating: -1, count: g.eventCount)
    // The first record of an event wins (as a dictionary built keeping the first would).
    for r in g.opShapes where r.event.index < dims.count && dims[r.event.index] < 0 {
      dims[r.event.index] = Int32(r.dims.rawValue)
    }
    self.dims = dims
    byName = [Int32](repeating: -1, count: g.strings.count)
  }
  /// Whether event `e` recorded `Input Dims` itself.
  func recordsShape(_ e: Int) -> Bool { dims[e] >= 0 }
  mutating func dims(above e: Int) -> Int32 {
    var cur = EventID(rawValue: UInt32(e))
    while cur != .none {
      let d = dims[cur.index]
      if d >= 0 { return index(of: NameID(rawValue: UInt32(d))) }
      cur = graph.parent[cur.index]
    }
    return -1
  }
  private mutating func index(of d: NameID) -> Int32 {
    if byName[d.index] >= 0 { return byName[d.index] }
    let text =
      "["
      + ShapeText.dims(graph.strings[d]).map { "[" + $0.map(String.init).joined(separator: ", ") + "]" }
      .joined(separator: ", ") + "]"
    let i: Int32
    if let known = textIndex[text] {
      i = known
    } else {
      i = Int32(texts.count)
      texts.append(text)
      textIndex[text] = i
    }
    byName[d.index] = i
    return i
  }
}

/// Per operator instance: inclusive and self time, and the device work it launched directly and
/// in its subtree (TraceLens' kernel-launcher times).
struct OpTimes {
  let ix: AnalysisIndex

  init(_ ix: AnalysisIndex) { self.ix = ix }

  func instances(shapes shapeOf: inout ShapeLookup) -> [TopTable.Instance] {
    let (g, t) = (ix.graph, ix.timeline)
    var opName: [NameID: Bool] = [:]
    let isOp = (0..<g.eventCount).map { e in
      guard g.kind[e] == .hostOp else { return false }
      if let known = opName[g.name[e]] { return known }
      let v = TopTable.isOperator(g.strings[g.name[e]])
      opName[g.name[e]] = v
      return v
    }
    var childTime = [Int64](repeating: 0, count: g.eventCount)
    for e in 0..<g.eventCount where g.parent[e] != .none {
      childTime[g.parent[e].index] &+= t.end[e].rawValue &- t.start[e].rawValue
    }
    let (direct, subtree) = deviceWork(isOp: isOp)
    return (0..<g.eventCount).filter { isOp[$0] }.map { e in
      let d = t.end[e].rawValue &- t.start[e].rawValue
      let own = shapeOf.recordsShape(e)
      return TopTable.Instance(
        event: Int32(e), total: d, selfTime: max(0, d &- childTime[e]),
        deviceSelf: direct[e],
        deviceTotal: subtree[e] < 0 || nestedInSameName(e) ? 0 : subtree[e],
        shape: own ? shapeOf.dims(above: e) : -1)
    }
  }

  /// Whether an ancestor of `e` has its name (its subtree time is already that ancestor's).
  private func nestedInSameName(_ e: Int) -> Bool {
    let g = ix.graph
    var cur = g.parent[e]
    while cur != .none {
      if g.name[cur.index] == g.name[e] { return true }
      cur = g.parent[cur.index]
    }
    return false
  }

  /// Device work (communication left out) by the operator that launched it directly, and by
  /// every operator above its launch: per event, the busy time (union) of that work, -1 when
  /// it has none.
  private func deviceWork(isOp: [Bool]) -> (direct: [Int64], subtree: [Int64]) {
    let (g, t) = (ix.graph, ix.timeline)
    var direct: [Pair] = []
    var subtree: [Pair] = []
    for d in 0..<g.eventCount where AnalysisIndex.isDeviceWork(g, d) && ix.launcher[d] >= 0 {
      if TemporalBreakdown.deviceClass(g.kind[d]) == .communication { continue }
      let (start, end) = (t.start[d].rawValue, t.end[d].rawValue)
      var cur = g.parent[Int(ix.launcher[d])]
      var found = false
      while cur != .none {
        if isOp[cur.index] {
          if !found { direct.append(Pair(op: Int32(cur.index), start: start, end: end)) }
          found = true
          subtree.append(Pair(op: Int32(cur.index), start: start, end: end))
        }
        cur = g.parent[cur.index]
      }
    }
    return (Self.busy(direct, events: g.eventCount), Self.busy(subtree, events: g.eventCount))
  }

  /// One interval of device work credited to operator `op`.
  struct Pair {
    var op: Int32
    var start: Int64
    var end: Int64
  }

  /// Per event, the measure of the union of its intervals (as `IntervalSet(...).measure`:
  /// empty intervals count nothing); -1 for events without any.
  static func busy(_ pairs: [Pair], events: Int) -> [Int64] {
    var out = [Int64](repeating: -1, count: events)
    let sorted = pairs.sorted { ($0.op, $0.start, $0.end) < ($1.op, $1.start, $1.end) }
    var i = 0
    while i < sorted.count {
      let op = sorted[i].op
      var total: Int64 = 0
      var open: (start: Int64, end: Int64)?
      while i < sorted.count && sorted[i].op == op {
        let p = sorted[i]
        i += 1
        guard p.end > p.start else { continue }
        if let o = open, p.start <= o.end {
          open = (o.start, max(o.end, p.end))
        } else {
          if let o = open { total &+= o.end &- o.start }
          open = (p.start, p.end)
        }
      }
      if let o = open { total &+= o.end &- o.start }
      out[Int(op)] = total
    }
    return out
  }
}
