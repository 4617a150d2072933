import TraceModel

/// How an importer explains a rank that its file does not declare: the notes `RankResolver` adds.
///
///     static let rankNotes = RankNotes(
///       onlyFile: .init(code: "ingest.rankDefault") { _ in "no rank in the file name; treated as rank 0" })
struct RankNotes: Sendable {
  /// A diagnostic note: its code, and its message for the rank resolved.
  struct Note: Sendable {
    var code: String
    var message: @Sendable (_ rank: Int) -> String
  }

  /// Added when the rank comes from the file name; nil adds none.
  var fromFileName: Note?
  /// Added when the file is the only one and takes the fallback rank; nil adds none.
  var onlyFile: Note?

  init(fromFileName: Note? = nil, onlyFile: Note? = nil) {
    self.fromFileName = fromFileName
    self.onlyFile = onlyFile
  }
}

/// Decides which rank a file holds: the one place where ranks are resolved.
///
/// In order: the rank the file declares (Kineto's `distributedInfo.rank`); the rank its name
/// states (`rank-3`, `worker3`, `…_3.json`, `name.3.et`); the fallback rank when the file is
/// the only one of its run (0; for a host execution trace, the rank of the only graph given);
/// else the rank is unknown, an error. Each importer passes its own wording for the notes.
///
///     let rank = try RankResolver.rank(declared: trace.declaredRank, path: path,
///                                      isOnlyFile: true, notes: rankNotes, diagnostics: &diagnostics)
enum RankResolver {
  /// The rank of the file at `path`.
  ///
  /// - Parameters:
  ///   - declared: the rank the file's contents state, if any.
  ///   - path: the file (its name may state the rank).
  ///   - isOnlyFile: whether the file is the only one of its kind in the run, so that a rank
  ///     nothing states is unambiguous.
  ///   - fallback: the rank of an only file that states none.
  ///   - notes: the notes to add when the rank is not declared.
  /// - Throws: `TraceImportError.unknownRank` when nothing states the rank and the file is not
  ///   the only one.
  static func rank(
    declared: Int?, path: String, isOnlyFile: Bool, fallback: Int = 0, notes: RankNotes,
    diagnostics: inout Diagnostics
  ) throws -> RankID {
    if let declared { return RankID(declared) }
    if let named = rank(inFileName: path) {
      if let note = notes.fromFileName {
        diagnostics.note(note.code, note.message(named), at: TraceLocation(file: path))
      }
      return RankID(named)
    }
    guard isOnlyFile else { throw TraceImportError.unknownRank(file: path) }
    if let note = notes.onlyFile {
      diagnostics.note(note.code, note.message(fallback), at: TraceLocation(file: path))
    }
    return RankID(fallback)
  }

  /// The rank a file name states: `rank-3`, `rank3`, `rank_3`, `worker3`, `name.3.et`,
  /// `name.3.json`, `…_3.json`, `…-3.json.gz`; nil when it states none.
  static func rank(inFileName path: String) -> Int? {
    // The last path component; of a bundle member (`bundle.tar.gz:dir/rank3.json`), the member's.
    let last = path.split(separator: "/").last ?? Substring(path)
    let base = String(last.split(separator: ":").last ?? last).lowercased()
    return rankAfterWord(base) ?? rankBeforeChakraExtension(base) ?? rankAtEndOfStem(base)
  }

  /// `rank-3`, `rank3`, `rank_3`, `worker3` anywhere in the name.
  private static func rankAfterWord(_ base: String) -> Int? {
    let bytes = Array(base.utf8)
    func digits(from i: Int) -> Int? {
      var j = i
      var v = 0
      while j < bytes.count, bytes[j] >= 48, bytes[j] <= 57, j - i < 7 {
        v = v * 10 + Int(bytes[j] - 48)
        j += 1
      }
      return j > i ? v : nil
    }
    for word in ["rank", "worker"] {
      var search = base.startIndex
      while let r = base.range(of: word, range: search..<base.endIndex) {
        var i = base.utf8.distance(from: base.startIndex, to: r.upperBound)
        if i < bytes.count && (bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "_")) { i += 1 }
        if let v = digits(from: i) { return v }
        search = r.upperBound
      }
    }
    return nil
  }

  /// Chakra: `all_reduce.3.et`, `chakra.0.json`.
  private static func rankBeforeChakraExtension(_ base: String) -> Int? {
    for ext in [".et", ".json"] where base.hasSuffix(ext) {
      let parts = base.dropLast(ext.count).split(separator: ".")
      if parts.count >= 2, let last = parts.last, last.count <= 6, let v = Int(last) { return v }
    }
    return nil
  }

  /// `…_3.json`, `…-3.json.gz`, `…_3.pt.trace.json`.
  private static func rankAtEndOfStem(_ base: String) -> Int? {
    var stem = base
    for ext in [".json.gz", ".json", ".pt.trace", ".trace"] where stem.hasSuffix(ext) { stem.removeLast(ext.count) }
    if stem.hasSuffix(".pt.trace") { stem.removeLast(".pt.trace".count) }
    let sb = Array(stem.utf8)
    var j = sb.count
    while j > 0, sb[j - 1] >= 48, sb[j - 1] <= 57 { j -= 1 }
    if j < sb.count, j > 0, sb[j - 1] == UInt8(ascii: "_") || sb[j - 1] == UInt8(ascii: "-"), sb.count - j <= 6 {
      return Int(String(decoding: sb[j...], as: UTF8.self))
    }
    return nil
  }
}
