import Calibration
import CostModels
import Foundation
import TraceModel

/// What `reprise calibrate` measured and the hardware spec it wrote (schema `reprise.calibrate/v1`).
///
/// The one contract whose numbers are not a function of the inputs: they are measurements of the
/// machine, different on every run. Everything else (sizes, the spec's `source`) is the same for
/// the same machine and flags.
public struct CalibrationReport: JSONContract, Equatable {
  public static let schemaName = "reprise.calibrate"
  public static let schemaVersion = 1
  public var schema = Self.schema
  public var calibration: Calibration
  /// Where the spec was written.
  public var specFile: String
  public var spec: HardwareSpec

  /// Measures this machine, then writes the spec to `output` (pretty JSON, sorted keys).
  /// - Throws: `CalibrationOptionError` for options out of range (a usage error); `RunError.data`
  ///   naming `output` when it cannot be written, checked before measuring.
  public init(options: Calibration.Options, name: String?, output: String) throws {
    try options.check()
    try Self.checkWritable(output)
    calibration = try Calibration.measure(options)
    spec = try calibration.hardwareSpec(name: name, version: ToolVersion.current).validated(file: output)
    specFile = output
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    try OutputFile.write(String(decoding: try encoder.encode(spec), as: UTF8.self) + "\n", to: output)
  }

  /// `init(options:name:output:)` with the command line's two options.
  public init(seconds: Double, threads: Int, name: String?, output: String) throws {
    try self.init(options: Calibration.Options(seconds: seconds, threads: threads), name: name, output: output)
  }

  /// Fails early, before the measuring time, for a path whose folder is missing or read-only
  /// or that names a folder.
  static func checkWritable(_ path: String) throws {
    let url = URL(fileURLWithPath: path)
    let dir = url.deletingLastPathComponent().path
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
      throw RunError.data("\(path): cannot write: it is a directory")
    }
    guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDirectory), isDirectory.boolValue else {
      throw RunError.data("\(path): cannot write: no such directory \(dir)")
    }
    if !FileManager.default.isWritableFile(atPath: dir) {
      throw RunError.data("\(path): cannot write: directory \(dir) is not writable")
    }
  }

  /// The figures, how they were measured, and where the spec went.
  public func text() -> String {
    let c = calibration
    let balance = c.gemm.gflops / c.triad.gbps
    let memory = Double(c.host.memoryBytes.rawValue) / 1_073_741_824
    return """
      \(c.host.cpuModel): \(c.threads) of \(c.host.logicalCPUs) logical CPUs, \
      \(TextFormat.fixed(memory, 1)) GiB memory, \(TextFormat.fixed(c.seconds, 1)) s of measuring
        memory bandwidth  \(TextFormat.fixed(c.triad.gbps, 2)) GB/s  STREAM triad, 3 fp64 arrays of \
      \(c.triad.arrayBytes.rawValue / 1_048_576) MiB, 24 B/element, best of \(c.triad.repetitions) passes
        dense fp32 GEMM   \(TextFormat.fixed(c.gemm.gflops, 1)) GFLOP/s  m = n = k = \(c.gemm.n), 2mnk FLOPs, \
      best of \(c.gemm.repetitions) runs
        machine balance   \(TextFormat.fixed(balance, 2)) FLOP/B
      wrote hardware spec '\(spec.name)' to \(specFile) \
      (use it as --hardware \(specFile), --from \(specFile), model roofline --hardware \(specFile))
      """
  }
}

extension CalibrationOptionError: ReportableError {
  public var isUsageError: Bool { true }
}
