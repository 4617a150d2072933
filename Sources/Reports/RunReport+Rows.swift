import Analysis
import Rendering
import TraceModel

// The rows of the report's tables: each is a JSON array in `reprise.report/v2` and one CSV file.
// Coding keys are declared in column order (docs/report.md describes every column).

extension RunReport {
  /// One rank of the temporal breakdown (`breakdown.csv`).
  public struct BreakdownRow: TableRow, Equatable {
    public var rank: Int
    /// `deviceStreams`, or `hostThreads` for a rank without device streams.
    public var lanes: String
    public var spanStartNs: Nanoseconds
    public var spanNs: Nanoseconds
    public var computeNs: Nanoseconds
    public var communicationNs: Nanoseconds
    public var overlappedCommunicationNs: Nanoseconds
    public var exposedCommunicationNs: Nanoseconds
    public var memoryNs: Nanoseconds
    public var exposedMemoryNs: Nanoseconds
    public var idleNs: Nanoseconds
    public var nonComputeNs: Nanoseconds
    @NullWhenAbsent public var overlapRatio: Double?
    public var computeEvents: Int
    public var communicationEvents: Int
    public var memoryEvents: Int

    public enum CodingKeys: String, CodingKey, CaseIterable {
      case rank, lanes, spanStartNs, spanNs, computeNs, communicationNs, overlappedCommunicationNs,
        exposedCommunicationNs,
        memoryNs, exposedMemoryNs, idleNs, nonComputeNs, overlapRatio, computeEvents, communicationEvents, memoryEvents
    }

    init(_ r: TemporalBreakdown.Rank) {
      rank = r.rank
      lanes = r.lanes.rawValue
      spanStartNs = r.spanStart
      spanNs = r.span
      computeNs = r.compute
      communicationNs = r.communication
      overlappedCommunicationNs = r.overlappedCommunication
      exposedCommunicationNs = r.exposedCommunication
      memoryNs = r.memory
      exposedMemoryNs = r.exposedMemory
      idleNs = r.idle
      nonComputeNs = r.nonCompute
      overlapRatio = r.overlapRatio
      computeEvents = r.computeEvents
      communicationEvents = r.communicationEvents
      memoryEvents = r.memoryEvents
    }
  }

  /// One rank's bubbles, idle time by cause (`bubble_ranks.csv`).
  public struct BubbleRankRow: TableRow, Equatable {
    public var rank: Int
    public var windowNs: Nanoseconds
    public var idleNs: Nanoseconds
    public var bubbleRatio: Double
    public var computeIdleNs: Nanoseconds
    public var computeBubbleRatio: Double
    public var laneBubbleNs: Nanoseconds
    public var bubbles: Int
    public var hostLaunchNs: Nanoseconds
    public var collectiveNs: Nanoseconds
    public var recvNs: Nanoseconds
    public var syncNs: Nanoseconds
    public var crossStreamNs: Nanoseconds
    public var otherNs: Nanoseconds

    public enum CodingKeys: String, CodingKey, CaseIterable {
      case rank, windowNs, idleNs, bubbleRatio, computeIdleNs, computeBubbleRatio, laneBubbleNs, bubbles, hostLaunchNs,
        collectiveNs, recvNs, syncNs, crossStreamNs, otherNs
    }

    init(_ r: BubbleAnalysis.Rank) {
      rank = r.rank
      windowNs = r.window
      idleNs = r.idle
      bubbleRatio = r.bubbleRatio
      computeIdleNs = r.computeIdle
      computeBubbleRatio = r.computeBubbleRatio
      laneBubbleNs = r.laneBubbleTime
      bubbles = r.bubbles
      hostLaunchNs = r.idleByCause[.hostLaunch] ?? .zero
      collectiveNs = r.idleByCause[.collective] ?? .zero
      recvNs = r.idleByCause[.recv] ?? .zero
      syncNs = r.idleByCause[.sync] ?? .zero
      crossStreamNs = r.idleByCause[.crossStream] ?? .zero
      otherNs = r.idleByCause[.other] ?? .zero
    }
  }

  /// One idle interval (`bubbles.csv`): rank-level ones (lane −1) first, then per stream.
  public struct BubbleRow: TableRow, Equatable {
    public var rank: Int
    public var lane: Int
    public var laneName: String
    public var startNs: Nanoseconds
    public var durationNs: Nanoseconds
    public var cause: String
    /// The event that ended the bubble.
    @NullWhenAbsent public var nextEvent: String?

    public enum CodingKeys: String, CodingKey, CaseIterable {
      case rank, lane, laneName, startNs, durationNs, cause, nextEvent
    }

    init(_ b: BubbleAnalysis.Bubble, graph g: EventGraph) {
      rank = b.rank
      lane = b.lane
      laneName = RunReport.laneName(g, b.lane)
      startNs = b.start
      durationNs = b.duration
      cause = b.cause.rawValue
      nextEvent = b.nextEvent.map { g.strings[g.name[$0]] }
    }
  }

  /// One collective instance or send/recv pair (`bandwidth.csv`).
  public struct BandwidthRow: TableRow, Equatable {
    public var kind: String
    public var group: String
    public var sequence: Int
    public var ranks: Int
    public var membersPresent: Int
    public var bytes: Bytes
    public var startNs: Nanoseconds
    public var durationNs: Nanoseconds
    public var transferNs: Nanoseconds
    public var algBandwidthGBps: Double
    public var busBandwidthGBps: Double
    @NullWhenAbsent public var peakPct: Double?
    public var lastRank: Int
    public var arrivalSpreadNs: Nanoseconds
    public var matched: Bool

    public enum CodingKeys: String, CodingKey, CaseIterable {
      case kind, group, sequence, ranks, membersPresent, bytes, startNs, durationNs, transferNs, algBandwidthGBps,
        busBandwidthGBps, peakPct, lastRank, arrivalSpreadNs, matched
    }

    init(_ i: BandwidthAnalysis.Instance) {
      kind = BandwidthAnalysis.kindName(i.kind)
      group = i.group
      sequence = i.sequence
      ranks = i.ranks
      membersPresent = i.membersPresent
      bytes = i.bytes
      startNs = i.start
      durationNs = i.duration
      transferNs = i.transfer
      algBandwidthGBps = i.algbwGBps
      busBandwidthGBps = i.busbwGBps
      peakPct = i.peakPct
      lastRank = i.lastRank
      arrivalSpreadNs = i.arrivalSpread
      matched = i.matched
    }
  }

  /// Instances by kind and power-of-two size (`bandwidth_buckets.csv`).
  public struct BandwidthBucketRow: TableRow, Equatable {
    public var kind: String
    public var maxBytes: Bytes
    public var count: Int
    public var bytes: Bytes
    public var transferNs: Nanoseconds
    public var busBandwidthGBps: Double
    public var medianBusBandwidthGBps: Double

    public enum CodingKeys: String, CodingKey, CaseIterable {
      case kind, maxBytes, count, bytes, transferNs, busBandwidthGBps, medianBusBandwidthGBps
    }

    init(_ b: BandwidthAnalysis.Bucket) {
      kind = BandwidthAnalysis.kindName(b.kind)
      maxBytes = b.maxBytes
      count = b.count
      bytes = b.bytes
      transferNs = b.transfer
      busBandwidthGBps = b.busbwGBps
      medianBusBandwidthGBps = b.medianBusbwGBps
    }
  }

  /// One rank's arrivals at collectives (`stragglers.csv`).
  public struct StragglerRow: TableRow, Equatable {
    public var rank: Int
    public var collectives: Int
    public var lastCount: Int
    public var lastShare: Double
    public var heldOthersNs: Nanoseconds
    public var flagged: Bool

    public enum CodingKeys: String, CodingKey, CaseIterable {
      case rank, collectives, lastCount, lastShare, heldOthersNs, flagged
    }

    init(_ r: StragglerAnalysis.Rank) {
      rank = r.rank
      collectives = r.collectives
      lastCount = r.lastCount
      lastShare = r.lastShare
      heldOthersNs = r.heldOthers
      flagged = r.flagged
    }
  }

  /// One device's allocator summary (`memory_devices.csv`).
  public struct MemoryDeviceRow: TableRow, Equatable {
    public var rank: Int
    public var device: Int
    public var samples: Int
    public var allocations: Int
    public var frees: Int
    public var allocatedTotalBytes: Bytes
    public var peakAllocatedBytes: Bytes
    public var peakAllocatedAtNs: Nanoseconds
    public var peakReservedBytes: Bytes
    public var firstAllocatedBytes: Bytes
    public var lastAllocatedBytes: Bytes
    public var totalsReconstructed: Bool

    public enum CodingKeys: String, CodingKey, CaseIterable {
      case rank, device, samples, allocations, frees, allocatedTotalBytes, peakAllocatedBytes, peakAllocatedAtNs,
        peakReservedBytes, firstAllocatedBytes, lastAllocatedBytes, totalsReconstructed
    }

    init(_ d: MemoryTimeline.Device) {
      rank = d.rank
      device = d.device
      samples = d.samples.count
      allocations = d.allocations
      frees = d.frees
      allocatedTotalBytes = d.allocatedTotal
      peakAllocatedBytes = d.peakAllocated
      peakAllocatedAtNs = d.peakAllocatedAt
      peakReservedBytes = d.peakReserved
      firstAllocatedBytes = d.firstAllocated
      lastAllocatedBytes = d.lastAllocated
      totalsReconstructed = d.totalsReconstructed
    }
  }

  /// One allocator sample (`memory.csv`).
  public struct MemorySampleRow: TableRow, Equatable {
    public var rank: Int
    public var device: Int
    public var timeNs: Nanoseconds
    public var allocatedBytes: Bytes
    public var reservedBytes: Bytes

    public enum CodingKeys: String, CodingKey, CaseIterable {
      case rank, device, timeNs, allocatedBytes, reservedBytes
    }
  }

  /// One segment of the critical path (`critical_path.csv`).
  public struct CriticalPathRow: TableRow, Equatable {
    public var rank: Int
    public var lane: Int
    public var laneName: String
    @NullWhenAbsent public var event: String?
    public var kind: String
    public var startNs: Nanoseconds
    public var durationNs: Nanoseconds
    public var category: String
    /// For a wait: the op or annotation that held it (null for an event, or when nothing can be named).
    @NullWhenAbsent public var heldBy: String?
    /// The holder's event kind (`hostOp`, `annotation`, `kernel`, …).
    @NullWhenAbsent public var heldByKind: String?

    public enum CodingKeys: String, CodingKey, CaseIterable {
      case rank, lane, laneName, event, kind, startNs, durationNs, category, heldBy, heldByKind
    }

    init(_ s: CriticalPath.Segment, graph g: EventGraph) {
      rank = s.rank
      lane = s.lane
      laneName = RunReport.laneName(g, s.lane)
      event = s.event.map { g.strings[g.name[$0]] }
      kind = s.event.map { g.kind[$0].name } ?? "wait"
      startNs = s.start
      durationNs = s.duration
      category = s.category.rawValue
      heldBy = s.heldBy.map { g.strings[g.name[$0]] }
      heldByKind = s.heldBy.map { g.kind[$0].name }
    }
  }

  /// Wait time on the critical path per rank, holder and category (`critical_path_waits.csv`),
  /// largest first.
  public struct CriticalPathWaitRow: TableRow, Equatable {
    public var rank: Int
    @NullWhenAbsent public var heldBy: String?
    @NullWhenAbsent public var heldByKind: String?
    /// `host`, `bubble` or `lateStart`.
    public var category: String
    public var durationNs: Nanoseconds
    public var segments: Int

    public enum CodingKeys: String, CodingKey, CaseIterable {
      case rank, heldBy, heldByKind, category, durationNs, segments
    }
  }

  /// One rank and step under the what-if (`whatif.csv`).
  public struct WhatIfRankRow: TableRow, Equatable {
    public var rank: Int
    @NullWhenAbsent public var step: Int?
    public var measuredStepNs: Nanoseconds
    public var baselineStepNs: Nanoseconds
    public var predictedStepNs: Nanoseconds
    public var baselineCollectiveWaitNs: Nanoseconds
    public var predictedCollectiveWaitNs: Nanoseconds

    public enum CodingKeys: String, CodingKey, CaseIterable {
      case rank, step, measuredStepNs, baselineStepNs, predictedStepNs, baselineCollectiveWaitNs,
        predictedCollectiveWaitNs
    }
  }

  /// One device-time class, baseline against what-if (`whatif_classes.csv`).
  public struct WhatIfClassRow: TableRow, Equatable {
    public var key: String
    public var baselineNs: Nanoseconds
    public var predictedNs: Nanoseconds
    public var deltaNs: Nanoseconds
    @NullWhenAbsent public var deltaPct: Double?
    public var count: Int

    public enum CodingKeys: String, CodingKey, CaseIterable {
      case key, baselineNs, predictedNs, deltaNs, deltaPct, count
    }

    init(_ r: RunDiff.Row) {
      key = r.key
      baselineNs = r.a
      predictedNs = r.b
      deltaNs = r.delta
      deltaPct = r.deltaPct
      count = r.aCount
    }
  }

  /// The headline numbers (`summary.csv`; the JSON adds `inputs`, `files` and `eventsByKind`).
  public struct SummaryRow: TableRow, Equatable {
    public var ranks: Int
    public var lanes: Int
    public var events: Int
    public var steps: Int
    /// The slowest per-rank step, measured and replayed (v1 names; docs/Glossary.md).
    public var measuredStepNs: Nanoseconds
    public var replayedStepNs: Nanoseconds
    /// The job step (first rank's entry to the step's last work), measured and replayed.
    public var jobStepNs: Nanoseconds
    public var replayedJobStepNs: Nanoseconds
    /// The job window (the step annotations' span over the ranks).
    public var jobWindowNs: Nanoseconds
    public var collectiveInstances: Int
    public var unmatchedCollectives: Int
    public var criticalPathNs: Nanoseconds
    public var stragglers: Int
    public var errors: Int
    /// Ingest diagnostics of severity warning or data loss, plus `reportWarnings`.
    public var warnings: Int
    @NullWhenAbsent public var hardware: String?
    public var inputs: [String]
    public var files: [String]
    public var eventsByKind: [String: Int]
    /// What the report itself could not do, one line each (the hardware not resolved); the
    /// command line also prints them on standard error.
    public var reportWarnings: [String]

    public enum CodingKeys: String, CodingKey, CaseIterable {
      case ranks, lanes, events, steps, measuredStepNs, replayedStepNs, jobStepNs, replayedJobStepNs, jobWindowNs,
        collectiveInstances, unmatchedCollectives, criticalPathNs, stragglers, errors, warnings, hardware, inputs,
        files, eventsByKind, reportWarnings
    }

    /// The scalar columns: the lists (`inputs`, `files`, `reportWarnings`) and the `eventsByKind`
    /// map are JSON only.
    public static var csvColumns: [String] {
      let jsonOnly: Set<CodingKeys> = [.inputs, .files, .eventsByKind, .reportWarnings]
      return CodingKeys.allCases.filter { !jsonOnly.contains($0) }.map(\.rawValue)
    }
  }
}

extension RunReport {
  /// Idle intervals of one cause over every rank, rank-level and per stream together
  /// (`bubbles.byCause`, `bubble_causes.csv`).
  public struct BubbleCauseRow: TableRow, Equatable {
    public var cause: String
    public var intervals: Int
    public var durationNs: Nanoseconds
    /// The longest interval of this cause.
    public var maxNs: Nanoseconds

    public enum CodingKeys: String, CodingKey, CaseIterable {
      case cause, intervals, durationNs, maxNs
    }
  }

  /// Idle intervals of one cause on one rank's lane (`bubbles.byLane`, `bubble_lanes.csv`); lane
  /// −1 is the rank's device as a whole.
  public struct BubbleLaneRow: TableRow, Equatable {
    public var rank: Int
    public var lane: Int
    public var laneName: String
    public var cause: String
    public var intervals: Int
    public var durationNs: Nanoseconds
    /// The longest interval of this cause on this lane.
    public var maxNs: Nanoseconds

    public enum CodingKeys: String, CodingKey, CaseIterable {
      case rank, lane, laneName, cause, intervals, durationNs, maxNs
    }
  }

  /// The collective instances (or send/recv pairs) of one kind in one process group
  /// (`bandwidth.byGroup`, `bandwidth_groups.csv`).
  public struct BandwidthGroupRow: TableRow, Equatable {
    public var kind: String
    public var group: String
    public var instances: Int
    public var matched: Int
    public var bytes: Bytes
    /// Σ of the instances' durations (waiting included) and transfers.
    public var durationNs: Nanoseconds
    public var transferNs: Nanoseconds
    public var maxDurationNs: Nanoseconds
    /// Σ and maximum of the arrival spreads (last arrival after the first).
    public var arrivalSpreadNs: Nanoseconds
    public var maxArrivalSpreadNs: Nanoseconds

    public enum CodingKeys: String, CodingKey, CaseIterable {
      case kind, group, instances, matched, bytes, durationNs, transferNs, maxDurationNs, arrivalSpreadNs,
        maxArrivalSpreadNs
    }
  }

  /// Critical-path time of one op: the segments with one event name (or `wait`), kind and
  /// category (`criticalPath.byOp`, `critical_path_ops.csv`).
  public struct CriticalPathOpRow: TableRow, Equatable {
    /// The event's name, or `wait` for the waits.
    public var name: String
    public var kind: String
    public var category: String
    public var segments: Int
    public var durationNs: Nanoseconds

    public enum CodingKeys: String, CodingKey, CaseIterable {
      case name, kind, category, segments, durationNs
    }
  }
}
