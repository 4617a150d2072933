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
  mutating func extractCommunication(
    _ b: inout EventGraph.Builder, order: [Int32], recordInfo: [NameInfo], launchedBy: [Int32], nameMap: [NameID]
  ) {
    let t = trace
    let defaultGroup = b.strings.intern("default")
    let world = Int32(t.worldSize ?? 0)
    var unresolved = 0
    var parsedDims: [Int32: [Int64]] = [:]
    var parsedType: [Int32: String] = [:]

    func extras(_ e: Int) -> EventExtras? {
      let x = t.extra[Int(order[e])]
      return x >= 0 ? t.extras[Int(x)] : nil
    }
    func firstDims(_ id: Int32) -> [Int64] {
      if let hit = parsedDims[id] { return hit }
      let v = Self.firstTensorDims(t.strings[Int(id)])
      parsedDims[id] = v
      return v
    }
    func firstType(_ id: Int32) -> String {
      if let hit = parsedType[id] { return hit }
      let v = Self.firstTypeName(t.strings[Int(id)])
      parsedType[id] = v
      return v
    }

    for e in 0..<b.eventCount {
      let inf = recordInfo[e]
      guard inf.kind == .collective || inf.kind == .send || inf.kind == .recv else { continue }
      let own = extras(e)
      // Host context: the launching call and its ancestors (device events), or the event's own ancestors.
      var ctxOp: CommOp? = nil
      var ctxArgs: EventExtras? = nil
      var ctxDims: EventExtras? = nil
      var h = b.lane[e].index < b.lanes.count && b.lanes[b.lane[e].index].kind == .deviceStream ? Int(launchedBy[e]) : Int(b.parent[e].rawValue == .max ? -1 : Int(b.parent[e].rawValue))
      var depth = 0
      while h >= 0 && depth < 32 {
        let hi = recordInfo[h]
        let hx = extras(h)
        if ctxOp == nil, let op = hi.comm { ctxOp = op; if ctxDims == nil, let hx, hx.inputDims >= 0 { ctxDims = hx } }
        if let hx {
          if ctxArgs == nil && (hx.collectiveName >= 0 || hx.inMsgNelems != nil) { ctxArgs = hx }
          if ctxDims == nil && hx.inputDims >= 0 && b.strings[b.name[h]] == "record_param_comms" { ctxDims = hx }
        }
        let p = b.parent[h]
        h = p == .none ? -1 : p.index
        depth += 1
      }
      let args = (own?.collectiveName ?? -1) >= 0 || own?.inMsgNelems != nil ? own : ctxArgs
      var op: CommOp? = nil
      if let a = args, a.collectiveName >= 0 { op = CommClassifier.operation(t.strings[Int(a.collectiveName)]) }
      if op == nil, let k = inf.comm, k != .sendRecv, k != .generic { op = k }
      if op == nil, let c = ctxOp, c != .sendRecv, c != .generic { op = c }
      if op == nil { op = inf.comm ?? .generic; unresolved += 1 }

      // Sizes.
      var inBytes: Int64 = 0, outBytes: Int64 = 0
      var dtype = NameID.empty
      if let a = args, let nIn = a.inMsgNelems {
        let dt = a.dtype >= 0 ? t.strings[Int(a.dtype)] : ""
        let size = Int64(DTypeSize.bytes(dt) ?? 0)
        inBytes = nIn * size
        outBytes = (a.outMsgNelems ?? nIn) * size
        if a.dtype >= 0 { dtype = nameMap[Int(a.dtype)] }
      } else if let d = (own?.inputDims ?? -1) >= 0 ? own : ctxDims {
        let dims = firstDims(d.inputDims)
        let typeName = d.inputType >= 0 ? firstType(d.inputType) : ""
        let size = Int64(DTypeSize.bytes(typeName) ?? 0)
        if !dims.isEmpty {
          inBytes = dims.reduce(1, *) * size
          outBytes = inBytes
        }
        if !typeName.isEmpty { dtype = b.strings.intern(typeName) }
      }
      let group = (args?.processGroupName ?? -1) >= 0 ? nameMap[Int(args!.processGroupName)] : defaultGroup
      var groupSize = Int32(args?.groupSize ?? 0)
      var groupRanks: [Int32] = []
      if let a = args, a.processGroupRanks >= 0 { groupRanks = Self.parseRankList(t.strings[Int(a.processGroupRanks)]) }
      if groupSize == 0 && !groupRanks.isEmpty { groupSize = Int32(groupRanks.count) }
      if groupSize == 0 && group == defaultGroup { groupSize = world }

      switch op! {
      case .send, .recv:
        let isSend = op! == .send
        b.kind[e] = isSend ? .send : .recv
        b.detail[e] = 0
        b.bytes[e] = inBytes
        var peer = (own?.peer ?? ctxArgs?.peer).map { RankID(Int($0)) }
        // gloo: the peer is the third concrete input of the c10d::send / c10d::recv_ op issued
        // just before the gloo span on the same thread.
        if peer == nil {
          var q = e - 1
          while q >= 0 && e - q <= 4 && b.lane[q] == b.lane[e] {
            let qName = b.strings[b.name[q]]
            if qName == (isSend ? "c10d::send" : "c10d::recv_"), let x = extras(q), x.concreteInputs >= 0 {
              let values = ShapeText.strings(t.strings[Int(x.concreteInputs)])
              if values.count > 2, let r = Int(values[2]) { peer = RankID(r) }
              break
            }
            q -= 1
          }
        }
        // A two-rank group (pipeline p2p groups) names the peer: the other rank.
        if peer == nil && groupRanks.count == 2 && groupRanks.contains(rank.rawValue) {
          peer = RankID(rawValue: groupRanks[0] == rank.rawValue ? groupRanks[1] : groupRanks[0])
        }
        b.p2p.append(P2PRecord(event: EventID(e), isSend: isSend, peer: peer, bytes: inBytes))
      case .collective(let kind):
        b.kind[e] = .collective
        b.detail[e] = kind.rawValue
        b.bytes[e] = max(inBytes, outBytes)
        var record = CollectiveRecord(event: EventID(e), kind: kind, group: group, groupSize: groupSize,
                                      groupRanks: groupRanks, sequence: -1, dtype: dtype,
                                      inputBytes: inBytes, outputBytes: outBytes)
        if let seq = own?.sequence ?? args?.sequence, let s32 = Int32(exactly: seq) {
          record.sequence = s32
          record.hasTraceSequence = true
        }
        b.collectives.append(record)
      case .sendRecv, .generic:
        b.kind[e] = .collective
        b.detail[e] = CollectiveKind.unknown.rawValue
        b.bytes[e] = max(inBytes, outBytes)
        b.collectives.append(CollectiveRecord(event: EventID(e), kind: .unknown, group: group, groupSize: groupSize,
                                              groupRanks: groupRanks, sequence: -1, dtype: dtype,
                                              inputBytes: inBytes, outputBytes: outBytes))
      }
    }
    if unresolved > 0 {
      diagnostics.note("classify.unresolvedComm",
                       "communication kernels (SendRecv/Generic) have no host context or args naming the operation; matched as collectives of unknown kind",
                       at: TraceLocation(file: t.file), count: unresolved)
    }
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
