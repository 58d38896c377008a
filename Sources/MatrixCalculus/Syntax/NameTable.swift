/// A dictionary from names to values, for the lookups the type checker and ``Problem`` make
/// at nearly every syntax node.
///
/// A problem has few names, and a `Dictionary` costs most where it is smallest: allocating
/// one seeds its hash from the allocation, and a `String` key is hashed with SipHash, whose
/// setup and finalization cost several times what the rest of a lookup does for a short
/// name. So up to ``linearLimit`` names sit in a list searched in order (comparing equal
/// short names is one word compare); past that they move to a dictionary whose keys are
/// hashed by ``NameHash`` (FNV-1a over the bytes of an ASCII name). Either way equal names
/// are equal keys, exactly as with `String`.
///
/// ```swift
/// var shapes = NameTable<Int>()
/// shapes["W"] = 3
/// shapes["W"]  // 3
/// ```
struct NameTable<Value> {
  /// The most names kept in the list.
  static var linearLimit: Int { 8 }

  /// The names while there are at most ``linearLimit`` of them (and `storage` is empty).
  private var few: [(name: String, value: Value)] = []
  /// The names once there were more.
  private var storage: [Key: Value] = [:]

  init() {}

  /// A table of the given entries; a later entry wins over an earlier one of the same name.
  init(_ entries: some Sequence<(String, Value)>) {
    for (name, value) in entries { self[name] = value }
  }

  /// The value of `name`, if any; assigning `nil` removes it.
  subscript(_ name: String) -> Value? {
    get {
      guard storage.isEmpty else { return storage[Key(name)] }
      return few.first(where: { $0.name == name })?.value
    }
    set {
      if let newValue {
        updateValue(newValue, forKey: name)
      } else if storage.isEmpty {
        if let index = few.firstIndex(where: { $0.name == name }) { few.remove(at: index) }
      } else {
        storage[Key(name)] = nil
      }
    }
  }

  /// Sets the value of `name` and returns the one it replaced, if any (one search for both).
  @discardableResult
  mutating func updateValue(_ value: Value, forKey name: String) -> Value? {
    guard storage.isEmpty else { return storage.updateValue(value, forKey: Key(name)) }
    if let index = few.firstIndex(where: { $0.name == name }) {
      let previous = few[index].value
      few[index].value = value
      return previous
    }
    if few.count < Self.linearLimit {
      if few.isEmpty { few.reserveCapacity(Self.linearLimit) }
      few.append((name, value))
    } else {
      for entry in few { storage[Key(entry.name)] = entry.value }
      storage[Key(name)] = value
      few = []
    }
    return nil
  }

  /// Number of names.
  var count: Int { storage.isEmpty ? few.count : storage.count }

  /// Whether the table has no names.
  var isEmpty: Bool { few.isEmpty && storage.isEmpty }

  /// The names with their values, in no particular order.
  var entries: [(name: String, value: Value)] {
    storage.isEmpty ? few : storage.map { ($0.key.name, $0.value) }
  }

  /// The values, in no particular order.
  var values: [Value] { storage.isEmpty ? few.map(\.value) : Array(storage.values) }

  /// A name as a dictionary key.
  private struct Key: Hashable {
    let name: String

    init(_ name: String) { self.name = name }

    static func == (a: Key, b: Key) -> Bool { a.name == b.name }

    func hash(into hasher: inout Hasher) { hasher.combine(name) }

    /// ``NameHash/hash(_:seed:)`` from the table's seed, then a multiply–xorshift so that the
    /// low bits a bucket index takes depend on every byte.
    func _rawHashValue(seed: Int) -> Int {
      var bits = NameHash.hash(name, seed: UInt64(UInt(bitPattern: seed)))
      bits = (bits ^ (bits >> 31)) &* 0x7fb5_d329_728e_a185
      return Int(truncatingIfNeeded: bits ^ (bits >> 33))
    }
  }
}

/// The hash of a name for the engine's own tables (names here, leaves of the expression pool).
enum NameHash {
  /// FNV-1a over the UTF-8 bytes when they are all ASCII, where equal names have equal bytes;
  /// otherwise the standard hash, since `String` equality is Unicode canonical equivalence
  /// (the same text in other bytes).
  static func hash(_ name: String, seed: UInt64) -> UInt64 {
    func fnv1a(_ bytes: some Sequence<UInt8>) -> (bits: UInt64, any: UInt8) {
      var bits: UInt64 = 0xcbf2_9ce4_8422_2325 ^ seed
      var any: UInt8 = 0
      for byte in bytes {
        bits = (bits ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        any |= byte
      }
      return (bits, any)
    }
    // In place (a short name is copied to the stack) rather than through the view's iterator.
    let (bits, any) = name.utf8.withContiguousStorageIfAvailable(fnv1a) ?? fnv1a(name.utf8)
    return any < 0x80 ? bits : UInt64(UInt(bitPattern: name.hashValue)) ^ seed
  }
}

extension NameTable: Sendable where Value: Sendable {}
