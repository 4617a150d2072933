import FuzzSupport

#if canImport(Glibc)
  import Glibc
#endif

// libFuzzer target: a Reprise shard (`.rshard`), ingested as `reprise ingest` reads it, as given and with its checksums made right.

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafeRawPointer?, _ count: Int) -> Int32 {
  guard let data, count > 0 else { return 0 }
  return FuzzInput.shard(data, count)
}

exit(FuzzInput.run(testOneInput))
