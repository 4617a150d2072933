import Analysis
import Rendering
import TraceModel

// The rows of the report's tables: each is a JSON array in `reprise.report/v1` and one CSV file.
// Coding keys are declared in column order (docs/report.md describes every column).

extension RunReport {
  /// One rank of the temporal breakdown (`breakdown.csv`).
  public struct BreakdownRow: TableRow, Equatable {
    public var rank: Int
    public var spanStartNs: Int64
    public var spanNs: Int64
    public var computeNs: Int64
    public var communicationNs: Int64
    public var overlappedCommunicationNs: Int64
    public var exposedCommunicationNs: Int64
    public var memoryNs: Int64
    public var exposedMemoryNs: Int64
    public var idleNs: Int64
    public var nonComputeNs: Int64
    @NullWhenAbsent public var overlapRatio: Double?
    public var computeEvents: Int
    public var communicationEvents: Int
    public var memoryEvents: Int

    public enum CodingKeys: String, CodingKey, CaseIterable {
      case rank, spanStartNs, spanNs, computeNs, communicationNs, overlappedCommunicationNs, exposedCommunicationNs,
        memoryNs, exposedMemoryNs, idleNs, nonComputeNs, overlapRatio, computeEvents, communicationEvents, memoryEvents
    }

    init(_ r: TemporalBreakdown.Rank) {
      rank = r.rank
      spanStartNs = r.spanStartNs
      spanNs = r.spanNs
      computeNs = r.computeNs
      communicationNs = r.communicationNs
      overlappedCommunicationNs = r.overlappedCommunicationNs
      exposedCommunicationNs = r.exposedCommunicationNs
      memoryNs = r.memoryNs
      exposedMemoryNs = r.exposedMemoryNs
      idleNs = r.idleNs
      nonComputeNs = r.nonComputeNs
      overlapRatio = r.overlapRatio
      computeEvents = r.computeEvents
      communicationEvents = r.communicationEvents
      memoryEvents = r.memoryEvents
    }
  }

  /// One rank's bubbles, idle time by cause (`bubble_ranks.csv`).
  public struct BubbleRankRow: TableRow, Equatable {
    public var rank: Int
    public var windowNs: Int64
    public var idleNs: Int64
    public var bubbleRatio: Double
    public var computeIdleNs: Int64
    public var computeBubbleRatio: Double
    public var laneBubbleNs: Int64
    public var bubbles: Int
    public var hostLaunchNs: Int64
    public var collectiveNs: Int64
    public var recvNs: Int64
    public var syncNs: Int64
    public var crossStreamNs: Int64
    public var otherNs: Int64

    public enum CodingKeys: String, CodingKey, CaseIterable {
      case rank, windowNs, idleNs, bubbleRatio, computeIdleNs, computeBubbleRatio, laneBubbleNs, bubbles, hostLaunchNs,
        collectiveNs, recvNs, syncNs, crossStreamNs, otherNs
    }

    init(_ r: BubbleAnalysis.Rank) {
      rank = r.rank
      windowNs = r.windowNs
      idleNs = r.idleNs
      bubbleRatio = r.bubbleRatio
      computeIdleNs = r.computeIdleNs
      computeBubbleRatio = r.computeBubbleRatio
      laneBubbleNs = r.laneBubbleNs
      bubbles = r.bubbles
      hostLaunchNs = r.idleByCauseNs[.hostLaunch] ?? 0
      collectiveNs = r.idleByCauseNs[.collective] ?? 0
      recvNs = r.idleByCauseNs[.recv] ?? 0
      syncNs = r.idleByCauseNs[.sync] ?? 0
      crossStreamNs = r.idleByCauseNs[.crossStream] ?? 0
      otherNs = r.idleByCauseNs[.other] ?? 0
    }
  }

  /// One idle interval (`bubbles.csv`): rank-level ones (lane −1) first, then per stream.
  public struct BubbleRow: TableRow, Equatable {
    public var rank: Int
    public var lane: Int
    public var laneName: String
    public var startNs: Int64
    public var durationNs: Int64
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
      startNs = b.startNs
      durationNs = b.durationNs
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
    public var bytes: Int64
    public var startNs: Int64
    public var durationNs: Int64
    public var transferNs: Int64
    public var algBandwidthGBps: Double
    public var busBandwidthGBps: Double
    @NullWhenAbsent public var peakPct: Double?
    public var lastRank: Int
    public var arrivalSpreadNs: Int64
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
      startNs = i.startNs
      durationNs = i.durationNs
      transferNs = i.transferNs
      algBandwidthGBps = i.algbwGBps
      busBandwidthGBps = i.busbwGBps
      peakPct = i.peakPct
      lastRank = i.lastRank
      arrivalSpreadNs = i.arrivalSpreadNs
      matched = i.matched
    }
  }

  /// Instances by kind and power-of-two size (`bandwidth_buckets.csv`).
  public struct BandwidthBucketRow: TableRow, Equatable {
    public var kind: String
    public var maxBytes: Int64
    public var count: Int
    public var bytes: Int64
    public var transferNs: Int64
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
      transferNs = b.transferNs
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
    public var heldOthersNs: Int64
    public var flagged: Bool

    public enum CodingKeys: String, CodingKey, CaseIterable {
      case rank, collectives, lastCount, lastShare, heldOthersNs, flagged
    }

    init(_ r: StragglerAnalysis.Rank) {
      rank = r.rank
      collectives = r.collectives
      lastCount = r.lastCount
      lastShare = r.lastShare
      heldOthersNs = r.heldOthersNs
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
    public var allocatedTotalBytes: Int64
    public var peakAllocatedBytes: Int64
    public var peakAllocatedAtNs: Int64
    public var peakReservedBytes: Int64
    public var firstAllocatedBytes: Int64
    public var lastAllocatedBytes: Int64
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
      allocatedTotalBytes = d.allocatedTotalBytes
      peakAllocatedBytes = d.peakAllocatedBytes
      peakAllocatedAtNs = d.peakAllocatedAtNs
      peakReservedBytes = d.peakReservedBytes
      firstAllocatedBytes = d.firstAllocatedBytes
      lastAllocatedBytes = d.lastAllocatedBytes
      totalsReconstructed = d.totalsReconstructed
    }
  }

  /// One allocator sample (`memory.csv`).
  public struct MemorySampleRow: TableRow, Equatable {
    public var rank: Int
    public var device: Int
    public var timeNs: Int64
    public var allocatedBytes: Int64
    public var reservedBytes: Int64

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
    public var startNs: Int64
    public var durationNs: Int64
    public var category: String

    public enum CodingKeys: String, CodingKey, CaseIterable {
      case rank, lane, laneName, event, kind, startNs, durationNs, category
    }

    init(_ s: CriticalPath.Segment, graph g: EventGraph) {
      rank = s.rank
      lane = s.lane
      laneName = RunReport.laneName(g, s.lane)
      event = s.event.map { g.strings[g.name[$0]] }
      kind = s.event.map { g.kind[$0].name } ?? "wait"
      startNs = s.startNs
      durationNs = s.durationNs
      category = s.category.rawValue
    }
  }

  /// One rank and step under the what-if (`whatif.csv`).
  public struct WhatIfRankRow: TableRow, Equatable {
    public var rank: Int
    @NullWhenAbsent public var step: Int?
    public var measuredStepNs: Int64
    public var baselineStepNs: Int64
    public var predictedStepNs: Int64
    public var baselineCollectiveWaitNs: Int64
    public var predictedCollectiveWaitNs: Int64

    public enum CodingKeys: String, CodingKey, CaseIterable {
      case rank, step, measuredStepNs, baselineStepNs, predictedStepNs, baselineCollectiveWaitNs,
        predictedCollectiveWaitNs
    }
  }

  /// One device-time class, baseline against what-if (`whatif_classes.csv`).
  public struct WhatIfClassRow: TableRow, Equatable {
    public var key: String
    public var baselineNs: Int64
    public var predictedNs: Int64
    public var deltaNs: Int64
    @NullWhenAbsent public var deltaPct: Double?
    public var count: Int

    public enum CodingKeys: String, CodingKey, CaseIterable {
      case key, baselineNs, predictedNs, deltaNs, deltaPct, count
    }

    init(_ r: RunDiff.Row) {
      key = r.key
      baselineNs = r.aNs
      predictedNs = r.bNs
      deltaNs = r.deltaNs
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
    public var measuredStepNs: Int64
    public var replayedStepNs: Int64
    public var collectiveInstances: Int
    public var unmatchedCollectives: Int
    public var criticalPathNs: Int64
    public var stragglers: Int
    public var errors: Int
    public var warnings: Int
    @NullWhenAbsent public var hardware: String?
    public var inputs: [String]
    public var files: [String]
    public var eventsByKind: [String: Int]

    public enum CodingKeys: String, CodingKey, CaseIterable {
      case ranks, lanes, events, steps, measuredStepNs, replayedStepNs, collectiveInstances, unmatchedCollectives,
        criticalPathNs, stragglers, errors, warnings, hardware, inputs, files, eventsByKind
    }

    public static var csvColumns: [String] { Array(CodingKeys.allCases.map(\.rawValue).prefix(13)) }
  }
}
