import Foundation
import TraceModel

/// PyTorch host execution trace JSON (`ExecutionTraceObserver`), plain or gzip: read by
/// `ExecutionTrace`; `Ingest` then links it with the Kineto trace of its rank (`ETLinker`) or,
/// when no file holds that rank, makes it the rank's graph.
///
/// The rank is the one the file name states; else, when the ET is the only one and at most one
/// rank graph is given, the rank of that graph (or 0 without one).
struct PyTorchETImporter: TraceImporter {
  static let descriptor = TraceFormatDescriptor(
    name: "PyTorch host execution trace (ET) JSON", nativeTimeUnit: "µs",
    isSupported: true)

  /// A JSON object with `nodes` and `schema` keys and no `traceEvents`.
  static func sniff(prefix: UnsafeBufferPointer<UInt8>) -> Bool {
    Sniffing.isJSONObject(prefix) && Sniffing.contains(prefix, "\"nodes\"")
      && Sniffing.contains(prefix, "\"schema\"") && !Sniffing.contains(prefix, "\"traceEvents\"")
  }

  static var isLinkedWithRankGraph: Bool { true }

  /// How the rank of an ET linked with the only rank graph given is explained.
  static let linkedRankNotes = RankNotes(
    onlyFile: .init(code: "et.rankFromKineto") {
      "no rank in the file name; linked with the only Kineto trace given (rank \($0))"
    })

  static func importFile(_ request: ImportRequest) throws -> ImportedFile {
    let path = request.path
    let trace =
      try request.contents.map { try ExecutionTrace.parse($0, file: path) }
      ?? ExecutionTrace.read(path, limits: request.limits)
    let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int64) ?? 0
    return .hostTrace(ImportedHostTrace(path: path, trace: trace, bytesOnDisk: size))
  }
}
