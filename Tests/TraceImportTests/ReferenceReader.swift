import CJansson
import CZlib
import Foundation
import TraceImport

/// Counts computed by jansson (a tree-building reader) — the oracle for the streaming tokenizer.
struct ReferenceStats: Equatable {
  var phaseCounts: [String: Int] = [:]
  var categoryCounts: [String: Int] = [:]
  var durationSumNs: Int64 = 0
  var eventCount = 0

  init() {}
  init(_ s: KinetoStats) {
    phaseCounts = s.phaseCounts
    categoryCounts = s.categoryCounts
    durationSumNs = s.durationSumNs
    eventCount = s.eventCount
  }
}

enum ReferenceReader {
  struct Failure: Error, CustomStringConvertible { var description: String }

  /// The whole (decompressed) file.
  static func bytes(_ path: String) throws -> [UInt8] {
    guard let gz = gzopen(path, "rb") else { throw Failure(description: "cannot open \(path)") }
    defer { gzclose(gz) }
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 20)
    while true {
      let n = chunk.withUnsafeMutableBytes { gzread(gz, $0.baseAddress, UInt32($0.count)) }
      if n < 0 { throw Failure(description: "gzread failed on \(path)") }
      if n == 0 { break }
      out.append(contentsOf: chunk[0..<Int(n)])
    }
    return out
  }

  static func stats(_ path: String) throws -> ReferenceStats {
    let data = try bytes(path)
    var err = json_error_t()
    // JSON_DECODE_INT_AS_REAL (0x8): integers beyond Int64 (Comms Id) would otherwise fail.
    let root = data.withUnsafeBufferPointer { buf in
      buf.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buf.count) { cj_loadb($0, buf.count, 0x8, &err) }
    }
    guard let root else {
      let text = withUnsafeBytes(of: err.text) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
      throw Failure(description: "jansson: \(text) at \(err.position)")
    }
    defer { cj_decref(root) }
    let events: UnsafeMutablePointer<json_t>?
    switch cj_typeof(root) {
    case JSON_OBJECT: events = json_object_get(root, "traceEvents")
    case JSON_ARRAY: events = root
    default: events = nil
    }
    guard let events, cj_typeof(events) == JSON_ARRAY else { throw Failure(description: "no traceEvents") }
    var s = ReferenceStats()
    for i in 0..<json_array_size(events) {
      let e = json_array_get(events, i)
      s.eventCount += 1
      if let ph = json_object_get(e, "ph"), cj_typeof(ph) == JSON_STRING {
        let v = String(cString: json_string_value(ph))
        s.phaseCounts[String(v.prefix(1)), default: 0] += 1
      } else {
        s.phaseCounts["", default: 0] += 1
      }
      if let cat = json_object_get(e, "cat"), cj_typeof(cat) == JSON_STRING {
        s.categoryCounts[String(cString: json_string_value(cat)), default: 0] += 1
      }
      if let dur = json_object_get(e, "dur"), cj_typeof(dur) == JSON_REAL || cj_typeof(dur) == JSON_INTEGER {
        s.durationSumNs += Int64((json_number_value(dur) * 1000).rounded())
      }
    }
    return s
  }
}
