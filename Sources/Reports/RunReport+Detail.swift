import Analysis
import Rendering
import TraceModel

extension RunReport {
  /// The report's long lists: every idle interval, every critical-path segment and every
  /// collective instance.
  ///
  /// They stay out of the default document (which summarises them) and the intervals and
  /// segments are turned into rows only when written: into the JSON with `--detail`
  /// (`bubbles.intervals`, `criticalPath.segments`, `bandwidth.instances`), and always into
  /// `bubbles.csv`, `critical_path.csv` and `bandwidth.csv`.
  public struct Detail: Sendable, Equatable {
    private var rankBubbles: [BubbleAnalysis.Bubble] = []
    private var laneBubbles: [BubbleAnalysis.Bubble] = []
    private var pathSegments: [CriticalPath.Segment] = []
    /// The run the lists name their events and lanes from (nil: the lists are empty).
    private var graph: EventGraph?
    /// Every collective instance and send/recv pair (`bandwidth.instances`, `bandwidth.csv`).
    public internal(set) var instanceRows: [BandwidthRow] = []

    init() {}

    init(bubbles: BubbleAnalysis, criticalPath: CriticalPath, graph: EventGraph) {
      rankBubbles = bubbles.rankBubbles
      laneBubbles = bubbles.laneBubbles
      pathSegments = criticalPath.segments
      self.graph = graph
    }

    /// The number of intervals (`bubbles.intervalCount`).
    public var intervalCount: Int { rankBubbles.count + laneBubbles.count }
    /// The number of segments (`criticalPath.segmentCount`).
    public var segmentCount: Int { pathSegments.count }

    /// Every interval as a row: rank-level ones (lane −1) first, then per stream.
    public var intervals: [BubbleRow] {
      var rows: [BubbleRow] = []
      rows.reserveCapacity(intervalCount)
      forEachInterval { rows.append($0) }
      return rows
    }

    /// Every segment as a row, in path order.
    public var segments: [CriticalPathRow] {
      var rows: [CriticalPathRow] = []
      rows.reserveCapacity(segmentCount)
      forEachSegment { rows.append($0) }
      return rows
    }

    /// Calls `body` with each interval's row in `intervals` order, one row alive at a time.
    /// - Throws: what `body` throws.
    public func forEachInterval(_ body: (BubbleRow) throws -> Void) rethrows {
      guard let graph else { return }
      for b in rankBubbles { try body(BubbleRow(b, graph: graph)) }
      for b in laneBubbles { try body(BubbleRow(b, graph: graph)) }
    }

    /// Calls `body` with each segment's row in path order, one row alive at a time.
    /// - Throws: what `body` throws.
    public func forEachSegment(_ body: (CriticalPathRow) throws -> Void) rethrows {
      guard let graph else { return }
      for s in pathSegments { try body(CriticalPathRow(s, graph: graph)) }
    }
  }
}

/// A table row that lists its own values, so that a long table is written row by row without
/// the `Codable` round trip (`StreamedOutput`).
///
/// `columnValues` holds one scalar per coding key, in `CodingKeys.allCases` order, exactly as the
/// `Codable` encoding writes them (`null` for an absent `@NullWhenAbsent` value); a test checks
/// the two agree.
protocol StreamableRow: TableRow {
  var columnValues: [JSONDocument] { get }
}

extension RunReport.BubbleRow: StreamableRow {
  var columnValues: [JSONDocument] {
    [
      .int(rank), .int(lane), .string(laneName), .int(startNs.rawValue), .int(durationNs.rawValue), .string(cause),
      nextEvent.map(JSONDocument.string) ?? .null,
    ]
  }
}

extension RunReport.BandwidthRow: StreamableRow {
  var columnValues: [JSONDocument] {
    [
      .string(kind), .string(group), .int(sequence), .int(ranks), .int(membersPresent), .int(bytes.rawValue),
      .int(startNs.rawValue), .int(durationNs.rawValue), .int(transferNs.rawValue), .double(algBandwidthGBps),
      .double(busBandwidthGBps), peakPct.map(JSONDocument.double) ?? .null, .int(lastRank),
      .int(arrivalSpreadNs.rawValue), .bool(matched),
    ]
  }
}

extension RunReport.CriticalPathRow: StreamableRow {
  var columnValues: [JSONDocument] {
    [
      .int(rank), .int(lane), .string(laneName), event.map(JSONDocument.string) ?? .null, .string(kind),
      .int(startNs.rawValue), .int(durationNs.rawValue), .string(category), heldBy.map(JSONDocument.string) ?? .null,
      heldByKind.map(JSONDocument.string) ?? .null,
    ]
  }
}
