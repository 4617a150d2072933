import Replay
import Testing

@Suite struct ParallelLayoutTests {
  @Test func parsesEveryDegreeAndDefaultsTheRestToOne() throws {
    let l = try ParallelLayout(parsing: "dp=4, tp=2,pp=8")
    #expect(l == ParallelLayout(dp: 4, tp: 2, pp: 8, cp: 1))
    #expect(l.worldSize == 64)
    #expect(l.description == "dp=4,tp=2,pp=8,cp=1")
    #expect(try ParallelLayout(parsing: "cp=2") == ParallelLayout(cp: 2))
  }

  @Test func refusesBadParts() {
    for bad in ["dp=0", "dp=2,dp=4", "xp=2", "dp", "dp=two", "dp=2,,tp=2", ""] {
      #expect(throws: ParallelLayout.ParseError.self, "\(bad)") { try ParallelLayout(parsing: bad) }
    }
  }
}
