import CostModels
import Foundation
import Serving
import TraceModel

extension ServeReport {
  /// `serve.speculative`: TPOT' = (k·t_d + t_verify)/E, E = (1 − α^{k+1})/(1 − α) (Leviathan et
  /// al. 2023, Eq. 1); t_verify the decode iteration re-timed at k + 1 query tokens, t_d the
  /// draft's decode roofline on its device over the recorded decode's roofline efficiency.
  mutating func speculative(
    _ predictor: ServingPredictor, _ predictions: [IterationPrediction], _ scenario: ServingScenario
  ) throws {
    guard let spec = scenario.speculative, var decode else { return }
    let dec = predictions.filter { $0.profile.iteration.kind == .decode }
    var drafts: [Double] = []
    var tpots: [Double] = []
    for p in dec {
      guard let eta = predictor.decodeEfficiency(p.profile),
        let td = predictor.draftStep(
          batch: p.batch, kvLength: p.kvLength, efficiency: eta, bytes: p.profile.kvElementBytes ?? 2)
      else {
        throw ServingKnobError("--set serve.speculative: the draft cannot be costed (no compute ceiling on its device)")
      }
      drafts.append(td)
      tpots.append(spec.timePerToken(draft: td, verify: p.predicted))
    }
    let verify = Self.mean(dec.map(\.predicted))
    decode.predictedNs = Self.ns(Self.mean(tpots))
    self.decode = decode
    whatIfs.append(
      WhatIf(
        knob: "serve.speculative",
        formula:
          "TPOT = (k·t_draft + t_verify(k+1 tokens)) / E, E = (1 − α^(k+1))/(1 − α) (Leviathan et al. 2023, Eq. 1)",
        values: [
          "k": Double(spec.k), "alpha": spec.alpha, "expectedTokens": Self.round(spec.expectedTokens, 1e6),
          "draftStepNs": Self.mean(drafts).rounded(), "verifyNs": verify.rounded(),
          "tpotNs": Double(decode.predictedNs.rawValue),
        ]))
  }

  /// Fu 2024 bounds for the recorded shapes: compute-bound prefill, memory-bound decode, HBM
  /// concurrency at the final context.
  static func bounds(
    _ predictions: [IterationPrediction], model m: ModelSpec, hardware hw: HardwareSpec, scenario s: ServingScenario
  ) -> Bounds? {
    let kvDtype = DType(elementBytes: predictions.compactMap(\.profile.kvElementBytes).first ?? 2) ?? .bf16
    let weightDtype = DType(elementBytes: predictions.compactMap(\.profile.weightElementBytes).first ?? 2) ?? .bf16
    let final = predictions.map { max($0.profile.kvLength, $0.profile.queryLength) }.max() ?? 0
    guard final > 0,
      let whole = try? LongContextAnalysis.analyze(
        model: m, hardware: hw, context: final, weightDtype: weightDtype, kvDtype: kvDtype)
    else { return nil }
    var b = Bounds(
      hardware: hw.name, model: m.name, maxConcurrentRequests: whole.maxConcurrentRequests, contextTokens: final,
      weightBytes: whole.weightBytes, kvBytesPerToken: whole.kvBytesPerToken, hbmBytes: whole.hbmBytes)
    if !s.isEmpty {
      // The what-ifs' final context, KV dtype and KV kept in HBM (serve.offload=kv:F).
      let context = predictions.map { max($0.kvLength, $0.queryLength) }.max() ?? final
      let per = Transformer.kvBytesPerToken(m, bytesPerElement: s.kvDtype?.bytes ?? kvDtype.bytes)
      let resident = 1 - (s.offload?.kv ?? 0)
      let free = Double(whole.hbmBytes.rawValue) - Double(whole.weightBytes.rawValue)
      b.predictedContextTokens = context
      if resident > 0, per > 0, context > 0 {
        b.predictedMaxConcurrentRequests = Int64(max(0, (free / (Double(context) * per * resident)).rounded(.down)))
      }
    }
    let pre = predictions.filter { $0.profile.iteration.kind == .prefill }
    if let first = pre.first {
      let bound = prefillBound(m, whole, batch: first.profile.batch, prompt: first.profile.queryLength)
      let measured = mean(pre.map { Double($0.profile.iteration.duration) })
      b.prefillNs = ns(bound)
      b.prefillAchievedPct = measured > 0 ? round(bound / measured * 100, 100) : nil
    }
    let dec = predictions.filter { $0.profile.iteration.kind == .decode }
    if !dec.isEmpty {
      let bw = whole.hbmBandwidth.rawValue
      let weights = Double(whole.weightBytes.rawValue)
      let steps: [Double] = dec.map { d -> Double in
        let kv = Double(d.profile.batch * d.profile.kvLength) * whole.kvBytesPerToken
        return (weights + kv) / bw * 1e9
      }
      let bound = mean(steps)
      let measured = mean(dec.map { Double($0.profile.iteration.duration) })
      b.decodeNs = ns(bound)
      b.decodeAchievedPct = measured > 0 ? round(bound / measured * 100, 100) : nil
    }
    return b
  }

  /// The compute-bound prefill of b prompts of s tokens (ns), Fu 2024 §2 with the LM head applied
  /// to the last token only (what engines compute): 2·(N − embeddings)·b·s + 2·V·h·b linear
  /// FLOPs plus causal attention 2·L·H·d·s²·b, over the peak.
  static func prefillBound(_ m: ModelSpec, _ a: LongContextAnalysis, batch b: Int, prompt s: Int) -> Double {
    let embeddings = Double(m.vocab * m.hidden) * (m.tiedEmbeddings ? 1 : 2)
    let body = Double(Transformer.activeParameters(m)) - embeddings
    let linear = 2 * body * Double(b * s) + 2 * Double(m.vocab * m.hidden) * Double(b)
    let attention = 2 * Double(m.layers * m.heads * m.headDim) * Double(s) * Double(s) * Double(b)
    return (linear + attention) / a.peakCompute.rawValue * 1e9
  }

  /// Each knob's effect, its formula and source.
  static func whatIfs(_ s: ServingScenario, _ p: [IterationPrediction], predictor: ServingPredictor) -> [WhatIf] {
    var out: [WhatIf] = []
    let dec = p.filter { $0.profile.iteration.kind == .decode }
    let pre = p.filter { $0.profile.iteration.kind == .prefill }
    // KV bytes per token in the what-if's cache dtype.
    let recordedElement = p.first?.profile.kvElementBytes ?? 2
    let per = predictor.retimer.model.map {
      Transformer.kvBytesPerToken($0, bytesPerElement: s.kvDtype?.bytes ?? recordedElement)
    }
    let lastKV = Double(p.map(\.kvLength).max() ?? 0)
    if let n = s.context {
      var v: [String: Double] = ["contextTokens": Double(n), "finalKVLength": lastKV]
      if let per {
        v["kvBytesPerRequest"] = (lastKV * per).rounded()
      }
      out.append(
        WhatIf(
          knob: "serve.context",
          formula: "prefill query and KV length → N, decode KV length t → t − P + N; each op re-timed t·R(new)/R(old)",
          values: v))
    }
    if let n = s.batch {
      out.append(
        WhatIf(
          knob: "serve.batch", formula: "b → N in every op: decode GEMMs at M = N rows (GEMV→GEMM on the roofline)",
          values: ["batch": Double(n)]))
    }
    if let d = s.kvDtype {
      let rec = mean(dec.compactMap(\.recordedKVBytesRead))
      let new = mean(dec.compactMap(\.kvBytesRead))
      out.append(
        WhatIf(
          knob: "serve.kv-dtype",
          formula: "attention K/V bytes × bytes(\(d.rawValue))/bytes(recorded); FLOPs unchanged",
          values: [
            "bytesPerElement": d.bytes, "recordedBytesPerElement": p.first?.profile.kvElementBytes ?? 2,
            "kvBytesReadPerDecodeRecorded": rec.rounded(), "kvBytesReadPerDecodePredicted": new.rounded(),
          ]))
    }
    if let pref = s.prefix, let first = pre.first {
      out.append(prefix(pref, first, predictor: predictor, per: per, finalKV: Int(lastKV)))
    }
    if let swap = s.swap, let first = dec.first, let per, let hw = predictor.retimer.target ?? predictor.retimer.source
    {
      let t = predictor.swapTime(swap, kvLength: first.kvLength, bytesPerToken: per, hardware: hw)
      out.append(
        WhatIf(
          knob: "serve.swap", formula: "switch = 2·⌈T/B⌉·(α + B·κ/PCIe) every N decode iterations (FastSwitch)",
          values: [
            "every": Double(swap.every), "blockTokens": Double(swap.blockTokens), "switchNs": t.rounded(),
            "blocks": Double((first.kvLength + swap.blockTokens - 1) / swap.blockTokens),
          ]))
    }
    if let c = s.parallelEncoding {
      out.append(
        WhatIf(
          knob: "serve.parallel-encoding",
          formula: "prefill attention over C independent chunks: FLOPs ∝ Σ cᵢ² = s²/C (APE, CEPE)",
          values: ["chunks": Double(c), "attentionFLOPsRatio": round(1 / Double(c), 1e6)]))
    }
    if let o = s.offload {
      let added = mean(p.map(\.added))
      var v: [String: Double] = [
        "weightsFraction": o.weights, "kvFraction": o.kv, "addedPerIterationNs": added.rounded(),
      ]
      if o.kv > 0 { v["kvCapacityFactor"] = round(1 / (1 - o.kv), 1e6) }
      out.append(
        WhatIf(
          knob: "serve.offload",
          formula: "added = F_w·W/PCIe per iteration + F_kv·KV read/PCIe per decode (MemGPT, HeteGen; not overlapped)",
          values: v))
    }
    return out
  }

  /// `serve.prefix=P`: the prefill computes s − P new tokens per request; the prefix is computed
  /// once (batch 1, P tokens) and its KV stored once: (b − 1)·P·κ saved (BatchLLM, SCBench).
  static func prefix(
    _ pref: Int, _ first: IterationPrediction, predictor: ServingPredictor, per: Double?, finalKV: Int
  ) -> WhatIf {
    let p = first.profile
    // The prefix alone: one request, P queries over P keys, the cache in the what-if's dtype.
    var once = ShapeChange()
    once.batch = 1 / Double(max(p.batch, 1))
    once.query = Double(pref) / Double(max(p.queryLength, 1))
    once.kv = Double(pref) / Double(max(p.kvLength, 1))
    if let d = predictor.scenario.kvDtype { once.kvBytes = d.bytes / (p.kvElementBytes ?? 2) }
    let onceNs = predictor.predict(p, once).predicted
    var v: [String: Double] = [
      "prefixTokens": Double(pref), "prefillNs": first.predicted.rounded(), "prefixOnceNs": onceNs.rounded(),
    ]
    if let per {
      let g = Double(max(0, finalKV - first.queryLength - pref))
      v["kvBytesSaved"] = (Double(first.batch - 1) * Double(pref) * per).rounded()
      if let hw = predictor.retimer.target ?? predictor.retimer.source, let m = predictor.retimer.model {
        let free = Double(hw.hbmBytes.rawValue) - Double(Transformer.parameters(m)) * (p.weightElementBytes ?? 2)
        let s = Double(first.queryLength + pref)
        if s + g > 0 { v["maxConcurrencyWithout"] = max(0, (free / ((s + g) * per)).rounded(.down)) }
        if s - Double(pref) + g > 0 {
          v["maxConcurrencyWith"] = max(
            0, ((free - Double(pref) * per) / ((s - Double(pref) + g) * per)).rounded(.down))
        }
      }
    }
    return WhatIf(
      knob: "serve.prefix",
      formula: "prefill of s − P new tokens per request (KV length s); prefix KV stored once: P + b(s − P + g) tokens",
      values: v)
  }
}
