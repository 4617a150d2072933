extension EventGraph {
  /// Bytes the graph holds: its event columns and edges (`columnBytes`), its tables (lanes,
  /// ranks, steps, collectives, instances, send/recv, memory records, op shapes: count × stride,
  /// plus the arrays they hold) and its strings (UTF-8 bytes, the `String` values and the intern
  /// index, approximately).
  ///
  /// The payload only: unused array capacity and allocator headers are not counted, so a process
  /// holding the graph has at least this much resident. `reprise ingest --json` reports it as
  /// `graph.bytes`.
  public var byteCount: Int {
    columnBytes + tableBytes + strings.byteCount
  }

  /// Bytes of the side tables (lanes, ranks, steps, collectives, instances, send/recv, memory
  /// records, op shapes), with the arrays and strings their rows hold.
  var tableBytes: Int {
    var n = lanes.count * MemoryLayout<Lane>.stride + ranks.count * MemoryLayout<RankInfo>.stride
    for r in ranks {
      // The file's path is left out: the same input read from another directory counts the same.
      n += r.deviceNames.reduce(0) { $0 + $1.utf8.count + MemoryLayout<String>.stride }
      n += r.processGroups.reduce(0) {
        $0 + MemoryLayout<ProcessGroupConfig>.stride + $1.name.utf8.count + $1.description.utf8.count
          + $1.ranks.count * MemoryLayout<Int32>.stride
      }
    }
    n += steps.count * MemoryLayout<Step>.stride
    n += collectives.count * MemoryLayout<CollectiveRecord>.stride
    n += collectives.reduce(0) { $0 + $1.groupRanks.count * MemoryLayout<Int32>.stride }
    n += instances.count * MemoryLayout<CollectiveInstance>.stride
    n += instances.reduce(0) { $0 + $1.members.count * MemoryLayout<EventID>.stride }
    n += p2p.count * MemoryLayout<P2PRecord>.stride + memory.count * MemoryLayout<MemoryRecord>.stride
    n += opShapes.count * MemoryLayout<OpShape>.stride
    return n
  }
}

extension StringTable {
  /// Bytes the table holds, approximately: each string's UTF-8 bytes (those longer than the 15
  /// bytes a `String` keeps inline), its `String` value in the list, and one entry of the intern
  /// index (key and id).
  public var byteCount: Int {
    let perString = 2 * MemoryLayout<String>.stride + MemoryLayout<NameID>.stride
    return strings.reduce(0) { $0 + perString + ($1.utf8.count > 15 ? $1.utf8.count : 0) }
  }
}
