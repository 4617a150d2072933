import Dispatch
import Foundation
import Synchronization

/// Prints phase times to stderr when `REPRISE_TIMING` is set (for benchmarks).
///
/// Files are imported in parallel, so laps come from several threads: the time of the last lap
/// is guarded by a `Mutex`, and a lap's line is written while holding it.
final class PhaseClock: Sendable {
  private let isEnabled = ProcessInfo.processInfo.environment["REPRISE_TIMING"] != nil
  private let last = Mutex(DispatchTime.now().uptimeNanoseconds)

  /// Prints the time since the previous lap (or since the clock started) under `what`.
  func lap(_ what: String) {
    guard isEnabled else { return }
    last.withLock { last in
      let now = DispatchTime.now().uptimeNanoseconds
      FileHandle.standardError.write(Data("[timing] \(what): \(Double(now - last) / 1e6) ms\n".utf8))
      last = now
    }
  }
}
