/// Where in an input a problem was found.
///
/// Printed as `file:@offset (event #N)`; JSON inputs may add a coding path.
public struct TraceLocation: Hashable, Sendable, Codable, CustomStringConvertible {
  public var file: String
  /// Byte offset in the (decompressed) input, when known.
  public var byteOffset: Int64?
  /// Index of the event in the file's event array, when known.
  public var eventIndex: Int?
  /// A JSON path such as `traceEvents[17].args.stream`, when known.
  public var path: String?

  public init(file: String, byteOffset: Int64? = nil, eventIndex: Int? = nil, path: String? = nil) {
    self.file = file
    self.byteOffset = byteOffset
    self.eventIndex = eventIndex
    self.path = path
  }

  public var description: String {
    var s = file
    if let byteOffset { s += ":@\(byteOffset)" }
    var extra: [String] = []
    if let eventIndex { extra.append("event #\(eventIndex)") }
    if let path { extra.append(path) }
    if !extra.isEmpty { s += " (" + extra.joined(separator: ", ") + ")" }
    return s
  }
}

/// How bad a recoverable data problem is.
public enum Severity: UInt8, Comparable, CaseIterable, Sendable, Codable {
  /// Informational: the trace is unusual but nothing was lost.
  case note
  /// Something may be wrong (unmatched collective, clock skew, overlapping kernels).
  case warning
  /// Data could not be placed and was counted but not used.
  case dataLoss
  /// The result cannot be trusted.
  case error
  public static func < (l: Self, r: Self) -> Bool { l.rawValue < r.rawValue }
  public var name: String {
    switch self {
    case .note: "note"
    case .warning: "warning"
    case .dataLoss: "dataLoss"
    case .error: "error"
    }
  }
}

/// One recoverable problem found while reading or linking a trace.
public struct Diagnostic: Hashable, Sendable, Codable, CustomStringConvertible {
  public var severity: Severity
  public var location: TraceLocation?
  /// Stable short code for grouping (`kineto.overlap`, `link.unmatchedCollective`, …).
  public var code: String
  public var message: String
  /// How many occurrences this diagnostic stands for (repeated problems are folded).
  public var count: Int

  public init(_ severity: Severity, code: String, _ message: String, at location: TraceLocation? = nil, count: Int = 1)
  {
    self.severity = severity
    self.code = code
    self.message = message
    self.location = location
    self.count = count
  }

  /// One line; names quoted from the trace keep their control characters escaped (`SafeText`).
  public var description: String {
    var s = ""
    if let location { s += "\(location): " }
    s += "\(severity.name): \(message)"
    if count > 1 { s += " (\(count) occurrences)" }
    return SafeText.escape(s)
  }
}

/// Recoverable problems collected by a stage; the CLI prints them and decides the exit code.
public struct Diagnostics: Sendable, Equatable {
  public private(set) var items: [Diagnostic] = []
  public init() {}

  public mutating func append(_ d: Diagnostic) { items.append(d) }
  public mutating func append(contentsOf other: Diagnostics) { items.append(contentsOf: other.items) }
  public mutating func note(_ code: String, _ message: String, at location: TraceLocation? = nil, count: Int = 1) {
    append(Diagnostic(.note, code: code, message, at: location, count: count))
  }
  public mutating func warning(_ code: String, _ message: String, at location: TraceLocation? = nil, count: Int = 1) {
    append(Diagnostic(.warning, code: code, message, at: location, count: count))
  }
  public mutating func dataLoss(_ code: String, _ message: String, at location: TraceLocation? = nil, count: Int = 1) {
    append(Diagnostic(.dataLoss, code: code, message, at: location, count: count))
  }
  public mutating func error(_ code: String, _ message: String, at location: TraceLocation? = nil, count: Int = 1) {
    append(Diagnostic(.error, code: code, message, at: location, count: count))
  }

  /// Occurrences per severity (folded diagnostics count their `count`).
  public func count(of severity: Severity) -> Int {
    items.reduce(0) { $0 + ($1.severity == severity ? $1.count : 0) }
  }
  public var maxSeverity: Severity? { items.map(\.severity).max() }
  public var isEmpty: Bool { items.isEmpty }
}
