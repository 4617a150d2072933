import FuzzSupport

#if canImport(Glibc)
  import Glibc
#endif

// libFuzzer target: one file loaded as a hardware, a model and a cluster spec.

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafeRawPointer?, _ count: Int) -> Int32 {
  guard let data, count > 0 else { return 0 }
  return FuzzInput.specs(data, count)
}

exit(FuzzInput.run(testOneInput))
