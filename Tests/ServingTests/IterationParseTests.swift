import Testing

@testable import Serving

@Suite struct IterationParseTests {
  @Test func vllmExecuteAnnotation() throws {
    let p = try #require(
      IterationFinder.parse("execute_32_context_0(sq0sk0sqsq0sqsk0)_generation_32(sq32sk55086sqsq32sqsk55086)"))
    #expect(p.kind == .decode)
    #expect(p.batch == 32)
    #expect(p.tokens == 32)
    #expect(p.kvLength == 1721)
    let mixed = try #require(
      IterationFinder.parse("execute_7_context_2(sq300sk300sqsq1sqsk1)_generation_5(sq5sk500sqsq5sqsk500)"))
    #expect(mixed.kind == .mixed)
    #expect(mixed.batch == 7)
    #expect(mixed.tokens == 305)
    #expect(mixed.kvLength == 100)
    let prefill = try #require(IterationFinder.parse("execute_2_context_2(sq300sk300)_generation_0(sq0sk0)"))
    #expect(prefill.kind == .prefill)
    #expect(prefill.kvLength == 150)
  }

  @Test func sglangAndUserNames() {
    #expect(IterationFinder.parse("step[DECODE bs=32]") == .init(kind: .decode, batch: 32))
    #expect(IterationFinder.parse("step[EXTEND bs=4]")?.kind == .prefill)
    #expect(IterationFinder.parse("Prefill")?.kind == .prefill)
    #expect(IterationFinder.parse("decode")?.kind == .decode)
    #expect(IterationFinder.parse("decoder_layer") == nil)
    #expect(IterationFinder.parse("step[FOO bs=1]") == nil)
    #expect(IterationFinder.parse("execute_x_context") == nil)
  }
}
