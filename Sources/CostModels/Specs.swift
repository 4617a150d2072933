import Foundation
import TraceModel

/// An accelerator: dense peak FLOP/s per dtype, memory, bandwidths, launch overhead.
///
/// Decoded from `Models/hardware/NAME.json`; every number's source is in the file's `source`.
/// Peaks are dense (not the 2:4-sparsity datasheet figure). `hbm.unit` says GiB or GB.
public struct HardwareSpec: Codable, Sendable, Equatable {
  public var name: String
  public var displayName: String
  public var source: String
  /// Dense peak TFLOP/s by dtype: `fp32`, `tf32`, `bf16`, `fp16`, `fp8`.
  public var peakTFLOPs: [String: Double]
  public var hbm: Amount
  public var hbmBandwidthGBps: Double
  public var interconnect: Link?
  public var pcie: PCIe
  public var launchOverheadUs: Double
  /// Sustained (achievable) ceilings measured by public microbenchmarks, when known: what a
  /// well-tuned GEMM and a streaming kernel reach, as opposed to the datasheet peaks above.
  public var sustained: Sustained?

  public struct Amount: Codable, Sendable, Equatable {
    public var amount: Double
    /// `GiB` (2^30) or `GB` (1e9).
    public var unit: String
  }
  public struct Link: Codable, Sendable, Equatable {
    public var name: String
    /// Per direction, GB/s (1e9 B/s).
    public var gbpsPerDirection: Double
    enum CodingKeys: String, CodingKey {
      case name
      case gbpsPerDirection = "GBpsPerDirection"
    }
  }
  public struct PCIe: Codable, Sendable, Equatable {
    public var generation: Int
    /// Per direction, GB/s (1e9 B/s).
    public var gbpsPerDirection: Double
    enum CodingKeys: String, CodingKey {
      case generation
      case gbpsPerDirection = "GBpsPerDirection"
    }
  }

  /// Achievable ceilings: dense GEMM TFLOP/s per dtype and streaming memory bandwidth, each
  /// from a public measurement named in `source`.
  public struct Sustained: Codable, Sendable, Equatable {
    /// Sustained dense GEMM TFLOP/s by dtype (`bf16`, `fp16`, `fp8`, `tf32`, `fp32`).
    public var tflops: [String: Double]?
    /// Sustained streaming memory bandwidth (STREAM copy/triad-like), GB/s (1e9 B/s).
    public var hbmGBps: Double?
    /// Where the numbers come from (paper and table, article, benchmark repository and path).
    public var source: String

    public init(tflops: [String: Double]? = nil, hbmGBps: Double? = nil, source: String) {
      (self.tflops, self.hbmGBps, self.source) = (tflops, hbmGBps, source)
    }
  }

  /// The compute ceiling a kernel of `dtype` can reach: the sustained GEMM rate when the spec
  /// gives one, else the dense datasheet peak; `sustained` says which. Nil without either.
  public func computeCeiling(_ dtype: DType) -> (rate: FLOPsPerSecond, sustained: Bool)? {
    if let t = sustained?.tflops?[dtype.rawValue] { return (FLOPsPerSecond(rawValue: t * 1e12), true) }
    return peak(dtype).map { ($0, false) }
  }

  /// The first of `dtypes` with a compute ceiling (`computeCeiling`), with it.
  public func firstCeiling(_ dtypes: [DType]) -> (dtype: DType, rate: FLOPsPerSecond, sustained: Bool)? {
    for d in dtypes { if let c = computeCeiling(d) { return (d, c.rate, c.sustained) } }
    return nil
  }

  /// The roofline time of `flops` and `bytes` on this device (seconds) and the ceiling that
  /// bounds it: max(FLOPs / the first of `dtypes` with a compute ceiling, bytes / the memory
  /// ceiling) (Williams, Waterman & Patterson, "Roofline", CACM 52(4), 2009); nil when none of
  /// `dtypes` has a ceiling here.
  public func rooflineTime(flops: Double, bytes: Double, dtypes: [DType]) -> (seconds: Double, bound: Bound)? {
    guard let p = firstCeiling(dtypes) else { return nil }
    let compute = flops / p.rate.rawValue
    let memory = bytes / memoryCeiling.rate.rawValue
    return (max(compute, memory), compute >= memory ? .compute : .memory)
  }

  /// The memory ceiling: the sustained streaming bandwidth when the spec gives one, else the
  /// datasheet HBM bandwidth; `sustained` says which.
  public var memoryCeiling: (rate: BytesPerSecond, sustained: Bool) {
    if let b = sustained?.hbmGBps { return (BytesPerSecond(rawValue: b * 1e9), true) }
    return (memoryBandwidth, false)
  }

  /// HBM capacity in bytes.
  public var hbmBytes: Bytes {
    Bytes(rounding: hbm.amount * (hbm.unit == "GiB" ? 1_073_741_824 : 1e9))
  }
  public var memoryBandwidth: BytesPerSecond { BytesPerSecond(rawValue: hbmBandwidthGBps * 1e9) }
  public var pcieBandwidth: BytesPerSecond { BytesPerSecond(rawValue: pcie.gbpsPerDirection * 1e9) }
  public var launchOverhead: Nanoseconds { Nanoseconds(microseconds: launchOverheadUs) }

  /// Dense peak for a dtype; nil when the device has none.
  public func peak(_ dtype: DType) -> FLOPsPerSecond? {
    peakTFLOPs[dtype.rawValue].map { FLOPsPerSecond(rawValue: $0 * 1e12) }
  }

  /// Dense peak for a dtype name (`bf16`, `BFloat16`, `float`, `fp8`…); nil when the name is
  /// unknown or the device has no such peak.
  public func peak(_ name: String) -> FLOPsPerSecond? { DType(name: name).flatMap(peak) }

  /// The first of `dtypes` this device has a peak for, with that peak.
  public func firstPeak(_ dtypes: [DType]) -> (dtype: DType, peak: FLOPsPerSecond)? {
    for d in dtypes { if let p = peak(d) { return (d, p) } }
    return nil
  }

  func validate(file: String) throws {
    if hbm.unit != "GiB" && hbm.unit != "GB" {
      throw SpecError.invalid(
        file: file, path: "hbm.unit", message: "expected \"GiB\" or \"GB\", found \"\(hbm.unit)\"")
    }
    if peakTFLOPs.isEmpty {
      throw SpecError.invalid(file: file, path: "peakTFLOPs", message: "expected at least one dtype")
    }
    for k in peakTFLOPs.keys.sorted() where DType(rawValue: k) == nil {
      let known = DType.allCases.map(\.rawValue).joined(separator: ", ")
      throw SpecError.invalid(file: file, path: "peakTFLOPs.\(k)", message: "unknown dtype; expected one of \(known)")
    }
    for (k, v) in peakTFLOPs where !(v > 0 && v.isFinite) {
      throw SpecError.invalid(file: file, path: "peakTFLOPs.\(k)", message: "expected a positive number, found \(v)")
    }
    let positives: [(String, Double)] = [
      ("hbmBandwidthGBps", hbmBandwidthGBps), ("hbm.amount", hbm.amount),
      ("pcie.GBpsPerDirection", pcie.gbpsPerDirection),
    ]
    for (path, v) in positives where !(v > 0 && v.isFinite) {
      throw SpecError.invalid(file: file, path: path, message: "expected a positive number, found \(v)")
    }
    if let link = interconnect, !(link.gbpsPerDirection > 0 && link.gbpsPerDirection.isFinite) {
      throw SpecError.invalid(
        file: file, path: "interconnect.GBpsPerDirection",
        message: "expected a positive number, found \(link.gbpsPerDirection)")
    }
    if let sustained { try validate(sustained, file: file) }
    if !(launchOverheadUs >= 0 && launchOverheadUs.isFinite) {
      throw SpecError.invalid(
        file: file, path: "launchOverheadUs", message: "expected a non-negative number, found \(launchOverheadUs)")
    }
  }
}

extension HardwareSpec {
  /// A sustained ceiling is a measurement of what the datasheet peak allows: each dtype must be
  /// known and have a peak it does not exceed, the bandwidth must not exceed the datasheet's, and
  /// the numbers must say where they come from.
  func validate(_ sustained: Sustained, file: String) throws {
    for (k, v) in (sustained.tflops ?? [:]).sorted(by: { $0.key < $1.key }) {
      let path = "sustained.tflops.\(k)"
      guard DType(rawValue: k) != nil else {
        let known = DType.allCases.map(\.rawValue).joined(separator: ", ")
        throw SpecError.invalid(file: file, path: path, message: "unknown dtype; expected one of \(known)")
      }
      if !(v > 0 && v.isFinite) {
        throw SpecError.invalid(file: file, path: path, message: "expected a positive number, found \(v)")
      }
      guard let peak = peakTFLOPs[k] else {
        throw SpecError.invalid(file: file, path: path, message: "no datasheet peak peakTFLOPs.\(k) to bound it")
      }
      if v > peak {
        throw SpecError.invalid(
          file: file, path: path, message: "\(v) exceeds the datasheet peak peakTFLOPs.\(k) \(peak)")
      }
    }
    if let b = sustained.hbmGBps {
      if !(b > 0 && b.isFinite) {
        throw SpecError.invalid(
          file: file, path: "sustained.hbmGBps", message: "expected a positive number, found \(b)")
      }
      if b > hbmBandwidthGBps {
        throw SpecError.invalid(
          file: file, path: "sustained.hbmGBps",
          message: "\(b) exceeds the datasheet bandwidth hbmBandwidthGBps \(hbmBandwidthGBps)")
      }
    }
    if sustained.source.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
      throw SpecError.invalid(
        file: file, path: "sustained.source", message: "expected where the measurements come from, found nothing")
    }
  }
}

/// A transformer architecture: the numbers that decide parameters, FLOPs and KV cache.
///
/// Decoded from `Models/models/NAME.json` (sources: the model's published config).
public struct ModelSpec: Codable, Sendable, Equatable {
  public var name: String
  public var source: String
  public var layers: Int
  public var hidden: Int
  public var heads: Int
  public var kvHeads: Int
  public var headDim: Int
  /// Dense FFN inner size (for MoE models: the dense layers' size).
  public var ffn: Int
  /// `gated` (SwiGLU: 3 matrices) or `plain` (2 matrices).
  public var ffnType: String
  public var vocab: Int
  public var tiedEmbeddings: Bool
  /// `rmsnorm` or `layernorm`.
  public var norm: String
  public var bias: Bool
  public var qkNorm: Bool?
  /// Learned position embeddings (rows), when the model has them.
  public var learnedPositions: Int?
  public var moe: MoE?
  public var mla: MLA?

  /// A dense model (no MoE, no MLA).
  public init(
    name: String, source: String, layers: Int, hidden: Int, heads: Int, kvHeads: Int, headDim: Int, ffn: Int,
    ffnType: String, vocab: Int, tiedEmbeddings: Bool, norm: String, bias: Bool
  ) {
    (self.name, self.source, self.layers, self.hidden, self.heads) = (name, source, layers, hidden, heads)
    (self.kvHeads, self.headDim, self.ffn, self.ffnType, self.vocab) = (kvHeads, headDim, ffn, ffnType, vocab)
    (self.tiedEmbeddings, self.norm, self.bias) = (tiedEmbeddings, norm, bias)
  }

  public struct MoE: Codable, Sendable, Equatable {
    public var experts: Int
    public var topK: Int
    public var expertFfn: Int
    public var sharedExperts: Int?
    /// The first `denseLayers` layers use a dense FFN of size `ffn`.
    public var denseLayers: Int?
  }
  /// Multi-head latent attention (DeepSeek-V2 §2.1).
  public struct MLA: Codable, Sendable, Equatable {
    public var qLoraRank: Int?
    public var kvLoraRank: Int
    public var qkNopeHeadDim: Int
    public var qkRopeHeadDim: Int
    public var vHeadDim: Int
  }

  func validate(file: String) throws {
    for (path, v) in [
      ("layers", layers), ("hidden", hidden), ("heads", heads), ("kvHeads", kvHeads), ("headDim", headDim),
      ("ffn", ffn), ("vocab", vocab),
    ] where v <= 0 {
      throw SpecError.invalid(file: file, path: path, message: "expected a positive integer, found \(v)")
    }
    if ffnType != "gated" && ffnType != "plain" {
      throw SpecError.invalid(
        file: file, path: "ffnType", message: "expected \"gated\" or \"plain\", found \"\(ffnType)\"")
    }
    if heads % kvHeads != 0 {
      throw SpecError.invalid(
        file: file, path: "kvHeads", message: "heads (\(heads)) must be a multiple of kvHeads (\(kvHeads))")
    }
  }
}

/// Problems with spec files or names.
public enum SpecError: Error, CustomStringConvertible, Sendable {
  /// The name is not a spec of that kind where the library looked (a usage error: exit 64);
  /// `searched` says where that was.
  case unknownName(kind: String, name: String, known: [String], searched: String)
  /// The file is not a valid spec (a data error: exit 65).
  case invalid(file: String, path: String, message: String)
  case unreadable(file: String)
  /// A specs folder given by `--models` or `REPRISE_MODELS` is missing or holds no spec (a
  /// usage error: exit 64); the message names the folders searched.
  case noSpecs(String)

  public var description: String {
    switch self {
    case .unknownName(let kind, let name, let known, let searched):
      return "unknown \(kind) '\(name)'; known: \(known.isEmpty ? "none" : known.joined(separator: ", "))"
        + " (searched \(searched))"
    case .invalid(let file, let path, let message):
      return "\(file): \(path.isEmpty ? "" : path + ": ")\(message)"
    case .unreadable(let file): return "\(file): cannot read"
    case .noSpecs(let message): return message
    }
  }
  public var isUsageError: Bool {
    switch self {
    case .unknownName, .noSpecs: return true
    case .invalid, .unreadable: return false
    }
  }
}

/// A model argument outside its domain (an efficiency of 0, a negative degree): a usage error.
public struct ModelArgumentError: Error, CustomStringConvertible, Sendable, Equatable {
  /// The argument's name as the library spells it (`computeEfficiency`).
  public var argument: String
  public var expected: String
  public var found: String
  public var description: String { "\(argument): expected \(expected), found \(found)" }

  /// Throws unless `value` is a fraction of peak in (0, 1].
  public static func checkEfficiency(_ value: Double, _ argument: String) throws {
    if !(value > 0 && value <= 1) {
      throw ModelArgumentError(argument: argument, expected: "a fraction of peak in (0, 1]", found: "\(value)")
    }
  }
}

extension HardwareSpec {
  /// The spec with every ceiling × `f`: the datasheet peaks, the sustained figures, the memory,
  /// PCIe and interconnect bandwidths (a faster or slower part of the same design).
  public func scaled(by f: Double) -> HardwareSpec {
    var hw = self
    hw.peakTFLOPs = peakTFLOPs.mapValues { $0 * f }
    hw.hbmBandwidthGBps *= f
    hw.pcie.gbpsPerDirection *= f
    hw.interconnect?.gbpsPerDirection *= f
    if var s = sustained {
      s.tflops = s.tflops?.mapValues { $0 * f }
      s.hbmGBps = s.hbmGBps.map { $0 * f }
      hw.sustained = s
    }
    return hw
  }
}
