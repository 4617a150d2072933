import Foundation
import TestSupport
import Testing

private let ddp = TestPaths.packageRoot + "/Traces/kineto-cpu/ddp-gloo-4rank"

/// `reprise plan` prints a ranked table, its JSON is reprise.plan/v1 and byte-identical twice.
@Test func planPrintsRankedPlansAndStableJSON() throws {
  let text = try reprise("plan", ddp, "--gpus", "4", "--top", "3")
  #expect(text.status == 0, "\(text.stderr)")
  #expect(text.stdout.contains("searched 10 layouts") && text.stdout.contains("  1 dp="))
  let a = try reprise("plan", ddp, "--gpus", "4", "--json")
  let b = try reprise("plan", ddp, "--gpus", "4", "--json")
  #expect(a.status == 0 && a.stdout == b.stdout)
  #expect(a.stdout.contains("\"reprise.plan/v1\""))
}

/// Bad flags exit 64 with one line naming the flag.
@Test func planBadFlagsExit64() throws {
  let cases: [([String], String)] = [
    (["--gpus", "0"], "--gpus"), (["--gpus", "4", "--top", "0"], "--top"), (["--gpus", "4", "--zero", "4"], "--zero"),
    (["--gpus", "4", "--recorded", "dp=x"], "--recorded"), (["--gpus", "4", "--global-batch", "0"], "--global-batch"),
    ([], "--gpus"), (["--gpus", "4", "--recorded", "dp=3"], "--recorded"),
    (["--gpus", "4", "--model", "no-such-model"], "no-such-model"),
  ]
  for (args, named) in cases {
    let r = try reprise(["plan", ddp] + args)
    #expect(r.status == 64, "\(args): \(r.status) \(r.stderr)")
    #expect(r.stderr.contains(named) && !r.stderr.contains("Unexpected argument"), "\(args): \(r.stderr)")
  }
}
