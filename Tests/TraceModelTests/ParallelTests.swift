import Foundation
import Testing
import TraceModel

@Test func parallelMapKeepsIndexOrderAndEveryResult() throws {
  for n in [0, 1, 2, 7, 1000] {
    let squares = Parallel.map(n) { i in i * i }
    #expect(squares == (0..<n).map { $0 * $0 })
  }
  // The first error in index order is thrown, whichever finished first.
  struct Failure: Error, Equatable { var index: Int }
  #expect(throws: Failure(index: 3)) {
    _ = try Parallel.map(10) { i -> Int in
      if i == 3 || i == 8 { throw Failure(index: i) }
      return i
    }
  }
}

@Test func laneOrderSortsByStartThenLongestFirst() {
  // Lane 1: events 0 (t=5, 10 ns), 2 (t=5, 20 ns), 3 (t=1); lane 0: event 1.
  let order = LaneOrder(laneCount: 2, lanes: [1, 0, 1, 1], start: [5, 9, 5, 1], duration: [10, 1, 20, 1])
  #expect(order.offsets == [0, 1, 4])
  #expect(Array(order.events(of: 0)) == [1])
  #expect(Array(order.events(of: 1)) == [3, 2, 0])
}

@Test func countAtOrBeforeIsTheUpperBound() {
  let sorted = [10, 20, 20, 30]
  for (limit, count) in [(5, 0), (10, 1), (19, 1), (20, 3), (29, 3), (30, 4), (99, 4)] {
    #expect(sorted.countAtOrBefore(limit) { $0 } == count, "limit \(limit)")
  }
  #expect([Int]().countAtOrBefore(1) { $0 } == 0)
  // Sorted by a key: the events' ends.
  let events = [(end: 5, id: 2), (end: 7, id: 0), (end: 7, id: 1)]
  #expect(events.countAtOrBefore(7) { $0.end } == 3 && events.countAtOrBefore(6) { $0.end } == 1)
}

/// Real-to-integer conversions saturate: a zero rate, an infinite or NaN time never traps.
@Test func unitConversionsSaturateInsteadOfTrapping() {
  #expect(Int64(saturating: .infinity) == .max && Int64(saturating: -.infinity) == .min)
  #expect(Int64(saturating: .nan) == 0 && Int64(saturating: 9.3e18) == .max)
  #expect(Int64(saturating: 2.5) == 3 && Int64(saturating: -2.5) == -3 && Int64(saturating: 2.1, rule: .up) == 3)
  #expect(Nanoseconds(seconds: .infinity) == .max && Nanoseconds(seconds: 1.5e-9) == Nanoseconds(2))
  #expect(Nanoseconds(1_000) * .infinity == .max && Bytes(rounding: 1e30) == Bytes(.max))
  #expect(Bytes(1_000) / BytesPerSecond(rawValue: 0) == .max)
  #expect(FLOPs(rawValue: 1e12) / FLOPsPerSecond(rawValue: 1e12) == Nanoseconds(1_000_000_000))
}
