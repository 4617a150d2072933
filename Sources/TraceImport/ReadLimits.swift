import TraceModel

/// How many bytes one input file may hold once decompressed, and how far gzip may inflate it.
///
/// A file is refused (`TraceImportError.malformed`, one line naming the file, the offset and
/// the limit) when its decompressed size passes `maxBytes` (plain files too: their size on
/// disk), or when a gzip stream has inflated more than `ratioFloor` bytes at more than
/// `maxRatio` decompressed bytes per compressed byte read: a gzip bomb. Real Kineto gzip runs
/// about 10–30:1; the floor keeps small files of zeros or repeated names from tripping it.
public struct ReadLimits: Sendable, Equatable {
  /// The default `--max-bytes`: 64 GiB, above any single trace seen in practice.
  public static let defaultMaxBytes: Int64 = 64 << 30
  /// Decompressed bytes an input file may hold.
  public var maxBytes: Int64
  /// Decompressed bytes per compressed byte above which a gzip stream is refused.
  public var maxRatio: Int64 = 1000
  /// Decompressed bytes read before the ratio is judged.
  public var ratioFloor: Int64 = 64 << 20

  public init(maxBytes: Int64 = ReadLimits.defaultMaxBytes) { self.maxBytes = maxBytes }

  /// No limit: for sniffing a file's first bytes (the importer that reads it applies the
  /// limits asked for) and for bytes already in memory.
  static let unlimited = ReadLimits(maxBytes: .max)

  /// Parses a size such as `64G`, `512M`, `1.5T`, `4096` (bytes): a number and an optional
  /// binary unit K, M, G or T (powers of 1024; `KiB`, `GB`, `g` read the same). Nil when
  /// malformed, not positive or past Int64.
  public static func parseSize(_ text: String) -> Int64? {
    var t = text.filter { $0 != " " }.uppercased()
    for suffix in ["IB", "B"] where t.hasSuffix(suffix) {
      t.removeLast(suffix.count)
      break
    }
    let units: [Character: Double] = ["K": 0x1p10, "M": 0x1p20, "G": 0x1p30, "T": 0x1p40]
    var scale = 1.0
    if let last = t.last, let unit = units[last] {
      scale = unit
      t.removeLast()
    }
    guard !t.isEmpty, t.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }), let value = Double(t) else {
      return nil
    }
    let bytes = (value * scale).rounded(.down)
    guard bytes >= 1, bytes < 0x1p63 else { return nil }
    return Int64(bytes)
  }

  /// A size for messages: `64 GiB`, `1.5 MiB`, `512 bytes`.
  public static func describe(_ bytes: Int64) -> String {
    let units = ["KiB", "MiB", "GiB", "TiB"]
    var value = Double(bytes)
    var unit = "bytes"
    for u in units where value >= 1024 {
      value /= 1024
      unit = u
    }
    if unit == "bytes" { return "\(bytes) bytes" }
    let rounded = (value * 10).rounded() / 10
    return rounded == rounded.rounded() ? "\(Int64(rounded)) \(unit)" : "\(rounded) \(unit)"
  }

  /// Refuses a file whose size (on disk, for a plain file) passes `maxBytes`.
  func check(file: String, size: Int64) throws {
    guard size > maxBytes else { return }
    throw TraceImportError.malformed(
      TraceLocation(file: file, byteOffset: maxBytes),
      expected: "at most \(Self.describe(maxBytes)) (--max-bytes)",
      found: "a file of \(Self.describe(size))")
  }

  /// Refuses a stream that has inflated to `decompressed` bytes from `compressed` bytes read
  /// (nil or not positive when unknown: then only `maxBytes` applies).
  func check(file: String, decompressed: Int64, compressed: Int64?) throws {
    if decompressed > maxBytes {
      throw TraceImportError.malformed(
        TraceLocation(file: file, byteOffset: maxBytes),
        expected: "at most \(Self.describe(maxBytes)) decompressed (--max-bytes)", found: "more")
    }
    guard decompressed > ratioFloor, let compressed, compressed > 0, decompressed / compressed > maxRatio else {
      return
    }
    throw TraceImportError.malformed(
      TraceLocation(file: file, byteOffset: decompressed),
      expected: "gzip inflating at most \(maxRatio):1",
      found: "\(decompressed / compressed):1 (\(Self.describe(decompressed)) from \(Self.describe(compressed)); "
        + "a gzip bomb?)")
  }
}

extension Diagnostics {
  /// The counted warning for invalid UTF-8 kept with its bad bytes replaced (`json.invalidUTF8`);
  /// nothing when `count` is 0.
  mutating func invalidUTF8(_ count: Int, in file: String, unit: String = "invalid UTF-8 sequences") {
    guard count > 0 else { return }
    let what = unit == "strings" ? "strings with invalid UTF-8" : unit
    warning(
      "json.invalidUTF8", "\(what) kept, the bad bytes replaced with U+FFFD", at: TraceLocation(file: file),
      count: count)
  }
}
