extension RandomAccessCollection where Index == Int {
  /// In a collection sorted ascending by `key`: how many leading elements have a key of at most
  /// `limit` — the index of the first element past `limit` (an upper bound, by binary search).
  ///
  ///     [10, 20, 20, 30].countAtOrBefore(20) { $0 }   // 3: the last at or before 20 is at 2
  ///
  /// - Complexity: O(log n).
  public func countAtOrBefore<Key: Comparable>(_ limit: Key, by key: (Element) -> Key) -> Int {
    var lo = startIndex
    var hi = endIndex
    while lo < hi {
      let mid = lo + (hi - lo) / 2
      if key(self[mid]) <= limit { lo = mid + 1 } else { hi = mid }
    }
    return lo - startIndex
  }
}
