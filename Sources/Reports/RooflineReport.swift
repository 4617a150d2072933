import CostModels
import Foundation
import Rendering
import TraceModel

/// The roofline of every kernel of a trace that its launching op can size (`reprise model
/// roofline TRACE`, schema `reprise.roofline/v1`).
public struct RooflineReport: JSONContract, Equatable {
  public static let schemaName = "reprise.roofline"
  public static let schemaVersion = 1

  public struct ClassTotals: Codable, Sendable, Equatable {
    public var kernels: Int
    public var flops: Double
    public var bytes: Double
    public var durationNs: Nanoseconds
    public var achievedTFLOPs: Double
  }

  public struct Op: Codable, Sendable, Equatable {
    public var op: String
    public var kernel: String
    public var family: String
    public var flops: Double
    public var bytes: Double
    public var durationNs: Nanoseconds
    /// The dtype as the trace records it (`c10::BFloat16`, `float`).
    public var dtype: String
    public var achievedTFLOPs: Double
    public var achievedGBps: Double
    public var arithmeticIntensity: Double
    public var percentOfPeak: Double
    public var percentOfRoofline: Double
    public var bound: String
    /// Kernels of the op that carry its cost.
    public var kernels: Int
  }

  public private(set) var schema = Self.schema
  public var hardware: String
  public var kernels: Int
  public var sizedKernels: Int
  public var unsizedKernels: Int
  public var byClass: [String: ClassTotals]
  /// Largest FLOPs first.
  public var ops: [Op]
  public var peakTFLOPs: [String: Double]
  public var hbmBandwidthGBps: Double

  /// The device's display name, for the text.
  public var hardwareDisplayName = ""
  /// Notes for the text (not in the JSON): sized kernels whose dtype the device has no peak for,
  /// and recorded dtype names Reprise does not know.
  public var notes: [String] = []

  enum CodingKeys: String, CodingKey {
    case schema, hardware, kernels, sizedKernels, unsizedKernels, byClass, ops, peakTFLOPs, hbmBandwidthGBps
  }

  /// The roofline of `graph`'s kernels on `hardware`.
  public init(_ graph: EventGraph, hardware hw: HardwareSpec) {
    self.init(KernelRooflineReport.analyze(graph, hardware: hw), hardware: hw)
  }

  /// The document of an analysis.
  public init(_ r: KernelRooflineReport, hardware hw: HardwareSpec) {
    hardware = hw.name
    hardwareDisplayName = hw.displayName
    kernels = r.kernels
    sizedKernels = r.sizedKernels
    unsizedKernels = r.unsizedKernels
    byClass = Dictionary(
      uniqueKeysWithValues: r.byFamily.map { f, s in
        (
          f.rawValue,
          ClassTotals(
            kernels: s.kernels, flops: s.flops.rawValue, bytes: Double(s.bytes.rawValue),
            durationNs: s.duration, achievedTFLOPs: s.achieved.rawValue / 1e12)
        )
      })
    ops = r.rows.sorted { ($0.flops, $0.op) > ($1.flops, $1.op) }.map { row in
      Op(
        op: row.opName, kernel: row.kernelName, family: row.family.rawValue, flops: row.flops.rawValue,
        bytes: Double(row.bytes.rawValue), durationNs: row.duration, dtype: row.dtypeName,
        achievedTFLOPs: row.achieved.rawValue / 1e12, achievedGBps: row.achievedBandwidth.rawValue / 1e9,
        arithmeticIntensity: row.arithmeticIntensity.isFinite ? row.arithmeticIntensity : 0,
        percentOfPeak: row.percentOfPeak, percentOfRoofline: row.percentOfRoofline, bound: row.bound.rawValue,
        kernels: row.kernels.count)
    }
    peakTFLOPs = hw.peakTFLOPs
    hbmBandwidthGBps = hw.hbmBandwidthGBps
    if r.kernelsWithoutPeak > 0 {
      notes.append(
        "note: \(r.kernelsWithoutPeak) sized kernel(s) run at a dtype \(hw.name) has no peak for (0 % of peak)")
    }
    for (name, count) in r.unknownDtypes.sorted(by: { $0.key < $1.key }) {
      notes.append("note: \(count) op(s) of unknown dtype '\(name)' sized at 2 bytes per element")
    }
  }

  /// Per-class summary lines (the demo prints these).
  public func summaryLines() -> [String] {
    var lines = [
      "\(hardwareDisplayName): \(kernels) kernels, \(sizedKernels) sized from their ops' shapes, \(unsizedKernels) unsized"
    ]
    for (f, s) in byClass.sorted(by: { $0.key < $1.key }) {
      lines.append(
        "  \(f.padded(12)) \(s.kernels) kernels, \(TextFormat.fixed(s.flops / 1e12)) TFLOP in "
          + "\(TextFormat.fixed(s.durationNs.milliseconds)) ms = \(TextFormat.fixed(s.achievedTFLOPs, 2)) TFLOP/s")
    }
    return lines + notes
  }

  /// The summary and the `top` ops by FLOPs.
  public func text(top: Int) -> String {
    var lines = summaryLines()
    lines.append("  top ops by FLOPs:  achieved TFLOP/s  % of peak  % of roofline  bound    op → kernel")
    for op in ops.prefix(top) {
      lines.append(
        String(
          format: "  %17.2f  %9.1f  %13.1f  %-7@  %@ → %@", op.achievedTFLOPs, op.percentOfPeak, op.percentOfRoofline,
          op.bound, SafeText.escape(op.op), SafeText.escape(String(op.kernel.prefix(50)))))
    }
    return lines.joined(separator: "\n")
  }
}

/// The roofline of one operation given by its FLOPs and bytes (`reprise model roofline --flops
/// --bytes`, schema `reprise.roofline/v1`): time = max(FLOPs/peak, bytes/BW) + launch overhead.
public struct OperationRoofline: JSONContract, Equatable {
  public static let schemaName = "reprise.roofline"
  public static let schemaVersion = 1

  public private(set) var schema = Self.schema
  public var hardware: String
  public var durationNs: Nanoseconds
  public var bound: String
  public var arithmeticIntensity: Double
  public var ridgePoint: Double

  /// For the text.
  public var hardwareDisplayName = ""
  public var dtype = ""

  enum CodingKeys: String, CodingKey { case schema, hardware, durationNs, bound, arithmeticIntensity, ridgePoint }

  /// The estimate of `flops` and `bytes` at `dtype` on `hardware`.
  /// - Throws: `RunError.usage` when the device has no peak for the dtype.
  public init(hardware hw: HardwareSpec, dtype: String, flops: FLOPs, bytes: Bytes) throws {
    guard let peak = hw.peak(dtype) else {
      throw RunError.usage(
        "\(hw.name) has no \(dtype) peak; it has \(hw.peakTFLOPs.keys.sorted().joined(separator: ", "))")
    }
    let m = RooflineModel(peakCompute: peak, memoryBandwidth: hw.memoryBandwidth, launchOverhead: hw.launchOverhead)
    let e = m.estimate(work: flops, traffic: bytes)
    hardware = hw.name
    hardwareDisplayName = hw.displayName
    self.dtype = dtype
    durationNs = e.duration
    bound = e.bound.rawValue
    arithmeticIntensity = e.arithmeticIntensity
    ridgePoint = m.ridgePoint
  }

  public func text() -> String {
    "\(hardwareDisplayName), \(dtype): \(TextFormat.fixed(durationNs.microseconds, 2)) µs, \(bound) bound "
      + "(intensity \(TextFormat.fixed(arithmeticIntensity, 1)) FLOP/B, ridge \(TextFormat.fixed(ridgePoint, 1)))"
  }
}

extension SpecLibrary {
  /// The hardware named `name`, else the first device the trace names that this library has.
  /// - Throws: `SpecError` for an unknown or broken spec; `RunError.usage` when no name is given
  ///   and the trace names no known device (the message lists what it names and what is known).
  public func hardware(named name: String?, for graph: EventGraph) throws -> HardwareSpec {
    if let name { return try hardware(name) }
    if let detected = try detectHardware(graph) { return detected }
    let devices = Set(graph.ranks.flatMap(\.deviceNames)).sorted().joined(separator: ", ")
    throw RunError.usage(
      "cannot tell the hardware from deviceProperties (\(devices.isEmpty ? "none" : devices)); give --hardware: "
        + names("hardware").joined(separator: ", "))
  }
}
