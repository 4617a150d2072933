import Foundation
import TestSupport
import Testing

private func json(_ text: String) throws -> [String: Any] {
  try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
}

/// A `knobs` array as `KEY=VALUE count-key:count` lines.
private func rows(_ value: Any?) -> [String] {
  ((value as? [[String: Any]]) ?? []).map { k in
    let count = ["matchedEvents", "matchedRanks", "matchedTransfers"].compactMap { c in
      (k[c] as? Int).map { "\(c):\($0)" }
    }
    return "\(k["key"] ?? "")=\(k["value"] ?? "") " + count.joined(separator: " ")
  }
}

/// Knobs that match nothing warn on stderr, and every what-if document lists what each knob
/// matched: `knobs` in `whatif --json` and `diff --whatif --json`, `whatIf.knobMatches` (and a
/// report warning) in `report --whatif`.
@Test func knobsThatMatchNothingWarnAndEveryDocumentCountsMatches() throws {
  let dlrm = "Traces/public/dlrm-8rank"
  let w = try reprise(
    "whatif", dlrm, "--set", "rank.99.slowdown=2", "--set", "kernel.match=NoSuchKernel,scale=2", "--set",
    "compute.attention.scale=2", "--set", "rank.3.slowdown=1.5", "--json")
  #expect(w.status == 0, "\(w.stderr)")
  for line in [
    "warning: knob rank.99.slowdown=2 matched 0 ranks (the trace has ranks 0–7)",
    "warning: knob kernel.match=NoSuchKernel,scale=2 matched 0 kernels",
    "warning: knob compute.attention.scale=2 matched 0 kernels (the trace has no attention kernels)",
  ] { #expect(w.stderr.contains(line), "\(w.stderr)") }
  #expect(!w.stderr.contains("rank.3.slowdown"))
  #expect(
    rows(try json(w.stdout)["knobs"]) == [
      "rank.99.slowdown=2 matchedRanks:0", "kernel.match=NoSuchKernel,scale=2 matchedEvents:0",
      "compute.attention.scale=2 matchedEvents:0", "rank.3.slowdown=1.5 matchedRanks:1",
    ])
  // volta_sgemm_* kernels: only a case-insensitive pattern finds them as SGEMM.
  let d = try reprise("diff", dlrm, "--whatif", "kernel.match=(?i)SGEMM,scale=2", "--json")
  #expect(d.status == 0 && !d.stderr.contains("warning"), "\(d.stderr)")
  #expect(rows(try json(d.stdout)["knobs"]) == ["kernel.match=(?i)SGEMM,scale=2 matchedEvents:168"])
  let r = try reprise("report", dlrm, "--whatif", "rank.99.slowdown=2")
  #expect(r.status == 0 && r.stderr.contains("warning: knob rank.99.slowdown=2 matched 0 ranks"), "\(r.stderr)")
  let report = try json(r.stdout)
  #expect(rows((report["whatIf"] as? [String: Any])?["knobMatches"]) == ["rank.99.slowdown=2 matchedRanks:0"])
  let warnings = (report["summary"] as? [String: Any])?["reportWarnings"] as? [String]
  #expect(warnings?.contains { $0.hasPrefix("knob rank.99.slowdown=2 matched 0 ranks") } == true)
}

@Test func whatIfHelpSaysKernelMatchIsCaseSensitive() throws {
  let h = try reprise("whatif", "--help")
  #expect(h.stdout.contains("case-sensitive") && h.stdout.contains("(?i)"), "\(h.stdout)")
}
