import CostModels
import Foundation
import TraceModel

/// A malformed `--set serve.…` knob, or one the trace cannot answer: a usage error.
public struct ServingKnobError: Error, Sendable, Equatable, CustomStringConvertible {
  public var message: String
  public init(_ message: String) { self.message = message }
  public var description: String { message }
}

/// The serving what-ifs of `reprise serve --set` (docs/models/serving.md, "Knobs").
public struct ServingScenario: Sendable, Equatable {
  /// `serve.context=N`: the prompt becomes N tokens.
  public var context: Int?
  /// `serve.batch=N`: N requests of the recorded shape.
  public var batch: Int?
  /// `serve.kv-dtype=D`: the KV cache stored as D.
  public var kvDtype: DType?
  /// `serve.prefix=P`: a prefix of P tokens shared by the batch, computed once and kept.
  public var prefix: Int?
  /// `serve.swap=N[,block=B]`: a context switch every N decode iterations.
  public var swap: Swap?
  /// `serve.parallel-encoding=C`: the prompt encoded as C independent chunks.
  public var parallelEncoding: Int?
  /// `serve.speculative=k,alpha,draft=MODEL[,on=HARDWARE]`.
  public var speculative: Speculative?
  /// `serve.offload=weights:F` / `kv:F`.
  public var offload: Offload?
  /// The knobs as given, in order.
  public var knobs: [String] = []

  public struct Swap: Sendable, Equatable {
    public var every: Int
    public var blockTokens: Int
  }
  public struct Speculative: Sendable, Equatable {
    public var k: Int
    public var alpha: Double
    public var draft: String
    /// The draft's device (a hardware spec name or file); nil: the serving device.
    public var device: String?
    /// Expected tokens per verification, (1 − α^{k+1})/(1 − α) (Leviathan et al. 2023, Eq. 1);
    /// k + 1 when α = 1.
    public var expectedTokens: Double { Self.expectedTokens(k: k, alpha: alpha) }
    public static func expectedTokens(k: Int, alpha: Double) -> Double {
      alpha >= 1 ? Double(k + 1) : (1 - pow(alpha, Double(k + 1))) / (1 - alpha)
    }
    /// Time per output token: k draft steps and one verification per E tokens,
    /// (k·t_draft + t_verify)/E.
    public func timePerToken(draft: Double, verify: Double) -> Double {
      (Double(k) * draft + verify) / expectedTokens
    }
  }
  public struct Offload: Sendable, Equatable {
    public var weights = 0.0
    public var kv = 0.0
  }

  public init() {}

  public var isEmpty: Bool { knobs.isEmpty }

  /// The largest token count (context, prefix, chunks) and batch a knob takes: 2²⁴ tokens,
  /// 2²⁰ requests, 256 speculated tokens. Beyond them the costs overflow nothing but mean nothing.
  public static let maxTokens = 1 << 24
  public static let maxBatch = 1 << 20
  public static let maxSpeculated = 256

  public static let names = [
    "serve.context", "serve.batch", "serve.kv-dtype", "serve.prefix", "serve.swap", "serve.parallel-encoding",
    "serve.speculative", "serve.offload",
  ]

  /// Parses `KEY=VALUE` settings.
  /// - Throws: `ServingKnobError` naming the knob, what was expected and what was found.
  public static func parse(_ settings: [String]) throws(ServingKnobError) -> ServingScenario {
    var s = ServingScenario()
    var seen: Set<String> = []
    for setting in settings {
      guard let eq = setting.firstIndex(of: "=") else {
        throw ServingKnobError("--set \(setting): expected KEY=VALUE with KEY one of \(names.joined(separator: ", "))")
      }
      let key = String(setting[..<eq])
      let value = String(setting[setting.index(after: eq)...])
      func count(_ minimum: Int, _ maximum: Int = maxTokens) throws(ServingKnobError) -> Int {
        guard let v = Int(value), v >= minimum, v <= maximum else {
          throw ServingKnobError("--set \(key)=\(value): expected an integer from \(minimum) to \(maximum)")
        }
        return v
      }
      if key != "serve.offload" && !seen.insert(key).inserted {
        throw ServingKnobError("--set \(key) given twice: give each serving knob once")
      }
      switch key {
      case "serve.context": s.context = try count(1)
      case "serve.batch": s.batch = try count(1, maxBatch)
      case "serve.prefix": s.prefix = try count(0)
      case "serve.parallel-encoding": s.parallelEncoding = try count(1)
      case "serve.kv-dtype":
        guard let d = DType(name: value), kvCacheDTypes.contains(d) else {
          throw ServingKnobError(
            "--set serve.kv-dtype=\(value): expected one of \(kvCacheDTypes.map(\.rawValue).joined(separator: ", "))")
        }
        s.kvDtype = d
      case "serve.swap": s.swap = try parseSwap(value)
      case "serve.speculative": s.speculative = try parseSpeculative(value)
      case "serve.offload": s.offload = try parseOffload(value, into: s.offload ?? Offload())
      default:
        throw ServingKnobError("--set \(key): unknown serving knob; expected one of \(names.joined(separator: ", "))")
      }
      s.knobs.append(setting)
    }
    return s
  }

  static func parseSwap(_ v: String) throws(ServingKnobError) -> Swap {
    let parts = v.split(separator: ",").map(String.init)
    guard let first = parts.first, let every = Int(first), every >= 1, every <= maxTokens else {
      throw ServingKnobError("--set serve.swap=\(v): expected N[,block=B] (a switch every N decode iterations)")
    }
    var swap = Swap(every: every, blockTokens: 16)
    for p in parts.dropFirst() {
      guard p.hasPrefix("block="), let b = Int(p.dropFirst(6)), b >= 1, b <= maxTokens else {
        throw ServingKnobError("--set serve.swap=\(v): expected block=B (tokens per KV block, ≥ 1), found \(p)")
      }
      swap.blockTokens = b
    }
    return swap
  }

  static func parseSpeculative(_ v: String) throws(ServingKnobError) -> Speculative {
    let parts = v.split(separator: ",").map(String.init)
    let usage = "--set serve.speculative=\(v): expected k,alpha,draft=MODEL[,on=HARDWARE]"
    guard parts.count >= 3, let k = Int(parts[0]), k >= 1, k <= maxSpeculated, let alpha = Double(parts[1]),
      alpha >= 0, alpha <= 1
    else { throw ServingKnobError(usage + " (1 ≤ k ≤ \(maxSpeculated), 0 ≤ alpha ≤ 1)") }
    var draft: String? = nil
    var device: String? = nil
    for p in parts.dropFirst(2) {
      if p.hasPrefix("draft=") {
        draft = String(p.dropFirst(6))
      } else if p.hasPrefix("on=") {
        device = String(p.dropFirst(3))
      } else {
        throw ServingKnobError(usage + ", found \(p)")
      }
    }
    guard let draft, !draft.isEmpty else { throw ServingKnobError(usage + " (draft= is missing)") }
    return Speculative(k: k, alpha: alpha, draft: draft, device: device)
  }

  static func parseOffload(_ v: String, into o: Offload) throws(ServingKnobError) -> Offload {
    var o = o
    for p in v.split(separator: ",") {
      let kv = p.split(separator: ":", maxSplits: 1).map(String.init)
      guard kv.count == 2, let f = Double(kv[1]), f >= 0, f <= 1 else {
        throw ServingKnobError("--set serve.offload=\(v): expected weights:F or kv:F with 0 ≤ F ≤ 1")
      }
      switch kv[0] {
      case "weights": o.weights = f
      case "kv": o.kv = f
      default: throw ServingKnobError("--set serve.offload=\(v): expected weights:F or kv:F, found \(kv[0])")
      }
    }
    return o
  }
}
