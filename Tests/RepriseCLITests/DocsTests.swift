import Foundation
import TestSupport
import Testing

/// docs/cli.md is generated from the command definitions; it must match the binary's help.
@Test func cliReferenceIsUpToDate() throws {
  let doc = try String(contentsOfFile: TestPaths.packageRoot + "/docs/cli.md", encoding: .utf8)
  for cmd in [
    [], ["ingest"], ["replay"], ["whatif"], ["schedule", "run"], ["schedule", "compare"], ["demo"], ["model"],
    ["model", "roofline"], ["model", "comm"], ["model", "memory"], ["model", "longctx"], ["model", "kvcache"],
    ["calibrate"],
  ] {
    let r = try runProcess(
      TestPaths.reprise, cmd + ["--help"], cwd: TestPaths.packageRoot, environment: ["COLUMNS": "100"])
    #expect(doc.contains(r.stdout), "docs/cli.md is stale for '\(cmd.joined())': run tools/gen-cli-docs.sh")
  }
}
