import CZlib
import Foundation

/// The decompressed bytes of a gzip file (goldens are stored compressed); nil when unreadable.
public func gunzip(_ path: String) -> [UInt8]? {
  guard let file = gzopen(path, "rb") else { return nil }
  defer { gzclose(file) }
  var out: [UInt8] = []
  var chunk = [UInt8](repeating: 0, count: 1 << 16)
  while true {
    let n = chunk.withUnsafeMutableBytes { gzread(file, $0.baseAddress, UInt32($0.count)) }
    if n < 0 { return nil }
    if n == 0 { return out }
    out.append(contentsOf: chunk[0..<Int(n)])
  }
}

/// Writes `bytes` gzip-compressed (level 9, no name or time stamp: the same bytes every time).
public func gzip(_ bytes: [UInt8], to path: String) -> Bool {
  guard let file = gzopen(path, "wb9") else { return false }
  defer { gzclose(file) }
  return bytes.withUnsafeBytes { gzwrite(file, $0.baseAddress, UInt32($0.count)) } == Int32(bytes.count)
}
