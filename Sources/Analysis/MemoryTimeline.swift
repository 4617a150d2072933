import TraceModel

/// How allocator memory evolved on each device of each rank, from the trace's `[memory]`
/// instants (PyTorch's `profile_memory=True`: `Bytes`, `Total Allocated`, `Total Reserved`,
/// `Device Id` per allocation or free).
///
/// The samples are the allocator's own running totals, in time order on the timeline given
/// (measured or replayed); peaks are the largest `Total Allocated` / `Total Reserved` seen.
/// Device -1 is host (CPU) memory.
///
/// Traces from before PyTorch 1.10 carry only `Bytes` (no running totals): there the allocated
/// total is reconstructed as the running sum of `Bytes` from the first sample, i.e. relative to
/// whatever was allocated when the profiler started (it can go below zero when memory allocated
/// before the window is freed), reserved memory is unknown (0), and `totalsReconstructed` says so.
public struct MemoryTimeline: Sendable, Equatable {
  public struct Sample: Sendable, Equatable {
    public var timeNs: Int64
    public var allocatedBytes: Int64
    public var reservedBytes: Int64
  }

  public struct Device: Sendable, Equatable {
    public var rank: Int
    public var device: Int
    public var samples: [Sample]
    public var allocations: Int
    public var frees: Int
    /// Σ bytes of all allocations (churn).
    public var allocatedTotalBytes: Int64
    public var peakAllocatedBytes: Int64
    public var peakAllocatedAtNs: Int64
    public var peakReservedBytes: Int64
    /// Allocated at the first and last sample: a rising end suggests growth across the window.
    public var firstAllocatedBytes: Int64
    public var lastAllocatedBytes: Int64
    /// Whether the trace lacked `Total Allocated` and the totals are running sums of `Bytes`.
    public var totalsReconstructed: Bool
  }

  public var devices: [Device]

  public init(_ graph: EventGraph, timeline: Timeline) {
    var by: [Int64: [(t: Int64, seq: Int, r: MemoryRecord)]] = [:]
    for (i, m) in graph.memory.enumerated() {
      let rank = Int64(graph.rank(of: m.event.index).rawValue)
      by[rank << 32 | (Int64(m.device) + 0x8000_0000), default: []].append((timeline.start[m.event.index], i, m))
    }
    devices = by.keys.sorted().map { key in
      let list = by[key]!.sorted { ($0.t, $0.seq) < ($1.t, $1.seq) }
      var d = Device(rank: Int(key >> 32), device: Int(key & 0xFFFF_FFFF) - 0x8000_0000, samples: [],
                     allocations: 0, frees: 0, allocatedTotalBytes: 0, peakAllocatedBytes: .min, peakAllocatedAtNs: 0,
                     peakReservedBytes: 0, firstAllocatedBytes: 0, lastAllocatedBytes: 0, totalsReconstructed: false)
      d.samples.reserveCapacity(list.count)
      var running: Int64 = 0
      for (t, _, r) in list {
        if r.totalAllocated >= 0 { running = r.totalAllocated } else { running += r.delta; d.totalsReconstructed = true }
        let sample = Sample(timeNs: t, allocatedBytes: running, reservedBytes: max(r.totalReserved, 0))
        d.samples.append(sample)
        if r.delta > 0 { d.allocations += 1; d.allocatedTotalBytes += r.delta } else if r.delta < 0 { d.frees += 1 }
        if running > d.peakAllocatedBytes { d.peakAllocatedBytes = running; d.peakAllocatedAtNs = t }
        d.peakReservedBytes = max(d.peakReservedBytes, sample.reservedBytes)
      }
      d.firstAllocatedBytes = d.samples.first!.allocatedBytes
      d.lastAllocatedBytes = d.samples.last!.allocatedBytes
      return d
    }
  }
}
