import TraceModel

extension KinetoGraphBuilder {
  /// Links each host-side collective that runs on a worker thread (gloo's `gloo:all_reduce` on
  /// its `pt_gloo_runloop` threads) to the `c10d::` op that enqueued it on another thread
  /// (`c10d::allreduce_` on the main thread): a `launch` edge, enqueue → collective.
  ///
  /// No id or flow links the two in the trace. gloo's worker threads take the work in the order
  /// it was enqueued, so the k-th enqueue of an operation (by start) is paired with the k-th
  /// collective of that operation on the rank's other threads (by start); a collective that
  /// starts before its enqueue, or is left over, stays unlinked and is counted.
  /// - Returns: the number of collectives left unlinked.
  mutating func linkCollectiveEnqueues(lanes: Lanes, in b: inout EventGraph.Builder) -> Int {
    var enqueues: [CollectiveKind: [Int]] = [:]
    var spans: [CollectiveKind: [Int]] = [:]
    // Per name: the collective a `c10d::` op enqueues (classified once per distinct name).
    var enqueued = [CollectiveKind??](repeating: nil, count: b.strings.count)
    for e in 0..<b.eventCount where !lanes.isDevice(b.lane[e]) {
      switch b.kind[e] {
      case .collective:
        guard let kind = CollectiveKind(rawValue: b.detail[e]) else { continue }
        spans[kind, default: []].append(e)
      case .hostOp:
        let n = b.name[e].index
        if enqueued[n] == nil {
          if let (backend, op) = CommClassifier.hostName(b.strings[b.name[e]]), backend == "c10d",
            case .collective(let kind) = op
          {
            enqueued[n] = .some(kind)
          } else {
            enqueued[n] = .some(nil)
          }
        }
        guard let kind = enqueued[n] ?? nil else { continue }
        enqueues[kind, default: []].append(e)
      default: continue
      }
    }
    var unlinked = 0
    for (kind, list) in spans.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
      // Collectives on the thread that enqueues them (device-less sends, or a backend that runs
      // in place) have no worker to link.
      let issuers = Set((enqueues[kind] ?? []).map { b.lane[$0] })
      let workers = list.filter { !issuers.contains(b.lane[$0]) }.sorted { (b.start[$0], $0) < (b.start[$1], $1) }
      guard !workers.isEmpty else { continue }
      let sources = (enqueues[kind] ?? []).sorted { (b.start[$0], $0) < (b.start[$1], $1) }
      var k = 0
      for w in workers {
        guard k < sources.count, b.start[sources[k]] <= b.start[w] else {
          unlinked += 1
          continue
        }
        b.addEdge(from: EventID(sources[k]), to: EventID(w), kind: .launch)
        k += 1
      }
    }
    return unlinked
  }
}
