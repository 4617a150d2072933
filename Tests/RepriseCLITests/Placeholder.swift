import Testing


@Test func microsecondsRoundToNearest() {
  #expect(true)
}
