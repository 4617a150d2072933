import Foundation
import TraceModel

/// What one `--set` knob acts on in a run (`Scenario.matches(in:)`): how many kernels, launch
/// calls, communication events, ranks or transfers it re-times. A knob that matches nothing
/// changes nothing; `warning` says so, and why.
public struct KnobMatch: Sendable, Equatable {
  /// What a knob's matches count.
  public enum Target: String, Sendable {
    case kernels
    case launchCalls = "launch calls"
    case communicationEvents = "communication events"
    case ranks
    /// Collective instances and send/recv pairs whose transfer time the knob re-derives.
    case transfers
    /// All-reduce instances of data-parallel groups that stop waiting for their K late members
    /// (`dp.backup`).
    case allReduces = "data-parallel all-reduces"
  }

  public var key: String
  public var value: String
  public var target: Target
  public var matched: Int
  /// Why nothing matched (shown with the warning), or how to widen the match.
  public var hint: String
  /// For `link.intra.bandwidth` and `link.inter.bandwidth`: the bandwidth the knob scales from.
  public var baseline: LinkBaseline?

  /// `knob KEY=VALUE matched 0 kernels (hint)` when the knob matched nothing, else nil.
  public var warning: String? {
    matched > 0 ? nil : "knob \(key)=\(value) matched 0 \(target.rawValue)" + (hint.isEmpty ? "" : " (\(hint))")
  }
}

/// The link bandwidth B₀ that a link knob scales the matched transfers from,
/// `T' = α' + (T − α)·B₀/B'`, and where it comes from.
public struct LinkBaseline: Sendable, Equatable, CustomStringConvertible {
  public enum Source: Sendable, Equatable {
    /// The path's bottleneck in the cluster spec of this name (`--cluster`).
    case cluster(String)
    /// The interconnect of the hardware spec of this name: the GPU named in `deviceProperties`.
    case hardware(String, link: String)
    /// Each transfer's measured bus bandwidth `S·f/T` (no spec says the link's peak).
    case measured
  }

  public var source: Source
  /// B₀ over the matched transfers, weighted by their bus bytes (`ΣS·f / Σ(S·f/B₀)`: the value
  /// itself when every transfer has the same B₀); nil when nothing matched.
  public var gbps: Double?

  /// `hardware`, `cluster` or `measured`.
  public var kind: String {
    switch source {
    case .cluster: "cluster"
    case .hardware: "hardware"
    case .measured: "measured"
    }
  }

  /// Where B₀ comes from and its value, for the text.
  public var description: String {
    let value = gbps.map { String(format: "%.1f GB/s", $0) } ?? "unknown"
    switch source {
    case .cluster(let name): return "the links of cluster \(name), \(value)"
    case .hardware(let name, let link):
      return "the \(name) spec's \(link), \(value) per direction (the GPU named in deviceProperties)"
    case .measured:
      return "the measured bus bandwidth, \(value) weighted by bus bytes "
        + "(no GPU spec with an interconnect for this trace and no --cluster)"
    }
  }

  /// The spec and link B₀ comes from (`v100-sxm2-32gb NVLink 2`, `v100-dgx1`); nil when measured.
  public var spec: String? {
    switch source {
    case .cluster(let name): name
    case .hardware(let name, let link): name + " " + link
    case .measured: nil
    }
  }
}

extension Scenario {
  /// What each knob matches in `plan`'s graph, in the order the knobs were given: the events,
  /// ranks and transfers the knobs re-time when the plan replays under this scenario.
  public func matches(in plan: ReplayPlan) -> [KnobMatch] {
    let g = plan.graph
    let counts = EventCounts(plan)
    let ranks = Set(g.ranks.map(\.rank))
    var transfers = (intra: 0, inter: 0, dp: 0)
    var links = [false: LinkSums(), true: LinkSums()]
    for i in 0..<plan.instanceCount {
      if plan.collectiveKind(of: i) != nil, plan.members(of: i).count >= 2 { transfers.dp += 1 }
      guard intraBandwidth != nil || interBandwidth != nil else { continue }
      let link = linkBaseline(plan, instance: i)
      if let b = link.bandwidth, b > 0 {
        if link.crossesNodes { transfers.inter += 1 } else { transfers.intra += 1 }
        links[link.crossesNodes, default: LinkSums()].add(bandwidth: b, busBytes: link.busBytes)
      }
    }
    func baseline(crossesNodes: Bool) -> LinkBaseline {
      LinkBaseline(source: linkBaselineSource(crossesNodes: crossesNodes), gbps: links[crossesNodes]?.gbps)
    }
    return settings.map { key, value in
      func match(_ target: KnobMatch.Target, _ n: Int, _ hint: String) -> KnobMatch {
        KnobMatch(key: key, value: value, target: target, matched: n, hint: n > 0 ? "" : hint)
      }
      switch key {
      case "compute.scale": return match(.kernels, counts.kernels, "the trace has no device kernels")
      case "kernel.match":
        let pattern = value.range(of: ",scale=", options: .backwards).map { String(value[..<$0.lowerBound]) } ?? value
        return match(
          .kernels, counts.kernels(matching: pattern, in: g),
          "no kernel name matches; the regular expression is case-sensitive, (?i) makes it ignore case")
      case "comm.scale":
        return match(.communicationEvents, counts.communication, "the trace has no collectives or send/recv")
      case "link.intra.bandwidth":
        var m = match(.transfers, transfers.intra, "no collective or send/recv within one node has a known size")
        m.baseline = baseline(crossesNodes: false)
        return m
      case "link.inter.bandwidth":
        let nodes = cluster == nil ? "; without --cluster, ranks fill nodes of 8" : ""
        var m = match(.transfers, transfers.inter, "no collective or send/recv of a known size crosses nodes" + nodes)
        m.baseline = baseline(crossesNodes: true)
        return m
      case "link.latency": return match(.transfers, plan.instanceCount, "the trace has no matched collectives")
      case "host.launch": return match(.launchCalls, counts.launches, "the trace has no kernel launch calls")
      case "dp.degree":
        return match(.transfers, transfers.dp, "the trace has no collectives of two or more ranks")
      case "dp.backup":
        let n = backupWorkers(for: plan).lazy.filter { $0 > 0 }.count
        let why =
          dpBackup == 0
          ? "K=0 waits for every member, as without the knob"
          : "no all-reduce of a data-parallel group has more than K members; data-parallel groups: "
            + plan.processGroups.dataParallelRule
        return match(.allReduces, n, why)
      default:
        if let cls = Self.computeClass(ofKey: key) {
          return match(.kernels, counts.byClass[cls] ?? 0, "the trace has no \(cls.name) kernels")
        }
        let rank = key.split(separator: ".").dropFirst().first.flatMap { Int32($0) }.map(RankID.init(rawValue:))
        return match(.ranks, rank.map { ranks.contains($0) ? 1 : 0 } ?? 0, "the trace has ranks " + Self.list(ranks))
      }
    }
  }

  /// The compute class a `compute.CLASS.scale` key names.
  static func computeClass(ofKey key: String) -> ComputeClass? {
    let parts = key.split(separator: ".")
    guard parts.count == 3, parts[0] == "compute", parts[2] == "scale" else { return nil }
    return ComputeClass.allCases.first { $0.name == parts[1] }
  }

  /// `0–7`, or the ranks one by one when they are not contiguous.
  static func list(_ ranks: Set<RankID>) -> String {
    let sorted = ranks.map { Int($0.rawValue) }.sorted()
    guard let first = sorted.first, let last = sorted.last else { return "none" }
    if last - first + 1 == sorted.count { return first == last ? "\(first)" : "\(first)–\(last)" }
    return sorted.map(String.init).joined(separator: ", ")
  }
}

/// The link baselines of the transfers a link knob matched, for their bus-bytes-weighted mean.
private struct LinkSums {
  var busBytes = 0.0
  var seconds = 0.0
  var bandwidths: [Double] = []

  mutating func add(bandwidth: Double, busBytes bytes: Double) {
    busBytes += bytes
    seconds += bytes / bandwidth
    bandwidths.append(bandwidth)
  }

  /// ΣS·f / Σ(S·f/B₀) in GB/s; the plain mean when no transfer has a known size; nil when empty.
  var gbps: Double? {
    if busBytes > 0 && seconds > 0 { return busBytes / seconds / 1e9 }
    return bandwidths.isEmpty ? nil : bandwidths.reduce(0, +) / Double(bandwidths.count) / 1e9
  }
}

/// The events the compute, communication and host knobs act on, counted once per graph.
private struct EventCounts {
  var kernels = 0
  var byClass: [ComputeClass: Int] = [:]
  var kernelsByName: [NameID: Int] = [:]
  var communication = 0
  var launches = 0

  init(_ plan: ReplayPlan) {
    let g = plan.graph
    let launchNames = Set(Scenario.launchCalls.compactMap { g.strings.lookup($0) })
    for e in 0..<g.eventCount {
      switch g.kind[e] {
      case .kernel:
        kernels += 1
        byClass[ComputeClass(rawValue: g.detail[e]) ?? .other, default: 0] += 1
        kernelsByName[g.name[e], default: 0] += 1
      case .collective, .send, .recv: communication += 1
      // A launch call with traced children keeps its time (`Scenario.apply`): not counted.
      case .hostOp where launchNames.contains(g.name[e]) && plan.role[e] != .hostParent: launches += 1
      default: break
      }
    }
  }

  /// Kernels whose name `pattern` matches (as `kernel.match` applies it: anywhere in the name).
  func kernels(matching pattern: String, in g: EventGraph) -> Int {
    guard let re = try? NSRegularExpression(pattern: pattern) else { return 0 }
    return kernelsByName.reduce(0) { n, entry in
      let text = g.strings[entry.key]
      let hit = re.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
      return n + (hit ? entry.value : 0)
    }
  }
}
