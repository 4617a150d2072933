/// Names from a trace made safe to print: every control character written as a visible escape.
///
/// A trace may name a kernel, a thread or a device with any string JSON can hold, control
/// characters included (`"\u0000"`, `"\u0007"`, `"\u001b"` are valid JSON escapes). Written raw,
/// they cut DOT strings short (Graphviz reads NUL as the end of its input), make SVG files that
/// are not well-formed XML (XML 1.0 forbids them even as character references), break CSV rows
/// and drive the terminal (`ESC [ 2 J` clears the screen). Every DOT, SVG, CSV and text output
/// passes the names it prints through `SafeText.escape`; JSON outputs need not, jansson escapes
/// them.
///
/// Escaped: the C0 controls U+0000–U+001F (tab and newline included: one name stays one line or
/// one cell), DEL U+007F, the C1 controls U+0080–U+009F (U+009B is a terminal's CSI) and the
/// non-characters U+FFFE and U+FFFF (not allowed in XML). Each becomes `\u` and four lowercase hex
/// digits, as in the trace's JSON, so the name still reads as it was written:
///
///     SafeText.escape("gemm\u{0}\u{1b}[31m")  // "gemm\u0000\u001b[31m"
///
/// Everything else, backslashes included, is left as it is; the output format's own escaping
/// (DOT quotes, CSV quotes, XML entities) comes after.
public enum SafeText {
  /// `text` with every control character written as `\uXXXX`; `text` itself when it has none.
  /// - Complexity: O(n) in the length of `text`; no copy when nothing needs escaping.
  public static func escape(_ text: String) -> String {
    guard needsEscaping(text) else { return text }
    var out = String.UnicodeScalarView()
    for u in text.unicodeScalars {
      guard isUnsafe(u) else {
        out.append(u)
        continue
      }
      let hex = String(u.value, radix: 16)
      out.append(contentsOf: "\\u\(String(repeating: "0", count: max(0, 4 - hex.count)))\(hex)".unicodeScalars)
    }
    return String(out)
  }

  /// Whether `text` holds a character `escape` rewrites.
  public static func needsEscaping(_ text: String) -> Bool { text.unicodeScalars.contains(where: isUnsafe) }

  static func isUnsafe(_ u: Unicode.Scalar) -> Bool {
    switch u.value {
    case 0x00...0x1F, 0x7F...0x9F, 0xFFFE, 0xFFFF: true
    default: false
    }
  }
}
