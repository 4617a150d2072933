import Testing

extension Trait where Self == ConditionTrait {
  /// Skips a test, with the reason shown, when the external trace corpus is absent
  /// (`TestPaths.corpus`): a fresh clone runs everything else.
  public static var needsCorpus: Self {
    .enabled(if: TestPaths.hasCorpus, Comment(rawValue: TestPaths.corpusMissing))
  }
}
