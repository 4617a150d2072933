import Foundation

/// Number formatting for the human-readable tables (never for JSON or CSV).
enum TextFormat {
  /// Three significant-ish digits: `123`, `12.3`, `1.23`.
  static func compact(_ v: Double) -> String {
    if v >= 100 { return String(format: "%.0f", v) }
    if v >= 10 { return String(format: "%.1f", v) }
    return String(format: "%.2f", v)
  }

  /// `v` with `digits` decimals.
  static func fixed(_ v: Double, _ digits: Int = 3) -> String { String(format: "%.\(digits)f", v) }

  /// Bytes as GiB.
  static func gib(_ bytes: Double, _ digits: Int = 2) -> String { fixed(bytes / 1_073_741_824, digits) }

  /// A power-of-two size: `2 GiB`, `512 KiB`, `64 B`.
  static func size(_ b: Int64) -> String {
    b >= 1 << 30 ? "\(b >> 30) GiB" : b >= 1 << 20 ? "\(b >> 20) MiB" : b >= 1 << 10 ? "\(b >> 10) KiB" : "\(b) B"
  }
}

extension String {
  /// Right-aligned in `n` columns.
  func leftPadded(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
  /// Left-aligned in `n` columns (cut when longer).
  func padded(_ n: Int) -> String { padding(toLength: n, withPad: " ", startingAt: 0) }
}
