import FuzzSupport

#if canImport(Glibc)
  import Glibc
#endif

// libFuzzer target: `--set` knobs, one `KEY=VALUE` a line.

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafeRawPointer?, _ count: Int) -> Int32 {
  guard let data, count > 0 else { return 0 }
  return FuzzInput.knobs(data, count)
}

exit(FuzzInput.run(testOneInput))
