/// An optional property that a JSON contract writes as `null` when absent, rather than leaving
/// the key out (what synthesized `Codable` does with a plain optional).
///
/// Use it where readers expect every key to be there (report sections, CSV columns):
///
///     struct Summary: Codable {
///       @NullWhenAbsent var hardware: String?   // "hardware": null
///       var step: Int?                          // key left out when nil
///     }
@propertyWrapper
public struct NullWhenAbsent<Value: Codable & Sendable & Equatable>: Codable, Sendable, Equatable {
  public var wrappedValue: Value?

  public init(wrappedValue: Value?) { self.wrappedValue = wrappedValue }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.singleValueContainer()
    wrappedValue = container.decodeNil() ? nil : try container.decode(Value.self)
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    if let wrappedValue { try container.encode(wrappedValue) } else { try container.encodeNil() }
  }
}

extension KeyedDecodingContainer {
  /// A missing key decodes as an absent value, like a plain optional.
  public func decode<Value>(_ type: NullWhenAbsent<Value>.Type, forKey key: Key) throws -> NullWhenAbsent<Value> {
    try decodeIfPresent(type, forKey: key) ?? NullWhenAbsent(wrappedValue: nil)
  }
}
