import CostModels
import Foundation
import TraceModel

extension Calibration {
  /// The hardware spec of this measurement, for `--hardware FILE`, `--from FILE` and
  /// `model roofline --hardware FILE`. docs/models/calibrate.md explains each field:
  /// - `peakTFLOPs.fp32` and `sustained.tflops.fp32`: the GEMM rate (the only dtype measured;
  ///   a CPU has no tensor cores, so the measured rate is both the ceiling and what is reached);
  /// - `hbmBandwidthGBps` and `sustained.hbmGBps`: the triad bandwidth;
  /// - `hbm`: physical memory, GiB;
  /// - `pcie`: generation 0 (no bus) at the triad bandwidth, since a host copy is a memory copy;
  /// - no `interconnect`; `launchOverheadUs` 0 (an operator on the CPU has no launch).
  /// Figures are rounded to 0.01 GB/s and 1e-6 TFLOP/s; `source` holds no date, only what
  /// was measured and how, so the same machine and flags give the same text.
  public func hardwareSpec(name: String? = nil, version: String) -> HardwareSpec {
    let tflops = (gemm.gflops / 1e3 * 1e6).rounded() / 1e6
    let gbps = (triad.gbps * 100).rounded() / 100
    let memory = (Double(host.memoryBytes.rawValue) / 1_073_741_824 * 100).rounded() / 100
    return HardwareSpec(
      named: name ?? Self.slug(host.cpuModel), displayName: "\(host.cpuModel) (calibrated, \(threadsText))",
      source: source(version: version), peakTFLOPs: ["fp32": tflops],
      hbm: HardwareSpec.Amount(memory, unit: "GiB"), hbmBandwidthGBps: gbps, interconnect: nil,
      pcie: HardwareSpec.PCIe(generation: 0, perDirectionGBps: gbps), launchOverheadUs: 0,
      sustained: HardwareSpec.Sustained(tflops: ["fp32": tflops], hbmGBps: gbps, source: source(version: version)))
  }

  var threadsText: String { threads == 1 ? "1 thread" : "\(threads) threads" }

  /// What was measured and how, without a date or a timing.
  func source(version: String) -> String {
    let mib = triad.arrayBytes.rawValue / 1_048_576
    return "reprise calibrate \(version) on \(host.cpuModel) (\(threadsText) of \(host.logicalCPUs) logical CPUs): "
      + "STREAM triad a[i] = b[i] + s*c[i] over 3 fp64 arrays of \(triad.elements) elements (\(mib) MiB each), "
      + "24 B per element (McCalpin 1995), best of the timed passes; "
      + "fp32 GEMM C += A*B, m = n = k = \(gemm.n), 2mnk FLOPs, 6x16 FMA register tile on packed panels "
      + "(Goto and van de Geijn 2008), best of the timed runs"
  }

  /// `AMD EPYC 7763 64-Core Processor` → `amd-epyc-7763-64-core-processor`; `cpu` when empty.
  static func slug(_ text: String) -> String {
    var out = ""
    for ch in text.lowercased() {
      if ch.isASCII && (ch.isLetter || ch.isNumber) {
        out.append(ch)
      } else if !out.isEmpty && out.last != "-" {
        out.append("-")
      }
    }
    while out.hasSuffix("-") { out.removeLast() }
    return out.isEmpty ? "cpu" : out
  }
}
