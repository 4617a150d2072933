/// An element type of tensors, as hardware peaks, op costs and KV caches name it.
///
/// One vocabulary for the spec files (`peakTFLOPs` keys: `fp32`, `tf32`, `bf16`, `fp16`, `fp8`),
/// the command line (`--kv-dtype int4`) and PyTorch's type strings in traces (`c10::BFloat16`,
/// `float`, `long int`). A name nothing matches is `nil`: callers count it (a note in the
/// report), they never trap on it.
///
///     DType(name: "c10::BFloat16")   // .bf16
///     DType.int4.bytes               // 0.5
public enum DType: String, CaseIterable, Sendable, Codable, CodingKeyRepresentable {
  case fp64, fp32, tf32, bf16, fp16, fp8, fp4
  case int64, int32, int16, int8, uint8, int4, bool
  case complex64, complex128

  /// The dtype a spec, a flag or a trace names; nil when unknown.
  public init?(name: String) {
    switch name.lowercased() {
    case "fp64", "double", "float64": self = .fp64
    case "fp32", "float", "float32": self = .fp32
    case "tf32": self = .tf32
    case "bf16", "bfloat16", "c10::bfloat16": self = .bf16
    case "fp16", "half", "float16", "c10::half": self = .fp16
    case "fp8", "e4m3", "e5m2", "float8_e4m3fn", "float8_e5m2", "c10::float8_e4m3fn", "c10::float8_e5m2",
      "float8_e4m3fnuz", "float8_e5m2fnuz", "c10::float8_e4m3fnuz", "c10::float8_e5m2fnuz":
      self = .fp8
    case "fp4": self = .fp4
    case "int64", "long int", "long": self = .int64
    case "int32", "int": self = .int32
    case "int16", "short int", "short": self = .int16
    case "int8", "signed char", "char": self = .int8
    case "uint8", "unsigned char", "byte": self = .uint8
    case "int4": self = .int4
    case "bool": self = .bool
    case "complex64", "complexfloat", "c10::complex<float>": self = .complex64
    case "complex128", "complexdouble", "c10::complex<double>": self = .complex128
    default: return nil
    }
  }

  /// Bytes per element (4-bit types: 0.5).
  public var bytes: Double {
    switch self {
    case .complex128: 16
    case .fp64, .int64, .complex64: 8
    case .fp32, .tf32, .int32: 4
    case .bf16, .fp16, .int16: 2
    case .fp8, .int8, .uint8, .bool: 1
    case .fp4, .int4: 0.5
    }
  }

  /// The dtypes whose dense peak a matrix multiply on this dtype's inputs runs at, best first:
  /// fp8 on fp8 tensor cores (else bf16), bf16 and fp16 on 16-bit tensor cores, anything else on
  /// TF32 tensor cores where the device has them, else at the FP32 peak.
  public var computePeaks: [DType] {
    switch self {
    case .fp8, .fp4: [.fp8, .bf16]
    case .bf16, .fp16: [.bf16, .fp16]
    default: [.tf32, .fp32]
    }
  }
}
