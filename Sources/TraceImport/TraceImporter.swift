import TraceModel

/// Describes a trace format Reprise recognizes.
public struct TraceFormatDescriptor: Sendable, Hashable {
  public var name: String
  /// The unit timestamps are written in.
  public var nativeTimeUnit: String
  /// Whether Reprise can import it (recognized-but-unsupported formats get a clear error).
  public var isSupported: Bool
  /// How many leading (decompressed) bytes `sniff` looks at, at most.
  public static let sniffLength = 65_536
}

/// Reads one trace format into the format-neutral `EventGraph` of one rank.
protocol TraceImporter: Sendable {
  static var descriptor: TraceFormatDescriptor { get }
  /// Whether `prefix` (the first decompressed bytes) is this format.
  static func sniff(prefix: UnsafeBufferPointer<UInt8>) -> Bool
}

/// The registry of formats, in sniffing order. Detection stays separate from reading.
enum TraceFormats {
  static let all: [any TraceImporter.Type] = [
    ChakraProtobufImporter.self, PyTorchETRecognizer.self, ChakraJSONRecognizer.self, RocprofRecognizer.self, KinetoImporter.self,
  ]

  /// The first registered format whose sniff accepts `prefix`.
  static func detect(_ prefix: UnsafeBufferPointer<UInt8>) -> (any TraceImporter.Type)? {
    all.first { $0.sniff(prefix: prefix) }
  }

  /// Whether `prefix` contains `needle` (byte search).
  static func contains(_ prefix: UnsafeBufferPointer<UInt8>, _ needle: String) -> Bool {
    let n = Array(needle.utf8)
    guard prefix.count >= n.count, let first = n.first else { return false }
    var i = 0
    let limit = prefix.count - n.count
    while i <= limit {
      if prefix[i] == first {
        var k = 1
        while k < n.count && prefix[i + k] == n[k] { k += 1 }
        if k == n.count { return true }
      }
      i += 1
    }
    return false
  }

  /// The first non-whitespace byte.
  static func firstByte(_ prefix: UnsafeBufferPointer<UInt8>) -> UInt8? {
    var i = 0
    if prefix.count >= 3 && prefix[0] == 0xEF && prefix[1] == 0xBB && prefix[2] == 0xBF { i = 3 }
    while i < prefix.count {
      let b = prefix[i]
      if b != 0x20 && b != 0x0a && b != 0x0d && b != 0x09 { return b }
      i += 1
    }
    return nil
  }
}

/// PyTorch profiler (Kineto) / Chrome trace-event JSON, plain or gzip.
struct KinetoImporter: TraceImporter {
  static let descriptor = TraceFormatDescriptor(name: "Kineto/Chrome trace JSON", nativeTimeUnit: "µs", isSupported: true)
  static func sniff(prefix: UnsafeBufferPointer<UInt8>) -> Bool {
    let b = TraceFormats.firstByte(prefix)
    return b == UInt8(ascii: "{") || b == UInt8(ascii: "[")
  }
}

/// PyTorch host execution trace JSON (ExecutionTraceObserver), read by `ExecutionTrace` and linked
/// with the rank's Kineto trace by `ETLinker`.
struct PyTorchETRecognizer: TraceImporter {
  static let descriptor = TraceFormatDescriptor(name: "PyTorch host execution trace (ET) JSON", nativeTimeUnit: "µs", isSupported: true)
  static func sniff(prefix: UnsafeBufferPointer<UInt8>) -> Bool {
    TraceFormats.firstByte(prefix) == UInt8(ascii: "{") && TraceFormats.contains(prefix, "\"nodes\"")
      && TraceFormats.contains(prefix, "\"schema\"") && !TraceFormats.contains(prefix, "\"traceEvents\"")
  }
}

/// Chakra execution trace converted to JSON (`workload_graph`), read by `ChakraJSONImporter`.
struct ChakraJSONRecognizer: TraceImporter {
  static let descriptor = TraceFormatDescriptor(name: "Chakra execution trace JSON", nativeTimeUnit: "µs", isSupported: true)
  static func sniff(prefix: UnsafeBufferPointer<UInt8>) -> Bool {
    TraceFormats.firstByte(prefix) == UInt8(ascii: "{") && TraceFormats.contains(prefix, "\"workload_graph\"")
  }
}

/// rocprofiler-sdk (rocprofv3) JSON output.
struct RocprofRecognizer: TraceImporter {
  static let descriptor = TraceFormatDescriptor(name: "rocprofiler-sdk JSON", nativeTimeUnit: "ns", isSupported: false)
  static func sniff(prefix: UnsafeBufferPointer<UInt8>) -> Bool {
    TraceFormats.firstByte(prefix) == UInt8(ascii: "{") && TraceFormats.contains(prefix, "\"rocprofiler-sdk-tool\"")
  }
}
