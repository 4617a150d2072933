import ArgumentParser
import CostModels
import Foundation
import Rendering
import Replay
import TraceModel

struct ModelCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "model",
    abstract: "Analytical models: roofline, collectives, memory, long-context serving, KV cache.",
    discussion: "Specs come from Models/ (hardware, models, clusters); formulas and sources: docs/models/.",
    subcommands: [RooflineCommand.self, CommCommand.self, MemoryCommand.self, LongContextCommand.self, KVCacheCommand.self])
}

/// Options shared by the model subcommands.
struct SpecOptions: ParsableArguments {
  @Option(help: "Directory with hardware/, models/, clusters/ specs (default: ./Models or REPRISE_MODELS).")
  var models: String?

  var library: SpecLibrary { models.map(SpecLibrary.init(root:)) ?? SpecLibrary.locate() }
}

/// Loads a spec, mapping errors to exit codes: unknown names are usage errors (64), broken files data errors (65).
func loadSpec<T>(_ body: () throws -> T) throws -> T {
  do { return try body() } catch let e as SpecError {
    if e.isUsageError { throw ValidationError(e.description) }
    throw DataError(message: e.description)
  }
}

/// Loads an optional cluster spec; a broken file is a data error (65).
func loadCluster(_ path: String?) throws -> ClusterSpec? {
  guard let path else { return nil }
  do { return try ClusterSpec.load(path) } catch let e as ClusterSpecError { throw DataError(message: e.description) }
}

/// Parses an optional `--link-bandwidth` into GB/s; a malformed value is a usage error (64).
func parseLinkGBps(_ value: String?) throws -> Double? {
  do { return try value.map { try Scenario.bandwidth("--link-bandwidth", $0) / 1e9 } } catch let e as ScenarioError {
    throw ValidationError(e.message)
  }
}

/// The hardware spec of the first GPU the trace names in `deviceProperties`, when Models/ has it.
func detectHardware(_ graph: EventGraph, _ lib: SpecLibrary = SpecLibrary.locate()) -> HardwareSpec? {
  guard let device = graph.ranks.flatMap(\.deviceNames).first, let name = SpecLibrary.hardwareName(forDevice: device) else { return nil }
  return try? lib.hardware(name)
}

/// Parses `1GiB`, `512MB`, `4096` into bytes.
func parseBytes(_ s: String) throws -> Double {
  let units: [(String, Double)] = [("GiB", 1_073_741_824), ("MiB", 1_048_576), ("KiB", 1024), ("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("KB", 1e3), ("B", 1)]
  for (u, f) in units where s.hasSuffix(u) { if let v = Double(s.dropLast(u.count)), v >= 0 { return v * f } }
  if let v = Double(s), v >= 0 { return v }
  throw ValidationError("'\(s)': expected a size such as 1GiB, 512MB or 4096")
}

func fmt(_ v: Double, _ digits: Int = 3) -> String { String(format: "%.\(digits)f", v) }

struct LongContextCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "longctx",
    abstract: "Long-context serving at peak numbers: prefill, decode, concurrency, context switch (Fu 2024).")
  @OptionGroup var specs: SpecOptions
  @Option(help: "Model name in Models/models/.") var model: String
  @Option(help: "Hardware name in Models/hardware/.") var hardware: String
  @Option(help: "Context length in tokens.") var context: Int
  @Option(help: "Tokens to decode.") var outputTokens = 0
  @Option(help: "Tensor-parallel degree (multiplies HBM, FLOPs and bandwidth; comm neglected).") var tp = 1
  @Option(help: "KV-cache dtype: fp32, bf16, fp16, fp8, int8, int4.") var kvDtype = "bf16"
  @Option(help: "Weight dtype.") var weightDtype = "bf16"
  @Option(help: "Compute efficiency (fraction of peak).") var computeEfficiency = 1.0
  @Option(help: "Memory-bandwidth efficiency.") var memoryEfficiency = 1.0
  @Flag(help: "Print one JSON object (schema reprise.longctx/v1).") var json = false

  func validate() throws {
    if context <= 0 { throw ValidationError("--context must be positive") }
    if tp < 1 { throw ValidationError("--tp must be ≥ 1") }
    if kvElementBytes(kvDtype) == nil { throw ValidationError("--kv-dtype \(kvDtype): expected fp32, bf16, fp16, fp8, int8 or int4") }
  }

  func run() throws {
    let lib = specs.library
    let m = try loadSpec { try lib.model(model) }
    let hw = try loadSpec { try lib.hardware(hardware) }
    let a = try LongContextAnalysis.analyze(model: m, hardware: hw, context: context, outputTokens: outputTokens, tensorParallel: tp,
                                            weightDtype: weightDtype, kvBytesPerElement: kvElementBytes(kvDtype)!,
                                            computeEfficiency: computeEfficiency, memoryEfficiency: memoryEfficiency)
    if json {
      let doc = JSONDocument.object([
        "schema": .string("reprise.longctx/v1"), "model": .string(m.name), "hardware": .string(hw.name),
        "context": .int(context), "outputTokens": .int(outputTokens), "tp": .int(tp),
        "parameters": .int(a.parameters), "weightBytes": .int(a.weightBytes), "kvBytesPerToken": .int(Int64(a.kvBytesPerToken)),
        "kvBytes": .int(a.kvBytes),
        "prefill": .object(["linearFlops": .double(a.prefillLinearFLOPs), "attentionFlops": .double(a.prefillAttentionFLOPs),
                            "linearSeconds": .double(a.prefillLinearSeconds), "seconds": .double(a.prefillSeconds)]),
        "decode": .object(["secondsPerToken": .double(a.decodeSecondsPerToken), "seconds": .double(a.decodeSeconds)]),
        "maxConcurrentRequests": .int(a.maxConcurrentRequests), "contextSwitchSeconds": .double(a.contextSwitchSeconds),
        "hbmBytes": .int(a.hbmBytes), "pcieBytesPerSecond": .double(a.pcieBytesPerSecond),
        "hbmBytesPerSecond": .double(a.hbmBytesPerSecond), "peakFlopsPerSecond": .double(a.peakFLOPsPerSecond),
      ])
      print(doc.encoded(pretty: true))
      return
    }
    print("\(m.name) on \(tp)× \(hw.displayName), context \(context) tokens, KV \(kvDtype)")
    print("  parameters          \(a.parameters) (\(fmt(Double(a.weightBytes) / 1e9, 2)) GB of weights)")
    print("  KV cache            \(Int64(a.kvBytesPerToken)) B/token, \(fmt(Double(a.kvBytes) / 1_073_741_824, 2)) GiB at full context")
    print("  prefill             \(fmt(a.prefillSeconds)) s (linear \(fmt(a.prefillLinearSeconds)) s, attention \(fmt(a.prefillSeconds - a.prefillLinearSeconds)) s) — compute bound")
    print("  decode              \(fmt(a.decodeSecondsPerToken * 1000)) ms/token\(outputTokens > 0 ? ", \(fmt(a.decodeSeconds)) s for \(outputTokens) tokens" : "") — memory bound")
    print("  concurrency         \(a.maxConcurrentRequests) requests fit in \(fmt(Double(a.hbmBytes) / 1_073_741_824, 1)) GiB HBM")
    print("  context switch      \(fmt(a.contextSwitchSeconds)) s (swap one KV out and one in over PCIe Gen\(hw.pcie.generation))")
  }
}

struct KVCacheCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "kvcache", abstract: "KV-cache cost: bytes per token by attention type, sharing, paging, capacity, swap, reuse.")
  @OptionGroup var specs: SpecOptions
  @Option(help: "Model name.") var model: String
  @Option(help: "Context length in tokens.") var context = 4096
  @Option(help: "Concurrent requests.") var requests = 1
  @Option(help: "Tokens of prefix shared by all requests.") var sharedPrefix = 0
  @Option(help: "KV dtype.") var kvDtype = "bf16"
  @Option(help: "Paged-attention block size (tokens).") var blockSize = 16
  @Option(help: "Hardware name (capacity, swap cost).") var hardware: String?
  @Option(help: "Tensor-parallel degree.") var tp = 1
  @Option(help: "Contexts encoded for APE-style parallel prefill.") var contexts = 1
  @Option(help: "Turns reusing a shared context.") var turns = 1
  @Flag(help: "Print one JSON object (schema reprise.kvcache/v1).") var json = false

  func validate() throws {
    if kvElementBytes(kvDtype) == nil { throw ValidationError("--kv-dtype \(kvDtype): expected fp32, bf16, fp16, fp8, int8 or int4") }
    if context <= 0 || requests <= 0 || blockSize <= 0 || contexts <= 0 || turns <= 0 { throw ValidationError("sizes and counts must be positive") }
    if sharedPrefix < 0 || sharedPrefix > context { throw ValidationError("--shared-prefix must be within 0…context") }
  }

  func run() throws {
    let lib = specs.library
    let m = try loadSpec { try lib.model(model) }
    let hw = try hardware.map { name in try loadSpec { try lib.hardware(name) } }
    let a = KVCacheAnalysis.analyze(model: m, kvBytesPerElement: kvElementBytes(kvDtype)!, context: context, requests: requests,
                                    sharedPrefix: sharedPrefix, blockSize: blockSize, hardware: hw, tensorParallel: tp,
                                    contexts: contexts, turns: turns)
    if json {
      var o: [String: JSONDocument] = [
        "schema": .string("reprise.kvcache/v1"), "model": .string(m.name), "kvDtype": .string(kvDtype),
        "bytesPerToken": .double(a.bytesPerToken),
        "bytesPerTokenByAttention": .object(a.byAttention.mapValues { .double($0) }),
        "contextTokens": .int(context), "requests": .int(requests), "sharedPrefixTokens": .int(sharedPrefix),
        "bytesWithoutSharing": .double(a.bytesWithoutSharing), "bytesWithSharing": .double(a.bytesWithSharing),
        "blockSize": .int(blockSize), "blocksPerRequest": .int(a.blocksPerRequest),
        "wastedTokensPerRequest": .int(a.wastedTokensPerRequest), "fragmentation": .double(a.fragmentation),
        "sequentialPrefillAttentionFlops": .double(a.sequentialPrefillAttentionFLOPs),
        "parallelPrefillAttentionFlops": .double(a.parallelPrefillAttentionFLOPs),
        "multiTurnRecomputeFlops": .double(a.multiTurnRecomputeFLOPs), "multiTurnCachedFlops": .double(a.multiTurnCachedFLOPs),
      ]
      if let s = a.spareBytes { o["spareBytes"] = .int(s) }
      if let t = a.tokensThatFit { o["tokensThatFit"] = .int(t) }
      if let r = a.requestsThatFit { o["requestsThatFit"] = .double(r) }
      if let w = a.swapSecondsPerRequest { o["swapSecondsPerRequest"] = .double(w) }
      print(JSONDocument.object(o).encoded(pretty: true))
      return
    }
    print("\(m.name): KV cache at \(kvDtype)")
    print("  bytes/token         \(Int64(a.bytesPerToken)) (MHA \(Int64(a.byAttention["MHA"]!)), GQA \(Int64(a.byAttention["GQA"]!)), MQA \(Int64(a.byAttention["MQA"]!)), MLA \(Int64(a.byAttention["MLA"]!)))")
    print("  \(requests) request(s) × \(context) tokens: \(fmt(a.bytesWithoutSharing / 1_073_741_824, 2)) GiB; with a \(sharedPrefix)-token shared prefix \(fmt(a.bytesWithSharing / 1_073_741_824, 2)) GiB")
    print("  paging              \(a.blocksPerRequest) blocks of \(blockSize) per request, \(a.wastedTokensPerRequest) slots unused (\(fmt(a.fragmentation * 100, 2))%)")
    if let t = a.tokensThatFit, let r = a.requestsThatFit, let s = a.spareBytes, let w = a.swapSecondsPerRequest {
      print("  capacity            \(t) tokens fit in \(fmt(Double(s) / 1_073_741_824, 2)) GiB spare HBM = \(fmt(r, 2)) full-length requests")
      print("  swap                \(fmt(w * 1000, 2)) ms to move one request's KV over PCIe")
    }
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
  @Option(help: "ring or tree.") var algorithm = "ring"
  @Option(help: "GPUs per node for a hierarchical all-reduce (with --inter-bandwidth).") var gpusPerNode: Int?
  @Option(help: "Inter-node bandwidth for the hierarchical all-reduce.") var interBandwidth: String?
  @Flag(help: "Print JSON (schema reprise.comm/v1).") var json = false

  func run() throws {
    guard let op = CommOpName.parse(kind) else { throw ValidationError("--kind \(kind): expected allreduce, allgather, reducescatter, alltoall, broadcast, reduce or sendrecv") }
    guard let alg = CollectiveModel.Algorithm(rawValue: algorithm) else { throw ValidationError("--algorithm: ring or tree") }
    let n = try parseBytes(bytes)
    let bw: Double, lat: Int64, inter: Double?
    do {
      bw = try Scenario.bandwidth("--bandwidth", bandwidth)
      lat = try Scenario.duration("--latency", latency)
      inter = try interBandwidth.map { try Scenario.bandwidth("--inter-bandwidth", $0) }
    } catch let e as ScenarioError { throw ValidationError(e.message) }
    var t = CollectiveModel.time(op, bytes: n, ranks: ranks, bandwidth: BytesPerSecond(rawValue: bw), latency: Nanoseconds(lat), algorithm: alg)
    if let g = gpusPerNode, let ib = inter, op == .allReduce, ranks > g {
      t = CollectiveModel.hierarchicalAllReduce(bytes: n, gpusPerNode: g, nodes: ranks / g, intra: BytesPerSecond(rawValue: bw),
                                                inter: BytesPerSecond(rawValue: ib), latency: Nanoseconds(lat))
    }
    let s = Double(t.rawValue) / 1e9
    let alg2 = s > 0 ? CollectiveModel.algbwGBps(bytes: n, seconds: s) : 0
    let bus = s > 0 ? CollectiveModel.busbwGBps(op, bytes: n, seconds: s, ranks: ranks) : 0
    if json {
      print(JSONDocument.object(["schema": .string("reprise.comm/v1"), "kind": .string(op?.name ?? "sendRecv"), "bytes": .double(n),
                                 "ranks": .int(ranks), "durationNs": .int(t.rawValue), "algBandwidthGBps": .double(alg2),
                                 "busBandwidthGBps": .double(bus)]).encoded(pretty: true))
    } else {
      print("\(op?.name ?? "sendRecv") of \(Int64(n)) B on \(ranks) ranks: \(fmt(s * 1e6, 2)) µs, algbw \(fmt(alg2, 2)) GB/s, busbw \(fmt(bus, 2)) GB/s")
    }
  }
}

/// Collective names on the command line.
enum CommOpName {
  static func parse(_ s: String) -> CollectiveKind?? {
    switch s.lowercased().replacingOccurrences(of: "_", with: "").replacingOccurrences(of: "-", with: "") {
    case "allreduce": return .some(.allReduce)
    case "allgather": return .some(.allGather)
    case "reducescatter": return .some(.reduceScatter)
    case "alltoall": return .some(.allToAll)
    case "broadcast": return .some(.broadcast)
    case "reduce": return .some(.reduce)
    case "sendrecv", "p2p": return .some(nil)
    default: return nil
    }
  }
}

struct MemoryCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "memory", abstract: "Training memory per GPU: weights, gradients, optimizer (ZeRO), activations (Korthikanti).")
  @OptionGroup var specs: SpecOptions
  @Option(help: "Model name.") var model: String
  @Option(help: "Sequence length.") var sequence = 2048
  @Option(help: "Micro-batch size.") var microBatch = 1
  @Option(help: "Tensor-parallel degree.") var tp = 1
  @Option(help: "Data-parallel degree.") var dp = 1
  @Option(help: "ZeRO stage 0–3.") var zero = 0
  @Option(help: "Activations: none, tensor, tensorSequence, tensorSelective, tensorSequenceSelective, full.") var activations = "tensorSequenceSelective"
  @Flag(help: "Print JSON (schema reprise.memory/v1).") var json = false

  func run() throws {
    guard let cfg = Transformer.ActivationConfig(rawValue: activations) else {
      throw ValidationError("--activations: one of \(Transformer.ActivationConfig.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    if !(0...3).contains(zero) { throw ValidationError("--zero: 0, 1, 2 or 3") }
    let m = try loadSpec { try specs.library.model(model) }
    let psi = Double(Transformer.parameters(m)) / Double(tp)
    let states = Transformer.zeroBytes(parameters: psi, dataParallel: Double(dp), stage: zero)
    let act = Transformer.activationBytesPerLayer(sequence: Double(sequence), microBatch: Double(microBatch), hidden: Double(m.hidden),
                                                  heads: Double(m.heads), tensorParallel: Double(tp), config: cfg) * Double(m.layers)
    if json {
      print(JSONDocument.object(["schema": .string("reprise.memory/v1"), "model": .string(m.name), "parameters": .int(Transformer.parameters(m)),
                                 "modelStateBytes": .double(states), "activationBytes": .double(act), "totalBytes": .double(states + act)]).encoded(pretty: true))
    } else {
      print("\(m.name), TP \(tp), DP \(dp), ZeRO-\(zero), s=\(sequence), b=\(microBatch), activations \(activations)")
      print("  model states  \(fmt(states / 1_073_741_824, 2)) GiB per GPU (weights, gradients, Adam states; 16 B/param before sharding)")
      print("  activations   \(fmt(act / 1_073_741_824, 2)) GiB per GPU (all \(m.layers) layers)")
      print("  total         \(fmt((states + act) / 1_073_741_824, 2)) GiB")
    }
  }
}
