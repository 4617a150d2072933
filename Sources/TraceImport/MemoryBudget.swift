import Foundation

/// Whether the graph of the inputs fits in the memory this process may use, checked before the
/// graph is built and again while JSON is read, so that input too big for the machine fails with
/// one line (`TraceImportError.insufficientMemory`, exit 65) instead of an OOM kill.
///
/// The need is estimated from the bytes of Kineto JSON: `fixedBytes` plus `peakBytesPerJSONByte`
/// per byte, the peak resident memory of `reprise ingest` measured on generated traces
/// (docs/reliability.md, "Huge inputs in bounded memory"). What is available is the smaller of
/// `MemAvailable` (/proc/meminfo) and the memory cgroup's limit less its use, or
/// `REPRISE_MEMORY_AVAILABLE` (bytes, or with a K, M or G suffix) when set. When neither can be
/// read nothing is checked.
///
/// Before reading, a plain file's size is its JSON size; for a gzip file only a lower bound is
/// known: the larger of its compressed size and the size in its trailer (ISIZE, the size modulo
/// 2³²). While a file is read, every 8 MiB (the parser's release tick), the JSON read so far is
/// checked against the file's share of the budget, which catches a gzip file whose size was
/// unknown before its graph has grown past the memory.
public enum MemoryBudget {
  /// Peak resident bytes per byte of Kineto JSON ingested, above `fixedBytes` (measured 0.25 to
  /// 0.44 on generated traces of 0.15 to 4.3 GB and on public traces of 50 to 90 MB; the margin
  /// covers denser traces, down to about 125 bytes of JSON an event: docs/reliability.md, "The
  /// memory check").
  public static let peakBytesPerJSONByte = 0.8
  /// Resident memory that does not grow with the input: the binary, the runtime, the read window.
  public static let fixedBytes: Int64 = 256 << 20

  /// The bytes of memory the process may still use, or nil when unknown.
  public static func available() -> Int64? {
    if let text = ProcessInfo.processInfo.environment["REPRISE_MEMORY_AVAILABLE"] {
      return ReadLimits.parseSize(text)
    }
    var best: Int64? = meminfoAvailable()
    if let limit = cgroupHeadroom() { best = min(best ?? limit, limit) }
    return best
  }

  /// The memory ingesting `jsonBytes` of Kineto JSON needs at its peak, estimated.
  public static func need(jsonBytes: Int64) -> Int64 {
    fixedBytes + Int64(Double(jsonBytes) * peakBytesPerJSONByte)
  }

  /// The most bytes of JSON that fit in `available` bytes of memory.
  static func jsonLimit(available: Int64) -> Int64 {
    max(0, Int64(Double(available - fixedBytes) / peakBytesPerJSONByte))
  }

  /// `MemAvailable` of /proc/meminfo, in bytes.
  static func meminfoAvailable() -> Int64? {
    guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) else { return nil }
    for line in text.split(separator: "\n") where line.hasPrefix("MemAvailable:") {
      let fields = line.split(separator: " ")
      if fields.count >= 2, let kb = Int64(fields[1]) { return kb * 1024 }
    }
    return nil
  }

  /// The limit of the process's memory cgroup less what the cgroup uses, in bytes (cgroup v2
  /// `memory.max` − `memory.current`, or v1 `memory.limit_in_bytes` − `memory.usage_in_bytes`,
  /// the page cache not counted as used); nil when unlimited or unknown.
  static func cgroupHeadroom() -> Int64? {
    func read(_ path: String) -> Int64? {
      (try? String(contentsOfFile: path, encoding: .utf8)).flatMap {
        Int64($0.trimmingCharacters(in: .whitespacesAndNewlines))
      }
    }
    // The process's own cgroup (`/proc/self/cgroup`), else the root the mount shows.
    var (v1, v2) = ("", "")
    let own = (try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8)) ?? ""
    for line in own.split(separator: "\n") {
      let fields: [Substring] = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
      guard fields.count == 3 else { continue }
      if fields[0] == "0" && fields[1].isEmpty { v2 = String(fields[2]) }
      if fields[1] == "memory" { v1 = String(fields[2]) }
    }
    let candidates: [(String, String, String)] = [
      ("/sys/fs/cgroup" + v2, "memory.max", "memory.current"), ("/sys/fs/cgroup", "memory.max", "memory.current"),
      ("/sys/fs/cgroup/memory" + v1, "memory.limit_in_bytes", "memory.usage_in_bytes"),
      ("/sys/fs/cgroup/memory", "memory.limit_in_bytes", "memory.usage_in_bytes"),
    ]
    for (dir, limitFile, usageFile) in candidates {
      guard let limit = read(dir + "/" + limitFile) else { continue }
      // v1 writes "no limit" as a number near 2⁶³.
      if limit >= 1 << 60 { return nil }
      // The page cache counts in the use but is given back under pressure (`file` in v2's
      // memory.stat, `total_cache` in v1's).
      let stat = (try? String(contentsOfFile: dir + "/memory.stat", encoding: .utf8)) ?? ""
      var cache: Int64 = 0
      for line in stat.split(separator: "\n") {
        let f: [Substring] = line.split(separator: " ")
        if f.count == 2 && (f[0] == "file" || f[0] == "total_cache") { cache = Int64(f[1]) ?? 0 }
      }
      let used: Int64 = max(0, (read(dir + "/" + usageFile) ?? 0) - cache)
      return max(0, limit - used)
    }
    return nil
  }

  /// The JSON size of a file, or a lower bound for gzip (compressed size, the trailer's ISIZE).
  static func jsonBytes(path: String) -> (bytes: Int64, isLowerBound: Bool)? {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
    let size = Int64(st.st_size)
    var magic: (UInt8, UInt8) = (0, 0)
    let got = withUnsafeMutableBytes(of: &magic) { pread(fd, $0.baseAddress, 2, 0) }
    guard got == 2, magic.0 == 0x1f, magic.1 == 0x8b else { return (size, false) }
    var trailer: UInt32 = 0
    let read = size >= 18 ? withUnsafeMutableBytes(of: &trailer) { pread(fd, $0.baseAddress, 4, off_t(size - 4)) } : 0
    let isize = read == 4 ? Int64(UInt32(littleEndian: trailer)) : 0
    return (max(size, isize), true)
  }

  /// The JSON each input may read (nil: unchecked), after checking that the inputs' known JSON
  /// fits: Kineto files on disk only (bundle members and other formats are not estimated).
  /// - Throws: `TraceImportError.insufficientMemory` naming the largest file when it does not fit.
  static func limits(paths: [String?], available: Int64? = available()) throws -> [Int64?] {
    // Nothing to estimate (no Kineto file on disk: shards, Chakra, bundle members): no limit here.
    guard let available, paths.contains(where: { $0 != nil }) else { return paths.map { _ in nil } }
    let sizes = paths.map { $0.flatMap(jsonBytes(path:)) }
    let total = sizes.reduce(Int64(0)) { $0 + ($1?.bytes ?? 0) }
    let needed = need(jsonBytes: total)
    if needed > available, let i = sizes.indices.max(by: { (sizes[$0]?.bytes ?? 0) < (sizes[$1]?.bytes ?? 0) }) {
      throw TraceImportError.insufficientMemory(
        file: paths[i] ?? "", neededBytes: needed, availableBytes: available,
        basis: sizes[i]?.isLowerBound == true ? .gzipLowerBound(total) : .jsonSize(total))
    }
    // Each file may read its share of what fits; a file of unknown size, what the others leave.
    let limit = jsonLimit(available: available)
    return sizes.map { s in
      guard let s, total > 0 else { return limit - total }
      return Int64(Double(limit) * Double(s.bytes) / Double(total))
    }
  }
}
