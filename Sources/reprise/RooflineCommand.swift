import ArgumentParser
import CostModels
import Foundation
import Rendering
import TraceImport
import TraceModel

struct RooflineCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "roofline",
    abstract: "Roofline of one operation, or of every kernel of a trace that its launching op can size.",
    discussion: """
      With --flops and --bytes: time = max(FLOPs/peak, bytes/BW) + launch overhead (Williams et al., CACM 2009). \
      With trace paths: FLOPs and bytes come from the aten ops' recorded shapes (mm, addmm, bmm, baddbmm, matmul, \
      linear, SDPA/flash attention, elementwise, reductions, norms); achieved TFLOP/s and % of peak per kernel and class.
      """)
  @OptionGroup var specs: SpecOptions
  @Argument(help: "Trace files or directories (optional).") var paths: [String] = []
  @Option(help: "Hardware name (default: from the trace's deviceProperties).") var hardware: String?
  @Option(help: "dtype of the operation (bf16, fp16, fp32, tf32, fp8).") var dtype = "bf16"
  @Option(help: "FLOPs of one operation (e.g. 2e12).") var flops: Double?
  @Option(help: "Bytes moved by one operation (e.g. 1GiB).") var bytes: String?
  @Option(help: "Rows to print (largest FLOPs first).") var top = 15
  @Flag(help: "Print JSON (schema reprise.roofline/v1).") var json = false

  func run() throws {
    let lib = specs.library
    if paths.isEmpty {
      guard let flops, let bytes else { throw ValidationError("give trace paths, or --flops and --bytes with --hardware") }
      guard let hwName = hardware else { throw ValidationError("--hardware is required with --flops/--bytes") }
      let hw = try loadSpec { try lib.hardware(hwName) }
      guard let peak = hw.peak(dtype) else { throw ValidationError("\(hw.name) has no \(dtype) peak; it has \(hw.peakTFLOPs.keys.sorted().joined(separator: ", "))") }
      let m = RooflineModel(peakCompute: peak, memoryBandwidth: hw.memoryBandwidth, launchOverhead: hw.launchOverhead)
      let e = m.estimate(work: FLOPs(rawValue: flops), traffic: Bytes(Int64(try parseBytes(bytes))))
      if json {
        print(JSONDocument.object(["schema": .string("reprise.roofline/v1"), "hardware": .string(hw.name), "durationNs": .int(e.duration.rawValue),
                                   "bound": .string(e.bound.rawValue), "arithmeticIntensity": .double(e.arithmeticIntensity),
                                   "ridgePoint": .double(m.ridgePoint)]).encoded(pretty: true))
      } else {
        print("\(hw.displayName), \(dtype): \(fmt(Double(e.duration.rawValue) / 1e3, 2)) µs, \(e.bound.rawValue) bound (intensity \(fmt(e.arithmeticIntensity, 1)) FLOP/B, ridge \(fmt(m.ridgePoint, 1)))")
      }
      return
    }
    let result = try ingestWithProgress(paths)
    printDiagnostics(result.diagnostics, verbose: false)
    let g = result.graph
    let hwName: String
    if let hardware {
      hwName = hardware
    } else if let device = g.ranks.flatMap(\.deviceNames).first(where: { SpecLibrary.hardwareName(forDevice: $0) != nil }),
              let name = SpecLibrary.hardwareName(forDevice: device) {
      hwName = name
    } else {
      let devices = Set(g.ranks.flatMap(\.deviceNames)).sorted().joined(separator: ", ")
      throw ValidationError("cannot tell the hardware from deviceProperties (\(devices.isEmpty ? "none" : devices)); give --hardware: \(lib.names("hardware").joined(separator: ", "))")
    }
    let hw = try loadSpec { try lib.hardware(hwName) }
    let r = KernelRooflineReport.analyze(g, hardware: hw)
    let rows = r.rows.sorted { ($0.flops, $0.op) > ($1.flops, $1.op) }
    if json {
      print(Self.json(r, hardware: hw).encoded(pretty: true))
      return
    }
    for line in Self.summary(r, hardware: hw) { print(line) }
    print("  top ops by FLOPs:  achieved TFLOP/s  % of peak  % of roofline  bound    op → kernel")
    for row in rows.prefix(top) {
      print(String(format: "  %17.2f  %9.1f  %13.1f  %-7@  %@ → %@", row.achievedFLOPs / 1e12, row.percentOfPeak, row.percentOfRoofline,
                   row.bound.rawValue, row.opName, String(row.kernelName.prefix(50))))
    }
  }

  static func json(_ r: KernelRooflineReport, hardware hw: HardwareSpec) -> JSONDocument {
    let rows = r.rows.sorted { ($0.flops, $0.op) > ($1.flops, $1.op) }
      let rowDocs: [JSONDocument] = rows.map { row in
        .object(["op": .string(row.opName), "kernel": .string(row.kernelName), "family": .string(row.family.rawValue),
                 "flops": .double(row.flops), "bytes": .double(row.bytes), "durationNs": .int(row.durationNs), "dtype": .string(row.dtype),
                 "achievedTFLOPs": .double(row.achievedFLOPs / 1e12), "achievedGBps": .double(row.achievedBytesPerSecond / 1e9),
                 "arithmeticIntensity": .double(row.arithmeticIntensity.isFinite ? row.arithmeticIntensity : 0),
                 "percentOfPeak": .double(row.percentOfPeak), "percentOfRoofline": .double(row.percentOfRoofline),
                 "bound": .string(row.bound.rawValue), "kernels": .int(row.kernels.count)])
      }
      var fam: [String: JSONDocument] = [:]
      for (f, s) in r.byFamily {
        fam[f.rawValue] = .object(["kernels": .int(s.kernels), "flops": .double(s.flops), "bytes": .double(s.bytes),
                                   "durationNs": .int(s.durationNs), "achievedTFLOPs": .double(s.achievedFLOPs / 1e12)])
      }
      return JSONDocument.object(["schema": .string("reprise.roofline/v1"), "hardware": .string(hw.name), "kernels": .int(r.kernels),
                                  "sizedKernels": .int(r.sizedKernels), "unsizedKernels": .int(r.unsizedKernels),
                                  "byClass": .object(fam), "ops": .array(rowDocs),
                                  "peakTFLOPs": .object(hw.peakTFLOPs.mapValues { .double($0) }),
                                  "hbmBandwidthGBps": .double(hw.hbmBandwidthGBps)])
  }

  /// Per-class summary lines.
  static func summary(_ r: KernelRooflineReport, hardware hw: HardwareSpec) -> [String] {
    var lines = ["\(hw.displayName): \(r.kernels) kernels, \(r.sizedKernels) sized from their ops' shapes, \(r.unsizedKernels) unsized"]
    for (f, s) in r.byFamily.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
      lines.append("  \(f.rawValue.padding(toLength: 12, withPad: " ", startingAt: 0)) \(s.kernels) kernels, \(fmt(s.flops / 1e12, 3)) TFLOP in \(fmt(Double(s.durationNs) / 1e6, 3)) ms = \(fmt(s.achievedFLOPs / 1e12, 2)) TFLOP/s")
    }
    return lines
  }
}
