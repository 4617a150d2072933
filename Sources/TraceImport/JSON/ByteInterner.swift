import TraceModel

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Interns byte strings without creating a Swift `String` per occurrence.
///
/// Open addressing over a power-of-two table, hashing eight bytes at a time. Ids are dense
/// from 0 in first-seen order; `makeStringTable()` turns them into a `StringTable` whose
/// `NameID`s equal the ids here plus one (id 0 of a `StringTable` is the empty string).
struct ByteInterner {
  private var arena: [UInt8] = []
  private var starts: [Int] = []
  private var lengths: [Int32] = []
  private var hashes: [UInt64] = []
  private var table: [Int32] = Array(repeating: -1, count: 1024)
  private var mask = 1023

  var count: Int { starts.count }

  init() { arena.reserveCapacity(1 << 16) }

  /// Whether `n` bytes at `a` and `b` are equal: eight bytes at a time, inlined (a `memcmp`
  /// call costs more than the comparison for the short names and keys of a trace).
  @inline(__always) static func equal(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ n: Int) -> Bool {
    var i = 0
    while i + 8 <= n {
      if UnsafeRawPointer(a + i).loadUnaligned(as: UInt64.self)
        != UnsafeRawPointer(b + i).loadUnaligned(as: UInt64.self)
      {
        return false
      }
      i += 8
    }
    while i < n {
      if a[i] != b[i] { return false }
      i += 1
    }
    return true
  }

  @inline(__always) static func hash(_ p: UnsafePointer<UInt8>, _ n: Int) -> UInt64 {
    var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(n)
    var i = 0
    let raw = UnsafeRawPointer(p)
    while i + 8 <= n {
      h = (h ^ raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0xFF51_AFD7_ED55_8CCD
      h ^= h >> 32
      i += 8
    }
    var tail: UInt64 = 0
    var shift: UInt64 = 0
    while i < n {
      tail |= UInt64(p[i]) << shift
      shift += 8
      i += 1
    }
    h = (h ^ tail) &* 0xC4CE_B9FE_1A85_EC53
    h ^= h >> 29
    return h
  }

  /// The id of the `n` bytes at `p`, interning them if new.
  mutating func intern(_ p: UnsafePointer<UInt8>, _ n: Int) -> Int32 {
    let h = Self.hash(p, n)
    var slot = Int(truncatingIfNeeded: h) & mask
    while true {
      let id = table[slot]
      if id < 0 { break }
      if hashes[Int(id)] == h && lengths[Int(id)] == Int32(n) {
        let same = arena.withUnsafeBufferPointer { a in
          // An arena without storage holds only empty strings.
          guard let base = a.baseAddress else { return n == 0 }
          return ByteInterner.equal(base + starts[Int(id)], p, n)
        }
        if same { return id }
      }
      slot = (slot + 1) & mask
    }
    let id = Int32(starts.count)
    starts.append(arena.count)
    arena.append(contentsOf: UnsafeBufferPointer(start: p, count: n))
    lengths.append(Int32(n))
    hashes.append(h)
    table[slot] = id
    if starts.count * 2 > table.count { grow() }
    return id
  }

  mutating func intern(_ bytes: [UInt8]) -> Int32 {
    bytes.withUnsafeBufferPointer { b in
      if let base = b.baseAddress { return intern(base, b.count) }
      // An empty array may have no storage; zero bytes can be read at any valid address.
      let zero: UInt8 = 0
      return withUnsafePointer(to: zero) { intern($0, 0) }
    }
  }

  mutating func intern(_ s: String) -> Int32 { intern(Array(s.utf8)) }

  private mutating func grow() {
    let size = table.count * 2
    table = Array(repeating: -1, count: size)
    mask = size - 1
    for id in 0..<starts.count {
      var slot = Int(truncatingIfNeeded: hashes[id]) & mask
      while table[slot] >= 0 { slot = (slot + 1) & mask }
      table[slot] = Int32(id)
    }
  }

  /// The string for `id`.
  func string(_ id: Int32) -> String {
    let s = starts[Int(id)]
    let n = Int(lengths[Int(id)])
    return String(decoding: arena[s..<(s + n)], as: UTF8.self)
  }

  /// The bytes of `id`.
  func bytes(_ id: Int32) -> ArraySlice<UInt8> {
    let s = starts[Int(id)]
    return arena[s..<(s + Int(lengths[Int(id)]))]
  }

  /// All strings in id order.
  func allStrings() -> [String] { (0..<starts.count).map { string(Int32($0)) } }
}
