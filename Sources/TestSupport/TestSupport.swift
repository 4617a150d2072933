import Foundation
import TraceModel

/// Paths of the package, its bundled traces and the optional external trace corpus, found from
/// this file's location.
public enum TestPaths {
  /// The package root (the directory holding Package.swift).
  public static let packageRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
  }()

  /// An optional corpus of more real traces (HTA, TraceLens, param, Chakra, ASTRA-sim test data)
  /// at `$REPRISE_TRACE_CORPUS`. CI sets it; a fresh clone has none, and the tests that need it
  /// are skipped with the reason shown (`needsCorpus`).
  public static let corpus: String? = {
    guard let env = ProcessInfo.processInfo.environment["REPRISE_TRACE_CORPUS"], !env.isEmpty,
      FileManager.default.fileExists(atPath: env)
    else { return nil }
    return env
  }()

  /// Whether the external trace corpus is present.
  public static var hasCorpus: Bool { corpus != nil }

  /// Why a corpus test is skipped.
  public static let corpusMissing = "needs the external trace corpus (REPRISE_TRACE_CORPUS), which is not present"

  /// The bundled generated multi-rank sets, the bundled real DLRM set, then the given
  /// corpus-relative paths (each starting with `/`) when the corpus is present.
  public static func traceSets(corpus extra: [String] = []) -> [String] {
    [bundledTraces + "/ddp-4rank", bundledTraces + "/pipeline-2rank", megatron, dlrm]
      + (corpus.map { root in extra.map { root + $0 } } ?? [])
  }

  /// The generated Megatron-style 8-rank tensor-parallel set (`Traces/generated/megatron-tp8`).
  public static var megatron: String { bundledTraces + "/megatron-tp8" }

  /// The generated fixtures (`Traces/generated`).
  public static var bundledTraces: String { packageRoot + "/Traces/generated" }

  /// The bundled real 8-rank DLRM set (facebookresearch/param `dlrm_kineto`, V100).
  public static var dlrm: String { packageRoot + "/Traces/public/dlrm-8rank" }

  /// The bundled real MI300X trace (AMD-AGI/TraceLens `tests/traces/mi300`, Qwen1.5-0.5B).
  public static var mi300: String { packageRoot + "/Traces/public/mi300-qwen1.5-0.5b" }
  /// The same Qwen1.5-0.5B workload on one H100 (TraceLens), the other half of the transfer pair.
  public static var h100: String { packageRoot + "/Traces/public/h100-qwen1.5-0.5b" }

  /// The debug `reprise` binary built by `swift build`.
  public static var reprise: String { packageRoot + "/.build/debug/reprise" }

  /// Every `.json` / `.json.gz` file under `dir`, sorted.
  public static func jsonFiles(under dir: String) -> [String] {
    guard let e = FileManager.default.enumerator(atPath: dir) else { return [] }
    var out: [String] = []
    while let rel = e.nextObject() as? String {
      if rel.hasSuffix(".json") || rel.hasSuffix(".json.gz") { out.append(dir + "/" + rel) }
    }
    return out.sorted()
  }
}

/// A small, fast, seedable random number generator (SplitMix64) for reproducible tests.
public struct SplitMix64: RandomNumberGenerator, Sendable {
  private var state: UInt64
  public init(seed: UInt64) { state = seed }
  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

/// Runs a command and returns its exit status, standard output and standard error.
public func runProcess(
  _ executable: String, _ arguments: [String], cwd: String? = nil, environment: [String: String] = [:]
) throws -> (status: Int32, stdout: String, stderr: String) {
  let p = Process()
  if !environment.isEmpty {
    p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
  }
  p.executableURL = URL(fileURLWithPath: executable)
  p.arguments = arguments
  if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
  // Files, not pipes: a chatty child can never block on a full pipe.
  let dir = FileManager.default.temporaryDirectory
  let outURL = dir.appendingPathComponent("reprise-test-\(UUID().uuidString).out")
  let errURL = dir.appendingPathComponent("reprise-test-\(UUID().uuidString).err")
  _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
  _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
  defer {
    try? FileManager.default.removeItem(at: outURL)
    try? FileManager.default.removeItem(at: errURL)
  }
  p.standardOutput = try FileHandle(forWritingTo: outURL)
  p.standardError = try FileHandle(forWritingTo: errURL)
  try p.run()
  p.waitUntilExit()
  let outData = (try? Data(contentsOf: outURL)) ?? Data()
  let errData = (try? Data(contentsOf: errURL)) ?? Data()
  return (p.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
}

extension EventGraph {
  /// A random valid graph for property tests: `events` events on `lanes` lanes of one rank,
  /// program order per lane plus random forward edges.
  public static func random(events: Int, lanes laneCount: Int, using rng: inout SplitMix64) -> EventGraph {
    var b = Builder()
    let name = b.strings.intern("op")
    for l in 0..<laneCount {
      b.lanes.append(
        Lane(
          rank: RankID(0), kind: l == 0 ? .hostThread : .deviceStream, device: l == 0 ? -1 : 0,
          pid: 1, tid: Int64(l), name: b.strings.intern("lane \(l)")))
    }
    var lastOnLane = [Int](repeating: -1, count: laneCount)
    var t: Int64 = 0
    for e in 0..<events {
      let l = Int(rng.next() % UInt64(laneCount))
      t += Int64(rng.next() % 1000)
      b.addEvent(
        lane: LaneID(l), name: name, kind: l == 0 ? .hostOp : .kernel, start: t, duration: Int64(rng.next() % 5000))
      if lastOnLane[l] >= 0 { b.addEdge(from: EventID(lastOnLane[l]), to: EventID(e), kind: .programOrder) }
      lastOnLane[l] = e
      if e > 0 && rng.next() % 3 == 0 {
        let from = Int(rng.next() % UInt64(e))
        b.addEdge(from: EventID(from), to: EventID(e), kind: .launch)
      }
    }
    return b.build()
  }
}
