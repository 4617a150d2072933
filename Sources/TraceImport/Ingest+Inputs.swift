import CJansson
import Foundation
import TraceModel

/// One file of a run to import: a file on disk, or a member of a tar bundle held in memory.
struct TraceInput: Sendable {
  /// The file, or `<bundle>:<member>` for a bundle member.
  var path: String
  /// A bundle member's bytes (inflated when it was gzip); nil for a file on disk.
  var contents: [UInt8]?
  /// Found by searching a directory or a bundle rather than named on the command line: such a
  /// file that turns out not to be a trace is skipped with a note, not an error.
  var isListed: Bool
  /// A bundle member's size inside the archive, and whether it was gzip.
  var archivedBytes: Int64?
  var isGzipMember = false

  /// `file` with a bundle member's sizes: its size in the archive, inflated size and gzip flag
  /// (importers of in-memory bytes see neither).
  func recorded(_ file: ImportedFile) -> ImportedFile {
    guard let archivedBytes, let contents else { return file }
    switch file {
    case .rank(var r):
      (r.file.bytesOnDisk, r.file.decompressedBytes, r.file.isGzip) = (
        archivedBytes, Int64(contents.count), isGzipMember
      )
      return .rank(r)
    case .hostTrace(var t):
      t.bytesOnDisk = archivedBytes
      return .hostTrace(t)
    }
  }
}

/// A file found in a directory or bundle and passed over because it is not a trace (a
/// `steps.json` of timings beside the rank files): named and counted in the ingest summary.
public struct SkippedFile: Sendable, Equatable {
  public var path: String
  public var reason: String
  /// A directory whose trace files were not read because it holds shards (`path` is the
  /// directory), rather than a file that is not a trace.
  public var isBesideShards = false
}

extension Ingest {
  /// Expands directories, searched recursively, into the trace files and tar bundles they hold,
  /// sorted by path below each directory; files named here are kept as they are.
  ///
  /// A trace file is named `*.json`, `*.json.gz`, `*.trace.gz`, `*.et` or `*.rshard` (a shard); a bundle `*.tar.gz`,
  /// `*.tgz` or `*.tar`. Hidden files and folders (`.name`, AppleDouble `._name`) and
  /// `__MACOSX/` are left out.
  /// - Throws: `TraceImportError.noTraces` for a directory without traces, `.unreadable` for a
  ///   path that does not exist.
  public static func expand(_ paths: [String]) throws -> [String] { try sources(paths).map(\.path) }

  /// `expand`, with whether each file was found by searching (listed) or named.
  static func sources(_ paths: [String]) throws -> [(path: String, isListed: Bool)] {
    var out: [(path: String, isListed: Bool)] = []
    let fm = FileManager.default
    for p in paths {
      var isDir: ObjCBool = false
      guard fm.fileExists(atPath: p, isDirectory: &isDir) else {
        throw TraceImportError.unreadable(file: p, reason: "no such file or directory")
      }
      guard isDir.boolValue else {
        out.append((p, false))
        continue
      }
      let names = listing(p)
      if names.isEmpty { throw TraceImportError.noTraces(directory: p) }
      out.append(contentsOf: names.map { (p.hasSuffix("/") ? p + $0 : p + "/" + $0, true) })
    }
    return out
  }

  /// The trace files and bundles under `directory`, as paths relative to it, sorted; only the
  /// shards (`*.rshard`) when it holds any.
  static func listing(_ directory: String) -> [String] {
    let all = fullListing(directory)
    // A directory that holds shards is a shard directory: its other files (the summary
    // `reprise_ray` writes beside them, the traces they were made from) are not read again.
    let shards = all.filter { $0.hasSuffix("." + ShardFormat.fileExtension) }
    return shards.isEmpty ? all : shards
  }

  /// For each directory in `paths` that holds shards and other trace files, a note that those
  /// files were not read.
  static func shadowedByShards(_ paths: [String]) -> [SkippedFile] {
    paths.compactMap { p in
      var isDir: ObjCBool = false
      guard FileManager.default.fileExists(atPath: p, isDirectory: &isDir), isDir.boolValue else { return nil }
      // `shards.json`, the summary `reprise_ray shard` writes beside the shards, is not a trace.
      let all = fullListing(p).filter { $0 != "shards.json" && !$0.hasSuffix("/shards.json") }
      let shards = all.filter { $0.hasSuffix("." + ShardFormat.fileExtension) }.count
      guard shards > 0, shards < all.count else { return nil }
      return SkippedFile(
        path: p,
        reason: "\(all.count - shards) trace file(s) below it not read: it holds shards, and a directory that holds "
          + "shards is read for its shards only (name a file to read it)", isBesideShards: true)
    }
  }

  /// Every trace file and bundle under `directory`, shards or not, sorted.
  static func fullListing(_ directory: String) -> [String] {
    let fm = FileManager.default
    guard let walk = fm.enumerator(atPath: directory) else { return [] }
    var out: [String] = []
    while let relative = walk.nextObject() as? String {
      let name = relative.split(separator: "/").last.map(String.init) ?? relative
      var isDir: ObjCBool = false
      _ = fm.fileExists(atPath: directory + "/" + relative, isDirectory: &isDir)
      if name.hasPrefix(".") || name == "__MACOSX" {
        if isDir.boolValue { walk.skipDescendants() }
      } else if !isDir.boolValue && (isTraceFileName(name) || TarBundle.isBundleName(name)) {
        out.append(relative)
      }
    }
    return out.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
  }

  static func isTraceFileName(_ name: String) -> Bool {
    if name.hasPrefix(".") { return false }
    return name.hasSuffix(".json") || name.hasSuffix(".json.gz") || name.hasSuffix(".trace.gz") || name.hasSuffix(".et")
      || name.hasSuffix("." + ShardFormat.fileExtension)
  }

  /// The files to import: bundles opened into their trace members (listed, as in a directory).
  /// - Throws: `TraceImportError` for a bundle that cannot be read or holds no trace files.
  static func inputs(_ paths: [String], limits: ReadLimits = ReadLimits()) throws -> [TraceInput] {
    var out: [TraceInput] = []
    for source in try sources(paths) {
      guard TarBundle.isBundleName(source.path) else {
        out.append(TraceInput(path: source.path, isListed: source.isListed))
        continue
      }
      let members = try TarBundle.members(of: source.path, limits: limits) {
        isTraceFileName(String($0.split(separator: "/").last ?? ""))
      }
      if members.isEmpty { throw TraceImportError.noTraces(directory: source.path) }
      out += members.map {
        TraceInput(
          path: $0.name, contents: $0.contents, isListed: true, archivedBytes: $0.archivedBytes,
          isGzipMember: $0.isGzip)
      }
    }
    return out
  }

  /// Why a listed file whose import failed with `error` is not a trace at all, or nil when it
  /// may be one (then the error stands): the file is well-formed JSON, but an object without
  /// `traceEvents` or an array whose first element is not a trace event. Only Kineto-bound files
  /// up to 64 MiB are looked at; a broken trace stays an error.
  static func notATrace(_ input: TraceInput, importer: any TraceImporter.Type) -> String? {
    guard input.isListed, importer == KinetoImporter.self else { return nil }
    let size = input.contents.map { Int64($0.count) } ?? fileSize(input.path)
    guard size <= 64 << 20,
      let bytes = try? input.contents ?? ExecutionTrace.readAllBytes(input.path),
      let root = try? ExecutionTrace.loadJSON(bytes, file: input.path, expected: "JSON")
    else { return nil }
    defer { cj_decref(root) }
    switch cj_typeof(root) {
    case JSON_OBJECT:
      return json_object_get(root, "traceEvents") == nil ? "a JSON object without traceEvents, not a trace" : nil
    case JSON_ARRAY:
      let first = json_array_get(root, 0)
      let isEvent = first.map { cj_typeof($0) == JSON_OBJECT && json_object_get($0, "ph") != nil } ?? false
      return isEvent ? nil : "a JSON array without trace events, not a trace"
    default:
      return "a JSON value that is not a trace"
    }
  }

  static func fileSize(_ path: String) -> Int64 {
    (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int64) ?? 0
  }
}
