import CGraphviz
import Foundation
import Synchronization
import TraceModel

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Renders DOT text to SVG or PNG through libgvc.
///
/// Graphviz is not thread-safe: every call goes through one process-wide lock holding a single
/// `GVC_t` created on first use (Graphviz `gvContext`, see graphviz.org/pdf/libguide.pdf). Layout and render buffers are freed
/// in pairs. Graphviz's own messages (a DOT syntax error, a layout warning) never reach the
/// terminal: they are collected (`agseterrf`) and returned, in the error or with the result.
public enum Graphviz {
  public enum Format: String, Sendable { case svg, png, dot }

  public struct RenderError: Error, CustomStringConvertible, Sendable {
    public var description: String
  }

  private static let context = Mutex<OpaquePointer?>(nil)
  /// What Graphviz reported during the current call (guarded by `context`'s lock in practice).
  private static let messages = Mutex<[String]>([])

  /// Lays out `dot` with `engine` (dot, neato with pinned positions, …) and renders it.
  /// - Throws: `RenderError` naming what Graphviz reported.
  public static func render(_ dot: String, format: Format, engine: String = "dot") throws -> [UInt8] {
    try renderReporting(dot, format: format, engine: engine).bytes
  }

  /// `render`, also returning the warnings Graphviz printed while laying out and rendering (one
  /// line each, control characters escaped).
  public static func renderReporting(_ dot: String, format: Format, engine: String = "dot") throws
    -> (bytes: [UInt8], warnings: [String])
  {
    if format == .dot { return (Array(dot.utf8), []) }
    return try context.withLock { gvcBox -> ([UInt8], [String]) in
      if gvcBox == nil {
        gvcBox = gvContext()
        _ = agseterrf { message in
          if let message { Graphviz.messages.withLock { $0.append(String(cString: message)) } }
          return 0
        }
      }
      messages.withLock { $0.removeAll() }
      guard let gvc = gvcBox else { throw RenderError(description: "graphviz: cannot create a context") }
      guard let graph = dot.withCString({ agmemread($0) }) else {
        throw RenderError(description: "graphviz cannot parse the DOT text" + reported())
      }
      defer { agclose(graph) }
      if gvLayout(gvc, graph, engine) != 0 {
        throw RenderError(description: "graphviz: layout '\(engine)' failed" + reported())
      }
      defer { gvFreeLayout(gvc, graph) }
      var data: UnsafeMutablePointer<CChar>? = nil
      var length: UInt32 = 0
      guard gvRenderData(gvc, graph, format.rawValue, &data, &length) == 0, let rendered = data else {
        throw RenderError(description: "graphviz: rendering \(format.rawValue) failed" + reported())
      }
      defer { gvFreeRenderData(rendered) }
      let bytes = Array(
        UnsafeBufferPointer(start: UnsafeRawPointer(rendered).assumingMemoryBound(to: UInt8.self), count: Int(length)))
      return (bytes, lines())
    }
  }

  /// The collected messages as single lines.
  private static func lines() -> [String] {
    messages.withLock { $0 }.joined().split(separator: "\n").map { line in
      var text = line.trimmingCharacters(in: .whitespaces)
      for prefix in ["Warning: ", "Error: "] where text.hasPrefix(prefix) { text.removeFirst(prefix.count) }
      return "graphviz: " + SafeText.escape(text)
    }
  }

  /// ": <what Graphviz said>", or nothing.
  private static func reported() -> String {
    let text = lines().map { String($0.dropFirst("graphviz: ".count)) }.joined(separator: "; ")
    return text.isEmpty ? "" : ": " + text
  }
}

/// Text inside a DOT double-quoted string (labels, node names, which SVG output turns into
/// `<title>` tooltips).
public enum DOTText {
  /// `text` safe inside `"…"`: control characters escaped (`SafeText`), then `\` and `"`
  /// backslash-escaped and `&` written as `&amp;`, so Graphviz does not read `&#27;` or `&foo;`
  /// in a name as an entity (which would put a control character or an undefined entity into
  /// the SVG).
  public static func escape(_ text: String) -> String {
    var out = ""
    for ch in SafeText.escape(text) {
      switch ch {
      case "\\": out += "\\\\"
      case "\"": out += "\\\""
      case "&": out += "&amp;"
      default: out.append(ch)
      }
    }
    return out
  }
}

extension String {
  /// "12345" (hundredths) → "123.45".
  var withDecimal: String {
    let neg = hasPrefix("-")
    var digits = neg ? String(dropFirst()) : self
    while digits.count < 3 { digits = "0" + digits }
    let cut = digits.index(digits.endIndex, offsetBy: -2)
    return (neg ? "-" : "") + digits[..<cut] + "." + digits[cut...]
  }
}
