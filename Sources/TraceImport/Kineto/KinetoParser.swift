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
  private var interner = ByteInterner()
  private var emptyString: Int32 = 0
  /// Per interned name: whether its `Input Dims` are kept (1), dropped (0), or not decided yet (-1).
  private var keepsShapes: [Int8] = []
  private var lastThreadKey = ThreadKey(pid: .missing, tid: .missing)
  private var lastThreadIndex: Int32 = -1
  private var threadIndex: [ThreadKey: Int32] = [:]
  private var openBegins:
    [Int32: [(name: Int32, cat: Int32, ts: Int64, index: UInt32, offset: Int64, extra: Int32, corr: Int64, ext: Int64)]] =
      [:]
  private var unsupportedPhases: [UInt8: Int] = [:]
  private var unmatchedEnds = 0
  private var phaseCounts = [Int](repeating: 0, count: 257)
  private var categoryCounts: [Int] = []
  private var sawTraceEvents = false
  private var progress: ((Int64) -> Void)?
  private var nextProgress: Int64 = 64 << 20

  init(source: ByteSource, progress: ((Int64) -> Void)? = nil) {
    s = JSONScanner(source: source)
    out = KinetoTrace(file: source.file)
    out.inputBytes = source.fileSize
    emptyString = interner.intern("")
    self.progress = progress
    // About one record per 300 bytes of JSON in real traces; grow from there.
    let expected = Int(min(source.isGzip ? source.fileSize * 8 : source.fileSize, 1 << 36) / 300)
    out.phase.reserveCapacity(expected)
    out.category.reserveCapacity(expected)
    out.name.reserveCapacity(expected)
    out.thread.reserveCapacity(expected)
    out.ts.reserveCapacity(expected)
    out.dur.reserveCapacity(expected)
    out.correlation.reserveCapacity(expected)
    out.externalID.reserveCapacity(expected)
    out.extra.reserveCapacity(expected)
    out.index.reserveCapacity(expected)
    out.offset.reserveCapacity(expected)
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

  private mutating func finish() {
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
    out.threads = threadIndex.sorted { $0.value < $1.value }.map(\.key)
  }

  // MARK: Events

  private mutating func parseEventArray() throws {
    sawTraceEvents = true
    try s.expect(UInt8(ascii: "["), "'[' starting the traceEvents array")
    if try s.peek() == UInt8(ascii: "]") {
      s.pos += 1
      return
    }
    var index: UInt32 = 0
    repeat {
      try parseEvent(index: index)
      index &+= 1
    } while try s.commaOr(UInt8(ascii: "]"), "',' or ']' in traceEvents")
  }

  private struct Raw {
    var ph: UInt8 = 0
    var hasPh = false
    var name: ByteSlice? = nil
    var cat: ByteSlice? = nil
    var pid = TraceID.missing
    var tid = TraceID.missing
    var ts: Int64? = nil
    var dur: Int64? = nil
    var id: UInt64? = nil
    var bindsEnclosing = false
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

  private mutating func parseEvent(index: UInt32) throws {
    s.mark = s.pos
    if s.offset >= nextProgress {
      progress?(s.offset)
      nextProgress = s.offset + (64 << 20)
      s.releaseConsumed()
    }
    guard try s.peek() == UInt8(ascii: "{") else { throw s.fail(expected: "an event object in traceEvents") }
    s.mark = s.pos
    let eventOffset = s.offset
    s.pos += 1
    var r = Raw()
    out.stats.eventCount += 1
    if try s.peek() != UInt8(ascii: "}") {
      repeat {
        let key = try s.parseString()
        try s.expect(UInt8(ascii: ":"), "':' after object key")
        let k = s.pointer(key)
        switch key.length {
        case 2:
          if k[0] == UInt8(ascii: "p") && k[1] == UInt8(ascii: "h") {
            let v = try stringField("ph", index, eventOffset)
            r.hasPh = true
            r.ph = v.length > 0 ? s.pointer(v)[0] : 0
          } else if k[0] == UInt8(ascii: "t") && k[1] == UInt8(ascii: "s") {
            r.ts = try timeField("ts", index, eventOffset)
          } else if k[0] == UInt8(ascii: "i") && k[1] == UInt8(ascii: "d") {
            r.id = try idField(index, eventOffset)
          } else if k[0] == UInt8(ascii: "b") && k[1] == UInt8(ascii: "p") {
            let v = try stringField("bp", index, eventOffset)
            r.bindsEnclosing = v.length == 1 && s.pointer(v)[0] == UInt8(ascii: "e")
          } else {
            try s.skipValue()
          }
        case 3:
          if memcmp(k, "cat", 3) == 0 {
            r.cat = try stringField("cat", index, eventOffset)
          } else if memcmp(k, "pid", 3) == 0 {
            r.pid = try traceIDField("pid", index, eventOffset)
          } else if memcmp(k, "tid", 3) == 0 {
            r.tid = try traceIDField("tid", index, eventOffset)
          } else if memcmp(k, "dur", 3) == 0 {
            r.dur = try timeField("dur", index, eventOffset)
          } else {
            try s.skipValue()
          }
        case 4:
          if memcmp(k, "name", 4) == 0 {
            r.name = try stringField("name", index, eventOffset)
          } else if memcmp(k, "args", 4) == 0 {
            try parseArgs(&r, index, eventOffset)
          } else {
            try s.skipValue()
          }
        default:
          try s.skipValue()
        }
      } while try s.commaOr(UInt8(ascii: "}"), "',' or '}' in event")
    } else {
      s.pos += 1
    }
    try finishEvent(&r, index: index, offset: eventOffset)
  }

  private func loc(_ index: UInt32, _ offset: Int64, _ path: String? = nil) -> TraceLocation {
    TraceLocation(file: out.file, byteOffset: offset, eventIndex: Int(index), path: path)
  }

  private mutating func describeValue() throws -> String {
    switch try s.peek() {
    case UInt8(ascii: "\""): "a string"
    case UInt8(ascii: "{"): "an object"
    case UInt8(ascii: "["): "an array"
    case UInt8(ascii: "t"), UInt8(ascii: "f"): "a boolean"
    case UInt8(ascii: "n"): "null"
    case nil: "end of input"
    default: "a number"
    }
  }

  private mutating func stringField(_ field: String, _ index: UInt32, _ offset: Int64) throws -> ByteSlice {
    guard try s.peek() == UInt8(ascii: "\"") else {
      let at = s.offset
      throw TraceImportError.wrongType(
        field: field, expected: "a string", found: try describeValue(), at: loc(index, at))
    }
    return try s.parseString()
  }

  private mutating func timeField(_ field: String, _ index: UInt32, _ offset: Int64) throws -> Int64 {
    let b = try s.peek()
    guard let b, b == UInt8(ascii: "-") || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) else {
      let at = s.offset
      throw TraceImportError.wrongType(
        field: field, expected: "a number (microseconds)", found: try describeValue(), at: loc(index, at))
    }
    let at = s.offset
    let n = try s.parseNumber()
    guard let ns = s.nanoseconds(fromMicroseconds: n) else {
      throw TraceImportError.malformed(
        loc(index, at), expected: "'\(field)' within ±9.2e12 s", found: "an out-of-range number")
    }
    return ns
  }

  private mutating func traceIDField(_ field: String, _ index: UInt32, _ offset: Int64) throws -> TraceID {
    let b = try s.peek()
    if b == UInt8(ascii: "\"") {
      let v = try s.parseString()
      return .string(intern(v))
    }
    guard let b, b == UInt8(ascii: "-") || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) else {
      let at = s.offset
      throw TraceImportError.wrongType(
        field: field, expected: "a number or string", found: try describeValue(), at: loc(index, at))
    }
    let at = s.offset
    let n = try s.parseNumber()
    guard let v = n.int64 else {
      throw TraceImportError.malformed(
        loc(index, at), expected: "an integer '\(field)'", found: "a non-integer or out-of-range number")
    }
    return .int(v)
  }

  /// Flow ids: numbers (any size) or strings (hashed).
  private mutating func idField(_ index: UInt32, _ offset: Int64) throws -> UInt64? {
    let b = try s.peek()
    if b == UInt8(ascii: "\"") {
      let v = try s.parseString()
      return ByteInterner.hash(s.pointer(v), v.length)
    }
    if let b, b == UInt8(ascii: "-") || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) {
      let n = try s.parseNumber()
      if n.integerOverflow || !n.isInteger { return UInt64(bitPattern: Int64(s.double(n).bitPattern)) }
      return n.negative ? UInt64(bitPattern: -Int64(truncatingIfNeeded: n.integer)) : n.integer
    }
    try s.skipValue()
    return nil
  }

  @inline(__always) private mutating func intern(_ v: ByteSlice) -> Int32 {
    if !v.hasEscapes { return interner.intern(s.pointer(v), v.length) }
    return interner.intern(s.decodedBytes(v))
  }

  /// Reads an integer argument; other types are skipped (nil).
  private mutating func intArg() throws -> Int64? {
    let b = try s.peek()
    if let b, b == UInt8(ascii: "-") || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) {
      let n = try s.parseNumber()
      if let v = n.int64 { return v }
      if !n.isInteger {
        let d = s.double(n)
        return d.isFinite && abs(d) < 9e18 ? Int64(d) : nil
      }
      return nil
    }
    if b == UInt8(ascii: "\"") {
      let v = try s.parseString()
      return Int64(s.string(v))
    }
    try s.skipValue()
    return nil
  }

  private mutating func optionalString() throws -> ByteSlice? {
    if try s.peek() == UInt8(ascii: "\"") { return try s.parseString() }
    try s.skipValue()
    return nil
  }

  private mutating func stringArg() throws -> Int32 {
    if try s.peek() == UInt8(ascii: "\"") { return intern(try s.parseString()) }
    let start = s.offset
    try s.skipValue()
    return interner.intern(s.ptr + Int(start - s.base), Int(s.offset - start))
  }

  private mutating func parseArgs(_ r: inout Raw, _ index: UInt32, _ offset: Int64) throws {
    guard try s.peek() == UInt8(ascii: "{") else {
      let at = s.offset
      throw TraceImportError.wrongType(
        field: "args", expected: "an object", found: try describeValue(), at: loc(index, at))
    }
    s.pos += 1
    if try s.peek() == UInt8(ascii: "}") {
      s.pos += 1
      return
    }
    repeat {
      let key = try s.parseString()
      try s.expect(UInt8(ascii: ":"), "':' after object key")
      let k = s.pointer(key)
      let n = key.length
      @inline(__always) func isKey(_ lit: StaticString) -> Bool {
        n == lit.utf8CodeUnitCount && memcmp(k, lit.utf8Start, n) == 0
      }
      switch n {
      case 11 where isKey("correlation"): r.correlation = try intArg() ?? 0
      case 11 where isKey("External id"): r.externalID = try intArg() ?? 0
      case 4 where isKey("name"): r.argName = try optionalString()
      case 6 where isKey("labels"): r.argLabels = try optionalString()
      case 10 where isKey("Input Dims"): r.inputDims = try rawValueSpan()
      case 15 where isKey("Concrete Inputs"): r.concreteInputs = try rawValueSpan()
      case 10 where isKey("Input type"): r.inputType = try rawValueSpan()
      default:
        if try parseExtraArg(&r.extras, isKey) {
          r.hasExtras = true
        } else {
          try s.skipValue()
        }
      }
    } while try s.commaOr(UInt8(ascii: "}"), "',' or '}' in args")
  }

  /// The byte offset and length of the next value, left unparsed (shapes are read only when a
  /// model asks for them).
  @inline(__always) private mutating func rawValueSpan() throws -> (Int64, Int) {
    _ = try s.peek()
    let start = s.offset
    try s.skipValue()
    return (start, Int(s.offset - start))
  }

  /// Reads the communication, memory and stream arguments into `extras`; false when the key is
  /// none of them (the caller skips its value).
  @inline(__always) private mutating func parseExtraArg(
    _ x: inout EventExtras, _ isKey: (StaticString) -> Bool
  ) throws -> Bool {
    if isKey("stream") {
      x.stream = try intArg()
    } else if isKey("device") {
      x.device = try intArg()
    } else if isKey("Collective name") {
      x.collectiveName = try stringArg()
    } else if isKey("In msg nelems") {
      x.inMsgNelems = try intArg()
    } else if isKey("Out msg nelems") {
      x.outMsgNelems = try intArg()
    } else if isKey("Group size") {
      x.groupSize = try intArg()
    } else if isKey("dtype") {
      x.dtype = try stringArg()
    } else if isKey("Process Group Name") {
      x.processGroupName = try stringArg()
    } else if isKey("Process Group Ranks") {
      x.processGroupRanks = try stringArg()
    } else if isKey("Process Group Description") {
      x.processGroupDescription = try stringArg()
    } else if isKey("bytes") || isKey("size") {
      x.bytes = try intArg()
    } else if isKey("Bytes") {
      x.memoryBytes = try intArg()
    } else if isKey("Total Allocated") {
      x.totalAllocated = try intArg()
    } else if isKey("Total Reserved") {
      x.totalReserved = try intArg()
    } else if isKey("Device Id") {
      x.deviceID = try intArg()
    } else if isKey("direction") {
      x.direction = try stringArg()
    } else if isKey("Seq") || isKey("seq") {
      x.sequence = try intArg()
    } else if isKey("peer") || isKey("dst") || isKey("src") || isKey("Dst rank") || isKey("Src rank") {
      x.peer = try intArg()
    } else {
      return false
    }
    return true
  }

  // MARK: Records

  private mutating func threadFor(_ pid: TraceID, _ tid: TraceID) -> Int32 {
    let key = ThreadKey(pid: pid, tid: tid)
    if key == lastThreadKey { return lastThreadIndex }
    let idx: Int32
    if let i = threadIndex[key] {
      idx = i
    } else {
      idx = Int32(threadIndex.count)
      threadIndex[key] = idx
    }
    lastThreadKey = key
    lastThreadIndex = idx
    return idx
  }

  private mutating func countCategory(_ cat: Int32) {
    let c = Int(cat)
    if c >= categoryCounts.count {
      categoryCounts.append(contentsOf: repeatElement(0, count: c + 1 - categoryCounts.count))
    }
    categoryCounts[c] += 1
  }

  private mutating func finishEvent(_ r: inout Raw, index: UInt32, offset: Int64) throws {
    phaseCounts[r.hasPh ? Int(r.ph) : 256] += 1
    let cat = r.cat.map { intern($0) } ?? emptyString
    if r.cat != nil { countCategory(cat) }
    if let d = r.dur { out.stats.durationSumNs &+= d }
    guard r.hasPh else { throw TraceImportError.missingField("ph", at: loc(index, offset)) }
    let ph = r.ph
    if ph == UInt8(ascii: "M") {
      try metadata(r, index: index, offset: offset)
      return
    }
    guard let ts = r.ts else { throw TraceImportError.missingField("ts", at: loc(index, offset)) }
    let thread = threadFor(r.pid, r.tid)
    switch ph {
    case UInt8(ascii: "X"), UInt8(ascii: "i"), UInt8(ascii: "I"), UInt8(ascii: "C"):
      var dur: Int64 = 0
      if ph == UInt8(ascii: "X") {
        guard let d = r.dur else { throw TraceImportError.missingField("dur", at: loc(index, offset)) }
        dur = d
        if d < 0 {
          out.diagnostics.warning(
            "kineto.negativeDuration", "negative 'dur' \(d) ns clamped to 0", at: loc(index, offset))
          dur = 0
        }
      }
      let name = r.name.map { intern($0) } ?? emptyString
      appendRecord(ph, cat, name, thread, ts, dur, &r, index, offset)
    case UInt8(ascii: "B"):
      let name = r.name.map { intern($0) } ?? emptyString
      let extra = storeExtras(&r, name: name)
      openBegins[thread, default: []].append((name, cat, ts, index, offset, extra, r.correlation, r.externalID))
    case UInt8(ascii: "E"):
      guard var stack = openBegins[thread], let b = stack.popLast() else {
        unmatchedEnds += 1
        return
      }
      openBegins[thread] = stack
      appendRaw(
        UInt8(ascii: "X"), b.cat, b.name, thread, b.ts, max(0, ts - b.ts), b.corr, b.ext, b.extra, b.index, b.offset)
    case UInt8(ascii: "s"), UInt8(ascii: "t"), UInt8(ascii: "f"):
      guard let id = r.id else {
        out.diagnostics.dataLoss("kineto.flowWithoutId", "flow event without 'id' ignored", at: loc(index, offset))
        return
      }
      out.flows.append(
        FlowRecord(phase: ph, id: id, category: cat, ts: ts, thread: thread, bindsEnclosing: r.bindsEnclosing))
    default:
      unsupportedPhases[ph, default: 0] += 1
    }
  }

  /// Whether a name belongs to a communication op whose `Input Dims` give message sizes.
  private func isCommName(_ slice: ByteSlice?) -> Bool {
    guard let slice, slice.length >= 5 else { return false }
    let p = s.pointer(slice)
    switch p[0] {
    case UInt8(ascii: "n"), UInt8(ascii: "g"), UInt8(ascii: "c"), UInt8(ascii: "r"), UInt8(ascii: "m"),
      UInt8(ascii: "h"), UInt8(ascii: "u"), UInt8(ascii: "x"):
      let n = min(slice.length, 18)
      let head = String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self)
      return head.hasPrefix("nccl:") || head.hasPrefix("gloo:") || head.hasPrefix("c10d::")
        || head.hasPrefix("record_param_comms") || head.hasPrefix("rccl:") || head.hasPrefix("mtia:")
        || head.hasPrefix("hccl:") || head.hasPrefix("ucc:") || head.hasPrefix("xccl:")
    default:
      return false
    }
  }

  /// Shapes are kept for communication ops (message sizes) and for the aten ops whose FLOPs and
  /// bytes the roofline can derive (`OpShapes.isSizable`), decided once per distinct name.
  private mutating func keepShapes(_ name: Int32, _ slice: ByteSlice?) -> Bool {
    let i = Int(name)
    if i >= keepsShapes.count { keepsShapes.append(contentsOf: repeatElement(-1, count: i + 1 - keepsShapes.count)) }
    if keepsShapes[i] < 0 {
      let text = slice.map { s.string($0) } ?? ""
      keepsShapes[i] = (isCommName(slice) || OpShapes.isSizable(text)) ? 1 : 0
    }
    return keepsShapes[i] == 1
  }

  /// Stores the event's extras; returns their index or -1. Events whose only extras are
  /// shapes (most sized aten ops) go to the compact `shapes` table instead, keyed by
  /// `recordIndex` (the index the record will get), when that is known.
  private mutating func storeExtras(_ r: inout Raw, name: Int32, recordIndex: Int? = nil) -> Int32 {
    if r.inputDims != nil && !keepShapes(name, r.name) {
      r.inputDims = nil
      r.inputType = nil
    }
    var dims: Int32 = -1
    var types: Int32 = -1
    if let (start, len) = r.concreteInputs, isCommName(r.name) {
      r.extras.concreteInputs = interner.intern(s.ptr + Int(start - s.base), len)
      r.hasExtras = true
    }
    if let (start, len) = r.inputDims { dims = interner.intern(s.ptr + Int(start - s.base), len) }
    if let (start, len) = r.inputType { types = interner.intern(s.ptr + Int(start - s.base), len) }
    if !r.hasExtras, dims >= 0, let recordIndex, !isCommName(r.name) {
      out.shapes.append(ShapeRecord(record: UInt32(recordIndex), dims: dims, types: types))
      return -1
    }
    if dims >= 0 {
      r.extras.inputDims = dims
      r.hasExtras = true
    }
    if types >= 0 {
      r.extras.inputType = types
      r.hasExtras = true
    }
    guard r.hasExtras else { return -1 }
    out.extras.append(r.extras)
    return Int32(out.extras.count - 1)
  }

  private mutating func appendRecord(
    _ ph: UInt8, _ cat: Int32, _ name: Int32, _ thread: Int32, _ ts: Int64, _ dur: Int64,
    _ r: inout Raw, _ index: UInt32, _ offset: Int64
  ) {
    let extra = storeExtras(&r, name: name, recordIndex: out.phase.count)
    appendRaw(ph, cat, name, thread, ts, dur, r.correlation, r.externalID, extra, index, offset)
  }

  @inline(__always)
  private mutating func appendRaw(
    _ ph: UInt8, _ cat: Int32, _ name: Int32, _ thread: Int32, _ ts: Int64, _ dur: Int64,
    _ corr: Int64, _ ext: Int64, _ extra: Int32, _ index: UInt32, _ offset: Int64
  ) {
    out.phase.append(ph)
    out.category.append(cat)
    out.name.append(name)
    out.thread.append(thread)
    out.ts.append(ts)
    out.dur.append(dur)
    out.correlation.append(corr)
    out.externalID.append(ext)
    out.extra.append(extra)
    out.index.append(index)
    out.offset.append(offset)
  }

  private mutating func metadata(_ r: Raw, index: UInt32, offset: Int64) throws {
    guard let nameSlice = r.name else { return }
    if s.equals(nameSlice, "process_name"), let v = r.argName {
      out.processNames[r.pid] = s.string(v)
    } else if s.equals(nameSlice, "process_labels"), let v = r.argLabels {
      out.processLabels[r.pid] = s.string(v)
    } else if s.equals(nameSlice, "thread_name"), let v = r.argName {
      out.threadNames[ThreadKey(pid: r.pid, tid: r.tid)] = s.string(v)
    }
  }
}
