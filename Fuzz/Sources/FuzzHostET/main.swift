import FuzzSupport

#if canImport(Glibc)
  import Glibc
#endif

// libFuzzer target: a PyTorch host execution trace (JSON), ingested as `reprise ingest` reads it.

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafeRawPointer?, _ count: Int) -> Int32 {
  guard let data, count > 0 else { return 0 }
  return FuzzInput.ingest(data, count, name: "host_et.json")
}

exit(FuzzInput.run(testOneInput))
