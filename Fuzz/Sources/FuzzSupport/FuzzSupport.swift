import CostModels
import Foundation
import Replay
import Serving

@testable import TraceImport

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// What the libFuzzer targets share: each target hands its input to the entry point the CLI uses
/// for that reader. A thrown error is a clean refusal and counts as success; only a crash, a
/// sanitizer report or a timeout is a finding.
public enum FuzzInput {
  /// A scratch folder of this process (under /dev/shm when there is one), removed at exit.
  static let folder: String = {
    let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
    let dir = base + "/reprise-fuzz-\(getpid())"
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    atexit { try? FileManager.default.removeItem(atPath: FuzzInput.folder) }
    return dir
  }()

  /// Writes the input to `name` in the scratch folder; returns its path.
  public static func write(_ data: UnsafeRawPointer, _ count: Int, name: String) -> String {
    let path = folder + "/" + name
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    guard fd >= 0 else { fatalError("fuzz: cannot create \(path)") }
    var done = 0
    while done < count {
      let n = Glibc.write(fd, data + done, count - done)
      guard n > 0 else { fatalError("fuzz: cannot write \(path)") }
      done += n
    }
    close(fd)
    return path
  }

  /// The input as bytes.
  public static func bytes(_ data: UnsafeRawPointer, _ count: Int) -> [UInt8] {
    Array(UnsafeBufferPointer(start: data.assumingMemoryBound(to: UInt8.self), count: count))
  }

  /// Writes the input to a file named `name` and ingests it as `reprise ingest` does
  /// (`Ingest.run`: sniffing, the format's importer, linking, the graph's invariants).
  public static func ingest(_ data: UnsafeRawPointer, _ count: Int, name: String) -> Int32 {
    let path = write(data, count, name: name)
    if let result = try? Ingest.run(paths: [path]) {
      _ = result.graph.ranks.count
    }
    return 0
  }

  /// The input as a shard, ingested twice: as given, then with its size and checksums made right
  /// (`shardWithValidHashes`) so that mutations reach the section table, the metadata and the
  /// columns rather than stopping at the first XXH64 check.
  public static func shard(_ data: UnsafeRawPointer, _ count: Int) -> Int32 {
    _ = ingest(data, count, name: "trace.rshard")
    var bytes = self.bytes(data, count)
    if shardWithValidHashes(&bytes) {
      bytes.withUnsafeBytes { _ = ingest($0.baseAddress!, $0.count, name: "trace.rshard") }
    }
    return 0
  }

  /// Rewrites a shard's file size and XXH64 checksums (columns, section table, metadata, header)
  /// to match its bytes, where the header and table lie inside it (ShardFormat's layout);
  /// false when the bytes are too short to hold a header.
  static func shardWithValidHashes(_ b: inout [UInt8]) -> Bool {
    let header = ShardFormat.headerBytes
    guard b.count >= header else { return false }
    func u32(_ at: Int) -> Int { (0..<4).reduce(0) { $0 | Int(b[at + $1]) << (8 * $1) } }
    func u64(_ at: Int) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(b[at + $1]) << (8 * UInt64($1)) } }
    func put(_ at: Int, _ v: UInt64) { for i in 0..<8 { b[at + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(i))) } }
    func hash(_ from: Int, _ n: Int) -> UInt64 {
      b.withUnsafeBytes { ShardFormat.checksum(UnsafeRawBufferPointer(rebasing: $0[from..<from + n])) }
    }
    put(16, UInt64(b.count))
    let table = u32(24) * ShardFormat.sectionEntryBytes
    if header + table <= b.count {
      for at in stride(from: header, to: header + table, by: ShardFormat.sectionEntryBytes) {
        let (offset, count, width) = (u64(at + 16), u64(at + 24), UInt64(b[at + 32]))
        let (n, over) = count.multipliedReportingOverflow(by: width)
        if !over, offset <= UInt64(b.count), n <= UInt64(b.count) - offset { put(at + 40, hash(Int(offset), Int(n))) }
      }
      put(40, hash(header, table))
      let meta = u32(28)
      if header + table + meta <= b.count { put(32, hash(header + table, meta)) }
    }
    put(56, hash(0, 56))
    return true
  }

  /// The input as `--set` knobs, one `KEY=VALUE` a line: the what-if knobs (`Scenario`, alone
  /// and with a cluster spec) and the serving knobs (`ServingScenario`).
  public static func knobs(_ data: UnsafeRawPointer, _ count: Int) -> Int32 {
    let text = String(decoding: UnsafeRawBufferPointer(start: data, count: count), as: UTF8.self)
    let items = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    if let s = try? Scenario.parse(items) { _ = s.knobDictionary() }
    if let s = try? Scenario.parse(items, cluster: cluster) { _ = s.knobDictionary() }
    _ = try? ServingScenario.parse(items)
    return 0
  }

  static let cluster = try? SpecLibrary.embedded.cluster("dgx-h100-4node")

  /// The input as a hardware, a model and a cluster spec file, each loaded as `--hardware`,
  /// `--model` and `--cluster` load a path.
  public static func specs(_ data: UnsafeRawPointer, _ count: Int) -> Int32 {
    let path = write(data, count, name: "spec.json")
    let library = SpecLibrary.embedded
    _ = try? library.hardware(path)
    _ = try? library.model(path)
    _ = try? library.cluster(path)
    return 0
  }
}

/// libFuzzer's driver (`LLVMFuzzerRunDriver`), for a target whose `main` is Swift's: SwiftPM
/// renames an executable's entry point (testable executables), so each target's `main.swift`
/// calls `FuzzInput.run` with its `LLVMFuzzerTestOneInput` (what libFuzzer's own `main` does).
@_silgen_name("LLVMFuzzerRunDriver")
func libFuzzerRunDriver(
  _ argc: UnsafeMutablePointer<Int32>,
  _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
  _ test: @convention(c) (UnsafeRawPointer?, Int) -> Int32
) -> Int32

extension FuzzInput {
  /// Runs libFuzzer on `test` with this process's arguments; returns libFuzzer's exit status.
  public static func run(_ test: @convention(c) (UnsafeRawPointer?, Int) -> Int32) -> Int32 {
    var argc = CommandLine.argc
    var argv = CommandLine.unsafeArgv
    return libFuzzerRunDriver(&argc, &argv, test)
  }
}
