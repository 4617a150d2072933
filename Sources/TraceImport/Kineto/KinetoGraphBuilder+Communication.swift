import TraceModel

extension KinetoGraphBuilder {
  /// Builds `CollectiveRecord`s and `P2PRecord`s for the rank's communication events.
  ///
  /// The operation comes from, in order: the event's own `Collective name` arg; a specific
  /// kernel name (`AllReduce`, `Send`); the host context of the launch (the innermost
  /// `nccl:*`/`c10d::*` op or annotation, or `record_param_comms` args enclosing the
  /// `cudaLaunchKernel`); else the kernel's generic name (`SendRecv`, `Generic`), which
  /// becomes a collective of unknown kind, reported. Sizes come from `In/Out msg nelems` ×
  /// `dtype` when present, else from the first tensor of `Input Dims`/`Input type`.
  /// - Returns: the process groups the args describe (`Process Group Description`), by name.
  @discardableResult
  mutating func extractCommunication(
    _ b: inout EventGraph.Builder, order: [Int32], recordInfo: [NameInfo], launchedBy: [Int32], nameMap: [NameID]
  ) -> [ProcessGroupConfig] {
    var described: [String: ProcessGroupConfig] = [:]
    let defaultGroup = b.strings.intern("default")
    var shapes = ShapeTextCache(strings: trace.strings)
    var unresolved = 0
    for e in 0..<b.eventCount {
      let inf = recordInfo[e]
      guard inf.kind == .collective || inf.kind == .send || inf.kind == .recv else { continue }
      let own = extras(ofEvent: e, order: order)
      let context = hostContext(of: e, order: order, recordInfo: recordInfo, launchedBy: launchedBy, in: b)
      // The event's own args name the operation and sizes when they can, else its host context's.
      let args = (own?.collectiveName ?? -1) >= 0 || own?.inMsgNelems != nil ? own : context.args
      let (op, isResolved) = operation(inf, args: args, context: context)
      if !isResolved { unresolved += 1 }
      let message = messageSize(
        args: args, dims: (own?.inputDims ?? -1) >= 0 ? own : context.dims,
        nameMap: nameMap, shapes: &shapes, in: &b)
      let group = processGroup(args: args, defaultGroup: defaultGroup, nameMap: nameMap)
      if let d = args?.processGroupDescription, d >= 0, described[b.strings[group.name]] == nil {
        described[b.strings[group.name]] = ProcessGroupConfig(
          name: b.strings[group.name], description: trace.strings[Int(d)], ranks: group.ranks)
      }
      switch op {
      case .send, .recv:
        let isSend = op == .send
        b.kind[e] = isSend ? .send : .recv
        b.detail[e] = 0
        b.bytes[e] = message.inBytes
        let peer = peer(of: e, isSend: isSend, own: own, context: context, group: group, order: order, in: b)
        b.p2p.append(P2PRecord(event: EventID(e), isSend: isSend, peer: peer, bytes: message.inBytes))
      case .collective(let kind):
        b.kind[e] = .collective
        b.detail[e] = kind.rawValue
        b.bytes[e] = max(message.inBytes, message.outBytes)
        var record = collectiveRecord(e, kind: kind, group: group, message: message)
        if let seq = own?.sequence ?? args?.sequence, let s32 = Int32(exactly: seq) {
          record.sequence = s32
          record.hasTraceSequence = true
        }
        b.collectives.append(record)
      case .sendRecv, .generic:
        b.kind[e] = .collective
        b.detail[e] = CollectiveKind.unknown.rawValue
        b.bytes[e] = max(message.inBytes, message.outBytes)
        b.collectives.append(collectiveRecord(e, kind: .unknown, group: group, message: message))
      }
    }
    if unresolved > 0 {
      diagnostics.note(
        "classify.unresolvedComm",
        "communication kernels (SendRecv/Generic) have no host context or args naming the operation; "
          + "matched as collectives of unknown kind",
        at: TraceLocation(file: trace.file), count: unresolved)
    }
    return described.values.sorted { $0.name < $1.name }
  }

  /// What the host side says about a communication event: the launching call and its ancestors
  /// (device events), or the event's own ancestors (host events), nearest first.
  struct HostContext {
    /// The innermost `nccl:*` / `c10d::*` op or annotation.
    var op: CommOp?
    /// The nearest args naming a collective or a message size (`record_param_comms`).
    var args: EventExtras?
    /// The nearest `Input Dims` of that op or of a `record_param_comms`.
    var dims: EventExtras?
  }

  /// The args of event `e`'s record, if it has any.
  func extras(ofEvent e: Int, order: [Int32]) -> EventExtras? {
    trace.extraOf.entry(ofRecord: Int(order[e])).map { trace.extras[Int($0)] }
  }

  /// The host context of event `e`, searched up to 32 ancestors deep.
  func hostContext(of e: Int, order: [Int32], recordInfo: [NameInfo], launchedBy: [Int32], in b: EventGraph.Builder)
    -> HostContext
  {
    var context = HostContext()
    let isDevice = b.lane[e].index < b.lanes.count && b.lanes[b.lane[e].index].kind == .deviceStream
    var h = isDevice ? Int(launchedBy[e]) : Int(b.parent[e].rawValue == .max ? -1 : Int(b.parent[e].rawValue))
    var depth = 0
    while h >= 0 && depth < 32 {
      let hx = extras(ofEvent: h, order: order)
      if context.op == nil, let op = recordInfo[h].comm {
        context.op = op
        if context.dims == nil, let hx, hx.inputDims >= 0 { context.dims = hx }
      }
      if let hx {
        if context.args == nil && (hx.collectiveName >= 0 || hx.inMsgNelems != nil) { context.args = hx }
        if context.dims == nil && hx.inputDims >= 0 && b.strings[b.name[h]] == "record_param_comms" {
          context.dims = hx
        }
      }
      let p = b.parent[h]
      h = p == .none ? -1 : p.index
      depth += 1
    }
    return context
  }

  /// The operation of a communication event, in order: the `Collective name` arg; a specific
  /// kernel or op name; the host context's op; else the generic name, not resolved.
  func operation(_ inf: NameInfo, args: EventExtras?, context: HostContext) -> (CommOp, isResolved: Bool) {
    if let a = args, a.collectiveName >= 0, let op = CommClassifier.operation(trace.strings[Int(a.collectiveName)]) {
      return (op, true)
    }
    if let k = inf.comm, k != .sendRecv, k != .generic { return (k, true) }
    if let c = context.op, c != .sendRecv, c != .generic { return (c, true) }
    return (inf.comm ?? .generic, false)
  }

  /// A message's sizes (bytes) and element type.
  struct MessageSize {
    var inBytes: Int64 = 0
    var outBytes: Int64 = 0
    var dtype = NameID.empty
  }

  /// The message size from `In/Out msg nelems` × `dtype` in `args`, else from the first tensor
  /// of `Input Dims` / `Input type` in `dims`; zero when neither is known.
  func messageSize(
    args: EventExtras?, dims: EventExtras?, nameMap: [NameID], shapes: inout ShapeTextCache,
    in b: inout EventGraph.Builder
  ) -> MessageSize {
    var message = MessageSize()
    if let a = args, let nIn = a.inMsgNelems {
      let dt = a.dtype >= 0 ? trace.strings[Int(a.dtype)] : ""
      let size = Int64(DTypeSize.bytes(dt) ?? 0)
      message.inBytes = nIn * size
      message.outBytes = (a.outMsgNelems ?? nIn) * size
      if a.dtype >= 0 { message.dtype = nameMap[Int(a.dtype)] }
    } else if let d = dims {
      let tensor = shapes.firstDims(d.inputDims)
      let typeName = d.inputType >= 0 ? shapes.firstType(d.inputType) : ""
      let size = Int64(DTypeSize.bytes(typeName) ?? 0)
      if !tensor.isEmpty {
        message.inBytes = tensor.reduce(1, *) * size
        message.outBytes = message.inBytes
      }
      if !typeName.isEmpty { message.dtype = b.strings.intern(typeName) }
    }
    return message
  }

  /// A communication event's process group: its name, size and ranks.
  struct ProcessGroup {
    var name: NameID
    var size: Int32
    var ranks: [Int32]
  }

  /// The process group `args` name, else the default group; its size from the args, else its
  /// rank list, else (the default group) the world size.
  func processGroup(args: EventExtras?, defaultGroup: NameID, nameMap: [NameID]) -> ProcessGroup {
    var group = ProcessGroup(name: defaultGroup, size: Int32(args?.groupSize ?? 0), ranks: [])
    if let a = args, a.processGroupName >= 0 { group.name = nameMap[Int(a.processGroupName)] }
    if let a = args, a.processGroupRanks >= 0 {
      group.ranks = Self.parseRankList(trace.strings[Int(a.processGroupRanks)])
    }
    if group.size == 0 && !group.ranks.isEmpty { group.size = Int32(group.ranks.count) }
    if group.size == 0 && group.name == defaultGroup { group.size = Int32(trace.worldSize ?? 0) }
    return group
  }

  /// The peer of a send or receive: from its args or its host context's; for gloo, from the
  /// `c10d::send` / `c10d::recv_` op just before it; for a two-rank group, the other rank.
  func peer(
    of e: Int, isSend: Bool, own: EventExtras?, context: HostContext, group: ProcessGroup, order: [Int32],
    in b: EventGraph.Builder
  ) -> RankID? {
    if let peer = own?.peer ?? context.args?.peer { return RankID(Int(peer)) }
    // gloo: the peer is the third concrete input of the c10d::send / c10d::recv_ op issued
    // just before the gloo span on the same thread.
    var q = e - 1
    while q >= 0 && e - q <= 4 && b.lane[q] == b.lane[e] {
      if b.strings[b.name[q]] == (isSend ? "c10d::send" : "c10d::recv_"), let x = extras(ofEvent: q, order: order),
        x.concreteInputs >= 0
      {
        let values = ShapeText.strings(trace.strings[Int(x.concreteInputs)])
        if values.count > 2, let r = Int(values[2]) { return RankID(r) }
        break
      }
      q -= 1
    }
    // A two-rank group (pipeline p2p groups) names the peer: the other rank.
    if group.ranks.count == 2 && group.ranks.contains(rank.rawValue) {
      return RankID(rawValue: group.ranks[0] == rank.rawValue ? group.ranks[1] : group.ranks[0])
    }
    return nil
  }

  /// The record of collective event `e`; its sequence is set when linking across ranks.
  func collectiveRecord(_ e: Int, kind: CollectiveKind, group: ProcessGroup, message: MessageSize) -> CollectiveRecord {
    CollectiveRecord(
      event: EventID(e), kind: kind, group: group.name, groupSize: group.size, groupRanks: group.ranks,
      sequence: -1, dtype: message.dtype, inputBytes: message.inBytes, outputBytes: message.outBytes)
  }

  /// The dimensions of the first tensor in an `Input Dims` value: `[[6144], [], …]` → [6144].
  static func firstTensorDims(_ text: String) -> [Int64] { ShapeText.dims(text).first ?? [] }

  /// The first string of an `Input type` value: `["float", "Scalar"]` → "float".
  static func firstTypeName(_ text: String) -> String { ShapeText.strings(text).first ?? "" }

  /// Parses `"[0, 1, 2]"` into ranks.
  static func parseRankList(_ text: String) -> [Int32] {
    text.split(whereSeparator: { !$0.isNumber && $0 != "-" }).compactMap { Int32($0) }
  }
}

/// Parsed `Input Dims` / `Input type` texts, cached by string id (one text serves many events).
struct ShapeTextCache {
  let strings: [String]
  private var dims: [Int32: [Int64]] = [:]
  private var types: [Int32: String] = [:]

  init(strings: [String]) { self.strings = strings }

  /// The dimensions of the first tensor of `Input Dims` text `id`.
  mutating func firstDims(_ id: Int32) -> [Int64] {
    if let hit = dims[id] { return hit }
    let v = KinetoGraphBuilder.firstTensorDims(strings[Int(id)])
    dims[id] = v
    return v
  }

  /// The first type name of `Input type` text `id`.
  mutating func firstType(_ id: Int32) -> String {
    if let hit = types[id] { return hit }
    let v = KinetoGraphBuilder.firstTypeName(strings[Int(id)])
    types[id] = v
    return v
  }
}
