import CostModels
import TraceModel

/// A recorded run carried to another accelerator (`reprise whatif --hardware NAME [--from NAME]`).
///
/// **Sized kernels** (FLOPs F and bytes B from their op's recorded shapes, `OpCost`) keep their
/// measured efficiency relative to the attainable roofline (Williams, Waterman & Patterson,
/// "Roofline", CACM 52(4), 2009): with `t(h) = max(F / P_h, B / W_h)` the roofline time on device
/// h (P the compute ceiling of the op's dtype, W the memory ceiling), the measured time T becomes
/// `T' = T · t(target) / t(source)`. The ceilings are the spec's sustained (achievable) figures
/// where it gives them, else the datasheet peaks (`HardwareSpec.computeCeiling`, `memoryCeiling`).
///
/// **Unsized device work, by class:** elementwise, reduction and other kernels, device-to-device
/// copies and memsets scale by the memory-ceiling ratio `W_s / W_t`; GEMM and attention kernels
/// without shapes by the compute-ceiling ratio `P_s / P_t` of the run's dominant GEMM dtype;
/// host-to-device and device-to-host copies by the PCIe ratio; peer-to-peer copies by the
/// interconnect ratio. Collectives and send/recv pairs are re-timed by `NetworkRetiming`.
///
/// **Host:** launch and dispatch keep their measured time unless `hostScale` is given (another
/// host CPU: every host leaf's time × hostScale). On CPU-only ranks (gloo) the operators are the
/// compute: each op's own time is re-timed as a kernel would be, from its shapes or its class.
///
/// Limits (docs/models/transfer.md): a kernel's efficiency is assumed to carry over, so a
/// latency-bound or occupancy-bound kernel scales like a well-fed one; kernels fused
/// differently on the target, other library choices (cuBLAS vs hipBLASLt tiles), and clock or
/// power limits are not modelled.
public struct HardwareTransfer: Sendable {
  public var source: HardwareSpec
  public var target: HardwareSpec
  /// Factor on every host leaf's time (1: host work as measured).
  public var hostScale: Double
  /// How the source was chosen, for reports: `deviceProperties` or `--from`.
  public var sourceFrom = "--from"

  public init(source: HardwareSpec, target: HardwareSpec, hostScale: Double = 1) {
    (self.source, self.target, self.hostScale) = (source, target, hostScale)
  }

  /// The class of device work a re-timing reports on.
  public enum WorkClass: String, Sendable, CaseIterable, Codable {
    case gemm, attention, elementwise, reduction, other, memcpyDevice, memcpyHost, memcpyPeer, memset, host
  }

  /// Which ceiling bounds a sized kernel.
  public enum Bound: String, Sendable, Codable { case compute, memory }

  /// A sized op whose kernels change bound between the source and the target.
  public struct BoundFlip: Sendable, Equatable {
    public var op: String
    public var kernel: String
    public var kernels: Int
    public var sourceBound: Bound
    public var targetBound: Bound
    public var measured: Nanoseconds
  }

  /// The factor and method for every event of a plan, with the class totals and bound flips.
  public struct Retiming: Sendable {
    /// Per event: the factor on its measured time (on CPU-only ranks: on its own time), 1 when
    /// kept as measured.
    public var factor: [Double]
    public var method: [TimingMethod]
    public var flips: [BoundFlip]
    /// The compute dtype used for unsized GEMM and attention kernels.
    public var gemmDType: DType
    /// Sized kernels that ran faster than the source's roofline allows (efficiency η > 1): their
    /// op's bytes or FLOPs are over-counted (broadcast inputs, cache hits) or the ceiling is low.
    /// They keep η on the target, so their share says how far the sized re-timing can be trusted.
    public var aboveCeiling = 0
  }

  /// The compute ceiling ratio source/target for `dtype` (fp32 runs on TF32 where the device has
  /// it, `DType.computePeaks`); 1 when either device lacks a ceiling for it.
  func computeRatio(_ dtype: DType) -> Double {
    guard let s = source.firstCeiling(dtype.computePeaks), let t = target.firstCeiling(dtype.computePeaks) else {
      return 1
    }
    return s.rate.rawValue / t.rate.rawValue
  }

  /// The memory ceiling ratio source/target.
  var memoryRatio: Double { source.memoryCeiling.rate.rawValue / target.memoryCeiling.rate.rawValue }
  var pcieRatio: Double { source.pcieBandwidth.rawValue / target.pcieBandwidth.rawValue }
  var peerRatio: Double {
    guard let s = source.interconnect?.gbpsPerDirection, let t = target.interconnect?.gbpsPerDirection else {
      return 1
    }
    return s / t
  }

  /// The roofline time of (F, B) on `hw` (seconds) and which ceiling bounds it; nil without a
  /// compute ceiling for the dtype.
  static func rooflineTime(flops: Double, bytes: Double, dtype: DType, on hw: HardwareSpec) -> (Double, Bound)? {
    hw.rooflineTime(flops: flops, bytes: bytes, dtypes: dtype.computePeaks).map {
      ($0.seconds, $0.bound == .compute ? .compute : .memory)
    }
  }

  /// The ratio t(target)/t(source) of a sized cost and the bound on each side; nil when a device
  /// has no ceiling for the dtype or the cost is empty.
  func shapeRatio(flops: Double, bytes: Double, dtype: DType) -> (
    ratio: Double, from: Bound, to: Bound, sourceTime: Double
  )? {
    guard let s = Self.rooflineTime(flops: flops, bytes: bytes, dtype: dtype, on: source),
      let t = Self.rooflineTime(flops: flops, bytes: bytes, dtype: dtype, on: target), s.0 > 0
    else { return nil }
    return (t.0 / s.0, s.1, t.1, s.0)
  }

  /// The work class of event `e` (nil for events the transfer never re-times: annotations,
  /// collectives, syncs, host parents).
  public static func workClass(_ plan: ReplayPlan, _ e: Int) -> WorkClass? {
    let g = plan.graph
    switch g.kind[e] {
    case .kernel:
      switch ComputeClass(rawValue: g.detail[e]) ?? .other {
      case .gemm: return .gemm
      case .attention: return .attention
      case .elementwise: return .elementwise
      case .reduction: return .reduction
      case .other: return .other
      }
    case .memcpy:
      switch MemcpyDirection(rawValue: g.detail[e]) ?? .unknown {
      case .hostToDevice, .deviceToHost, .hostToHost: return .memcpyHost
      case .peerToPeer: return .memcpyPeer
      case .deviceToDevice, .unknown: return .memcpyDevice
      }
    case .memset: return .memset
    case .hostOp:
      if plan.cpuOnlyRanks.contains(g.rank(of: e)), let c = ComputeClass(rawValue: plan.hostComputeClass[e]) {
        return WorkClass(rawValue: c.name)
      }
      return plan.role[e] == .hostLeaf ? .host : nil
    default: return nil
    }
  }

  /// Re-times every event of `plan` (factors, methods, bound flips).
  public func retime(_ plan: ReplayPlan) -> Retiming {
    let g = plan.graph
    let n = g.eventCount
    var factor = [Double](repeating: 1, count: n)
    var method = [TimingMethod](repeating: .measured, count: n)
    let sized = KernelRooflineReport.analyze(g, hardware: source)
    let gemmDType = Self.dominantDType(sized)
    var flips: [String: BoundFlip] = [:]
    var above = 0
    for row in sized.rows {
      guard let r = shapeRatio(flops: row.flops.rawValue, bytes: Double(row.bytes.rawValue), dtype: row.dtype ?? .fp32)
      else { continue }
      for k in row.kernels {
        factor[k.index] = r.ratio
        method[k.index] = .shapeModel
      }
      if r.sourceTime * 1e9 > Double(row.duration.rawValue) { above += row.kernels.count }
      if r.from != r.to {
        let key = row.opName + "\u{1}" + row.kernelName + "\u{1}" + r.from.rawValue
        var f =
          flips[key]
          ?? BoundFlip(
            op: row.opName, kernel: row.kernelName, kernels: 0, sourceBound: r.from, targetBound: r.to, measured: .zero)
        f.kernels += row.kernels.count
        f.measured += row.duration
        flips[key] = f
      }
    }
    let cpuShapes = plan.cpuOnlyRanks.isEmpty ? [:] : cpuOpRatios(plan)
    for e in 0..<n where method[e] == .measured {
      guard let c = Self.workClass(plan, e) else { continue }
      if let r = cpuShapes[e] {
        (factor[e], method[e]) = (r, .shapeModel)
        continue
      }
      let f: Double
      switch c {
      case .gemm, .attention: f = computeRatio(gemmDType)
      case .elementwise, .reduction, .other, .memcpyDevice, .memset: f = memoryRatio
      case .memcpyHost: f = plan.cpuOnlyRanks.contains(g.rank(of: e)) ? memoryRatio : pcieRatio
      case .memcpyPeer: f = peerRatio
      case .host:
        guard hostScale != 1 else { continue }
        f = hostScale
      }
      (factor[e], method[e]) = (f, .classRatio)
    }
    let ordered = flips.values.sorted { ($0.measured, $1.op, $1.kernel) > ($1.measured, $0.op, $0.kernel) }
    return Retiming(factor: factor, method: method, flips: ordered, gemmDType: gemmDType, aboveCeiling: above)
  }

  /// The dtype carrying most sized GEMM and attention FLOPs (bf16 when nothing is sized).
  static func dominantDType(_ r: KernelRooflineReport) -> DType {
    var flops: [DType: Double] = [:]
    for row in r.rows where row.family == .gemm || row.family == .attention {
      flops[row.dtype ?? .fp32, default: 0] += row.flops.rawValue
    }
    return flops.max { ($0.value, $1.key.rawValue) < ($1.value, $0.key.rawValue) }?.key ?? .bf16
  }

  /// On CPU-only ranks: the shape ratio of every compute op its recorded shapes size.
  func cpuOpRatios(_ plan: ReplayPlan) -> [Int: Double] {
    let g = plan.graph
    var out: [Int: Double] = [:]
    for s in g.opShapes {
      let e = s.event.index
      guard plan.cpuOnlyRanks.contains(g.rank(of: e)), plan.hostComputeClass[e] != ReplayPlan.noClass,
        let c = OpCost.cost(
          name: g.strings[g.name[e]], dims: OpCost.parseDims(g.strings[s.dims]),
          types: OpCost.parseTypes(g.strings[s.types])),
        let r = shapeRatio(flops: c.flops.rawValue, bytes: Double(c.bytes.rawValue), dtype: c.dtype ?? .fp32)
      else { continue }
      out[e] = r.ratio
    }
    return out
  }
}

extension KernelRooflineReport.Row {
  /// The recorded dtype, nil when Reprise does not know its name.
  var dtype: DType? { DType(name: dtypeName) }
}

extension HardwareTransfer {
  /// The transfer of `graph` to the hardware spec `target` (a name or a `.json` path): the source
  /// is `from` when given, else the GPU `graph` names in `deviceProperties`.
  /// - Throws: `ScenarioError` (a usage error) when the trace names no known GPU and `from` is
  ///   nil; `SpecError` for unknown or broken specs.
  public static func resolve(
    graph: EventGraph, target: String, from: String?, hostScale: Double = 1, specs: SpecLibrary
  ) throws -> HardwareTransfer {
    let targetSpec = try specs.hardware(target)
    if let from {
      var t = HardwareTransfer(source: try specs.hardware(from), target: targetSpec, hostScale: hostScale)
      t.sourceFrom = "--from"
      return t
    }
    guard let source = try specs.detectHardware(graph) else {
      let names = Set(graph.ranks.flatMap(\.deviceNames)).sorted()
      let found = names.isEmpty ? "no deviceProperties" : "deviceProperties names " + names.joined(separator: ", ")
      throw ScenarioError(
        message: "--hardware \(target): cannot tell the recorded device (\(found)); give --from NAME "
          + "(a hardware spec: \(specs.names("hardware").joined(separator: ", ")), or a file from `reprise calibrate`)")
    }
    var t = HardwareTransfer(source: source, target: targetSpec, hostScale: hostScale)
    t.sourceFrom = "deviceProperties"
    return t
  }
}

extension Scenario {
  /// The scenario with the model-driven what-ifs of `reprise whatif` set up for `graph`: a
  /// hardware transfer to `hardware` (source `from`, else detected), host work × `hostScale`, and
  /// with a cluster, collectives re-timed on it (`ranksPerNode` ranks per node, else spread).
  /// - Throws: `ScenarioError` for a usage error (no source device, `--from` or `--host-scale`
  ///   without `--hardware`, a bad `--ranks-per-node`); `SpecError` for unknown or broken specs.
  public func configuringModels(
    graph: EventGraph, hardware: String?, from: String?, hostScale: Double?, ranksPerNode: Int?, specs: SpecLibrary
  ) throws -> Scenario {
    var s = self
    if hardware == nil && (from != nil || hostScale != nil) {
      throw ScenarioError(message: "--from and --host-scale need --hardware NAME (the device to predict on)")
    }
    if let h = hostScale, !(h > 0 && h <= Self.maxScale) {
      throw ScenarioError(message: "--host-scale \(h): expected a number in (0, \(Int(Self.maxScale))]")
    }
    if let hardware {
      s.transfer = try HardwareTransfer.resolve(
        graph: graph, target: hardware, from: from, hostScale: hostScale ?? 1, specs: specs)
    }
    if let r = ranksPerNode {
      guard var c = s.cluster else { throw ScenarioError(message: "--ranks-per-node needs --cluster") }
      guard r >= 1 && r <= c.gpusPerNode else {
        throw ScenarioError(message: "--ranks-per-node \(r): expected 1…\(c.gpusPerNode) (the cluster's gpusPerNode)")
      }
      c.ranksPerNode = r
      s.cluster = c
    }
    s.retimesNetwork = s.cluster != nil
    return s
  }
}

extension Scenario {
  /// The relative error assumed for the cost models' target ceilings when a prediction's interval
  /// is drawn: ±15 %, the largest GEMM-class miss on the H100/MI300X validation pair (11.2 %)
  /// rounded up (docs/models/transfer.md, "Validation"; docs/replay.md, "Interval").
  public static let modelCeilingError = 0.15

  /// The scenario with the models' target ceilings × `f` (the hardware transfer's target spec
  /// and the cluster's links when the network is re-timed); nil when no cost model re-times
  /// anything, or only onto the recorded hardware itself (the ratios are then exactly 1).
  public func perturbingModels(by f: Double) -> Scenario? {
    let newHardware = transfer.map { $0.target != $0.source } ?? false
    let newNetwork = retimesNetwork || commAlgorithm != nil
    guard newHardware || newNetwork else { return nil }
    var s = self
    if let t = transfer, newHardware { s.transfer?.target = t.target.scaled(by: f) }
    if newNetwork {
      if let c = cluster { s.cluster = c.scaled(by: f) }
      // Without a cluster the target links are the target GPU's (or, without a transfer, the
      // recorded GPU's) interconnect.
      if transfer == nil, let h = hardware { s.hardware = h.scaled(by: f) }
    }
    return s
  }
}
