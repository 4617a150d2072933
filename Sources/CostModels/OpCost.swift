import TraceModel

/// FLOPs and bytes of an aten op from its recorded input shapes, for the roofline.
///
/// GEMMs: `mm`/`matmul` A[m,k]·B[k,n] = 2mkn FLOPs, `addmm` the same (bias add neglected),
/// `bmm`/`baddbmm` 2bmkn, `linear` x[…,k]·Wᵀ[n,k] = 2·rows·k·n; bytes = inputs + output once.
/// Attention (`scaled_dot_product_attention`, `_scaled_dot_product_*` incl. the CPU kernel,
/// `_flash_attention_forward`): q[b,h,s,d], k[b,h,t,d]:
/// QKᵀ and AV = 4·b·h·s·t·d (causal masking not known from shapes: an upper bound).
/// Elementwise: one FLOP per output element, bytes = inputs + output; reductions, softmax and
/// norms: ~one FLOP per input element (norms 5), bytes = input + output.
/// Convolutions are not sized: their output size needs stride and padding, which Kineto records
/// only as concrete inputs.
public enum OpCost {
  public enum Family: String, Sendable { case gemm, attention, elementwise, reduction }

  public struct Cost: Sendable, Equatable {
    public var family: Family
    public var flops: FLOPs
    /// Bytes read and written once (inputs and output).
    public var bytes: Bytes
    /// The dtype of the first tensor input as the trace records it (`c10::BFloat16`, `float`, …).
    public var dtypeName: String
    /// That dtype, nil when unknown (its elements are then counted as 2 bytes).
    public var dtype: DType? { DType(name: dtypeName) }

    init(family: Family, flops: Double, bytes: Double, dtype: String) {
      self.family = family
      self.flops = FLOPs(rawValue: flops)
      self.bytes = Bytes(rounding: bytes)
      dtypeName = dtype
    }
  }

  /// Parses an `Input Dims` value into shapes (`ShapeText.dims`).
  public static func parseDims(_ text: String) -> [[Int64]] { ShapeText.dims(text) }

  /// Parses an `Input type` value into names (`ShapeText.strings`).
  public static func parseTypes(_ text: String) -> [String] { ShapeText.strings(text) }

  /// Bytes per element of a recorded dtype; 2 (16-bit) when the name is unknown.
  public static func elementBytes(_ dtype: String) -> Double { DType(name: dtype)?.bytes ?? 2 }

  static func numel(_ s: [Int64]) -> Double { s.reduce(1.0) { $0 * Double($1) } }

  /// The cost of op `name` with input shapes `dims` and types `types`, or nil if it cannot be sized.
  public static func cost(name: String, dims: [[Int64]], types: [String]) -> Cost? {
    let dtype = types.first ?? ""
    let e = elementBytes(dtype)
    func gemm(_ batch: Double, _ m: Double, _ k: Double, _ n: Double) -> Cost {
      Cost(family: .gemm, flops: 2 * batch * m * k * n, bytes: e * batch * (m * k + k * n + m * n), dtype: dtype)
    }
    switch name {
    case "aten::mm":
      guard dims.count >= 2, dims[0].count == 2, dims[1].count == 2, dims[0][1] == dims[1][0] else { return nil }
      return gemm(1, Double(dims[0][0]), Double(dims[0][1]), Double(dims[1][1]))
    case "aten::addmm":
      guard dims.count >= 3, dims[1].count == 2, dims[2].count == 2, dims[1][1] == dims[2][0] else { return nil }
      return gemm(1, Double(dims[1][0]), Double(dims[1][1]), Double(dims[2][1]))
    case "aten::bmm":
      guard dims.count >= 2, dims[0].count == 3, dims[1].count == 3, dims[0][2] == dims[1][1] else { return nil }
      return gemm(Double(dims[0][0]), Double(dims[0][1]), Double(dims[0][2]), Double(dims[1][2]))
    case "aten::baddbmm":
      guard dims.count >= 3, dims[1].count == 3, dims[2].count == 3, dims[1][2] == dims[2][1] else { return nil }
      return gemm(Double(dims[1][0]), Double(dims[1][1]), Double(dims[1][2]), Double(dims[2][2]))
    case "aten::linear":
      guard dims.count >= 2, let k = dims[0].last, dims[1].count == 2, dims[1][1] == k, k > 0 else { return nil }
      let rows = numel(dims[0]) / Double(k)
      return gemm(1, rows, Double(k), Double(dims[1][0]))
    case "aten::matmul":
      guard dims.count >= 2, dims[0].count >= 2, dims[1].count >= 2 else { return nil }
      let a = dims[0]
      let b = dims[1]
      let m = Double(a[a.count - 2])
      let k = Double(a[a.count - 1])
      let n = Double(b[b.count - 1])
      guard a[a.count - 1] == b[b.count - 2] else { return nil }
      let batch = numel(Array(a.dropLast(2)))
      return gemm(batch, m, k, n)
    case "aten::_scaled_dot_product_flash_attention", "aten::_scaled_dot_product_efficient_attention",
      "aten::_scaled_dot_product_cudnn_attention", "aten::_flash_attention_forward",
      "aten::_efficient_attention_forward", "aten::_scaled_dot_product_flash_attention_for_cpu",
      "aten::scaled_dot_product_attention":
      guard dims.count >= 3, dims[0].count == 4, dims[1].count == 4 else { return nil }
      let q = dims[0]
      let k = dims[1]
      // SDPA: [b, h, s, d]; flash forward: [b, s, h, d].
      let flash = name.hasPrefix("aten::_flash") || name.hasPrefix("aten::_efficient")
      let (b, h, s, d) = flash ? (q[0], q[2], q[1], q[3]) : (q[0], q[1], q[2], q[3])
      let t = flash ? k[1] : k[2]
      let flops = 4 * Double(b) * Double(h) * Double(s) * Double(t) * Double(d)
      let bytes = e * (numel(q) + 2 * numel(k) + numel(q))
      return Cost(family: .attention, flops: flops, bytes: bytes, dtype: dtype)
    case "aten::add", "aten::add_", "aten::mul", "aten::mul_", "aten::sub", "aten::div", "aten::relu", "aten::relu_",
      "aten::gelu", "aten::silu", "aten::sigmoid", "aten::tanh", "aten::threshold_backward", "aten::copy_",
      "aten::fill_":
      guard let first = dims.first, !first.isEmpty else { return nil }
      let out = dims.prefix(2).map(numel).max() ?? 0
      let inputs = dims.prefix(2).filter { !$0.isEmpty }.map(numel).reduce(0, +)
      let flopsPerElement: Double = (name == "aten::copy_" || name == "aten::fill_") ? 0 : 1
      return Cost(family: .elementwise, flops: flopsPerElement * out, bytes: e * (inputs + out), dtype: dtype)
    case "aten::sum", "aten::mean", "aten::_softmax", "aten::softmax", "aten::native_layer_norm", "aten::layer_norm",
      "aten::rms_norm", "aten::_fused_rms_norm":
      guard let first = dims.first, !first.isEmpty else { return nil }
      let n = numel(first)
      let perElement: Double = name.contains("norm") ? 5 : (name.contains("softmax") ? 3 : 1)
      let out = name.contains("norm") || name.contains("softmax") ? n : n / Double(max(first.last ?? 1, 1))
      return Cost(family: .reduction, flops: perElement * n, bytes: e * (n + out), dtype: dtype)
    default:
      return nil
    }
  }
}
