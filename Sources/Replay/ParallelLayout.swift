/// A parallel layout: the data-, tensor-, pipeline- and context-parallel degrees of a training
/// job (`dp=A,tp=B,pp=C,cp=D`). The world size is their product.
public struct ParallelLayout: Codable, Sendable, Hashable, CustomStringConvertible {
  public var dp: Int
  public var tp: Int
  public var pp: Int
  public var cp: Int

  public init(dp: Int = 1, tp: Int = 1, pp: Int = 1, cp: Int = 1) {
    self.dp = dp
    self.tp = tp
    self.pp = pp
    self.cp = cp
  }

  /// DP·TP·PP·CP.
  public var worldSize: Int { dp * tp * pp * cp }

  /// `dp=A,tp=B,pp=C,cp=D` (every degree, in that order).
  public var description: String { "dp=\(dp),tp=\(tp),pp=\(pp),cp=\(cp)" }

  /// A parse failure: the CLI exits 64 with it.
  public struct ParseError: Error, CustomStringConvertible, Sendable, Equatable {
    public var message: String
    public var description: String { message }
  }

  /// Parses `dp=A,tp=B,pp=C[,cp=D]`: comma-separated `KEY=N` with KEY in dp, tp, pp, cp, each
  /// at most once, N a whole number ≥ 1; a degree not given is 1.
  /// - Throws: `ParseError` naming the flag, the part and what was expected.
  public init(parsing text: String, flag: String = "--parallel") throws {
    self.init()
    var seen: Set<String> = []
    let parts = text.split(separator: ",", omittingEmptySubsequences: false)
    for part in parts {
      let kv = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
      let key = kv.first.map { String($0).trimmingSpaces.lowercased() } ?? ""
      guard kv.count == 2, ["dp", "tp", "pp", "cp"].contains(key) else {
        throw ParseError(
          message:
            "\(flag) \(text): expected KEY=N with KEY one of dp, tp, pp, cp (e.g. dp=4,tp=2,pp=1), found '\(part)'")
      }
      guard seen.insert(key).inserted else {
        throw ParseError(message: "\(flag) \(text): \(key) is given twice")
      }
      let valueText = String(kv[1]).trimmingSpaces
      guard let n = Int(valueText), n >= 1, n <= 1 << 20 else {
        throw ParseError(
          message: "\(flag) \(text): \(key) expects a whole number from 1 to 1048576, found '\(valueText)'")
      }
      switch key {
      case "dp": dp = n
      case "tp": tp = n
      case "pp": pp = n
      default: cp = n
      }
    }
  }
}

extension String {
  fileprivate var trimmingSpaces: String {
    String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
  }
}
