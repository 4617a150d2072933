import Dispatch
import Synchronization

/// Data-parallel helpers that are free of data races by construction.
public enum Parallel {
  /// `body(0) … body(count − 1)` run concurrently (at most one task per core); results in index order.
  ///
  /// Each result is handed to a `Mutex`-guarded slot table, so no two threads ever write shared
  /// memory without the lock, and `body` must be `@Sendable`: the compiler checks that it
  /// captures nothing mutable. The output order never depends on scheduling, so callers stay
  /// deterministic.
  ///
  ///     let sizes = Parallel.map(files.count) { i in fileSize(files[i]) }
  ///
  /// - Complexity: O(count) calls of `body`, spread over the cores.
  public static func map<T: Sendable>(_ count: Int, _ body: @Sendable (Int) -> T) -> [T] {
    guard count > 1 else { return (0..<count).map(body) }
    let slots = Slots<T>(count)
    DispatchQueue.concurrentPerform(iterations: count) { i in
      let value = body(i)
      slots.store(value, at: i)
    }
    return slots.values()
  }

  /// `map` for work that can fail: every index runs; the first error in index order is thrown.
  public static func map<T: Sendable>(_ count: Int, _ body: @Sendable (Int) throws -> T) throws -> [T] {
    let results: [Result<T, any Error>] = map(count) { i in Result { try body(i) } }
    return try results.map { try $0.get() }
  }
}

/// Result slots filled by concurrent workers, guarded by one lock.
private final class Slots<T: Sendable>: Sendable {
  private let storage: Mutex<[T?]>

  init(_ count: Int) { storage = Mutex([T?](repeating: nil, count: count)) }

  func store(_ value: sending T, at index: Int) {
    storage.withLock { $0[index] = value }
  }

  /// Every slot's value; each slot is filled exactly once by `Parallel.map`.
  func values() -> [T] {
    storage.withLock { slots in slots.compactMap { $0 } }
  }
}
