import CostModels
import Foundation
import Parallel
import Replay
import Schedules
import TraceModel

/// The enumeration behind `reprise plan`: layouts of N devices, their schedules and micro-batch
/// counts, each checked for memory first and then predicted (docs/models/parallel.md).
struct PlanSearch {
  /// A candidate that was predicted and fits (or whose memory could not be checked).
  struct Found {
    var prediction: ParallelPrediction
    var memory: ParallelWhatIf.Memory?
    var name: String

    /// Faster first; ties: fewer pipeline stages, then the name.
    static func precedes(_ a: Found, _ b: Found) -> Bool {
      (a.prediction.stepNs.rawValue, a.prediction.layout.pp, a.name)
        < (b.prediction.stepNs.rawValue, b.prediction.layout.pp, b.name)
    }
  }

  let study: ParallelStudy
  let request: PlanRequest
  /// The global batch every plan runs.
  let global: Int
  private(set) var counts = ParallelPlan.Counts(
    layouts: 0, layoutsRefused: 0, enumerated: 0, predicted: 0, infeasibleByMemory: 0, largestOverBytes: .zero,
    largestOver: nil, refused: 0, refusedByReason: [])
  /// Why the memory is not checked, when it is not.
  private(set) var memoryNote: String?
  /// Peak in-flight micro-batches per (schedule, stages, micro-batches): a schedule simulation
  /// each, shared by every (dp, tp, cp) with the same pipeline.
  private var inFlight: [String: Double] = [:]

  init(study: ParallelStudy, request: PlanRequest) {
    self.study = study
    self.request = request
    global = request.globalBatch ?? study.predictor.recordedGlobalBatch
  }

  /// Every (dp, tp, pp, cp) with dp·tp·pp·cp = n, in order of dp, then tp, then pp.
  static func layouts(_ n: Int) -> [ParallelLayout] {
    func divisors(_ x: Int) -> [Int] { (1...max(1, x)).filter { x % $0 == 0 } }
    var out: [ParallelLayout] = []
    for dp in divisors(n) {
      for tp in divisors(n / dp) {
        for pp in divisors(n / dp / tp) { out.append(ParallelLayout(dp: dp, tp: tp, pp: pp, cp: n / dp / tp / pp)) }
      }
    }
    return out
  }

  /// The micro-batch counts tried for `pp` stages and `perReplica` sequences per replica.
  static func microbatches(pp: Int, perReplica b: Int) -> [Int] {
    let candidates = [pp, 2 * pp, 4 * pp, 8 * pp, b]
    return Array(Set(candidates.filter { $0 >= pp && $0 >= 1 && b % $0 == 0 })).sorted()
  }

  /// Searches; returns the plans that were predicted and fit.
  mutating func run() -> [Found] {
    let layouts = Self.layouts(request.gpus)
    counts.layouts = layouts.count
    var found: [Found] = []
    for l in layouts {
      if let why = structural(l) {
        counts.layoutsRefused += 1
        refuse(level: "layout", reason: why, example: l.description)
        continue
      }
      let ms = Self.microbatches(pp: l.pp, perReplica: global / l.dp)
      if ms.isEmpty {
        counts.layoutsRefused += 1
        refuse(
          level: "layout", reason: "the per-replica batch \(global / l.dp) is smaller than pp=\(l.pp)",
          example: l.description)
        continue
      }
      for schedule in l.pp > 1 ? request.schedules : ["none"] {
        for m in ms {
          counts.enumerated += 1
          if let f = candidate(l, schedule: schedule, microbatches: m) { found.append(f) }
        }
      }
    }
    counts.predicted = found.count
    counts.refusedByReason.sort { ($0.level, -$0.count, $0.reason) < ($1.level, -$1.count, $1.reason) }
    return found
  }

  /// Why layout `l` cannot be predicted at all (the predictor's own rules, checked before the
  /// memory so that a layout it would refuse is not counted as infeasible), nil when it can.
  func structural(_ l: ParallelLayout) -> String? {
    let model = study.predictor
    let r = model.recorded
    guard let d = model.dims else {
      if l.tp != r.tp || l.cp != r.cp {
        return "tp and cp stay as recorded (tp=\(r.tp), cp=\(r.cp)): the shapes show no transformer layers"
      }
      return global % l.dp == 0 ? nil : "the global batch \(global) does not split over dp=\(l.dp)"
    }
    // The predicted model's heads and layers (`--model`), else the recorded ones.
    let (heads, layers) = (model.targetHeads, model.targetLayers > 0 ? model.targetLayers : d.layers)
    if l.tp != r.tp, heads > 0, heads % l.tp != 0 {
      return "tp=\(l.tp) does not divide the \(heads) attention heads"
    }
    if l.cp != r.cp, d.sequence % l.cp != 0 { return "cp=\(l.cp) does not divide the sequence length \(d.sequence)" }
    if l.pp > max(1, layers) { return "pp=\(l.pp) exceeds the model's \(layers) layers" }
    if global % l.dp != 0 { return "the global batch \(global) does not split over dp=\(l.dp)" }
    return nil
  }

  /// One candidate: memory first, then the prediction; nil when it does not fit or is refused
  /// (counted either way).
  mutating func candidate(_ l: ParallelLayout, schedule: String, microbatches m: Int) -> Found? {
    let name = "\(l) \(l.pp > 1 ? schedule + " " : "")m=\(m)"
    let options = ParallelOptions(
      schedule: l.pp > 1 ? schedule : nil, microbatches: m, globalBatch: request.globalBatch,
      zeroStage: request.zeroStage, training: true)
    let memory: ParallelWhatIf.Memory?
    do {
      memory = try self.memory(l, schedule: schedule, microbatches: m, size: global / l.dp / m, options: options)
    } catch {
      refuse(level: "candidate", reason: "\(error)", example: name)
      return nil
    }
    if let memory, !memory.fits {
      counts.infeasibleByMemory += 1
      if memory.overBytes > counts.largestOverBytes || counts.largestOver == nil {
        (counts.largestOverBytes, counts.largestOver) = (memory.overBytes, name)
      }
      return nil
    }
    do {
      let p = try study.predictor.predict(l, options)
      return Found(prediction: p, memory: memory, name: name)
    } catch {
      refuse(level: "candidate", reason: "\(error)", example: name)
      return nil
    }
  }

  /// `ParallelStudy.memory` of a candidate before it is predicted, with the schedule's
  /// in-flight micro-batches simulated once per (schedule, pp, m).
  mutating func memory(
    _ l: ParallelLayout, schedule: String, microbatches m: Int, size: Int, options: ParallelOptions
  ) throws -> ParallelWhatIf.Memory? {
    let pipe = l.pp > 1 ? schedule : "1f1b"
    func check(_ held: Double) -> ParallelWhatIf.Memory? {
      let r = study.memory(
        l, schedule: pipe, microBatchSize: size, inFlight: held, zeroStage: options.zeroStage,
        activations: request.activations)
      if let note = r.note { memoryNote = note }
      return r.memory
    }
    // Without model sizes or a device nothing is checked: no schedule to simulate either.
    if study.memoryModel == nil || study.predictor.dims == nil || study.hardware == nil { return check(0) }
    let key = "\(pipe) \(l.pp) \(m)"
    let held: Double
    if let cached = inFlight[key] {
      held = cached
    } else {
      held = try ModelMemory.inFlight(schedule: pipe, stages: l.pp, microbatches: m, chunks: options.chunks)
      inFlight[key] = held
    }
    return check(held)
  }

  /// Counts a refusal under its reason with the numbers replaced by N.
  mutating func refuse(level: String, reason: String, example: String) {
    if level == "candidate" { counts.refused += 1 }
    let key = Self.normalized(reason)
    if let i = counts.refusedByReason.firstIndex(where: { $0.level == level && $0.reason == key }) {
      counts.refusedByReason[i].count += 1
    } else {
      counts.refusedByReason.append(
        ParallelPlan.Refusal(level: level, reason: key, count: 1, example: "\(example): \(reason)"))
    }
  }

  /// `reason` with every run of digits replaced by `N`.
  static func normalized(_ reason: String) -> String {
    var out = ""
    var inNumber = false
    for c in reason {
      if c.isASCII && c.isNumber {
        if !inNumber { out.append("N") }
        inNumber = true
      } else {
        out.append(c)
        inNumber = false
      }
    }
    return out
  }
}
