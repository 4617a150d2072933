/// Command-line arguments as `reprise` hands them to its parser.
public enum CommandLineArguments {
  /// `--width -5` as `--width=-5`: the argument parser reads a token that starts with `-` as an
  /// option, so a negative number after a long option would be "Missing value" instead of
  /// reaching the command's range check, which names the flag. Only a token that looks like a
  /// number (`-` then a digit, or `-.` then a digit) right after a long option without `=` is
  /// attached; everything after `--` is left alone.
  ///
  ///     attachingNegativeValues(["--width", "-5", "-o", "a.svg"])  // ["--width=-5", "-o", "a.svg"]
  public static func attachingNegativeValues(_ arguments: [String]) -> [String] {
    var out: [String] = []
    var i = 0
    while i < arguments.count {
      let a = arguments[i]
      if a == "--" { return out + arguments[i...] }
      if a.hasPrefix("--"), a.count > 2, !a.contains("="), i + 1 < arguments.count, isNegativeNumber(arguments[i + 1]) {
        out.append(a + "=" + arguments[i + 1])
        i += 2
      } else {
        out.append(a)
        i += 1
      }
    }
    return out
  }

  /// Whether `token` starts like a negative number: `-5`, `-1ms`, `-2e12`, `-.5`.
  static func isNegativeNumber(_ token: String) -> Bool {
    let bytes = Array(token.utf8.prefix(3))
    let isDigit = { (b: UInt8) in b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }
    guard bytes.count >= 2, bytes[0] == UInt8(ascii: "-") else { return false }
    return isDigit(bytes[1]) || (bytes[1] == UInt8(ascii: ".") && bytes.count == 3 && isDigit(bytes[2]))
  }
}
