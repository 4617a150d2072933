import CostModels
import Foundation
import TraceModel

/// A bad `--set` knob: the CLI exits 64 with this message and the list of valid keys.
public struct ScenarioError: Error, CustomStringConvertible, Sendable {
  public var message: String
  public var description: String { "\(message)\n\(Scenario.validKeysHelp)" }
}

/// A what-if: knobs (`--set KEY=VALUE`) that rewrite durations before a replay. Knobs compose.
///
/// Compute knobs scale device kernels; communication knobs re-derive the transfer time of
/// collectives and send/recv pairs; host knobs change host calls; `rank.N.slowdown` makes one
/// rank a straggler. Link knobs use the alpha-beta model calibrated on the measurement: a
/// measured transfer `T = α + S·f/B_eff` keeps its efficiency, so with link bandwidth `B`
/// changed to `B'`, `T' = α' + (T − α)·B/B'` (Hockney's model; bus factor f from nccl-tests).
/// B is the path's bottleneck in `cluster`; without one, inside a node it is the `hardware`'s
/// interconnect (the GPU named in the trace's `deviceProperties`, as `report` and `render
/// topology` use it), else the measured bus bandwidth itself (the link is assumed saturated).
public struct Scenario: Sendable, CustomStringConvertible {
  /// The knobs as given, in order.
  public private(set) var settings: [(key: String, value: String)] = []
  var computeScale = 1.0
  var classScale: [ComputeClass: Double] = [:]
  var kernelRules: [(pattern: String, scale: Double)] = []
  var commScale = 1.0
  var intraBandwidth: BytesPerSecond? = nil
  var interBandwidth: BytesPerSecond? = nil
  var latency: Nanoseconds? = nil
  var rankSlowdown: [RankID: Double] = [:]
  /// Why the ranks are no longer replicas under this scenario, so that symmetric-rank folding
  /// (`RankFolding`) is off: a knob that singles out ranks (`rank.N.slowdown`: its peers wait for
  /// it unevenly; `dp.backup`: the late ranks each round drop out); nil when none does.
  public var symmetryBreaker: String? {
    if !rankSlowdown.isEmpty { return "rank.N.slowdown" }
    if let k = dpBackup, k > 0 { return "dp.backup" }
    return nil
  }
  var hostLaunch: Nanoseconds? = nil
  var dpDegree: Int? = nil
  /// `dp.backup=K`: backup workers per data-parallel all-reduce (`Scenario+Backup.swift`).
  var dpBackup: Int? = nil
  /// `pg.NAME.scale|bandwidth|degree` settings, by the group name or description given.
  var groupKnobs: [String: GroupKnobs] = [:]
  public var cluster: ClusterSpec?
  /// The accelerator whose interconnect is the intra-node link baseline without a cluster: the
  /// recorded GPU, or the target of a hardware transfer.
  public var hardware: HardwareSpec?
  /// Another accelerator for the whole run (`whatif --hardware`): device work re-timed through
  /// the cost models before the knobs apply.
  public var transfer: HardwareTransfer?
  /// Whether collectives and send/recv pairs are re-timed through the collective model on the
  /// cluster's network (`whatif --cluster`); also with `transfer` or `comm.algorithm`.
  public var retimesNetwork = false
  /// `comm.algorithm=ring|tree|hierarchical`.
  var commAlgorithm: NetworkRetiming.Algorithm? = nil

  /// The knobs of one process group (`pg.NAME.…`).
  struct GroupKnobs: Sendable {
    var scale = 1.0
    var bandwidth: BytesPerSecond? = nil
    var degree: Int? = nil
  }

  /// The keys `--set` accepts.
  public static let validKeys = [
    "compute.scale=X", "compute.gemm.scale=X", "compute.attention.scale=X", "compute.elementwise.scale=X",
    "compute.reduction.scale=X", "compute.other.scale=X", "kernel.match=REGEX,scale=X", "comm.scale=X",
    "link.intra.bandwidth=300GB/s", "link.inter.bandwidth=25GB/s", "link.latency=5us", "rank.N.slowdown=X",
    "host.launch=4us", "comm.algorithm=ring|tree|hierarchical", "dp.degree=N", "dp.backup=K", "pg.NAME.scale=X",
    "pg.NAME.bandwidth=100GB/s", "pg.NAME.degree=N",
  ]
  static var validKeysHelp: String { "valid keys: " + validKeys.joined(separator: ", ") }

  public init(cluster: ClusterSpec? = nil) { self.cluster = cluster }

  /// Whether a link-bandwidth knob is set (its baseline may need the `hardware`).
  public var setsLinkBandwidth: Bool { intraBandwidth != nil || interBandwidth != nil }

  /// Parses `KEY=VALUE` settings.
  /// - Throws: `ScenarioError` for an unknown key or a bad value.
  public static func parse(_ items: [String], cluster: ClusterSpec? = nil) throws -> Scenario {
    var s = Scenario(cluster: cluster)
    for item in items {
      guard let eq = item.firstIndex(of: "=") else { throw ScenarioError(message: "--set \(item): expected KEY=VALUE") }
      let (key, value) = (String(item[..<eq]), String(item[item.index(after: eq)...]))
      try s.set(key, value)
      if s.largestFactor > maxScale {
        throw ScenarioError(
          message: "--set \(key)=\(value): the scales given multiply past \(Int(maxScale)) for some events")
      }
    }
    return s
  }

  /// The largest factor any event's duration can get from the settings together: compute ×
  /// class × every kernel rule × the slowest rank, or the communication scale.
  var largestFactor: Double {
    let kernel =
      computeScale * max(classScale.values.max() ?? 1, 1) * kernelRules.reduce(1) { $0 * max($1.scale, 1) }
      * max(rankSlowdown.values.max() ?? 1, 1)
    return max(kernel, commScale * max(groupKnobs.values.map(\.scale).max() ?? 1, 1))
  }

  mutating func set(_ key: String, _ value: String) throws {
    func scale() throws -> Double {
      guard let v = Double(value), v >= 0, v <= Self.maxScale else {
        throw ScenarioError(message: "--set \(key)=\(value): expected a number in 0…\(Int(Self.maxScale))")
      }
      return v
    }
    settings.append((key, value))
    switch key {
    case "compute.scale": computeScale *= try scale()
    case "compute.gemm.scale": classScale[.gemm, default: 1] *= try scale()
    case "compute.attention.scale": classScale[.attention, default: 1] *= try scale()
    case "compute.elementwise.scale": classScale[.elementwise, default: 1] *= try scale()
    case "compute.reduction.scale": classScale[.reduction, default: 1] *= try scale()
    case "compute.other.scale": classScale[.other, default: 1] *= try scale()
    case "kernel.match":
      guard let comma = value.range(of: ",scale=", options: .backwards),
        let f = Double(value[comma.upperBound...]), f >= 0, f <= Self.maxScale
      else {
        throw ScenarioError(
          message: "--set kernel.match=\(value): expected REGEX,scale=X with X in 0…\(Int(Self.maxScale))")
      }
      let pattern = String(value[..<comma.lowerBound])
      guard (try? NSRegularExpression(pattern: pattern)) != nil else {
        throw ScenarioError(message: "--set kernel.match=\(value): '\(pattern)' is not a valid regular expression")
      }
      kernelRules.append((pattern, f))
    case "comm.scale": commScale *= try scale()
    case "link.intra.bandwidth": intraBandwidth = try Self.bandwidth(key, value)
    case "link.inter.bandwidth": interBandwidth = try Self.bandwidth(key, value)
    case "link.latency": latency = try Self.duration(key, value)
    case "host.launch": hostLaunch = try Self.duration(key, value)
    case "comm.algorithm":
      guard let a = NetworkRetiming.Algorithm(rawValue: value) else {
        let names = NetworkRetiming.Algorithm.allCases.map(\.rawValue).joined(separator: ", ")
        throw ScenarioError(message: "--set comm.algorithm=\(value): expected one of \(names)")
      }
      commAlgorithm = a
    case "dp.degree":
      guard let n = Int(value), n >= 1 else {
        throw ScenarioError(message: "--set dp.degree=\(value): expected an integer ≥ 1")
      }
      dpDegree = n
    case "dp.backup": dpBackup = try Self.backupCount(value)
    default:
      let parts = key.split(separator: ".")
      if parts.count >= 3, parts[0] == "pg", ["scale", "bandwidth", "degree"].contains(parts[parts.count - 1]) {
        try setGroup(parts[1..<(parts.count - 1)].joined(separator: "."), String(parts[parts.count - 1]), key, value)
      } else if parts.count == 3, parts[0] == "rank", parts[2] == "slowdown", let r = Int32(parts[1]), r >= 0 {
        let f = try scale()
        guard f > 0 else { throw ScenarioError(message: "--set \(key)=\(value): slowdown must be > 0") }
        rankSlowdown[RankID(rawValue: r)] = f
      } else {
        settings.removeLast()
        throw ScenarioError(message: "--set \(key)=\(value): unknown key '\(key)'")
      }
    }
  }

  /// `pg.NAME.KNOB=VALUE`.
  mutating func setGroup(_ name: String, _ knob: String, _ key: String, _ value: String) throws {
    var g = groupKnobs[name] ?? GroupKnobs()
    switch knob {
    case "scale":
      guard let v = Double(value), v >= 0, v <= Self.maxScale else {
        throw ScenarioError(message: "--set \(key)=\(value): expected a number in 0…\(Int(Self.maxScale))")
      }
      g.scale *= v
    case "bandwidth": g.bandwidth = try Self.bandwidth(key, value)
    default:
      guard let n = Int(value), n >= 1 else {
        throw ScenarioError(message: "--set \(key)=\(value): expected an integer ≥ 1")
      }
      g.degree = n
    }
    groupKnobs[name] = g
  }

  /// Checks the knobs against the run: every `pg.NAME` names a process group of it, and
  /// `dp.degree` needs to know which groups are data-parallel.
  /// - Throws: `ScenarioError` naming the groups the run has.
  public func check(_ plan: ReplayPlan) throws {
    let pgs = plan.processGroups
    let listing = pgs.groups.isEmpty ? "none" : pgs.groups.map(\.label).joined(separator: ", ")
    for name in groupKnobs.keys.sorted() where pgs.named(name).isEmpty {
      throw ScenarioError(
        message: "--set pg.\(name).…: no process group '\(name)' has collectives here; groups: \(listing)")
    }
    if dpDegree != nil && !pgs.knowsDataParallel && !pgs.groups.isEmpty {
      throw ScenarioError(
        message: "--set dp.degree: cannot tell the data-parallel group: \(pgs.dataParallelRule); "
          + "set pg.NAME.degree=N for it instead")
    }
    try checkBackup(pgs)
  }

  /// The largest scale factor a setting accepts: a million times slower still replays in
  /// 64-bit nanoseconds without overflow for any trace shorter than a month.
  public static let maxScale = 1e6
  /// The longest duration a setting accepts (one day), for the same reason.
  public static let maxDuration = 86_400e9
  static let maxDurationText = "1 day"

  /// How a setting reads back in an error: `--set KEY=VALUE`, or `--flag VALUE` when the key is
  /// a command-line flag (the model commands parse their flags with the same helpers).
  static func setting(_ key: String, _ value: String) -> String {
    key.hasPrefix("--") ? "\(key) \(value)" : "--set \(key)=\(value)"
  }

  /// The range error for a value that parses as a negative number: `--forward -1ms: out of
  /// range: must be ≥ 0`, rather than a format error.
  static func rejectNegative(_ key: String, _ value: String, strictlyPositive: Bool = false) throws {
    let number = value.prefix { "+-.0123456789eE".contains($0) }
    if let v = Double(number), v < 0 || (strictlyPositive && v == 0) {
      throw ScenarioError(
        message: "\(Self.setting(key, value)): out of range: must be \(strictlyPositive ? "> 0" : "≥ 0")")
    }
  }

  /// Parses `300GB/s`, `25GiB/s`, `400Gb/s`.
  public static func bandwidth(_ key: String, _ value: String) throws -> BytesPerSecond {
    let units: [(String, Double)] = [
      ("GiB/s", 1_073_741_824), ("MiB/s", 1_048_576), ("GB/s", 1e9), ("MB/s", 1e6), ("Gb/s", 1e9 / 8),
      ("Gbps", 1e9 / 8), ("TB/s", 1e12),
    ]
    for (u, f) in units where value.hasSuffix(u) {
      if let v = Double(value.dropLast(u.count)), v > 0, v.isFinite { return BytesPerSecond(rawValue: v * f) }
    }
    try rejectNegative(key, value, strictlyPositive: true)
    throw ScenarioError(
      message: "\(Self.setting(key, value)): expected a bandwidth such as 300GB/s, 25GiB/s or 400Gb/s")
  }

  /// Parses `5us`, `1.5ms`, `2s`, `1500ns`, rounded to whole nanoseconds.
  public static func duration(_ key: String, _ value: String) throws -> Nanoseconds {
    let units: [(String, Double)] = [("ns", 1), ("us", 1e3), ("µs", 1e3), ("ms", 1e6), ("s", 1e9)]
    for (u, f) in units where value.hasSuffix(u) {
      if let v = Double(value.dropLast(u.count)), v >= 0, v * f <= maxDuration {
        return Nanoseconds(rawValue: Int64(saturating: v * f))
      }
    }
    try rejectNegative(key, value)
    throw ScenarioError(
      message:
        "\(Self.setting(key, value)): expected a duration such as 5us, 1.5ms or 1500ns, at most \(maxDurationText)")
  }

  /// Parses one duration for every stage (`18.5ms`), or a comma-separated value per stage.
  public static func durations(_ key: String, _ value: String, count: Int) throws -> [Nanoseconds] {
    let values = try value.split(separator: ",").map { try duration(key, String($0)) }
    if values.count == 1 { return Array(repeating: values[0], count: count) }
    guard values.count == count else {
      throw ScenarioError(message: "\(Self.setting(key, value)): give one value or \(count) (one per stage)")
    }
    return values
  }

  /// Parses `1GiB`, `512MB`, `4096`, rounded to whole bytes.
  public static func size(_ key: String, _ value: String) throws -> Bytes {
    let units: [(String, Double)] = [
      ("GiB", 1_073_741_824), ("MiB", 1_048_576), ("KiB", 1024), ("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("KB", 1e3),
      ("B", 1),
    ]
    for (u, f) in units where value.hasSuffix(u) {
      if let v = Double(value.dropLast(u.count)), v >= 0, v * f < 9e18 { return Bytes(rounding: v * f) }
    }
    if let v = Double(value), v >= 0, v < 9e18 { return Bytes(rounding: v) }
    try rejectNegative(key, value)
    throw ScenarioError(message: "\(Self.setting(key, value)): expected a size such as 1GiB, 512MB or 4096")
  }

  public var description: String {
    var parts: [String] = []
    if let t = transfer { parts.append("hardware \(t.source.name) → \(t.target.name)") }
    if retimesNetwork, let c = cluster { parts.append("cluster \(c.name)") }
    return (parts + settings.map { "\($0.key)=\($0.value)" }).joined(separator: " ")
  }

  /// Whether a knob acts on process groups (`dp.degree`, `dp.backup`, `pg.NAME.…`).
  public var usesProcessGroups: Bool { dpDegree != nil || dpBackup != nil || !groupKnobs.isEmpty }

  /// Knob values for reports.
  public var knobs: [(String, String)] { settings }

  static let launchCalls: Set<String> = [
    "cudaLaunchKernel", "cudaLaunchKernelExC", "cuLaunchKernel", "cuLaunchKernelEx", "cudaLaunchCooperativeKernel",
    "hipLaunchKernel", "hipExtLaunchKernel", "hipModuleLaunchKernel", "hipExtModuleLaunchKernel", "cudaGraphLaunch",
    "hipGraphLaunch", "cudaMemcpyAsync", "cudaMemsetAsync", "hipMemcpyAsync", "hipMemsetAsync",
  ]

  /// New per-event durations and per-instance transfer times for `plan`.
  public func apply(to plan: ReplayPlan) -> (durations: [Nanoseconds], transfers: [Nanoseconds]) {
    let (raw, transfers) = rawDurations(for: plan)
    return (raw.map(Nanoseconds.init(rawValue:)), transfers)
  }

  /// `apply(to:)` with the durations as the graph's raw nanosecond column, as the replay engine
  /// reads them (no conversion copy on the what-if path).
  func rawDurations(for plan: ReplayPlan) -> (durations: [Int64], transfers: [Nanoseconds]) {
    let g = plan.graph
    var durations = g.duration
    let retiming = transfer?.retime(plan)
    if let retiming { Self.apply(retiming, plan, to: &durations) }
    // Per-name kernel factor, computed once per distinct name.
    var nameFactor: [NameID: Double] = [:]
    let regexes = kernelRules.compactMap { r in (try? NSRegularExpression(pattern: r.pattern)).map { ($0, r.scale) } }
    func kernelFactor(_ e: Int, _ cls: ComputeClass) -> Double {
      let name = g.name[e]
      let base = computeScale * (classScale[cls] ?? 1)
      if regexes.isEmpty { return base }
      if let f = nameFactor[name] { return base * f }
      let text = g.strings[name]
      var f = 1.0
      for (re, scale) in regexes where re.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil {
        f *= scale
      }
      nameFactor[name] = f
      return base * f
    }
    let launchNames = Set(Self.launchCalls.compactMap { g.strings.lookup($0) })
    var ownTime = plan.cpuOnlyRanks.isEmpty ? [] : Self.ownTime(plan, g.duration)
    if let retiming, !ownTime.isEmpty {
      for e in ownTime.indices { ownTime[e] = Int64(saturating: Double(ownTime[e]) * retiming.factor[e]) }
    }
    for e in 0..<g.eventCount {
      let rankFactor = rankSlowdown.isEmpty ? 1 : (rankSlowdown[g.rank(of: e)] ?? 1)
      switch g.kind[e] {
      case .kernel:
        let cls = ComputeClass(rawValue: g.detail[e]) ?? .other
        durations[e] = Int64(saturating: Double(durations[e]) * kernelFactor(e, cls) * rankFactor)
      case .collective, .send, .recv:
        if plan.instance[e] < 0 { durations[e] = Int64(saturating: Double(durations[e]) * commScale) }
      case .hostOp:
        if let launch = hostLaunch, launchNames.contains(g.name[e]) {
          // A launch call with traced children keeps its time (the engine times parents by them).
          if plan.role[e] == .hostParent { continue }
          durations[e] = launch.rawValue
        } else if !ownTime.isEmpty && plan.cpuOnlyRanks.contains(g.rank(of: e)) {
          // A CPU-only rank's operators are its compute: the kernels' knobs act on them. A parent
          // changes by its own time (its duration less its children's).
          let cls = ComputeClass(rawValue: plan.hostComputeClass[e])
          let f = (cls.map { kernelFactor(e, $0) } ?? 1) * rankFactor
          if f != 1 { durations[e] += Int64(saturating: Double(ownTime[e]) * (f - 1)) }
        } else if rankFactor != 1 && plan.role[e] != .hostParent {
          durations[e] = Int64(saturating: Double(durations[e]) * rankFactor)
        }
      default:
        break
      }
    }
    let effects = groupEffects(plan)
    let base = network?.transfers(plan).transfers ?? plan.instanceTransfer.map { Double($0.rawValue) }
    let transfers = (0..<plan.instanceCount).map {
      transfer(plan, instance: $0, group: effects[plan.instanceGroup[$0]], from: base[$0])
    }
    return (durations, transfers)
  }

  /// What the `pg.NAME.…` knobs and `dp.degree` do to each process group of `plan`: a group's
  /// own knobs win over `dp.degree`, which acts on the data-parallel groups only.
  func groupEffects(_ plan: ReplayPlan) -> [NameID: GroupKnobs] {
    guard dpDegree != nil || !groupKnobs.isEmpty else { return [:] }
    var out: [NameID: GroupKnobs] = [:]
    for group in plan.processGroups.groups {
      guard let id = plan.graph.strings.lookup(group.name) else { continue }
      var effect = GroupKnobs(degree: group.isDataParallel ? dpDegree : nil)
      for (name, knobs) in groupKnobs.sorted(by: { $0.key < $1.key })
      where plan.processGroups.named(name).contains(where: { $0.name == group.name }) {
        effect.scale *= knobs.scale
        effect.bandwidth = knobs.bandwidth ?? effect.bandwidth
        effect.degree = knobs.degree ?? effect.degree
      }
      out[id] = effect
    }
    return out
  }

  /// Applies a hardware transfer's factors: device work and host leaves scale their measured
  /// time; on CPU-only ranks each operator changes by its own time (`ownTime`), as the compute
  /// knobs do there.
  static func apply(_ r: HardwareTransfer.Retiming, _ plan: ReplayPlan, to durations: inout [Int64]) {
    let g = plan.graph
    let own = plan.cpuOnlyRanks.isEmpty ? [] : ownTime(plan, g.duration)
    for e in 0..<g.eventCount where r.factor[e] != 1 {
      if g.kind[e] == .hostOp && !own.isEmpty && plan.cpuOnlyRanks.contains(g.rank(of: e)) {
        durations[e] += Int64(saturating: Double(own[e]) * (r.factor[e] - 1))
      } else {
        durations[e] = Int64(saturating: Double(durations[e]) * r.factor[e])
      }
    }
  }

  /// The network re-timing this scenario applies, if any: with `retimesNetwork`, a hardware
  /// transfer or `comm.algorithm`.
  public var network: NetworkRetiming? {
    guard retimesNetwork || transfer != nil || commAlgorithm != nil else { return nil }
    return NetworkRetiming(
      cluster: cluster, source: transfer?.source ?? hardware, target: transfer?.target,
      algorithm: commAlgorithm ?? .ring)
  }

  /// Each host op's own time: its duration less its children's (its whole duration for a leaf).
  public static func ownTime(_ plan: ReplayPlan, _ durations: [Int64]) -> [Int64] {
    let g = plan.graph
    var own = durations
    for e in 0..<g.eventCount where g.parent[e] != .none { own[g.parent[e].index] -= durations[e] }
    return own.map { max(0, $0) }
  }

  /// Where the link bandwidth B₀ of the link knobs comes from, for a transfer within one node
  /// or across nodes.
  public func linkBaselineSource(crossesNodes: Bool) -> LinkBaseline.Source {
    if let cluster { return .cluster(cluster.name) }
    if !crossesNodes, let hardware, let link = hardware.interconnect {
      return .hardware(hardware.name, link: link.name)
    }
    return .measured
  }

  /// The link bandwidth B₀ a link knob scales barrier instance `i` from (bytes per second; nil
  /// when unknown), whether the instance crosses nodes (ranks fill nodes of 8 without
  /// `cluster`), and its bus bytes `S·f`: the path's bottleneck in `cluster`, else inside a node
  /// the `hardware`'s interconnect, else the measured bus bandwidth `S·f/T`.
  func linkBaseline(_ plan: ReplayPlan, instance i: Int) -> (crossesNodes: Bool, bandwidth: Double?, busBytes: Double) {
    let g = plan.graph
    let members = plan.members(of: i).map { Int($0) }
    let ranks = members.map { g.rank(of: $0) }
    let busBytes =
      Double(plan.instanceBytes[i].rawValue) * BusFactor.factor(plan.collectiveKind(of: i), ranks: members.count)
    if let cluster {
      let b = cluster.bottleneck(for: ranks)
      return (b.crossesNodes, b.bandwidth.rawValue, busBytes)
    }
    let crosses = Set(ranks.map { Int($0.rawValue) / 8 }).count > 1
    if !crosses, let link = hardware?.interconnect { return (false, link.gbpsPerDirection * 1e9, busBytes) }
    let measured = Double(plan.instanceTransfer[i].rawValue)
    return (crosses, (busBytes > 0 && measured > 0) ? busBytes / (measured / 1e9) : nil, busBytes)
  }

  /// Transfer time of barrier instance `i` under the knobs; `group` is what the process-group
  /// knobs do to its group.
  func transfer(_ plan: ReplayPlan, instance i: Int, group: GroupKnobs? = nil, from base: Double? = nil) -> Nanoseconds
  {
    let members = plan.members(of: i)
    let kind = plan.collectiveKind(of: i)
    var t = base ?? Double(plan.instanceTransfer[i].rawValue)
    // The measured α is not separable from one measurement: taken as 0; link.latency adds α'.
    let alphaOld = 0.0
    // Link bandwidth change: T' = α' + (T − α)·B/B'.
    if intraBandwidth != nil || interBandwidth != nil || group?.bandwidth != nil {
      let link = linkBaseline(plan, instance: i)
      let newBandwidth = group?.bandwidth ?? (link.crossesNodes ? interBandwidth : intraBandwidth)
      if let newB = newBandwidth?.rawValue, let oldB = link.bandwidth, oldB > 0 {
        t = alphaOld + (t - alphaOld) * oldB / newB
      }
    }
    if let latency { t += Double(latency.rawValue) }
    // Another degree for the group (`dp.degree` on the data-parallel groups, `pg.NAME.degree`):
    // rescale by the bus factor of the new group size.
    if let n = group?.degree, let k = kind, members.count >= 2 {
      let fOld = BusFactor.factor(k, ranks: members.count)
      let fNew = BusFactor.factor(k, ranks: n)
      if fOld > 0 { t *= fNew / fOld }
    }
    t *= commScale * (group?.scale ?? 1)
    return Nanoseconds(rawValue: Int64(saturating: max(0, t)))
  }

  /// The knobs as a JSON-ready dictionary.
  public func knobDictionary() -> [String: String] {
    var d: [String: String] = [:]
    for (k, v) in settings { d[k] = v }
    return d
  }
}
