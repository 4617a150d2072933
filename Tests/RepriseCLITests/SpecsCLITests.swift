import Foundation
import TestSupport
import Testing

/// A fresh temporary directory, removed by the caller.
private func temporaryDirectory(_ label: String) throws -> URL {
  let dir = FileManager.default.temporaryDirectory.appendingPathComponent("reprise-\(label)-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
  return dir
}

/// The debug binary copied out of the package into `dir` (nothing of the checkout beside it or
/// above it), run with `dir` as the working directory and `REPRISE_MODELS` unset unless given.
private func installed(_ dir: URL, _ args: [String], environment: [String: String] = [:]) throws -> (
  status: Int32, stdout: String, stderr: String
) {
  let fm = FileManager.default
  let binary = dir.appendingPathComponent("bin/reprise").path
  if !fm.fileExists(atPath: binary) {
    try fm.createDirectory(at: dir.appendingPathComponent("bin"), withIntermediateDirectories: true)
    // A hard link writes nothing; a copy (across file systems) may be briefly held open for
    // writing by a child another test forks meanwhile, hence the retries below.
    do { try fm.linkItem(atPath: TestPaths.reprise, toPath: binary) } catch {
      try fm.copyItem(atPath: TestPaths.reprise, toPath: binary)
    }
  }
  let work = dir.appendingPathComponent("work")
  try fm.createDirectory(at: work, withIntermediateDirectories: true)
  var attempt = 0
  while true {
    attempt += 1
    do {
      return try runProcess(
        binary, args, cwd: work.path, environment: ["REPRISE_MODELS": ""].merging(environment) { $1 })
    } catch  where attempt < 20 && "\(error)".contains("Text file busy") {
      Thread.sleep(forTimeInterval: 0.1)
    }
  }
}

/// A specs folder with one model spec, `tiny`, copied from llama-2-7b under another name.
private func specsFolder(_ dir: URL, model: String) throws -> String {
  let folder = dir.appendingPathComponent("specs-\(model)")
  try FileManager.default.createDirectory(
    at: folder.appendingPathComponent("models"), withIntermediateDirectories: true)
  let text = try String(contentsOfFile: TestPaths.packageRoot + "/Models/models/llama-2-7b.json", encoding: .utf8)
  try text.replacingOccurrences(of: "\"llama-2-7b\"", with: "\"\(model)\"")
    .write(to: folder.appendingPathComponent("models/\(model).json"), atomically: true, encoding: .utf8)
  return folder.path
}

@Test func specsAreFoundWhereverTheBinaryRuns() throws {
  try #require(FileManager.default.isExecutableFile(atPath: TestPaths.reprise), "build first: swift build")
  let dir = try temporaryDirectory("installed")
  defer { try? FileManager.default.removeItem(at: dir) }
  let memory = try installed(dir, ["model", "memory", "--model", "llama-3.1-70b"])
  #expect(memory.status == 0, "\(memory.stderr)")
  #expect(memory.stdout.hasPrefix("llama-3.1-70b, TP 1"), "\(memory.stdout)")
  let report = try installed(dir, ["report", TestPaths.dlrm])
  #expect(report.status == 0, "\(report.stderr)")
  let o = try #require(try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [String: Any])
  let summary = try #require(o["summary"] as? [String: Any])
  #expect(summary["hardware"] as? String == "v100-sxm2-32gb")
  #expect((summary["reportWarnings"] as? [String])?.isEmpty == true)
  let cluster = try installed(
    dir, ["whatif", TestPaths.dlrm, "--cluster", "v100-dgx1", "--set", "link.inter.bandwidth=10GB/s"])
  #expect(cluster.status == 0, "\(cluster.stderr)")
}

@Test func modelsFlagOverridesEnvironmentOverridesEmbedded() throws {
  let dir = try temporaryDirectory("override")
  defer { try? FileManager.default.removeItem(at: dir) }
  let flagged = try specsFolder(dir, model: "from-flag")
  let env = try specsFolder(dir, model: "from-env")
  let viaEnv = try installed(dir, ["model", "memory", "--model", "from-env"], environment: ["REPRISE_MODELS": env])
  #expect(viaEnv.status == 0 && viaEnv.stdout.hasPrefix("from-env"), "\(viaEnv.stderr)")
  // The flag wins over the environment; the folder replaces the built-in specs.
  let viaFlag = try installed(
    dir, ["model", "memory", "--model", "from-env", "--models", flagged], environment: ["REPRISE_MODELS": env])
  #expect(viaFlag.status == 64, "\(viaFlag.stdout)")
  #expect(
    viaFlag.stderr.contains("unknown model 'from-env'; known: from-flag (searched \(flagged)/models, from --models)"))
  let builtIn = try installed(dir, ["model", "memory", "--model", "from-env"])
  #expect(builtIn.status == 64 && builtIn.stderr.contains("searched the specs built into reprise"), "\(builtIn.stderr)")
}

@Test func missingOrEmptySpecsFolderIsAnErrorNamingWhatWasSearched() throws {
  let dir = try temporaryDirectory("empty")
  defer { try? FileManager.default.removeItem(at: dir) }
  let missing = try installed(dir, ["model", "memory", "--model", "llama-2-7b", "--models", dir.path + "/nope"])
  #expect(missing.status == 64)
  #expect(missing.stderr.contains("--models \(dir.path)/nope: no such directory"), "\(missing.stderr)")
  let empty = dir.appendingPathComponent("empty")
  try FileManager.default.createDirectory(
    at: empty.appendingPathComponent("hardware"), withIntermediateDirectories: true)
  let viaEnv = try installed(
    dir, ["model", "memory", "--model", "llama-2-7b"], environment: ["REPRISE_MODELS": empty.path])
  #expect(viaEnv.status == 64)
  #expect(
    viaEnv.stderr.contains(
      "REPRISE_MODELS=\(empty.path): no specs found (searched \(empty.path)/hardware/*.json, \(empty.path)/models/*.json"
    ), "\(viaEnv.stderr)")
}

@Test func reportWarnsWhenItCannotResolveTheHardware() throws {
  // The MI250 trace names "AMD Radeon Graphics", which no hardware spec matches.
  let r = try reprise("report", TestPaths.packageRoot + "/Traces/public/mi250-minitoy")
  #expect(r.status == 0, "\(r.stderr)")
  let line = "hardware unknown: no hardware spec matches AMD Radeon Graphics (deviceProperties)"
  #expect(r.stderr.contains("warning: " + line), "\(r.stderr)")
  let o = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
  let summary = try #require(o["summary"] as? [String: Any])
  #expect(summary["hardware"] is NSNull)
  let warnings = try #require(summary["reportWarnings"] as? [String])
  #expect(warnings.count == 1 && warnings[0].hasPrefix(line))
  #expect(summary["warnings"] as? Int == 1)
}
