import Dispatch
import Foundation
import Rendering
import TraceModel

// Writing a report: the JSON document (with the full lists on request) and the CSV files, the
// long tables streamed row by row.

extension RunReport {
  /// The report as JSON to `path` (standard output when nil), ending with a newline: the
  /// summary document, or with `detail` the same document plus `bandwidth.instances`,
  /// `bubbles.intervals` and `criticalPath.segments`, every row, written one at a time rather
  /// than built as one tree.
  /// Byte for byte what encoding a report holding the lists would give.
  /// - Throws: `RunError.data` when the output cannot be written; `EncodingError` (never for
  ///   this type).
  public func writeJSON(to path: String?, detail withLists: Bool = false) throws {
    let clock = PhaseClock()
    let started = clock.isEnabled ? DispatchTime.now().uptimeNanoseconds : 0
    defer { clock.report("write the JSON", since: started) }
    var head = self
    if withLists {
      // Empty lists mark where the streamed ones go.
      head.bandwidth.instances = []
      head.bubbles.intervals = []
      head.criticalPath.segments = []
    }
    let text = Array(try head.json().utf8)
    try StreamedOutput.write(to: path) { out in
      guard withLists else {
        try out.append(text[...])
        return try out.append("\n")
      }
      // The lists are members of top-level sections: their keys sit on lines indented by 4.
      let lists: [(key: String, write: (StreamedOutput) throws -> Void)] = [
        ("instances", { try $0.appendJSONArray(BandwidthRow.self, indent: 4, forEach: detail.instanceRows.forEach) }),
        ("intervals", { try $0.appendJSONArray(BubbleRow.self, indent: 4, forEach: detail.forEachInterval) }),
        ("segments", { try $0.appendJSONArray(CriticalPathRow.self, indent: 4, forEach: detail.forEachSegment) }),
      ]
      let places = try lists.map { (at: try Self.emptyList(in: text, key: $0.key, indent: 4), write: $0.write) }
      var from = 0
      for place in places.sorted(by: { $0.at < $1.at }) {
        try out.append(text[from..<place.at])
        try place.write(out)
        from = place.at + 2
      }
      try out.append(text[from...])
      try out.append("\n")
    }
  }

  /// The offset of the `[]` in the one line `"KEY": []` indented by `indent` in `text`.
  /// - Throws: `RunError.data` unless there is exactly one.
  static func emptyList(in text: [UInt8], key: String, indent: Int) throws -> Int {
    let marker = Array(("\n" + String(repeating: " ", count: indent) + "\"\(key)\": []").utf8)
    var found: [Int] = []
    if text.count >= marker.count {
      for i in 0...(text.count - marker.count) where text[i] == marker[0] && text[i + 1] == marker[1] {
        if text[i..<(i + marker.count)].elementsEqual(marker) { found.append(i + marker.count - 2) }
      }
    }
    guard found.count == 1 else { throw RunError.data("internal: \(found.count) places for \(key) in the report") }
    return found[0]
  }

  /// A CSV file of the report: a table, or one of the long lists, streamed.
  private enum CSVSource {
    case table(CSVTable)
    case instances, intervals, segments

    var name: String {
      switch self {
      case .table(let t): t.name
      case .instances: "bandwidth"
      case .intervals: "bubbles"
      case .segments: "critical_path"
      }
    }
  }

  /// The CSV files in a fixed order (`summary` first).
  private func csvSources() throws -> [CSVSource] {
    var out: [CSVSource] = [
      .table(try CSVTable("summary", [summary])), .table(try CSVTable("verdict", verdict.ranks)),
      .table(try CSVTable("step_times", stepTimes.ranks)), .table(try CSVTable("top", top.rows)),
      .table(try CSVTable("breakdown", breakdown.ranks)),
      .intervals, .table(try CSVTable("bubble_ranks", bubbles.ranks)),
      .table(try CSVTable("bubble_lanes", bubbles.byLane)), .table(try CSVTable("bubble_causes", bubbles.byCause)),
      .instances, .table(try CSVTable("bandwidth_groups", bandwidth.byGroup)),
      .table(try CSVTable("bandwidth_buckets", bandwidth.buckets)),
      .table(try CSVTable("stragglers", stragglers.ranks)), .table(try CSVTable("memory", memory.samples)),
      .table(try CSVTable("memory_devices", memory.devices)), .segments,
      .table(try CSVTable("critical_path_waits", criticalPath.waitsByHolder)),
      .table(try CSVTable("critical_path_ops", criticalPath.byOp)),
    ]
    if let whatIf {
      out.append(.table(try CSVTable("whatif", whatIf.ranks)))
      out.append(.table(try CSVTable("whatif_classes", whatIf.byClass)))
    }
    return out
  }

  /// The report's tables, one CSV file each, in a fixed order (`summary` first); `bubbles`,
  /// `critical_path` and `bandwidth` hold the full lists (`detail`), built in memory:
  /// `writeCSV(to:)` streams them instead.
  /// - Throws: `EncodingError` (never for these row types).
  public func tables() throws -> [CSVTable] {
    try csvSources().map { source in
      switch source {
      case .table(let t): t
      case .instances: try CSVTable("bandwidth", detail.instanceRows)
      case .intervals: try CSVTable("bubbles", detail.intervals)
      case .segments: try CSVTable("critical_path", detail.segments)
      }
    }
  }

  /// Writes one CSV per table into `dir` (created if needed), the long lists row by row;
  /// returns the paths written.
  /// - Throws: `RunError.data` when a file cannot be written.
  public func writeCSV(to dir: String) throws -> [String] {
    try OutputFile.makeDirectory(dir)
    return try csvSources().map { source in
      let path = dir + "/" + source.name + ".csv"
      try StreamedOutput.write(to: path) { out in
        switch source {
        case .table(let t): try out.append(t.csv())
        case .instances: try out.appendCSV(BandwidthRow.self, forEach: detail.instanceRows.forEach)
        case .intervals: try out.appendCSV(BubbleRow.self, forEach: detail.forEachInterval)
        case .segments: try out.appendCSV(CriticalPathRow.self, forEach: detail.forEachSegment)
        }
      }
      return path
    }
  }
}
