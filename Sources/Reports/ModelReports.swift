import CostModels
import Foundation
import TraceModel

/// The α-β time of one collective with nccl-tests' algbw and busbw (`reprise model comm`,
/// schema `reprise.comm/v1`). Formulas: `CollectiveModel` (docs/models/comm.md).
public struct CommEstimate: JSONContract, Equatable {
  public static let schemaName = "reprise.comm"
  public static let schemaVersion = 1

  public private(set) var schema = Self.schema
  /// The collective's name, or `sendRecv`.
  public var kind: String
  /// Message size as nccl-tests counts it.
  public var bytes: Double
  public var ranks: Int
  public var durationNs: Nanoseconds
  public var algBandwidthGBps: Double
  public var busBandwidthGBps: Double

  /// Ring or tree time of `kind` (nil: point-to-point); hierarchical when `gpusPerNode` and
  /// `interBandwidth` are given for an all-reduce that spans nodes.
  public init(
    kind: CollectiveKind?, bytes: Bytes, ranks: Int, bandwidth: BytesPerSecond, latency: Nanoseconds,
    algorithm: CollectiveModel.Algorithm, gpusPerNode: Int? = nil, interBandwidth: BytesPerSecond? = nil
  ) {
    var t = CollectiveModel.time(
      kind, bytes: bytes, ranks: ranks, bandwidth: bandwidth, latency: latency,
      algorithm: algorithm)
    if let g = gpusPerNode, let inter = interBandwidth, kind == .allReduce, ranks > g {
      t = CollectiveModel.hierarchicalAllReduce(
        bytes: bytes, gpusPerNode: g, nodes: ranks / g, intra: bandwidth,
        inter: inter, latency: latency)
    }
    self.kind = kind?.name ?? "sendRecv"
    self.bytes = Double(bytes.rawValue)
    self.ranks = ranks
    durationNs = t
    algBandwidthGBps = CollectiveModel.algbwGBps(bytes: bytes, time: t)
    busBandwidthGBps = CollectiveModel.busbwGBps(kind, bytes: bytes, time: t, ranks: ranks)
  }

  public func text() -> String {
    "\(kind) of \(Int64(bytes)) B on \(ranks) ranks: \(TextFormat.fixed(durationNs.microseconds, 2)) µs, "
      + "algbw \(TextFormat.fixed(algBandwidthGBps, 2)) GB/s, busbw \(TextFormat.fixed(busBandwidthGBps, 2)) GB/s"
  }
}

/// Training memory per GPU (`reprise model memory`, schema `reprise.memory/v1`).
public struct MemoryEstimate: JSONContract, Equatable {
  public static let schemaName = "reprise.memory"
  public static let schemaVersion = 1

  public private(set) var schema = Self.schema
  public var model: String
  public var parameters: Int64
  public var modelStateBytes: Double
  public var activationBytes: Double
  public var totalBytes: Double
  /// The configuration, for the text (not in the JSON).
  public var configuration = ""
  public var layers = 0
  /// Pipeline stages, for the text (not in the JSON).
  public var stages = 1

  enum CodingKeys: String, CodingKey { case schema, model, parameters, modelStateBytes, activationBytes, totalBytes }

  public init(_ m: ModelMemory) {
    model = m.model.name
    parameters = m.parameters
    modelStateBytes = m.modelStateBytes
    activationBytes = m.activationBytes
    totalBytes = modelStateBytes + activationBytes
    configuration =
      "TP \(m.tensorParallel), PP \(m.pipelineParallel), CP \(m.contextParallel), DP \(m.dataParallel), "
      + "ZeRO-\(m.zeroStage), s=\(m.sequence), b=\(m.microBatch), "
      + "activations \(m.activations.rawValue)"
    layers = m.model.layers
    stages = m.pipelineParallel
  }

  public func text() -> String {
    [
      "\(model), \(configuration)",
      "  model states  \(TextFormat.gib(modelStateBytes)) GiB per GPU (weights, gradients, Adam states; 16 B/param "
        + "before sharding)",
      "  activations   \(TextFormat.gib(activationBytes)) GiB per GPU (all \(layers) layers"
        + (stages > 1
          ? "' worth: 1F1B's first stage holds \(stages) micro-batches of \(layers / stages) layers)" : ")"),
      "  total         \(TextFormat.gib(totalBytes)) GiB",
    ].joined(separator: "\n")
  }
}

/// Long-context serving at peak numbers after Fu 2024 (`reprise model longctx`, schema
/// `reprise.longctx/v1`): prefill, decode, concurrency, context switch. The JSON carries the
/// bandwidth and peak used, so every field can be re-derived.
public struct LongContextReport: JSONContract, Equatable {
  public static let schemaName = "reprise.longctx"
  public static let schemaVersion = 1

  public struct Prefill: Codable, Sendable, Equatable {
    public var linearFlops: Double
    public var attentionFlops: Double
    public var linearSeconds: Double
    public var seconds: Double
  }

  public struct Decode: Codable, Sendable, Equatable {
    public var secondsPerToken: Double
    public var seconds: Double
  }

  public private(set) var schema = Self.schema
  public var model: String
  public var hardware: String
  public var context: Int
  public var outputTokens: Int
  public var tp: Int
  public var parameters: Int64
  public var weightBytes: Bytes
  public var kvBytesPerToken: Int64
  public var kvBytes: Bytes
  public var prefill: Prefill
  public var decode: Decode
  public var maxConcurrentRequests: Int64
  public var contextSwitchSeconds: Double
  public var hbmBytes: Bytes
  public var pcieBytesPerSecond: Double
  public var hbmBytesPerSecond: Double
  public var peakFlopsPerSecond: Double

  /// For the text (not in the JSON).
  public var hardwareDisplayName = ""
  public var kvDtype = ""
  public var pcieGeneration = 0

  enum CodingKeys: String, CodingKey {
    case schema, model, hardware, context, outputTokens, tp, parameters, weightBytes, kvBytesPerToken, kvBytes,
      prefill, decode, maxConcurrentRequests, contextSwitchSeconds, hbmBytes, pcieBytesPerSecond, hbmBytesPerSecond,
      peakFlopsPerSecond
  }

  public init(
    _ a: LongContextAnalysis, model m: ModelSpec, hardware hw: HardwareSpec, context: Int, outputTokens: Int,
    tensorParallel tp: Int, kvDtype: String
  ) {
    model = m.name
    hardware = hw.name
    hardwareDisplayName = hw.displayName
    pcieGeneration = hw.pcie.generation
    self.kvDtype = kvDtype
    self.context = context
    self.outputTokens = outputTokens
    self.tp = tp
    parameters = a.parameters
    weightBytes = a.weightBytes
    kvBytesPerToken = Int64(a.kvBytesPerToken)
    kvBytes = a.kvBytes
    prefill = Prefill(
      linearFlops: a.prefillLinearFLOPs.rawValue, attentionFlops: a.prefillAttentionFLOPs.rawValue,
      linearSeconds: a.prefillLinear.seconds, seconds: a.prefill.seconds)
    decode = Decode(secondsPerToken: a.decodePerToken.seconds, seconds: a.decode.seconds)
    maxConcurrentRequests = a.maxConcurrentRequests
    contextSwitchSeconds = a.contextSwitch.seconds
    hbmBytes = a.hbmBytes
    pcieBytesPerSecond = a.pcieBandwidth.rawValue
    hbmBytesPerSecond = a.hbmBandwidth.rawValue
    peakFlopsPerSecond = a.peakCompute.rawValue
  }

  public func text() -> String {
    let f = TextFormat.fixed
    let decodeTotal = outputTokens > 0 ? ", \(f(decode.seconds, 3)) s for \(outputTokens) tokens" : ""
    return [
      "\(model) on \(tp)× \(hardwareDisplayName), context \(context) tokens, KV \(kvDtype)",
      "  parameters          \(parameters) (\(f(Double(weightBytes.rawValue) / 1e9, 2)) GB of weights)",
      "  KV cache            \(kvBytesPerToken) B/token, \(TextFormat.gib(Double(kvBytes.rawValue))) GiB at full context",
      "  prefill             \(f(prefill.seconds, 3)) s (linear \(f(prefill.linearSeconds, 3)) s, attention "
        + "\(f(prefill.seconds - prefill.linearSeconds, 3)) s) — compute bound",
      "  decode              \(f(decode.secondsPerToken * 1000, 3)) ms/token\(decodeTotal) — memory bound",
      "  concurrency         \(maxConcurrentRequests) requests fit in \(TextFormat.gib(Double(hbmBytes.rawValue), 1)) GiB HBM",
      "  context switch      \(f(contextSwitchSeconds, 3)) s (swap one KV out and one in over PCIe Gen\(pcieGeneration))",
    ].joined(separator: "\n")
  }
}

/// KV-cache cost by attention type, sharing, paging, capacity, swap and reuse (`reprise model
/// kvcache`, schema `reprise.kvcache/v1`). Formulas and sources: `KVCacheAnalysis`.
public struct KVCacheReport: JSONContract, Equatable {
  public static let schemaName = "reprise.kvcache"
  public static let schemaVersion = 1

  public private(set) var schema = Self.schema
  public var model: String
  public var kvDtype: String
  public var bytesPerToken: Double
  public var bytesPerTokenByAttention: [String: Double]
  public var contextTokens: Int
  public var requests: Int
  public var sharedPrefixTokens: Int
  public var bytesWithoutSharing: Bytes
  public var bytesWithSharing: Bytes
  public var blockSize: Int
  public var blocksPerRequest: Int
  public var wastedTokensPerRequest: Int
  public var fragmentation: Double
  public var sequentialPrefillAttentionFlops: FLOPs
  public var parallelPrefillAttentionFlops: FLOPs
  public var multiTurnRecomputeFlops: FLOPs
  public var multiTurnCachedFlops: FLOPs
  /// With hardware: spare HBM after the weights, and what fits in it.
  public var spareBytes: Bytes?
  public var tokensThatFit: Int64?
  public var requestsThatFit: Double?
  public var swapSecondsPerRequest: Double?

  public init(_ a: KVCacheAnalysis, model m: ModelSpec, kvDtype: String) {
    model = m.name
    self.kvDtype = kvDtype
    bytesPerToken = a.bytesPerToken
    bytesPerTokenByAttention = a.byAttention
    contextTokens = a.contextTokens
    requests = a.requests
    sharedPrefixTokens = a.sharedPrefixTokens
    bytesWithoutSharing = a.bytesWithoutSharing
    bytesWithSharing = a.bytesWithSharing
    blockSize = a.blockSize
    blocksPerRequest = a.blocksPerRequest
    wastedTokensPerRequest = a.wastedTokensPerRequest
    fragmentation = a.fragmentation
    sequentialPrefillAttentionFlops = a.sequentialPrefillAttentionFLOPs
    parallelPrefillAttentionFlops = a.parallelPrefillAttentionFLOPs
    multiTurnRecomputeFlops = a.multiTurnRecomputeFLOPs
    multiTurnCachedFlops = a.multiTurnCachedFLOPs
    spareBytes = a.spareBytes
    tokensThatFit = a.tokensThatFit
    requestsThatFit = a.requestsThatFit
    swapSecondsPerRequest = a.swapPerRequest?.seconds
  }

  public func text() -> String {
    let by = ["MHA", "GQA", "MQA", "MLA"].map { "\($0) \(Int64(bytesPerTokenByAttention[$0] ?? 0))" }
    var lines = [
      "\(model): KV cache at \(kvDtype)",
      "  bytes/token         \(Int64(bytesPerToken)) (\(by.joined(separator: ", ")))",
      "  \(requests) request(s) × \(contextTokens) tokens: \(TextFormat.gib(Double(bytesWithoutSharing.rawValue))) GiB; with a "
        + "\(sharedPrefixTokens)-token shared prefix \(TextFormat.gib(Double(bytesWithSharing.rawValue))) GiB",
      "  paging              \(blocksPerRequest) blocks of \(blockSize) per request, \(wastedTokensPerRequest) slots "
        + "unused (\(TextFormat.fixed(fragmentation * 100, 2))%)",
    ]
    if let t = tokensThatFit, let r = requestsThatFit, let s = spareBytes, let w = swapSecondsPerRequest {
      lines.append(
        "  capacity            \(t) tokens fit in \(TextFormat.gib(Double(s.rawValue))) GiB spare HBM = "
          + "\(TextFormat.fixed(r, 2)) full-length requests")
      lines.append("  swap                \(TextFormat.fixed(w * 1000, 2)) ms to move one request's KV over PCIe")
    }
    return lines.joined(separator: "\n")
  }
}

extension CollectiveKind {
  /// A collective as the command line names it (`allreduce`, `all_gather`, `reduce-scatter`,
  /// `sendrecv` or `p2p`): `.some(nil)` for point-to-point, nil for an unknown name.
  public static func parse(commandLine s: String) -> CollectiveKind?? {
    switch s.lowercased().replacingOccurrences(of: "_", with: "").replacingOccurrences(of: "-", with: "") {
    case "allreduce": .some(.allReduce)
    case "allgather": .some(.allGather)
    case "reducescatter": .some(.reduceScatter)
    case "alltoall": .some(.allToAll)
    case "broadcast": .some(.broadcast)
    case "reduce": .some(.reduce)
    case "sendrecv", "p2p": .some(nil)
    default: nil
    }
  }
}
