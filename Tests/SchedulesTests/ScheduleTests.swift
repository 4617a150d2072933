import Schedules
import Testing
import TraceModel

private func costs(_ p: Int, _ f: Double, _ b: Double, _ w: Double, comm: Double = 0) -> PipelineCosts {
  // Units of 1e6 ns so fractional costs (1.5, 1.2, 0.8) stay exact integers.
  func ns(_ x: Double) -> Nanoseconds { Nanoseconds(Int64((x * 1_000_000).rounded())) }
  return PipelineCosts(
    stages: p, forward: ns(f), backward: ns(b), weight: ns(w), comm: ns(comm), memB: Bytes(1000), memW: Bytes(400))
}

/// Synthetic closed-form checks (simulation == closed form, no comm): makespans of 1F1B, ZB-H1 and
/// ZB-H2 from the bubble formulas of Qi et al., Zero Bubble Pipeline Parallelism (ICLR'24), Table 2.
@Test(arguments: [
  (4, 8, 1.0, 1.0, 1.0, 33.0, 27.0, 24.0),
  (4, 8, 2, 1.5, 1, 49.5, 43.5, 40.5),
  (8, 24, 1, 1, 1, 93, 79, 72),
  (8, 32, 1.0, 1.2, 0.8, 117, 105.8, 100.2),
])
func syntheticTable(p: Int, m: Int, f: Double, b: Double, w: Double, oneF1B: Double, h1: Double, h2: Double) throws {
  let c = costs(p, f, b, w)
  #expect(
    Double(try ScheduleSimulator.simulate("1f1b", stages: p, microbatches: m, costs: c).makespan.rawValue) / 1e6
      == oneF1B)
  #expect(
    Double(try ScheduleSimulator.simulate("zb-h1", stages: p, microbatches: m, costs: c).makespan.rawValue) / 1e6 == h1)
  #expect(
    Double(try ScheduleSimulator.simulate("zb-h2", stages: p, microbatches: m, costs: c).makespan.rawValue) / 1e6 == h2)
}

@Test func smallMicrobatchCounts() throws {
  // p = 4, m = 4: 1F1B 21; ZB-H1 15 = (m+p−1)(T_F+T_B)+T_W; ZB-H2 also 15 (m < 2p−1).
  let c = costs(4, 1, 1, 1)
  #expect(try ScheduleSimulator.simulate("1f1b", stages: 4, microbatches: 4, costs: c).makespan.rawValue == 21_000_000)
  #expect(try ScheduleSimulator.simulate("zb-h1", stages: 4, microbatches: 4, costs: c).makespan.rawValue == 15_000_000)
  #expect(try ScheduleSimulator.simulate("zb-h2", stages: 4, microbatches: 4, costs: c).makespan.rawValue == 15_000_000)
}

@Test(arguments: [(4, 8, 2, 0.1579), (8, 32, 4, 0.0519), (4, 4, 2, 0.2727)])
func interleavedBubbleRates(p: Int, m: Int, v: Int, rate: Double) throws {
  let r = try ScheduleSimulator.simulate(
    "interleaved-1f1b", stages: p, microbatches: m, chunks: v, costs: costs(p, 1, 1, 1))
  #expect(abs(r.bubbleRate - rate) <= 5e-5, "\(r.bubbleRate)")
  #expect(abs(r.bubbleRate - Double(p - 1) / Double(v * m + p - 1)) < 1e-12)
}

@Test(arguments: [(2, 4), (4, 8), (4, 16), (8, 8), (8, 32), (3, 7)])
func closedFormBubbleRates(p: Int, m: Int) throws {
  let c = costs(p, 1, 1, 1)
  let expected = Double(p - 1) / Double(m + p - 1)
  for name in ["gpipe", "1f1b"] {
    #expect(
      abs(try ScheduleSimulator.simulate(name, stages: p, microbatches: m, costs: c).bubbleRate - expected) < 1e-12,
      "\(name)")
  }
  let h1 = try ScheduleSimulator.simulate("zb-h1", stages: p, microbatches: m, costs: c)
  if m >= p { #expect(abs(h1.bubbleRate - Double(p - 1) / Double(3 * m + p - 1)) < 1e-12) }
  let h2 = try ScheduleSimulator.simulate("zb-h2", stages: p, microbatches: m, costs: c)
  if m >= 2 * p - 1 { #expect(h2.bubbleRate == 0, "zb-h2 p=\(p) m=\(m): \(h2.bubbleRate)") }
}

/// Invariants for every generator over many (p, m, v).
@Test(arguments: ScheduleGenerators.names)
func generatorInvariants(name: String) throws {
  for p in 1...6 {
    if name == "bitpipe" && p % 2 == 1 { continue }
    for m in [1, 2, 3, p, 2 * p, 2 * p + 1, 4 * p] {
      let chunked = name == "interleaved-1f1b" || name == "zeropp"
      for v in (chunked ? [2, 3] : name == "hanayo" ? [1, 2, 3] : [1]) {
        if chunked && m % p != 0 { continue }
        let c = costs(p, 1, 1.3, 0.7, comm: 0.1)
        let r = try ScheduleSimulator.simulate(name, stages: p, microbatches: m, chunks: v, costs: c)
        // Every op exactly once.
        var seen = Set<PipelineOp>()
        for stage in r.ops {
          for (op, s, e) in stage {
            #expect(seen.insert(op).inserted, "\(name) \(op) twice")
            #expect(e >= s)
          }
        }
        let split = name.hasPrefix("zb") || name == "zeropp"
        #expect(seen.count == p * m * r.chunks * (split ? 3 : 2), "\(name) p=\(p) m=\(m) v=\(v)")
        // No overlap on a stage.
        for stage in r.ops { for (a, b) in zip(stage, stage.dropFirst()) { #expect(b.start >= a.end) } }
        // Dependencies hold, with the transfer time between stages.
        var end: [PipelineOp: Int64] = [:]
        var start: [PipelineOp: Int64] = [:]
        for stage in r.ops {
          for (op, s, e) in stage {
            end[op] = e.rawValue
            start[op] = s.rawValue
          }
        }
        let placement = ScheduleGenerators.placement(name)
        for (op, s) in start {
          let k = placement.virtualStage(stage: op.stage, chunk: op.chunk, microbatch: op.microbatch, stages: p)
          if op.kind == .F && k > 0 {
            let prevStage = placement.stage(of: k - 1, microbatch: op.microbatch, stages: p)
            let prev = PipelineOp(kind: .F, stage: prevStage, chunk: (k - 1) / p, microbatch: op.microbatch)
            #expect(s >= end[prev]! + (prev.stage == op.stage ? 0 : 100_000), "\(name) \(op) before \(prev)")
          }
          if op.kind == .W {
            #expect(s >= end[PipelineOp(kind: .B, stage: op.stage, chunk: op.chunk, microbatch: op.microbatch)]!)
          }
        }
        // Peak in-flight micro-batches (1F1B family: p − i on stage i; GPipe: m).
        if name == "1f1b" || name == "zb-h1" {
          for i in 0..<p { #expect(r.peakInFlight[i] == min(p - i, m), "\(name) p=\(p) m=\(m) stage \(i)") }
        }
        if name == "gpipe" { #expect(r.peakInFlight.allSatisfy { $0 == m }) }
        // ZeroPP keeps interleaved 1F1B's in-flight chunk activations (Megatron's warm-up + 1).
        if name == "zeropp" {
          let i1 = try ScheduleSimulator.simulate("interleaved-1f1b", stages: p, microbatches: m, chunks: v, costs: c)
          #expect(r.peakInFlight == i1.peakInFlight, "zeropp p=\(p) m=\(m) v=\(v)")
        }
      }
    }
  }
}

@Test func zbMemoryMatchesThePaper() throws {
  // ZB Table 2 / §2.3 (1-based worker i): H1 (p−i+1)·M_B + (i−1)·M_W, capped by the number of
  // micro-batches; 1F1B p·M_B on the first stage.
  let p = 4
  let m = 12
  let c = costs(p, 1, 1, 1)
  let h1 = try ScheduleSimulator.simulate("zb-h1", stages: p, microbatches: m, costs: c)
  for i in 0..<p {
    let worker = i + 1
    let expected = Int64(p - worker + 1) * 1000 + Int64(worker - 1) * 400
    #expect(h1.peakActivation[i].rawValue == expected, "worker \(worker): \(h1.peakActivation[i]) vs \(expected)")
  }
  let oneF1B = try ScheduleSimulator.simulate("1f1b", stages: p, microbatches: m, costs: c)
  #expect(oneF1B.peakActivation[0].rawValue == Int64(p) * 1000)
  #expect(oneF1B.peakActivation.map(\.rawValue) == (0..<p).map { Int64(p - $0) * 1000 })
}

@Test func unknownSchedulesAndBadShapesAreErrors() {
  #expect(throws: ScheduleError.self) {
    try ScheduleSimulator.simulate("zb-h3", stages: 4, microbatches: 8, costs: costs(4, 1, 1, 1))
  }
  #expect(throws: ScheduleError.self) {
    try ScheduleSimulator.simulate("interleaved-1f1b", stages: 4, microbatches: 6, chunks: 2, costs: costs(4, 1, 1, 1))
  }
  #expect(throws: ScheduleError.self) {
    try ScheduleSimulator.simulate("bitpipe", stages: 3, microbatches: 6, costs: costs(3, 1, 1, 1))
  }
}

@Test func vShapeAndBidirectionalBeat1F1B() throws {
  for p in 2...8 {
    for m in [p, 2 * p, 4 * p] {
      let c = costs(p, 1, 1.3, 0.7, comm: 0.05)
      let base = try ScheduleSimulator.simulate("1f1b", stages: p, microbatches: m, costs: c).bubbleRate
      for name in ["zb-v", "bitpipe"] where name == "zb-v" || p % 2 == 0 {
        let r = try ScheduleSimulator.simulate(name, stages: p, microbatches: m, costs: c)
        #expect(r.bubbleRate <= base + 1e-12, "\(name) p=\(p) m=\(m): \(r.bubbleRate) > 1f1b \(base)")
      }
    }
  }
}

@Test func hanayoWithOneWaveIs1F1B() throws {
  for p in 1...8 {
    for m in [1, p, 2 * p + 1, 3 * p] {
      #expect(
        try ScheduleGenerators.orders("hanayo", stages: p, microbatches: m, chunks: 1)
          == (try ScheduleGenerators.orders("1f1b", stages: p, microbatches: m, chunks: 1)), "p=\(p) m=\(m)")
    }
  }
}

@Test func zbH2MemoryMatchesThePaper() throws {
  // ZB Table 2: worker i (1-based) holds (2p − 2i + 1)·M_B + (2i − 2)·M_W when m ≥ 2p − 1.
  let p = 4
  let m = 12
  let r = try ScheduleSimulator.simulate("zb-h2", stages: p, microbatches: m, costs: costs(p, 1, 1, 1))
  for i in 0..<p {
    let w = i + 1
    #expect(
      r.peakActivation[i].rawValue == Int64(2 * p - 2 * w + 1) * 1000 + Int64(2 * w - 2) * 400,
      "worker \(w): \(r.peakActivation[i])")
  }
}

@Test func pipeOffloadSavesMemoryAndAddsUnhiddenTransfer() throws {
  let p = 4
  let m = 8
  // M_B = 1 GB; T_F = 10 ms, T_B = 20 ms.
  let c = PipelineCosts(
    stages: p, forward: Nanoseconds(10_000_000), backward: Nanoseconds(20_000_000), weight: .zero,
    memB: Bytes(1_000_000_000), memW: Bytes(0))
  let r = try ScheduleSimulator.simulate("1f1b", stages: p, microbatches: m, costs: c)
  // Half the activations over 25 GB/s: 20 ms per transfer; 10 ms not hidden by each forward.
  let o = try #require(ScheduleSimulator.offload(r, costs: c, ratio: 0.5, pcie: BytesPerSecond(rawValue: 25e9)).offload)
  #expect(o.saved.map(\.rawValue) == [1_500_000_000, 1_000_000_000, 500_000_000, 0])
  #expect(o.peakActivationAfter.map(\.rawValue) == [2_500_000_000, 2_000_000_000, 1_500_000_000, 1_000_000_000])
  #expect(o.added.allSatisfy { $0.rawValue == Int64(m) * 10_000_000 })
  // Fast enough PCIe hides everything.
  let hidden = try #require(
    ScheduleSimulator.offload(r, costs: c, ratio: 0.5, pcie: BytesPerSecond(rawValue: 100e9)).offload)
  #expect(hidden.added.allSatisfy { $0 == .zero })
}

/// Issue 12, bug 8: `schedule interleaved-1f1b` ran with v = 1 (plain 1F1B) while `compare` used
/// v = 2. One default, 2, for the chunked schedules; v = 1 is refused for interleaved 1F1B.
@Test func chunkedSchedulesDefaultToTwoChunksAndInterleavedRefusesOne() throws {
  let c = costs(4, 1, 1, 1)
  for name in ["interleaved-1f1b", "hanayo"] {
    let byDefault = try ScheduleSimulator.simulate(name, stages: 4, microbatches: 8, costs: c)
    let two = try ScheduleSimulator.simulate(name, stages: 4, microbatches: 8, chunks: 2, costs: c)
    #expect(byDefault.chunks == 2 && byDefault.makespan == two.makespan, "\(name)")
  }
  #expect(throws: ScheduleError.self) {
    try ScheduleSimulator.simulate("interleaved-1f1b", stages: 4, microbatches: 8, chunks: 1, costs: c)
  }
  #expect(try ScheduleGenerators.chunks("hanayo", requested: 1) == 1)
  #expect(try ScheduleGenerators.chunks("zb-v", requested: 3) == 2)
  #expect(try ScheduleGenerators.chunks("1f1b", requested: 3) == 1)
}
