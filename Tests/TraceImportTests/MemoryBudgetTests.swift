import Foundation
import TestSupport
import Testing
import TraceModel

@testable import TraceImport

/// A Kineto document of `count` host ops (about 150 bytes each).
private func ops(_ count: Int) -> [UInt8] {
  let events = (0..<count).map { i in
    "{\"ph\": \"X\", \"cat\": \"cpu_op\", \"name\": \"aten::mm\", \"pid\": 1, \"tid\": 1, \"ts\": \(i * 10), \"dur\": 5}"
  }
  return Array(("{\"traceEvents\": [\n" + events.joined(separator: ",\n") + "\n]}").utf8)
}

/// REPRISE_MEMORY_AVAILABLE takes the sizes `--max-bytes` takes (`ReadLimits.parseSize`).
@Test func memorySizesParse() {
  #expect(ReadLimits.parseSize("200M") == 200 << 20)
  #expect(ReadLimits.parseSize("3g") == 3 << 30)
  #expect(ReadLimits.parseSize("1.5K") == 1536)
  #expect(ReadLimits.parseSize("1048576") == 1 << 20)
  #expect(ReadLimits.parseSize("lots") == nil)
  #expect(ReadLimits.parseSize("-5M") == nil)
}

@Test func inputsThatFitAreLimitedToTheirShare() throws {
  let dir = FileManager.default.temporaryDirectory.appendingPathComponent("reprise-mem-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(at: dir) }
  let a = dir.appendingPathComponent("a.json").path
  let b = dir.appendingPathComponent("b.json").path
  _ = FileManager.default.createFile(atPath: a, contents: Data(ops(100)))
  _ = FileManager.default.createFile(atPath: b, contents: Data(ops(300)))
  let available: Int64 = 1 << 30
  let limits = try MemoryBudget.limits(paths: [a, b, nil], available: available)
  let limit = MemoryBudget.jsonLimit(available: available)
  let (sa, sb) = (try #require(limits[0]), try #require(limits[1]))
  #expect(sa > 0 && sb > 2 * sa && sa + sb <= limit)
  #expect(try MemoryBudget.limits(paths: [a], available: nil) == [nil])
}

@Test func inputsPastTheMemoryFailBeforeBuilding() throws {
  let dir = FileManager.default.temporaryDirectory.appendingPathComponent("reprise-mem-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(at: dir) }
  let a = dir.appendingPathComponent("rank0.json").path
  _ = FileManager.default.createFile(atPath: a, contents: Data(ops(1000)))
  #expect {
    _ = try MemoryBudget.limits(paths: [a], available: 100 << 20)
  } throws: { error in
    let text = "\(error)"
    guard case .insufficientMemory(let file, let needed, let available, .jsonSize) = error as? TraceImportError
    else { return false }
    return file == a && needed > available && available == 100 << 20 && text.contains("not enough memory")
      && text.contains("0.1 GB available") && !text.contains("\n")
  }
}

@Test func readingPastTheLimitFailsWhileParsing() throws {
  // More than 8 MiB of JSON: the parser checks at its release tick, every 8 MiB.
  let json = ops(110_000)
  #expect(json.count > 9 << 20)
  #expect {
    _ = try KinetoImporter.read("big.json", contents: json, progress: nil, jsonLimit: 1 << 20)
  } throws: { error in
    guard case .insufficientMemory(let file, _, _, .readSoFar(let read)) = error as? TraceImportError else {
      return false
    }
    return file == "big.json" && read > 1 << 20 && read < 12 << 20
  }
  // Under the limit nothing changes.
  let plain = try KinetoImporter.read("big.json", contents: json, progress: nil).0
  let limited = try KinetoImporter.read("big.json", contents: json, progress: nil, jsonLimit: 1 << 30).0
  #expect(plain == limited)
}

@Test func aGraphCountsItsBytes() throws {
  let (g, _) = try Ingest.graph(bytes: ops(1000))
  #expect(g.byteCount > g.columnBytes && g.columnBytes >= 1000 * 50)
  #expect(g.byteCount < g.columnBytes + 4096)
}
