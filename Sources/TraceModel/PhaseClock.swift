import Dispatch
import Foundation
import Synchronization

/// Prints phase times to stderr when `REPRISE_TIMING` is set (for benchmarks).
///
/// Files are imported in parallel, so laps come from several threads: the time of the last lap
/// is guarded by a `Mutex`, and a lap's line is written while holding it.
public final class PhaseClock: Sendable {
  public let isEnabled = ProcessInfo.processInfo.environment["REPRISE_TIMING"] != nil
  private let last = Mutex(DispatchTime.now().uptimeNanoseconds)

  public init() {}

  /// Prints the time since the previous lap (or since the clock started) under `what`.
  public func lap(_ what: String) {
    guard isEnabled else { return }
    last.withLock { last in
      let now = DispatchTime.now().uptimeNanoseconds
      FileHandle.standardError.write(
        Data("[timing] \(what): \(Double(now - last) / 1e6) ms\(Self.residentNote())\n".utf8))
      last = now
    }
  }

  /// Runs `body` and prints its own duration under `what` (independent of the laps: for work
  /// running side by side on several threads), with the CPU time its thread spent in it: the
  /// two differ when other work shares the cores.
  public func measure<T>(_ what: String, _ body: () throws -> T) rethrows -> T {
    guard isEnabled else { return try body() }
    let start = DispatchTime.now().uptimeNanoseconds
    let cpu = Self.threadCPUNanoseconds()
    defer {
      let ms = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
      let cpuMs = Double(Self.threadCPUNanoseconds() - cpu) / 1e6
      FileHandle.standardError.write(Data("[timing] \(what): \(ms) ms (own, cpu \(cpuMs) ms)\n".utf8))
    }
    return try body()
  }

  /// Runs `body` and prints its duration under `what` with the CPU time the whole process spent
  /// in it (for a phase whose work is spread over threads and runs alone).
  public func measureProcess<T>(_ what: String, _ body: () throws -> T) rethrows -> T {
    guard isEnabled else { return try body() }
    let start = DispatchTime.now().uptimeNanoseconds
    let cpu = Self.cpuNanoseconds(CLOCK_PROCESS_CPUTIME_ID)
    let usage = Self.processUsage()
    defer {
      let ms = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
      let cpuMs = Double(Self.cpuNanoseconds(CLOCK_PROCESS_CPUTIME_ID) - cpu) / 1e6
      let u = Self.processUsage()
      let split =
        "user \(Double(u.userNs - usage.userNs) / 1e6) ms, system \(Double(u.systemNs - usage.systemNs) / 1e6) ms, "
        + "\(u.minorFaults - usage.minorFaults) minor faults"
      FileHandle.standardError.write(
        Data("[timing] \(what): \(ms) ms (process cpu \(cpuMs) ms; \(split))\n".utf8))
    }
    return try body()
  }

  /// The process's user and system CPU time and its minor page faults so far (`getrusage`):
  /// the system share of a phase that fills fresh memory is mostly the kernel providing it.
  static func processUsage() -> (userNs: Int64, systemNs: Int64, minorFaults: Int) {
    var r = rusage()
    #if canImport(Glibc)
      let who = __rusage_who_t(RUSAGE_SELF.rawValue)
    #else
      let who = RUSAGE_SELF
    #endif
    guard getrusage(who, &r) == 0 else { return (0, 0, 0) }
    func ns(_ t: timeval) -> Int64 { Int64(t.tv_sec) * 1_000_000_000 + Int64(t.tv_usec) * 1000 }
    return (ns(r.ru_utime), ns(r.ru_stime), r.ru_minflt)
  }

  /// ", RSS a MB (peak b MB)" (`VmRSS`, `VmHWM`), where /proc exists: the memory each phase
  /// leaves resident, for the memory goals of docs/reliability.md.
  static func residentNote() -> String {
    let status = Self.processStatus()
    guard let rss = status["VmRSS"], let hwm = status["VmHWM"] else { return "" }
    return ", RSS \(rss / 1024) MB (peak \(hwm / 1024) MB)"
  }

  /// The kB fields of `/proc/self/status` (`VmRSS`, `VmHWM`, …) by name; empty where there is no
  /// /proc.
  public static func processStatus() -> [String: Int] {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return [:] }
    var fields: [String: Int] = [:]
    for line in status.split(separator: "\n") where line.hasSuffix(" kB") {
      guard let colon = line.firstIndex(of: ":"), let kB = Int(line[colon...].filter(\.isNumber)) else { continue }
      fields[String(line[..<colon])] = kB
    }
    return fields
  }

  /// CPU time of the calling thread (`CLOCK_THREAD_CPUTIME_ID`).
  static func threadCPUNanoseconds() -> UInt64 { cpuNanoseconds(CLOCK_THREAD_CPUTIME_ID) }

  static func cpuNanoseconds(_ clock: clockid_t) -> UInt64 {
    var t = timespec()
    clock_gettime(clock, &t)
    return UInt64(t.tv_sec) &* 1_000_000_000 &+ UInt64(t.tv_nsec)
  }

  /// Prints the time since `start` (`DispatchTime` uptime nanoseconds) under `what`.
  public func report(_ what: String, since start: UInt64) {
    guard isEnabled else { return }
    let ms = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
    FileHandle.standardError.write(Data("[timing] \(what): \(ms) ms (own)\n".utf8))
  }
}
