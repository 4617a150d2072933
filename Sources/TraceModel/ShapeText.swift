/// Parsers for the small JSON values Kineto records as op arguments and Reprise keeps as text:
/// `Input Dims` (`[[8, 2048], [], [3]]`), `Input type` and `Concrete Inputs` (`["float", ""]`).
public enum ShapeText {
  /// The shapes in an `Input Dims` value: `[[8, 16], [], [3]]` → [[8, 16], [], [3]]. Nested
  /// lists (tensor lists) contribute their inner shapes in order.
  public static func dims(_ text: String) -> [[Int64]] {
    var out: [[Int64]] = []
    var current: [Int64] = []
    var number: Int64? = nil
    var depth = 0
    for ch in text.utf8 {
      switch ch {
      case UInt8(ascii: "["):
        depth += 1
        if depth == 2 { current = [] }
      case UInt8(ascii: "]"):
        if let n = number {
          current.append(n)
          number = nil
        }
        if depth == 2 { out.append(current) }
        depth -= 1
      case UInt8(ascii: "0")...UInt8(ascii: "9"):
        number = (number ?? 0) &* 10 &+ Int64(ch - UInt8(ascii: "0"))
      case UInt8(ascii: ","):
        if let n = number {
          current.append(n)
          number = nil
        }
      default: break
      }
    }
    return out
  }

  /// The strings of a JSON string array: `["c10::BFloat16", "", "1"]` → ["c10::BFloat16", "", "1"].
  public static func strings(_ text: String) -> [String] {
    var out: [String] = []
    var inString = false
    var current = ""
    for ch in text {
      if ch == "\"" {
        if inString {
          out.append(current)
          current = ""
        }
        inString.toggle()
      } else if inString {
        current.append(ch)
      }
    }
    return out
  }
}
