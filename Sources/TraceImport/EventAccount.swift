import TraceModel

/// Why a record a reader read did not become an event of the graph.
///
/// Some reasons are not losses: the record was used as something else (a flow became a launch
/// hint, a metadata record named a lane, an `E` closed the span its `B` opened). The others are
/// losses, and each is also reported as a `dataLoss` diagnostic (`diagnosticCode`) with the same
/// count. docs/reliability.md lists them per reader.
public enum DropReason: String, CaseIterable, Sendable, Codable, Comparable {
  /// Kineto `ph: "M"`: process and thread names, labels and sort indices (lane names).
  case metadata
  /// Kineto `ph` `s`/`t`/`f` with an `id`: flow hints, used to link launches.
  case flow
  /// Kineto `ph: "E"` that closed an open `B`: the pair is one event (the `B`'s).
  case spanEnd
  /// A host execution-trace operator matched to a Kineto op of its rank: it adds that event's
  /// data dependencies and parent op, not an event of its own.
  case etLinked
  /// A node of a host execution trace linked with a Kineto trace that is not an operator (the
  /// profiler's thread roots, device nodes of ET+): the Kineto trace has that work.
  case etNotOperator

  /// Kineto `ph: "E"` with no open `B` on its thread (loss).
  case unmatchedEnd
  /// Kineto `ph: "B"` never closed by an `E` (loss).
  case unclosedBegin
  /// Kineto flow (`s`/`t`/`f`) without an `id` (loss).
  case flowWithoutId
  /// Kineto phases Reprise does not read: async `b`/`e`/`n`, samples, objects, … (loss).
  case unsupportedPhase
  /// A host execution-trace operator no Kineto op of its rank matched (loss).
  case etUnmatched

  /// Whether the record's content is lost (rather than used as something other than an event).
  public var isLoss: Bool {
    switch self {
    case .metadata, .flow, .spanEnd, .etLinked, .etNotOperator: false
    case .unmatchedEnd, .unclosedBegin, .flowWithoutId, .unsupportedPhase, .etUnmatched: true
    }
  }

  /// The code of the `dataLoss` diagnostic that counts a loss; nil for the other reasons.
  public var diagnosticCode: String? {
    switch self {
    case .metadata, .flow, .spanEnd, .etLinked, .etNotOperator: nil
    case .unmatchedEnd: "kineto.unmatchedEnd"
    case .unclosedBegin: "kineto.unclosedBegin"
    case .flowWithoutId: "kineto.flowWithoutId"
    case .unsupportedPhase: "kineto.unsupportedPhase"
    case .etUnmatched: "et.unmatchedOps"
    }
  }

  public static func < (l: Self, r: Self) -> Bool { l.rawValue < r.rawValue }
}

/// What became of the records one file holds: each record read is either an event of the graph
/// (`kept`) or counted under the reason it is not (`dropped`), so `read == kept + Σ dropped`.
///
/// What a record is depends on the reader (docs/reliability.md): an element of Kineto's
/// `traceEvents`, a Chakra node, a host execution-trace node, an event stored in a shard.
public struct EventAccount: Sendable, Equatable {
  public var read = 0
  public var kept = 0
  /// Records per reason; only reasons with a count.
  public var dropped: [DropReason: Int] = [:]

  public init(read: Int = 0, kept: Int = 0, dropped: [DropReason: Int] = [:]) {
    self.read = read
    self.kept = kept
    self.dropped = dropped.filter { $0.value != 0 }
  }

  /// Records dropped, for every reason.
  public var droppedCount: Int { dropped.values.reduce(0, +) }
  /// Records lost (the reasons that are losses).
  public var lost: Int { dropped.reduce(0) { $0 + ($1.key.isLoss ? $1.value : 0) } }
  /// Whether every record read is accounted for.
  public var isBalanced: Bool { read == kept + droppedCount }

  /// Every record kept: a reader whose records all become events.
  static func allKept(_ n: Int) -> EventAccount { EventAccount(read: n, kept: n) }

  /// A host execution trace of `nodes` nodes linked with its rank's Kineto trace: its operators
  /// matched (`etLinked`) or not (`etUnmatched`), its other nodes `etNotOperator`; none is an
  /// event of its own.
  /// The counts are clamped to `0 ≤ matched ≤ operators ≤ nodes` (they always are, unless a
  /// shard's metadata was edited), so no subtraction can overflow.
  static func linkedExecutionTrace(nodes: Int, _ link: ETLinkSummary) -> EventAccount {
    let nodes = max(0, nodes)
    let ops = min(max(0, link.etOps), nodes)
    let matched = min(max(0, link.matchedOps), ops)
    return EventAccount(
      read: nodes, kept: 0, dropped: [.etLinked: matched, .etUnmatched: ops - matched, .etNotOperator: nodes - ops])
  }

  /// The sum of two accounts, reason by reason.
  public static func + (l: EventAccount, r: EventAccount) -> EventAccount {
    EventAccount(
      read: l.read + r.read, kept: l.kept + r.kept, dropped: l.dropped.merging(r.dropped, uniquingKeysWith: +))
  }
}
