import Replay
import Schedules
import Testing
import TraceModel

/// Generated schedules replay through the same engine as recorded traces: identity reproduces
/// the simulation, and scaling every op's time replays exactly like re-simulating with the
/// scaled costs (same op orders).
@Test(arguments: ScheduleGenerators.names)
func schedulesReplayThroughTheEngine(name: String) throws {
  for (p, m) in [(2, 4), (4, 8), (4, 12)] {
    let v = name == "interleaved-1f1b" || name == "hanayo" || name == "zeropp" ? 2 : 1
    let costs = PipelineCosts(
      stages: p, forward: Nanoseconds(1_000_000), backward: Nanoseconds(1_300_000), weight: Nanoseconds(700_000))
    let r = try ScheduleSimulator.simulate(name, stages: p, microbatches: m, chunks: v, costs: costs)
    let g = r.eventGraph()
    #expect(g.validate().isEmpty)
    let plan = ReplayPlan(g)
    let identity = try Replayer().replay(plan)
    #expect(identity == Timeline(measured: g), "\(name) p=\(p) m=\(m)")
    // Half-speed backward: compare with the simulator given the same op orders.
    let scenario = try Scenario.parse(["kernel.match=^(B|BW),scale=2"])
    let predicted = try Replayer().replay(plan, with: scenario)
    let slower = PipelineCosts(
      stages: p, forward: Nanoseconds(1_000_000), backward: Nanoseconds(2_600_000), weight: Nanoseconds(700_000))
    var expectedCosts = slower
    if name == "gpipe" || name == "1f1b" || name == "interleaved-1f1b" || name == "hanayo" || name == "bitpipe" {
      // Fused B+W: the knob doubles the whole fused op, so double W too.
      expectedCosts = PipelineCosts(
        stages: p, forward: Nanoseconds(1_000_000), backward: Nanoseconds(2_600_000), weight: Nanoseconds(1_400_000))
    }
    let resim = try ScheduleSimulator.simulate(name, stages: p, microbatches: m, chunks: v, costs: expectedCosts)
    let makespan = (predicted.end.max() ?? .zero) - (predicted.start.min() ?? .zero)
    let resimSpan =
      (resim.ops.compactMap { $0.last?.end }.max() ?? .zero) - (resim.ops.compactMap { $0.first?.start }.min() ?? .zero)
    if name.hasPrefix("zb-v") || name == "hanayo" || name == "bitpipe" {
      // Greedy orders can change with the costs; the replay keeps the recorded order.
      #expect(makespan >= (identity.end.max() ?? .zero) - (identity.start.min() ?? .zero))
    } else {
      #expect(makespan == resimSpan, "\(name) p=\(p) m=\(m): replay \(makespan) vs re-simulated \(resimSpan)")
    }
  }
}
