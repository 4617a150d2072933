import Foundation
import TestSupport
import Testing
import TraceModel

@testable import TraceImport

/// The inputs in `Tests/TraceImportTests/Fuzz/`: each made a reader crash under `make fuzz`
/// (docs/reliability.md, "Fuzzing") before its fix. Each is ingested through the normal path,
/// `Ingest.run` on the file, and must give a graph or a clean `TraceImportError`.
private let fixtures: [String] = {
  let dir = TestPaths.packageRoot + "/Tests/TraceImportTests/Fuzz"
  let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
  return names.filter { !$0.hasSuffix(".md") }.sorted().map { dir + "/" + $0 }
}()

@Test(arguments: fixtures)
func fuzzFindingIngestsCleanly(path: String) {
  do {
    let result = try Ingest.run(paths: [path])
    #expect(result.graph.ranks.count >= 1)
  } catch is TraceImportError {
    // A clean refusal: one line naming the file, offset or event, expected and found.
  } catch {
    Issue.record("\(path): \(error)")
  }
}
