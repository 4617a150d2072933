import Foundation
import Rendering

/// A file, or standard output, written through a buffer: for outputs too long to hold as one
/// string (the report's full interval and segment lists).
///
/// A file is written beside its path (`PATH.partial`) and renamed into place when complete, so
/// a failed write leaves no half file: use `write(to:_:)`. A path that exists and is not a
/// regular file (`/dev/stdout`, a pipe) is written directly.
///
///     try StreamedOutput.write(to: "out/bubbles.csv") { out in
///       out.append("rank,lane\n")
///     }
final class StreamedOutput {
  private let handle: FileHandle
  /// The path the caller named (nil: standard output), for errors.
  private let path: String?
  private var buffer: [UInt8] = []
  private static let flushSize = 1 << 16

  private init(handle: FileHandle, path: String?) {
    self.handle = handle
    self.path = path
    buffer.reserveCapacity(Self.flushSize + 4096)
  }

  /// Calls `body` with an output to `path` (standard output when nil), then flushes it and, for
  /// a file, moves it into place.
  /// - Throws: what `body` throws; `RunError.data("PATH: cannot write…")` when the file cannot
  ///   be created or written.
  static func write(to path: String?, _ body: (StreamedOutput) throws -> Void) throws {
    guard let path else {
      let out = StreamedOutput(handle: .standardOutput, path: nil)
      try body(out)
      return try out.flush()
    }
    // stat(2) follows symbolic links: a link to a device or pipe (`/dev/stdout`) is written in
    // place, a link to a file replaces the file it points to.
    var st = stat()
    if stat(path, &st) == 0 && (st.st_mode & S_IFMT) != S_IFREG {
      let fd = open(path, O_WRONLY | O_TRUNC)
      guard fd >= 0 else { throw RunError.data("\(path): cannot write") }
      let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
      let out = StreamedOutput(handle: handle, path: path)
      try body(out)
      try out.flush()
      try? handle.close()
      return
    }
    let target = Self.fileBehind(path)
    let partial = target + ".partial"
    guard FileManager.default.createFile(atPath: partial, contents: nil),
      let handle = FileHandle(forWritingAtPath: partial)
    else { throw RunError.data("\(path): cannot write") }
    var done = false
    defer { if !done { try? FileManager.default.removeItem(atPath: partial) } }
    let out = StreamedOutput(handle: handle, path: path)
    try body(out)
    try out.flush()
    try? handle.close()
    guard rename(partial, target) == 0 else { throw RunError.data("\(path): cannot write: rename failed") }
    done = true
  }

  /// The file a path names: itself, or where its symbolic links lead (also when the last link
  /// points to a file not created yet).
  static func fileBehind(_ path: String) -> String {
    if let p = realpath(path, nil) {
      defer { free(p) }
      return String(cString: p)
    }
    guard let dest = try? FileManager.default.destinationOfSymbolicLink(atPath: path) else { return path }
    return dest.hasPrefix("/") ? dest : (path as NSString).deletingLastPathComponent + "/" + dest
  }

  /// Appends `text` (UTF-8).
  func append(_ text: String) throws {
    buffer.append(contentsOf: text.utf8)
    if buffer.count >= Self.flushSize { try flush() }
  }

  /// Appends `bytes` as they are.
  func append(_ bytes: ArraySlice<UInt8>) throws {
    try flush()
    try put(bytes)
  }

  /// Appends `value` as jansson writes it in a report (sorted keys; strings escaped the same
  /// way: `\"`, `\\`, `\b \f \n \r \t`, other control characters as `\u00XX`, everything else
  /// as UTF-8).
  func appendJSON(_ value: JSONDocument) throws {
    switch value {
    case .int(let i): buffer.append(contentsOf: String(i).utf8)
    case .string(let s): Self.appendJSONString(s, to: &buffer)
    case .null: buffer.append(contentsOf: "null".utf8)
    case .bool(let b): buffer.append(contentsOf: (b ? "true" : "false").utf8)
    case .double, .object, .array: buffer.append(contentsOf: value.encoded(pretty: false).utf8)
    }
    if buffer.count >= Self.flushSize { try flush() }
  }

  static func appendJSONString(_ s: String, to out: inout [UInt8]) {
    out.append(UInt8(ascii: "\""))
    for b in s.utf8 {
      switch b {
      case UInt8(ascii: "\""), UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), b])
      case 0x08: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
      case 0x0C: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
      case 0x0A: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
      case 0x0D: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
      case 0x09: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
      case 0..<0x20:
        let hex = Array("0123456789ABCDEF".utf8)
        out.append(contentsOf: Array("\\u00".utf8) + [hex[Int(b >> 4)], hex[Int(b & 0xF)]])
      default: out.append(b)
      }
    }
    out.append(UInt8(ascii: "\""))
  }

  /// Writes what is buffered.
  /// - Throws: `RunError.data("PATH: cannot write: REASON")`.
  func flush() throws {
    guard !buffer.isEmpty else { return }
    try put(buffer[...])
    buffer.removeAll(keepingCapacity: true)
  }

  private func put(_ bytes: ArraySlice<UInt8>) throws {
    do { try handle.write(contentsOf: bytes) } catch {
      throw RunError.data("\(path ?? "standard output"): cannot write: \(error.localizedDescription)")
    }
  }
}

extension StreamedOutput {
  /// Writes `rows` as one CSV table (header, then a line per row), as `CSVTable.csv()` would.
  /// - Parameter forEach: calls its argument with each row in order.
  /// - Throws: `RunError.data` when the output cannot be written.
  func appendCSV<Row: StreamableRow>(
    _ type: Row.Type, forEach: ((Row) throws -> Void) throws -> Void
  ) throws {
    try append(Row.csvColumns.joined(separator: ",") + "\n")
    try forEach { row in try append(row.columnValues.map(CSVTable.field).joined(separator: ",") + "\n") }
  }

  /// Writes `rows` as the JSON array `JSONDocument.encoded(pretty: true)` writes for the value
  /// of a key on a line indented by `indent` spaces: items at `indent + 2`, their members
  /// (sorted) at `indent + 4`; `[]` when there are none.
  /// - Throws: `RunError.data` when the output cannot be written.
  func appendJSONArray<Row: StreamableRow>(
    _ type: Row.Type, indent: Int, forEach: ((Row) throws -> Void) throws -> Void
  ) throws {
    let keys = Row.CodingKeys.allCases.map(\.rawValue)
    // jansson sorts keys by their bytes (strcmp).
    let order = keys.indices.sorted { Array(keys[$0].utf8).lexicographicallyPrecedes(Array(keys[$1].utf8)) }
    let item = String(repeating: " ", count: indent + 2)
    let member = String(repeating: " ", count: indent + 4)
    let names = order.map { k -> String in
      var quoted: [UInt8] = []
      Self.appendJSONString(keys[k], to: &quoted)
      return member + String(decoding: quoted, as: UTF8.self) + ": "
    }
    var count = 0
    try forEach { row in
      try append((count == 0 ? "[\n" : ",\n") + item + "{")
      let values = row.columnValues
      for (i, k) in order.enumerated() {
        try append((i == 0 ? "\n" : ",\n") + names[i])
        try appendJSON(values[k])
      }
      try append("\n" + item + "}")
      count += 1
    }
    try append(count == 0 ? "[]" : "\n" + String(repeating: " ", count: indent) + "]")
  }
}
