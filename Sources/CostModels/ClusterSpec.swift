import Foundation
import TraceModel

/// A cluster: nodes of GPUs, the bandwidth inside a node (NVLink/xGMI) and of each node's
/// network interface — per node, so heterogeneous NICs are expressible (Holmes, arXiv 2312.03549).
///
/// Decoded from `Models/clusters/NAME.json`; decode errors name the JSON path. Bandwidths are
/// per GPU, per direction, in GB/s (1e9 B/s, as nccl-tests prints them).
public struct ClusterSpec: Codable, Sendable, Equatable {
  public var name: String
  public var source: String?
  public var gpusPerNode: Int
  public var nodes: [Node]
  /// How many of a job's ranks each node holds (ranks fill nodes in order); nil: `gpusPerNode`,
  /// except where a what-if spreads the job over the whole cluster (`spreading(world:)`).
  public var ranksPerNode: Int?
  /// Per-message latency α of the links in µs (Hockney's model), when the spec gives it; the
  /// collective models otherwise take α as 0 (bandwidth only).
  public var latencyUs: Double?

  public init(
    name: String, source: String? = nil, gpusPerNode: Int, nodes: [Node], ranksPerNode: Int? = nil,
    latencyUs: Double? = nil
  ) {
    self.latencyUs = latencyUs
    self.name = name
    self.source = source
    self.gpusPerNode = gpusPerNode
    self.nodes = nodes
    self.ranksPerNode = ranksPerNode
  }

  public struct Node: Codable, Sendable, Equatable {
    /// Node name (free text).
    public var name: String?
    /// How many nodes this entry stands for (default 1).
    public var count: Int?
    /// Intra-node GPU-to-GPU bandwidth per GPU per direction, GB/s.
    public var intraNodeGBps: Double
    /// Network bandwidth per GPU per direction, GB/s (a 400 Gb/s NIC per GPU = 50 GB/s).
    public var nicGBps: Double

    public init(name: String? = nil, count: Int? = nil, intraNodeGBps: Double, nicGBps: Double) {
      self.name = name
      self.count = count
      self.intraNodeGBps = intraNodeGBps
      self.nicGBps = nicGBps
    }
  }

  /// Node entries expanded (`count` repeated).
  public var expandedNodes: [Node] { nodes.flatMap { Array(repeating: $0, count: max(1, $0.count ?? 1)) } }

  /// The node index of a global rank (ranks fill nodes in order).
  public func node(of rank: RankID) -> Int { Int(rank.rawValue) / max(ranksPerNode ?? gpusPerNode, 1) }

  /// Bandwidth bounding a collective among `ranks`: intra-node if all share a node, else the
  /// slowest NIC among the nodes involved.
  public func bottleneck(for ranks: [RankID]) -> (crossesNodes: Bool, bandwidth: BytesPerSecond) {
    let all = expandedNodes
    let nodeIDs = Set(ranks.map(node(of:)))
    func spec(_ i: Int) -> Node { all.isEmpty ? Node(intraNodeGBps: 1, nicGBps: 1) : all[min(i, all.count - 1)] }
    if nodeIDs.count <= 1 {
      return (false, BytesPerSecond(rawValue: spec(nodeIDs.first ?? 0).intraNodeGBps * 1e9))
    }
    let slowest = nodeIDs.map { spec($0).nicGBps }.min() ?? 1
    return (true, BytesPerSecond(rawValue: slowest * 1e9))
  }

  /// Loads a spec file.
  /// - Throws: `ClusterSpecError` naming the file and the JSON path of the problem.
  public static func load(_ path: String) throws -> ClusterSpec {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw ClusterSpecError(file: path, message: "cannot read file")
    }
    return try decode(data, file: path)
  }

  /// Decodes and checks a cluster spec; `file` names it in errors.
  /// - Throws: `ClusterSpecError` naming the file and the JSON path of the problem.
  public static func decode(_ data: Data, file path: String) throws -> ClusterSpec {
    do {
      let spec = try JSONDecoder().decode(ClusterSpec.self, from: data)
      if spec.gpusPerNode < 1 {
        throw ClusterSpecError(file: path, message: "gpusPerNode: expected ≥ 1, found \(spec.gpusPerNode)")
      }
      if spec.nodes.isEmpty { throw ClusterSpecError(file: path, message: "nodes: expected at least one node") }
      if let r = spec.ranksPerNode, r < 1 || r > spec.gpusPerNode {
        throw ClusterSpecError(file: path, message: "ranksPerNode: expected 1…\(spec.gpusPerNode), found \(r)")
      }
      return spec
    } catch let e as DecodingError {
      throw ClusterSpecError(file: path, message: Self.describe(e))
    }
  }

  static func describe(_ e: DecodingError) -> String {
    func path(_ ctx: DecodingError.Context) -> String {
      ctx.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().drop(while: { $0 == "." })
        .description
    }
    switch e {
    case .keyNotFound(let key, let ctx): return "\(path(ctx)).\(key.stringValue): missing required key"
    case .typeMismatch(let t, let ctx): return "\(path(ctx)): expected \(t), \(ctx.debugDescription)"
    case .valueNotFound(let t, let ctx): return "\(path(ctx)): expected \(t), found null"
    case .dataCorrupted(let ctx): return "\(path(ctx)): \(ctx.debugDescription)"
    @unknown default: return "\(e)"
    }
  }
}

/// A cluster spec that cannot be used.
public struct ClusterSpecError: Error, CustomStringConvertible, Sendable {
  public var file: String
  public var message: String
  public var description: String { "\(file): \(message)" }
}

/// nccl-tests bus-bandwidth factors: busbw = algbw × factor, algbw = bytes / time.
///
/// From nccl-tests `doc/PERFORMANCE.md`: all-reduce 2(n−1)/n; all-gather, reduce-scatter and
/// all-to-all (n−1)/n; broadcast, reduce and point-to-point 1.
public enum BusFactor {
  public static func factor(_ kind: CollectiveKind?, ranks n: Int) -> Double {
    let p = Double(max(n, 1))
    switch kind {
    case .allReduce?: return 2 * (p - 1) / p
    case .allGather?, .reduceScatter?, .allToAll?, .gather?, .scatter?: return (p - 1) / p
    default: return 1
    }
  }
}

extension ClusterSpec {
  /// The cluster with every node's intra-node and NIC bandwidth × `f`.
  public func scaled(by f: Double) -> ClusterSpec {
    var c = self
    c.nodes = nodes.map {
      var n = $0
      n.intraNodeGBps *= f
      n.nicGBps *= f
      return n
    }
    return c
  }
}
