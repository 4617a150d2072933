import CZlib
import TraceModel

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A tar archive of trace files, plain or gzip (`.tar`, `.tar.gz`, `.tgz`, as `param` ships its
/// test traces), read as one stream: its regular-file members, in archive order.
///
/// Reads POSIX ustar headers (name with its `prefix`), pax extended headers (`x`: `path` and
/// `size` override the next member's; `g`, global, is skipped) and GNU long names (`L`). Skips
/// directories, links and devices, and macOS metadata: AppleDouble members (`._name`) and
/// anything under `__MACOSX/`. Members whose names `accept` refuses are read past, not kept. A
/// gzip-compressed member (`rank0.json.gz` inside the archive) is inflated. Member contents are
/// held in memory. Each member is named `<archive path>:<member path>`, which is how errors and
/// reports name it.
enum TarBundle {
  struct Member: Sendable {
    /// `<archive path>:<member path>`.
    var name: String
    /// The member's bytes, inflated when the member was gzip.
    var contents: [UInt8]
    /// The member's size inside the archive.
    var archivedBytes: Int64
    var isGzip: Bool
  }

  /// Whether a file name is a tar archive Reprise opens.
  static func isBundleName(_ name: String) -> Bool {
    let n = name.lowercased()
    return n.hasSuffix(".tar.gz") || n.hasSuffix(".tgz") || n.hasSuffix(".tar")
  }

  /// Whether a member path is macOS metadata: an AppleDouble file (`._name`) or under `__MACOSX/`.
  static func isMetadata(_ memberPath: String) -> Bool {
    let parts = memberPath.split(separator: "/")
    return parts.contains("__MACOSX") || (parts.last?.hasPrefix("._") ?? false)
  }

  /// The regular-file members of the archive at `path` whose member paths `accept` takes.
  /// - Throws: `TraceImportError.unreadable` when the archive cannot be opened,
  ///   `.malformed` (naming the archive and the byte offset in the uncompressed tar stream) for
  ///   a bad header, a truncated archive or a member that is not valid gzip.
  ///   A member larger than `limits` allow (stored or inflated) is refused.
  static func members(of path: String, limits: ReadLimits = ReadLimits(), accept: (String) -> Bool) throws
    -> [Member]
  {
    guard let gz = gzopen(path, "rb") else {
      throw TraceImportError.unreadable(file: path, reason: String(cString: strerror(errno)))
    }
    defer { gzclose(gz) }
    var stream = Stream(gz: gz, file: path)
    var out: [Member] = []
    var pending = Pending()
    while let header = try stream.block() {
      if header.allSatisfy({ $0 == 0 }) { break }  // end of archive
      let at = stream.offset - 512
      let entry = try Header(header, file: path, offset: at)
      let isOverride = entry.type == UInt8(ascii: "x") || entry.type == UInt8(ascii: "L")
      let size = isOverride ? entry.size : pending.size ?? entry.size
      switch entry.type {
      case UInt8(ascii: "x"):
        pending = try Pending(pax: try stream.read(size), file: path, offset: at)
        continue
      case UInt8(ascii: "L"):
        pending.path = String(decoding: try stream.read(size).prefix { $0 != 0 }, as: UTF8.self)
        continue
      case UInt8(ascii: "0"), 0, UInt8(ascii: "7"):
        let name = pending.path ?? entry.name
        pending = Pending()
        guard !isMetadata(name), accept(name) else {
          try stream.skip(size)
          continue
        }
        try limits.check(file: path + ":" + name, size: size)
        var bytes = try stream.read(size)
        let isGzip = bytes.count >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b
        if isGzip { bytes = try inflate(bytes, file: path + ":" + name, limits: limits) }
        out.append(Member(name: path + ":" + name, contents: bytes, archivedBytes: size, isGzip: isGzip))
      default:  // directories, links, devices, global pax headers, GNU long link names
        pending = Pending()
        try stream.skip(size)
      }
    }
    return out
  }

  /// Overrides for the next member from a pax extended header or a GNU long name.
  struct Pending {
    var path: String?
    var size: Int64?

    init() {}

    /// Parses pax records, `"<length> <key>=<value>\n"`.
    init(pax: [UInt8], file: String, offset: Int64) throws {
      var i = 0
      while i < pax.count, pax[i] != 0 {
        guard let space = pax[i...].firstIndex(of: UInt8(ascii: " ")),
          let length = Int(String(decoding: pax[i..<space], as: UTF8.self)), length > space - i, i + length <= pax.count
        else {
          throw TraceImportError.malformed(
            TraceLocation(file: file, byteOffset: offset + 512 + Int64(i)), expected: "a pax record 'LEN key=value'",
            found: "'\(String(decoding: pax[i..<min(i + 20, pax.count)], as: UTF8.self))'")
        }
        let record = pax[(space + 1)..<(i + length - 1)]
        if let eq = record.firstIndex(of: UInt8(ascii: "=")) {
          let key = String(decoding: record[..<eq], as: UTF8.self)
          let value = String(decoding: record[(eq + 1)...], as: UTF8.self)
          if key == "path" { path = value }
          if key == "size" { size = Int64(value) }
        }
        i += length
      }
    }
  }

  /// One 512-byte ustar header.
  struct Header {
    var name: String
    var size: Int64
    var type: UInt8

    init(_ h: [UInt8], file: String, offset: Int64) throws {
      func fail(_ expected: String, _ found: String) -> TraceImportError {
        .malformed(TraceLocation(file: file, byteOffset: offset), expected: expected, found: found)
      }
      // The checksum: the header's bytes summed with the checksum field read as spaces.
      let sum = h.enumerated().reduce(0) { $0 + Int((148..<156).contains($1.offset) ? 32 : $1.element) }
      guard let stored = Self.octal(h[148..<156]), stored == sum else {
        throw fail("a tar header (checksum \(sum))", "checksum field '\(Self.text(h[148..<156]))'")
      }
      var name = Self.text(h[0..<100])
      if Self.text(h[257..<262]) == "ustar" {
        let prefix = Self.text(h[345..<500])
        if !prefix.isEmpty { name = prefix + "/" + name }
      }
      if h[124] & 0x80 != 0 {  // base-256 size (GNU, for members of 8 GiB and more)
        size = h[125..<136].reduce(Int64(0)) { $0 << 8 | Int64($1) }
      } else if let v = Self.octal(h[124..<136]) {
        size = Int64(v)
      } else {
        throw fail("an octal member size", "'\(Self.text(h[124..<136]))'")
      }
      (self.name, type) = (name, h[156])
    }

    static func text(_ field: ArraySlice<UInt8>) -> String {
      String(decoding: field.prefix { $0 != 0 }, as: UTF8.self)
    }

    /// An octal field (digits, padded with spaces or NULs); nil when it holds anything else.
    static func octal(_ field: ArraySlice<UInt8>) -> Int? {
      let digits = field.drop { $0 == 32 }.prefix { $0 != 0 && $0 != 32 }
      guard !digits.isEmpty, digits.allSatisfy({ $0 >= 48 && $0 <= 55 }), digits.count <= 20 else { return nil }
      return digits.reduce(0) { $0 * 8 + Int($1 - 48) }
    }
  }

  /// The uncompressed tar stream, read in 512-byte blocks.
  struct Stream {
    let gz: gzFile
    let file: String
    /// Bytes read so far.
    var offset: Int64 = 0

    /// The next block; nil at the end of the input.
    mutating func block() throws -> [UInt8]? {
      let b = try read(512, padded: false)
      return b.isEmpty ? nil : b
    }

    /// `count` bytes, then the padding to the next 512-byte boundary. Read 16 MiB at a time into
    /// memory that is written only as the bytes arrive, not sized by what the header states: an
    /// archive of a few KB whose header claims 32 GiB is a "truncated" line, not a 32 GiB buffer.
    mutating func read(_ count: Int64, padded: Bool = true) throws -> [UInt8] {
      let chunk = Int(max(0, min(count, 1 << 24)))
      var scratch = [UInt8](repeating: 0, count: chunk)
      var out: [UInt8] = []
      while Int64(out.count) < count {
        let want = Int(min(count - Int64(out.count), Int64(chunk)))
        let n = scratch.withUnsafeMutableBytes { buf in
          buf.baseAddress.map { gzread(gz, $0, UInt32(want)) } ?? 0
        }
        if n < 0 {
          throw TraceImportError.malformed(
            TraceLocation(file: file, byteOffset: offset + Int64(out.count)), expected: "gzip data",
            found: "a corrupt stream")
        }
        if n == 0 { break }
        if out.isEmpty && Int64(n) == count {
          scratch.removeLast(chunk - Int(n))
          out = scratch
          break
        }
        // Reserved, not written: only the pages the bytes arrive in are touched.
        if out.isEmpty { out.reserveCapacity(Int(min(count, 1 << 30))) }
        out.append(contentsOf: scratch[0..<Int(n)])
      }
      let got = out.count
      offset += Int64(got)
      if got == 0 && !padded { return [] }
      guard Int64(got) == count else {
        throw TraceImportError.malformed(
          TraceLocation(file: file, byteOffset: offset), expected: "\(count) bytes of a tar member",
          found: "the end of the archive after \(got) (truncated)")
      }
      if padded && count % 512 != 0 { try skip(512 - count % 512, padded: false) }
      return out
    }

    /// Reads past `count` bytes (and their padding) without keeping them.
    mutating func skip(_ count: Int64, padded: Bool = true) throws {
      var left = count
      while left > 0 {
        let chunk = min(left, 1 << 20)
        _ = try read(chunk, padded: false)
        left -= chunk
      }
      if padded && count % 512 != 0 { try skip(512 - count % 512, padded: false) }
    }
  }

  /// Inflates a gzip member held in memory.
  /// - Throws: `TraceImportError.malformed` naming the member when the data is not valid gzip.
  static func inflate(_ bytes: [UInt8], file: String, limits: ReadLimits = ReadLimits()) throws -> [UInt8] {
    var stream = z_stream()
    guard inflateInit2_(&stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
      throw TraceImportError.unreadable(file: file, reason: "zlib could not start")
    }
    defer { inflateEnd(&stream) }
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 20)
    var input = bytes
    var status = Z_OK
    try input.withUnsafeMutableBufferPointer { src in
      stream.next_in = src.baseAddress
      stream.avail_in = UInt32(src.count)
      repeat {
        chunk.withUnsafeMutableBufferPointer { dst in
          stream.next_out = dst.baseAddress
          stream.avail_out = UInt32(dst.count)
          status = CZlib.inflate(&stream, Z_NO_FLUSH)
          out.append(contentsOf: dst[0..<(dst.count - Int(stream.avail_out))])
        }
        try limits.check(file: file, decompressed: Int64(out.count), compressed: Int64(stream.total_in))
      } while status == Z_OK
    }
    guard status == Z_STREAM_END else {
      throw TraceImportError.malformed(
        TraceLocation(file: file, byteOffset: Int64(stream.total_in)), expected: "valid gzip data",
        found: "zlib status \(status)")
    }
    return out
  }
}
