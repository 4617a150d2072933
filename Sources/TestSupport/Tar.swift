/// A tar archive built in memory for tests: ustar headers with their checksums, pax extended
/// (`x`) and global (`g`) headers, directories, any type flag.
///
///     var tar = TarWriter()
///     tar.add("run/rank0.json", bytes)
///     _ = gzip(tar.bytes, to: "/tmp/run.tar.gz")
public struct TarWriter {
  public private(set) var body: [UInt8] = []

  public init() {}

  /// Adds a member: `type` "0" a file, "5" a directory, "x" a pax header for the next member,
  /// "g" a global pax header.
  public mutating func add(_ name: String, _ contents: [UInt8] = [], type: Character = "0") {
    var h = [UInt8](repeating: 0, count: 512)
    func put(_ s: String, at offset: Int) { for (i, b) in s.utf8.enumerated() { h[offset + i] = b } }
    put(String(name.prefix(99)), at: 0)
    put("0000644\0", at: 100)
    put("0000000\0", at: 108)
    put("0000000\0", at: 116)
    let size = String(contents.count, radix: 8)
    put(String(repeating: "0", count: 11 - size.count) + size + "\0", at: 124)
    put("00000000000\0", at: 136)
    put("        ", at: 148)
    put(String(type), at: 156)
    put("ustar\0" + "00", at: 257)
    let sum = String(h.reduce(0) { $0 + Int($1) }, radix: 8)
    put(String(repeating: "0", count: 6 - sum.count) + sum + "\0 ", at: 148)
    body += h + contents + [UInt8](repeating: 0, count: (512 - contents.count % 512) % 512)
  }

  /// A pax extended header for the next member, with `records` (key, value) such as `("path", …)`.
  public mutating func addPax(_ records: [(String, String)], global: Bool = false) {
    var text = ""
    for (k, v) in records {
      let body = " \(k)=\(v)\n"
      var n = body.utf8.count + 1
      while String(n).count + body.utf8.count != n { n += 1 }
      text += "\(n)\(body)"
    }
    add(global ? "pax_global_header" : "PaxHeader/x", Array(text.utf8), type: global ? "g" : "x")
  }

  /// The archive: the members and two zero blocks.
  public var bytes: [UInt8] { body + [UInt8](repeating: 0, count: 1024) }
}
