/// Union–find over dimension terms: each term is unknown or a fixed ``Dim``.
struct Unifier {
  struct Conflict: Error {
    let left: Dim
    let right: Dim
  }

  /// One term: its parent in the union–find forest, and its size if fixed (read at a root).
  private struct Term {
    var parent: Int
    var value: Dim?
  }

  /// The term for size 1, asked for at every scalar and vector: the first term, made with
  /// the unifier, so that asking for it is no lookup.
  static let one = 0

  private var terms: [Term]
  /// The terms of fixed sizes other than 1, by symbol and by number.
  private var symbolTerms = NameTable<Int>()
  private var sizeTerms: [Int: Int] = [:]

  init() {
    // A small problem has a few terms: room for them up front saves regrowing.
    terms = []
    terms.reserveCapacity(16)
    terms.append(Term(parent: Self.one, value: .one))
  }

  /// A new term, unknown unless `value` is given.
  mutating func fresh(_ value: Dim? = nil) -> Int {
    terms.append(Term(parent: terms.count, value: value))
    return terms.count - 1
  }

  mutating func fixed(_ dim: Dim) -> Int {
    switch dim {
    case .size(1): return Self.one
    case .size(let size):
      if let term = sizeTerms[size] { return term }
      let term = fresh(dim)
      sizeTerms[size] = term
      return term
    case .symbol(let symbol):
      if let term = symbolTerms[symbol] { return term }
      let term = fresh(dim)
      symbolTerms[symbol] = term
      return term
    }
  }

  func root(_ term: Int) -> Int {
    var current = term
    while terms[current].parent != current { current = terms[current].parent }
    return current
  }

  func value(_ term: Int) -> Dim? { terms[root(term)].value }

  /// Whether the term is known to be 1.
  func isOne(_ term: Int) -> Bool {
    if case .size(1)? = terms[root(term)].value { return true }
    return false
  }

  mutating func unify(_ a: Int, _ b: Int) throws {
    let ra = root(a)
    let rb = root(b)
    if ra == rb { return }
    if let x = terms[ra].value, let y = terms[rb].value, x != y {
      throw Conflict(left: x, right: y)
    }
    terms[rb].parent = ra
    if terms[ra].value == nil { terms[ra].value = terms[rb].value }
  }

  mutating func bind(_ term: Int, _ dim: Dim) throws {
    try unify(term, fixed(dim))
  }
}
