import CostModels
import Dispatch
import Foundation
import TraceModel

/// A measurement of this machine: sustained memory bandwidth (STREAM triad) and dense fp32
/// GEMM rate, and the hardware spec they make (`hardwareSpec(name:version:)`).
///
/// Formulas, sources and every spec field's choice: docs/models/calibrate.md.
public struct Calibration: Codable, Sendable, Equatable {
  public var host: HostMachine
  /// Threads each kernel ran on.
  public var threads: Int
  /// The measuring time asked for, split evenly between the two kernels.
  public var seconds: Double
  public var triad: TriadMeasurement
  public var gemm: GEMMMeasurement

  /// What to measure and for how long.
  public struct Options: Sendable, Equatable {
    /// Measuring time in seconds, split evenly between the kernels; each runs at least
    /// `minimumRepetitions` timed repetitions however small this is.
    public var seconds: Double
    public var threads: Int
    /// Elements per triad array; nil: the STREAM rule, at least 4 × the last-level caches
    /// together and at least 2^24 (128 MiB per fp64 array).
    public var triadElements: Int?
    /// m = n = k of the GEMM (a multiple of 96).
    public var gemmSize: Int

    public init(seconds: Double = 10, threads: Int = 1, triadElements: Int? = nil, gemmSize: Int = 960) {
      (self.seconds, self.threads, self.triadElements, self.gemmSize) = (seconds, threads, triadElements, gemmSize)
    }

    /// - Throws: `CalibrationOptionError` naming the flag.
    public func check() throws {
      if !(seconds > 0 && seconds <= 3600) {
        throw CalibrationOptionError(flag: "--seconds", expected: "a time in (0, 3600] seconds", found: "\(seconds)")
      }
      if !(1...1024).contains(threads) {
        throw CalibrationOptionError(flag: "--threads", expected: "1…1024", found: "\(threads)")
      }
      if let n = triadElements, n < threads {
        throw CalibrationOptionError(flag: "triadElements", expected: "at least one per thread", found: "\(n)")
      }
      if gemmSize <= 0 || gemmSize % 96 != 0 {
        throw CalibrationOptionError(flag: "gemmSize", expected: "a positive multiple of 96", found: "\(gemmSize)")
      }
    }
  }

  /// Timed repetitions each kernel runs at least (after one untimed warm-up).
  public static let minimumRepetitions = 3

  /// Runs both kernels on `host` for about `options.seconds`.
  /// - Throws: `CalibrationOptionError` for options out of range.
  public static func measure(_ options: Options = Options(), host: HostMachine = .current()) throws -> Calibration {
    try options.check()
    let elements = options.triadElements ?? streamElements(lastLevelCache: host.lastLevelCacheBytes)
    let budget = options.seconds / 2
    return Calibration(
      host: host, threads: options.threads, seconds: options.seconds,
      triad: TriadMeasurement.run(elements: elements, threads: options.threads, seconds: budget),
      gemm: GEMMMeasurement.run(size: options.gemmSize, threads: options.threads, seconds: budget))
  }

  /// STREAM's array size rule: each array at least 4 × the last-level caches together (2^24
  /// elements at least, 128 MiB of fp64), rounded up to a multiple of 2^20 elements.
  public static func streamElements(lastLevelCache: Bytes?) -> Int {
    let rule = Int(4 * (lastLevelCache?.rawValue ?? 0) / 8)
    let step = 1 << 20
    return max(1 << 24, (rule + step - 1) / step * step)
  }

  /// Runs `body` once untimed, then timed until `seconds` have passed and at least
  /// `minimumRepetitions` times; the best (shortest) time and the number of timed runs.
  static func best(seconds: Double, _ body: () -> Void) -> (best: Nanoseconds, repetitions: Int) {
    body()
    let start = DispatchTime.now().uptimeNanoseconds
    let budget = UInt64(seconds * 1e9)
    var (best, repetitions) = (UInt64.max, 0)
    repeat {
      let t0 = DispatchTime.now().uptimeNanoseconds
      body()
      let t1 = DispatchTime.now().uptimeNanoseconds
      best = min(best, max(t1 - t0, 1))
      repetitions += 1
    } while repetitions < minimumRepetitions || DispatchTime.now().uptimeNanoseconds - start < budget
    return (Nanoseconds(rawValue: Int64(clamping: best)), repetitions)
  }

  /// Runs `body(t)` for t in 0..<threads, on as many threads.
  static func parallel(_ threads: Int, _ body: (Int) -> Void) {
    if threads == 1 { return body(0) }
    withoutActuallyEscaping(body) { body in
      let work = UncheckedSendable(body)  // the threads write disjoint ranges
      DispatchQueue.concurrentPerform(iterations: threads) { work.value($0) }
    }
  }

  /// The `part`-th of `parts` contiguous pieces of `0..<count`, each a multiple of `granule`
  /// long except possibly the last.
  static func slice(_ count: Int, part: Int, of parts: Int, granule: Int = 1) -> Range<Int> {
    let units = (count + granule - 1) / granule
    let lower = min(count, units * part / parts * granule)
    let upper = min(count, units * (part + 1) / parts * granule)
    return lower..<upper
  }
}

/// An option out of range (a usage error: exit 64), named as the command line spells it.
public struct CalibrationOptionError: Error, CustomStringConvertible, Sendable, Equatable {
  public var flag: String
  public var expected: String
  public var found: String
  public var description: String { "\(flag) \(found): expected \(expected)" }
}

/// A value handed to the threads of `Calibration.parallel`, which touch disjoint memory.
struct UncheckedSendable<T>: @unchecked Sendable {
  let value: T
  init(_ value: T) { self.value = value }
}

/// The STREAM triad `a[i] = b[i] + s·c[i]` over three fp64 arrays (McCalpin 1995).
public struct TriadMeasurement: Codable, Sendable, Equatable {
  /// Elements per array.
  public var elements: Int
  /// Bytes of one array.
  public var arrayBytes: Bytes
  /// Bytes one pass counts, as STREAM counts them: 3 × 8 B per element (two reads and a write;
  /// the write-allocate read of `a` is not counted).
  public var bytesPerPass: Bytes
  public var repetitions: Int
  public var bestNs: Nanoseconds
  /// `bytesPerPass / bestNs`, GB/s (1e9 B/s).
  public var gbps: Double

  static func run(elements n: Int, threads: Int, seconds: Double) -> TriadMeasurement {
    let a = UnsafeMutablePointer<Double>.allocate(capacity: n)
    let b = UnsafeMutablePointer<Double>.allocate(capacity: n)
    let c = UnsafeMutablePointer<Double>.allocate(capacity: n)
    defer {
      a.deallocate()
      b.deallocate()
      c.deallocate()
    }
    // First touch on the threads that run the kernel, so pages land near them.
    Calibration.parallel(threads) { t in
      for i in Calibration.slice(n, part: t, of: threads) { (a[i], b[i], c[i]) = (1, 2, 0) }
    }
    let (best, repetitions) = Calibration.best(seconds: seconds) {
      Calibration.parallel(threads) { t in Kernels.triad(a, b, c, 3, Calibration.slice(n, part: t, of: threads)) }
    }
    let bytes = Bytes(rawValue: Int64(24 * n))
    return TriadMeasurement(
      elements: n, arrayBytes: Bytes(rawValue: Int64(8 * n)), bytesPerPass: bytes, repetitions: repetitions,
      bestNs: best, gbps: Double(bytes.rawValue) / Double(best.rawValue))
  }
}

/// A cache-blocked fp32 GEMM `out += lhs·rhs`, m = n = k, counted as 2mnk FLOPs.
public struct GEMMMeasurement: Codable, Sendable, Equatable {
  public var m: Int
  public var n: Int
  public var k: Int
  /// 2mnk.
  public var flops: FLOPs
  public var repetitions: Int
  public var bestNs: Nanoseconds
  /// `flops / bestNs`, GFLOP/s (1e9 FLOP/s).
  public var gflops: Double

  static func run(size n: Int, threads: Int, seconds: Double) -> GEMMMeasurement {
    let lhs = UnsafeMutablePointer<Float>.allocate(capacity: n * n)
    let rhs = UnsafeMutablePointer<Float>.allocate(capacity: n * n)
    let out = UnsafeMutablePointer<Float>.allocate(capacity: n * n)
    defer {
      lhs.deallocate()
      rhs.deallocate()
      out.deallocate()
    }
    for i in 0..<(n * n) { (lhs[i], rhs[i], out[i]) = (Float(i % 7) / 8, Float(i % 5) / 4, 0) }
    let (best, repetitions) = Calibration.best(seconds: seconds) {
      GEMMMeasurement.multiply(lhs, rhs, out, m: n, n: n, k: n, threads: threads)
    }
    let flops = FLOPs(rawValue: 2 * Double(n) * Double(n) * Double(n))
    return GEMMMeasurement(
      m: n, n: n, k: n, flops: flops, repetitions: repetitions, bestNs: best,
      gflops: flops.rawValue / Double(best.rawValue))
  }

  /// `out += lhs·rhs` with the calibration kernel, row-major; `m` a multiple of 6, `n` of 16, each of
  /// `threads` threads taking a band of rows with its own packing buffers.
  static func multiply(
    _ lhs: UnsafePointer<Float>, _ rhs: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, m: Int, n: Int,
    k: Int,
    threads: Int
  ) {
    Calibration.parallel(threads) { t in
      let rows = Calibration.slice(m, part: t, of: threads, granule: Kernels.mr)
      if rows.isEmpty { return }
      let packA = UnsafeMutablePointer<Float>.allocate(capacity: Kernels.mc * Kernels.kc)
      let packB = UnsafeMutablePointer<Float>.allocate(capacity: Kernels.kc * n)
      defer {
        packA.deallocate()
        packB.deallocate()
      }
      Kernels.gemm(rows: rows, n: n, k: k, lhs, rhs, out, packA: packA, packB: packB)
    }
  }

  /// `A·B` for row-major `a` (m × k) and `b` (k × n) with the calibration kernel: `m` a multiple
  /// of 6, `n` of 16 (nil otherwise). For tests that check the kernel against the definition.
  public static func product(_ a: [Float], _ b: [Float], m: Int, n: Int, k: Int, threads: Int = 1) -> [Float]? {
    guard m > 0, n > 0, k > 0, m % Kernels.mr == 0, n % Kernels.nr == 0, a.count == m * k, b.count == k * n else {
      return nil
    }
    var c = [Float](repeating: 0, count: m * n)
    a.withUnsafeBufferPointer { pa in
      b.withUnsafeBufferPointer { pb in
        c.withUnsafeMutableBufferPointer { pc in
          guard let lhs = pa.baseAddress, let rhs = pb.baseAddress, let out = pc.baseAddress else { return }
          multiply(lhs, rhs, out, m: m, n: n, k: k, threads: threads)
        }
      }
    }
    return c
  }
}
