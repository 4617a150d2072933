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
    if !(launchOverheadUs >= 0 && launchOverheadUs.isFinite) {
      throw SpecError.invalid(
        file: file, path: "launchOverheadUs", message: "expected a non-negative number, found \(launchOverheadUs)")
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
  /// The name is not a spec in `Models/<kind>/` (a usage error: exit 64).
  case unknownName(kind: String, name: String, known: [String])
  /// The file is not a valid spec (a data error: exit 65).
  case invalid(file: String, path: String, message: String)
  case unreadable(file: String)

  public var description: String {
    switch self {
    case .unknownName(let kind, let name, let known):
      return "unknown \(kind) '\(name)'; known: \(known.joined(separator: ", "))"
    case .invalid(let file, let path, let message):
      return "\(file): \(path.isEmpty ? "" : path + ": ")\(message)"
    case .unreadable(let file): return "\(file): cannot read"
    }
  }
  public var isUsageError: Bool { if case .unknownName = self { return true } else { return false } }
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

/// Finds and decodes specs under a `Models/` directory.
public struct SpecLibrary: Sendable {
  public var root: String

  /// `REPRISE_MODELS`, else `./Models`, else `Models/` next to the executable's package.
  public static func locate() -> SpecLibrary {
    if let env = ProcessInfo.processInfo.environment["REPRISE_MODELS"] { return SpecLibrary(root: env) }
    let fm = FileManager.default
    if fm.fileExists(atPath: "Models/hardware") { return SpecLibrary(root: "Models") }
    var url = URL(fileURLWithPath: CommandLine.arguments.first ?? ".").resolvingSymlinksInPath()
      .deletingLastPathComponent()
    for _ in 0..<4 {
      let candidate = url.appendingPathComponent("Models").path
      if fm.fileExists(atPath: candidate + "/hardware") { return SpecLibrary(root: candidate) }
      url.deleteLastPathComponent()
    }
    return SpecLibrary(root: "Models")
  }

  public init(root: String) { self.root = root }

  public func names(_ kind: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: root + "/" + kind)) ?? [])
      .filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.sorted()
  }

  public func hardware(_ name: String) throws -> HardwareSpec {
    let (spec, file): (HardwareSpec, String) = try load("hardware", name)
    try spec.validate(file: file)
    return spec
  }

  public func model(_ name: String) throws -> ModelSpec {
    let (spec, file): (ModelSpec, String) = try load("models", name)
    try spec.validate(file: file)
    return spec
  }

  public func cluster(_ name: String) throws -> ClusterSpec {
    let file = name.hasSuffix(".json") ? name : root + "/clusters/" + name + ".json"
    guard FileManager.default.fileExists(atPath: file) else {
      throw SpecError.unknownName(kind: "cluster", name: name, known: names("clusters"))
    }
    do { return try ClusterSpec.load(file) } catch let e as ClusterSpecError {
      throw SpecError.invalid(file: e.file, path: "", message: e.message)
    }
  }

  /// Loads `NAME` (a name in `Models/<kind>/`, or a path to a `.json` file).
  func load<T: Decodable>(_ kind: String, _ name: String) throws -> (T, String) {
    let file = name.hasSuffix(".json") ? name : root + "/" + kind + "/" + name + ".json"
    guard let data = FileManager.default.contents(atPath: file) else {
      if name.hasSuffix(".json") { throw SpecError.unreadable(file: file) }
      throw SpecError.unknownName(kind: kind == "models" ? "model" : kind, name: name, known: names(kind))
    }
    do {
      return (try JSONDecoder().decode(T.self, from: data), file)
    } catch let e as DecodingError {
      let (path, message) = Self.describe(e)
      throw SpecError.invalid(file: file, path: path, message: message)
    } catch {
      throw SpecError.invalid(file: file, path: "", message: "\(error)")
    }
  }

  static func describe(_ e: DecodingError) -> (String, String) {
    func path(_ codingPath: [CodingKey]) -> String {
      codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().drop(while: { $0 == "." })
        .description
    }
    switch e {
    case .keyNotFound(let key, let ctx):
      let p = path(ctx.codingPath + [key])
      return (p, "missing required field")
    case .typeMismatch(let t, let ctx): return (path(ctx.codingPath), "expected \(t)")
    case .valueNotFound(let t, let ctx): return (path(ctx.codingPath), "expected \(t), found null")
    case .dataCorrupted(let ctx): return (path(ctx.codingPath), ctx.debugDescription)
    @unknown default: return ("", "\(e)")
    }
  }
}

extension SpecLibrary {
  /// The spec of the first device the trace names in `deviceProperties` that this library has,
  /// or nil (no names, no match, or no spec file of that name).
  /// - Throws: `SpecError.invalid`/`.unreadable` when the matching spec file is broken: a user
  ///   who edited it wants to hear so, not to lose the roofline silently.
  public func detectHardware(_ graph: EventGraph) throws -> HardwareSpec? {
    for device in graph.ranks.flatMap(\.deviceNames) {
      guard let name = Self.hardwareName(forDevice: device) else { continue }
      do {
        return try hardware(name)
      } catch let error as SpecError where error.isUsageError {
        continue
      }
    }
    return nil
  }

  /// The hardware spec name for a `deviceProperties` name (`NVIDIA H100 80GB HBM3`,
  /// `Tesla V100-SXM2-32GB`, `AMD Instinct MI300X`), or nil when none matches.
  public static func hardwareName(forDevice device: String) -> String? {
    let d = device.uppercased()
    if d.contains("MI300X") { return "mi300x" }
    if d.contains("B200") { return "b200" }
    if d.contains("H200") { return "h200-sxm-141gb" }
    if d.contains("H100") { return d.contains("PCIE") ? "h100-pcie-80gb" : "h100-sxm5-80gb" }
    if d.contains("A100") {
      if d.contains("PCIE") { return "a100-pcie-80gb" }
      return d.contains("40GB") ? "a100-sxm4-40gb" : "a100-sxm4-80gb"
    }
    if d.contains("V100") { return "v100-sxm2-32gb" }
    if d.contains("L40S") { return "l40s" }
    return nil
  }
}
