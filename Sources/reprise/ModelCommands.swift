import ArgumentParser
import CostModels
import Foundation
import Replay
import Reports
import TraceModel

struct ModelCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "model",
    abstract: "Analytical models: roofline, collectives, memory, long-context serving, KV cache.",
    discussion:
      "Specs (hardware, models, clusters) are built in; --models DIR or REPRISE_MODELS use a folder instead. Formulas and sources: docs/models/.",
    subcommands: [
      RooflineCommand.self, CommCommand.self, MemoryCommand.self, LongContextCommand.self, KVCacheCommand.self,
    ])
}

extension Transformer.ActivationConfig: ExpressibleByArgument {}
extension CollectiveModel.Algorithm: ExpressibleByArgument {}

extension DType: ExpressibleByArgument {
  public init?(argument: String) { self.init(name: argument) }
  /// The storage dtypes the model commands take (help and completion list these).
  public static var allValueStrings: [String] { kvCacheDTypes.map(\.rawValue) }
}

/// A weight or KV-cache dtype flag: one of `kvCacheDTypes`.
func checkKVDtype(_ dtype: DType, flag: String = "--kv-dtype") throws {
  if !kvCacheDTypes.contains(dtype) {
    throw ValidationError(
      "\(flag) \(dtype.rawValue): expected \(kvCacheDTypes.map(\.rawValue).joined(separator: ", "))")
  }
}

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
  @OptionGroup var limit: ReadLimitOptions

  func run() throws {
    try requireAtLeast(0, ["--top": top])
    if let flops, !(flops >= 0) { throw ValidationError("--flops: out of range: must be ≥ 0, found \(flops)") }
    let lib = try specs.library()
    if paths.isEmpty {
      guard let flops, let bytes else {
        throw ValidationError("give trace paths, or --flops and --bytes with --hardware")
      }
      guard let hardware else { throw ValidationError("--hardware is required with --flops/--bytes") }
      let size = try flag { try Scenario.size("--bytes", bytes) }
      let op = try OperationRoofline(
        hardware: try lib.hardware(hardware), dtype: dtype, flops: FLOPs(rawValue: flops),
        bytes: size)
      return print(json ? try op.json() : op.text())
    }
    let graph = try TraceInputs.read(paths, limits: try limit.limits()).graph
    let hw = try lib.hardware(named: hardware, for: graph)
    let report = RooflineReport(graph, hardware: hw)
    print(json ? try report.json() : report.text(top: top))
  }
}

struct CommCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "comm", abstract: "Alpha-beta time of a collective, with nccl-tests algbw and busbw.")
  @Option(help: "allreduce, allgather, reducescatter, alltoall, broadcast, reduce, sendrecv.") var kind: String
  @Option(help: "Message size (nccl-tests convention), e.g. 1GiB.") var bytes: String
  @Option(help: "Ranks.") var ranks: Int
  @Option(help: "Per-rank link bandwidth, e.g. 450GB/s.") var bandwidth: String
  @Option(help: "Per-step latency α, e.g. 5us.") var latency = "0us"
  @Option(help: "ring or tree.") var algorithm: CollectiveModel.Algorithm = .ring
  @Option(help: "GPUs per node for a hierarchical all-reduce (with --inter-bandwidth).") var gpusPerNode: Int?
  @Option(help: "Inter-node bandwidth for the hierarchical all-reduce.") var interBandwidth: String?
  @Flag(help: "Print JSON (schema reprise.comm/v1).") var json = false

  func run() throws {
    try requireAtLeast(1, ["--ranks": ranks, "--gpus-per-node": gpusPerNode ?? 1])
    guard let op = CollectiveKind.parse(commandLine: kind) else {
      throw ValidationError(
        "--kind \(kind): expected allreduce, allgather, reducescatter, alltoall, broadcast, reduce or sendrecv")
    }
    let estimate = try flag {
      CommEstimate(
        kind: op, bytes: try Scenario.size("--bytes", bytes), ranks: ranks,
        bandwidth: try Scenario.bandwidth("--bandwidth", bandwidth),
        latency: try Scenario.duration("--latency", latency),
        algorithm: algorithm, gpusPerNode: gpusPerNode,
        interBandwidth: try interBandwidth.map { try Scenario.bandwidth("--inter-bandwidth", $0) })
    }
    print(json ? try estimate.json() : estimate.text())
  }
}
