import Foundation
import Testing

/// `reprise serve`: a text table by default, one JSON object with --json, 64 for a bad or
/// unanswerable knob (one line), 65 for unreadable input.
@Test func serveFromTheCommandLine() throws {
  let trace = "Traces/kineto-cpu/serving-llama/b1-p512"
  let specs = [
    "--model", "Traces/kineto-cpu/serving-llama/llama-tiny.json", "--hardware",
    "Traces/kineto-cpu/gpt-parallel/cpu-calibrated.json",
  ]
  let text = try reprise(["serve", trace] + specs)
  #expect(text.status == 0)
  #expect(text.stdout.contains("24 iterations (1 prefill, 23 decode)"))
  #expect(text.stdout.contains("Fu 2024 bounds for llama-tiny on cpu-calibrated"))
  let json = try reprise(["serve", trace, "--json", "--set", "serve.context=1024"] + specs)
  #expect(json.status == 0 && json.stdout.contains("\"schema\": \"reprise.serve/v1\""))
  let bad = try reprise("serve", trace, "--set", "serve.kv-dtype=fp7")
  #expect(bad.status == 64 && bad.stderr.contains("serve.kv-dtype=fp7"))
  let long = try reprise("serve", trace, "--set", "serve.prefix=4096")
  #expect(long.status == 64 && long.stderr.split(separator: "\n").count == 1)
  let missing = try reprise("serve", "Traces/does-not-exist.json")
  #expect(missing.status == 65)
}
