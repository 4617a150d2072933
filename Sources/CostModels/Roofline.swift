import TraceModel

/// What limits an operation's time.
public enum Bound: String, Sendable, Codable {
  case compute, memory, latency
}

/// A predicted duration and what bounds it.
public struct CostEstimate: Sendable, Equatable {
  public var duration: Nanoseconds
  public var bound: Bound
  /// FLOPs per byte of memory traffic.
  public var arithmeticIntensity: Double
}

/// The roofline model: time = max(FLOPs/(peak·eff), bytes/(BW·eff)) + launch overhead.
///
/// Williams, Waterman & Patterson, "Roofline: An Insightful Visual Performance Model for
/// Multicore Architectures", CACM 52(4), 2009. The ridge point peak/BW (FLOP/B) separates
/// memory-bound from compute-bound intensities.
public struct RooflineModel: Sendable {
  public var peakCompute: FLOPsPerSecond
  public var memoryBandwidth: BytesPerSecond
  public var computeEfficiency: Double
  public var memoryEfficiency: Double
  public var launchOverhead: Nanoseconds

  public init(
    peakCompute: FLOPsPerSecond, memoryBandwidth: BytesPerSecond, computeEfficiency: Double = 1,
    memoryEfficiency: Double = 1, launchOverhead: Nanoseconds = .zero
  ) {
    self.peakCompute = peakCompute
    self.memoryBandwidth = memoryBandwidth
    self.computeEfficiency = computeEfficiency
    self.memoryEfficiency = memoryEfficiency
    self.launchOverhead = launchOverhead
  }

  /// Ridge point in FLOP per byte.
  public var ridgePoint: Double { peakCompute.rawValue / memoryBandwidth.rawValue }

  public func estimate(work: FLOPs, traffic: Bytes) -> CostEstimate {
    let compute = work / FLOPsPerSecond(rawValue: peakCompute.rawValue * computeEfficiency)
    let memory = traffic / BytesPerSecond(rawValue: memoryBandwidth.rawValue * memoryEfficiency)
    let intensity = traffic.rawValue > 0 ? work.rawValue / Double(traffic.rawValue) : .infinity
    let body = max(compute, memory)
    let bound: Bound = body == .zero ? .latency : (compute >= memory ? .compute : .memory)
    return CostEstimate(duration: body + launchOverhead, bound: bound, arithmeticIntensity: intensity)
  }

  /// The attainable FLOP/s at an intensity: min(peak, intensity·BW).
  public func attainable(intensity: Double) -> FLOPsPerSecond {
    FLOPsPerSecond(rawValue: min(peakCompute.rawValue, intensity * memoryBandwidth.rawValue))
  }
}
