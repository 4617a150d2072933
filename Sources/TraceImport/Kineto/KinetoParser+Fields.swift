import TraceModel

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Reading one event's fields and `args`: typed values with errors that name the event, its
/// byte offset and the field.
extension KinetoParser {
  func loc(_ index: UInt32, _ offset: Int64, _ path: String? = nil) -> TraceLocation {
    TraceLocation(file: out.file, byteOffset: offset, eventIndex: Int(index), path: path)
  }

  mutating func describeValue() throws -> String {
    switch try s.peek() {
    case UInt8(ascii: "\""): "a string"
    case UInt8(ascii: "{"): "an object"
    case UInt8(ascii: "["): "an array"
    case UInt8(ascii: "t"), UInt8(ascii: "f"): "a boolean"
    case UInt8(ascii: "n"): "null"
    case nil: "end of input"
    case let b? where b == UInt8(ascii: "-") || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")): "a number"
    case UInt8(ascii: "N"), UInt8(ascii: "I"): "\(s.describeCurrent()) (NaN and Infinity are not JSON numbers)"
    default: s.describeCurrent()
    }
  }

  mutating func stringField(_ field: String, _ index: UInt32, _ offset: Int64) throws -> ByteSlice {
    guard try s.peek() == UInt8(ascii: "\"") else {
      let at = s.offset
      throw TraceImportError.wrongType(
        field: field, expected: "a string", found: try describeValue(), at: loc(index, at))
    }
    return try s.parseString()
  }

  mutating func timeField(_ field: String, _ index: UInt32, _ offset: Int64) throws -> Int64 {
    let b = try s.peek()
    guard let b, b == UInt8(ascii: "-") || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) else {
      let at = s.offset
      throw TraceImportError.wrongType(
        field: field, expected: "a number (microseconds)", found: try describeValue(), at: loc(index, at))
    }
    let at = s.offset
    let n = try s.parseNumber()
    guard let ns = s.nanoseconds(fromMicroseconds: n), abs(ns) <= KinetoParser.timeBound else {
      throw TraceImportError.malformed(
        loc(index, at), expected: "'\(field)' within ±\(KinetoParser.timeBoundText)", found: "an out-of-range number")
    }
    return ns
  }

  mutating func traceIDField(_ field: String, _ index: UInt32, _ offset: Int64) throws -> TraceID {
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
  mutating func idField(_ index: UInt32, _ offset: Int64) throws -> UInt64? {
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

  @inline(__always) mutating func intern(_ v: ByteSlice) -> Int32 {
    if !v.hasEscapes { return interner.intern(s.pointer(v), v.length) }
    return interner.intern(s.decodedBytes(v))
  }

  /// Reads an integer argument; other types are skipped (nil).
  mutating func intArg() throws -> Int64? {
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

  mutating func optionalString() throws -> ByteSlice? {
    if try s.peek() == UInt8(ascii: "\"") { return try s.parseString() }
    try s.skipValue()
    return nil
  }

  mutating func stringArg() throws -> Int32 {
    if try s.peek() == UInt8(ascii: "\"") { return intern(try s.parseString()) }
    let start = s.offset
    try s.skipValue()
    return interner.intern(s.ptr + Int(start - s.base), Int(s.offset - start))
  }

  mutating func parseArgs(_ r: inout Raw, _ index: UInt32, _ offset: Int64) throws {
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
      // `"External id":` and `"correlation":` (on nearly every event) from two loads.
      if try s.peek() == UInt8(ascii: "\""), s.end - s.pos >= 16 {
        let raw = UnsafeRawPointer(s.ptr + s.pos)
        let (a, b) = (
          raw.loadUnaligned(as: UInt64.self), raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self) & 0xFFFF_FFFF_FFFF
        )
        if a == Self.externalIDKey.0 && b == Self.externalIDKey.1 {
          s.pos += 14
          r.externalID = try intArg() ?? 0
          continue
        } else if a == Self.correlationKey.0 && b == Self.correlationKey.1 {
          s.pos += 14
          r.correlation = try intArg() ?? 0
          continue
        }
      }
      let key = try s.parseString()
      try s.expect(UInt8(ascii: ":"), "':' after object key")
      let k = s.pointer(key)
      let n = key.length
      @inline(__always) func isKey(_ lit: StaticString) -> Bool {
        n == lit.utf8CodeUnitCount && ByteInterner.equal(k, lit.utf8Start, n)
      }
      switch n {
      case 11 where isKey("correlation"): r.correlation = try intArg() ?? 0
      case 11 where isKey("External id"): r.externalID = try intArg() ?? 0
      case 4 where isKey("name"): r.argName = try optionalString()
      case 6 where isKey("labels"): r.argLabels = try optionalString()
      case 10 where isKey("Input Dims"): r.inputDims = try rawValueSpan()
      case 15 where isKey("Concrete Inputs"): r.concreteInputs = try rawValueSpan()
      case 10 where isKey("Input type"): r.inputType = try rawValueSpan()
      // Checked as integers but not kept: a kernel's stream is its `tid`, its device its `pid`.
      case 6 where isKey("stream") || isKey("device"): _ = try intArg()
      default:
        if try parseExtraArg(&r.extras, isKey) {
          r.hasExtras = true
        } else {
          try s.skipValue()
        }
      }
    } while try s.commaOr(UInt8(ascii: "}"), "',' or '}' in args")
  }

  /// A 14-byte `"key":` as two little-endian words (the second of six bytes).
  static func words(_ key: StaticString) -> (UInt64, UInt64) {
    var (a, b): (UInt64, UInt64) = (0, 0)
    for i in 0..<min(8, key.utf8CodeUnitCount) { a |= UInt64(key.utf8Start[i]) << (8 * UInt64(i)) }
    for i in 8..<key.utf8CodeUnitCount { b |= UInt64(key.utf8Start[i]) << (8 * UInt64(i - 8)) }
    return (a, b)
  }
  // Literals, as `keyPh` (`keyWordsAreTheirKeys` checks them against `words`).
  static let externalIDKey: (UInt64, UInt64) = (0x616e_7265_7478_4522, 0x3a22_6469_206c)
  static let correlationKey: (UInt64, UInt64) = (0x616c_6572_726f_6322, 0x3a22_6e6f_6974)

  /// The byte offset and length of the next value, left unparsed (shapes are read only when a
  /// model asks for them).
  @inline(__always) mutating func rawValueSpan() throws -> (Int64, Int) {
    _ = try s.peek()
    let start = s.offset
    try s.skipValue()
    return (start, Int(s.offset - start))
  }

  /// Reads the communication and memory arguments into `extras`; false when the key is
  /// none of them (the caller skips its value).
  @inline(__always) mutating func parseExtraArg(
    _ x: inout EventExtras, _ isKey: (StaticString) -> Bool
  ) throws -> Bool {
    if isKey("Collective name") {
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
}
