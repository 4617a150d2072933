import CostModels
import TraceModel

/// Achieved bandwidth of every collective in a run, in the nccl-tests convention.
///
/// For each matched collective instance (one call across its ranks):
/// - `bytes` is the message size as nccl-tests counts it (`doc/PERFORMANCE.md`): the output
///   buffer for all-gather, the input buffer for reduce-scatter, the larger of the two otherwise;
/// - `transfer` runs from the last rank's arrival (latest member start) to the last member's
///   end, so a rank waiting for late peers does not count as slow transfer; `duration` is the
///   longest member kernel, waiting included;
/// - `algbwGBps = bytes / transfer`, `busbwGBps = algbw × BusFactor(kind, n)`
///   (all-reduce 2(n−1)/n; all-gather, reduce-scatter, all-to-all (n−1)/n; others 1), where `n`
///   is the group size;
/// - `peakPct` is busbw as a share of a given link bandwidth, when one is given.
///
/// Matched send/recv pairs count as one transfer each (`kind == nil`, factor 1, `ranks == 2`),
/// timed from the later of the two starts to the later end.
///
/// Collectives that could not be matched across ranks (a partial world, or ranks missing) are
/// measured alone, `transfer = duration`, and counted in `unmatched`; unmatched sends and
/// receives are counted in `unmatchedP2P` and left out of the bandwidth.
public struct BandwidthAnalysis: Sendable, Equatable {
  public struct Instance: Sendable, Equatable {
    /// The collective, or nil for a send/recv pair.
    public var kind: CollectiveKind?
    public var group: String
    public var sequence: Int
    public var ranks: Int
    public var membersPresent: Int
    /// The message size as nccl-tests counts it.
    public var bytes: Bytes
    /// The first member's start.
    public var start: Nanoseconds
    /// The longest member's duration (waiting included).
    public var duration: Nanoseconds
    /// From the last arrival to the last end.
    public var transfer: Nanoseconds
    public var algbwGBps: Double
    public var busbwGBps: Double
    public var peakPct: Double?
    /// The rank that arrived last, and by how much after the first (C4-style straggler signal).
    public var lastRank: Int
    public var arrivalSpread: Nanoseconds
    public var matched: Bool
    /// Ranks of the members present, ascending.
    public var memberRanks: [Int]
  }

  /// Totals per collective kind and message-size bucket.
  public struct Bucket: Sendable, Equatable {
    public var kind: CollectiveKind?
    /// Upper bound of the power-of-two size bucket (bytes ≤ this and > half of it).
    public var maxBytes: Bytes
    public var count: Int
    public var bytes: Bytes
    public var transfer: Nanoseconds
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
    let measure = InstanceMeasure(graph: graph, timeline: timeline, linkGBps: linkGBps)
    var out: [Instance] = []
    for inst in graph.instances {
      if let i = measure.instance(inst.kind, inst.group, inst.sequence, n: inst.expectedSize, inst.members) {
        out.append(i)
      }
    }
    var unmatched = 0
    for c in graph.collectives where c.instance == nil {
      unmatched += 1
      if let i = measure.instance(c.kind, c.group, c.sequence, n: Int(c.groupSize), [c.event], matched: false) {
        out.append(i)
      }
    }
    var unmatchedP2P = 0
    var pairs = 0
    for p in graph.p2p where p.isSend {
      guard let m = p.match else {
        unmatchedP2P += 1
        continue
      }
      if let i = measure.instance(nil, .empty, Int32(pairs), n: 2, [p.event, m], p2pBytes: p.bytes) {
        out.append(i)
        pairs += 1
      }
    }
    unmatchedP2P += graph.p2p.filter { !$0.isSend && $0.match == nil }.count
    out.sort { ($0.start, $0.group, $0.sequence) < ($1.start, $1.group, $1.sequence) }
    instances = out
    self.unmatched = unmatched
    self.unmatchedP2P = unmatchedP2P
    buckets = Self.buckets(out)
  }

  /// Instances with bytes and time by kind and power-of-two size, sorted by kind then size.
  static func buckets(_ instances: [Instance]) -> [Bucket] {
    var groups: [String: [Instance]] = [:]
    for i in instances where i.bytes > .zero && i.transfer > .zero {
      groups["\(kindName(i.kind))/\(bucket(i.bytes.rawValue))", default: []].append(i)
    }
    return groups.values.compactMap { list -> Bucket? in
      guard let first = list.first else { return nil }
      let bytes = list.reduce(Bytes.zero) { $0 + $1.bytes }
      let time = list.reduce(Nanoseconds.zero) { $0 + $1.transfer }
      let weighted = list.reduce(0.0) { $0 + Double($1.bytes.rawValue) * BusFactor.factor($1.kind, ranks: $1.ranks) }
      let sorted = list.map(\.busbwGBps).sorted()
      let mid = sorted.count / 2
      let median = sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
      return Bucket(
        kind: first.kind, maxBytes: Bytes(bucket(first.bytes.rawValue)), count: list.count, bytes: bytes,
        transfer: time, busbwGBps: time > .zero ? weighted / Double(time.rawValue) : 0, medianBusbwGBps: median)
    }.sorted { (kindName($0.kind), $0.maxBytes) < (kindName($1.kind), $1.maxBytes) }
  }

  /// The smallest power of two ≥ `bytes`.
  public static func bucket(_ bytes: Int64) -> Int64 {
    var b: Int64 = 1
    while b < bytes { b <<= 1 }
    return b
  }
}

/// Measures one instance from its members' times on a timeline.
private struct InstanceMeasure {
  let graph: EventGraph
  let timeline: Timeline
  let linkGBps: Double?
  let recordOf: [UInt32: Int]

  init(graph: EventGraph, timeline: Timeline, linkGBps: Double?) {
    self.graph = graph
    self.timeline = timeline
    self.linkGBps = linkGBps
    var recordOf: [UInt32: Int] = [:]
    for (i, c) in graph.collectives.enumerated() { recordOf[c.event.rawValue] = i }
    self.recordOf = recordOf
  }

  /// The instance of `members`; nil for a collective without a record (no size to measure).
  func instance(
    _ kind: CollectiveKind?, _ group: NameID, _ sequence: Int32, n: Int, _ members: [EventID],
    matched: Bool = true, p2pBytes: Int64? = nil
  ) -> BandwidthAnalysis.Instance? {
    let bytes: Int64
    let groupSize: Int
    if let p2pBytes {
      (bytes, groupSize) = (p2pBytes, 2)
    } else {
      let recs = members.compactMap { recordOf[$0.rawValue].map { graph.collectives[$0] } }
      guard let first = recs.first, let kind else { return nil }
      bytes =
        recs.map { BandwidthAnalysis.ncclTestsBytes(kind, input: $0.inputBytes, output: $0.outputBytes) }.max() ?? 0
      groupSize = Int(first.groupSize)
    }
    var lastStart = Nanoseconds.min
    var firstStart = Nanoseconds.max
    var lastEnd = Nanoseconds.min
    var longest = Nanoseconds.zero
    var lastRank = 0
    for m in members {
      let s = timeline.start[m.index]
      let e = timeline.end[m.index]
      if s > lastStart {
        lastStart = s
        lastRank = Int(graph.rank(of: m.index).rawValue)
      }
      firstStart = min(firstStart, s)
      lastEnd = max(lastEnd, e)
      longest = max(longest, e - s)
    }
    let transfer = max(lastEnd - lastStart, .zero)
    let ranks = max(n, groupSize, members.count)
    let alg = CollectiveModel.algbwGBps(bytes: Bytes(bytes), time: transfer)
    let bus = CollectiveModel.busbwGBps(kind, bytes: Bytes(bytes), time: transfer, ranks: ranks)
    return BandwidthAnalysis.Instance(
      kind: kind, group: graph.strings[group], sequence: Int(sequence), ranks: ranks, membersPresent: members.count,
      bytes: Bytes(bytes), start: firstStart, duration: longest, transfer: transfer, algbwGBps: alg, busbwGBps: bus,
      peakPct: linkGBps.map { $0 > 0 ? 100 * bus / $0 : 0 }, lastRank: lastRank, arrivalSpread: lastStart - firstStart,
      matched: matched, memberRanks: members.map { Int(graph.rank(of: $0.index).rawValue) }.sorted())
  }
}
