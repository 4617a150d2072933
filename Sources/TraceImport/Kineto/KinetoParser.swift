import Dispatch
import TraceModel

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Tokenizes a Kineto / Chrome-trace JSON document into a `KinetoTrace`, streaming.
///
/// Accepts the JSON Object Format (`{"traceEvents": [...], ...}`, with metadata keys before or
/// after the array) and the JSON Array Format (`[...]`). Reads `ph` X, B/E, i/I, s/t/f, M and C;
/// other phases (async b/e/n, samples, object events) are counted and reported as data loss.
/// Timestamps are float or integer microseconds, converted once to integer nanoseconds by
/// decimal arithmetic (exact for the ns fractions that PyTorch writes). Integers beyond
/// Int64 (`Comms Id`, flow ids) are tolerated where Reprise does not need them.
struct KinetoParser {
  var s: JSONScanner
  var out: KinetoTrace
  var interner = ByteInterner()
  var emptyString: Int32 = 0
  /// Per interned name: whether its `Input Dims` are kept (1), dropped (0), or not decided yet (-1).
  var keepsShapes: [Int8] = []
  var lastThreadKey = ThreadKey(pid: .missing, tid: .missing)
  var lastThreadIndex: Int32 = -1
  var previousThreadKey = ThreadKey(pid: .missing, tid: .missing)
  var previousThreadIndex: Int32 = -1
  var threadIndex: [ThreadKey: Int32] = [:]
  var openBegins:
    [Int32: [(name: Int32, cat: Int32, ts: Int64, index: UInt32, offset: Int64, extra: Int32, corr: Int64, ext: Int64)]] =
      [:]
  var unsupportedPhases: [UInt8: Int] = [:]
  var unmatchedEnds = 0
  /// Events with a negative `ts` (kept; counted in a note).
  var negativeTimestamps = 0
  /// X events with a negative `dur` (clamped to 0; counted in a warning at the first one).
  var negativeDurations: (count: Int, first: (TraceLocation, Int64)?) = (0, nil)
  /// The largest `ts`, `dur` and `ts + dur` accepted, in ns: 2^61 (73 years), so that the
  /// difference of any two times, and the sum of two such differences, fit in Int64.
  static let timeBound: Int64 = 1 << 61
  static let timeBoundText = "2^61 ns (73 years)"
  var phaseCounts = [Int](repeating: 0, count: 257)
  var categoryCounts: [Int] = []
  var sawTraceEvents = false
  var progress: ((Int64) -> Void)?
  /// When the pages read are released next (mapped input; every `releaseInterval` bytes).
  var nextRelease: Int64 = releaseInterval
  /// When `progress` is called next (every 64 MiB).
  var nextReport: Int64 = 64 << 20
  /// Bytes between releases of the pages read.
  static let releaseInterval: Int64 = 8 << 20
  /// How many pieces the event array may be cut into, tokenized side by side (`startPieces`).
  var chunks = 1
  /// The smallest piece worth a thread, in bytes.
  var minChunkBytes = 8 << 20
  /// Mapped pages before this window position were released (`ByteSource.release(from:to:)`).
  var releasedFrom = 0
  /// The JSON bytes that may be read before the graph would outgrow the memory available
  /// (`MemoryBudget`), checked every `releaseInterval`; nil: unchecked.
  var jsonLimit: Int64?

  /// - Parameter chunkOf: the bytes this parser will read when it reads one piece of the input.
  init(source: ByteSource, progress: ((Int64) -> Void)? = nil, chunkOf: Int? = nil) {
    s = JSONScanner(source: source)
    out = KinetoTrace(file: source.file)
    out.inputBytes = source.fileSize
    emptyString = interner.intern("")
    self.progress = progress
    // About one record per 300 bytes of JSON in real traces; grow from there.
    let bytes = chunkOf.map(Int64.init) ?? (source.isGzip ? source.fileSize * 8 : source.fileSize)
    let expected = Int(min(bytes, 1 << 36) / 300)
    out.phase.reserveCapacity(expected)
    out.category.reserveCapacity(expected)
    out.name.reserveCapacity(expected)
    out.thread.reserveCapacity(expected)
    out.ts.reserveCapacity(expected)
    out.dur.reserveCapacity(expected)
    out.correlation.reserveCapacity(expected)
    out.externalID.reserveCapacity(expected)
    out.index.reserveCapacity(expected)
  }

  /// Parses the whole document.
  mutating func parse() throws -> KinetoTrace {
    guard let first = try s.peek() else {
      throw TraceImportError.malformed(s.location(0), expected: "a JSON object or array", found: "an empty file")
    }
    if first == UInt8(ascii: "{") {
      s.pos += 1
      if try s.peek() != UInt8(ascii: "}") {
        repeat {
          s.mark = s.pos
          let key = try s.parseString()
          try s.expect(UInt8(ascii: ":"), "':' after object key")
          if s.equals(key, "traceEvents") {
            try parseEventArray()
          } else if s.equals(key, "distributedInfo") {
            out.distributedInfo = try s.parseValue()
          } else if s.equals(key, "deviceProperties") {
            out.deviceProperties = try s.parseValue()
          } else if s.equals(key, "schemaVersion") {
            out.schemaVersion = try s.parseValue()

          } else if s.equals(key, "baseTimeNanoseconds") {
            let at = s.offset
            let v = try s.parseValue()
            switch v {
            case .int(let i) where i >= 0: out.baseTimeNanoseconds = UInt64(i)
            case .uint(let u): out.baseTimeNanoseconds = u
            default:
              throw TraceImportError.wrongType(
                field: "baseTimeNanoseconds", expected: "a non-negative integer", found: v.typeName, at: s.location(at))
            }
          } else {
            try s.skipValue()
          }
        } while try s.commaOr(UInt8(ascii: "}"), "',' or '}' in the top-level object")
      } else {
        s.pos += 1
      }
      if !sawTraceEvents {
        throw TraceImportError.missingField("traceEvents", at: TraceLocation(file: out.file, byteOffset: 0))
      }
    } else if first == UInt8(ascii: "[") {
      try parseEventArray()
    } else {
      throw s.fail(expected: "'{' or '[' at the start of a Chrome trace")
    }
    if try s.peek() != nil { throw s.fail(expected: "end of input after the top-level value") }
    out.decompressedBytes = s.offset
    finish()
    return out
  }

  mutating func finish() {
    var st = KinetoStats()
    for (i, c) in phaseCounts.enumerated() where c > 0 {
      st.phaseCounts[i == 256 ? "" : String(decoding: [UInt8(i)], as: UTF8.self)] = c
    }
    out.strings = interner.allStrings()
    for (i, c) in categoryCounts.enumerated() where c > 0 { st.categoryCounts[out.strings[i], default: 0] += c }
    st.durationSumNs = out.stats.durationSumNs
    st.eventCount = out.stats.eventCount
    out.stats = st
    for (ph, n) in unsupportedPhases.sorted(by: { $0.key < $1.key }) {
      out.diagnostics.dataLoss(
        "kineto.unsupportedPhase",
        "events with ph '\(Character(Unicode.Scalar(ph)))' are not read (not used by Reprise)",
        at: TraceLocation(file: out.file), count: n)
    }
    if unmatchedEnds > 0 {
      out.diagnostics.dataLoss(
        "kineto.unmatchedEnd", "'E' events without an open 'B' on their thread", at: TraceLocation(file: out.file),
        count: unmatchedEnds)
    }
    let open = openBegins.values.reduce(0) { $0 + $1.count }
    if open > 0 {
      out.diagnostics.dataLoss(
        "kineto.unclosedBegin", "'B' events never closed by an 'E'", at: TraceLocation(file: out.file), count: open)
    }
    if negativeTimestamps > 0 {
      out.diagnostics.note(
        "kineto.negativeTimestamp", "events with a negative 'ts' kept (before the trace clock's zero)",
        at: TraceLocation(file: out.file), count: negativeTimestamps)
    }
    if let (at, d) = negativeDurations.first {
      out.diagnostics.warning(
        "kineto.negativeDuration", "negative 'dur' clamped to 0 (the first: \(d) ns)", at: at,
        count: negativeDurations.count)
    }
    out.diagnostics.invalidUTF8(s.invalidUTF8Strings, in: out.file, unit: "strings")
    out.threads = threadIndex.sorted { $0.value < $1.value }.map(\.key)
    out.account = account(unclosedBegins: open)
  }

  /// The elements of `traceEvents` accounted for, from the counts the parse kept anyway (no
  /// counting per event): records are kept; `M` went to lane names, flows with an `id` to
  /// `flows`, an `E` that closed a `B` into the `B`'s record; the rest are losses, each already
  /// a `dataLoss` diagnostic.
  func account(unclosedBegins: Int) -> EventAccount {
    func count(_ ph: Character) -> Int { phaseCounts[Int(ph.asciiValue ?? 0)] }
    let flowPhases = count("s") + count("t") + count("f")
    return EventAccount(
      read: out.stats.eventCount, kept: out.recordCount,
      dropped: [
        .metadata: count("M"), .flow: out.flows.count, .spanEnd: count("E") - unmatchedEnds,
        .unmatchedEnd: unmatchedEnds, .unclosedBegin: unclosedBegins, .flowWithoutId: flowPhases - out.flows.count,
        .unsupportedPhase: unsupportedPhases.values.reduce(0, +),
      ])
  }

  // MARK: Events

  mutating func parseEventArray() throws {
    sawTraceEvents = true
    try s.expect(UInt8(ascii: "["), "'[' starting the traceEvents array")
    if try s.peek() == UInt8(ascii: "]") {
      s.pos += 1
      return
    }
    var index: UInt32 = 0
    let group = DispatchGroup()
    let pieces = startPieces(group)
    defer {
      for p in pieces { p.cancelled.store(true, ordering: .relaxed) }
      group.wait()
    }
    var next = 0
    repeat {
      if next < pieces.count {
        _ = try s.peek()
        if s.offset == pieces[next].start,
          let end = takePieces(pieces, next: &next, index: &index, group: group)
        {
          s.pos = Int(end - s.base)
          return
        }
        // Cuts passed inside an element were not event boundaries of this array.
        while next < pieces.count && pieces[next].start < s.offset { next += 1 }
      }
      try parseEvent(index: index)
      index &+= 1
    } while try s.commaOr(UInt8(ascii: "]"), "',' or ']' in traceEvents")
  }

  struct Raw {
    var ph: UInt8 = 0
    var hasPh = false
    var name: ByteSlice? = nil
    var cat: ByteSlice? = nil
    var pid = TraceID.missing
    var tid = TraceID.missing
    var ts: Int64? = nil
    var dur: Int64? = nil
    var id: UInt64? = nil
    var extras = EventExtras()
    var hasExtras = false
    var correlation: Int64 = 0
    var externalID: Int64 = 0
    var argName: ByteSlice? = nil
    var argLabels: ByteSlice? = nil
    /// Absolute offset and length of the raw `Input Dims` / `Input type` values.
    var inputDims: (Int64, Int)? = nil
    var inputType: (Int64, Int)? = nil
    /// `Concrete Inputs` raw value (scalar arguments as strings: c10d send/recv peer and tag).
    var concreteInputs: (Int64, Int)? = nil
  }

  mutating func parseEvent(index: UInt32) throws {
    s.mark = s.pos
    if s.offset >= nextRelease {
      if s.offset >= nextReport {
        progress?(s.offset)
        nextReport = s.offset + (64 << 20)
      }
      nextRelease = s.offset + Self.releaseInterval
      if let limit = jsonLimit, s.offset > limit { throw memoryExceeded() }
      // Only this parser's part: pieces read other parts of the mapping side by side.
      releasedFrom = s.source.release(from: releasedFrom, to: s.mark)
    }
    guard try s.peek() == UInt8(ascii: "{") else { throw s.fail(expected: "an event object in traceEvents") }
    s.mark = s.pos
    let eventOffset = s.offset
    s.pos += 1
    var r = Raw()
    out.stats.eventCount += 1
    if try s.peek() != UInt8(ascii: "}") {
      repeat {
        switch try eventKey() {
        case .ph:
          let v = try stringField("ph", index, eventOffset)
          r.hasPh = true
          r.ph = v.length > 0 ? s.pointer(v)[0] : 0
        case .ts: r.ts = try timeField("ts", index, eventOffset)
        case .id: r.id = try idField(index, eventOffset)
        case .bp:
          _ = try stringField("bp", index, eventOffset)
        case .cat: r.cat = try stringField("cat", index, eventOffset)
        case .pid: r.pid = try traceIDField("pid", index, eventOffset)
        case .tid: r.tid = try traceIDField("tid", index, eventOffset)
        case .dur: r.dur = try timeField("dur", index, eventOffset)
        case .name: r.name = try stringField("name", index, eventOffset)
        case .args: try parseArgs(&r, index, eventOffset)
        case .other: try s.skipValue()
        }
      } while try s.commaOr(UInt8(ascii: "}"), "',' or '}' in event")
    } else {
      s.pos += 1
    }
    try finishEvent(&r, index: index, offset: eventOffset)
  }

  /// The event keys Reprise reads.
  enum EventKey { case ph, ts, id, bp, cat, pid, tid, dur, name, args, other }

  /// `"key":` as the little-endian word of its bytes (at most eight).
  static func word(_ key: StaticString) -> UInt64 {
    var w: UInt64 = 0
    for i in 0..<key.utf8CodeUnitCount { w |= UInt64(key.utf8Start[i]) << (8 * UInt64(i)) }
    return w
  }
  // The words of `"ph":` … `"args":`, written as literals: computed with `word` they would cost
  // a `swift_once` check per use in this loop (`keyWordsAreTheirKeys` checks them).
  static let keyPh: UInt64 = 0x3a_2268_7022, keyTs: UInt64 = 0x3a_2273_7422
  static let keyID: UInt64 = 0x3a_2264_6922, keyBp: UInt64 = 0x3a_2270_6222
  static let keyCat: UInt64 = 0x3a22_7461_6322, keyPid: UInt64 = 0x3a22_6469_7022
  static let keyTid: UInt64 = 0x3a22_6469_7422, keyDur: UInt64 = 0x3a22_7275_6422
  static let keyName: UInt64 = 0x3a_2265_6d61_6e22, keyArgs: UInt64 = 0x3a_2273_6772_6122

  /// Reads an event's key and the `:` after it. Keys written `"key":` (no escapes, no space
  /// before the colon, as every profiler writes them) are recognised from one 8-byte load;
  /// anything else goes through the general string reader.
  @inline(__always) mutating func eventKey() throws -> EventKey {
    if try s.peek() == UInt8(ascii: "\""), s.end - s.pos >= 8 {
      let w = UnsafeRawPointer(s.ptr + s.pos).loadUnaligned(as: UInt64.self)
      let (w5, w6, w7) = (w & 0xFF_FFFF_FFFF, w & 0xFFFF_FFFF_FFFF, w & 0xFF_FFFF_FFFF_FFFF)
      var found: (EventKey, Int)?
      switch UInt8(truncatingIfNeeded: w >> 8) {
      case UInt8(ascii: "p"): found = w5 == Self.keyPh ? (.ph, 5) : w6 == Self.keyPid ? (.pid, 6) : nil
      case UInt8(ascii: "t"): found = w5 == Self.keyTs ? (.ts, 5) : w6 == Self.keyTid ? (.tid, 6) : nil
      case UInt8(ascii: "i"): found = w5 == Self.keyID ? (.id, 5) : nil
      case UInt8(ascii: "b"): found = w5 == Self.keyBp ? (.bp, 5) : nil
      case UInt8(ascii: "c"): found = w6 == Self.keyCat ? (.cat, 6) : nil
      case UInt8(ascii: "d"): found = w6 == Self.keyDur ? (.dur, 6) : nil
      case UInt8(ascii: "n"): found = w7 == Self.keyName ? (.name, 7) : nil
      case UInt8(ascii: "a"): found = w7 == Self.keyArgs ? (.args, 7) : nil
      default: found = nil
      }
      if let (key, length) = found {
        s.pos += length
        return key
      }
    }
    let key = try s.parseString()
    try s.expect(UInt8(ascii: ":"), "':' after object key")
    if key.hasEscapes { return .other }
    let k = s.pointer(key)
    @inline(__always) func isKey(_ lit: StaticString) -> Bool {
      key.length == lit.utf8CodeUnitCount && ByteInterner.equal(k, lit.utf8Start, key.length)
    }
    switch key.length {
    case 2: return isKey("ph") ? .ph : isKey("ts") ? .ts : isKey("id") ? .id : isKey("bp") ? .bp : .other
    case 3: return isKey("cat") ? .cat : isKey("pid") ? .pid : isKey("tid") ? .tid : isKey("dur") ? .dur : .other
    case 4: return isKey("name") ? .name : isKey("args") ? .args : .other
    default: return .other
    }
  }
}

extension KinetoParser {
  /// The error for JSON read past `jsonLimit`: the memory its graph would need by now.
  func memoryExceeded() -> TraceImportError {
    .insufficientMemory(
      file: out.file, neededBytes: MemoryBudget.need(jsonBytes: s.offset),
      availableBytes: MemoryBudget.available() ?? 0, basis: .readSoFar(s.offset))
  }
}
