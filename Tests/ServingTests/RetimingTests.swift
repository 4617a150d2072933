import CostModels
import Testing

@testable import Serving

/// The attention and GEMM costs of docs/models/serving.md, "Re-timing".
@Suite struct RetimingTests {
  /// Causal score entries: s·(t − s) + s(s+1)/2; one query attends to all t.
  @Test func causalEntries() {
    #expect(ServingRetimer.causalEntries(4, 4) == 10)
    #expect(ServingRetimer.causalEntries(2, 6) == 2 * 4 + 3)
    #expect(ServingRetimer.causalEntries(1, 535) == 535)
  }

  /// PyTorch's CPU flash attention computes whole 512-key blocks: at s = t = 512 every entry
  /// (one q block of 64 sees the whole block), at 2048 (q blocks of 256) 10× as many, not 16×.
  @Test func blockedEntriesOfTheCPUKernel() {
    #expect(ServingRetimer.blockedEntries(512, 512) == 512 * 512)
    #expect(ServingRetimer.blockedEntries(1024, 1024) == 786_432)
    #expect(ServingRetimer.blockedEntries(2048, 2048) == 2_621_440)
    #expect(ServingRetimer.blockedEntries(100, 100) == 100 * 100)
    #expect(ServingRetimer.blockedEntries(1, 700) == 700)
    // After a cached prefix the mask makes it compute every key.
    #expect(ServingRetimer.blockedEntries(256, 1024) == 256 * 1024)
  }

  /// Shapes: batch at position 0, the query length of [b, s, h] even when s = 1, KV length
  /// where it equals t, flattened tokens [b·s, k]; weights stay.
  @Test func labels() {
    typealias L = ServingRetimer.Label
    #expect(
      ServingRetimer.labels([[1, 1, 256], [688, 256]], batch: 1, query: 1, kv: 513) == [
        [.batch, .query, .fixed], [.fixed, .fixed],
      ])
    #expect(
      ServingRetimer.labels([[4, 2, 512, 64], [4, 2, 1, 64]], batch: 4, query: 1, kv: 512) == [
        [.batch, .fixed, .kv, .fixed], [.batch, .fixed, .fixed, .fixed],
      ])
    #expect(ServingRetimer.labels([[2048, 256]], batch: 4, query: 512, kv: 512) == [[.tokens, .fixed]])
  }

  /// A decode GEMV read-bound at M = 1 stays almost as fast at M = 4 on the roofline; a prefill
  /// GEMM doubles with its rows.
  @Test func gemvToGemm() throws {
    let spec = try SpecLibrary.embedded.hardware("h100-sxm5-80gb")
    let r = ServingRetimer(source: spec, target: spec, model: nil)
    let decode = WorkItem(
      duration: 100, category: .linear, op: "aten::linear", dims: [[1, 1, 4096], [4096, 4096]],
      types: ["c10::BFloat16", "c10::BFloat16"])
    var batch = ShapeChange()
    batch.batch = 4
    #expect(r.retime(decode, batch, batch: 1, query: 1, kv: 600) < 101)
    let prefill = WorkItem(
      duration: 100, category: .linear, op: "aten::linear", dims: [[1, 1024, 4096], [4096, 4096]],
      types: ["c10::BFloat16", "c10::BFloat16"])
    var longer = ShapeChange()
    longer.query = 2
    #expect(abs(r.retime(prefill, longer, batch: 1, query: 1024, kv: 1024) - 200) < 1)
  }
}
