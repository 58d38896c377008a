/// Reads off the matrix M of an expression that is linear in a column vector u: E = M u for
/// a column E, Eᵀ = M u for a row, E = M u (M a row) for a scalar.
///
/// Reverse accumulation seeded with a symbolic u gives Jᵀ u for a vector function; its
/// coefficient is Jᵀ. The cases follow the canonical forms the simplifier leaves (transposes
/// on leaves, scalars in front, flat product chains); anything else is reported, not
/// guessed.
struct LinearForm {
  let u: Expr
  private var occurrence: Occurrence

  init(of u: Expr) {
    self.u = u
    occurrence = Occurrence(of: u)
  }

  private mutating func contains(_ e: Expr) -> Bool { occurrence.isIn(e) }

  private var p: Dim { u.shape.rows }

  /// The coefficient, or `nil` when E is not linear in u in a recognised form.
  mutating func coefficient(_ e: Expr) throws -> Expr? {
    let rows = e.isScalar ? Dim.one : (e.shape.cols == .one ? e.shape.rows : e.shape.cols)
    if !contains(e) { return try Expr.zero(Shape(rows, p)) }
    if e.shape.rows != .one && e.shape.cols != .one { return nil }  // a matrix: not here
    switch e.node {
    case .variable: return e == u ? try Expr.identity(p) : nil
    case .transpose(let a): return try coefficient(a)
    case .add(let terms):
      var parts: [Expr] = []
      for term in terms {
        guard let part = try coefficient(term) else { return nil }
        // A 1×1 term broadcast over a vector adds 𝟏 (its row) to every row.
        parts.append(term.isScalar && !e.isScalar ? try Expr.ones(Shape(rows, .one)) * part : part)
      }
      return try Expr.add(parts)
    case .product(let a, let b):
      let (s, v) = a.isScalar ? (a, b) : (b, a)
      if !contains(s) { return try coefficient(v).map { try s * $0 } }
      if contains(v) { return nil }  // quadratic in u
      guard let ms = try coefficient(s) else { return nil }
      return v.shape.rows == .one && !v.isScalar ? try Expr.transpose(v) * ms : try v * ms
    case .chain:
      return try chainCoefficient(e)
    case .hadamard(let a, let b):
      if contains(a) && contains(b) { return nil }
      let (free, linear) = contains(a) ? (b, a) : (a, b)
      guard let m = try coefficient(linear) else { return nil }
      let column = free.shape.rows == .one ? try Expr.transpose(free) : free
      return try Expr.call(.diag, column) * m
    case .call(.sum, let a) where a.shape.cols == .one || a.shape.rows == .one:
      guard let m = try coefficient(a) else { return nil }
      let length = a.shape.cols == .one ? a.shape.rows : a.shape.cols
      return try Expr.transpose(try Expr.ones(Shape(length, .one))) * m
    default:
      return nil
    }
  }

  /// E = L fᵢ R with u in the one factor fᵢ.
  private mutating func chainCoefficient(_ e: Expr) throws -> Expr? {
    let factors = e.matrixFactors
    let holders = factors.indices.filter { contains(factors[$0]) }
    guard holders.count == 1, let index = holders.first else { return nil }
    let f = factors[index]
    let left = try Expr.product(of: factors[..<index])
    let right = try Expr.product(of: factors[(index + 1)...])
    if e.shape.rows == .one && !e.isScalar {
      // A row: work with its transpose, a column.
      guard let transposed = try Expr.transposedChain(factors) else { return nil }
      return try coefficient(transposed)
    }
    if f.shape.cols == .one {  // f a column: E = L f (R is empty for a column E or a scalar)
      guard right == nil, let m = try coefficient(f) else { return nil }
      return try left.map { try $0 * m } ?? m
    }
    if f.shape.rows == .one {  // f a row (f = (M u)ᵀ): E = L f R, f R = Rᵀ M u
      guard let r = right, let m = try coefficient(f) else { return nil }
      let inner = try Expr.transpose(r) * m
      return try left.map { try $0 * inner } ?? inner
    }
    if case .call(.diag, let w) = f.node, let r = right, let m = try coefficient(w) {
      // diag(w) R = diag(R) w for a column R; L diag(w) R = (Lᵀ ⊙ R)ᵀ w for a row L.
      guard r.shape.cols == .one else { return nil }
      if let l = left, l.shape.rows == .one {
        return try Expr.transpose(try Expr.hadamard(try Expr.transpose(l), r)) * m
      }
      let inner = try Expr.call(.diag, r) * m
      return try left.map { try $0 * inner } ?? inner
    }
    return nil
  }
}
