import CostModels
import TraceModel

/// Re-times a recorded op at new shapes with its measured efficiency carried over:
/// t' = t · r(new)/r(old), r the roofline time max(FLOPs/ceiling, bytes/bandwidth) on the
/// predicted device (Williams et al., Roofline, CACM 2009; the carried-efficiency rule of
/// docs/models/transfer.md). Without ceilings for the dtype: the FLOP ratio for GEMMs and
/// attention, the byte ratio for the rest. Ops `OpCost` cannot size scale with their first
/// input's element count.
struct ShapeRetimer {
  let target: HardwareSpec?
  let source: HardwareSpec?

  /// Each dimension of `grp` scaled by its label's factor (at least 1).
  static func scaled(_ grp: OpGroup, _ f: DimFactors) -> [[Int64]] {
    zip(grp.dims, grp.labels).map { dims, labels in
      zip(dims, labels).map { d, l in l == .fixed ? d : max(1, Int64((Double(d) * f.factor(l)).rounded())) }
    }
  }

  /// t(new shapes)/t(recorded shapes) of `grp` under `f`.
  func ratio(_ grp: OpGroup, _ f: DimFactors) -> Double {
    guard grp.labels.contains(where: { $0.contains { $0 != .fixed } }) else { return 1 }
    let new = Self.scaled(grp, f)
    if let old = OpCost.cost(name: grp.name, dims: grp.dims, types: grp.types),
      let now = OpCost.cost(name: grp.name, dims: new, types: grp.types)
    {
      if let spec = target ?? source, let a = time(old, spec), let b = time(now, spec), a > 0 { return b / a }
      let compute = old.family == .gemm || old.family == .attention
      let (x, y) =
        compute ? (old.flops.rawValue, now.flops.rawValue) : (Double(old.bytes.rawValue), Double(now.bytes.rawValue))
      if x > 0 { return y / x }
    }
    guard let first = grp.dims.first, !first.isEmpty else { return 1 }
    let a = first.reduce(1.0) { $0 * Double($1) }
    let b = new[0].reduce(1.0) { $0 * Double($1) }
    return a > 0 ? b / a : 1
  }

  /// The roofline time of `c` on `spec` (s), nil without a compute ceiling for its dtype.
  func time(_ c: OpCost.Cost, _ spec: HardwareSpec) -> Double? {
    spec.rooflineTime(flops: c.flops.rawValue, bytes: Double(c.bytes.rawValue), dtypes: [c.dtype ?? .fp32])?.seconds
  }

  /// t(target device)/t(recorded device) of `grp` at its recorded shapes: 1 when both are the
  /// same or either is unknown.
  func hardwareRatio(_ grp: OpGroup) -> Double {
    guard let target, let source, target != source,
      let c = OpCost.cost(name: grp.name, dims: grp.dims, types: grp.types),
      let a = time(c, source), let b = time(c, target), a > 0
    else { return 1 }
    return b / a
  }
}
