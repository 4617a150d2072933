import Foundation
import TestSupport
import Testing
import TraceModel

@testable import TraceImport

/// A fresh temporary directory, removed by the caller.
private func scratch(_ label: String) throws -> String {
  let dir = FileManager.default.temporaryDirectory.appendingPathComponent("reprise-\(label)-\(UUID().uuidString)").path
  try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
  return dir
}

private func bytes(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }

private let ddp = TestPaths.bundledTraces + "/ddp-4rank"

/// Issue 12, bug 9: `.tar.gz` bundles of traces (as `param` ships them) were refused. A bundle
/// is read as a tar stream: pax headers, directories and macOS AppleDouble members are passed
/// over, a gzip member is inflated, and each trace member is ingested as a file named
/// `bundle.tar.gz:member`. The run equals the same files ingested from a directory.
@Test func tarBundleIsIngestedLikeTheDirectoryItHolds() throws {
  let dir = try scratch("bundle")
  defer { try? FileManager.default.removeItem(atPath: dir) }
  var tar = TarWriter()
  tar.addPax([("comment", "made by a test")], global: true)
  tar.add("run/", type: "5")
  tar.add("run/._rank0.pt.trace.json", [0, 5, 22, 7, 0, 2, 0, 0])  // AppleDouble: binary, not a trace
  tar.add("__MACOSX/run/._rank1.pt.trace.json", [0, 5, 22, 7])
  tar.add("run/rank0.pt.trace.json", try bytes(ddp + "/rank0.pt.trace.json"))
  tar.addPax([("path", "run/a-long-directory-name-that-a-pax-header-carries/rank1.pt.trace.json")])
  tar.add("run/short", try bytes(ddp + "/rank1.pt.trace.json"))
  let gz = dir + "/rank2.json.gz"
  #expect(gzip(try bytes(ddp + "/rank2.pt.trace.json"), to: gz))
  tar.add("run/rank2.json.gz", try bytes(gz))
  tar.add("run/rank3.pt.trace.json", try bytes(ddp + "/rank3.pt.trace.json"))
  tar.add("run/README.md", Array("not a trace".utf8))
  let bundle = dir + "/run.tar.gz"
  #expect(gzip(tar.bytes, to: bundle))

  let fromBundle = try Ingest.run(paths: [bundle])
  let fromDirectory = try Ingest.run(paths: [ddp])
  #expect(fromBundle.graph.ranks.count == 4)
  #expect(fromBundle.graph.eventCount == fromDirectory.graph.eventCount)
  #expect(fromBundle.graph.edgeCount == fromDirectory.graph.edgeCount)
  #expect(fromBundle.link.matchedInstances == fromDirectory.link.matchedInstances)
  #expect(
    fromBundle.files.map(\.path) == [
      bundle + ":run/rank0.pt.trace.json",
      bundle + ":run/a-long-directory-name-that-a-pax-header-carries/rank1.pt.trace.json",
      bundle + ":run/rank2.json.gz", bundle + ":run/rank3.pt.trace.json",
    ])
  let member2 = try #require(fromBundle.files.first { $0.path.hasSuffix("rank2.json.gz") })
  let rank2Size = Int64(try bytes(ddp + "/rank2.pt.trace.json").count)
  #expect(member2.isGzip && member2.decompressedBytes == rank2Size)
  // A plain .tar is read too.
  let plain = dir + "/run.tar"
  _ = FileManager.default.createFile(atPath: plain, contents: Data(tar.bytes))
  #expect(try Ingest.run(paths: [plain]).graph.eventCount == fromDirectory.graph.eventCount)
}

/// Errors inside a bundle name the bundle and the member; a corrupt header names the offset.
@Test func bundleErrorsNameTheBundleAndMember() throws {
  let dir = try scratch("bundle-bad")
  defer { try? FileManager.default.removeItem(atPath: dir) }
  var tar = TarWriter()
  tar.add("run/rank0.pt.trace.json", Array(try bytes(ddp + "/rank0.pt.trace.json").prefix(5000)))
  let bundle = dir + "/bad.tar.gz"
  #expect(gzip(tar.bytes, to: bundle))
  #expect {
    try Ingest.run(paths: [bundle])
  } throws: { error in
    "\(error)".hasPrefix(bundle + ":run/rank0.pt.trace.json:@")
  }
  var broken = tar.bytes
  broken[148] = UInt8(ascii: "7")  // checksum no longer matches
  let corrupt = dir + "/corrupt.tar.gz"
  #expect(gzip(broken, to: corrupt))
  #expect {
    try Ingest.run(paths: [corrupt])
  } throws: { error in
    "\(error)".hasPrefix(corrupt + ":@0: expected a tar header")
  }
}

/// The bundles `param` ships read as the same run as their unpacked copies.
@Test(.needsCorpus) func paramBundlesReadLikeTheirUnpackedCopies() throws {
  let inputs = (TestPaths.corpus ?? "") + "/param/et_replay/tests/inputs"
  let bundle = try Ingest.run(paths: [inputs + "/dlrm_kineto.tar.gz"])
  let unpacked = try Ingest.run(paths: [inputs + "/dlrm_kineto.tar.gz.d/dlrm_kineto"])
  #expect(bundle.graph.ranks.count == 8 && bundle.graph.eventCount == unpacked.graph.eventCount)
  #expect(bundle.graph.edgeCount == unpacked.graph.edgeCount)
  let linked = try Ingest.run(paths: [inputs + "/dlrm_kineto.tar.gz", inputs + "/dlrm_pytorch_et.tar.gz"])
  #expect(linked.etLinks.count == 8)
}

/// Issue 12, bug 9: directories were not searched recursively, and one non-trace JSON file
/// beside the rank files (a `steps.json` of timings) failed the whole run with "missing required
/// field 'traceEvents'". Directories are searched recursively in a fixed order; such a file is
/// skipped and listed; named on its own it is still an error.
@Test func directoriesAreSearchedRecursivelyAndNonTracesSkipped() throws {
  let dir = try scratch("tree")
  defer { try? FileManager.default.removeItem(atPath: dir) }
  let fm = FileManager.default
  for sub in ["run/b", "run/a", "run/.git"] {
    try fm.createDirectory(atPath: dir + "/" + sub, withIntermediateDirectories: true)
  }
  try fm.copyItem(atPath: ddp + "/rank0.pt.trace.json", toPath: dir + "/run/rank0.pt.trace.json")
  try fm.copyItem(atPath: ddp + "/rank1.pt.trace.json", toPath: dir + "/run/b/rank1.pt.trace.json")
  try fm.copyItem(atPath: ddp + "/rank2.pt.trace.json", toPath: dir + "/run/a/rank2.pt.trace.json")
  try fm.copyItem(atPath: ddp + "/rank3.pt.trace.json", toPath: dir + "/run/a/rank3.pt.trace.json")
  _ = fm.createFile(atPath: dir + "/run/steps.json", contents: Data(#"{"steps": [{"step": 3, "ms": 17.5}]}"#.utf8))
  _ = fm.createFile(atPath: dir + "/run/a/timings.json", contents: Data(#"[{"step": 3, "ms": 17.5}]"#.utf8))
  _ = fm.createFile(atPath: dir + "/run/.git/config.json", contents: Data("{}".utf8))

  let listed = try Ingest.expand([dir + "/run"])
  #expect(
    listed
      == [
        "a/rank2.pt.trace.json", "a/rank3.pt.trace.json", "a/timings.json", "b/rank1.pt.trace.json",
        "rank0.pt.trace.json", "steps.json",
      ].map { dir + "/run/" + $0 })
  let result = try Ingest.run(paths: [dir + "/run"])
  #expect(result.graph.ranks.count == 4)
  let direct = try Ingest.run(paths: [ddp])
  #expect(result.graph.eventCount == direct.graph.eventCount)
  #expect(result.skipped.map(\.path) == [dir + "/run/a/timings.json", dir + "/run/steps.json"])
  #expect(result.skipped.allSatisfy { $0.reason.hasSuffix("not a trace") })
  #expect(throws: TraceImportError.self) { try Ingest.run(paths: [dir + "/run/steps.json"]) }
  // A broken trace in a directory is still an error, not skipped.
  _ = fm.createFile(atPath: dir + "/run/b/rank4.pt.trace.json", contents: Data(#"{"traceEvents": [{"ph": "X""#.utf8))
  #expect(throws: TraceImportError.self) { try Ingest.run(paths: [dir + "/run"]) }
}

/// A tar header's stated size is not allocated before the bytes arrive: a member that claims
/// 32 GiB (under the default `--max-bytes`) in a 3 KB archive is a one-line "truncated" error,
/// quickly, not a 32 GiB buffer.
@Test func aTarMemberClaiming32GiBIsTruncatedNotAllocated() throws {
  let dir = try scratch("tarsize")
  defer { try? FileManager.default.removeItem(atPath: dir) }
  var tar = TarWriter()
  tar.add("rank0.pt.trace.json", Array(#"{"traceEvents": []}"#.utf8))
  var b = tar.bytes
  // A base-256 size (GNU) of 2^35 in the first header, its checksum made right.
  for i in 124..<136 { b[i] = 0 }
  b[124] = 0x80
  b[131] = 8  // 2^35: the 11 bytes after the marker are big-endian, b[135] the lowest
  for i in 148..<156 { b[i] = UInt8(ascii: " ") }
  let sum = b[0..<512].reduce(0) { $0 + Int($1) }
  let field = Array(String(sum, radix: 8).utf8)
  let padded = [UInt8](repeating: UInt8(ascii: "0"), count: 6 - field.count) + field
  for (i, c) in padded.enumerated() { b[148 + i] = c }
  b[154] = 0
  let path = dir + "/big.tar"
  FileManager.default.createFile(atPath: path, contents: Data(b))
  #expect(throws: TraceImportError.self) { try Ingest.run(paths: [path], options: IngestOptions()) }
  do {
    _ = try Ingest.run(paths: [path])
  } catch {
    let text = "\(error)"
    #expect(!text.contains("\n"))
    #expect(text.contains("big.tar") && text.contains("truncated"), "\(text)")
  }
}
