/// A span or instant of measured or simulated time, in whole nanoseconds.
///
/// Importers convert a trace's native unit exactly once, at the boundary; everything inside
/// Reprise works in integer nanoseconds so arithmetic is exact and deterministic.
///
///     let launch = Nanoseconds(microseconds: 12.5)   // Kineto "ts" → 12_500 ns
public struct Nanoseconds: RawRepresentable, Hashable, Comparable, Sendable, Codable {
  public var rawValue: Int64
  @inlinable public init(rawValue: Int64) { self.rawValue = rawValue }
  @inlinable public init(_ value: Int64) { self.rawValue = value }
  @inlinable public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

extension Nanoseconds: AdditiveArithmetic {
  public static var zero: Nanoseconds { Nanoseconds(rawValue: 0) }
  @inlinable public static func + (lhs: Self, rhs: Self) -> Self { Self(rawValue: lhs.rawValue &+ rhs.rawValue) }
  @inlinable public static func - (lhs: Self, rhs: Self) -> Self { Self(rawValue: lhs.rawValue &- rhs.rawValue) }
}

extension Nanoseconds {
  /// Converts microseconds (the Chrome-trace unit) to nanoseconds, rounding to nearest.
  public init(microseconds: Double) { self.init(rawValue: Int64(saturating: microseconds * 1_000)) }
  /// Converts seconds (analytical models, the JSON edge) to nanoseconds, rounding to nearest.
  /// Saturates: an infinite time (a zero rate) becomes `.max`, never a trap.
  public init(seconds: Double) { self.init(rawValue: Int64(saturating: seconds * 1e9)) }
  /// The dimensionless ratio of two durations.
  public static func / (lhs: Self, rhs: Self) -> Double { Double(lhs.rawValue) / Double(rhs.rawValue) }
  /// The duration scaled by `factor`, rounded to the nearest nanosecond.
  public static func * (lhs: Self, factor: Double) -> Self {
    Self(rawValue: Int64(saturating: Double(lhs.rawValue) * factor))
  }
  /// An equal share of the duration (integer division: averages of whole nanoseconds).
  public static func / (lhs: Self, parts: Int) -> Self { Self(rawValue: lhs.rawValue / Int64(parts)) }
  public static func += (lhs: inout Self, rhs: Self) { lhs = lhs + rhs }
  public static func -= (lhs: inout Self, rhs: Self) { lhs = lhs - rhs }
  /// The latest representable time, for "not yet" markers.
  public static let max = Nanoseconds(rawValue: .max)
  /// The earliest representable time.
  public static let min = Nanoseconds(rawValue: .min)
  /// The duration in (fractional) microseconds, for display only.
  public var microseconds: Double { Double(rawValue) / 1_000 }
  /// The duration in (fractional) milliseconds, for display only.
  public var milliseconds: Double { Double(rawValue) / 1e6 }
  /// The duration in seconds, for the JSON and text edge.
  public var seconds: Double { Double(rawValue) / 1e9 }
}

/// An amount of memory or data moved, in bytes.
public struct Bytes: RawRepresentable, Hashable, Comparable, Sendable, Codable {
  public var rawValue: Int64
  @inlinable public init(rawValue: Int64) { self.rawValue = rawValue }
  @inlinable public init(_ value: Int64) { self.rawValue = value }
  @inlinable public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

extension Bytes: AdditiveArithmetic {
  public static var zero: Bytes { Bytes(rawValue: 0) }
  @inlinable public static func + (lhs: Self, rhs: Self) -> Self { Self(rawValue: lhs.rawValue &+ rhs.rawValue) }
  @inlinable public static func - (lhs: Self, rhs: Self) -> Self { Self(rawValue: lhs.rawValue &- rhs.rawValue) }
}

extension Bytes {
  /// Bytes from a real amount (sharded states, fractional element sizes), rounded to nearest.
  public init(rounding amount: Double) { self.init(rawValue: Int64(saturating: amount)) }
  public static func += (lhs: inout Self, rhs: Self) { lhs = lhs + rhs }
  /// The amount scaled by `factor`, rounded to the nearest byte.
  public static func * (lhs: Self, factor: Double) -> Self {
    Self(rawValue: Int64(saturating: Double(lhs.rawValue) * factor))
  }
  /// The amount in GiB (2^30 bytes), for display only.
  public var gibibytes: Double { Double(rawValue) / 1_073_741_824 }
}

/// The rate of moving `amount` in `time` (0 when no time passed).
public func / (amount: Bytes, time: Nanoseconds) -> BytesPerSecond {
  BytesPerSecond(rawValue: time.rawValue > 0 ? Double(amount.rawValue) / time.seconds : 0)
}

/// A count of floating-point operations.
public struct FLOPs: RawRepresentable, Hashable, Comparable, Sendable, Codable {
  public var rawValue: Double
  @inlinable public init(rawValue: Double) { self.rawValue = rawValue }
  @inlinable public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A data rate in bytes per second (1 GB/s = 1e9 B/s, as nccl-tests prints it).
public struct BytesPerSecond: RawRepresentable, Hashable, Comparable, Sendable, Codable {
  public var rawValue: Double
  @inlinable public init(rawValue: Double) { self.rawValue = rawValue }
  @inlinable public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A compute rate in floating-point operations per second.
public struct FLOPsPerSecond: RawRepresentable, Hashable, Comparable, Sendable, Codable {
  public var rawValue: Double
  @inlinable public init(rawValue: Double) { self.rawValue = rawValue }
  @inlinable public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// Time to move `amount` at `rate`, rounded up to whole nanoseconds.
public func / (amount: Bytes, rate: BytesPerSecond) -> Nanoseconds {
  Nanoseconds(rawValue: Int64(saturating: Double(amount.rawValue) / rate.rawValue * 1e9, rule: .up))
}

/// The rate of performing `work` in `time` (0 when no time passed).
public func / (work: FLOPs, time: Nanoseconds) -> FLOPsPerSecond {
  FLOPsPerSecond(rawValue: time.rawValue > 0 ? work.rawValue / time.seconds : 0)
}

/// Time to perform `work` at `rate`, rounded up to whole nanoseconds.
public func / (work: FLOPs, rate: FLOPsPerSecond) -> Nanoseconds {
  Nanoseconds(rawValue: Int64(saturating: work.rawValue / rate.rawValue * 1e9, rule: .up))
}

extension Int64 {
  /// `value` rounded by `rule` and clamped to the representable range; NaN becomes 0.
  ///
  /// Every real-to-integer step in Reprise (a model's seconds, a user's scale factor, a trace's
  /// microseconds) goes through here, so a zero rate or an absurd factor gives a huge but finite
  /// result instead of a trap.
  public init(saturating value: Double, rule: FloatingPointRoundingRule = .toNearestOrAwayFromZero) {
    let r = value.rounded(rule)
    if r.isNaN {
      self = 0
    } else if r >= 9_223_372_036_854_775_807.0 {
      self = .max
    } else if r <= -9_223_372_036_854_775_808.0 {
      self = .min
    } else {
      self = Int64(r)
    }
  }
}
