import Schedules
import Testing
import TraceModel

/// ZeroPP (Tang et al., arXiv 2402.03791). The paper's body was not available, so these check
/// the order derived in `ScheduleGenerators` (docs/schedules.md, ZeroPP), not figures of the paper.
private func costs(_ p: Int, _ f: Double, _ b: Double, _ w: Double, comm: Double = 0) -> PipelineCosts {
  func ns(_ x: Double) -> Nanoseconds { Nanoseconds(Int64((x * 1_000_000).rounded())) }
  return PipelineCosts(
    stages: p, forward: ns(f), backward: ns(b), weight: ns(w), comm: ns(comm), memB: Bytes(1000), memW: Bytes(400))
}

private func labels(_ ops: [PipelineOp]) -> String {
  ops.map { "\($0.kind.rawValue)\($0.microbatch)" + ($0.chunk > 0 ? "c\($0.chunk)" : "") }.joined(separator: " ")
}

/// p = 4, m = 8, v = 2, by hand from the rules: units of p = 4 micro-batches per chunk (F0–F3 on
/// chunk 0, then F0c1–F3c1, then the next unit F4–F7); warm-up (p−i−1)·2 + (v−1)·p = 10, 8, 6, 4
/// F; then F, B, and a W once more than 2i are pending (stage 0 at once, stage 3 after 7 B);
/// backward chunks in reverse (c1 before c0 in each unit); then (B, W) pairs; then the held W.
@Test func zeroppOrderOnFourStagesEightMicrobatches() throws {
  let o = try ScheduleGenerators.orders("zeropp", stages: 4, microbatches: 8, chunks: 2)
  #expect(
    labels(o[0])
      == "F0 F1 F2 F3 F0c1 F1c1 F2c1 F3c1 F4 F5 F6 B0c1 W0c1 F7 B1c1 W1c1 F4c1 B2c1 W2c1 F5c1 B3c1 W3c1 "
      + "F6c1 B0 W0 F7c1 B1 W1 B2 W2 B3 W3 B4c1 W4c1 B5c1 W5c1 B6c1 W6c1 B7c1 W7c1 B4 W4 B5 W5 B6 W6 B7 W7")
  #expect(
    labels(o[3])
      == "F0 F1 F2 F3 F0c1 B0c1 F1c1 B1c1 F2c1 B2c1 F3c1 B3c1 F4 B0 F5 B1 F6 B2 W0c1 F7 B3 W1c1 F4c1 B4c1 W2c1 "
      + "F5c1 B5c1 W3c1 F6c1 B6c1 W0 F7c1 B7c1 W1 B4 W2 B5 W3 B6 W4c1 B7 W5c1 W6c1 W7c1 W4 W5 W6 W7")
  // Every stage runs each (kind, chunk, micro-batch) once: 3 · v · m ops.
  #expect(o.allSatisfy { Set($0).count == 48 && $0.count == 48 })
}

/// Bubble rate against ZB-H1 and interleaved 1F1B. The paper's table of bubble rates could not
/// be read, so no paper number is asserted; the comparison is between our simulations of the
/// three orders. With T_F = T_B = T_W and m ≥ 2p the derived order has no bubble up to p = 4
/// (W held back on the later stages fills exactly the 2i slots the warm-up leaves), and is
/// never worse than either baseline, also with uneven costs and transfers.
@Test(arguments: [2, 3, 4, 5, 6, 8])
func zeroppBubbleAgainstZBH1AndInterleaved(p: Int) throws {
  for v in [2, 3, 4] {
    for m in [2 * p, 3 * p, 4 * p] {
      for c in [costs(p, 1, 1, 1), costs(p, 1, 1.3, 0.7), costs(p, 1, 1.3, 0.7, comm: 0.05)] {
        let z = try ScheduleSimulator.simulate("zeropp", stages: p, microbatches: m, chunks: v, costs: c)
        let h1 = try ScheduleSimulator.simulate("zb-h1", stages: p, microbatches: m, costs: c)
        let i1 = try ScheduleSimulator.simulate("interleaved-1f1b", stages: p, microbatches: m, chunks: v, costs: c)
        #expect(z.bubbleRate <= h1.bubbleRate + 1e-12, "p=\(p) m=\(m) v=\(v): \(z.bubbleRate) > zb-h1 \(h1.bubbleRate)")
        #expect(z.bubbleRate <= i1.bubbleRate + 1e-12, "p=\(p) m=\(m) v=\(v): \(z.bubbleRate) > i1f1b \(i1.bubbleRate)")
      }
      if p <= 4 {
        let z = try ScheduleSimulator.simulate(
          "zeropp", stages: p, microbatches: m, chunks: v, costs: costs(p, 1, 1, 1))
        // 1e-5: with v = 3 each chunk op is T/3 rounded down to whole nanoseconds (−1e-6 here).
        #expect(abs(z.bubbleRate) < 1e-5, "p=\(p) m=\(m) v=\(v): \(z.bubbleRate)")
      }
    }
  }
}

/// Memory: stage i holds interleaved 1F1B's chunk activations in flight, w_i + 1 with Megatron's
/// warm-up w_i = (p−i−1)·2 + (v−1)·p, each M_B/v, plus 2i held-back W of M_W/v each; the
/// largest stage (the first) equals interleaved 1F1B's peak.
@Test func zeroppMemoryIsInterleavedPlusHeldBackW() throws {
  for (p, m, v) in [(4, 12, 2), (4, 8, 4), (6, 18, 3), (8, 32, 2)] {
    let c = costs(p, 1, 1, 1)
    let z = try ScheduleSimulator.simulate("zeropp", stages: p, microbatches: m, chunks: v, costs: c)
    let i1 = try ScheduleSimulator.simulate("interleaved-1f1b", stages: p, microbatches: m, chunks: v, costs: c)
    for i in 0..<p {
      let inFlight = min((p - i - 1) * 2 + (v - 1) * p + 1, m * v)
      #expect(z.peakInFlight[i] == inFlight, "p=\(p) m=\(m) v=\(v) stage \(i)")
      let expected = Int64(inFlight) * (1000 / Int64(v)) + Int64(2 * i) * (400 / Int64(v))
      #expect(z.peakActivation[i].rawValue == expected, "p=\(p) m=\(m) v=\(v) stage \(i): \(z.peakActivation[i])")
    }
    #expect(z.peakActivation.max() == i1.peakActivation.max(), "p=\(p) m=\(m) v=\(v)")
  }
}

@Test func zeroppRefusesOneChunkAndPartialUnits() throws {
  let c = costs(4, 1, 1, 1)
  #expect(throws: ScheduleError.self) {
    try ScheduleSimulator.simulate("zeropp", stages: 4, microbatches: 8, chunks: 1, costs: c)
  }
  #expect(throws: ScheduleError.self) {
    try ScheduleSimulator.simulate("zeropp", stages: 4, microbatches: 6, chunks: 2, costs: c)
  }
  #expect(try ScheduleGenerators.chunks("zeropp", requested: nil) == ScheduleGenerators.defaultChunks)
  #expect(ScheduleGenerators.takesChunks("zeropp") && ScheduleGenerators.names.contains("zeropp"))
}
