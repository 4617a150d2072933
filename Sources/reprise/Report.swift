import Analysis
import CostModels
import Foundation
import Rendering
import Replay
import TraceImport
import TraceModel

/// Rows with named columns: one source for a report section's JSON array and its CSV file.
struct Table {
  var columns: [String]
  var rows: [[JSONDocument]] = []

  init(_ columns: [String]) { self.columns = columns }

  mutating func add(_ values: [JSONDocument]) {
    precondition(values.count == columns.count, "row has \(values.count) values for \(columns.count) columns")
    rows.append(values)
  }

  func json() -> JSONDocument {
    .array(rows.map { .object(Dictionary(uniqueKeysWithValues: zip(columns, $0))) })
  }

  /// RFC 4180 CSV with a header row; null is an empty field.
  func csv() -> String {
    func field(_ v: JSONDocument) -> String {
      switch v {
      case .int(let i): return String(i)
      case .double(let d): return d.isFinite ? String(format: "%.12g", d) : ""
      case .bool(let b): return b ? "true" : "false"
      case .null: return ""
      case .string(let s):
        return s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
          ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
      case .object, .array: return ""
      }
    }
    var out = columns.joined(separator: ",") + "\n"
    for r in rows { out += r.map(field).joined(separator: ",") + "\n" }
    return out
  }
}

/// The measured (and optionally what-if) analyses of one run, as `reprise.report/v1`.
struct Report {
  var document: JSONDocument
  /// CSV name (without .csv) → table, one per section.
  var tables: [(String, Table)]

  struct Options {
    var scenario: Scenario?
    var linkGBps: Double?
    var hardware: HardwareSpec?
    var modelMemory: ModelMemory?
  }

  /// Modeled training memory per GPU for a model spec (docs/models/memory.md).
  struct ModelMemory {
    var model: ModelSpec
    var sequence: Int
    var microBatch: Int
    var tensorParallel: Int
    var dataParallel: Int
    var zero: Int

    func json() -> JSONDocument {
      let psiTotal = Transformer.parameters(model)
      let psi = Double(psiTotal) / Double(tensorParallel)
      let states = Transformer.zeroBytes(parameters: psi, dataParallel: Double(dataParallel), stage: zero)
      let dp = Double(dataParallel)
      // Mixed-precision Adam (ZeRO §3.1): 2Ψ fp16 weights, 2Ψ fp16 gradients, 12Ψ fp32 optimizer
      // state; stage 1 shards the optimizer, 2 also gradients, 3 also weights.
      let weights = 2 * psi / (zero >= 3 ? dp : 1)
      let grads = 2 * psi / (zero >= 2 ? dp : 1)
      let optimizer = 12 * psi / (zero >= 1 ? dp : 1)
      let act = Transformer.activationBytesPerLayer(sequence: Double(sequence), microBatch: Double(microBatch), hidden: Double(model.hidden),
                                                    heads: Double(model.heads), tensorParallel: Double(tensorParallel),
                                                    config: .tensorSequenceSelective) * Double(model.layers)
      return .object([
        "model": .string(model.name), "parameters": .int(psiTotal), "sequence": .int(sequence), "microBatch": .int(microBatch),
        "tensorParallel": .int(tensorParallel), "dataParallel": .int(dataParallel), "zeroStage": .int(zero),
        "weightBytes": .double(weights), "gradientBytes": .double(grads), "optimizerBytes": .double(optimizer),
        "modelStateBytes": .double(states), "activationBytes": .double(act), "kvCacheBytes": .null,
        "totalBytes": .double(states + act),
      ])
    }
  }

  /// Memory samples kept per device in the JSON and CSV (evenly spaced, the peak always kept).
  static let maxMemorySamples = 2000

  static func laneName(_ g: EventGraph, _ l: Int) -> String {
    l < 0 ? "device (all streams)" : g.strings[g.lanes[l].name]
  }

  init(_ result: IngestResult, inputs: [String], options: Options) throws {
    let g = result.graph
    let measured = Timeline(measured: g)
    var doc: [String: JSONDocument] = ["schema": .string("reprise.report/v1")]
    var tables: [(String, Table)] = []
    func opt(_ v: Double?) -> JSONDocument { v.map { .double($0) } ?? .null }
    func opt(_ v: Int?) -> JSONDocument { v.map { .int($0) } ?? .null }

    // Breakdown (inside steps when the ranks have them, else device span).
    let window: TemporalBreakdown.Window = g.steps.isEmpty ? .deviceSpan : .steps
    let breakdown = TemporalBreakdown(g, timeline: measured, window: window)
    var bt = Table(["rank", "spanStartNs", "spanNs", "computeNs", "communicationNs", "overlappedCommunicationNs", "exposedCommunicationNs",
                    "memoryNs", "exposedMemoryNs", "idleNs", "nonComputeNs", "overlapRatio", "computeEvents", "communicationEvents", "memoryEvents"])
    for r in breakdown.ranks {
      bt.add([.int(r.rank), .int(r.spanStartNs), .int(r.spanNs), .int(r.computeNs), .int(r.communicationNs), .int(r.overlappedCommunicationNs),
              .int(r.exposedCommunicationNs), .int(r.memoryNs), .int(r.exposedMemoryNs), .int(r.idleNs), .int(r.nonComputeNs),
              opt(r.overlapRatio), .int(r.computeEvents), .int(r.communicationEvents), .int(r.memoryEvents)])
    }
    doc["breakdown"] = .object(["window": .string(window.rawValue), "ranks": bt.json()])
    tables.append(("breakdown", bt))

    // Bubbles.
    let bubbles = BubbleAnalysis(g, timeline: measured)
    let causes = BubbleAnalysis.Cause.allCases
    var br = Table(["rank", "windowNs", "idleNs", "bubbleRatio", "computeIdleNs", "computeBubbleRatio", "laneBubbleNs", "bubbles"] + causes.map { $0.rawValue + "Ns" })
    for r in bubbles.ranks {
      br.add([.int(r.rank), .int(r.windowNs), .int(r.idleNs), .double(r.bubbleRatio), .int(r.computeIdleNs), .double(r.computeBubbleRatio), .int(r.laneBubbleNs), .int(r.bubbles)]
             + causes.map { .int(r.idleByCauseNs[$0] ?? 0) })
    }
    var bi = Table(["rank", "lane", "laneName", "startNs", "durationNs", "cause", "nextEvent"])
    for b in bubbles.rankBubbles + bubbles.laneBubbles {
      bi.add([.int(b.rank), .int(b.lane), .string(Self.laneName(g, b.lane)), .int(b.startNs), .int(b.durationNs), .string(b.cause.rawValue),
              b.nextEvent.map { .string(g.strings[g.name[$0]]) } ?? .null])
    }
    doc["bubbles"] = .object(["window": .string(bubbles.stepWindows ? "steps" : "deviceSpan"), "ranks": br.json(), "intervals": bi.json()])
    tables.append(("bubbles", bi))
    tables.append(("bubble_ranks", br))

    // Bandwidth and stragglers.
    let link = options.linkGBps ?? options.hardware?.interconnect?.GBpsPerDirection
    let bw = BandwidthAnalysis(g, timeline: measured, linkGBps: link)
    var bwt = Table(["kind", "group", "sequence", "ranks", "membersPresent", "bytes", "startNs", "durationNs", "transferNs",
                     "algBandwidthGBps", "busBandwidthGBps", "peakPct", "lastRank", "arrivalSpreadNs", "matched"])
    for i in bw.instances {
      bwt.add([.string(BandwidthAnalysis.kindName(i.kind)), .string(i.group), .int(i.sequence), .int(i.ranks), .int(i.membersPresent),
               .int(i.bytes), .int(i.startNs), .int(i.durationNs), .int(i.transferNs), .double(i.algbwGBps), .double(i.busbwGBps),
               opt(i.peakPct), .int(i.lastRank), .int(i.arrivalSpreadNs), .bool(i.matched)])
    }
    var bkt = Table(["kind", "maxBytes", "count", "bytes", "transferNs", "busBandwidthGBps", "medianBusBandwidthGBps"])
    for b in bw.buckets {
      bkt.add([.string(BandwidthAnalysis.kindName(b.kind)), .int(b.maxBytes), .int(b.count), .int(b.bytes), .int(b.transferNs),
               .double(b.busbwGBps), .double(b.medianBusbwGBps)])
    }
    doc["bandwidth"] = .object(["linkBandwidthGBps": opt(link), "unmatched": .int(bw.unmatched), "unmatchedP2P": .int(bw.unmatchedP2P),
                                "instances": bwt.json(), "buckets": bkt.json()])
    tables.append(("bandwidth", bwt))
    tables.append(("bandwidth_buckets", bkt))
    let st = StragglerAnalysis(g, timeline: measured)
    var stt = Table(["rank", "collectives", "lastCount", "lastShare", "heldOthersNs", "flagged"])
    for r in st.ranks {
      stt.add([.int(r.rank), .int(r.collectives), .int(r.lastCount), .double(r.lastShare), .int(r.heldOthersNs), .bool(r.flagged)])
    }
    doc["stragglers"] = .object(["instances": .int(st.instances), "flagged": .array(st.ranks.filter(\.flagged).map { .int($0.rank) }),
                                 "ranks": stt.json()])
    tables.append(("stragglers", stt))

    // Memory.
    let mem = MemoryTimeline(g, timeline: measured)
    var md = Table(["rank", "device", "samples", "allocations", "frees", "allocatedTotalBytes", "peakAllocatedBytes", "peakAllocatedAtNs",
                    "peakReservedBytes", "firstAllocatedBytes", "lastAllocatedBytes", "totalsReconstructed"])
    var ms = Table(["rank", "device", "timeNs", "allocatedBytes", "reservedBytes"])
    for d in mem.devices {
      md.add([.int(d.rank), .int(d.device), .int(d.samples.count), .int(d.allocations), .int(d.frees), .int(d.allocatedTotalBytes),
              .int(d.peakAllocatedBytes), .int(d.peakAllocatedAtNs), .int(d.peakReservedBytes), .int(d.firstAllocatedBytes),
              .int(d.lastAllocatedBytes), .bool(d.totalsReconstructed)])
      let stride = max(1, (d.samples.count + Self.maxMemorySamples - 1) / Self.maxMemorySamples)
      for (k, s) in d.samples.enumerated() where k % stride == 0 || k == d.samples.count - 1 || (s.timeNs == d.peakAllocatedAtNs && s.allocatedBytes == d.peakAllocatedBytes) {
        ms.add([.int(d.rank), .int(d.device), .int(s.timeNs), .int(s.allocatedBytes), .int(s.reservedBytes)])
      }
    }
    doc["memory"] = .object(["devices": md.json(), "samples": ms.json(), "maxSamplesPerDevice": .int(Self.maxMemorySamples),
                             "modeled": options.modelMemory?.json() ?? .null])
    tables.append(("memory", ms))
    tables.append(("memory_devices", md))

    // Critical path.
    let cp = CriticalPath(g, timeline: measured)
    var cpt = Table(["rank", "lane", "laneName", "event", "kind", "startNs", "durationNs", "category"])
    for s in cp.segments {
      cpt.add([.int(s.rank), .int(s.lane), .string(Self.laneName(g, s.lane)), s.event.map { .string(g.strings[g.name[$0]]) } ?? .null,
               s.event.map { .string(g.kind[$0].name) } ?? .string("wait"), .int(s.startNs), .int(s.durationNs), .string(s.category.rawValue)])
    }
    doc["criticalPath"] = .object([
      "step": opt(cp.step), "windowStartNs": .int(cp.windowStartNs), "windowEndNs": .int(cp.windowEndNs), "pathStartNs": .int(cp.pathStartNs), "pathEndNs": .int(cp.pathEndNs),
      "lengthNs": .int(cp.lengthNs), "rankChanges": .int(cp.rankChanges),
      "byCategoryNs": .object(Dictionary(uniqueKeysWithValues: CriticalPath.Category.allCases.map { ($0.rawValue, .int(cp.byCategoryNs[$0] ?? 0)) })),
      "segments": cpt.json(),
    ])
    tables.append(("critical_path", cpt))

    // What-if.
    let replay = try ReplayRun(graph: g, scenario: options.scenario)
    if let scenario = options.scenario {
      var wt = Table(["rank", "step", "measuredStepNs", "baselineStepNs", "predictedStepNs", "baselineCollectiveWaitNs", "predictedCollectiveWaitNs"])
      for (i, s) in replay.steps.enumerated() {
        wt.add([.int(Int(s.rank.rawValue)), opt(s.step), .int(s.measured.rawValue), .int(replay.baselineSteps[i].predicted.rawValue),
                .int(s.predicted.rawValue), .int(replay.baselineWait[s.rank] ?? 0), .int(replay.predictedWait[s.rank] ?? 0)])
      }
      let base = ReplayRun.jobStep(replay.baselineSteps, predicted: true), pred = ReplayRun.jobStep(replay.steps, predicted: true)
      let diff = RunDiff(a: g, replay.baseline, b: g, replay.predicted)
      var dt = Table(["key", "baselineNs", "predictedNs", "deltaNs", "deltaPct", "count"])
      for r in diff.rows { dt.add([.string(r.key), .int(r.aNs), .int(r.bNs), .int(r.deltaNs), opt(r.deltaPct), .int(r.aCount)]) }
      doc["whatIf"] = .object([
        "knobs": scenario.json(), "description": .string(scenario.description),
        "measuredStepNs": .int(ReplayRun.jobStep(replay.steps, predicted: false)), "baselineStepNs": .int(base), "predictedStepNs": .int(pred),
        "speedup": .double(pred > 0 ? (Double(base) / Double(pred) * 10000).rounded() / 10000 : 0),
        "ranks": wt.json(), "byClass": dt.json(),
      ])
      tables.append(("whatif", wt))
      tables.append(("whatif_classes", dt))
    } else {
      doc["whatIf"] = .null
    }

    // Summary.
    let counts = g.countByKind()
    let stepNs = ReplayRun.jobStep(replay.steps, predicted: false)
    var sm = Table(["ranks", "lanes", "events", "steps", "measuredStepNs", "replayedStepNs", "collectiveInstances", "unmatchedCollectives",
                    "criticalPathNs", "stragglers", "errors", "warnings", "hardware"])
    sm.add([.int(g.ranks.count), .int(g.lanes.count), .int(g.eventCount), .int(Set(g.steps.map(\.number)).count), .int(stepNs),
            .int(ReplayRun.jobStep(replay.baselineSteps, predicted: true)), .int(g.instances.count), .int(bw.unmatched),
            .int(cp.lengthNs), .int(st.ranks.filter(\.flagged).count), .int(result.diagnostics.count(of: .error)),
            .int(result.diagnostics.count(of: .warning) + result.diagnostics.count(of: .dataLoss)),
            options.hardware.map { .string($0.name) } ?? .null])
    var summary = (sm.json().arrayItems.first?.objectMembers) ?? [:]
    summary["inputs"] = .array(inputs.map { .string($0) })
    summary["files"] = .array(g.ranks.map { .string($0.file) })
    summary["eventsByKind"] = .object(Dictionary(uniqueKeysWithValues: EventKind.allCases.map { ($0.name, .int(counts[$0] ?? 0)) }))
    doc["summary"] = .object(summary)
    tables.insert(("summary", sm), at: 0)
    document = .object(doc)
    self.tables = tables
  }

  /// Writes one CSV per table into `dir` (created if needed); returns the paths written.
  func writeCSV(to dir: String) throws -> [String] {
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    var written: [String] = []
    for (name, table) in tables {
      let path = dir + "/" + name + ".csv"
      do { try table.csv().write(toFile: path, atomically: true, encoding: .utf8) } catch {
        throw DataError(message: "\(path): cannot write: \(error.localizedDescription)")
      }
      written.append(path)
    }
    return written
  }
}

extension JSONDocument {
  var arrayItems: [JSONDocument] { if case .array(let a) = self { a } else { [] } }
  var objectMembers: [String: JSONDocument]? { if case .object(let o) = self { o } else { nil } }
}
