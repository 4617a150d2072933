import CostModels
import Foundation
import TestSupport
import Testing

private let folder = SpecLibrary(root: TestPaths.packageRoot + "/Models")

/// The specs built into the binary are the Models/ folder, byte for byte: after editing a spec,
/// run tools/gen-embedded-specs.py (this test fails until then).
@Test func embeddedSpecsEqualModelsFolder() throws {
  for kind in SpecLibrary.kinds {
    #expect(
      SpecLibrary.embedded.names(kind) == folder.names(kind),
      "Models/\(kind) and the built-in specs differ: run tools/gen-embedded-specs.py")
    for name in folder.names(kind) {
      let onDisk = try folder.contents(kind, name).data
      let builtIn = try SpecLibrary.embedded.contents(kind, name).data
      #expect(builtIn == onDisk, "Models/\(kind)/\(name).json changed: run tools/gen-embedded-specs.py")
    }
  }
}

@Test func everyEmbeddedSpecDecodes() throws {
  let lib = SpecLibrary.embedded
  #expect(lib.names("hardware").count == 10 && lib.names("models").count == 13 && lib.names("clusters").count == 3)
  for n in lib.names("hardware") { _ = try lib.hardware(n) }
  for n in lib.names("models") { _ = try lib.model(n) }
  for n in lib.names("clusters") { _ = try lib.cluster(n) }
  #expect(try lib.cluster("v100-dgx1").gpusPerNode == 8)
  #expect { try lib.cluster("v100-dgx2") } throws: { e in
    (e as? SpecError)?.isUsageError == true && "\(e)".contains("unknown cluster 'v100-dgx2'; known: dgx-h100-4node")
  }
}

@Test func resolveTakesFlagThenEnvironmentThenEmbedded() throws {
  let root = TestPaths.packageRoot + "/Models"
  #expect(try SpecLibrary.resolve(flag: nil, environment: [:]).source == .embedded)
  #expect(try SpecLibrary.resolve(flag: nil, environment: ["REPRISE_MODELS": ""]).source == .embedded)
  #expect(
    try SpecLibrary.resolve(flag: nil, environment: ["REPRISE_MODELS": root]).source
      == .directory(root, origin: "REPRISE_MODELS"))
  #expect(
    try SpecLibrary.resolve(flag: root, environment: ["REPRISE_MODELS": "/nowhere"]).source
      == .directory(root, origin: "--models"))
  #expect { try SpecLibrary.resolve(flag: nil, environment: ["REPRISE_MODELS": "/nowhere"]) } throws: { e in
    (e as? SpecError)?.isUsageError == true
      && "\(e)" == "REPRISE_MODELS=/nowhere: no such directory "
        + "(a specs folder holds hardware/, models/ and clusters/)"
  }
}
