import TraceModel

/// Small dense numbers for op names, so that sequences of names compare as integers.
struct NameNumbers {
  private var numbers: [String: Int] = [:]

  /// The number of `name`, given in order of first appearance.
  mutating func number(_ name: String) -> Int {
    if let v = numbers[name] { return v }
    let v = numbers.count
    numbers[name] = v
    return v
  }
}

/// Aligns the op names of one ET thread (`a`, entry order) with those of one Kineto host lane
/// (`b`, start order): the pairs (i, k) with `a[i]` matched to `b[k]`, increasing in both.
///
/// First the anchor: the Kineto position where the ET's first ops match best (tried from the
/// first 4 ET ops, only at positions whose time is within `near` when given). From the anchor
/// on, an exact alignment (a longest common subsequence, `ETLinker.myersMatches`); when the two
/// differ too much for it, a greedy walk: each ET op takes the next Kineto op of its name within
/// `ETLinker.window`, a far match only when the next ops confirm it, and after a run of misses
/// the walk re-anchors where the coming ET ops match again.
struct SequenceAligner {
  /// ET op names (numbers), in entry order.
  let a: [Int]
  /// Kineto op names (numbers), in start order.
  let b: [Int]
  /// Start time of each Kineto op (ns).
  let times: [Int64]

  /// The matched pairs; empty when no anchor is found.
  func align(near: ClosedRange<Int64>?) -> [(Int, Int)] {
    guard !a.isEmpty, !b.isEmpty, let start = anchor(near: near) else { return [] }
    let lo = max(0, start - 16)
    let hi = min(b.count, start + 2 * a.count + 64)
    if let pairs = ETLinker.myersMatches(a, Array(b[lo..<hi]), maxEdits: 3000) {
      return pairs.map { ($0.0, $0.1 + lo) }
    }
    return walk(from: start, count: a.count)
  }

  /// The Kineto position where a walk of the first `ETLinker.anchorProbe` ET ops matches most,
  /// starting at an op named like one of the first 4 ET ops (at most about 4000 tried).
  func anchor(near: ClosedRange<Int64>?) -> Int? {
    var best = (score: -1, start: 0)
    var tried = 0
    for first in 0..<min(4, a.count) {
      for j in 0..<b.count where b[j] == a[first] && (near.map { $0.contains(times[j]) } ?? true) {
        let s = walk(from: j, count: ETLinker.anchorProbe).count
        if s > best.score { best = (s, j) }
        tried += 1
        if tried > 4000 { break }
      }
    }
    return best.score >= 0 ? best.start : nil
  }

  /// Greedy walk: each ET op takes the next Kineto op of its name within the window. After a
  /// run of misses (the sequences drifted apart), re-anchors on the next position ahead where
  /// the coming ET ops match again.
  func walk(from j0: Int, count: Int) -> [(Int, Int)] {
    var out: [(Int, Int)] = []
    var j = j0
    var misses = 0
    var i = 0
    let n = min(count, a.count)
    while i < n && j < b.count {
      var k = j
      let end = min(b.count, j + ETLinker.window)
      while k < end && b[k] != a[i] { k += 1 }
      // A far match must be confirmed by the next ops, else this op is one the Kineto trace lacks.
      if k < end && (k - j <= 2 || confirmed(i + 1, from: k + 1)) {
        out.append((i, k))
        j = k + 1
        misses = 0
      } else {
        misses += 1
        if misses >= 4, let r = resync(i: i + 1, from: j, limit: 20 * ETLinker.window) {
          j = r
          misses = 0
        }
      }
      i += 1
    }
    return out
  }

  /// How many of a[i ..< i+count] match in order after `from`, each within `reach` of the last.
  func hitsAhead(_ i: Int, from: Int, count: Int, reach: Int) -> (hits: Int, probed: Int) {
    var hits = 0
    var q = from
    var probed = 0
    for t in i..<min(a.count, i + count) {
      var k = q
      let stop = min(b.count, q + reach)
      while k < stop && b[k] != a[t] { k += 1 }
      if k < stop {
        hits += 1
        q = k + 1
      }
      probed += 1
    }
    return (hits, probed)
  }

  /// Whether the next 3 ET ops match right after `from` (2 of 3, each within 8).
  func confirmed(_ i: Int, from: Int) -> Bool {
    let h = hitsAhead(i, from: from, count: 3, reach: 8)
    return h.hits >= min(2, h.probed)
  }

  /// The first position in b[from ..< from+limit] where a[i ..< i+8] match in order (≥ 6 of 8).
  func resync(i: Int, from: Int, limit: Int) -> Int? {
    guard i < a.count else { return nil }
    let end = min(b.count, from + limit)
    var p = from
    while p < end {
      if b[p] == a[i] {
        let h = hitsAhead(i, from: p, count: 8, reach: 16)
        if h.hits >= min(6, h.probed) { return p }
      }
      p += 1
    }
    return nil
  }
}

extension ETLinker {
  /// The matched positions of a longest common subsequence of `a` and `b` (Myers, "An O(ND)
  /// Difference Algorithm and Its Variations", Algorithmica 1986, §2–3), or nil when more than
  /// `maxEdits` insertions and deletions separate them. Memory O(D²) for the trace, D ≤ maxEdits.
  static func myersMatches(_ a: [Int], _ b: [Int], maxEdits: Int) -> [(Int, Int)]? {
    let n = a.count
    let m = b.count
    let maxD = min(n + m, maxEdits)
    let offset = maxD + 1
    var v = [Int32](repeating: 0, count: 2 * maxD + 3)
    var trace: [[Int32]] = []  // trace[d]: v[k] for k in -d...d at the start of round d
    var found = -1
    search: for d in 0...maxD {
      trace.append(Array(v[(offset - d)...(offset + d)]))
      for k in stride(from: -d, through: d, by: 2) {
        var x: Int
        if k == -d || (k != d && v[offset + k - 1] < v[offset + k + 1]) {
          x = Int(v[offset + k + 1])
        } else {
          x = Int(v[offset + k - 1]) + 1
        }
        var y = x - k
        while x < n && y < m && a[x] == b[y] {
          x += 1
          y += 1
        }
        v[offset + k] = Int32(x)
        if x >= n && y >= m {
          found = d
          break search
        }
      }
    }
    guard found >= 0 else { return nil }
    var out: [(Int, Int)] = []
    var x = n
    var y = m
    var d = found
    while d > 0 {
      let prev = trace[d]  // v at the start of round d, indexed k + d
      func at(_ k: Int) -> Int { Int(prev[k + d]) }
      let k = x - y
      let down = k == -d || (k != d && at(k - 1) < at(k + 1))
      let prevK = down ? k + 1 : k - 1
      let prevX = at(prevK)
      let prevY = prevX - prevK
      let startX = down ? prevX : prevX + 1
      while x > startX && y > startX - k {
        x -= 1
        y -= 1
        out.append((x, y))
      }
      x = prevX
      y = prevY
      d -= 1
    }
    while x > 0 && y > 0 {
      x -= 1
      y -= 1
      out.append((x, y))
    }
    return out.reversed()
  }
}
