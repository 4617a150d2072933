import Foundation

/// The one way commands and library entry points write their output files, with one error for
/// a file that cannot be written: `RunError.data` naming the path (exit 65).
public enum OutputFile {
  /// Writes `text` to `path` (atomically where the file system allows).
  /// - Throws: `RunError.data("PATH: cannot write: REASON")`.
  public static func write(_ text: String, to path: String) throws {
    do { try text.write(toFile: path, atomically: true, encoding: .utf8) } catch {
      throw RunError.data("\(path): cannot write: \(error.localizedDescription)")
    }
  }

  /// Writes `bytes` (a rendered diagram) to `path`.
  /// - Throws: `RunError.data("PATH: cannot write")`.
  public static func write(_ bytes: [UInt8], to path: String) throws {
    guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
      throw RunError.data("\(path): cannot write")
    }
  }

  /// Creates `dir` and its parents when missing.
  /// - Throws: `RunError.data("DIR: cannot create: REASON")`.
  public static func makeDirectory(_ dir: String) throws {
    do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
      throw RunError.data("\(dir): cannot create: \(error.localizedDescription)")
    }
  }
}
