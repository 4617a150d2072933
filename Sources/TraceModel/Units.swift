/// A span or instant of measured or simulated time, in whole nanoseconds.
///
/// Importers convert a trace's native unit exactly once, at the boundary; everything inside
/// Reprise works in integer nanoseconds so arithmetic is exact and deterministic.
///
///     let launch = Nanoseconds(microseconds: 12.5)   // Kineto "ts" → 12_500 ns
public struct Nanoseconds: RawRepresentable, Hashable, Comparable, Sendable, Codable {
  public var rawValue: Int64
  public init(rawValue: Int64) { self.rawValue = rawValue }
  public init(_ value: Int64) { self.rawValue = value }
  public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

extension Nanoseconds: AdditiveArithmetic {
  public static var zero: Nanoseconds { Nanoseconds(rawValue: 0) }
  public static func + (lhs: Self, rhs: Self) -> Self { Self(rawValue: lhs.rawValue &+ rhs.rawValue) }
  public static func - (lhs: Self, rhs: Self) -> Self { Self(rawValue: lhs.rawValue &- rhs.rawValue) }
}

extension Nanoseconds {
  /// Converts microseconds (the Chrome-trace unit) to nanoseconds, rounding to nearest.
  public init(microseconds: Double) { self.init(rawValue: Int64((microseconds * 1_000).rounded())) }
  /// The dimensionless ratio of two durations.
  public static func / (lhs: Self, rhs: Self) -> Double { Double(lhs.rawValue) / Double(rhs.rawValue) }
  /// The duration in (fractional) microseconds, for display only.
  public var microseconds: Double { Double(rawValue) / 1_000 }
}

/// An amount of memory or data moved, in bytes.
public struct Bytes: RawRepresentable, Hashable, Comparable, Sendable, Codable {
  public var rawValue: Int64
  public init(rawValue: Int64) { self.rawValue = rawValue }
  public init(_ value: Int64) { self.rawValue = value }
  public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

extension Bytes: AdditiveArithmetic {
  public static var zero: Bytes { Bytes(rawValue: 0) }
  public static func + (lhs: Self, rhs: Self) -> Self { Self(rawValue: lhs.rawValue &+ rhs.rawValue) }
  public static func - (lhs: Self, rhs: Self) -> Self { Self(rawValue: lhs.rawValue &- rhs.rawValue) }
}

/// A count of floating-point operations.
public struct FLOPs: RawRepresentable, Hashable, Comparable, Sendable, Codable {
  public var rawValue: Double
  public init(rawValue: Double) { self.rawValue = rawValue }
  public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A data rate in bytes per second (1 GB/s = 1e9 B/s, as nccl-tests prints it).
public struct BytesPerSecond: RawRepresentable, Hashable, Comparable, Sendable, Codable {
  public var rawValue: Double
  public init(rawValue: Double) { self.rawValue = rawValue }
  public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A compute rate in floating-point operations per second.
public struct FLOPsPerSecond: RawRepresentable, Hashable, Comparable, Sendable, Codable {
  public var rawValue: Double
  public init(rawValue: Double) { self.rawValue = rawValue }
  public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// Time to move `amount` at `rate`, rounded up to whole nanoseconds.
public func / (amount: Bytes, rate: BytesPerSecond) -> Nanoseconds {
  Nanoseconds(rawValue: Int64((Double(amount.rawValue) / rate.rawValue * 1e9).rounded(.up)))
}

/// Time to perform `work` at `rate`, rounded up to whole nanoseconds.
public func / (work: FLOPs, rate: FLOPsPerSecond) -> Nanoseconds {
  Nanoseconds(rawValue: Int64((work.rawValue / rate.rawValue * 1e9).rounded(.up)))
}
