import CostModels
import Replay
import TraceModel

/// The link each class of communication of a predicted layout runs on.
///
/// A class the trace recorded keeps its measured bus bandwidth (busbw = S·f/T, f the nccl-tests
/// bus factor of its kind and group size), so a larger or smaller group changes only the bus
/// factor and the size (Hockney's α-β model with α folded into the calibrated bandwidth, as
/// `Scenario`'s link knobs do). A class the trace did not record runs on the cluster's link
/// (`--cluster`: inside a node when the group fits in one under Megatron's rank order, else the
/// slowest NIC), else on the device's interconnect, else on the bus bandwidth another recorded
/// class measured.
struct ParallelNetwork: Sendable {
  /// Measured bus bandwidth per recorded class (bytes/s).
  var calibrated: [CommClass: Double] = [:]
  var cluster: ClusterSpec?
  var hardware: HardwareSpec?

  init(profiles: [RankProfile], cluster: ClusterSpec?, hardware: HardwareSpec?, layout: ParallelLayout) {
    self.cluster = cluster
    self.hardware = hardware
    for c in CommClass.allCases {
      let withTransfers = profiles.filter { p in
        p.transfers[c].map { $0.ranks >= 2 && $0.time > 0 && $0.bytes > 0 } ?? false
      }
      let ts = withTransfers.compactMap { $0.transfers[c] }
      guard !ts.isEmpty else { continue }
      // TP's collectives block the ranks that wait for each other: their cost is the time the
      // ranks sat in them (the exposed time), when longer than the transfer.
      let exposed = c == .tp ? withTransfers.map { $0.exposed[c] ?? 0 }.reduce(0, +) : 0
      let time = max(ts.map(\.time).reduce(0, +), exposed)
      let bus = ts.map { $0.bytes * BusFactor.factor($0.kind, ranks: $0.ranks) }.reduce(0, +)
      calibrated[c] = bus / (time / 1e9)
    }
  }

  func crossesNodes(ranks n: Int, stride: Int) -> Bool {
    guard let cluster else { return false }
    let perNode = max(1, cluster.ranksPerNode ?? cluster.gpusPerNode)
    return (n - 1) * stride + 1 > perNode
  }

  /// Bandwidth (bytes/s) of class `c` for a group of `n` ranks `stride` apart.
  func bandwidth(_ c: CommClass, ranks n: Int, stride: Int) throws -> Double {
    if let b = calibrated[c] { return b }
    if let cluster {
      let ranks = (0..<n).map { RankID(rawValue: Int32($0 * stride)) }
      return cluster.bottleneck(for: ranks).bandwidth.rawValue
    }
    if let link = hardware?.interconnect, !crossesNodes(ranks: n, stride: stride) {
      return link.gbpsPerDirection * 1e9
    }
    if let any = CommClass.allCases.compactMap({ calibrated[$0] }).first { return any }
    throw ParallelError(
      "no link for the \(c.rawValue) communication of \(n) ranks: the trace recorded none and no device "
        + "interconnect is known; give --cluster NAME_OR_FILE")
  }

  /// Time (ns) of one collective of `kind` over `n` ranks moving `bytes` (S as nccl-tests counts
  /// it): S·f/busbw, plus the cluster's per-message latency α for each of the ring's steps
  /// (2(n−1) for an all-reduce, n−1 for an all-gather or reduce-scatter, 1 for a send) when
  /// the class is not calibrated on the trace (a calibrated bus bandwidth already holds α).
  func time(_ c: CommClass, _ kind: CollectiveKind?, bytes: Double, ranks n: Int, stride: Int) throws -> Double {
    guard n >= 2, bytes > 0 else { return 0 }
    let b = try bandwidth(c, ranks: n, stride: stride)
    var t = bytes * BusFactor.factor(kind, ranks: n) / b * 1e9
    if calibrated[c] == nil, let alpha = cluster?.latencyUs {
      let steps: Double
      switch kind {
      case .allReduce?: steps = 2 * Double(n - 1)
      case .allGather?, .reduceScatter?, .allToAll?: steps = Double(n - 1)
      default: steps = 1
      }
      t += steps * alpha * 1000
    }
    return t
  }
}
