import CostModels
import TraceModel

/// Achieved bandwidth of every collective in a run, in the nccl-tests convention.
///
/// For each matched collective instance (one call across its ranks):
/// - `bytes` is the message size as nccl-tests counts it (`doc/PERFORMANCE.md`): the output
///   buffer for all-gather, the input buffer for reduce-scatter, the larger of the two otherwise;
/// - `transferNs` runs from the last rank's arrival (latest member start) to the last member's
///   end, so a rank waiting for late peers does not count as slow transfer; `durationNs` is the
///   longest member kernel, waiting included;
/// - `algbwGBps = bytes / transferNs`, `busbwGBps = algbw × BusFactor(kind, n)`
///   (all-reduce 2(n−1)/n; all-gather, reduce-scatter, all-to-all (n−1)/n; others 1), where `n`
///   is the group size;
/// - `peakPct` is busbw as a share of a given link bandwidth, when one is given.
///
/// Matched send/recv pairs count as one transfer each (`kind == nil`, factor 1, `ranks == 2`),
/// timed from the later of the two starts to the later end.
///
/// Collectives that could not be matched across ranks (a partial world, or ranks missing) are
/// measured alone, `transferNs = durationNs`, and counted in `unmatched`; unmatched sends and
/// receives are counted in `unmatchedP2P` and left out of the bandwidth.
public struct BandwidthAnalysis: Sendable, Equatable {
  public struct Instance: Sendable, Equatable {
    /// The collective, or nil for a send/recv pair.
    public var kind: CollectiveKind?
    public var group: String
    public var sequence: Int
    public var ranks: Int
    public var membersPresent: Int
    public var bytes: Int64
    public var startNs: Int64
    public var durationNs: Int64
    public var transferNs: Int64
    public var algbwGBps: Double
    public var busbwGBps: Double
    public var peakPct: Double?
    /// The rank that arrived last, and by how much after the first (C4-style straggler signal).
    public var lastRank: Int
    public var arrivalSpreadNs: Int64
    public var matched: Bool
    /// Ranks of the members present, ascending.
    public var memberRanks: [Int]
  }

  /// Totals per collective kind and message-size bucket.
  public struct Bucket: Sendable, Equatable {
    public var kind: CollectiveKind?
    /// Upper bound of the power-of-two size bucket (bytes ≤ this and > half of it).
    public var maxBytes: Int64
    public var count: Int
    public var bytes: Int64
    public var transferNs: Int64
    /// Σ bytes × factor / Σ transfer time: the bus bandwidth of the bucket as a whole.
    public var busbwGBps: Double
    public var medianBusbwGBps: Double
  }

  public var instances: [Instance]
  public var buckets: [Bucket]
  public var unmatched: Int
  public var unmatchedP2P: Int
  public var linkGBps: Double?

  /// The kind's name, `sendRecv` for point-to-point.
  public static func kindName(_ k: CollectiveKind?) -> String { k?.name ?? "sendRecv" }

  /// nccl-tests' message size for a collective with these buffer sizes.
  public static func ncclTestsBytes(_ kind: CollectiveKind, input: Int64, output: Int64) -> Int64 {
    switch kind {
    case .allGather: output > 0 ? output : input
    case .reduceScatter: input > 0 ? input : output
    default: max(input, output)
    }
  }

  public init(_ graph: EventGraph, timeline: Timeline, linkGBps: Double? = nil) {
    self.linkGBps = linkGBps
    var recordOf: [UInt32: Int] = [:]
    for (i, c) in graph.collectives.enumerated() { recordOf[c.event.rawValue] = i }
    var out: [Instance] = []
    func make(kind: CollectiveKind?, group: NameID, sequence: Int32, n: Int, members: [EventID], matched: Bool,
              p2pBytes: Int64? = nil) -> Instance? {
      let bytes: Int64, groupSize: Int
      if let p2pBytes {
        bytes = p2pBytes; groupSize = 2
      } else {
        let recs = members.compactMap { recordOf[$0.rawValue].map { graph.collectives[$0] } }
        guard let first = recs.first, let kind else { return nil }
        bytes = recs.map { Self.ncclTestsBytes(kind, input: $0.inputBytes, output: $0.outputBytes) }.max() ?? 0
        groupSize = Int(first.groupSize)
      }
      var lastStart = Int64.min, firstStart = Int64.max, lastEnd = Int64.min, longest: Int64 = 0, lastRank = 0
      for m in members {
        let s = timeline.start[m.index], e = timeline.end[m.index]
        if s > lastStart { lastStart = s; lastRank = Int(graph.rank(of: m.index).rawValue) }
        firstStart = min(firstStart, s); lastEnd = max(lastEnd, e); longest = max(longest, e - s)
      }
      let transfer = max(lastEnd - lastStart, 0)
      let ranks = max(n, groupSize, members.count)
      let seconds = Double(transfer) / 1e9
      let alg = transfer > 0 ? CollectiveModel.algbwGBps(bytes: Double(bytes), seconds: seconds) : 0
      let bus = transfer > 0 ? CollectiveModel.busbwGBps(kind, bytes: Double(bytes), seconds: seconds, ranks: ranks) : 0
      return Instance(
        kind: kind, group: graph.strings[group], sequence: Int(sequence), ranks: ranks, membersPresent: members.count,
        bytes: bytes, startNs: firstStart, durationNs: longest, transferNs: transfer, algbwGBps: alg, busbwGBps: bus,
        peakPct: linkGBps.map { $0 > 0 ? 100 * bus / $0 : 0 }, lastRank: lastRank,
        arrivalSpreadNs: lastStart - firstStart, matched: matched,
        memberRanks: members.map { Int(graph.rank(of: $0.index).rawValue) }.sorted())
    }
    for inst in graph.instances {
      if let i = make(kind: inst.kind, group: inst.group, sequence: inst.sequence, n: inst.expectedSize,
                      members: inst.members, matched: true) { out.append(i) }
    }
    var unmatched = 0
    for c in graph.collectives where c.instance == nil {
      unmatched += 1
      if let i = make(kind: c.kind, group: c.group, sequence: c.sequence, n: Int(c.groupSize),
                      members: [c.event], matched: false) { out.append(i) }
    }
    var unmatchedP2P = 0, pairs = 0
    let noGroup = NameID.empty
    for p in graph.p2p where p.isSend {
      guard let m = p.match else { unmatchedP2P += 1; continue }
      if let i = make(kind: nil, group: noGroup, sequence: Int32(pairs), n: 2, members: [p.event, m], matched: true,
                      p2pBytes: p.bytes) { out.append(i); pairs += 1 }
    }
    unmatchedP2P += graph.p2p.filter { !$0.isSend && $0.match == nil }.count
    out.sort { ($0.startNs, $0.group, $0.sequence) < ($1.startNs, $1.group, $1.sequence) }
    instances = out
    self.unmatched = unmatched
    self.unmatchedP2P = unmatchedP2P

    var groups: [String: [Instance]] = [:]
    for i in out where i.bytes > 0 && i.transferNs > 0 {
      groups["\(Self.kindName(i.kind))/\(Self.bucket(i.bytes))", default: []].append(i)
    }
    buckets = groups.values.map { list in
      let bytes = list.reduce(Int64(0)) { $0 + $1.bytes }
      let time = list.reduce(Int64(0)) { $0 + $1.transferNs }
      let weighted = list.reduce(0.0) { $0 + Double($1.bytes) * BusFactor.factor($1.kind, ranks: $1.ranks) }
      let sorted = list.map(\.busbwGBps).sorted()
      let median = sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
      return Bucket(kind: list[0].kind, maxBytes: Self.bucket(list[0].bytes), count: list.count, bytes: bytes,
                    transferNs: time, busbwGBps: time > 0 ? weighted / Double(time) : 0, medianBusbwGBps: median)
    }.sorted { (Self.kindName($0.kind), $0.maxBytes) < (Self.kindName($1.kind), $1.maxBytes) }
  }

  /// The smallest power of two ≥ `bytes`.
  public static func bucket(_ bytes: Int64) -> Int64 {
    var b: Int64 = 1
    while b < bytes { b <<= 1 }
    return b
  }
}
