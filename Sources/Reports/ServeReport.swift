import CostModels
import Foundation
import Serving
import TraceModel

/// `reprise serve TRACE`: the engine iterations of a recorded serving trace, its phases,
/// latencies and Fu 2024 bounds, predicted under `--set serve.…` what-ifs
/// (`reprise.serve/v1`; docs/models/serving.md).
public struct ServeReport: JSONContract, Equatable {
  public static let schemaName = "reprise.serve"
  public static let schemaVersion = 1
  public var schema = Self.schema

  public struct Iteration: Codable, Sendable, Equatable {
    public var index: Int
    public var rank: Int
    public var kind: String
    public var source: String
    public var name: String
    public var startNs: Nanoseconds
    public var durationNs: Nanoseconds
    public var predictedNs: Nanoseconds
    public var tokens: Int?
    public var batch: Int?
    public var queryLength: Int?
    public var kvLength: Int?
    public var attentionNs: Nanoseconds
    public var linearNs: Nanoseconds
    public var otherNs: Nanoseconds
    public var kvBytesRead: Bytes?
    /// The same under the what-ifs.
    public var predictedAttentionNs: Nanoseconds
    public var predictedLinearNs: Nanoseconds
    public var predictedOtherNs: Nanoseconds
    public var predictedKVBytesRead: Bytes?
  }

  public struct Prefill: Codable, Sendable, Equatable {
    public var count: Int
    /// Mean prompt tokens per prefill iteration (all requests).
    public var tokens: Int
    public var batch: Int
    public var measuredNs: Nanoseconds
    public var predictedNs: Nanoseconds
  }

  public struct Decode: Codable, Sendable, Equatable {
    public var count: Int
    public var batch: Int
    /// Mean KV length per request.
    public var kvLength: Int
    public var measuredNs: Nanoseconds
    public var predictedNs: Nanoseconds
  }

  /// Iterations of another kind (mixed, or forward passes of unknown phase).
  public struct OtherPhase: Codable, Sendable, Equatable {
    public var kind: String
    public var count: Int
    public var measuredNs: Nanoseconds
    public var predictedNs: Nanoseconds
  }

  public struct Latency: Codable, Sendable, Equatable {
    /// Time to first token: the mean prefill iteration.
    public var ttftNs: Nanoseconds?
    /// Time per output token: the mean decode iteration.
    public var tpotNs: Nanoseconds?
    /// Output tokens per second of one batch: b(1 + D)/(TTFT + D·TPOT), b/TPOT without prefill.
    public var tokensPerSecond: Double?
  }

  public struct Interval: Codable, Sendable, Equatable {
    public var lowNs: Nanoseconds
    public var highNs: Nanoseconds
  }

  /// How far to trust the prediction.
  public struct Trust: Codable, Sendable, Equatable {
    /// With no knob the prediction is the measurement (0 by construction).
    public var identityErrorPct: Double
    /// Shares of the measured time re-timed through the roofline, scaled with the tokens, kept.
    public var retimedShare: Double
    public var scaledShare: Double
    public var keptShare: Double
    /// The interval: ± this % of the part the models changed.
    public var modelErrorPct: Double
    public var ttft: Interval?
    public var tpot: Interval?
  }

  /// Fu 2024 peak bounds (arXiv 2405.08944 §2–3) for the model on the device.
  public struct Bounds: Codable, Sendable, Equatable {
    public var hardware: String
    public var model: String
    /// Compute-bound prefill of the recorded batch and prompt, and the % the mean prefill reaches.
    public var prefillNs: Nanoseconds?
    public var prefillAchievedPct: Double?
    /// Memory-bound decode step (weights + the batch's KV read once), and the % reached.
    public var decodeNs: Nanoseconds?
    public var decodeAchievedPct: Double?
    /// Requests whose KV cache at the final context fits beside the weights in HBM.
    public var maxConcurrentRequests: Int64
    public var contextTokens: Int
    public var weightBytes: Bytes
    public var kvBytesPerToken: Double
    public var hbmBytes: Bytes
    /// Under the what-ifs: the final context and the requests whose KV (in the what-if's dtype,
    /// the part kept in HBM) fits; nil without a knob, or when all of the KV is offloaded.
    public var predictedContextTokens: Int?
    public var predictedMaxConcurrentRequests: Int64?
  }

  /// One knob's effect with its formula and source.
  public struct WhatIf: Codable, Sendable, Equatable {
    public var knob: String
    public var formula: String
    public var values: [String: Double]
  }

  public struct Capture: Codable, Sendable, Equatable {
    public var file: String
    public var capturedLaunches: Int
    public var replayedKernels: Int
    public var mappedKernels: Int
  }

  public var trace: String
  public var model: String?
  public var hardware: String?
  public var recordedHardware: String?
  public var knobs: [String]
  public var iterations: [Iteration]
  public var prefill: Prefill?
  public var decode: Decode?
  public var otherPhases: [OtherPhase]
  public var measured: Latency
  public var predicted: Latency
  public var trust: Trust
  public var bounds: Bounds?
  public var whatIfs: [WhatIf]
  public var graphCapture: Capture?
  public var notes: [String]
}
