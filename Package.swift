// swift-tools-version:6.0
import Foundation
import PackageDescription

#if arch(x86_64)
let calibrationFlags: [SwiftSetting] = [.unsafeFlags(["-O", "-target-cpu", "native"])]
#else
let calibrationFlags: [SwiftSetting] = [.unsafeFlags(["-O"])]
#endif

let package = Package(
  name: "Reprise",
  platforms: [.macOS(.v15)],
  products: [
    .executable(name: "reprise", targets: ["reprise"]),
    .library(name: "TraceModel", targets: ["TraceModel"]),
    .library(name: "TraceImport", targets: ["TraceImport"]),
    .library(name: "TraceExport", targets: ["TraceExport"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
  ],
  targets: [
    .systemLibrary(name: "CJansson", pkgConfig: "jansson", providers: [.apt(["libjansson-dev"])]),
    .systemLibrary(name: "CGraphviz", pkgConfig: "libgvc", providers: [.apt(["libgraphviz-dev"])]),
    .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
    .target(name: "TraceModel"),
    // Chakra execution-trace schema: code generated from Proto/chakra_et_def.proto (tools/gen-chakra-proto.sh).
    .target(name: "ChakraSchema", dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")]),
    .target(name: "TraceImport", dependencies: ["TraceModel", "ChakraSchema", "CZlib", "CJansson",
                                                .product(name: "SwiftProtobuf", package: "swift-protobuf")]),
    .target(name: "TraceExport", dependencies: ["TraceModel", "ChakraSchema",
                                                .product(name: "SwiftProtobuf", package: "swift-protobuf")]),
    .target(name: "CostModels", dependencies: ["TraceModel"]),
    // `reprise calibrate`'s measurement kernels: optimised in every configuration and, on x86-64,
    // built for this machine's CPU (AVX2/FMA where it has them); Sources/Calibration/Kernels.swift says why.
    .target(name: "Calibration", dependencies: ["TraceModel", "CostModels"], swiftSettings: calibrationFlags),
    .target(name: "Schedules", dependencies: ["TraceModel", "CostModels"]),
    .target(name: "Replay", dependencies: ["TraceModel", "CostModels"]),
    .target(name: "Analysis", dependencies: ["TraceModel", "CostModels"]),
    .target(name: "Parallel", dependencies: ["TraceModel", "CostModels", "Replay", "Schedules", "Analysis"]),
    .target(name: "Serving", dependencies: ["TraceModel", "CostModels"]),
    .target(name: "Rendering", dependencies: ["TraceModel", "Analysis", "CostModels", "Schedules", "CJansson", "CGraphviz"]),
    // The product layer: one entry point per command, every JSON contract as a Codable value.
    .target(
      name: "Reports",
      dependencies: [
        "TraceModel", "TraceImport", "TraceExport", "CostModels", "Replay", "Schedules", "Analysis", "Rendering",
        "Calibration", "Parallel", "Serving",
      ]),
    .executableTarget(
      name: "reprise",
      dependencies: [
        "TraceModel", "TraceImport", "TraceExport", "CostModels", "Replay", "Schedules", "Analysis", "Rendering",
        "Reports", "Parallel", "Serving",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]),
    .target(name: "TestSupport", dependencies: ["TraceModel", "CJansson", "CZlib"]),
    .testTarget(name: "TraceModelTests", dependencies: ["TraceModel", "TestSupport"]),
    .testTarget(
      name: "TraceImportTests", dependencies: ["TraceImport", "TraceModel", "TestSupport", "CJansson", "CZlib"],
      exclude: ["Fuzz"]),
    .testTarget(name: "RenderingTests", dependencies: ["Rendering", "Analysis", "CostModels", "Schedules", "TraceImport", "TraceModel", "TestSupport"],
                exclude: ["Goldens"]),
    .testTarget(name: "SchedulesTests", dependencies: ["Schedules", "Replay", "TraceModel", "TraceImport", "TestSupport"]),
    .testTarget(name: "CalibrationTests", dependencies: ["Calibration", "CostModels", "TraceModel"]),
    .testTarget(name: "CostModelsTests", dependencies: ["CostModels", "TraceModel", "TraceImport", "TestSupport"]),
    .testTarget(
      name: "ReplayTests",
      dependencies: ["Replay", "CostModels", "TraceModel", "TraceImport", "TraceExport", "TestSupport"]),
    .testTarget(name: "AnalysisTests", dependencies: ["Analysis", "CostModels", "Replay", "TraceImport", "TraceModel", "TestSupport"]),
    .testTarget(
      name: "ReportsTests",
      dependencies: [
        "Reports", "Rendering", "Analysis", "Replay", "Schedules", "TraceImport", "TraceModel", "CostModels", "TestSupport",
        "Parallel", "Serving",
      ],
      exclude: ["Goldens"]),
    .testTarget(name: "RepriseCLITests", dependencies: ["TestSupport"]),
    .testTarget(
      name: "ParallelTests",
      dependencies: ["Parallel", "Replay", "Schedules", "CostModels", "TraceImport", "TraceModel", "TestSupport"]),
    .testTarget(
      name: "ServingTests", dependencies: ["Serving", "CostModels", "TraceImport", "TraceModel", "TestSupport"]),
  ]
)

// libFuzzer targets, one per reader (Fuzz/README.md, `make fuzz`): declared only when REPRISE_FUZZ is
// set, so `swift build` and `swift test` never see them. `make fuzz` builds them with
// `-sanitize=fuzzer,address` into their own build folder.
if ProcessInfo.processInfo.environment["REPRISE_FUZZ"] != nil {
  package.targets.append(
    .target(
      name: "FuzzSupport", dependencies: ["TraceImport", "TraceModel", "CostModels", "Replay", "Serving"],
      path: "Fuzz/Sources/FuzzSupport"))
  for name in [
    "FuzzKineto", "FuzzGzip", "FuzzChakraET", "FuzzHostET", "FuzzChakraJSON", "FuzzSpecs", "FuzzShard", "FuzzKnobs",
  ] {
    package.targets.append(
      .executableTarget(
        name: name, dependencies: ["FuzzSupport"], path: "Fuzz/Sources/" + name))
  }
}
