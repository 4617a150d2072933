import CostModels
import Foundation
import TraceModel

/// Collectives and send/recv pairs re-timed through the collective model on another network
/// (`--cluster`, `--hardware`, `--set comm.algorithm=…`).
///
/// Each barrier instance of S bytes on p ranks is timed by the α-β model (`CollectiveModel`,
/// Thakur, Rabenseifner & Gropp 2005; bus factors of nccl-tests `doc/PERFORMANCE.md`) twice: on
/// the recorded links (`model_s`: ring, the source GPU's interconnect inside a node of 8, the
/// measured bus bandwidth `S·f/T` elsewhere) and on the target links (`model_t`: the path's
/// bottleneck in the cluster, where the slowest NIC among the nodes involved bounds a
/// cross-node collective, after Holmes, arXiv 2312.03549; else the target GPU's interconnect).
/// The measured transfer keeps its efficiency: `T' = T · model_t / model_s` — the same
/// carry-over as for kernels. A cross-node instance without a cluster keeps its measured time
/// (the network is unknown). Message bytes unknown: `T' = T · B_s / B_t`.
///
/// Per-step latency α is NCCL's LL128 hardware latency (NVIDIA/nccl `src/graph/tuning.cc`,
/// `hwLat`: NVLink ring 2.5 µs, tree 1.9 µs; network ring 2.5 µs, tree 7.5 µs).
public struct NetworkRetiming: Sendable {
  /// All-reduce algorithm on the target (`comm.algorithm`); other collectives use their
  /// `CollectiveModel` form.
  public enum Algorithm: String, Sendable, CaseIterable { case ring, tree, hierarchical }

  public var cluster: ClusterSpec?
  /// The source GPU (its interconnect is the recorded intra-node link), when known.
  public var source: HardwareSpec?
  /// The target GPU (its interconnect is the target intra-node link without a cluster).
  public var target: HardwareSpec?
  public var algorithm: Algorithm
  /// Ranks per node on the target: the cluster's `ranksPerNode`, else spread evenly over its
  /// nodes (`ClusterSpec.spreading`); 8 without a cluster.
  public var ranksPerNode: Int

  static let intraAlpha = (ring: 2.5e-6, tree: 1.9e-6)
  static let netAlpha = (ring: 2.5e-6, tree: 7.5e-6)

  public init(
    cluster: ClusterSpec?, source: HardwareSpec?, target: HardwareSpec?, algorithm: Algorithm = .ring,
    ranksPerNode: Int? = nil
  ) {
    (self.cluster, self.source, self.target, self.algorithm) = (cluster, source, target, algorithm)
    self.ranksPerNode = max(1, ranksPerNode ?? cluster?.ranksPerNode ?? cluster?.gpusPerNode ?? 8)
  }

  /// What the re-timing did to one instance.
  public enum Outcome: Sendable, Equatable {
    case retimed
    /// Kept as measured, and why.
    case kept(String)
  }

  /// The transfer time of every barrier instance of `plan` on the target network, with what
  /// happened to each.
  public func transfers(_ plan: ReplayPlan) -> (transfers: [Double], outcomes: [Outcome]) {
    var out = [Double](repeating: 0, count: plan.instanceCount)
    var outcomes = [Outcome](repeating: .retimed, count: plan.instanceCount)
    for i in 0..<plan.instanceCount { (out[i], outcomes[i]) = transfer(plan, instance: i) }
    return (out, outcomes)
  }

  /// The link a set of ranks uses on the source: inside a node of 8, the source GPU's
  /// interconnect; else nil (the measured bus bandwidth stands for it).
  func sourceLink(_ ranks: [RankID]) -> Double? {
    let crosses = Set(ranks.map { Int($0.rawValue) / 8 }).count > 1
    return crosses ? nil : source?.interconnect.map { $0.gbpsPerDirection * 1e9 }
  }

  /// The target's bottleneck bandwidth for `ranks`, whether they cross nodes, the node count and
  /// the ranks per node involved; nil bandwidth when unknown.
  func targetLink(_ ranks: [RankID]) -> (bandwidth: Double?, intra: Double?, crosses: Bool, nodes: Int, perNode: Int) {
    let nodeOf = { (r: RankID) in Int(r.rawValue) / self.ranksPerNode }
    var count: [Int: Int] = [:]
    for r in ranks { count[nodeOf(r), default: 0] += 1 }
    let crosses = count.count > 1
    let perNode = count.values.max() ?? 1
    if let cluster {
      let nodes = cluster.expandedNodes
      func node(_ i: Int) -> ClusterSpec.Node { nodes[min(i, nodes.count - 1)] }
      let intra = count.keys.map { node($0).intraNodeGBps }.min().map { $0 * 1e9 }
      let nic = count.keys.map { node($0).nicGBps }.min().map { $0 * 1e9 }
      return (crosses ? nic : intra, intra, crosses, count.count, perNode)
    }
    let intra = (target ?? source)?.interconnect.map { $0.gbpsPerDirection * 1e9 }
    return (crosses ? nil : intra, intra, crosses, count.count, perNode)
  }

  func transfer(_ plan: ReplayPlan, instance i: Int) -> (Double, Outcome) {
    let g = plan.graph
    let measured = Double(plan.instanceTransfer[i].rawValue)
    let members = plan.members(of: i)
    let ranks = members.map { g.rank(of: Int($0)) }
    let p = members.count
    let kind = plan.collectiveKind(of: i)
    guard measured > 0 else { return (measured, .kept("no measured transfer")) }
    let bytes = Double(plan.instanceBytes[i].rawValue)
    let busBytes = bytes * BusFactor.factor(kind, ranks: p)
    let measuredBus = busBytes > 0 ? busBytes / (measured / 1e9) : nil
    let link = targetLink(ranks)
    guard let bTarget = link.bandwidth else {
      return (measured, .kept(link.crosses ? "crosses nodes; no cluster gives the network" : "no target link"))
    }
    let srcLink = sourceLink(ranks)
    guard let bSource = srcLink ?? measuredBus else {
      return (measured, .kept("message size unknown and no source link"))
    }
    if bytes <= 0 { return (measured * bSource / bTarget, .retimed) }
    let alphaSource = srcLink == nil ? 0 : Self.intraAlpha.ring
    let modelSource = CollectiveModel.time(
      kind, bytes: Bytes(rounding: bytes), ranks: p, bandwidth: BytesPerSecond(rawValue: bSource),
      latency: Nanoseconds(seconds: alphaSource), algorithm: .ring)
    let modelTarget = targetTime(kind, bytes: bytes, ranks: p, link: link, bandwidth: bTarget)
    guard modelSource > .zero else { return (measured, .kept("the model gives no time")) }
    return (measured * Double(modelTarget.rawValue) / Double(modelSource.rawValue), .retimed)
  }

  /// The model's time on the target links.
  func targetTime(
    _ kind: CollectiveKind?, bytes: Double, ranks p: Int,
    link: (bandwidth: Double?, intra: Double?, crosses: Bool, nodes: Int, perNode: Int), bandwidth: Double
  ) -> Nanoseconds {
    let alpha = link.crosses ? Self.netAlpha : Self.intraAlpha
    let n = Bytes(rounding: bytes)
    if kind == .allReduce, algorithm == .hierarchical, link.crosses, link.perNode > 1, let intra = link.intra {
      return CollectiveModel.hierarchicalAllReduce(
        bytes: n, gpusPerNode: link.perNode, nodes: link.nodes, intra: BytesPerSecond(rawValue: intra),
        inter: BytesPerSecond(rawValue: bandwidth), latency: Nanoseconds(seconds: alpha.ring))
    }
    let tree = kind == .allReduce && algorithm == .tree
    return CollectiveModel.time(
      kind, bytes: n, ranks: p, bandwidth: BytesPerSecond(rawValue: bandwidth),
      latency: Nanoseconds(seconds: tree ? alpha.tree : alpha.ring), algorithm: tree ? .tree : .ring)
  }
}

extension ClusterSpec {
  /// The spec with `ranksPerNode` set for a job of `world` ranks when the spec does not fix it:
  /// spread evenly over every node, `min(gpusPerNode, ⌈world / nodes⌉)` per node (a job given a
  /// cluster runs on all of it).
  public func spreading(world: Int) -> ClusterSpec {
    guard ranksPerNode == nil else { return self }
    var c = self
    let nodes = max(expandedNodes.count, 1)
    c.ranksPerNode = max(1, min(gpusPerNode, (max(world, 1) + nodes - 1) / nodes))
    return c
  }
}
