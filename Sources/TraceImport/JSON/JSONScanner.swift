import TraceModel

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A string in the input, by absolute stream offset (of its first content byte) and length.
///
/// Valid while the scanner's window still holds it: from the scanner's `mark` onwards.
struct ByteSlice: Sendable {
  var offset: Int64
  var length: Int
  /// Whether the raw bytes contain backslash escapes or invalid UTF-8 (decode before use).
  var hasEscapes: Bool
  /// Whether the raw bytes hold invalid UTF-8, which decoding replaces with U+FFFD.
  var hasInvalidUTF8 = false
}

/// A JSON number as written, kept exact: sign, integer part, the first four fraction digits.
struct JSONNumber: Sendable {
  var negative = false
  var integer: UInt64 = 0
  /// More integer digits than fit in UInt64 (or than 19 digits).
  var integerOverflow = false
  /// First four fraction digits, zero-padded (".953" → 9530).
  var fraction4: UInt32 = 0
  var hasFraction = false
  var hasExponent = false
  var offset: Int64 = 0
  var length = 0

  var isInteger: Bool { !hasFraction && !hasExponent }

  /// The value as Int64 if it is an integer that fits.
  var int64: Int64? {
    guard isInteger, !integerOverflow else { return nil }
    if negative { return integer <= UInt64(Int64.max) + 1 ? Int64(truncatingIfNeeded: 0 &- integer) : nil }
    return integer <= UInt64(Int64.max) ? Int64(integer) : nil
  }
}

/// A streaming JSON tokenizer over a `ByteSource` window.
///
/// It validates as it goes (control characters, escapes, number syntax, nesting), reports
/// every problem as `file:@offset: expected …, found …`, and never builds a tree for large
/// inputs: callers pull strings, numbers and structure one token at a time and skip what they
/// do not need. Invalid UTF-8 in a string is kept: the string is marked (`hasInvalidUTF8`), its
/// bad bytes become U+FFFD when decoded, and it is counted in `invalidUTF8Strings`; valid input
/// never leaves the fast path for that. Positions (`pos`, `mark`) index the current window; absolute offsets are
/// `base + pos`. The caller sets `mark` to the start of the value it is decoding so that slices
/// into it survive refills.
struct JSONScanner {
  let source: ByteSource
  var ptr: UnsafeMutablePointer<UInt8>
  var end: Int
  var pos: Int = 0
  /// Absolute offset of `ptr[0]` (cached from the source).
  private(set) var base: Int64 = 0
  /// Whether the source has no more bytes beyond the window (cached from the source).
  private(set) var isExhausted: Bool
  /// Earliest window position the caller still needs.
  var mark: Int = 0
  /// Maximum nesting depth accepted in skipped values.
  static let maxDepth = 512
  /// Strings read so far that held invalid UTF-8 (replaced with U+FFFD when decoded).
  var invalidUTF8Strings = 0

  init(source: ByteSource) {
    self.source = source
    ptr = source.buffer
    end = source.count
    base = source.base
    isExhausted = source.isExhausted
  }

  var file: String { source.file }
  @inline(__always) var offset: Int64 { base + Int64(pos) }

  // MARK: Window management

  /// Makes at least one more byte available at `pos`; false at end of input.
  @inline(never)
  mutating func refill() throws -> Bool {
    if isExhausted { return pos < end }
    let shift = try source.refill(keepFrom: min(mark, pos))
    pos -= shift
    mark -= shift
    ptr = source.buffer
    end = source.count
    base = source.base
    isExhausted = source.isExhausted
    return pos < end
  }

  /// Makes `n` bytes available from `pos`; false if the input ends first.
  @inline(__always)
  mutating func ensure(_ n: Int) throws -> Bool {
    while end - pos < n {
      if isExhausted { return false }
      let before = end - pos
      _ = try refill()
      if end - pos == before && isExhausted { return false }
    }
    return true
  }

  // MARK: Errors

  func location(_ at: Int64? = nil) -> TraceLocation { TraceLocation(file: file, byteOffset: at ?? offset) }

  /// Describes the byte at `pos` (or end of input) for error messages.
  mutating func describeCurrent() -> String {
    guard (try? ensure(1)) == true else { return "end of input" }
    let b = ptr[pos]
    switch b {
    case 0x20...0x7e: return "'\(Character(Unicode.Scalar(b)))'"
    default: return "byte 0x" + String(b, radix: 16, uppercase: false)
    }
  }

  mutating func fail(expected: String) -> TraceImportError {
    .malformed(location(), expected: expected, found: describeCurrent())
  }

  // MARK: Tokens

  /// Skips whitespace and returns the next byte without consuming it; nil at end of input.
  @inline(__always)
  mutating func peek() throws -> UInt8? {
    while true {
      if pos >= end { if try !refill() { return nil } }
      let b = ptr[pos]
      if b == 0x20 || b == 0x0a || b == 0x0d || b == 0x09 {
        pos += 1
        continue
      }
      return b
    }
  }

  /// Consumes `byte` (after whitespace) or throws naming `what` was expected.
  @inline(__always)
  mutating func expect(_ byte: UInt8, _ what: String) throws {
    guard try peek() == byte else { throw fail(expected: what) }
    pos += 1
  }

  /// Consumes `,` and returns true, or consumes `close` and returns false.
  @inline(__always)
  mutating func commaOr(_ close: UInt8, _ what: String) throws -> Bool {
    let b = try peek()
    if b == UInt8(ascii: ",") {
      pos += 1
      return true
    }
    if b == close {
      pos += 1
      return false
    }
    throw fail(expected: what)
  }

  /// Parses a string starting at the next non-whitespace byte (which must be `"`).
  mutating func parseString() throws -> ByteSlice {
    guard try peek() == UInt8(ascii: "\"") else { throw fail(expected: "a string") }
    pos += 1
    let startOffset = offset
    var hasEscapes = false
    var hasInvalidUTF8 = false
    let quoteMask: UInt64 = 0x2222_2222_2222_2222
    let slashMask: UInt64 = 0x5C5C_5C5C_5C5C_5C5C
    let ones: UInt64 = 0x0101_0101_0101_0101
    let highs: UInt64 = 0x8080_8080_8080_8080
    while true {
      // Fast path: eight plain bytes at a time.
      while end - pos >= 8 {
        let w = UnsafeRawPointer(ptr + pos).loadUnaligned(as: UInt64.self)
        let q = w ^ quoteMask
        let s = w ^ slashMask
        let special = (((q &- ones) & ~q) | ((s &- ones) & ~s) | ((w &- (ones &* 0x20)) & ~w) | w) & highs
        if special != 0 {
          // The lowest flagged byte is exact (borrows only propagate upwards).
          pos += special.trailingZeroBitCount >> 3
          break
        }
        pos += 8
      }
      if pos >= end {
        if try !refill() { throw fail(expected: "closing '\"' of string") }
        continue
      }
      let b = ptr[pos]
      if b == UInt8(ascii: "\"") {
        let slice = ByteSlice(
          offset: startOffset, length: Int(offset - startOffset), hasEscapes: hasEscapes || hasInvalidUTF8,
          hasInvalidUTF8: hasInvalidUTF8)
        if hasInvalidUTF8 { invalidUTF8Strings += 1 }
        pos += 1
        return slice
      } else if b == UInt8(ascii: "\\") {
        hasEscapes = true
        guard try ensure(2) else {
          pos = end
          throw fail(expected: "escape sequence")
        }
        let e = ptr[pos + 1]
        switch e {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
          UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
          pos += 2
        case UInt8(ascii: "u"):
          guard try ensure(6) else {
            pos = end
            throw fail(expected: "four hex digits after \\u")
          }
          for i in 2..<6 where hexValue(ptr[pos + i]) == nil {
            pos += i
            throw fail(expected: "hex digit in \\u escape")
          }
          pos += 6
        default:
          pos += 1
          throw fail(expected: "valid escape character (\" \\ / b f n r t u)")
        }
      } else if b < 0x20 {
        throw fail(expected: "string character (control characters must be escaped)")
      } else if b < 0x80 {
        pos += 1
      } else if try !consumeUTF8Sequence() {
        hasInvalidUTF8 = true
      }
    }
  }

  /// Consumes one multi-byte UTF-8 sequence at `pos` and returns true when it is valid (RFC
  /// 3629); otherwise consumes its valid prefix, at least one byte (never a quote or backslash),
  /// and returns false.
  private mutating func consumeUTF8Sequence() throws -> Bool {
    let lead = ptr[pos]
    var need = 0
    var lo: UInt8 = 0x80
    var hi: UInt8 = 0xBF
    switch lead {
    case 0xC2...0xDF: need = 1
    case 0xE0:
      need = 2
      lo = 0xA0
    case 0xE1...0xEC, 0xEE...0xEF: need = 2
    case 0xED:
      need = 2
      hi = 0x9F
    case 0xF0:
      need = 3
      lo = 0x90
    case 0xF1...0xF3: need = 3
    case 0xF4:
      need = 3
      hi = 0x8F
    default:
      pos += 1
      return false
    }
    let available = try ensure(need + 1) ? need : end - pos - 1
    for i in stride(from: 1, through: available, by: 1) {
      let c = ptr[pos + i]
      let (l, h) = i == 1 ? (lo, hi) : (UInt8(0x80), UInt8(0xBF))
      if c < l || c > h {
        pos += i
        return false
      }
    }
    pos += available + 1
    return available == need
  }

  @inline(__always) func hexValue(_ b: UInt8) -> UInt32? {
    switch b {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(b - UInt8(ascii: "0"))
    case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(b - UInt8(ascii: "a") + 10)
    case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(b - UInt8(ascii: "A") + 10)
    default: nil
    }
  }

  /// Pointer to a slice's first byte (the slice must still be in the window).
  @inline(__always) func pointer(_ s: ByteSlice) -> UnsafeMutablePointer<UInt8> { ptr + Int(s.offset - base) }

  /// Whether the raw slice equals `literal` (no escapes).
  @inline(__always) func equals(_ s: ByteSlice, _ literal: StaticString) -> Bool {
    s.length == literal.utf8CodeUnitCount && !s.hasEscapes
      && ByteInterner.equal(pointer(s), literal.utf8Start, s.length)
  }

  /// The decoded bytes of a string slice (escapes resolved, invalid UTF-8 replaced by U+FFFD).
  func decodedBytes(_ s: ByteSlice) -> [UInt8] {
    let p = pointer(s)
    if !s.hasEscapes { return Array(UnsafeBufferPointer(start: p, count: s.length)) }
    if s.hasInvalidUTF8 {
      var escaped = s
      escaped.hasInvalidUTF8 = false
      return Array(String(decoding: decodedBytes(escaped), as: UTF8.self).utf8)
    }
    var out: [UInt8] = []
    out.reserveCapacity(s.length)
    var i = 0
    func hex4(_ at: Int) -> UInt32 {
      var v: UInt32 = 0
      for k in 0..<4 { v = v << 4 | (hexValue(p[at + k]) ?? 0) }
      return v
    }
    func appendScalar(_ v: UInt32) {
      let scalar = Unicode.Scalar(v) ?? "\u{FFFD}"
      out.append(contentsOf: Array(String(Character(scalar)).utf8))
    }
    while i < s.length {
      let b = p[i]
      if b != UInt8(ascii: "\\") {
        out.append(b)
        i += 1
        continue
      }
      let e = p[i + 1]
      i += 2
      switch e {
      case UInt8(ascii: "b"): out.append(0x08)
      case UInt8(ascii: "f"): out.append(0x0c)
      case UInt8(ascii: "n"): out.append(0x0a)
      case UInt8(ascii: "r"): out.append(0x0d)
      case UInt8(ascii: "t"): out.append(0x09)
      case UInt8(ascii: "u"):
        var v = hex4(i)
        i += 4
        if v >= 0xD800 && v < 0xDC00 && i + 6 <= s.length && p[i] == UInt8(ascii: "\\") && p[i + 1] == UInt8(ascii: "u")
        {
          let low = hex4(i + 2)
          if low >= 0xDC00 && low < 0xE000 {
            v = 0x10000 + ((v - 0xD800) << 10) + (low - 0xDC00)
            i += 6
          }
        }
        appendScalar(v)
      default: out.append(e)
      }
    }
    return out
  }

  /// The decoded string of a slice.
  func string(_ s: ByteSlice) -> String { String(decoding: decodedBytes(s), as: UTF8.self) }

  /// Parses a number at the next non-whitespace byte (JSON grammar, strictly).
  mutating func parseNumber() throws -> JSONNumber {
    _ = try peek()
    var n = JSONNumber()
    n.offset = offset
    let startPos = pos
    @inline(__always) func isDigit(_ b: UInt8) -> Bool { b &- UInt8(ascii: "0") < 10 }
    // Ensure the whole number is in the window (numbers are short; 64 bytes is plenty for real ones).
    _ = try ensure(64)
    var p = pos
    if p < end && ptr[p] == UInt8(ascii: "-") {
      n.negative = true
      p += 1
    }
    guard p < end, isDigit(ptr[p]) else {
      pos = p
      throw fail(expected: "a digit")
    }
    if ptr[p] == UInt8(ascii: "0") {
      p += 1
    } else {
      var digits = 0
      // Eight digits at a time while they fit in the first 16 (no overflow possible).
      while digits <= 8 && end - p >= 8 {
        let w = UnsafeRawPointer(ptr + p).loadUnaligned(as: UInt64.self)
        guard Self.isEightDigits(w) else { break }
        n.integer = n.integer &* 100_000_000 &+ Self.eightDigitsValue(w)
        digits += 8
        p += 8
      }
      while p < end && isDigit(ptr[p]) {
        let d = UInt64(ptr[p] &- UInt8(ascii: "0"))
        if digits < 19 {
          n.integer = n.integer &* 10 &+ d
        } else {
          let (m, o1) = n.integer.multipliedReportingOverflow(by: 10)
          let (a, o2) = m.addingReportingOverflow(d)
          if o1 || o2 || n.integerOverflow { n.integerOverflow = true } else { n.integer = a }
        }
        digits += 1
        p += 1
      }
    }
    if p < end && ptr[p] == UInt8(ascii: ".") {
      p += 1
      n.hasFraction = true
      guard p < end, isDigit(ptr[p]) else {
        pos = p
        throw fail(expected: "a digit after '.'")
      }
      var k = 0
      while p < end && isDigit(ptr[p]) {
        if k < 4 { n.fraction4 = n.fraction4 * 10 + UInt32(ptr[p] &- UInt8(ascii: "0")) }
        k += 1
        p += 1
      }
      while k < 4 {
        n.fraction4 *= 10
        k += 1
      }
    }
    if p < end && (ptr[p] == UInt8(ascii: "e") || ptr[p] == UInt8(ascii: "E")) {
      p += 1
      n.hasExponent = true
      if p < end && (ptr[p] == UInt8(ascii: "+") || ptr[p] == UInt8(ascii: "-")) { p += 1 }
      guard p < end, isDigit(ptr[p]) else {
        pos = p
        throw fail(expected: "a digit in exponent")
      }
      while p < end && isDigit(ptr[p]) { p += 1 }
    }
    if p == end && !isExhausted {
      pos = p
      throw fail(expected: "a number of at most 64 characters")
    }
    n.length = p - startPos
    pos = p
    return n
  }

  /// Whether the eight bytes of `w` (little-endian) are all ASCII digits (simdjson's
  /// `is_made_of_eight_digits_fast`, Lemire 2019).
  @inline(__always) static func isEightDigits(_ w: UInt64) -> Bool {
    ((w & 0xF0F0_F0F0_F0F0_F0F0) | (((w &+ 0x0606_0606_0606_0606) & 0xF0F0_F0F0_F0F0_F0F0) >> 4))
      == 0x3333_3333_3333_3333
  }

  /// The value of eight ASCII digits, the first in the lowest byte (simdjson's
  /// `parse_eight_digits_unrolled`: three multiply-shift steps).
  @inline(__always) static func eightDigitsValue(_ w: UInt64) -> UInt64 {
    var v = w & 0x0F0F_0F0F_0F0F_0F0F
    v = (v &* 2561) >> 8
    v = ((v & 0x00FF_00FF_00FF_00FF) &* 6_553_601) >> 16
    return ((v & 0x0000_FFFF_0000_FFFF) &* 42_949_672_960_001) >> 32
  }

  /// Skips a number, checking the JSON grammar but computing no value.
  mutating func skipNumber() throws {
    @inline(__always) func isDigit(_ b: UInt8) -> Bool { b &- UInt8(ascii: "0") < 10 }
    _ = try ensure(64)
    var p = pos
    if p < end && ptr[p] == UInt8(ascii: "-") { p += 1 }
    guard p < end, isDigit(ptr[p]) else {
      pos = p
      throw fail(expected: "a digit")
    }
    if ptr[p] == UInt8(ascii: "0") {
      p += 1
    } else {
      while end - p >= 8 && Self.isEightDigits(UnsafeRawPointer(ptr + p).loadUnaligned(as: UInt64.self)) { p += 8 }
      while p < end && isDigit(ptr[p]) { p += 1 }
    }
    if p < end && ptr[p] == UInt8(ascii: ".") {
      p += 1
      guard p < end, isDigit(ptr[p]) else {
        pos = p
        throw fail(expected: "a digit after '.'")
      }
      while p < end && isDigit(ptr[p]) { p += 1 }
    }
    if p < end && (ptr[p] == UInt8(ascii: "e") || ptr[p] == UInt8(ascii: "E")) {
      p += 1
      if p < end && (ptr[p] == UInt8(ascii: "+") || ptr[p] == UInt8(ascii: "-")) { p += 1 }
      guard p < end, isDigit(ptr[p]) else {
        pos = p
        throw fail(expected: "a digit in exponent")
      }
      while p < end && isDigit(ptr[p]) { p += 1 }
    }
    if p == end && !isExhausted {
      pos = p
      throw fail(expected: "a number of at most 64 characters")
    }
    pos = p
  }

  /// The number's value as Double (exact text through strtod). The number must still be in the window.
  func double(_ n: JSONNumber) -> Double {
    var buf = [CChar](repeating: 0, count: n.length + 1)
    let p = ptr + Int(n.offset - base)
    for i in 0..<n.length { buf[i] = CChar(bitPattern: p[i]) }
    return strtod(buf, nil)
  }

  /// Converts a microsecond value to integer nanoseconds, rounding half away from zero.
  ///
  /// Exact for decimal text without exponent (`1365627949863.953` → 1365627949863953);
  /// values with an exponent go through Double. Nil when out of Int64 range.
  func nanoseconds(fromMicroseconds n: JSONNumber) -> Int64? {
    if n.hasExponent || n.integerOverflow {
      let d = double(n) * 1000
      guard d.isFinite, abs(d) < 9.2e18 else { return nil }
      return Int64(d.rounded())
    }
    guard n.integer < 9_223_372_036_854_775 else { return nil }
    var ns = Int64(n.integer) * 1000 + Int64(n.fraction4 / 10)
    if n.fraction4 % 10 >= 5 { ns += 1 }
    return n.negative ? -ns : ns
  }

  // MARK: Skipping

  /// Skips one complete value of any type, validating it.
  ///
  /// Open containers are tracked in a bit stack (1 = object) without allocating for the
  /// first 64 levels.
  mutating func skipValue() throws {
    var depth = 0
    var bits: UInt64 = 0
    var deep: [Bool] = []
    @inline(__always) func isObject(_ depth: Int, _ bits: UInt64, _ deep: [Bool]) -> Bool {
      depth <= 64 ? (bits >> UInt64(depth - 1)) & 1 == 1 : deep[depth - 65]
    }
    while true {
      guard let b = try peek() else { throw fail(expected: "a value") }
      switch b {
      case UInt8(ascii: "{"):
        pos += 1
        if try peek() == UInt8(ascii: "}") {
          pos += 1
        } else {
          depth += 1
          if depth > Self.maxDepth { throw fail(expected: "nesting depth at most \(Self.maxDepth)") }
          if depth <= 64 { bits |= 1 << UInt64(depth - 1) } else { deep.append(true) }
          _ = try parseString()
          try expect(UInt8(ascii: ":"), "':' after object key")
          continue
        }
      case UInt8(ascii: "["):
        pos += 1
        if try peek() == UInt8(ascii: "]") {
          pos += 1
        } else {
          depth += 1
          if depth > Self.maxDepth { throw fail(expected: "nesting depth at most \(Self.maxDepth)") }
          if depth <= 64 { bits &= ~(1 << UInt64(depth - 1)) } else { deep.append(false) }
          continue
        }
      case UInt8(ascii: "\""): _ = try parseString()
      case UInt8(ascii: "t"): try literal("true")
      case UInt8(ascii: "f"): try literal("false")
      case UInt8(ascii: "n"): try literal("null")
      case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try skipNumber()
      default: throw fail(expected: "a value")
      }
      // After a complete value: close containers or move to the next element.
      while true {
        if depth == 0 { return }
        let object = isObject(depth, bits, deep)
        let close = object ? UInt8(ascii: "}") : UInt8(ascii: "]")
        if try commaOr(close, object ? "',' or '}'" : "',' or ']'") {
          if object {
            _ = try parseString()
            try expect(UInt8(ascii: ":"), "':' after object key")
          }
          break
        }
        if depth > 64 { deep.removeLast() }
        depth -= 1
      }
    }
  }

  /// Consumes a literal (`true`, `false`, `null`).
  mutating func literal(_ word: StaticString) throws {
    let n = word.utf8CodeUnitCount
    guard try ensure(n), memcmp(ptr + pos, word.utf8Start, n) == 0 else {
      throw fail(expected: "'\(word)'")
    }
    pos += n
  }
}
