/// rocprofiler-sdk (rocprofv3) JSON output: recognized, so that such a file gets a clear error
/// naming the format rather than a Kineto parse error, but not read yet.
struct RocprofImporter: TraceImporter {
  static let descriptor = TraceFormatDescriptor(name: "rocprofiler-sdk JSON", nativeTimeUnit: "ns", isSupported: false)

  /// A JSON object with a `rocprofiler-sdk-tool` key.
  static func sniff(prefix: UnsafeBufferPointer<UInt8>) -> Bool {
    Sniffing.isJSONObject(prefix) && Sniffing.contains(prefix, "\"rocprofiler-sdk-tool\"")
  }

  /// - Throws: always `TraceImportError.unsupportedFormat`.
  static func importFile(_ request: ImportRequest) throws -> ImportedFile {
    throw TraceImportError.unsupportedFormat(
      file: request.path, format: descriptor.name,
      hint: TraceImporterRegistry.readableFormats)
  }
}
