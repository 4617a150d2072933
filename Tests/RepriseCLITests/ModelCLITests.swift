import Foundation
import TestSupport
import Testing

@Test func longContextJSONContract() throws {
  let r = try reprise(
    "model", "longctx", "--model", "yi-34b", "--hardware", "a100-sxm4-80gb", "--context", "50000", "--output-tokens",
    "250", "--json")
  #expect(r.status == 0, "\(r.stderr)")
  let o = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
  #expect(o["schema"] as? String == "reprise.longctx/v1")
  for k in [
    "parameters", "weightBytes", "kvBytesPerToken", "kvBytes", "prefill", "decode", "maxConcurrentRequests",
    "contextSwitchSeconds", "hbmBytes", "pcieBytesPerSecond",
  ] { #expect(o[k] != nil, "missing \(k)") }
  #expect(o["kvBytesPerToken"] as? Int == 245_760 && o["kvBytes"] as? Int == 12_288_000_000)
  let prefill = try #require(o["prefill"] as? [String: Double])
  for k in ["linearFlops", "attentionFlops", "linearSeconds", "seconds"] { #expect(prefill[k] != nil) }
  let decode = try #require(o["decode"] as? [String: Double])
  let weight = Double(o["weightBytes"] as! Int)
  let kv = Double(o["kvBytes"] as! Int)
  let hbm = o["hbmBytesPerSecond"] as! Double
  // Durations are whole nanoseconds: the formula holds to half a nanosecond.
  #expect(abs(decode["secondsPerToken"]! - (weight + kv) / hbm) <= 0.5e-9)
  #expect(abs((o["contextSwitchSeconds"] as! Double) - 2 * kv / (o["pcieBytesPerSecond"] as! Double)) < 1e-9)
}

@Test func unknownNamesExit64ListingKnownOnes() throws {
  let r = try reprise("model", "longctx", "--model", "yi-35b", "--hardware", "a100-sxm4-80gb", "--context", "10")
  #expect(r.status == 64 && r.stderr.contains("unknown model 'yi-35b'") && r.stderr.contains("yi-34b"))
  let h = try reprise("model", "kvcache", "--model", "llama-2-7b", "--hardware", "tpu-v5")
  #expect(h.status == 64 && h.stderr.contains("unknown hardware 'tpu-v5'") && h.stderr.contains("h100-sxm5-80gb"))
}

@Test func zeroEfficiencyIsAUsageErrorNotATrap() throws {
  let r = try reprise(
    "model", "longctx", "--model", "llama-3.1-8b", "--hardware", "h100-sxm5-80gb", "--context", "1000",
    "--compute-efficiency", "0")
  #expect(r.status == 64 && r.stderr.contains("--compute-efficiency: expected a fraction of peak in (0, 1], found 0.0"))
  let w = try reprise("whatif", TestPaths.dlrm, "--set", "compute.scale=1e300")
  #expect(w.status == 64 && w.stderr.contains("--set compute.scale=1e300: expected a number in 0…1000000"))
}

@Test func brokenSpecExits65NamingFileAndPath() throws {
  let dir = FileManager.default.temporaryDirectory.appendingPathComponent("reprise-models-\(UUID().uuidString)")
  try FileManager.default.createDirectory(atPath: dir.path + "/models", withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(at: dir) }
  _ = FileManager.default.createFile(
    atPath: dir.path + "/models/broken.json", contents: Data(#"{"name": "broken", "source": "x", "layers": "32"}"#.utf8)
  )
  let r = try reprise("model", "memory", "--model", "broken", "--models", dir.path)
  #expect(r.status == 65)
  #expect(r.stderr.contains("broken.json") && r.stderr.contains("layers"), "\(r.stderr)")
}

@Test func otherModelCommandsRun() throws {
  let kv = try reprise(
    "model", "kvcache", "--model", "qwen3-8b", "--context", "40960", "--hardware", "h100-sxm5-80gb", "--json")
  #expect(kv.status == 0, "\(kv.stderr)")
  let o = try #require(try JSONSerialization.jsonObject(with: Data(kv.stdout.utf8)) as? [String: Any])
  #expect(o["bytesPerToken"] as? Double == 147_456)
  let comm = try reprise(
    "model", "comm", "--kind", "allreduce", "--bytes", "33554432", "--ranks", "8", "--bandwidth", "300.51GB/s", "--json"
  )
  #expect(comm.status == 0)
  let c = try #require(try JSONSerialization.jsonObject(with: Data(comm.stdout.utf8)) as? [String: Any])
  #expect(abs((c["busBandwidthGBps"] as! Double) - 300.51) < 0.01)
  let mem = try reprise("model", "memory", "--model", "llama-2-7b", "--dp", "8", "--zero", "3")
  #expect(mem.status == 0 && mem.stdout.contains("model states"))
  let roof = try reprise("model", "roofline", "--hardware", "h100-sxm5-80gb", "--flops", "2e12", "--bytes", "1GB")
  #expect(roof.status == 0 && roof.stdout.contains("compute bound"))
  let bad = try reprise("model", "comm", "--kind", "allsum", "--bytes", "1GB", "--ranks", "8", "--bandwidth", "1GB/s")
  #expect(bad.status == 64)
}
