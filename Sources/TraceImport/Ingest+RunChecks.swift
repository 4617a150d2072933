import TraceModel

/// Checks that the rank files given together are one run: every rank of the world present,
/// and no two files from different runs.
extension Ingest {
  /// Absolute windows further apart than this (ns) are different runs: ranks of one run trace
  /// the same steps, so their windows overlap up to clock skew.
  static let differentRunGapNs: Int64 = 60_000_000_000

  /// Warns (`ingest.missingRanks`, `ingest.rankOutsideWorld`, `ingest.differentRuns`) about
  /// rank files that are not one whole run. `ranks` is sorted by rank, with distinct ranks.
  ///
  /// Two files are from different runs when they state different world sizes, or absolute time
  /// windows (`baseTimeNanoseconds` + their event times, or the event times alone when neither
  /// states a base time) more than `differentRunGapNs` apart. Kineto's top-level `trace_id` is
  /// not used: PyTorch writes one per process, so the ranks of one run differ in it.
  static func checkOneRun(_ ranks: [ImportedRank], diagnostics: inout Diagnostics) {
    checkWorld(ranks, diagnostics: &diagnostics)
    guard ranks.count > 1 else { return }
    var worldFile: (Int, String)?
    var windowFile: (window: ClosedRange<Double>, hasBase: Bool, file: String)?
    var reported = Set<String>()
    func warn(_ a: String, _ b: String, _ why: String) {
      guard reported.insert(why.split(separator: " ").first.map(String.init) ?? why).inserted else { return }
      diagnostics.warning(
        "ingest.differentRuns", "\(a) and \(b) look like different runs: \(why)", at: TraceLocation(file: b))
    }
    for r in ranks {
      let info = r.graph.ranks.first
      if let size = info?.worldSize {
        if let (first, file) = worldFile, first != size {
          warn(file, r.file.path, "world size \(first) vs \(size)")
        } else if worldFile == nil {
          worldFile = (size, r.file.path)
        }
      }
      guard let window = absoluteWindow(r.graph) else { continue }
      let hasBase = info?.baseTimeNanoseconds != nil
      if let w = windowFile, w.hasBase == hasBase {
        let gap = max(window.lowerBound - w.window.upperBound, w.window.lowerBound - window.upperBound)
        if gap > Double(differentRunGapNs) {
          warn(
            w.file, r.file.path,
            "time windows \(Int64(gap / 1e9)) s apart (baseTimeNanoseconds + event times; one run's ranks overlap)")
        }
      } else if windowFile == nil {
        windowFile = (window, hasBase, r.file.path)
      }
    }
  }

  /// The graph's events as absolute times (ns, as Double: `baseTimeNanoseconds` may be near 2^64).
  static func absoluteWindow(_ graph: EventGraph) -> ClosedRange<Double>? {
    guard graph.eventCount > 0 else { return nil }
    var lo = Int64.max
    var hi = Int64.min
    for e in 0..<graph.eventCount {
      lo = min(lo, graph.start[e])
      hi = max(hi, graph.start[e] + graph.duration[e])
    }
    let base = Double(graph.ranks.first?.baseTimeNanoseconds ?? 0)
    return (base + Double(lo))...(base + Double(hi))
  }

  /// Warns about ranks of the stated world size that no file holds, and ranks outside it.
  static func checkWorld(_ ranks: [ImportedRank], diagnostics: inout Diagnostics) {
    guard let world = ranks.compactMap({ $0.graph.ranks.first?.worldSize }).max(), world > 0 else { return }
    let held = Set(ranks.map { Int($0.file.rank.rawValue) })
    for r in ranks where Int(r.file.rank.rawValue) >= world {
      diagnostics.warning(
        "ingest.rankOutsideWorld", "rank \(r.file.rank.rawValue) is outside the world size \(world) the traces state",
        at: TraceLocation(file: r.file.path))
    }
    let missing = (0..<world).filter { !held.contains($0) }
    guard !missing.isEmpty else { return }
    let text = ranges(missing)
    let message = "\(missing.count) of \(world) ranks have no file: \(text)"
    // One rank alone is the usual way to look at a rank of a bigger job: a note; a gap among
    // several rank files is more likely a lost file: a warning.
    if ranks.count == 1 {
      diagnostics.note("ingest.missingRanks", message)
    } else {
      diagnostics.warning("ingest.missingRanks", message)
    }
  }

  /// `0-3, 5, 9-10` for sorted integers.
  static func ranges(_ values: [Int]) -> String {
    var parts: [String] = []
    var i = 0
    while i < values.count {
      var j = i
      while j + 1 < values.count && values[j + 1] == values[j] + 1 { j += 1 }
      parts.append(i == j ? "\(values[i])" : "\(values[i])-\(values[j])")
      i = j + 1
    }
    let shown = parts.prefix(20).joined(separator: ", ")
    return parts.count > 20 ? shown + ", … (\(parts.count - 20) more ranges)" : shown
  }
}
