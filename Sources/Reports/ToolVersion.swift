/// The version of Reprise: `reprise --version` prints it and every JSON document records it as
/// `"toolVersion"` (see `JSONContract`).
///
/// The one place the version is written. Bump it by hand (semantic versioning) when a release
/// changes what the tool computes or writes, then re-record the goldens, which hold it
/// (`RECORD_GOLDENS=1 swift test --filter Golden`). It is a constant, so outputs stay
/// byte-identical for the same inputs.
public enum ToolVersion {
  public static let current = "0.1.0"
}
