import CZlib
import TraceModel

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The bytes of one input file, seen through a window that a scanner can refill.
///
/// Plain files are memory-mapped whole (no copying; pages already scanned are released
/// with `madvise` so resident memory stays bounded); pipes are read with read(2) into a
/// growable window; gzip files are inflated with zlib's `gzread` in chunks into that window;
/// in-memory inputs are used as they are.
final class ByteSource {
  enum Backing {
    case mapped(UnsafeMutableRawPointer, Int)
    case gzip(gzFile)
    /// A plain file read with read(2) into the window.
    case file(Int32)
    case memory
  }

  let file: String
  private(set) var backing: Backing
  /// The window: `buffer[0..<count]` holds stream bytes `base ..< base + count`.
  private(set) var buffer: UnsafeMutablePointer<UInt8>
  private(set) var count: Int
  private(set) var base: Int64 = 0
  private var capacity: Int
  private var ownsBuffer: Bool
  private(set) var isExhausted: Bool
  /// Bytes of input read so far (compressed bytes are not tracked; this is decompressed size).
  var totalRead: Int64 { base + Int64(count) }
  /// Size of the file on disk.
  let fileSize: Int64
  /// How many bytes the file may hold decompressed, and how far gzip may inflate it.
  let limits: ReadLimits

  /// Opens `path`, memory-mapping plain files and streaming gzip files.
  ///
  /// - Throws: `TraceImportError.malformed` when a plain file is larger than `limits` allow
  ///   (gzip and piped input are checked as they are read, by `refill`).
  init(path: String, chunkSize: Int = 1 << 22, limits: ReadLimits = ReadLimits()) throws {
    file = path
    self.limits = limits
    let fd = open(path, O_RDONLY)
    if fd < 0 { throw TraceImportError.unreadable(file: path, reason: String(cString: strerror(errno))) }
    var st = stat()
    if fstat(fd, &st) != 0 {
      close(fd)
      throw TraceImportError.unreadable(file: path, reason: String(cString: strerror(errno)))
    }
    if (st.st_mode & S_IFMT) == S_IFDIR {
      close(fd)
      throw TraceImportError.unreadable(file: path, reason: "is a directory")
    }
    fileSize = Int64(st.st_size)
    // Regular files are mapped (gzip ones streamed); pipes and other streams go through
    // zlib's gzread, which inflates gzip and passes plain bytes through unchanged.
    // REPRISE_NO_MMAP=1 reads regular plain files with read(2) instead (benchmark comparison).
    let isRegular = (st.st_mode & S_IFMT) == S_IFREG
    var magic: (UInt8, UInt8) = (0, 0)
    let got = isRegular ? withUnsafeMutableBytes(of: &magic) { pread(fd, $0.baseAddress, 2, 0) } : 0
    let isGzipFile = got == 2 && magic.0 == 0x1f && magic.1 == 0x8b
    if isRegular && !isGzipFile {
      do { try limits.check(file: path, size: fileSize) } catch {
        close(fd)
        throw error
      }
    }
    if isGzipFile || !isRegular {
      guard let gz = gzdopen(fd, "rb") else {
        close(fd)
        throw TraceImportError.unreadable(file: path, reason: "gzdopen failed")
      }
      gzbuffer(gz, 1 << 18)
      backing = .gzip(gz)
      (buffer, capacity, ownsBuffer, count, isExhausted) = Self.streamingWindow(chunkSize)
      try fill()
    } else if getenv("REPRISE_NO_MMAP") != nil && st.st_size > 0 {
      _ = posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL)
      backing = .file(fd)
      (buffer, capacity, ownsBuffer, count, isExhausted) = Self.streamingWindow(chunkSize)
      try fill()
    } else if st.st_size == 0 {
      close(fd)
      backing = .memory
      capacity = 1
      buffer = .allocate(capacity: 1)
      ownsBuffer = true
      count = 0
      isExhausted = true
    } else {
      let size = Int(st.st_size)
      let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
      close(fd)
      guard let p, p != MAP_FAILED else {
        throw TraceImportError.unreadable(file: path, reason: "mmap failed: \(String(cString: strerror(errno)))")
      }
      _ = madvise(p, size, MADV_SEQUENTIAL)
      backing = .mapped(p, size)
      buffer = p.assumingMemoryBound(to: UInt8.self)
      capacity = size
      ownsBuffer = false
      count = size
      isExhausted = true
    }
  }

  /// An empty window of `size` bytes for a streamed backing (buffer, capacity, owned, count, exhausted).
  private static func streamingWindow(_ size: Int) -> (UnsafeMutablePointer<UInt8>, Int, Bool, Int, Bool) {
    (.allocate(capacity: size), size, true, 0, false)
  }

  /// Wraps bytes already in memory (tests, fuzzing).
  init(bytes: [UInt8], file: String) {
    self.file = file
    limits = .unlimited
    backing = .memory
    capacity = max(bytes.count, 1)
    let buf = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
    bytes.withUnsafeBufferPointer { src in
      if let b = src.baseAddress { buf.update(from: b, count: bytes.count) }
    }
    buffer = buf
    ownsBuffer = true
    count = bytes.count
    fileSize = Int64(bytes.count)
    isExhausted = true
  }

  deinit {
    switch backing {
    case .mapped(let p, let size): munmap(p, size)
    case .gzip(let gz): gzclose(gz)
    case .file(let fd): close(fd)
    case .memory: break
    }
    if ownsBuffer { buffer.deallocate() }
  }

  var isGzip: Bool { if case .gzip = backing { return true } else { return false } }
  var isStreamed: Bool {
    switch backing {
    case .gzip, .file: return true
    default: return false
    }
  }

  /// Discards window bytes before `keepFrom` and reads more input into the window.
  ///
  /// Returns the shift applied to window positions (positions ≥ `keepFrom` move down by it).
  /// When nothing more can be read, `count` is unchanged.
  func refill(keepFrom: Int) throws -> Int {
    guard !isExhausted, isStreamed else { return 0 }
    let keep = count - keepFrom
    if keepFrom > 0 {
      if keep > 0 { memmove(buffer, buffer + keepFrom, keep) }
      base += Int64(keepFrom)
      count = keep
    }
    if count == capacity {
      // One value is larger than the window: grow it.
      let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity * 2)
      bigger.update(from: buffer, count: count)
      buffer.deallocate()
      buffer = bigger
      capacity *= 2
    }
    try fill()
    return keepFrom
  }

  private func fill() throws {
    if case .file(let fd) = backing {
      while count < capacity {
        let n = read(fd, buffer + count, capacity - count)
        if n < 0 {
          if errno == EINTR { continue }
          throw TraceImportError.unreadable(file: file, reason: String(cString: strerror(errno)))
        }
        if n == 0 {
          isExhausted = true
          return
        }
        count += n
        try limits.check(file: file, decompressed: base + Int64(count), compressed: nil)
      }
      return
    }
    guard case .gzip(let gz) = backing else { return }
    while count < capacity {
      let want = UInt32(min(capacity - count, 1 << 30))
      let n = gzread(gz, buffer + count, want)
      if n < 0 {
        var errnum: Int32 = 0
        let msg = gzerror(gz, &errnum).map { String(cString: $0) } ?? "unknown zlib error"
        throw TraceImportError.malformed(
          TraceLocation(file: file, byteOffset: base + Int64(count)), expected: "valid gzip data",
          found: "zlib error: \(msg)")
      }
      if n == 0 {
        // End of input: zlib reports a stream cut short (missing data or trailer) only here.
        var errnum: Int32 = 0
        _ = gzerror(gz, &errnum)
        if errnum != Z_OK {
          throw TraceImportError.malformed(
            TraceLocation(file: file, byteOffset: base + Int64(count)), expected: "the rest of the gzip stream",
            found: "truncated gzip data (unexpected end of file)")
        }
        isExhausted = true
        return
      }
      count += Int(n)
      // gzoffset: compressed bytes consumed so far (-1 for a pipe, where only the size limit applies).
      try limits.check(file: file, decompressed: base + Int64(count), compressed: Int64(gzoffset(gz)))
    }
  }

  /// Tells the kernel that mapped bytes `from ..< to` (window positions) will not be read again;
  /// returns the position up to which pages were released (`from` when none; always for input
  /// that is not mapped). Keeps no state, so parsers reading different parts of one mapping can
  /// each release their own part.
  func release(from: Int, to: Int) -> Int {
    guard case .mapped(let p, _) = backing else { return from }
    let page = 1 << 16
    let lo = (from + page - 1) / page * page
    let hi = to / page * page
    guard hi - lo >= 1 << 22 else { return from }
    _ = madvise(p + lo, hi - lo, MADV_DONTNEED)
    return hi
  }

}
