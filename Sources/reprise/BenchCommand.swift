import ArgumentParser
import Foundation
import Replay
import TraceModel

struct BenchCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bench-replay",
    abstract: "Benchmark the replay engine on a generated data-parallel run (for make bench).",
    shouldDisplay: false)

  @Option(help: "Ranks.") var ranks = 8
  @Option(help: "Kernels per rank (each with its launch).") var kernels = 500_000
  @Option(help: "Replays to time.") var repeats = 5

  func run() throws {
    let t0 = Date()
    let graph = SyntheticWorkload.dataParallel(ranks: ranks, kernelsPerRank: kernels)
    let t1 = Date()
    let plan = ReplayPlan(graph)
    let t2 = Date()
    var times: [Double] = []
    var timeline: Timeline? = nil
    for _ in 0..<repeats {
      let s = DispatchTime.now().uptimeNanoseconds
      timeline = try Replayer().replay(plan)
      times.append(Double(DispatchTime.now().uptimeNanoseconds - s) / 1e9)
    }
    times.sort()
    let n = Double(graph.eventCount)
    let identical = timeline == Timeline(measured: graph)
    print("graph: \(ranks) ranks, \(graph.eventCount) events, \(graph.edgeCount) edges, \(plan.instanceCount) collective instances (built in \(String(format: "%.2f", t1.timeIntervalSince(t0))) s, plan \(String(format: "%.2f", t2.timeIntervalSince(t1))) s)")
    print(String(format: "replay: best %.3f s = %.1f M events/s, median %.3f s = %.1f M events/s (one core); identity reproduced: %@",
                 times[0], n / times[0] / 1e6, times[times.count / 2], n / times[times.count / 2] / 1e6, identical ? "yes" : "NO"))
    if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
       let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM") }) {
      print("peak RSS: \(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().joined(separator: " "))")
    }
  }
}
