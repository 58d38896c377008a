/// Lowers a matrix expression to index form: `(AB)_ij = Σ_k A_ik B_kj`, `(Aᵀ)_ij = A_ji`,
/// `tr A = Σ_k A_kk`, `sum A = Σ_kl A_kl`, `diag(v)_ij = δ_ij v_i`, `I_ij = δ_ij`; every other
/// node (a variable, an inverse, an element-wise function, …) is an entry of an atom.
/// Summed indices are fresh (`k1`, `k2`, …), so terms can be multiplied without renaming.
struct Lowering {
  private var counter = 0

  /// A new summed index.
  mutating func fresh() -> String {
    counter += 1
    return "k\(counter)"
  }

  /// `e_{row,col}` as a sum of terms. An axis of size one takes no index (`nil`), so a 1×1
  /// term of a matrix sum broadcasts. `differential(M, r, c)` gives the terms of `d(M)_rc`
  /// where the expression holds `d(M)` (a differential rule's right side).
  ///
  /// `atom` marks subexpressions to keep whole (those a derivative does not reach), so the
  /// result stays as compact as the input: (A B)_ik, not Σ_s A_is B_sk.
  mutating func lower(
    _ e: Expr, _ row: String?, _ col: String?, atom: (Expr) -> Bool = { _ in false },
    differential: ((inout Lowering, Expr, String?, String?) throws -> [IndexTerm])? = nil
  ) throws -> [IndexTerm] {
    let row = e.shape.rows == .one ? nil : row
    let col = e.shape.cols == .one ? nil : col
    func entry(_ atom: Expr) throws -> [IndexTerm] {
      [IndexTerm(factors: [try Self.entry(atom, row, col)])]
    }
    func lower(_ e: Expr, _ row: String?, _ col: String?) throws -> [IndexTerm] {
      try self.lower(e, row, col, atom: atom, differential: differential)
    }
    switch e.node {
    case .add, .product, .chain, .hadamard, .call:
      // A constant factor comes out (−(Y⁻¹)_ik, not (−Y⁻¹)_ik).
      if atom(e) && e.coefficientAndBase.0 == 1 { return try entry(e) }
    default: break
    }
    switch e.node {
    case .constant(let c):  // a 1×1 constant, added to every entry of a matrix sum
      return c == 0 ? [] : [IndexTerm(coefficient: c)]
    case .zero: return []
    case .identity, .ones, .variable, .opaque, .gradient, .mapped, .power:
      return try entry(e)
    case .add(let terms):  // (A + B)_ij = A_ij + B_ij
      var result: [IndexTerm] = []
      for term in terms { result += try lower(term, row, col) }
      return result
    case .product(let a, let b):  // (s A)_ij = s A_ij
      return Self.product(
        try lower(a, row, col),
        try lower(b, row, col))
    case .chain(let factors):
      // (F₁ ⋯ Fₖ)_ij = Σ_{k₁…kₖ₋₁} (F₁)_ik₁ ⋯ (Fₖ)_kₖ₋₁j, no index where an inner dimension
      // is 1 (an outer product). Indices are drawn from the last join to the first. A leading
      // run the derivative does not reach stays one entry, as the left-nested product it
      // prints as: (A B)_ik X_kl, not Σ_s A_is B_sk X_kl.
      var start = 0  // the last factor of the leading run
      var run: Expr?
      if let reached = factors.firstIndex(where: { !atom($0) }), reached >= 2,
        let leading = try Expr.product(of: factors[..<reached]), atom(leading),
        leading.coefficientAndBase.0 == 1
      {
        start = reached - 1
        run = leading
      }
      var joins = [String?](repeating: nil, count: factors.count - 1)
      for join in joins.indices.reversed()
      where join >= start && factors[join].shape.cols != .one {
        joins[join] = fresh()
      }
      var terms =
        try run.map { [IndexTerm(factors: [try Self.entry($0, row, joins[start])])] }
        ?? lower(factors[0], row, joins[0])
      for (index, factor) in factors.enumerated().dropFirst(start + 1) {
        let next = index < joins.count ? joins[index] : col
        terms = Self.product(terms, try lower(factor, joins[index - 1], next))
        if let k = joins[index - 1] { for term in terms.indices { terms[term].summed.append(k) } }
      }
      return terms
    case .hadamard(let a, let b):  // (A ⊙ B)_ij = A_ij B_ij
      return Self.product(
        try lower(a, row, col),
        try lower(b, row, col))
    case .transpose(let a):  // (Aᵀ)_ij = A_ji
      return try lower(a, col, row)
    case .call(.trace, let a):  // tr A = Σ_k A_kk
      let k = fresh()
      return try lower(a, k, k).map { term in
        var term = term
        term.summed.append(k)
        return term
      }
    case .call(.sum, let a):  // sum A = Σ_kl A_kl
      let k = a.shape.rows == .one ? nil : fresh()
      let l = a.shape.cols == .one ? nil : fresh()
      return try lower(a, k, l).map { term in
        var term = term
        term.summed += [k, l].compactMap { $0 }
        return term
      }
    case .call(.diag, let v):  // diag(v)_ij = δ_ij v_i
      let delta = try lower(try Expr.identity(v.shape.rows), row, col)
      return Self.product(delta, try lower(v, row, nil))
    case .call(.diagonal, let a):  // diag(A)_i = A_ii
      return try lower(a, row, row)
    case .call:
      return try entry(e)
    case .differential(let m):
      guard let differential else {
        throw MatcalcError.internalError("d(\(m)) outside a differential rule")
      }
      return try differential(&self, m, row, col)
    }
  }

  /// `atom_{row,col}`; an entry whose two indices are one (A_kk) is read on the diagonal.
  static func entry(_ atom: Expr, _ row: String?, _ col: String?) throws -> IndexedTensor {
    if let row, row == col {
      if case .identity(let d) = atom.node {  // δ_kk = 1 for each k
        return IndexedTensor(expr: try Expr.ones(Shape(d, .one)), row: row, col: nil)
      }
      return IndexedTensor(expr: try Expr.call(.diagonal, atom), row: row, col: nil)
    }
    if case .identity = atom.node {
      return IndexedTensor(expr: atom, row: row, col: col, isDelta: row != nil && col != nil)
    }
    return IndexedTensor(expr: atom, row: row, col: col)
  }

  /// Every term of one sum times every term of the other.
  static func product(_ left: [IndexTerm], _ right: [IndexTerm]) -> [IndexTerm] {
    left.flatMap { a in right.map { b in a * b } }
  }
}
