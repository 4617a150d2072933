import Foundation
import TestSupport
import Testing

/// `report --model` on the 8-rank DLRM set: `memory.modeled` and the command's stderr.
private func modeled(_ flags: String...) throws -> (status: Int32, modeled: [String: Any]?, stderr: String) {
  let r = try runProcess(
    TestPaths.reprise, ["report", TestPaths.dlrm, "--model", "llama-2-7b"] + flags, cwd: TestPaths.packageRoot)
  guard r.status == 0 else { return (r.status, nil, r.stderr) }
  let o = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
  return (r.status, (o?["memory"] as? [String: Any])?["modeled"] as? [String: Any], r.stderr)
}

/// DP = world / (TP·PP·CP): 8 ranks at TP 8 are one data-parallel replica, so ZeRO-1 shards
/// nothing (it used to divide by all 8 ranks).
@Test func memoryModelDerivesDataParallelFromTheLayout() throws {
  let tp8 = try modeled("--tp", "8", "--zero", "1")
  #expect(tp8.status == 0, "\(tp8.stderr)")
  let m = try #require(tp8.modeled)
  #expect(m["dataParallel"] as? Int == 1 && m["tensorParallel"] as? Int == 8)
  let psi = 6_738_415_616.0 / 8
  #expect(m["optimizerBytes"] as? Double == 12 * psi)
  let layout = try modeled("--tp", "2", "--pp", "2", "--zero", "1")
  #expect(layout.modeled?["dataParallel"] as? Int == 2 && layout.modeled?["pipelineParallel"] as? Int == 2)
  #expect(try modeled("--tp", "2", "--pp", "2", "--dp", "2").modeled?["dataParallel"] as? Int == 2)
  #expect(try modeled("--cp", "2", "--tp", "2").modeled?["dataParallel"] as? Int == 2)
}

@Test func memoryLayoutThatDoesNotFitTheWorldExits64() throws {
  let odd = try modeled("--tp", "3")
  #expect(odd.status == 64)
  #expect(odd.stderr.contains("TP 3 × PP 1 × CP 1 = 3 does not divide the world size 8"), "\(odd.stderr)")
  let conflict = try modeled("--tp", "8", "--dp", "2")
  #expect(conflict.status == 64)
  #expect(
    conflict.stderr.contains("--dp 2 conflicts with the world size 8 (distributedInfo.world_size)"),
    "\(conflict.stderr)")
  #expect(try modeled("--pp", "0").status == 64)
}
