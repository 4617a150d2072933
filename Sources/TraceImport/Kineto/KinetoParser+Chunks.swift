import Dispatch
import Synchronization
import TraceModel

/// Tokenizing one large `traceEvents` array on several cores.
///
/// The array is cut at event boundaries near equal byte offsets: a `}` , `{` sequence whose
/// whitespace holds a newline (a raw newline cannot be inside a JSON string, so the three bytes
/// are structure). Each later piece is tokenized by its own parser on another thread, from its
/// cut to the next cut or to the closing `]`; the first parser reads from the start as it
/// always does. A cut is used only when the first parser, reading the document in order,
/// arrives exactly at it between two elements of `traceEvents`: that proves the cut is an event
/// boundary of the array. The pieces' strings, threads, extras and shapes are then renumbered
/// into the first parser's tables in their order of first appearance, so the result is the one
/// a single parser produces, byte for byte. A piece that fails, warns, or holds B/E events is
/// not used: the first parser reads on from that cut itself (and reports any error with the
/// right event index).
///
/// Needs the whole input in memory (a mapped plain file, or bytes); gzip input is streamed and
/// read by one parser.
extension KinetoParser {
  /// A piece of the event array being tokenized on another thread.
  final class Piece: @unchecked Sendable {
    /// Absolute offset of the piece's first event (`{`).
    let start: Int64
    /// Offset of the next piece's first event (this piece stops when it arrives there).
    let stopAt: Int64?
    var parser: KinetoParser
    /// The piece's outcome, set by its thread before `group` is left.
    var outcome: Outcome = .failed
    let cancelled = Atomic<Bool>(false)

    enum Outcome {
      /// Arrived exactly at `stopAt` after `events` elements.
      case reachedNext(events: UInt32)
      /// Read up to and including the array's `]`; `end` is the offset after it.
      case reachedEnd(events: UInt32, end: Int64)
      /// An error, a diagnostic, B/E events, or the next cut passed without arriving at it.
      case failed
    }

    init(source: ByteSource, start: Int64, stopAt: Int64?) {
      self.start = start
      self.stopAt = stopAt
      parser = KinetoParser(source: source, progress: nil, chunkOf: Int(((stopAt ?? source.fileSize) - start)))
      parser.nextRelease = start + KinetoParser.releaseInterval
      parser.releasedFrom = Int(start)
      parser.sawTraceEvents = true
    }

    func run() {
      let clock = PhaseClock()
      let started = clock.isEnabled ? DispatchTime.now().uptimeNanoseconds : 0
      defer { clock.report("tokenize the piece at byte \(start) of \(parser.out.file)", since: started) }
      do {
        parser.s.pos = Int(start - parser.s.base)
        outcome = try parser.parsePiece(stopAt: stopAt) { self.cancelled.load(ordering: .relaxed) }
      } catch {
        outcome = .failed
      }
      if case .failed = outcome { return }
      let p = parser
      let beginEnd = p.phaseCounts[Int(UInt8(ascii: "B"))] + p.phaseCounts[Int(UInt8(ascii: "E"))]
      // A piece with invalid UTF-8 is read again by the first parser, which counts it.
      if beginEnd > 0 || !p.out.diagnostics.isEmpty || !p.unsupportedPhases.isEmpty || p.s.invalidUTF8Strings > 0
        || p.negativeTimestamps > 0 || p.negativeDurations.count > 0
      {
        outcome = .failed
      }
    }
  }

  /// The cuts for `parts` pieces of the array whose first element is at `from`: offsets of
  /// event starts, increasing; fewer when no boundary is found near a target.
  static func cuts(_ p: UnsafePointer<UInt8>, count: Int, from: Int, parts: Int) -> [Int] {
    var out: [Int] = []
    guard parts > 1, count > from else { return out }
    let span = count - from
    for k in 1..<parts {
      var i = from + span / parts * k
      let limit = min(count, i + (1 << 22))
      var found: Int?
      while i < limit {
        if p[i] == 0x0a {
          switch boundary(p, count: count, newline: i) {
          case .found(let at): found = at
          case .none(let next): i = max(i + 1, next)
          }
          if found != nil { break }
        } else {
          i += 1
        }
      }
      if let found, found > (out.last ?? from) { out.append(found) }
    }
    return out
  }

  enum Boundary {
    /// The offset of the `{`.
    case found(Int)
    /// No boundary at this newline; the next byte worth looking at.
    case none(Int)
  }

  /// The `{` after a newline inside `} , {` (whitespace between). The walks over whitespace
  /// stop after 64 bytes (no boundary there), and a failed look returns where the forward walk
  /// stopped, so a run of whitespace is scanned once, not once per newline in it.
  static func boundary(_ p: UnsafePointer<UInt8>, count: Int, newline: Int) -> Boundary {
    @inline(__always) func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x0a || b == 0x0d || b == 0x09 }
    let reach = 64
    var b = newline - 1
    while b >= 0 && isSpace(p[b]) && newline - b < reach { b -= 1 }
    var sawComma = false
    if b >= 0 && p[b] == UInt8(ascii: ",") {
      sawComma = true
      b -= 1
      while b >= 0 && isSpace(p[b]) && newline - b < reach { b -= 1 }
    }
    var f = newline + 1
    while f < count && isSpace(p[f]) && f - newline < reach { f += 1 }
    if !sawComma && f < count && p[f] == UInt8(ascii: ",") {
      sawComma = true
      f += 1
      while f < count && isSpace(p[f]) && f - newline < reach { f += 1 }
    }
    guard sawComma, b >= 0, p[b] == UInt8(ascii: "}"), f < count, p[f] == UInt8(ascii: "{") else { return .none(f) }
    return .found(f)
  }

  /// Starts the pieces after the first for an array whose first element is at the scanner's
  /// position; empty when the input is streamed, small, or has no cuts.
  func startPieces(_ group: DispatchGroup) -> [Piece] {
    guard chunks > 1, !s.source.isStreamed, s.isExhausted, s.base == 0 else { return [] }
    let remaining = s.end - s.pos
    let parts = min(chunks, max(1, remaining / max(1, minChunkBytes)))
    let at = Self.cuts(UnsafePointer(s.ptr), count: s.end, from: s.pos, parts: parts).map(Int64.init)
    let pieces = at.indices.map { k in
      Piece(source: s.source, start: at[k], stopAt: k + 1 < at.count ? at[k + 1] : nil)
    }
    for piece in pieces { DispatchQueue.global().async(group: group) { piece.run() } }
    return pieces
  }

  /// Tokenizes elements from the scanner's position until the array's `]` or until arriving
  /// exactly at `stopAt`.
  mutating func parsePiece(stopAt: Int64?, isCancelled: () -> Bool) throws -> Piece.Outcome {
    var index: UInt32 = 0
    while true {
      _ = try s.peek()
      if let stopAt, s.offset >= stopAt {
        return s.offset == stopAt ? .reachedNext(events: index) : .failed
      }
      if index & 1023 == 0 && isCancelled() { return .failed }
      try parseEvent(index: index)
      index &+= 1
      if try !s.commaOr(UInt8(ascii: "]"), "',' or ']' in traceEvents") {
        return .reachedEnd(events: index, end: s.offset)
      }
    }
  }

  /// At the start of element `index`, when the next piece begins here: takes in that piece and
  /// the ones after it that fit; returns the offset after the array's `]` when the array is
  /// complete, else nil (the first parser reads on; `index` is advanced past what was taken).
  mutating func takePieces(_ pieces: [Piece], next: inout Int, index: inout UInt32, group: DispatchGroup) -> Int64? {
    PhaseClock().measure("wait for the pieces of \(out.file)") { group.wait() }
    let clock = PhaseClock()
    let started = clock.isEnabled ? DispatchTime.now().uptimeNanoseconds : 0
    defer { clock.report("take in the pieces of \(out.file)", since: started) }
    reserve(records: pieces[next...].reduce(0) { $0 + $1.parser.out.phase.count })
    while next < pieces.count, pieces[next].start == s.offset {
      let piece = pieces[next]
      next += 1
      switch piece.outcome {
      case .failed:
        return nil
      case .reachedNext(let events):
        absorb(piece, indexBase: index)
        index &+= events
        s.pos = Int(pieces[next].start - s.base)
      case .reachedEnd(let events, let end):
        absorb(piece, indexBase: index)
        index &+= events
        return end
      }
    }
    return nil
  }

  /// Frees a piece's records once they are taken in (they are not held twice until the end).
  mutating func dropRecords() {
    out = KinetoTrace(file: out.file)
    interner = ByteInterner()
    threadIndex = [:]
  }

  /// Room for `records` more records in every column (one allocation each, not doublings).
  mutating func reserve(records n: Int) {
    let total = out.phase.count + n
    guard total > out.phase.capacity else { return }
    out.phase.reserveCapacity(total)
    out.category.reserveCapacity(total)
    out.name.reserveCapacity(total)
    out.thread.reserveCapacity(total)
    out.ts.reserveCapacity(total)
    out.dur.reserveCapacity(total)
    out.correlation.reserveCapacity(total)
    out.externalID.reserveCapacity(total)
    out.index.reserveCapacity(total)
  }

  /// Appends a piece's records, renumbering its strings, threads, extras and shapes into this
  /// parser's tables in their order of first appearance, then frees them. Each column is freed
  /// once it is appended, so taking a piece in holds one column twice, not the whole piece.
  mutating func absorb(_ piece: Piece, indexBase: UInt32) {
    defer { piece.parser.dropRecords() }
    /// The piece's column at `path`, which the piece no longer holds.
    func take<T>(_ path: WritableKeyPath<KinetoTrace, [T]>) -> [T] {
      defer { piece.parser.out[keyPath: path] = [] }
      return piece.parser.out[keyPath: path]
    }
    let strings = (0..<Int32(piece.parser.interner.count)).map {
      interner.intern(Array(piece.parser.interner.bytes($0)))
    }
    @inline(__always) func str(_ id: Int32) -> Int32 { id < 0 ? id : strings[Int(id)] }
    func traceID(_ t: TraceID) -> TraceID { if case .string(let id) = t { .string(str(id)) } else { t } }
    func key(_ k: ThreadKey) -> ThreadKey { ThreadKey(pid: traceID(k.pid), tid: traceID(k.tid)) }
    let threads = piece.parser.threadIndex.sorted { $0.value < $1.value }.map { t in
      let k = key(t.key)
      return threadFor(k.pid, k.tid)
    }
    let recordBase = UInt32(out.phase.count)
    let extrasBase = Int32(out.extras.count)
    out.phase.append(contentsOf: take(\.phase))
    out.category.append(contentsOf: take(\.category).lazy.map(str))
    out.name.append(contentsOf: take(\.name).lazy.map(str))
    out.thread.append(contentsOf: take(\.thread).lazy.map { threads[Int($0)] })
    out.ts.append(contentsOf: take(\.ts))
    out.dur.append(contentsOf: take(\.dur))
    out.correlation.append(contentsOf: take(\.correlation))
    out.externalID.append(contentsOf: take(\.externalID))
    out.extraOf.append(piece.parser.out.extraOf, recordBase: recordBase, entryBase: extrasBase)
    piece.parser.out.extraOf = ExtrasIndex()
    out.index.append(contentsOf: take(\.index).lazy.map { $0 &+ indexBase })
    for i in 0..<piece.parser.out.extras.count {
      var x = piece.parser.out.extras[i]
      (x.collectiveName, x.dtype, x.direction) = (str(x.collectiveName), str(x.dtype), str(x.direction))
      (x.processGroupName, x.processGroupRanks) = (str(x.processGroupName), str(x.processGroupRanks))
      x.processGroupDescription = str(x.processGroupDescription)
      (x.inputDims, x.inputType, x.concreteInputs) = (str(x.inputDims), str(x.inputType), str(x.concreteInputs))
      out.extras.append(x)
    }
    out.shapes.append(
      contentsOf: take(\.shapes).lazy.map {
        ShapeRecord(record: $0.record + recordBase, dims: str($0.dims), types: str($0.types))
      })
    out.flows.append(
      contentsOf: take(\.flows).lazy.map { f in
        var f = f
        f.thread = threads[Int(f.thread)]
        return f
      })
    // A piece's metadata comes after this parser's: its values win, as they would in order.
    for (k, v) in piece.parser.out.processNames { out.processNames[traceID(k)] = v }
    for (k, v) in piece.parser.out.processLabels { out.processLabels[traceID(k)] = v }
    for (k, v) in piece.parser.out.threadNames { out.threadNames[key(k)] = v }
    for (i, c) in piece.parser.phaseCounts.enumerated() { phaseCounts[i] += c }
    for (i, c) in piece.parser.categoryCounts.enumerated() where c > 0 {
      let id = Int(str(Int32(i)))
      if id >= categoryCounts.count {
        categoryCounts.append(contentsOf: repeatElement(0, count: id + 1 - categoryCounts.count))
      }
      categoryCounts[id] += c
    }
    out.tokenizedPieces += 1
    out.stats.eventCount += piece.parser.out.stats.eventCount
    out.stats.durationSumNs &+= piece.parser.out.stats.durationSumNs
  }
}
