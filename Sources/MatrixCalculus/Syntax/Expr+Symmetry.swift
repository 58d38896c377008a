/// Symmetry proved by construction: `Sᵀ = S` follows from the form of the expression alone,
/// for every value of its inputs (never from samples).
extension Expr {
  /// Whether the expression equals its transpose for every value of its inputs: scalars,
  /// identities, diagonal matrices, names declared or defined symmetric, and what is built from
  /// symmetric parts: `S⁻¹`, `S ⊙ T`, `f(S)` entry by entry, `c S`, sums whose non-symmetric
  /// terms come in transposed pairs with equal coefficients (`S + Sᵀ`), and palindromic
  /// products `F₁ ⋯ Fₖ` with `Fᵢ = Fₖ₊₁₋ᵢᵀ` and a symmetric middle (`A Aᵀ`, `XᵀX`, `X D Xᵀ`).
  ///
  /// ```swift
  /// // K = A Aᵀ + s I, with A : matrix(n, m) and s : scalar
  /// K.isSymmetric  // true
  /// ```
  var isSymmetric: Bool {
    if isScalar { return true }
    guard shape.isSquare else { return false }
    switch node {
    case .variable(_, _, let symmetric): return symmetric
    case .constant, .identity, .ones, .zero: return true
    case .call(.diag, _): return true  // diag(x)_ij = δ_ij x_i
    case .call(.inverse, let a): return a.isSymmetric  // (S⁻¹)ᵀ = (Sᵀ)⁻¹
    case .call(let function, let a): return function.isElementwise && a.isSymmetric
    case .mapped(_, _, let a), .transpose(let a): return a.isSymmetric
    case .hadamard(let a, let b): return a.isSymmetric && b.isSymmetric
    case .power(let a, _): return a.isSymmetric  // element-wise, the exponent 1×1
    case .product(let a, let b): return (a.isScalar ? b : a).isSymmetric  // a scaling
    case .chain(let factors): return Self.isPalindrome(factors)
    case .add(let terms): return Self.isClosedUnderTranspose(terms)
    case .opaque, .gradient, .differential: return false
    }
  }

  /// `(F₁ ⋯ Fₖ)ᵀ = Fₖᵀ ⋯ F₁ᵀ`, which is the same chain when `Fᵢ = Fₖ₊₁₋ᵢᵀ` for every i (the
  /// middle factor of an odd chain symmetric).
  private static func isPalindrome(_ factors: [Expr]) -> Bool {
    var (left, right) = (0, factors.count - 1)
    while left < right {
      guard factors[left].isTranspose(of: factors[right]) else { return false }
      left += 1
      right -= 1
    }
    return left > right || factors[left].isSymmetric
  }

  /// `Σ cᵢ Tᵢ` is symmetric when each term is, or is `c Tᵀ` of another term `c T`.
  private static func isClosedUnderTranspose(_ terms: [Expr]) -> Bool {
    let split = terms.map(\.coefficientAndBase)
    return split.allSatisfy { coefficient, base in
      base.isSymmetric
        || split.contains { $0.0 == coefficient && $0.1.isTranspose(of: base) }
    }
  }

  /// Whether `self = bᵀ` by construction: `(Bᵀ, B)`, a symmetric `S` with itself, inverses of
  /// transposes, and chains `F₁ ⋯ Fₖ` against `Gₖᵀ ⋯ G₁ᵀ`, factor by factor or as the
  /// constructors build b's transpose (`(X 𝟏 𝟏ᵀ)ᵀ = 𝟏𝟏ᵀ Xᵀ`).
  private func isTranspose(of b: Expr) -> Bool {
    if self === b { return isSymmetric }
    if case .transpose(let inner) = node, inner === b { return true }
    if case .transpose(let inner) = b.node, inner === self { return true }
    guard shape == b.shape.transposed else { return false }
    switch (node, b.node) {
    case (.call(.inverse, let x), .call(.inverse, let y)): return x.isTranspose(of: y)
    case (.ones, .ones): return true  // the shapes are transposed
    case (.chain, .chain):
      // 𝟏𝟏ᵀ is one factor or two (the rule ones-outer joins them where it applies).
      let mine = Self.onesSplit(matrixFactors)
      let theirs = Self.onesSplit(b.matrixFactors)
      if mine.count == theirs.count
        && zip(mine, theirs.reversed()).allSatisfy({ $0.isTranspose(of: $1) })
      {
        return true
      }
      return (try? b.transposedForm()) === self || (try? transposedForm()) === b
    default: return false
    }
  }

  /// The factors with each matrix of ones 𝟏𝟏ᵀ written as the two factors 𝟏 and 𝟏ᵀ.
  private static func onesSplit(_ factors: [Expr]) -> [Expr] {
    factors.flatMap { factor -> [Expr] in
      guard case .ones(let shape) = factor.node, shape.rows != .one, shape.cols != .one,
        let column = try? Expr.ones(Shape(shape.rows, .one)),
        let row = try? Expr.ones(Shape(.one, shape.cols))
      else { return [factor] }
      return [column, row]
    }
  }

  /// `Aᵀ` as the simplified formulas spell it: a symmetric A itself, `(Xᵀ)ᵀ = X`,
  /// `(X⁻¹)ᵀ = (Xᵀ)⁻¹`, a chain's factors reversed and transposed one by one.
  func transposedForm() throws -> Expr {
    if isSymmetric { return self }
    switch node {
    case .transpose(let inner): return inner
    case .call(.inverse, let a): return try Expr.call(.inverse, try a.transposedForm())
    case .chain:
      let factors = try matrixFactors.reversed().map { try $0.transposedForm() }
      return try Expr.product(of: factors[...]) ?? self
    default: return try Expr.transpose(self)
    }
  }
}
