import FuzzSupport

#if canImport(Glibc)
  import Glibc
#endif

// libFuzzer target: a Chakra protobuf execution trace (`.et`), ingested as `reprise ingest` reads it.

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafeRawPointer?, _ count: Int) -> Int32 {
  guard let data, count > 0 else { return 0 }
  return FuzzInput.ingest(data, count, name: "trace.0.et")
}

exit(FuzzInput.run(testOneInput))
