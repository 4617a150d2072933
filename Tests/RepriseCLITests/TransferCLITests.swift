import Foundation
import TestSupport
import Testing

/// `whatif --hardware` on the bundled H100 trace: the JSON carries the transfer's class table,
/// ceilings and bound flips, and the text the per-class table.
@Test func hardwareTransferJSONAndText() throws {
  let r = try reprise("whatif", TestPaths.h100, "--hardware", "mi300x", "--json")
  #expect(r.status == 0, "\(r.stderr)")
  let doc = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
  let transfer = try #require(doc["transfer"] as? [String: Any])
  #expect(transfer["sourceFrom"] as? String == "deviceProperties")
  #expect((transfer["source"] as? [String: Any])?["hardware"] as? String == "h100-sxm5-80gb")
  #expect((transfer["target"] as? [String: Any])?["hardware"] as? String == "mi300x")
  let classes = try #require(transfer["classes"] as? [[String: Any]])
  #expect(classes.map { $0["class"] as? String }.contains("gemm"))
  #expect((doc["whatIf"] as? [String: String])?["hardware"] == "mi300x")
  let text = try reprise("whatif", TestPaths.h100, "--hardware", "mi300x")
  #expect(text.stdout.contains("hardware transfer (source from deviceProperties)"))
  #expect(text.stdout.contains("shape-timed") && text.stdout.contains("bound flips"))
}

/// A trace that names no GPU needs --from (exit 64, one line naming the fix); --from, --host-scale
/// and --ranks-per-node without the flag they refine are usage errors; unknown names exit 64.
@Test func hardwareTransferUsageErrors() throws {
  let cpu = TestPaths.packageRoot + "/Traces/kineto-cpu/ddp-gloo-4rank"
  let noSource = try reprise("whatif", cpu, "--hardware", "h100-sxm5-80gb")
  #expect(noSource.status == 64 && noSource.stderr.contains("give --from NAME"), "\(noSource.stderr)")
  #expect(!noSource.stderr.contains("\\u000a"))
  let withFrom = try reprise("whatif", cpu, "--hardware", "h100-sxm5-80gb", "--from", "a100-sxm4-80gb")
  #expect(withFrom.status == 0, "\(withFrom.stderr)")
  let fromAlone = try reprise("whatif", cpu, "--from", "a100-sxm4-80gb")
  #expect(fromAlone.status == 64 && fromAlone.stderr.contains("need --hardware"))
  let perNode = try reprise("whatif", cpu, "--set", "comm.scale=2", "--ranks-per-node", "2")
  #expect(perNode.status == 64 && perNode.stderr.contains("--ranks-per-node needs --cluster"))
  let unknown = try reprise("whatif", TestPaths.h100, "--hardware", "tpu-v9")
  #expect(unknown.status == 64 && unknown.stderr.contains("unknown hardware 'tpu-v9'"))
  let badScale = try reprise("whatif", TestPaths.h100, "--hardware", "mi300x", "--host-scale", "0")
  #expect(badScale.status == 64)
}

/// `--cluster` alone re-times DLRM's collectives on the cluster, spread over its nodes.
@Test func clusterAloneRetimesCollectives() throws {
  let r = try reprise("whatif", TestPaths.dlrm, "--cluster", "mixed-nic-4node", "--json")
  #expect(r.status == 0, "\(r.stderr)")
  let doc = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
  let net = try #require(doc["network"] as? [String: Any])
  #expect(net["ranksPerNode"] as? Int == 2 && net["cluster"] as? String == "mixed-nic-4node")
  #expect((net["retimed"] as? Int ?? 0) > 0)
}

/// `--compare B` checks the transfer against a trace of the same workload measured on the target:
/// the job steps and every class side by side (`reprise.transfercheck/v1`); it needs --hardware.
@Test func transferCheckAgainstTheTargetsTrace() throws {
  let r = try reprise("whatif", TestPaths.h100, "--hardware", "mi300x", "--compare", TestPaths.mi300, "--json")
  #expect(r.status == 0, "\(r.stderr)")
  let doc = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
  #expect(doc["schema"] as? String == "reprise.transfercheck/v1")
  #expect((40_000_000...55_000_000).contains(doc["measuredJobStepNs"] as? Int ?? 0))
  let classes = try #require(doc["classes"] as? [[String: Any]])
  let gemm = try #require(classes.first { $0["class"] as? String == "gemm" })
  #expect((gemm["targetEvents"] as? Int ?? 0) > 200 && gemm["errorPct"] is Double)
  let noHardware = try reprise("whatif", TestPaths.h100, "--set", "comm.scale=2", "--compare", TestPaths.mi300)
  #expect(noHardware.status == 64 && noHardware.stderr.contains("--compare needs --hardware"))
}
