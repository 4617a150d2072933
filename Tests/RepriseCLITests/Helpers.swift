import Foundation
import TestSupport
import Testing

/// Runs the debug `reprise` binary (built by `swift build`, as `make test` does) in the package root.
func reprise(_ args: String...) throws -> (status: Int32, stdout: String, stderr: String) {
  try reprise(args)
}

/// `reprise(_:)` with the arguments as an array.
func reprise(_ args: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
  try #require(FileManager.default.isExecutableFile(atPath: TestPaths.reprise), "build first: swift build")
  return try runProcess(TestPaths.reprise, args, cwd: TestPaths.packageRoot)
}
