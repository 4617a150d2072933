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
    public var time: Nanoseconds
    public var allocated: Bytes
    public var reserved: Bytes
  }

  public struct Device: Sendable, Equatable {
    public var rank: Int
    public var device: Int
    public var samples: [Sample]
    public var allocations: Int
    public var frees: Int
    /// Σ of allocation sizes.
    public var allocatedTotal: Bytes
    public var peakAllocated: Bytes
    public var peakAllocatedAt: Nanoseconds
    public var peakReserved: Bytes
    /// Allocated at the first and the last sample.
    public var firstAllocated: Bytes
    public var lastAllocated: Bytes
    /// Whether the totals were summed from the deltas (pre-1.10 traces record only `Bytes`).
    public var totalsReconstructed: Bool
  }

  public var devices: [Device]

  public init(_ graph: EventGraph, timeline: Timeline) {
    var by: [Int64: [(t: Nanoseconds, seq: Int, r: MemoryRecord)]] = [:]
    for (i, m) in graph.memory.enumerated() {
      let rank = Int64(graph.rank(of: m.event.index).rawValue)
      by[rank << 32 | (Int64(m.device) + 0x8000_0000), default: []].append((timeline.start[m.event.index], i, m))
    }
    devices = by.keys.sorted().map { key in
      Self.device(
        rank: Int(key >> 32), device: Int(key & 0xFFFF_FFFF) - 0x8000_0000,
        (by[key] ?? []).sorted { ($0.t, $0.seq) < ($1.t, $1.seq) })
    }
  }

  /// One device's samples in time order, with its totals and peaks.
  static func device(rank: Int, device: Int, _ list: [(t: Nanoseconds, seq: Int, r: MemoryRecord)]) -> Device {
    var d = Device(
      rank: rank, device: device, samples: [], allocations: 0, frees: 0, allocatedTotal: .zero,
      peakAllocated: Bytes(.min), peakAllocatedAt: .zero, peakReserved: .zero, firstAllocated: .zero,
      lastAllocated: .zero, totalsReconstructed: false)
    d.samples.reserveCapacity(list.count)
    var running: Int64 = 0
    for (t, _, r) in list {
      if r.totalAllocated >= 0 {
        running = r.totalAllocated
      } else {
        running += r.delta
        d.totalsReconstructed = true
      }
      let sample = Sample(time: t, allocated: Bytes(running), reserved: Bytes(max(r.totalReserved, 0)))
      d.samples.append(sample)
      if r.delta > 0 {
        d.allocations += 1
        d.allocatedTotal += Bytes(r.delta)
      } else if r.delta < 0 {
        d.frees += 1
      }
      if sample.allocated > d.peakAllocated { (d.peakAllocated, d.peakAllocatedAt) = (sample.allocated, t) }
      d.peakReserved = max(d.peakReserved, sample.reserved)
    }
    d.firstAllocated = d.samples.first?.allocated ?? .zero
    d.lastAllocated = d.samples.last?.allocated ?? .zero
    return d
  }
}
