import CostModels
import Foundation
import TraceModel

/// One iteration measured and predicted.
public struct IterationPrediction: Sendable, Equatable {
  public var profile: IterationProfile
  /// Predicted ns, and its parts: work re-timed through the roofline, work scaled with the
  /// tokens, time kept as measured, and what a knob adds (swap, offload transfers).
  public var predicted: Double
  public var retimed: Double
  public var scaled: Double
  public var kept: Double
  public var added: Double
  /// Predicted ns by category (kept time and additions count as other).
  public var attention: Double
  public var linear: Double
  /// The part whose time a model changed (ns, predicted): the interval is built on it.
  public var changed: Double
  /// Predicted shapes.
  public var batch: Int
  public var queryLength: Int
  public var kvLength: Int
  /// K/V bytes read, recorded and predicted (nil when neither shapes nor the model give them).
  public var recordedKVBytesRead: Double?
  public var kvBytesRead: Double?
}

/// Predicts every iteration of a recorded serving trace under a scenario.
public struct ServingPredictor: Sendable {
  public var retimer: ServingRetimer
  public var scenario: ServingScenario
  /// The draft model and its device for `serve.speculative`.
  public var draft: ModelSpec?
  public var draftDevice: HardwareSpec?

  public init(
    retimer: ServingRetimer, scenario: ServingScenario, draft: ModelSpec? = nil, draftDevice: HardwareSpec? = nil
  ) {
    self.retimer = retimer
    self.scenario = scenario
    self.draft = draft
    self.draftDevice = draftDevice
  }

  /// The recorded prompt length of each rank: the query length of its first prefill.
  static func prompts(_ profiles: [IterationProfile]) -> [RankID: Int] {
    var out: [RankID: Int] = [:]
    for p in profiles where p.iteration.kind == .prefill && out[p.iteration.rank] == nil {
      out[p.iteration.rank] = p.queryLength
    }
    return out
  }

  /// KV bytes per token of the recorded cache: the model's at the recorded KV element size.
  func kvBytesPerToken(_ p: IterationProfile) -> Double? {
    guard let m = retimer.model else { return nil }
    return Transformer.kvBytesPerToken(m, bytesPerElement: p.kvElementBytes ?? 2)
  }

  /// How the scenario changes iteration `p` (its rank's prompt `prompt`, first decode KV `firstKV`).
  /// - Throws: `ServingKnobError` when a knob does not fit the trace (a prefix longer than the prompt).
  public func change(_ p: IterationProfile, prompt: Int?, firstKV: Int?) throws(ServingKnobError) -> ShapeChange {
    var c = ShapeChange()
    let kind = p.iteration.kind
    // Forward passes of unknown phase and training steps are kept as measured.
    guard kind == .prefill || kind == .decode || kind == .mixed else { return c }
    let s = Double(max(p.queryLength, 1))
    let t = Double(max(p.kvLength, 1))
    if let n = scenario.batch { c.batch = Double(n) / Double(max(p.batch, 1)) }
    var query = p.queryLength
    var kv = t
    if let n = scenario.context {
      // The KV length moves by N − P (decode-only traces: by N − the first decode's KV length).
      let shift = Double(n - (prompt ?? firstKV ?? p.kvLength))
      if kind != .decode, let prompt, p.queryLength == prompt { query = n }
      kv = max(1, t + shift)
    }
    if let pre = scenario.prefix, kind == .prefill {
      guard pre <= query else {
        throw ServingKnobError("--set serve.prefix=\(pre): longer than the prompt (\(query) tokens per request)")
      }
      query -= pre
    }
    if let chunks = scenario.parallelEncoding, kind == .prefill {
      guard chunks <= query else {
        throw ServingKnobError("--set serve.parallel-encoding=\(chunks): more chunks than prompt tokens (\(query))")
      }
      c.chunks = chunks
    }
    if let spec = scenario.speculative, kind == .decode {
      // Verification: k + 1 queries per request against the KV and the k drafted tokens.
      query = query * (spec.k + 1)
      kv += Double(spec.k)
    }
    c.query = Double(query) / s
    c.kv = kv / t
    if let d = scenario.kvDtype { c.kvBytes = d.bytes / (p.kvElementBytes ?? 2) }
    return c
  }

  /// Every iteration predicted.
  public func predict(_ profiles: [IterationProfile]) throws(ServingKnobError) -> [IterationPrediction] {
    let prompts = Self.prompts(profiles)
    var firstKV: [RankID: Int] = [:]
    for p in profiles where p.iteration.kind == .decode && firstKV[p.iteration.rank] == nil {
      firstKV[p.iteration.rank] = p.kvLength
    }
    var out: [IterationPrediction] = []
    for p in profiles {
      let c = try change(p, prompt: prompts[p.iteration.rank], firstKV: firstKV[p.iteration.rank])
      out.append(predict(p, c))
    }
    return out
  }

  /// Iteration `p` under shape change `c`, with the scenario's swap and offload time added.
  public func predict(_ p: IterationProfile, _ c: ShapeChange) -> IterationPrediction {
    var retimed = 0.0
    var scaled = 0.0
    var changed = 0.0
    var attention = 0.0
    var linear = 0.0
    for item in p.items {
      let t = retimer.retime(item, c, batch: p.batch, query: p.queryLength, kv: p.kvLength)
      if item.category == .attention { attention += t }
      if item.category == .linear { linear += t }
      if item.sized || (retimer.model != nil && item.category != .other) { retimed += t } else { scaled += t }
      if t != item.duration { changed += t }
    }
    let b = Int((Double(p.batch) * c.batch).rounded())
    let s = Int((Double(p.queryLength) * c.query).rounded())
    let kvLen = Int((Double(p.kvLength) * c.kv).rounded())
    var kvRead: Double? = p.kvBytesRead.map { $0 * c.batch * c.kv * c.kvBytes }
    if kvRead == nil, let per = kvBytesPerToken(p), p.kvLength > 0 {
      kvRead = per * Double(b * kvLen) * c.kvBytes
    }
    var recordedKV = p.kvBytesRead
    if recordedKV == nil, let per = kvBytesPerToken(p), p.kvLength > 0 {
      recordedKV = per * Double(p.batch * p.kvLength)
    }
    var added = 0.0
    let device = retimer.target ?? retimer.source
    if let off = scenario.offload, let hw = device, let m = retimer.model {
      let pcie = hw.pcieBandwidth.rawValue
      let weights = Double(Transformer.parameters(m)) * (p.weightElementBytes ?? 2)
      added += off.weights * weights / pcie
      if p.iteration.kind != .prefill, let kv = kvRead { added += off.kv * kv / pcie }
      added *= 1e9
    }
    if let swap = scenario.swap, p.iteration.kind == .decode, let hw = device, let per = kvBytesPerToken(p) {
      added += swapTime(swap, kvLength: kvLen, bytesPerToken: per * c.kvBytes, hardware: hw) / Double(swap.every)
    }
    changed += added
    return IterationPrediction(
      profile: p, predicted: retimed + scaled + p.kept + added, retimed: retimed, scaled: scaled, kept: p.kept,
      added: added, attention: attention, linear: linear, changed: changed, batch: b, queryLength: s, kvLength: kvLen,
      recordedKVBytesRead: recordedKV,
      kvBytesRead: kvRead)
  }

  /// One context switch (FastSwitch, arXiv 2411.18424, §2.2): one request's KV out and another's in,
  /// block by block: 2·⌈T/B⌉·(α + B·κ/PCIe), α the device's per-copy (launch) overhead. ns.
  public func swapTime(_ swap: ServingScenario.Swap, kvLength: Int, bytesPerToken: Double, hardware hw: HardwareSpec)
    -> Double
  {
    let blocks = Double((kvLength + swap.blockTokens - 1) / swap.blockTokens)
    let perBlock =
      Double(hw.launchOverhead.rawValue) / 1e9 + Double(swap.blockTokens) * bytesPerToken / hw.pcieBandwidth.rawValue
    return 2 * blocks * perBlock * 1e9
  }

  /// The draft model's decode step on its device (ns): its roofline time at the iteration's batch
  /// and KV length divided by the recorded decode's roofline efficiency `efficiency`.
  public func draftStep(batch b: Int, kvLength t: Int, efficiency: Double, bytes e: Double) -> Double? {
    guard let d = draft, let hw = draftDevice ?? retimer.target ?? retimer.source, efficiency > 0 else { return nil }
    guard let s = ServingRetimer.seconds(Self.decodeCost(d, batch: b, kvLength: t, bytes: e), hw) else { return nil }
    return s / efficiency * 1e9
  }

  /// One decode step of model `m` with `e`-byte weights and KV: 2·N·b FLOPs plus attention
  /// 4·L·H·d·b·t; bytes: the weights once plus b·t KV tokens (Fu 2024 §3).
  static func decodeCost(_ m: ModelSpec, batch b: Int, kvLength t: Int, bytes e: Double) -> ServingRetimer.Cost {
    let n = Double(Transformer.activeParameters(m))
    let flops = 2 * n * Double(b) + 4 * Double(m.layers * m.heads * m.headDim) * Double(b * t)
    let bytes =
      e * Double(Transformer.parameters(m)) + Transformer.kvBytesPerToken(m, bytesPerElement: e) * Double(b * t)
    return ServingRetimer.Cost(flops: flops, bytes: bytes, dtype: DType(elementBytes: e), compute: true)
  }

  /// The recorded decode's roofline efficiency: the model's decode roofline time / measured.
  public func decodeEfficiency(_ p: IterationProfile) -> Double? {
    guard let m = retimer.model, let hw = retimer.source ?? retimer.target, p.iteration.duration > 0,
      let s = ServingRetimer.seconds(
        Self.decodeCost(m, batch: p.batch, kvLength: p.kvLength, bytes: p.kvElementBytes ?? 2), hw)
    else { return nil }
    return s * 1e9 / Double(p.iteration.duration)
  }
}
