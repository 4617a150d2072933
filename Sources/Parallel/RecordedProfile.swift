import Analysis
import CostModels
import Replay
import TraceModel

/// Communication of a recorded run by what it does in the layout.
public enum CommClass: String, Sendable, Codable, CaseIterable {
  /// Gradient all-reduces (or reduce-scatter / all-gather) of the data-parallel groups.
  case dp
  /// Activation collectives of the tensor-parallel groups.
  case tp
  /// Pipeline send/recv.
  case pp
  /// Collectives on other groups (context-parallel, expert-parallel, unclassified).
  case other
}

/// Where an op sits in the model: its pipeline stage follows from it.
enum ModelPart: UInt8, Sendable { case layer, first, last }

/// One group of recorded ops with the same name, shapes and labels in one phase: what the
/// predictor re-times at once.
struct OpGroup: Hashable, Sendable {
  var name: String
  var dims: [[Int64]]
  var types: [String]
  var labels: [[DimLabel]]
  var phase: Phase
  var part: ModelPart
}

/// One rank's recorded steps taken apart (averaged per step): ops to re-time, time kept as
/// measured, exposed communication per class, and the collectives' measured transfers.
struct RankProfile: Sendable {
  var rank: RankID
  /// Measured ns per step of each op group.
  var ops: [OpGroup: Double] = [:]
  /// Work without shapes per phase (ns per step): scaled with the tokens.
  var unsized: [Phase: Double] = [:]
  /// Views and allocations on CPU-only ranks (ns per step): framework time, kept as measured.
  var framework: [Phase: Double] = [:]
  /// Idle time between work that no communication covers, per phase (ns per step): host and
  /// launch overhead, kept as measured per micro-batch.
  var overhead: [Phase: Double] = [:]
  /// Idle time covered by communication, per class (ns per step).
  var exposed: [CommClass: Double] = [:]
  /// Collective transfers per class: total measured ns, bytes and count per step, and group size.
  var transfers: [CommClass: Transfer] = [:]
  /// Mean measured step (ns).
  var step: Double = 0
  var steps = 0

  struct Transfer: Sendable {
    var time = 0.0
    var bytes = 0.0
    var count = 0.0
    var ranks = 0
    var kind: CollectiveKind? = nil
  }
}

/// Builds the per-rank profiles of a recorded run.
struct ProfileBuilder {
  let plan: ReplayPlan
  let labeler: ShapeLabeler?
  let dims: TransformerDims?
  let phases: [Phase]
  let membership: StepMembership

  let layout: ParallelLayout
  let collectiveOf: [Int: CollectiveRecord]

  init(plan: ReplayPlan, dims: TransformerDims?, layout: ParallelLayout) {
    self.plan = plan
    self.dims = dims
    self.layout = layout
    labeler = dims.map { ShapeLabeler(dims: $0, tp: layout.tp, cp: layout.cp) }
    var m: [Int: CollectiveRecord] = [:]
    for c in plan.graph.collectives { m[c.event.index] = c }
    collectiveOf = m
    phases = Phase.of(plan.graph)
    membership = StepMembership(plan.graph)
  }

  static let commPrefixes = ["c10d::", "gloo:", "nccl:", "record_param_comms", "ncclDevKernel", "ncclKernel"]

  static func isComm(_ g: EventGraph, _ e: Int) -> Bool {
    switch g.kind[e] {
    case .collective, .send, .recv: return true
    case .hostOp, .kernel, .other:
      let name = g.strings[g.name[e]]
      return commPrefixes.contains { name.hasPrefix($0) }
    default: return false
    }
  }

  /// The class of a collective on group `group` (a name) moving `bytes`: a group whose
  /// `pg_config` description names its role (Megatron's `TENSOR_MODEL_PARALLEL_GROUP`, …) has
  /// it; else the recorded layout decides when it has one kind of group with collectives (TP or
  /// DP); else an activation-sized message (micro-batch tokens × hidden) is TP's, the rest DP's.
  func commClass(group: String, bytes: Int64) -> CommClass {
    if let pg = plan.processGroups.groups.first(where: { $0.name == group }),
      let d = LayoutDetection.dimension(ofDescription: pg.description)
    {
      switch d {
      case "tp": return .tp
      case "pp": return .pp
      case "cp": return .other
      default: return .dp
      }
    }
    if layout.tp > 1 && layout.dp == 1 && layout.cp == 1 { return .tp }
    if layout.dp > 1 && layout.tp == 1 && layout.cp == 1 { return .dp }
    if let d = dims, bytes > 0 {
      let tokens = Int64(d.microBatch * d.sequence / max(1, layout.cp)) * Int64(d.hidden)
      if tokens > 0 && bytes % tokens == 0 && bytes / tokens <= 4 { return .tp }
    }
    return .dp
  }

  func build() -> [RankProfile] {
    let g = plan.graph
    let n = g.eventCount
    let cpu = plan.cpuOnlyRanks
    let own = cpu.isEmpty ? [] : Scenario.ownTime(plan, g.duration)
    var shapeOf = [Int32](repeating: -1, count: n)
    for (i, s) in g.opShapes.enumerated() { shapeOf[s.event.index] = Int32(i) }
    let launcher = StepMembership.launchers(g)
    // Parents precede their children in start order on a lane.
    let order = (0..<n).sorted { (g.start[$0], $0) < (g.start[$1], $1) }
    let commAncestor = Self.communication(g, order: order)
    var profiles: [Int32: RankProfile] = [:]
    var busy: [Int32: [(Int64, Int64, Phase)]] = [:]
    var comm: [Int32: [CommClass: [(Int64, Int64)]]] = [:]
    var groupCache: [Int: OpGroup?] = [:]
    // Schedules without forward annotations (1F1B) run forwards after the step's first
    // backward, which `Phase` calls `other`: before the step's last backward they are forwards.
    var lastBackward: [Int32: Int64] = [:]
    for e in 0..<n where phases[e] == .backward && membership.step[e] != StepMembership.none {
      lastBackward[membership.step[e]] = max(lastBackward[membership.step[e]] ?? .min, g.start[e])
    }
    // A step without a backward (inference) is all forward.
    func phaseOf(_ e: Int) -> Phase {
      let p = phases[e]
      guard p == .other else { return p }
      guard let last = lastBackward[membership.step[e]] else { return .forward }
      return g.start[e] < last ? .forward : p
    }
    var byName: [String: OpGroup] = [:]
    for e in order {
      let step = membership.step[e]
      guard step != StepMembership.none else { continue }
      let r = g.rank(of: e).rawValue
      var p = profiles[r] ?? RankProfile(rank: RankID(rawValue: r))
      defer { profiles[r] = p }
      if commAncestor[e] {
        // A send does not block the sender; receives and collectives do.
        let name = g.strings[g.name[e]]
        let isSend = g.kind[e] == .send || name == "gloo:send" || name.hasSuffix("::send")
        if !isSend && g.duration[e] > 0 {
          comm[r, default: [:]][commClassOf(e), default: []].append((g.start[e], g.end(e)))
        }
        continue
      }
      let phase = phaseOf(e)
      let t: Double
      let onCPU = cpu.contains(RankID(rawValue: r))
      if onCPU {
        guard g.kind[e] == .hostOp, plan.hostComputeClass[e] != ReplayPlan.noClass, own[e] > 0 else { continue }
        t = Double(own[e])
      } else {
        guard g.kind[e] == .kernel || g.kind[e] == .memset || g.kind[e] == .memcpy, g.duration[e] > 0 else { continue }
        t = Double(g.duration[e])
      }
      busy[r, default: []].append((g.start[e], g.end(e), phase))
      let sizedBy = shapedSource(e, cpu: onCPU, shapeOf: shapeOf, launcher: launcher)
      let name = g.strings[g.name[e]]
      var group: OpGroup? = nil
      if sizedBy >= 0, let grp = groupCache[sizedBy] ?? cacheGroup(sizedBy, shapeOf, &groupCache) {
        group = grp
        byName[name] = grp
      } else if let forward = Self.forwardName(name), let grp = byName[forward] {
        // A backward op without shapes re-times as its forward op (`gelu_backward` as `gelu`).
        group = grp
      }
      if var grp = group {
        grp.phase = phase
        p.ops[grp, default: 0] += t
      } else if onCPU && plan.hostComputeClass[e] == ComputeClass.other.rawValue {
        // Views and allocations: framework time, kept as measured.
        p.framework[phase, default: 0] += t
      } else {
        p.unsized[phase, default: 0] += t
      }
    }
    addTransfers(&profiles)
    return profiles.sorted { $0.key < $1.key }.map { r, profile in
      var p = profile
      let windows = stepWindows(RankID(rawValue: r))
      p.steps = windows.count
      finishGaps(&p, busy: busy[r] ?? [], comm: comm[r] ?? [:], windows: windows)
      return p.perStep()
    }
  }

  /// Per event, whether it is communication or inside a synchronous communication call.
  /// gloo's send/recv spans are asynchronous: later compute nests in them by time, not by call,
  /// so only the synchronous wrappers (`c10d::…`, `record_param_comms`, `nccl:…`) pass their
  /// communication on to what they enclose.
  static func communication(_ g: EventGraph, order: [Int]) -> [Bool] {
    let n = g.eventCount
    var comm = [Bool](repeating: false, count: n)
    var passesOn = [Bool](repeating: false, count: n)
    for e in order {
      let p = g.parent[e]
      let inherited = p != .none && passesOn[p.index]
      comm[e] = isComm(g, e) || inherited
      passesOn[e] = inherited || (comm[e] && !g.strings[g.name[e]].hasPrefix("gloo:"))
    }
    return comm
  }

  /// The event whose shapes re-time work event `e`: on a CPU-only rank `e` itself or its nearest
  /// operator ancestor with shapes (`scaled_dot_product_attention` for its CPU kernel); on a GPU
  /// the nearest ancestor with shapes of the call that launched it; -1 when none.
  func shapedSource(_ e: Int, cpu: Bool, shapeOf: [Int32], launcher: [Int32]) -> Int {
    let g = plan.graph
    var h = cpu ? e : Int(launcher[e])
    var depth = 0
    while h >= 0 && depth < (cpu ? 16 : 64) {
      if shapeOf[h] >= 0 && (!cpu || g.strings[g.name[h]].hasPrefix("aten::")) { return h }
      h = g.parent[h] == .none ? -1 : g.parent[h].index
      depth += 1
    }
    return -1
  }

  private func cacheGroup(_ e: Int, _ shapeOf: [Int32], _ cache: inout [Int: OpGroup?]) -> OpGroup? {
    let g = plan.graph
    let s = g.opShapes[Int(shapeOf[e])]
    let name = g.strings[g.name[e]]
    let dims = OpCost.parseDims(g.strings[s.dims])
    let types = OpCost.parseTypes(g.strings[s.types])
    let labels = labeler?.labels(name: name, dims: dims) ?? dims.map { Array(repeating: .fixed, count: $0.count) }
    var part = ModelPart.layer
    if name.contains("embedding") {
      part = .first
    } else if let v = dims.flatMap({ $0 }).first(where: { $0 == Int64(self.dims?.vocab ?? -1) }), v > 0 {
      part = .last
    } else if name.contains("nll_loss") || name.contains("cross_entropy") || name.contains("log_softmax") {
      part = .last
    }
    let grp = OpGroup(name: name, dims: dims, types: types, labels: labels, phase: .other, part: part)
    cache[e] = grp
    return grp
  }

  /// The forward op a backward op's name points at (`aten::gelu_backward` → `aten::gelu`).
  static func forwardName(_ name: String) -> String? {
    for suffix in ["_backward_data", "_backward_input", "_backward"] where name.hasSuffix(suffix) {
      return String(name.dropLast(suffix.count))
    }
    return nil
  }

  /// The class of communication event `e`: its collective's group, a send/recv, or its
  /// nearest ancestor's.
  private func commClassOf(_ e: Int) -> CommClass {
    let g = plan.graph
    if g.kind[e] == .send || g.kind[e] == .recv { return .pp }
    if let c = collectiveOf[e] { return commClass(group: g.strings[c.group], bytes: max(c.inputBytes, c.outputBytes)) }
    let name = g.strings[g.name[e]]
    if name.contains("send") || name.contains("recv") { return .pp }
    var p = g.parent[e]
    while p != .none {
      if let c = collectiveOf[p.index] {
        return commClass(group: g.strings[c.group], bytes: max(c.inputBytes, c.outputBytes))
      }
      p = g.parent[p.index]
    }
    return commClass(group: "", bytes: g.bytes[e])
  }

  /// The measured transfer of each collective instance, by class, counted on each member's rank.
  private func addTransfers(_ profiles: inout [Int32: RankProfile]) {
    let g = plan.graph
    for i in 0..<plan.instanceCount {
      guard let kind = plan.collectiveKind(of: i) else { continue }
      let members = plan.members(of: i)
      guard let first = members.first else { continue }
      _ = first
      let cls = commClass(group: g.strings[plan.instanceGroup[i]], bytes: plan.instanceBytes[i].rawValue)
      for m in members {
        let r = g.rank(of: Int(m)).rawValue
        guard membership.step[Int(m)] != StepMembership.none else { continue }
        var t = profiles[r]?.transfers[cls] ?? RankProfile.Transfer()
        t.time += Double(plan.instanceTransfer[i].rawValue)
        t.bytes += Double(plan.instanceBytes[i].rawValue)
        t.count += 1
        t.ranks = max(t.ranks, members.count)
        t.kind = t.kind ?? kind
        profiles[r]?.transfers[cls] = t
      }
    }
  }

  /// The rank's step windows: its profiler steps, else the span of its work.
  private func stepWindows(_ r: RankID) -> [(Int64, Int64)] {
    let steps = plan.graph.steps.filter { $0.rank == r && $0.event != .none }
    if !steps.isEmpty { return steps.map { ($0.start.rawValue, $0.end.rawValue) } }
    let g = plan.graph
    var lo = Int64.max
    var hi = Int64.min
    for e in 0..<g.eventCount where g.rank(of: e) == r && g.kind[e] != .annotation && g.kind[e] != .memory {
      lo = min(lo, g.start[e])
      hi = max(hi, g.end(e))
    }
    return lo <= hi ? [(lo, hi)] : []
  }

  /// Splits each step window's idle time (outside work) into exposed communication per class
  /// and overhead (the phase of the work that follows it).
  private func finishGaps(
    _ p: inout RankProfile, busy: [(Int64, Int64, Phase)], comm: [CommClass: [(Int64, Int64)]],
    windows: [(Int64, Int64)]
  ) {
    func set(_ spans: [(Int64, Int64)]) -> IntervalSet {
      IntervalSet(spans.map { (Nanoseconds(rawValue: $0.0), Nanoseconds(rawValue: $0.1)) })
    }
    let work = busy.sorted { ($0.0, $0.1) < ($1.0, $1.1) }
    let steps = windows.sorted { $0 < $1 }
    // Idle time: the step windows less the work; communication covers it class by class.
    let idle = set(steps).subtracting(set(work.map { ($0.0, $0.1) }))
    var covered = IntervalSet([])
    for c in CommClass.allCases {
      let part = idle.intersection(set(comm[c] ?? [])).subtracting(covered)
      if part.measure > .zero { p.exposed[c, default: 0] += Double(part.measure.rawValue) }
      covered = covered.union(part)
    }
    // The rest is overhead of the work that ends it in its step, else (a step's tail) `other`.
    for (lo, hi) in idle.subtracting(covered).intervals {
      var start = lo.rawValue
      while start < hi.rawValue {
        let w = steps.countAtOrBefore(start) { $0.0 } - 1
        let end = w >= 0 ? min(hi.rawValue, steps[w].1) : hi.rawValue
        let next = work.countAtOrBefore(end - 1) { $0.0 }
        let phase = w >= 0 && next < work.count && work[next].0 < steps[w].1 ? work[next].2 : Phase.other
        p.overhead[phase, default: 0] += Double(end - start)
        start = end
      }
    }
    let total = steps.reduce(0.0) { $0 + Double($1.1 - $1.0) }
    p.step = steps.isEmpty ? 0 : total / Double(steps.count)
  }
}

extension RankProfile {
  /// Totals divided by the number of steps.
  func perStep() -> RankProfile {
    let k = Double(max(steps, 1))
    var p = self
    p.ops = ops.mapValues { $0 / k }
    p.unsized = unsized.mapValues { $0 / k }
    p.framework = framework.mapValues { $0 / k }
    p.overhead = overhead.mapValues { $0 / k }
    p.exposed = exposed.mapValues { $0 / k }
    p.transfers = transfers.mapValues { t in
      var t = t
      (t.time, t.bytes, t.count) = (t.time / k, t.bytes / k, t.count / k)
      return t
    }
    return p
  }
}
