import TestSupport
import Testing
import TraceModel

@Test func microsecondsRoundToNearestOnce() {
  #expect(Nanoseconds(microseconds: 12.5).rawValue == 12_500)
  #expect(Nanoseconds(microseconds: 0.0004).rawValue == 0)
  #expect(Nanoseconds(microseconds: 0.0006).rawValue == 1)
  #expect(Nanoseconds(microseconds: -1.5).rawValue == -1_500)
}

@Test func unitsDivideIntoTime() {
  // 1 GB at 100 GB/s = 10 ms; 1 TFLOP at 500 TFLOP/s = 2 ms.
  #expect((Bytes(1_000_000_000) / BytesPerSecond(rawValue: 100e9)).rawValue == 10_000_000)
  #expect((FLOPs(rawValue: 1e12) / FLOPsPerSecond(rawValue: 500e12)).rawValue == 2_000_000)
  #expect(Nanoseconds(3) + Nanoseconds(4) == Nanoseconds(7))
  #expect(Nanoseconds(10) / Nanoseconds(4) == 2.5)
}

@Test func stringTableInternsOnce() {
  var t = StringTable()
  let a = t.intern("aten::mm")
  let b = t.intern("aten::mm")
  let c = t.intern("x")
  #expect(a == b && a != c && t[a] == "aten::mm" && t[NameID.empty] == "" && t.count == 3)
}

@Test func builderLaysOutEdgesAsCSR() {
  var b = EventGraph.Builder()
  b.lanes.append(Lane(rank: RankID(0), kind: .hostThread, device: -1, pid: 1, tid: 1, name: b.strings.intern("t")))
  let n = b.strings.intern("op")
  for i in 0..<4 { b.addEvent(lane: LaneID(0), name: n, kind: .hostOp, start: Int64(i * 10), duration: 5) }
  b.addEdge(from: EventID(2), to: EventID(3), kind: .programOrder)
  b.addEdge(from: EventID(0), to: EventID(1), kind: .programOrder)
  b.addEdge(from: EventID(0), to: EventID(3), kind: .launch)
  let g = b.build()
  #expect(g.edgeOffsets == [0, 2, 2, 3, 3])
  #expect(Array(g.edges(from: EventID(0))).map(\.target) == [EventID(1), EventID(3)])
  #expect(Array(g.edges(from: EventID(0))).map(\.kind) == [.programOrder, .launch])
  #expect(g.validate().isEmpty)
  #expect(g.toBuilder().build() == g)
}

@Test func validateFindsCyclesAndNegativeDurations() {
  var b = EventGraph.Builder()
  b.lanes.append(Lane(rank: RankID(0), kind: .hostThread, device: -1, pid: 1, tid: 1, name: .empty))
  b.addEvent(lane: LaneID(0), name: .empty, kind: .hostOp, start: 0, duration: -1)
  b.addEvent(lane: LaneID(0), name: .empty, kind: .hostOp, start: 1, duration: 1)
  b.addEdge(from: EventID(0), to: EventID(1), kind: .programOrder)
  b.addEdge(from: EventID(1), to: EventID(0), kind: .sync)
  let issues = b.build().validate()
  #expect(issues.contains { $0.message.contains("negative duration") })
  #expect(issues.contains { $0.message.contains("cycle") })
  // Collective membership edges are not precedence: a two-way membership is no cycle.
  var c = EventGraph.Builder()
  c.lanes.append(Lane(rank: RankID(0), kind: .hostThread, device: -1, pid: 1, tid: 1, name: .empty))
  c.addEvent(lane: LaneID(0), name: .empty, kind: .collective, start: 0, duration: 1)
  c.addEvent(lane: LaneID(0), name: .empty, kind: .collective, start: 2, duration: 1)
  c.addEdge(from: EventID(0), to: EventID(1), kind: .programOrder)
  c.addEdge(from: EventID(1), to: EventID(0), kind: .collective)
  #expect(c.build().validate().isEmpty)
}

@Test func mergingRemapsNamesLanesAndEdges() {
  func part(_ rank: Int, _ names: [String]) -> EventGraph {
    var b = EventGraph.Builder()
    b.lanes.append(
      Lane(rank: RankID(rank), kind: .hostThread, device: -1, pid: 1, tid: 1, name: b.strings.intern("main")))
    for (i, s) in names.enumerated() {
      b.addEvent(lane: LaneID(0), name: b.strings.intern(s), kind: .hostOp, start: Int64(i), duration: 1)
      if i > 0 { b.addEdge(from: EventID(i - 1), to: EventID(i), kind: .programOrder) }
    }
    b.ranks.append(RankInfo(rank: RankID(rank), file: "r\(rank)"))
    return b.build()
  }
  let g = EventGraph.merging([part(0, ["a", "b"]), part(1, ["b", "c", "a"])])
  #expect(g.eventCount == 5 && g.lanes.count == 2 && g.ranks.count == 2)
  #expect((0..<5).map { g.strings[g.name[$0]] } == ["a", "b", "b", "c", "a"])
  #expect(g.lane[3] == LaneID(1) && g.rank(of: 3) == RankID(1))
  #expect(Array(g.edges(from: EventID(2))).map(\.target) == [EventID(3)])
  #expect(g.validate().isEmpty)
}

@Test(arguments: 0..<100 as Range<UInt64>)
func randomGraphsKeepTheirEdgesAndValidate(seed: UInt64) {
  var rng = SplitMix64(seed: seed)
  let events = 20 + Int(rng.next() % 180)
  let g = EventGraph.random(events: events, lanes: 1 + Int(rng.next() % 8), using: &rng)
  #expect(g.validate().isEmpty, "seed \(seed)")
  for e in 0..<g.eventCount {
    for (t, _) in g.edges(from: EventID(e)) {
      #expect(t.index > e, "seed \(seed): edge \(e)→\(t.index) goes backwards")
    }
  }
  #expect(EventGraph.merging([g, g]).eventCount == 2 * g.eventCount)
}

@Test func diagnosticsCountBySeverity() {
  var d = Diagnostics()
  d.note("a", "x", count: 3)
  d.warning("b", "y")
  d.error("c", "z", at: TraceLocation(file: "f.json", byteOffset: 12, eventIndex: 4))
  #expect(d.count(of: .note) == 3 && d.count(of: .warning) == 1 && d.maxSeverity == .error)
  #expect(d.items[2].description == "f.json:@12 (event #4): error: z")
}

/// The compute classes of CPU operators come from the operator, not from substrings of its
/// name: `aten::addmm` is a matrix product, `aten::mse_loss_backward` elementwise.
@Test func hostOperatorsHaveComputeClasses() {
  let cases: [(String, ComputeClass?)] = [
    ("aten::addmm", .gemm), ("aten::mm", .gemm), ("aten::linear", .gemm), ("aten::convolution", .gemm),
    ("aten::_scaled_dot_product_flash_attention", .attention), ("aten::sum", .reduction),
    ("aten::mse_loss", .reduction), ("aten::_log_softmax", .reduction), ("aten::mse_loss_backward", .elementwise),
    ("aten::add_", .elementwise), ("aten::threshold_backward", .elementwise), ("aten::copy_", .elementwise),
    ("aten::empty_strided", .other), ("aten::t", .other), ("aten::as_strided", .other), ("aten::resize_", .other),
    ("c10d::allreduce_", nil), ("autograd::engine::evaluate_function: AddmmBackward0", nil), ("gemm", nil),
  ]
  for (name, cls) in cases { #expect(HostCompute.computeClass(name) == cls, "\(name)") }
}

/// Issue 12, bug 6: every control character becomes a visible `\uXXXX`; other text is untouched.
@Test func safeTextEscapesControlCharacters() {
  #expect(SafeText.escape("gemm\u{0}\u{7}\u{1b}[31m") == #"gemm\u0000\u0007\u001b[31m"#)
  #expect(SafeText.escape("a\tb\nc\u{7f}\u{9b}\u{fffe}") == #"a\u0009b\u000ac\u007f\u009b\ufffe"#)
  let plain = "aten::mm <float> \\ \"q\" µs — 名前"
  #expect(SafeText.escape(plain) == plain && !SafeText.needsEscaping(plain))
  #expect(SafeText.escape(SafeText.escape("x\u{0}")) == SafeText.escape("x\u{0}"))
}
