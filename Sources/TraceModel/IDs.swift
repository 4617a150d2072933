/// Index of an event in an `EventGraph` (dense, 0-based).
public struct EventID: RawRepresentable, Hashable, Comparable, Sendable, Codable {
  public var rawValue: UInt32
  public init(rawValue: UInt32) { self.rawValue = rawValue }
  public init(_ index: Int) { self.rawValue = UInt32(index) }
  public var index: Int { Int(rawValue) }
  /// Marks "no event" in columns such as `parent`.
  public static let none = EventID(rawValue: .max)
  public static func < (l: Self, r: Self) -> Bool { l.rawValue < r.rawValue }
}

/// Index of a lane (host thread or device stream of one rank) in an `EventGraph`.
public struct LaneID: RawRepresentable, Hashable, Comparable, Sendable, Codable {
  public var rawValue: UInt32
  public init(rawValue: UInt32) { self.rawValue = rawValue }
  public init(_ index: Int) { self.rawValue = UInt32(index) }
  public var index: Int { Int(rawValue) }
  public static func < (l: Self, r: Self) -> Bool { l.rawValue < r.rawValue }
}

/// A distributed rank (global rank in the job).
public struct RankID: RawRepresentable, Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
  public var rawValue: Int32
  public init(rawValue: Int32) { self.rawValue = rawValue }
  public init(_ rank: Int) { self.rawValue = Int32(rank) }
  public static func < (l: Self, r: Self) -> Bool { l.rawValue < r.rawValue }
  public var description: String { String(rawValue) }
}

/// An interned string in a `StringTable`.
public struct NameID: RawRepresentable, Hashable, Comparable, Sendable, Codable {
  public var rawValue: UInt32
  public init(rawValue: UInt32) { self.rawValue = rawValue }
  public var index: Int { Int(rawValue) }
  /// The empty string; always interned first.
  public static let empty = NameID(rawValue: 0)
  public static func < (l: Self, r: Self) -> Bool { l.rawValue < r.rawValue }
}

/// Index of a collective instance (one collective call, all participating ranks).
public struct CollectiveInstanceID: RawRepresentable, Hashable, Comparable, Sendable, Codable {
  public var rawValue: UInt32
  public init(rawValue: UInt32) { self.rawValue = rawValue }
  public init(_ index: Int) { self.rawValue = UInt32(index) }
  public var index: Int { Int(rawValue) }
  public static func < (l: Self, r: Self) -> Bool { l.rawValue < r.rawValue }
}
