import CostModels
import Foundation
import Replay
import TraceModel

/// What a hardware transfer (`whatif --hardware`) did, class by class: measured and predicted
/// time, how each event was timed, the ceilings used, and the sized ops whose bound flips
/// (compute ↔ memory). JSON: `transfer` in `reprise.replay/v1`.
public struct TransferSection: Codable, Sendable, Equatable {
  /// The ceilings of one device as the transfer used them.
  public struct Ceilings: Codable, Sendable, Equatable {
    public var hardware: String
    /// Compute ceiling per dtype, TFLOP/s: sustained where the spec gives it, else the peak.
    public var computeTFLOPs: [String: Double]
    /// The dtypes whose compute ceiling is a sustained (measured) figure.
    public var sustainedDTypes: [String]
    public var memoryGBps: Double
    public var memorySustained: Bool
    public var pcieGBps: Double
    public var interconnectGBps: Double?
    /// Where the sustained figures come from, when the spec gives any.
    public var sustainedSource: String?

    init(_ hw: HardwareSpec) {
      hardware = hw.name
      var compute: [String: Double] = [:]
      var sustained: [String] = []
      for d in DType.allCases {
        guard let c = hw.computeCeiling(d) else { continue }
        compute[d.rawValue] = c.rate.rawValue / 1e12
        if c.sustained { sustained.append(d.rawValue) }
      }
      computeTFLOPs = compute
      sustainedDTypes = sustained.sorted()
      memoryGBps = hw.memoryCeiling.rate.rawValue / 1e9
      memorySustained = hw.memoryCeiling.sustained
      pcieGBps = hw.pcie.gbpsPerDirection
      interconnectGBps = hw.interconnect?.gbpsPerDirection
      sustainedSource = hw.sustained?.source
    }
  }

  /// One class of work: Σ measured and Σ predicted event time (before the replay overlaps them).
  public struct ClassRow: Codable, Sendable, Equatable {
    public var workClass: String
    public var events: Int
    public var shapeTimed: Int
    public var classTimed: Int
    public var measured: Int
    public var sourceNs: Nanoseconds
    public var predictedNs: Nanoseconds
    /// predicted / source, 4 decimals.
    public var ratio: Double
    enum CodingKeys: String, CodingKey {
      case workClass = "class"
      case events, shapeTimed, classTimed, measured, sourceNs, predictedNs, ratio
    }
  }

  public struct Flip: Codable, Sendable, Equatable {
    public var op: String
    public var kernel: String
    public var kernels: Int
    public var from: String
    public var to: String
    public var measuredNs: Nanoseconds
  }

  public var source: Ceilings
  public var target: Ceilings
  /// How the source was chosen: `deviceProperties` (the GPU the trace names) or `--from`.
  public var sourceFrom: String
  public var hostScale: Double
  /// The dtype assumed for GEMM and attention kernels without shapes.
  public var unsizedGemmDType: String
  public var classes: [ClassRow]
  /// Sized ops whose bound differs on the target, longest first.
  public var boundFlips: [Flip]
  /// Shape-timed kernels that ran faster than the source roofline allows (efficiency above 1:
  /// over-counted bytes, cache hits, or a low ceiling); they keep that efficiency on the target.
  public var kernelsAboveCeiling: Int

  /// The section of `scenario`'s transfer over `plan` (nil without a transfer). `durations` are
  /// the scenario's predicted event durations.
  init?(_ plan: ReplayPlan, scenario: Scenario, durations: [Int64]) {
    guard let t = scenario.transfer else { return nil }
    let g = plan.graph
    let r = t.retime(plan)
    source = Ceilings(t.source)
    target = Ceilings(t.target)
    sourceFrom = t.sourceFrom
    hostScale = t.hostScale
    unsizedGemmDType = r.gemmDType.rawValue
    var rows: [HardwareTransfer.WorkClass: ClassRow] = [:]
    // The run's timed work: on CPU-only ranks an operator's own time (its compute).
    let work = plan.timedWork
    for e in 0..<g.eventCount {
      guard let c = HardwareTransfer.workClass(plan, e) else { continue }
      var row =
        rows[c]
        ?? ClassRow(
          workClass: c.rawValue, events: 0, shapeTimed: 0, classTimed: 0, measured: 0, sourceNs: .zero,
          predictedNs: .zero, ratio: 0)
      row.events += 1
      switch r.method[e] {
      case .shapeModel: row.shapeTimed += 1
      case .classRatio: row.classTimed += 1
      case .measured: row.measured += 1
      }
      let measured = work[e].rawValue
      row.sourceNs += Nanoseconds(rawValue: measured)
      row.predictedNs += Nanoseconds(rawValue: measured + durations[e] - g.duration[e])
      rows[c] = row
    }
    classes = HardwareTransfer.WorkClass.allCases.compactMap { c in
      rows[c].map {
        var row = $0
        row.ratio = row.sourceNs > .zero ? ((row.predictedNs / row.sourceNs) * 10000).rounded() / 10000 : 1
        return row
      }
    }
    kernelsAboveCeiling = r.aboveCeiling
    boundFlips = r.flips.map {
      Flip(
        op: $0.op, kernel: $0.kernel, kernels: $0.kernels, from: $0.sourceBound.rawValue, to: $0.targetBound.rawValue,
        measuredNs: $0.measured)
    }
  }

  /// The table for the text output.
  var lines: [String] {
    func ceilings(_ c: Ceilings) -> String {
      // The dtype the unsized GEMMs run at on this device (fp32 on TF32 where it has it).
      let wanted = DType(rawValue: unsizedGemmDType)?.computePeaks.map(\.rawValue) ?? [unsizedGemmDType]
      let d = wanted.first { c.computeTFLOPs[$0] != nil } ?? unsizedGemmDType
      let compute = c.computeTFLOPs[d].map {
        "\(d) \(TextFormat.compact($0)) TFLOP/s (\(c.sustainedDTypes.contains(d) ? "sustained" : "peak"))"
      }
      return "\(c.hardware): \(compute ?? "no \(d) ceiling"), memory \(TextFormat.compact(c.memoryGBps)) GB/s "
        + "(\(c.memorySustained ? "sustained" : "peak"))"
    }
    var out = [
      "hardware transfer (source from \(sourceFrom)): \(ceilings(source)) → \(ceilings(target))"
        + (hostScale != 1 ? "; host × \(TextFormat.compact(hostScale))" : "; host as measured"),
      "  class          events  shape-timed  class-timed  measured    source ms  predicted ms   ratio",
    ]
    for c in classes {
      out.append(
        String(
          format: "  %@ %7d %12d %12d %9d %12.3f %13.3f %7.3f",
          c.workClass.padding(toLength: 13, withPad: " ", startingAt: 0), c.events, c.shapeTimed,
          c.classTimed, c.measured, c.sourceNs.milliseconds, c.predictedNs.milliseconds, c.ratio))
    }
    let shaped = classes.reduce(0) { $0 + $1.shapeTimed }
    if kernelsAboveCeiling > 0 {
      out.append(
        "  \(kernelsAboveCeiling) of \(shaped) shape-timed kernels ran above the source's roofline (efficiency > 1: "
          + "bytes over-counted or the ceiling low); they keep it on the target")
    }
    if boundFlips.isEmpty {
      out.append("  bound flips: none (every sized op keeps its bound)")
    } else {
      let kernels = boundFlips.reduce(0) { $0 + $1.kernels }
      out.append("  bound flips: \(boundFlips.count) op/kernel pairs, \(kernels) kernels; longest first:")
      for f in boundFlips.prefix(5) {
        out.append(
          "    \(f.from) → \(f.to)  \(f.kernels)×  \(String(format: "%.3f", f.measuredNs.milliseconds)) ms  "
            + "\(f.op) → \(f.kernel.count > 60 ? String(f.kernel.prefix(59)) + "…" : f.kernel)")
      }
    }
    return out
  }
}

/// What the network re-timing did (`whatif --cluster`, `--hardware`, `comm.algorithm`): the
/// placement, the algorithm, and the barrier instances re-timed or kept. JSON: `network`.
public struct NetworkSection: Codable, Sendable, Equatable {
  public var cluster: String?
  public var ranksPerNode: Int
  public var allReduceAlgorithm: String
  public var instances: Int
  public var retimed: Int
  /// Instances kept as measured, by reason.
  public var kept: [String: Int]
  /// Σ measured and Σ predicted transfer time over every instance.
  public var measuredTransferNs: Nanoseconds
  public var predictedTransferNs: Nanoseconds

  init?(_ plan: ReplayPlan, scenario: Scenario, transfers: [Nanoseconds]) {
    guard let n = scenario.network else { return nil }
    let outcomes = n.transfers(plan).outcomes
    cluster = n.cluster?.name
    ranksPerNode = n.ranksPerNode
    allReduceAlgorithm = n.algorithm.rawValue
    instances = plan.instanceCount
    retimed = outcomes.filter { $0 == .retimed }.count
    var kept: [String: Int] = [:]
    for case .kept(let why) in outcomes { kept[why, default: 0] += 1 }
    self.kept = kept
    measuredTransferNs = plan.instanceTransfer.reduce(.zero, +)
    predictedTransferNs = transfers.reduce(.zero, +)
  }

  var lines: [String] {
    guard instances > 0 else { return ["network: no collectives or send/recv pairs to re-time"] }
    let placement = cluster.map { "cluster \($0), \(ranksPerNode) rank(s) per node" } ?? "nodes of \(ranksPerNode)"
    var line =
      "network: \(placement), all-reduce \(allReduceAlgorithm); \(retimed) of \(instances) collective/send-recv "
      + String(
        format: "instances re-timed; transfers %.3f → %.3f ms", measuredTransferNs.milliseconds,
        predictedTransferNs.milliseconds)
    if !kept.isEmpty {
      line +=
        "; kept as measured: "
        + kept.sorted { $0.key < $1.key }.map { "\($0.value) (\($0.key))" }.joined(
          separator: ", ")
    }
    return [line]
  }
}
