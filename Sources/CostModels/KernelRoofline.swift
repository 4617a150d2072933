import TraceModel

/// Roofline of the kernels of a recorded trace: FLOPs and bytes from the aten op that launched
/// them (`OpCost`), time from the kernels' measured durations, compared with the device's
/// dense peak and memory bandwidth (Williams et al., CACM 2009).
///
/// Each sizable op's cost goes to the kernels it launched of the matching compute class
/// (GEMM ops → GEMM kernels, attention → attention kernels, others → every kernel it
/// launched); achieved FLOP/s = FLOPs / Σ their durations. Kernels that no sizable op
/// launched are counted as unsized.
public struct KernelRooflineReport: Sendable {
  public struct Row: Sendable, Equatable {
    public var op: EventID
    public var opName: String
    public var kernels: [EventID]
    public var kernelName: String
    public var family: OpCost.Family
    public var flops: FLOPs
    public var bytes: Bytes
    /// Σ of the kernels' measured durations.
    public var duration: Nanoseconds
    /// The dtype as the trace records it (`c10::BFloat16`, `float`).
    public var dtypeName: String
    public var achieved: FLOPsPerSecond
    public var achievedBandwidth: BytesPerSecond
    /// The dense peak used (fp32 inputs use TF32 where the device has it); nil when the device
    /// has no peak for the dtype (then the percentages are 0 and the kernel is counted in
    /// `kernelsWithoutPeak`).
    public var peak: FLOPsPerSecond?
    /// FLOP per byte (∞ for an op that moves nothing).
    public var arithmeticIntensity: Double
    public var percentOfPeak: Double
    public var percentOfRoofline: Double
    public var bound: Bound
  }

  public struct ClassSummary: Sendable, Equatable {
    public var kernels: Int
    public var flops: FLOPs
    public var bytes: Bytes
    public var duration: Nanoseconds
    public var achieved: FLOPsPerSecond { flops / duration }
  }

  public var rows: [Row]
  public var kernels: Int
  public var sizedKernels: Int
  public var unsizedKernels: Int
  public var byFamily: [OpCost.Family: ClassSummary]
  /// Sized kernels whose dtype the device has no peak for (percentages left at 0).
  public var kernelsWithoutPeak: Int
  /// Recorded dtype names Reprise does not know, with how many sized ops had them (their
  /// elements are counted as 2 bytes).
  public var unknownDtypes: [String: Int]

  /// Analyses the kernels of `graph` on `hardware` (one spec for every rank).
  public static func analyze(_ g: EventGraph, hardware hw: HardwareSpec) -> KernelRooflineReport {
    var sized = SizedOps(g)
    var report = KernelRooflineReport(
      rows: [], kernels: sized.kernels, sizedKernels: 0, unsizedKernels: 0, byFamily: [:], kernelsWithoutPeak: 0,
      unknownDtypes: [:])
    for (op, kernels) in sized.kernelsOfOp.sorted(by: { $0.key < $1.key }) {
      guard let c = sized.cost(op) else { continue }
      report.add(op: op, cost: c, launched: kernels, graph: g, hardware: hw)
    }
    report.unsizedKernels = report.kernels - report.sizedKernels
    return report
  }

  /// Adds the row of one sized op: its cost goes to the kernels of the matching class.
  private mutating func add(
    op: Int, cost c: OpCost.Cost, launched all: [Int], graph g: EventGraph,
    hardware hw: HardwareSpec
  ) {
    let wanted: [Int]
    switch c.family {
    case .gemm: wanted = all.filter { g.detail[$0] == ComputeClass.gemm.rawValue }
    case .attention: wanted = all.filter { g.detail[$0] == ComputeClass.attention.rawValue }
    default: wanted = all
    }
    let duration = Nanoseconds(rawValue: wanted.reduce(Int64(0)) { $0 + g.duration[$1] })
    guard let first = wanted.first, duration > .zero, c.flops.rawValue > 0 || c.bytes.rawValue > 0 else { return }
    sizedKernels += wanted.count
    if c.dtype == nil && !c.dtypeName.isEmpty { unknownDtypes[c.dtypeName, default: 0] += 1 }
    let peak = hw.firstPeak((c.dtype ?? .fp32).computePeaks)?.peak
    if peak == nil { kernelsWithoutPeak += wanted.count }
    let roof = RooflineModel(peakCompute: peak ?? FLOPsPerSecond(rawValue: 0), memoryBandwidth: hw.memoryBandwidth)
    let intensity = c.bytes.rawValue > 0 ? c.flops.rawValue / Double(c.bytes.rawValue) : .infinity
    let attainable = roof.attainable(intensity: intensity).rawValue
    let achieved = c.flops / duration
    let peakValue = peak?.rawValue ?? 0
    rows.append(
      Row(
        op: EventID(op), opName: g.strings[g.name[op]], kernels: wanted.map { EventID($0) },
        kernelName: g.strings[g.name[first]], family: c.family, flops: c.flops, bytes: c.bytes, duration: duration,
        dtypeName: c.dtypeName, achieved: achieved, achievedBandwidth: c.bytes / duration, peak: peak,
        arithmeticIntensity: intensity, percentOfPeak: peakValue > 0 ? achieved.rawValue / peakValue * 100 : 0,
        percentOfRoofline: attainable > 0 ? achieved.rawValue / attainable * 100 : 0,
        bound: intensity >= roof.ridgePoint ? .compute : .memory))
    var s = byFamily[c.family] ?? ClassSummary(kernels: 0, flops: FLOPs(rawValue: 0), bytes: .zero, duration: .zero)
    s.kernels += wanted.count
    s.flops = FLOPs(rawValue: s.flops.rawValue + c.flops.rawValue)
    s.bytes += c.bytes
    s.duration += duration
    byFamily[c.family] = s
  }
}

/// The sizable host ops of a graph and the kernels each launched (through its own launches or
/// its children's).
private struct SizedOps {
  let graph: EventGraph
  /// Op shape index of each event, -1 when it has none.
  var shapeOf: [Int32]
  var kernelsOfOp: [Int: [Int]] = [:]
  var kernels = 0
  private var costs: [Int: OpCost.Cost?] = [:]

  init(_ g: EventGraph) {
    graph = g
    let n = g.eventCount
    shapeOf = [Int32](repeating: -1, count: n)
    for (i, s) in g.opShapes.enumerated() { shapeOf[s.event.index] = Int32(i) }
    var launchedFrom = [Int32](repeating: -1, count: n)
    for u in 0..<n {
      for i in Int(g.edgeOffsets[u])..<Int(g.edgeOffsets[u + 1]) where g.edgeKinds[i] == .launch {
        let v = g.edgeTargets[i].index
        if g.kind[v] == .kernel { launchedFrom[v] = Int32(u) }
      }
    }
    // Each kernel goes to the innermost sizable ancestor of its launch.
    for k in 0..<n where g.kind[k] == .kernel {
      kernels += 1
      var h = Int(launchedFrom[k])
      var depth = 0
      while h >= 0 && depth < 64 {
        if shapeOf[h] >= 0, cost(h) != nil {
          kernelsOfOp[h, default: []].append(k)
          break
        }
        let p = g.parent[h]
        h = p == .none ? -1 : p.index
        depth += 1
      }
    }
  }

  /// The cost of op `op` from its recorded shapes (memoized), nil when it cannot be sized.
  mutating func cost(_ op: Int) -> OpCost.Cost? {
    if let c = costs[op] { return c }
    let g = graph
    let s = g.opShapes[Int(shapeOf[op])]
    let c = OpCost.cost(
      name: g.strings[g.name[op]], dims: OpCost.parseDims(g.strings[s.dims]),
      types: OpCost.parseTypes(g.strings[s.types]))
    costs[op] = c
    return c
  }
}
