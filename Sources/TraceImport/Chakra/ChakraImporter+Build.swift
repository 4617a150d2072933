import ChakraSchema
import TraceModel

extension ChakraProtobufImporter {
  /// Builds the event graph of one rank from a decoded file (the mapping is described on
  /// `ChakraProtobufImporter`).
  static func build(_ f: File, path: String, rank: RankID, diagnostics: inout Diagnostics) -> EventGraph {
    var b = EventGraph.Builder()
    b.reserveEvents(f.nodes.count)
    let attributes = f.nodes.map(NodeAttributes.init)
    let keys = zip(f.nodes, attributes).map { laneKey(of: $0, $1) }
    let lanes = addLanes(keys, rank: rank, to: &b)
    b.ranks.append(RankInfo(rank: rank, file: path))
    let deps = dependencies(f, path: path, diagnostics: &diagnostics)
    let duration = f.nodes.map { Int64(clamping: $0.durationMicros) &* 1000 }
    let start = startTimes(
      f, deps: deps, duration: duration, lanes: lanes, laneCount: b.lanes.count, path: path,
      diagnostics: &diagnostics)
    for (i, node) in f.nodes.enumerated() {
      let (kind, detail) = eventKind(of: node, isHost: keys[i].host, attributes: attributes[i])
      let e = b.addEvent(
        lane: LaneID(lanes[i]), name: b.strings.intern(node.name), kind: kind, detail: detail,
        start: start[i], duration: duration[i], bytes: attributes[i].size,
        sourceIndex: UInt32(clamping: i))
      if kind == .annotation, node.name.hasPrefix("ProfilerStep#"),
        let num = Int(node.name.dropFirst("ProfilerStep#".count))
      {
        b.steps.append(
          Step(
            rank: rank, number: num, start: Nanoseconds(start[i]),
            end: Nanoseconds(start[i] + duration[i]), event: e))
      }
    }
    for (from, to, kind) in dependencyEdges(deps, keys: keys, start: start, duration: duration) {
      b.addEdge(from: EventID(from), to: EventID(to), kind: kind)
    }
    addCommunication(f, attributes: attributes, to: &b)
    return b.build()
  }

  /// The attributes of a node that the mapping uses.
  struct NodeAttributes {
    var cpu: Bool?
    var tid: Int64?
    var commType: Int64?
    /// `comm_size`, bytes (negative sizes read as 0).
    var size: Int64 = 0
    var src: Int64?
    var dst: Int64?
    var pg: String?

    init(_ node: ChakraProtoMsg_Node) {
      for a in node.attr {
        switch a.name {
        case "is_cpu_op": cpu = int(a).map { $0 != 0 }
        case "tid": tid = int(a)
        case "comm_type": commType = int(a)
        case "comm_size": size = max(0, int(a) ?? 0)
        case "comm_src": src = int(a)
        case "comm_dst": dst = int(a)
        case "pg_name", "comm_group":
          if case .stringVal(let s)? = a.value { pg = s } else if let v = int(a) { pg = String(v) }
        default: break
        }
      }
    }
  }

  /// A lane: host thread or device stream, and its id.
  struct LaneKey: Hashable {
    var host: Bool
    var tid: Int64
  }

  /// The lane of a node: its `tid` attr; without one, thread 0 for host ops, stream 1 for
  /// communication and stream 0 for the rest.
  static func laneKey(of node: ChakraProtoMsg_Node, _ x: NodeAttributes) -> LaneKey {
    let host = x.cpu ?? false
    if let tid = x.tid { return LaneKey(host: host, tid: tid) }
    let comm = node.type == .commCollNode || node.type == .commSendNode || node.type == .commRecvNode
    return LaneKey(host: host, tid: host ? 0 : (comm ? 1 : 0))
  }

  /// Appends one lane per distinct key (host threads first, then by id) to `b`; returns each
  /// node's lane.
  static func addLanes(_ keys: [LaneKey], rank: RankID, to b: inout EventGraph.Builder) -> [Int] {
    var laneIndex: [LaneKey: Int] = [:]
    for k in Set(keys).sorted(by: { ($0.host ? 0 : 1, $0.tid) < ($1.host ? 0 : 1, $1.tid) }) {
      laneIndex[k] = b.lanes.count
      let label = k.host ? "thread \(k.tid)" : "stream \(k.tid)"
      b.lanes.append(
        Lane(
          rank: rank, kind: k.host ? .hostThread : .deviceStream, device: k.host ? -1 : 0, pid: 0,
          tid: k.tid, name: b.strings.intern(label)))
    }
    // Every key has a lane: the lanes are the distinct keys.
    return keys.map { laneIndex[$0, default: 0] }
  }

  /// Each node's dependencies (`ctrl_deps` and `data_deps`) as indices of earlier nodes.
  ///
  /// Chakra files list nodes in dependency order, as ASTRA-sim's feeder reads them; a dependency
  /// that points forward would allow a cycle and is dropped. Unknown ids and duplicate node ids
  /// are counted too; each kind of problem is one warning, never fatal.
  static func dependencies(_ f: File, path: String, diagnostics: inout Diagnostics) -> [[Int]] {
    var index: [UInt64: Int] = [:]
    index.reserveCapacity(f.nodes.count)
    var duplicateIDs = 0
    for (i, node) in f.nodes.enumerated() {
      if index[node.id] != nil { duplicateIDs += 1 } else { index[node.id] = i }
    }
    var deps = [[Int]](repeating: [], count: f.nodes.count)
    var dangling = 0
    var forward = 0
    for (i, node) in f.nodes.enumerated() {
      for d in node.ctrlDeps + node.dataDeps {
        guard let j = index[d], j != i else {
          dangling += 1
          continue
        }
        if j < i { deps[i].append(j) } else { forward += 1 }
      }
    }
    let loc = TraceLocation(file: path)
    if duplicateIDs > 0 {
      diagnostics.warning(
        "chakra.duplicateID",
        "\(duplicateIDs) node id(s) appear more than once; "
          + "the first node with each id is the one dependencies point to", at: loc)
    }
    if dangling > 0 {
      diagnostics.warning(
        "chakra.danglingDependency",
        "\(dangling) dependency(ies) name no node in the file (or the node itself); ignored", at: loc)
    }
    if forward > 0 {
      diagnostics.warning(
        "chakra.forwardDependency",
        "\(forward) dependency(ies) point to a node later in the file; "
          + "dropped to keep the graph acyclic", at: loc)
    }
    return deps
  }

  /// Start times (ns): as written, or, when the file has none, as soon as possible in file (=
  /// dependency) order: each node when its dependencies have ended and its lane is free.
  static func startTimes(
    _ f: File, deps: [[Int]], duration: [Int64], lanes: [Int], laneCount: Int, path: String,
    diagnostics: inout Diagnostics
  ) -> [Int64] {
    if f.nodes.contains(where: { $0.startTimeMicros > 0 }) {
      return f.nodes.map { Int64(clamping: $0.startTimeMicros) &* 1000 }
    }
    var start = [Int64](repeating: 0, count: f.nodes.count)
    var laneFree = [Int64](repeating: 0, count: laneCount)
    for u in 0..<f.nodes.count {
      var t = laneFree[lanes[u]]
      for d in deps[u] { t = max(t, start[d] + duration[d]) }
      start[u] = t
      laneFree[lanes[u]] = t + duration[u]
    }
    if !f.nodes.isEmpty {
      diagnostics.note(
        "chakra.untimed",
        "no start_time_micros in the file: nodes laid out as soon as their dependencies and lane allow",
        at: TraceLocation(file: path))
    }
    return start
  }

  /// The event kind and detail of a node; nodes named `ProfilerStep#N` are annotations (their
  /// detail kept).
  static func eventKind(of node: ChakraProtoMsg_Node, isHost: Bool, attributes x: NodeAttributes)
    -> (EventKind, UInt8)
  {
    var kind: EventKind
    var detail: UInt8 = 0
    switch node.type {
    case .compNode: kind = isHost ? .hostOp : .kernel
    case .commCollNode:
      kind = .collective
      detail = CollectiveKind(chakraCommType: x.commType ?? 0).rawValue
    case .commSendNode: kind = .send
    case .commRecvNode: kind = .recv
    case .memLoadNode:
      kind = .memcpy
      detail = MemcpyDirection.hostToDevice.rawValue
    case .memStoreNode:
      kind = .memcpy
      detail = MemcpyDirection.deviceToHost.rawValue
    case .metadataNode: kind = .annotation
    case .invalidNode, .UNRECOGNIZED: kind = .other
    }
    if node.name.hasPrefix("ProfilerStep#") { kind = .annotation }
    return (kind, detail)
  }

  /// The graph's edges, dependency → node: program order on one lane; from host to device, the
  /// latest-ending host dependency is the launch; anything else a data dependency.
  static func dependencyEdges(_ deps: [[Int]], keys: [LaneKey], start: [Int64], duration: [Int64])
    -> [(Int, Int, EdgeKind)]
  {
    var edges: [(Int, Int, EdgeKind)] = []
    for i in deps.indices {
      var launcher = -1
      if !keys[i].host {
        for d in deps[i]
        where keys[d].host && (launcher < 0 || start[d] + duration[d] > start[launcher] + duration[launcher]) {
          launcher = d
        }
      }
      for d in deps[i] {
        edges.append((d, i, keys[d] == keys[i] ? .programOrder : d == launcher ? .launch : .data))
      }
    }
    return edges
  }

  /// Collective records (sequence per process group in file order) and send/recv records.
  static func addCommunication(_ f: File, attributes: [NodeAttributes], to b: inout EventGraph.Builder) {
    var seq: [String: Int32] = [:]
    for (i, node) in f.nodes.enumerated() {
      let x = attributes[i]
      switch node.type {
      case .commCollNode:
        let group = x.pg ?? "default"
        let s = seq[group, default: 0]
        seq[group] = s + 1
        b.collectives.append(
          CollectiveRecord(
            event: EventID(i), kind: CollectiveKind(chakraCommType: x.commType ?? 0),
            group: b.strings.intern(group), groupSize: 0, sequence: s, dtype: .empty,
            inputBytes: x.size, outputBytes: x.size))
      case .commSendNode:
        b.p2p.append(P2PRecord(event: EventID(i), isSend: true, peer: x.dst.map { RankID(Int($0)) }, bytes: x.size))
      case .commRecvNode:
        b.p2p.append(P2PRecord(event: EventID(i), isSend: false, peer: x.src.map { RankID(Int($0)) }, bytes: x.size))
      default: break
      }
    }
  }
}
