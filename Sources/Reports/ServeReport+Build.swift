import CostModels
import Foundation
import Serving
import TraceImport
import TraceModel

/// What `reprise serve` was asked.
public struct ServeRequest: Sendable {
  public var model: String?
  public var hardware: String?
  public var from: String?
  public var knobs: [String]
  /// CUDA-graph capture traces, ingested, and their file names: the one whose captured launches
  /// match the replayed kernels in number is used (vLLM writes one per captured batch size).
  public var captures: [(graph: EventGraph, file: String)]
  public init(
    model: String? = nil, hardware: String? = nil, from: String? = nil, knobs: [String] = [],
    captures: [(graph: EventGraph, file: String)] = []
  ) {
    self.model = model
    self.hardware = hardware
    self.from = from
    self.knobs = knobs
    self.captures = captures
  }
}

extension ServeRequest {
  /// The traces to analyse and the capture traces: `capture` when given, else the traces under a
  /// `capture_traces/` folder of a given directory (TraceLens's layout), which are then not ranks
  /// (nor is their `execution_details.json`, never read as a trace).
  public static func splitCapture(_ paths: [String], capture: String?) throws -> ([String], [String]) {
    if let capture { return (paths, [capture]) }
    var rest: [String] = []
    var found: [String] = []
    for p in paths {
      var isDir: ObjCBool = false
      guard FileManager.default.fileExists(atPath: p, isDirectory: &isDir), isDir.boolValue else {
        rest.append(p)
        continue
      }
      let files = try Ingest.expand([p])
      let sidecar = files.filter { $0.contains("/capture_traces/") }
      found += sidecar.filter { !$0.hasSuffix("/execution_details.json") }
      rest.append(contentsOf: files.filter { !sidecar.contains($0) })
    }
    return (rest, found)
  }
}

extension ServeReport {
  /// The interval's half-width: this % of the part the models changed (docs/models/serving.md).
  public static let modelErrorPct = 15.0

  /// Analyses `graph` (a serving trace).
  /// - Throws: `ServingKnobError` for a knob that is malformed or does not fit the trace,
  ///   `SpecError` for unknown specs.
  public init(graph: EventGraph, trace: String, request r: ServeRequest, specs: SpecLibrary) throws {
    let scenario = try ServingScenario.parse(r.knobs)
    let model = try r.model.map { try specs.model($0) }
    let detected = try specs.detectHardware(graph)
    let source = try r.from.map { try specs.hardware($0) } ?? detected ?? r.hardware.map { try specs.hardware($0) }
    let target = try r.hardware.map { try specs.hardware($0) } ?? source
    var notes: [String] = []
    var capture: Capture? = nil
    var captured: [EventID: CapturedOp] = [:]
    // The capture whose launches match the replayed kernels in number, else the first.
    let graphs = r.captures.map { c -> (GraphCapture, String) in
      var g = GraphCapture(capture: c.graph)
      g.apply(to: graph)
      return (g, c.file)
    }
    if let (g, file) = graphs.first(where: { $0.0.ops.count == $0.0.replayed }) ?? graphs.first {
      captured = g.map
      capture = Capture(
        file: file, capturedLaunches: g.ops.count, replayedKernels: g.replayed, mappedKernels: g.mapped)
      if g.ops.count != g.replayed {
        notes.append(
          "graph capture: \(g.ops.count) captured launches vs \(g.replayed) replayed kernels; \(g.mapped) mapped by position"
        )
      }
      if graphs.count > 1 {
        notes.append("graph capture: \(file) of \(graphs.count) capture traces matches the replay")
      }
    }
    var draft: ModelSpec? = nil
    var draftDevice: HardwareSpec? = nil
    if let spec = scenario.speculative {
      guard model != nil else { throw ServingKnobError("--set serve.speculative needs --model (the target model)") }
      draft = try specs.model(spec.draft)
      draftDevice = try spec.device.map { try specs.hardware($0) }
    }
    if scenario.speculative != nil, source == nil && target == nil {
      throw ServingKnobError(
        "--set serve.speculative needs a hardware spec (--hardware, or --from for the recorded device)")
    }
    if scenario.offload != nil || scenario.swap != nil, model == nil || target == nil {
      throw ServingKnobError("--set serve.offload and serve.swap need --model and a hardware spec (--hardware)")
    }
    let retimer = ServingRetimer(source: source, target: target, model: model)
    let predictor = ServingPredictor(retimer: retimer, scenario: scenario, draft: draft, draftDevice: draftDevice)
    let iterations = IterationFinder(graph).iterations()
    let profiles = ProfileBuilder(graph, captured: captured).profiles(iterations)
    let predictions = try predictor.predict(profiles)
    if let source, let target, source != target {
      notes.append("re-timed from \(source.name) to \(target.name): host time and unsized work kept as measured")
    }
    if source == nil {
      notes.append("no hardware spec: ratios of FLOPs (GEMM, attention) or bytes replace the roofline")
    } else if detected == nil && r.from == nil, let source {
      notes.append("the trace names no device: taken as recorded on \(source.name) (--from names the recorded device)")
    }
    self.init(
      trace: trace, model: model?.name, hardware: target?.name, recordedHardware: source?.name, knobs: scenario.knobs,
      iterations: [], prefill: nil, decode: nil, otherPhases: [],
      measured: Latency(), predicted: Latency(),
      trust: Trust(
        identityErrorPct: 0, retimedShare: 0, scaledShare: 0, keptShare: 0, modelErrorPct: Self.modelErrorPct),
      bounds: nil, whatIfs: [], graphCapture: capture, notes: notes)
    iterationRows(predictions, modeled: model != nil)
    phases(predictions)
    try speculative(predictor, predictions, scenario)
    latencies(predictions)
    if let model, let target { bounds = Self.bounds(predictions, model: model, hardware: target, scenario: scenario) }
    for (phase, pct) in [("prefill", bounds?.prefillAchievedPct), ("decode", bounds?.decodeAchievedPct)] {
      if let pct, pct > 100 {
        self.notes.append(
          "the measured \(phase) beats its bound (\(pct) %): the hardware spec's peak is below what this run reached")
      }
    }
    whatIfs = Self.whatIfs(scenario, predictions, predictor: predictor) + whatIfs
    if iterations.isEmpty { self.notes.append("no iterations: the trace has no host events") }
    let training = predictions.filter { $0.profile.iteration.kind == .training }.count
    if training > 0 {
      self.notes.append(
        "\(training) iteration(s) have a backward pass: a training trace, kept as measured (whatif --parallel predicts training)"
      )
    }
    self.notes += Self.knobNotes(scenario, profiles, predictor)
  }

  /// A note for each knob that matches no iteration of the phase it changes, or that changes no
  /// time on its own (the work it re-sizes is bound the same way on the roofline).
  static func knobNotes(_ scenario: ServingScenario, _ profiles: [IterationProfile], _ predictor: ServingPredictor)
    -> [String]
  {
    let kinds = Set(profiles.map(\.iteration.kind))
    var notes: [String] = []
    for knob in scenario.knobs {
      let key = String(knob.prefix { $0 != "=" })
      let phases: [IterationKind] =
        ["serve.prefix", "serve.parallel-encoding"].contains(key)
        ? [.prefill] : ["serve.swap", "serve.speculative"].contains(key) ? [.decode] : [.prefill, .decode, .mixed]
      guard phases.contains(where: kinds.contains) else {
        let names = phases.map(\.rawValue).joined(separator: ", ")
        notes.append("\(knob) matches nothing: no \(names) iteration (the others are kept as measured)")
        continue
      }
      guard key != "serve.speculative", let alone = try? ServingScenario.parse([knob]) else { continue }
      var single = predictor
      single.scenario = alone
      if let p = try? single.predict(profiles),
        p.allSatisfy({ abs($0.predicted - Double($0.profile.iteration.duration)) < 1 })
      {
        notes.append("\(knob) changes no time: the work it re-sizes is bound the same way on the roofline")
      }
    }
    return notes
  }

  mutating func iterationRows(_ predictions: [IterationPrediction], modeled: Bool) {
    iterations = predictions.enumerated().map { i, p in
      let it = p.profile.iteration
      return Iteration(
        index: i, rank: Int(it.rank.rawValue), kind: it.kind.rawValue, source: it.source.rawValue, name: it.name,
        startNs: Nanoseconds(it.start), durationNs: Nanoseconds(it.duration),
        predictedNs: Nanoseconds(Int64(p.predicted.rounded())), tokens: it.tokens, batch: it.batch,
        queryLength: it.queryLength, kvLength: it.kvLength,
        attentionNs: Nanoseconds(Int64(p.profile.time(.attention).rounded())),
        linearNs: Nanoseconds(Int64(p.profile.time(.linear).rounded())),
        otherNs: Nanoseconds(Int64(p.profile.time(.other).rounded())),
        kvBytesRead: p.recordedKVBytesRead.map { Bytes(rounding: $0) }, predictedAttentionNs: Self.ns(p.attention),
        predictedLinearNs: Self.ns(p.linear), predictedOtherNs: Self.ns(p.predicted - p.attention - p.linear),
        predictedKVBytesRead: p.kvBytesRead.map { Bytes(rounding: $0) })
    }
    let total = predictions.reduce(0.0) { $0 + Double($1.profile.iteration.duration) }
    guard total > 0 else { return }
    var retimed = 0.0
    var scaled = 0.0
    for p in predictions {
      for item in p.profile.items {
        if item.sized || (modeled && item.category != .other) {
          retimed += item.duration
        } else {
          scaled += item.duration
        }
      }
    }
    // Work overlapping on several streams can exceed the iterations' time: shares of the larger.
    let whole = max(total, retimed + scaled)
    trust.retimedShare = Self.round(retimed / whole)
    trust.scaledShare = Self.round(scaled / whole)
    trust.keptShare = Self.round(max(0, 1 - (retimed + scaled) / whole))
  }

  static func round(_ v: Double, _ digits: Double = 1e4) -> Double { (v * digits).rounded() / digits }
  static func mean(_ v: [Double]) -> Double { v.isEmpty ? 0 : v.reduce(0, +) / Double(v.count) }
  static func ns(_ v: Double) -> Nanoseconds { Nanoseconds(Int64(v.rounded())) }

  mutating func phases(_ predictions: [IterationPrediction]) {
    let pre = predictions.filter { $0.profile.iteration.kind == .prefill }
    if !pre.isEmpty {
      prefill = Prefill(
        count: pre.count, tokens: Int(Self.mean(pre.map { Double($0.profile.iteration.tokens ?? 0) }).rounded()),
        batch: Int(Self.mean(pre.map { Double($0.profile.batch) }).rounded()),
        measuredNs: Self.ns(Self.mean(pre.map { Double($0.profile.iteration.duration) })),
        predictedNs: Self.ns(Self.mean(pre.map(\.predicted))))
    }
    let dec = predictions.filter { $0.profile.iteration.kind == .decode }
    if !dec.isEmpty {
      decode = Decode(
        count: dec.count, batch: Int(Self.mean(dec.map { Double($0.profile.batch) }).rounded()),
        kvLength: Int(Self.mean(dec.map { Double($0.profile.kvLength) }).rounded()),
        measuredNs: Self.ns(Self.mean(dec.map { Double($0.profile.iteration.duration) })),
        predictedNs: Self.ns(Self.mean(dec.map(\.predicted))))
    }
    for kind in [IterationKind.mixed, .forward, .training] {
      let its = predictions.filter { $0.profile.iteration.kind == kind }
      guard !its.isEmpty else { continue }
      otherPhases.append(
        OtherPhase(
          kind: kind.rawValue, count: its.count,
          measuredNs: Self.ns(Self.mean(its.map { Double($0.profile.iteration.duration) })),
          predictedNs: Self.ns(Self.mean(its.map(\.predicted)))))
    }
  }

  mutating func latencies(_ predictions: [IterationPrediction]) {
    let dec = predictions.filter { $0.profile.iteration.kind == .decode }
    let pre = predictions.filter { $0.profile.iteration.kind == .prefill }
    let d = Double(dec.count) / Double(max(1, pre.count))
    let served = dec.isEmpty ? pre : dec
    let b = Self.mean(served.map { Double($0.profile.batch) })
    let bPredicted = Self.mean(served.map { Double($0.batch) })
    func latency(_ ttft: Nanoseconds?, _ tpot: Nanoseconds?, batch b: Double) -> Latency {
      var l = Latency(ttftNs: ttft, tpotNs: tpot)
      if let ttft, let tpot {
        let total = Double(ttft.rawValue) + d * Double(tpot.rawValue)
        l.tokensPerSecond = total > 0 ? Self.round(b * (1 + d) / total * 1e9, 1e3) : nil
      } else if let tpot, tpot.rawValue > 0 {
        l.tokensPerSecond = Self.round(b / Double(tpot.rawValue) * 1e9, 1e3)
      }
      return l
    }
    measured = latency(prefill?.measuredNs, decode?.measuredNs, batch: b)
    predicted = latency(prefill?.predictedNs, decode?.predictedNs, batch: bPredicted)
    func interval(_ its: [IterationPrediction], _ value: Nanoseconds?) -> Interval? {
      guard let value, !its.isEmpty else { return nil }
      let half = Self.mean(its.map(\.changed)) * Self.modelErrorPct / 100
      return Interval(lowNs: Self.ns(Double(value.rawValue) - half), highNs: Self.ns(Double(value.rawValue) + half))
    }
    trust.ttft = interval(pre, predicted.ttftNs)
    trust.tpot = interval(dec, predicted.tpotNs)
  }
}
