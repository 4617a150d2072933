#if canImport(Glibc)
  import Glibc
#endif

/// Large buffers that are about to be filled for the first time (graph columns decoded from a
/// shard, merged columns).
///
/// On Linux a fresh anonymous page costs a page fault when it is first written; with 4 KiB pages
/// that is 256 faults per MiB, about 0.6 ms per MiB on the 2-core VM of docs/performance.md, and
/// it bounds any loader that writes its output into new memory. Asking for transparent huge pages
/// (`madvise(MADV_HUGEPAGE)`, Linux `Documentation/admin-guide/mm/transhuge.rst`) turns 512 of
/// those faults into one: about 0.2 ms per MiB there. The kernel's default THP mode, `madvise`,
/// honours the request; with THP `never` it is ignored and nothing changes.
public enum FreshMemory {
  /// Buffers smaller than this are left alone: fewer than two huge pages fit inside them.
  public static let minimumBytes = 4 << 20

  /// Asks for huge pages on the 2 MiB-aligned interior of `buffer`, before it is first written.
  /// A hint only: results are the same with or without it.
  public static func adviseHugePages(_ buffer: UnsafeMutableRawBufferPointer) {
    #if os(Linux)
      guard buffer.count >= minimumBytes, let base = buffer.baseAddress else { return }
      let huge = UInt(2 << 20)
      let start = (UInt(bitPattern: base) + huge - 1) & ~(huge - 1)
      let end = (UInt(bitPattern: base) + UInt(buffer.count)) & ~(huge - 1)
      guard end > start, let p = UnsafeMutableRawPointer(bitPattern: start) else { return }
      _ = madvise(p, Int(end - start), MADV_HUGEPAGE)
    #endif
  }

  /// An array of `count` elements, its storage advised for huge pages, filled by `body` (which
  /// must initialize every element).
  public static func array<T>(
    count: Int, _ body: (UnsafeMutableBufferPointer<T>) throws -> Void
  ) rethrows -> [T] {
    try [T](unsafeUninitializedCapacity: count) { out, initialized in
      adviseHugePages(UnsafeMutableRawBufferPointer(out))
      try body(out)
      initialized = out.count
    }
  }
}
