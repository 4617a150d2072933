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
    public var flops: Double
    public var bytes: Double
    public var durationNs: Int64
    public var dtype: String
    /// Achieved FLOP/s and B/s.
    public var achievedFLOPs: Double
    public var achievedBytesPerSecond: Double
    /// The peak used (dense, by dtype; fp32 inputs use TF32 when the device has it).
    public var peakFLOPs: Double
    public var arithmeticIntensity: Double
    public var percentOfPeak: Double
    public var percentOfRoofline: Double
    public var bound: Bound
  }

  public var rows: [Row]
  public var kernels: Int
  public var sizedKernels: Int
  public var unsizedKernels: Int

  public struct ClassSummary: Sendable, Equatable {
    public var kernels: Int
    public var flops: Double
    public var bytes: Double
    public var durationNs: Int64
    public var achievedFLOPs: Double { durationNs > 0 ? flops / (Double(durationNs) / 1e9) : 0 }
  }
  public var byFamily: [OpCost.Family: ClassSummary]

  /// Analyses the kernels of `graph` on `hardware` (one spec for every rank).
  public static func analyze(_ g: EventGraph, hardware hw: HardwareSpec) -> KernelRooflineReport {
    let n = g.eventCount
    var shapeOf = [Int32](repeating: -1, count: n)
    for (i, s) in g.opShapes.enumerated() { shapeOf[s.event.index] = Int32(i) }
    // Kernels launched under each host event (launch edge sources).
    var launchedFrom = [Int32](repeating: -1, count: n)
    for u in 0..<n {
      for i in Int(g.edgeOffsets[u])..<Int(g.edgeOffsets[u + 1]) where g.edgeKinds[i] == .launch {
        let v = g.edgeTargets[i].index
        if g.kind[v] == .kernel { launchedFrom[v] = Int32(u) }
      }
    }
    var costCache: [Int: OpCost.Cost?] = [:]
    func cost(_ op: Int) -> OpCost.Cost? {
      if let c = costCache[op] { return c }
      let s = g.opShapes[Int(shapeOf[op])]
      let c = OpCost.cost(name: g.strings[g.name[op]], dims: OpCost.parseDims(g.strings[s.dims]), types: OpCost.parseTypes(g.strings[s.types]))
      costCache[op] = c
      return c
    }
    // Innermost sizable ancestor op of each launch.
    var kernelsOfOp: [Int: [Int]] = [:]
    var kernels = 0
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
    var rows: [Row] = []
    var sized = 0
    var byFamily: [OpCost.Family: ClassSummary] = [:]
    for op in kernelsOfOp.keys.sorted() {
      guard let c = cost(op) else { continue }
      let all = kernelsOfOp[op]!
      let wanted: [Int]
      switch c.family {
      case .gemm: wanted = all.filter { g.detail[$0] == ComputeClass.gemm.rawValue }
      case .attention: wanted = all.filter { g.detail[$0] == ComputeClass.attention.rawValue }
      default: wanted = all
      }
      let dur = wanted.reduce(Int64(0)) { $0 + g.duration[$1] }
      guard !wanted.isEmpty, dur > 0, c.flops > 0 || c.bytes > 0 else { continue }
      sized += wanted.count
      let seconds = Double(dur) / 1e9
      let lower = c.dtype.lowercased()
      let peak: Double
      if lower.contains("float8") {
        peak = hw.peak("fp8")?.rawValue ?? hw.peak("bf16")!.rawValue
      } else if lower.contains("bfloat16") || lower.contains("half") {
        peak = (hw.peak("bf16") ?? hw.peak("fp16"))?.rawValue ?? 0
      } else {
        peak = (hw.peak("tf32") ?? hw.peak("fp32"))?.rawValue ?? 0
      }
      let roof = RooflineModel(peakCompute: FLOPsPerSecond(rawValue: peak), memoryBandwidth: hw.memoryBandwidth)
      let intensity = c.bytes > 0 ? c.flops / c.bytes : .infinity
      let attainable = roof.attainable(intensity: intensity).rawValue
      let achieved = c.flops / seconds
      rows.append(Row(
        op: EventID(op), opName: g.strings[g.name[op]], kernels: wanted.map { EventID($0) },
        kernelName: g.strings[g.name[wanted[0]]], family: c.family, flops: c.flops, bytes: c.bytes, durationNs: dur,
        dtype: c.dtype, achievedFLOPs: achieved, achievedBytesPerSecond: c.bytes / seconds, peakFLOPs: peak,
        arithmeticIntensity: intensity, percentOfPeak: peak > 0 ? achieved / peak * 100 : 0,
        percentOfRoofline: attainable > 0 ? achieved / attainable * 100 : 0,
        bound: intensity >= roof.ridgePoint ? .compute : .memory))
      var s = byFamily[c.family] ?? ClassSummary(kernels: 0, flops: 0, bytes: 0, durationNs: 0)
      s.kernels += wanted.count; s.flops += c.flops; s.bytes += c.bytes; s.durationNs += dur
      byFamily[c.family] = s
    }
    return KernelRooflineReport(rows: rows, kernels: kernels, sizedKernels: sized, unsizedKernels: kernels - sized, byFamily: byFamily)
  }
}
