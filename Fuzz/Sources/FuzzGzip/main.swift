import FuzzSupport

#if canImport(Glibc)
  import Glibc
#endif

// libFuzzer target: a gzip stream (`.json.gz`): ByteSource's zlib path, then the importer the bytes select.

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafeRawPointer?, _ count: Int) -> Int32 {
  guard let data, count > 0 else { return 0 }
  return FuzzInput.ingest(data, count, name: "trace.json.gz")
}

exit(FuzzInput.run(testOneInput))
