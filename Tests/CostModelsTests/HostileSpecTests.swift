import CostModels
import Foundation
import Testing

// Spec JSON (hardware, model, cluster) is decoded with Foundation's JSONDecoder, which stops at
// 512 levels of nesting: a spec nested 10^6 deep is one line (SpecError.invalid, exit 65).
@Test func specsNestedAMillionDeepAreOneLine() throws {
  let dir = FileManager.default.temporaryDirectory.appendingPathComponent("reprise-hostile-spec-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(at: dir) }
  let deep = String(repeating: "[", count: 1_000_000) + String(repeating: "]", count: 1_000_000)
  let file = dir.appendingPathComponent("deep.json").path
  try Data(#"{"name": \#(deep)}"#.utf8).write(to: URL(fileURLWithPath: file))
  let library = try SpecLibrary.resolve(flag: nil, environment: [:])
  for load in [{ _ = try library.hardware(file) }, { _ = try library.model(file) }, { _ = try library.cluster(file) }] {
    #expect { try load() } throws: { e in
      guard case .invalid(let f, _, _) = e as? SpecError else { return false }
      return f == file && !"\(e)".contains("\n")
    }
  }
}
