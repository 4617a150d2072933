import TraceModel

/// Checks that the rank files given together are one run: every rank of the world present,
/// and no two files from different runs.
extension Ingest {
  /// Absolute windows further apart than this (ns) are different runs: ranks of one run trace
  /// the same steps, so their windows overlap up to clock skew.
  static let differentRunGapNs: Int64 = 60_000_000_000

  /// Warns (`ingest.missingRanks`, `ingest.rankOutsideWorld`, `ingest.differentRuns`) about
  /// rank files that are not one whole run: `files` are the rank files (sorted by rank,
  /// distinct ranks), `graph` their merged graph (before linking).
  ///
  /// Two files are from different runs when they state different world sizes, or absolute time
  /// windows (`baseTimeNanoseconds` + their event times, or the event times alone when neither
  /// states a base time) more than `differentRunGapNs` apart. Kineto's top-level `trace_id` is
  /// not used: PyTorch writes one per process, so the ranks of one run differ in it.
  static func checkOneRun(_ files: [IngestedFile], _ graph: EventGraph, diagnostics: inout Diagnostics) {
    let info = Dictionary(graph.ranks.map { ($0.rank, $0) }, uniquingKeysWith: { a, _ in a })
    checkWorld(files, world: graph.ranks.compactMap(\.worldSize).max(), diagnostics: &diagnostics)
    guard files.count > 1 else { return }
    let windows = absoluteWindows(graph)
    var worldFile: (Int, String)?
    var windowFile: (window: ClosedRange<Double>, hasBase: Bool, file: String)?
    var reported = Set<String>()
    func warn(_ kind: String, _ a: String, _ b: String, _ why: String) {
      guard reported.insert(kind).inserted else { return }
      diagnostics.warning(
        "ingest.differentRuns", "\(a) and \(b) look like different runs: \(why)", at: TraceLocation(file: b))
    }
    for f in files {
      if let size = info[f.rank]?.worldSize {
        if let (first, file) = worldFile, first != size {
          warn("world", file, f.path, "world size \(first) vs \(size)")
        } else if worldFile == nil {
          worldFile = (size, f.path)
        }
      }
      guard let window = windows[f.rank] else { continue }
      let hasBase = info[f.rank]?.baseTimeNanoseconds != nil
      if let w = windowFile, w.hasBase == hasBase {
        let gap = max(window.lowerBound - w.window.upperBound, w.window.lowerBound - window.upperBound)
        if gap > Double(differentRunGapNs) {
          warn(
            "time", w.file, f.path,
            "time windows \(Int64(gap / 1e9)) s apart (baseTimeNanoseconds + event times; one run's ranks overlap)")
        }
      } else if windowFile == nil {
        windowFile = (window, hasBase, f.path)
      }
    }
  }

  /// Each rank's events as absolute times (ns, as Double: `baseTimeNanoseconds` may be near 2^64).
  static func absoluteWindows(_ graph: EventGraph) -> [RankID: ClosedRange<Double>] {
    // One pass over the columns into per-lane bounds (an array, not a dictionary per event: this
    // runs on every ingest, 80 M events at the scale of docs/performance.md), then lanes to ranks.
    var lo = [Int64](repeating: .max, count: graph.lanes.count)
    var hi = [Int64](repeating: .min, count: graph.lanes.count)
    graph.lane.withUnsafeBufferPointer { lane in
      graph.start.withUnsafeBufferPointer { start in
        graph.duration.withUnsafeBufferPointer { duration in
          for e in 0..<lane.count {
            let l = lane[e].index
            lo[l] = min(lo[l], start[e])
            hi[l] = max(hi[l], start[e] &+ duration[e])
          }
        }
      }
    }
    var bounds: [RankID: (lo: Int64, hi: Int64)] = [:]
    for (l, lane) in graph.lanes.enumerated() where lo[l] <= hi[l] {
      let r = lane.rank
      if let b = bounds[r] { bounds[r] = (min(b.lo, lo[l]), max(b.hi, hi[l])) } else { bounds[r] = (lo[l], hi[l]) }
    }
    let base = Dictionary(
      graph.ranks.map { ($0.rank, Double($0.baseTimeNanoseconds ?? 0)) }, uniquingKeysWith: { a, _ in a })
    var out: [RankID: ClosedRange<Double>] = [:]
    for (r, b) in bounds {
      let offset = base[r] ?? 0
      out[r] = (offset + Double(b.lo))...(offset + Double(b.hi))
    }
    return out
  }

  /// Warns about ranks of the stated world size that no file holds, and ranks outside it.
  static func checkWorld(_ files: [IngestedFile], world: Int?, diagnostics: inout Diagnostics) {
    guard let world, world > 0 else { return }
    let held = Set(files.map { Int($0.rank.rawValue) })
    for f in files where Int(f.rank.rawValue) >= world {
      diagnostics.warning(
        "ingest.rankOutsideWorld", "rank \(f.rank.rawValue) is outside the world size \(world) the traces state",
        at: TraceLocation(file: f.path))
    }
    let (count, list) = missingRanks(world: world, held: held)
    guard count > 0 else { return }
    let message = "\(count) of \(world) ranks have no file: \(list)"
    // One rank alone is the usual way to look at a rank of a bigger job: a note; a gap among
    // several rank files is more likely a lost file: a warning.
    if files.count == 1 {
      diagnostics.note("ingest.missingRanks", message)
    } else {
      diagnostics.warning("ingest.missingRanks", message)
    }
  }

  /// How many of the ranks `0..<world` `held` lacks, and the first 20 gaps as `0-3, 5, 9-10, …`:
  /// from the held ranks, not by walking the world, so a file stating a world size of 10¹⁸ costs
  /// nothing.
  static func missingRanks(world: Int, held: Set<Int>) -> (count: Int, list: String) {
    let inWorld = held.filter { (0..<world).contains($0) }.sorted()
    var gaps: [String] = []
    var next = 0
    for h in inWorld + [world] {
      if h > next {
        if gaps.count == 20 {
          gaps.append("…")
          break
        }
        gaps.append(h - 1 > next ? "\(next)-\(h - 1)" : "\(next)")
      }
      next = h + 1
    }
    return (world - inWorld.count, gaps.joined(separator: ", "))
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
