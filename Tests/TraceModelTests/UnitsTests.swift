import Testing
import TraceModel

@Test func microsecondsRoundToNearest() {
  #expect(Nanoseconds(microseconds: 12.5).rawValue == 12_500)
}
