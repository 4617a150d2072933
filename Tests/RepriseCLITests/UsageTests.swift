import Foundation
import TestSupport
import Testing

/// Issue 12, bug 9: a flag error found after parsing (a malformed duration, checked in `run()`)
/// printed the top-level usage (`reprise <subcommand>`) instead of the subcommand's.
@Test func errorsAfterParsingPrintTheSubcommandsUsage() throws {
  let r = try reprise(
    "schedule", "1f1b", "--stages", "2", "--microbatches", "4", "--forward", "fast", "--backward", "2ms")
  #expect(r.status == 64)
  #expect(r.stderr.contains("--forward fast: expected a duration"), "\(r.stderr)")
  #expect(r.stderr.contains("Usage: reprise schedule run "), "\(r.stderr)")
  #expect(r.stderr.contains("See 'reprise schedule run --help'"), "\(r.stderr)")
  #expect(!r.stderr.contains("reprise <subcommand>"), "\(r.stderr)")
  let comm = try reprise("model", "comm", "--kind", "allsum", "--bytes", "1GiB", "--ranks", "8", "--bandwidth", "1GB/s")
  #expect(comm.status == 64 && comm.stderr.contains("Usage: reprise model comm "), "\(comm.stderr)")
}

/// Issue 12, bug 9: a negative number after an option was read as an option itself ("Missing
/// value for '--width <width>'"); it is the option's value, and the command's range check names
/// the flag.
@Test(arguments: [
  (["render", "timeline", "Traces/generated/ddp-4rank", "-o", "/tmp/reprise-neg.svg", "--width", "-5"], "--width"),
  (
    ["schedule", "1f1b", "--stages", "2", "--microbatches", "4", "--forward", "-1ms", "--backward", "1ms"],
    "--forward -1ms"
  ),
  (
    ["schedule", "1f1b", "--stages", "-2", "--microbatches", "4", "--forward", "1ms", "--backward", "1ms"],
    "--stages -2"
  ),
  (["model", "memory", "--model", "llama-2-7b", "--tp", "-1"], "--tp -1"),
  (["model", "kvcache", "--model", "qwen3-8b", "--context", "-4096"], "--context -4096"),
  (
    ["model", "comm", "--kind", "allreduce", "--bytes", "-1GiB", "--ranks", "8", "--bandwidth", "1GB/s"],
    "--bytes -1GiB"
  ),
  (["model", "comm", "--kind", "allreduce", "--bytes", "1GiB", "--ranks", "-8", "--bandwidth", "1GB/s"], "--ranks -8"),
  (
    ["model", "roofline", "--hardware", "h100-sxm5-80gb", "--flops", "-2e12", "--bytes", "1GB"], "--flops: out of range"
  ),
  (["model", "roofline", "Traces/generated/ddp-4rank", "--top", "-1"], "--top -1"),
  (["bench-replay", "--kernels", "-1"], "--kernels -1"),
])
func negativeNumbersAreRangeErrorsNamingTheFlag(args: [String], flag: String) throws {
  let r = try reprise(args)
  #expect(r.status == 64, "\(args): \(r.status) \(r.stderr)")
  #expect(!r.stderr.contains("Missing value"), "\(args): \(r.stderr)")
  #expect(r.stderr.contains(flag), "\(args): \(r.stderr)")
}

/// Issue 12, bug 9: there was no `reprise --version`.
@Test func versionFlagPrintsTheToolVersion() throws {
  let r = try reprise("--version")
  #expect(r.status == 0, "\(r.stderr)")
  let version = r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
  #expect(version.split(separator: ".").count == 3 && version.allSatisfy { $0.isNumber || $0 == "." }, "\(r.stdout)")
}

/// Issue 12, bug 9: reports did not record the tool version. Every JSON document (each element
/// of `schedule compare --json` too) carries `toolVersion`, the version `--version` prints.
@Test func everyJSONDocumentRecordsTheToolVersion() throws {
  let version = try reprise("--version").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
  let set = "Traces/generated/ddp-4rank"
  let costs = ["--stages", "2", "--microbatches", "4", "--forward", "1ms", "--backward", "1ms", "--json"]
  for args in [
    ["ingest", set, "--json"], ["replay", set, "--json"], ["report", set],
    ["diff", set, "--whatif", "comm.scale=2", "--json"],
    ["breakdown", set, "--json"], ["bandwidth", set, "--json"], ["schedule", "1f1b"] + costs,
    ["model", "comm", "--kind", "allreduce", "--bytes", "1GiB", "--ranks", "8", "--bandwidth", "100GB/s", "--json"],
  ] {
    let r = try reprise(args)
    #expect(r.status == 0, "\(args): \(r.stderr)")
    let obj = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], "\(args)")
    #expect(obj["toolVersion"] as? String == version, "\(args)")
  }
  let compare = try reprise(["schedule", "compare"] + costs)
  let all = try #require(try JSONSerialization.jsonObject(with: Data(compare.stdout.utf8)) as? [[String: Any]])
  #expect(!all.isEmpty && all.allSatisfy { $0["toolVersion"] as? String == version })
}
