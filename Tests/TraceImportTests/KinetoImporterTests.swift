import Foundation
import TestSupport
import Testing
import TraceModel

@testable import TraceImport

private func graph(_ events: String, extra: String = "") throws -> (EventGraph, Diagnostics) {
  try Ingest.graph(bytes: Array(#"{"traceEvents": [\#(events)]\#(extra)}"#.utf8), file: "inline.json")
}

private func names(_ g: EventGraph) -> [String] { (0..<g.eventCount).map { g.strings[g.name[$0]] } }

@Test func launchesLinkByCorrelationNotByFlows() throws {
  let (g, d) = try graph(
    #"""
    {"ph": "X", "cat": "cpu_op", "name": "aten::mm", "pid": 10, "tid": 10, "ts": 100.0, "dur": 20.0},
    {"ph": "X", "cat": "cuda_runtime", "name": "cudaLaunchKernel", "pid": 10, "tid": 10, "ts": 105.5, "dur": 4.25, "args": {"correlation": 7}},
    {"ph": "X", "cat": "kernel", "name": "ampere_sgemm_128x64_tn", "pid": 0, "tid": 7, "ts": 112.001, "dur": 30.5, "args": {"correlation": 7, "stream": 7, "device": 0}},
    {"ph": "f", "id": 99, "pid": 0, "tid": 7, "ts": 112.001, "cat": "ac2g", "name": "ac2g", "bp": "e"}
    """#)
  #expect(names(g) == ["aten::mm", "cudaLaunchKernel", "ampere_sgemm_128x64_tn"])
  #expect(g.kind == [.hostOp, .hostOp, .kernel])
  #expect(g.detail[2] == ComputeClass.gemm.rawValue)
  #expect(g.start[2] == 112_001 && g.duration[2] == 30_500)
  #expect(g.parent[1] == EventID(0))
  #expect(Array(g.edges(from: EventID(1))).contains { $0.target == EventID(2) && $0.kind == .launch })
  #expect(g.lanes.map(\.kind) == [.hostThread, .deviceStream])
  #expect(d.items.contains { $0.code == "kineto.orphanFlow" })
}

@Test func flowsLinkLegacyDeviceEventsWithoutCorrelation() throws {
  let (g, _) = try graph(
    #"""
    {"ph": "X", "cat": "Runtime", "name": "cudaLaunchKernel", "pid": 10, "tid": 10, "ts": 100, "dur": 4},
    {"ph": "s", "id": 5, "pid": 10, "tid": 10, "ts": 100, "cat": "async", "name": "launch"},
    {"ph": "X", "cat": "Kernel", "name": "volta_sgemm_128x64_nn", "pid": 0, "tid": "stream 7", "ts": 110, "dur": 40},
    {"ph": "f", "id": 5, "pid": 0, "tid": "stream 7", "ts": 110, "cat": "async", "name": "launch", "bp": "e"}
    """#)
  #expect(g.edgeKinds.contains(.launch))
  #expect(g.strings[g.lanes[1].name] == "stream 7")
}

@Test func beginEndPairsAndInstantsAndCounters() throws {
  let (g, d) = try graph(
    #"""
    {"ph": "B", "name": "outer", "pid": 1, "tid": 2, "ts": 10},
    {"ph": "B", "name": "inner", "pid": 1, "tid": 2, "ts": 11},
    {"ph": "E", "pid": 1, "tid": 2, "ts": 15},
    {"ph": "E", "pid": 1, "tid": 2, "ts": 30},
    {"ph": "E", "pid": 1, "tid": 2, "ts": 31},
    {"ph": "i", "name": "marker", "pid": 1, "tid": 2, "ts": 12, "s": "t"},
    {"ph": "C", "name": "queue", "pid": 1, "tid": 2, "ts": 13, "args": {"depth": 3}},
    {"ph": "b", "name": "async", "pid": 1, "tid": 2, "ts": 13, "id": 1}
    """#)
  #expect(names(g) == ["outer", "inner", "marker", "queue"])
  #expect(g.duration[0] == 20_000 && g.duration[1] == 4_000)
  #expect(g.parent[1] == EventID(0))
  #expect(d.items.contains { $0.code == "kineto.unmatchedEnd" && $0.severity == .dataLoss && $0.count == 1 })
  #expect(d.items.contains { $0.code == "kineto.unsupportedPhase" && $0.count == 1 })
}

@Test func stepsMemoryAndMemcpyAreRead() throws {
  let (g, _) = try graph(
    #"""
    {"ph": "X", "cat": "user_annotation", "name": "ProfilerStep#7", "pid": 1, "tid": 1, "ts": 0, "dur": 100},
    {"ph": "i", "cat": "cpu_instant_event", "name": "[memory]", "pid": 1, "tid": 1, "ts": 5, "s": "t", "args": {"Bytes": 4096, "Total Allocated": 8192, "Total Reserved": 20000, "Device Id": 0, "Device Type": 1}},
    {"ph": "X", "cat": "gpu_memcpy", "name": "Memcpy HtoD (Pageable -> Device)", "pid": 0, "tid": 7, "ts": 20, "dur": 2, "args": {"bytes": 1048576}},
    {"ph": "X", "cat": "gpu_memset", "name": "Memset (Device)", "pid": 0, "tid": 7, "ts": 30, "dur": 1, "args": {"bytes": 64}}
    """#)
  #expect(g.steps.count == 1 && g.steps[0].number == 7 && g.steps[0].end == Nanoseconds(100_000))
  #expect(
    g.memory.count == 1 && g.memory[0].delta == 4096 && g.memory[0].totalAllocated == 8192 && g.memory[0].device == 0)
  let memcpy = try #require((0..<g.eventCount).first { g.kind[$0] == .memcpy })
  #expect(g.detail[memcpy] == MemcpyDirection.hostToDevice.rawValue && g.bytes[memcpy] == 1_048_576)
}

@Test func overlappingKernelsAreKeptAndDiagnosed() throws {
  let (g, d) = try graph(
    #"""
    {"ph": "X", "cat": "kernel", "name": "k1", "pid": 0, "tid": 7, "ts": 10, "dur": 10},
    {"ph": "X", "cat": "kernel", "name": "k2", "pid": 0, "tid": 7, "ts": 15, "dur": 10},
    {"ph": "X", "cat": "kernel", "name": "k3", "pid": 0, "tid": 7, "ts": 25, "dur": 0}
    """#)
  #expect(g.start == [10_000, 15_000, 25_000] && g.duration == [10_000, 10_000, 0])
  #expect(d.items.contains { $0.code == "kineto.overlap" && $0.count == 1 && $0.severity == .warning })
  #expect(d.items.contains { $0.code == "classify.unknownKernel" && $0.count == 3 })
}

@Test func synchronizeWaitsForTheLastDeviceWork() throws {
  let (g, _) = try graph(
    #"""
    {"ph": "X", "cat": "cuda_runtime", "name": "cudaLaunchKernel", "pid": 1, "tid": 1, "ts": 0, "dur": 2, "args": {"correlation": 1}},
    {"ph": "X", "cat": "kernel", "name": "gemm_a", "pid": 0, "tid": 7, "ts": 3, "dur": 50, "args": {"correlation": 1}},
    {"ph": "X", "cat": "cuda_runtime", "name": "cudaDeviceSynchronize", "pid": 1, "tid": 1, "ts": 5, "dur": 49}
    """#)
  let sync = try #require((0..<g.eventCount).first { g.kind[$0] == .sync })
  let kernel = try #require((0..<g.eventCount).first { g.kind[$0] == .kernel })
  #expect(Array(g.edges(from: EventID(kernel))).contains { $0.target == EventID(sync) && $0.kind == .sync })
  #expect(g.validate().isEmpty)
}

@Test func collectiveSizesAndGroupsComeFromArgs() throws {
  let (g, _) = try graph(
    #"""
    {"ph": "X", "cat": "cpu_op", "name": "record_param_comms", "pid": 1, "tid": 1, "ts": 0, "dur": 20, "args": {"Collective name": "_allgather_base", "dtype": "BFloat16", "In msg nelems": 1024, "Out msg nelems": 8192, "Group size": 8, "Process Group Name": "3", "Process Group Ranks": "[0, 1, 2, 3, 4, 5, 6, 7]"}},
    {"ph": "X", "cat": "cuda_runtime", "name": "cudaLaunchKernel", "pid": 1, "tid": 1, "ts": 5, "dur": 3, "args": {"correlation": 4}},
    {"ph": "X", "cat": "kernel", "name": "ncclDevKernel_Generic(ncclDevKernelArgsStorage<4096ul>)", "pid": 0, "tid": 20, "ts": 10, "dur": 40, "args": {"correlation": 4}}
    """#, extra: #", "distributedInfo": {"rank": 0, "world_size": 8}"#)
  let c = try #require(g.collectives.first)
  #expect(c.kind == .allGather && c.inputBytes == 2048 && c.outputBytes == 16384 && c.groupSize == 8)
  #expect(g.strings[c.group] == "3" && c.groupRanks == [0, 1, 2, 3, 4, 5, 6, 7])
  #expect(g.kind[c.event.index] == .collective && g.bytes[c.event.index] == 16384)
}

@Test func metadataNamesLanes() throws {
  let (g, _) = try graph(
    #"""
    {"name": "thread_name", "ph": "M", "pid": 1, "tid": 1, "args": {"name": "pt_main_thread"}},
    {"name": "thread_name", "ph": "M", "pid": 0, "tid": 7, "args": {"name": "stream 7 "}},
    {"ph": "X", "cat": "cpu_op", "name": "a", "pid": 1, "tid": 1, "ts": 1, "dur": 1},
    {"ph": "X", "cat": "kernel", "name": "b", "pid": 0, "tid": 7, "ts": 1, "dur": 1},
    {"ph": "X", "cat": "cpu_op", "name": "c", "pid": -2, "tid": -2, "ts": 1, "dur": 1}
    """#)
  #expect(g.lanes.map { g.strings[$0.name] } == ["thread -2", "pt_main_thread", "stream 7"])
  #expect(g.lanes[2].device == 0)
}

@Test func arrayFormatAndKeysAfterTraceEvents() throws {
  let (a, _) = try Ingest.graph(
    bytes: Array(#"[{"ph": "X", "name": "x", "pid": 1, "tid": 1, "ts": 1, "dur": 1}]"#.utf8))
  #expect(a.eventCount == 1)
  let (b, _) = try graph(
    #"{"ph": "X", "name": "x", "pid": 1, "tid": 1, "ts": 1, "dur": 1}"#,
    extra: #", "traceName": "t", "baseTimeNanoseconds": 1700000000000000123, "distributedInfo": {"rank": 5}"#)
  #expect(b.ranks[0].rank == RankID(5) && b.ranks[0].baseTimeNanoseconds == 1_700_000_000_000_000_123)
}

@Test func sequenceNumbersFromTheTraceDecideInstances() throws {
  // Rank 1 traced its calls in a different order; the Seq args still pair them correctly.
  func rank(_ r: Int, _ seqs: [Int]) -> String {
    let kernels = seqs.enumerated().map { i, seq in
      #"{"ph": "X", "cat": "kernel", "name": "ncclDevKernel_AllReduce_Sum_f32_RING_LL", "pid": 0, "tid": 20, "ts": \#(10 + i * 10), "dur": 5, "args": {"Seq": \#(seq), "Collective name": "allreduce", "dtype": "Float", "In msg nelems": \#(seq * 100 + 100), "Group size": 2}}"#
    }
    return
      #"{"distributedInfo": {"rank": \#(r), "world_size": 2}, "traceEvents": [\#(kernels.joined(separator: ","))]}"#
  }
  let (g0, _) = try Ingest.graph(bytes: Array(rank(0, [0, 1, 2]).utf8))
  let (g1, _) = try Ingest.graph(bytes: Array(rank(1, [1, 0, 2]).utf8))
  var d = Diagnostics()
  let (g, summary) = MultiRankLinker().link(EventGraph.merging([g0, g1]), diagnostics: &d)
  #expect(summary.matchedInstances == 3)
  for inst in g.instances {
    let sizes = Set(inst.members.map { m in g.collectives.first { $0.event == m }!.inputBytes })
    #expect(sizes.count == 1, "instance \(inst.sequence) pairs calls of different sizes")
  }
}

@Test func eventColumnsStayUnder64BytesPerEvent() throws {
  let (g, _) = try Ingest.graph(
    bytes: Array(try Data(contentsOf: URL(fileURLWithPath: TestPaths.bundledTraces + "/ddp-4rank/rank0.pt.trace.json")))
  )
  #expect(
    Double(g.columnBytes) / Double(g.eventCount) <= 64, "\(Double(g.columnBytes) / Double(g.eventCount)) bytes/event")
}

@Test func externalIdLinksDeviceWorkWithoutCorrelation() throws {
  let (g, _) = try Ingest.graph(
    bytes: Array(
      #"""
      {"traceEvents": [
      {"ph": "X", "cat": "cpu_op", "name": "aten::add", "pid": 1, "tid": 1, "ts": 0, "dur": 10, "args": {"External id": 42}},
      {"ph": "X", "cat": "kernel", "name": "vectorized_elementwise_kernel", "pid": 0, "tid": 7, "ts": 12, "dur": 3, "args": {"External id": 42}}
      ]}
      """#.utf8))
  #expect(Array(g.edges(from: EventID(0))).contains { $0.target == EventID(1) && $0.kind == .launch })
}

@Test func glooSendRecvPeersComeFromTheC10dOps() throws {
  // torch.distributed.pipelining on gloo: c10d::send / c10d::recv_ carry the peer as the third
  // concrete input; the gloo:send / gloo:recv spans right after them are the transfers.
  func rank(_ r: Int, _ op: String, _ gloo: String, peer: Int) -> [UInt8] {
    Array(
      #"""
      {"distributedInfo": {"backend": "gloo", "rank": \#(r), "world_size": 2}, "traceEvents": [
      {"ph": "X", "cat": "cpu_op", "name": "\#(op)", "pid": 1, "tid": 1, "ts": 100, "dur": 10, "args": {"Concrete Inputs": ["", "", "\#(peer)", "0"], "Input Dims": [[[16, 512]], [], [], []]}},
      {"ph": "X", "cat": "user_annotation", "name": "\#(gloo)", "pid": 1, "tid": 1, "ts": 111, "dur": 40, "args": {"Input Dims": [[16, 512]], "Input type": ["float"]}}
      ]}
      """#.utf8)
  }
  let (g0, _) = try Ingest.graph(bytes: rank(0, "c10d::send", "gloo:send", peer: 1))
  let (g1, _) = try Ingest.graph(bytes: rank(1, "c10d::recv_", "gloo:recv", peer: 0))
  #expect(g0.p2p.count == 1 && g0.p2p[0].isSend && g0.p2p[0].peer == RankID(1) && g0.p2p[0].bytes == 16 * 512 * 4)
  #expect(g1.p2p.count == 1 && !g1.p2p[0].isSend && g1.p2p[0].peer == RankID(0))
  var d = Diagnostics()
  let (g, summary) = MultiRankLinker().link(EventGraph.merging([g0, g1]), diagnostics: &d)
  #expect(summary.p2pPairs == 1 && summary.p2pUnmatched == 0)
  #expect(g.edgeKinds.contains(.p2p))
}

/// gloo runs each all-reduce on a worker thread: the `c10d::allreduce_` that enqueued it on the
/// main thread launches it (by order, as the worker threads take the queue), and its ranks do
/// not leave the ring together, so they set no clock offsets (one host, one clock).
@Test func glooCollectivesLinkToTheirEnqueueAndSetNoClockOffsets() throws {
  let r = try Ingest.run(paths: [TestPaths.packageRoot + "/Traces/kineto-cpu/ddp-gloo-4rank"])
  let g = r.graph
  var linked = 0
  for u in 0..<g.eventCount where g.strings[g.name[u]] == "c10d::allreduce_" {
    for (v, kind) in g.edges(from: EventID(u)) where kind == .launch {
      #expect(g.strings[g.name[v.index]] == "gloo:all_reduce" && g.kind[v.index] == .collective)
      #expect(g.lane[v.index] != g.lane[u] && g.rank(of: v.index) == g.rank(of: u) && g.start[v.index] >= g.start[u])
      linked += 1
    }
  }
  #expect(linked == 144 && r.link.matchedInstances == 36)
  #expect(!r.link.clockAligned && r.link.clockOffsets.values.allSatisfy { $0 == 0 }, "\(r.link.clockOffsets)")
}
