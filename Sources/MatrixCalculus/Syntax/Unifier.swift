/// Union–find over dimension terms: each term is unknown or a fixed ``Dim``.
struct Unifier {
  struct Conflict: Error {
    let left: Dim
    let right: Dim
  }

  private var parent: [Int] = []
  private var values: [Dim?] = []
  private var fixedTerms: [Dim: Int] = [:]
  /// The term for size 1, asked for at every scalar and vector (kept out of the dictionary).
  private var oneTerm: Int?

  mutating func fresh() -> Int {
    parent.append(parent.count)
    values.append(nil)
    return parent.count - 1
  }

  mutating func fixed(_ dim: Dim) -> Int {
    if dim == .one, let oneTerm { return oneTerm }
    if let term = fixedTerms[dim] { return term }
    let term = fresh()
    values[term] = dim
    fixedTerms[dim] = term
    if dim == .one { oneTerm = term }
    return term
  }

  func root(_ term: Int) -> Int {
    var current = term
    while parent[current] != current { current = parent[current] }
    return current
  }

  func value(_ term: Int) -> Dim? { values[root(term)] }

  mutating func unify(_ a: Int, _ b: Int) throws {
    let ra = root(a)
    let rb = root(b)
    if ra == rb { return }
    if let x = values[ra], let y = values[rb], x != y { throw Conflict(left: x, right: y) }
    parent[rb] = ra
    values[ra] = values[ra] ?? values[rb]
  }

  mutating func bind(_ term: Int, _ dim: Dim) throws {
    try unify(term, fixed(dim))
  }
}
