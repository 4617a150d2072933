/// Interned strings: each distinct string is stored once and named by a `NameID`.
///
/// Invariant: `strings[0] == ""`, and `strings` holds no duplicates.
public struct StringTable: Sendable, Equatable {
  public private(set) var strings: [String] = [""]
  private var index: [String: NameID] = ["": .empty]

  public init() {}

  /// Returns the id of `string`, interning it first if needed.
  public mutating func intern(_ string: String) -> NameID {
    if let id = index[string] { return id }
    let id = NameID(rawValue: UInt32(strings.count))
    strings.append(string)
    index[string] = id
    return id
  }

  /// The id of `string` if it was interned.
  public func lookup(_ string: String) -> NameID? { index[string] }

  public subscript(id: NameID) -> String { strings[id.index] }
  public var count: Int { strings.count }

  public static func == (l: Self, r: Self) -> Bool { l.strings == r.strings }
}

extension StringTable {
  /// The table of `strings` in this order (a stored table read back), or nil when `strings` does
  /// not start with "" or holds a string twice.
  public init?(ordered strings: [String]) {
    guard strings.first == "" else { return nil }
    self.init()
    for s in strings.dropFirst() {
      let before = count
      _ = intern(s)
      if count == before { return nil }
    }
  }
}
