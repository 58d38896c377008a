/// The derivative of a matrix (or vector) F with respect to a matrix (or vector) X as a sum
/// of index-form terms: `D_ijkl = ∂F_ij/∂X_kl = Σ_t c_t · Π factors`, each factor an entry
/// of a matrix expression (`L_ki`, `R_jl`, `M_kl`) or a Kronecker delta.
///
/// Reverse accumulation seeded with a symbolic U shaped like F gives G = Σ_ij U_ij ∂F_ij/∂X,
/// linear in U; each canonical term of G is read as index form:
/// L U R → L_ki R_jl; L Uᵀ R → L_kj R_il; (L U R) ⊙ M → L_ki R_jl M_kl; s(U) N with s linear
/// in U (tr(Uᵀ M), uᵀ m) → M_ij N_kl. Anything else is refused, not guessed.
public struct TensorDerivative: Sendable {
  /// The four index roles: F's row and column, X's row and column; and up to four indices
  /// summed inside a term (where no matrix product can absorb them: Σ_s A_is B_js C_ks).
  public enum Index: Int, Sendable, CaseIterable {
    case i, j, k, l
    /// The second variable's row and column, in a second derivative of a three- or
    /// four-index first derivative (∂(∂F/∂X)_ijkl/∂X_pq).
    case p, q
    case s, t, u, v

    /// The indices of the result: F's, then X's (then X's again, for a second derivative).
    public static let free: [Index] = [.i, .j, .k, .l, .p, .q]

    /// The summed indices, in the order they are given out.
    public static let summed: [Index] = [.s, .t, .u, .v]

    /// Whether the index is summed within its term.
    public var isSummed: Bool { rawValue >= 6 }
  }

  /// One factor: an entry of a matrix expression, or δ between two indices.
  public enum Factor: Sendable {
    /// `M_{row, col}`; `nil` means the axis has size 1.
    case entry(Expr, row: Index?, col: Index?)
    /// δ_ab.
    case delta(Index, Index)
  }

  /// One product of factors times a scalar coefficient.
  public struct Term: Sendable {
    /// A scalar (1×1) expression.
    public var coefficient: Expr
    /// The factors.
    public var factors: [Factor]
  }

  /// The terms.
  public let terms: [Term]
  /// F's shape.
  public let functionShape: Shape
  /// X's shape.
  public let variableShape: Shape
  /// For a second derivative of a three- or four-index first derivative: X's shape again,
  /// for the indices p, q (F's indices are then i, j, k, l: the first derivative's).
  public let secondVariableShape: Shape?

  /// The indices of what is differentiated (F's, or the first derivative's), in order.
  public var outputIndices: [Index] { secondVariableShape == nil ? [.i, .j] : [.i, .j, .k, .l] }

  /// The indices of the variable, in order.
  public var variableIndices: [Index] { secondVariableShape == nil ? [.k, .l] : [.p, .q] }

  /// The terms of a second derivative.
  init(terms: [Term], first: TensorDerivative) {
    self.terms = terms
    functionShape = first.functionShape
    variableShape = first.variableShape
    secondVariableShape = first.variableShape
  }

  /// Reads the terms of `adjoint` (= Σ_ij U_ij ∂F_ij/∂X) with respect to the seed `u`.
  init(adjoint: Expr, seed u: Expr, functionShape: Shape, variableShape: Shape) throws {
    self.functionShape = functionShape
    self.variableShape = variableShape
    secondVariableShape = nil
    var reader = Reader(u: u)
    do {
      terms = try reader.terms(adjoint, coefficient: .constant(1)).map(Self.normalized)
    } catch MatcalcError.unsupported {
      // Not one of the canonical shapes: read G entry by entry, contracting summed indices.
      var entries = SeedReader(seed: u)
      let read: [(coefficient: Expr, factors: [IndexedTensor])]
      do {
        read = try entries.derivativeTerms(of: adjoint, keepingSums: true)
      } catch MatcalcError.unsupported(let message, _) {
        throw MatcalcError.unsupported(
          "this derivative has three or four indices and a form the engine cannot read entry "
            + "by entry (\(message))", nil)
      }
      terms = try read.map { term in
        var coefficient = term.coefficient
        var factors: [Factor] = []
        // Indices still summed (shared by three factors) become s, t, u, v in this term.
        var dummies: [String: Index] = [:]
        func index(_ name: String) throws -> Index {
          if let free = Index.free.first(where: { Self.letter($0) == name }) { return free }
          if let known = dummies[name] { return known }
          let summed = Index.summed
          guard dummies.count < summed.count else {
            throw MatcalcError.unsupported(
              "this derivative has a term with more than four summed indices", nil)
          }
          let next = summed[dummies.count]
          dummies[name] = next
          return next
        }
        for factor in term.factors {
          let row = try factor.row.map(index)
          let col = try factor.col.map(index)
          if factor.isDelta, let row, let col {
            factors.append(.delta(row, col))
          } else if row == nil && col == nil {
            coefficient = try coefficient * factor.expr
          } else {
            factors.append(.entry(factor.expr, row: row, col: col))
          }
        }
        return Self.normalized(Term(coefficient: coefficient, factors: factors))
      }
    }
  }

  /// Entries of transposes swap their indices ((Aᵀ)_ki = A_ik, (A⁻ᵀ)_ki = (A⁻¹)_ik) and
  /// entries of the identity are deltas.
  private static func normalized(_ term: Term) -> Term {
    var term = term
    term.factors = term.factors.map { factor in
      guard case .entry(let e, let row, let col) = factor else { return factor }
      if case .identity = e.node, let row, let col { return .delta(row, col) }
      if let inner = untransposed(e) { return .entry(inner, row: col, col: row) }
      return factor
    }
    return term
  }

  /// M when e is Mᵀ written otherwise: Aᵀ, A⁻ᵀ = (A⁻¹)ᵀ, Aᵀ ⊙ Bᵀ = (A ⊙ B)ᵀ, Aᵀ + Bᵀ, s Aᵀ.
  private static func untransposed(_ e: Expr) -> Expr? {
    switch e.node {
    case .transpose(let inner): return inner
    case .call(.inverse, let inner):
      guard case .transpose(let base) = inner.node else { return nil }
      return try? Expr.call(.inverse, base)
    case .hadamard(let a, let b):
      guard let a = untransposed(a), let b = untransposed(b) else { return nil }
      return try? Expr.hadamard(a, b)
    case .add(let terms):
      let inner = terms.compactMap(untransposed)
      return inner.count == terms.count ? try? Expr.add(inner) : nil
    case .product(let s, let a) where s.isScalar && !a.isScalar:
      return untransposed(a).flatMap { try? s * $0 }
    default: return nil
    }
  }

  private struct Reader {
    let u: Expr
    var occurrence: Occurrence

    init(u: Expr) {
      self.u = u
      occurrence = Occurrence(of: u)
    }

    mutating func contains(_ e: Expr) -> Bool { occurrence.isIn(e) }

    func refuse(_ e: Expr) -> MatcalcError {
      .unsupported(
        "this derivative has three or four indices and a form (\(e)) the engine does not read "
          + "yet", nil)
    }

    /// G (shaped like X, linear in U) as index-form terms.
    mutating func terms(_ e: Expr, coefficient: Expr) throws -> [Term] {
      if !contains(e) { return [] }
      switch e.node {
      case .add(let parts):
        return try parts.flatMap { try terms($0, coefficient: coefficient) }
      case .product(let a, let b) where a.isScalar || b.isScalar:
        let (s, rest) = a.isScalar ? (a, b) : (b, a)
        if !contains(s) { return try terms(rest, coefficient: try coefficient * s) }
        if contains(rest) { throw refuse(e) }
        // s linear in U (tr(Uᵀ M), uᵀ m): D_ijkl = M_ij N_kl with N = rest.
        guard let m = try scalarCoefficient(s) else { throw refuse(e) }
        return [
          Term(
            coefficient: coefficient,
            factors: [
              .entry(m, row: .i, col: .j), .entry(rest, row: .k, col: .l),
            ])
        ]
      case .hadamard(let a, let b):
        if contains(a) && contains(b) { throw refuse(e) }
        let (free, linear) = contains(a) ? (b, a) : (a, b)
        return try terms(linear, coefficient: coefficient).map { term in
          var term = term
          term.factors.append(.entry(free, row: .k, col: .l))
          return term
        }
      case .product, .variable, .transpose:
        let factors = e.matrixFactors
        let holders = factors.indices.filter { contains(factors[$0]) }
        guard holders.count == 1, let index = holders.first else { throw refuse(e) }
        let left = try Expr.product(of: factors[..<index])
        let right = try Expr.product(of: factors[(index + 1)...])
        let middle = factors[index]
        // G_kl = Σ_ij L_ki U_ij R_jl → D_ijkl = L_ki R_jl (no L: δ_ki; no R: δ_jl).
        let leftFactor: (Index) -> Factor = { index in
          left.map { .entry($0, row: .k, col: index) } ?? .delta(.k, index)
        }
        let rightFactor: (Index) -> Factor = { index in
          right.map { .entry($0, row: index, col: .l) } ?? .delta(index, .l)
        }
        if middle == u {
          return [Term(coefficient: coefficient, factors: [leftFactor(.i), rightFactor(.j)])]
        }
        if case .transpose(let inner) = middle.node, inner == u {
          // G_kl = Σ_ij L_kj U_ij R_il → D_ijkl = L_kj R_il.
          return [Term(coefficient: coefficient, factors: [leftFactor(.j), rightFactor(.i)])]
        }
        if left == nil, let right, middle.shape.cols == .one, case .hadamard = middle.node {
          // G_kl = c_k R_l with c a column linear in U (an element-wise function's
          // derivative, (U ⊙ f′(W x)) xᵀ): read c with its column index of size one, then
          // append R's entries along l.
          return try terms(middle, coefficient: coefficient).map { term in
            var term = term
            term.factors = term.factors.compactMap { factor in
              switch factor {
              case .entry(let e, let row, let col):
                return .entry(e, row: row == .l ? nil : row, col: col == .l ? nil : col)
              case .delta(let a, let b):
                return a == .l || b == .l ? nil : factor
              }
            }
            term.factors.append(.entry(right, row: nil, col: .l))
            return term
          }
        }
        throw refuse(e)
      default:
        throw refuse(e)
      }
    }

    /// For a scalar s linear in U, the matrix M with s = Σ_ij U_ij M_ij.
    mutating func scalarCoefficient(_ s: Expr) throws -> Expr? {
      switch s.node {
      case .call(.trace, let inner):
        return try traceCoefficient(inner)
      case .product(let a, let b) where !a.isScalar && !b.isScalar:
        // aᵀ U b and friends: a 1×1 matrix product, read as its own trace.
        return try traceCoefficient(s)
      case .call(.sum, let inner) where inner == u:
        return try Expr.ones(u.shape)
      case .product(let a, let b):
        let (c, rest) = a.isScalar && !contains(a) ? (a, b) : (b, a)
        guard !contains(c) else { return nil }
        return try scalarCoefficient(rest).map { try c * $0 }
      default:
        return nil
      }
    }

    /// For tr(E) with E linear in U, the matrix M with tr(E) = Σ_ij U_ij M_ij.
    mutating func traceCoefficient(_ inner: Expr) throws -> Expr? {
      do {
        // tr(L U R) = Σ U_ij ((R L)ᵀ)_ij; tr(L Uᵀ R) = Σ U_ij (R L)_ij.
        let factors = inner.matrixFactors
        let holders = factors.indices.filter { contains(factors[$0]) }
        guard holders.count == 1, let index = holders.first else { return nil }
        let left = try Expr.product(of: factors[..<index])
        let right = try Expr.product(of: factors[(index + 1)...])
        let middle = factors[index]
        // tr(L M R) = tr(R L M): the cyclic product around M (tr(U) alone gives I).
        var around: Expr?
        for factor in [right, left].compactMap({ $0 }) {
          around = try around.map { try $0 * factor } ?? factor
        }
        let identity = try Expr.identity(u.shape.rows)
        if middle == u { return try around.map { try Expr.transpose($0) } ?? identity }
        if case .transpose(let inner) = middle.node, inner == u { return around ?? identity }
        return nil
      }
    }
  }
}

// MARK: - Index names and rendering

extension TensorDerivative {
  /// Whether an index runs over more than one value (vectors have one index, scalars none).
  func isReal(_ index: Index) -> Bool {
    switch index {
    case .i: return functionShape.rows != .one
    case .j: return functionShape.cols != .one
    case .k: return variableShape.rows != .one
    case .l: return variableShape.cols != .one
    case .p: return secondVariableShape.map { $0.rows != .one } ?? false
    case .q: return secondVariableShape.map { $0.cols != .one } ?? false
    case .s, .t, .u, .v: return true
    }
  }

  /// The summed indices a term carries, in order.
  static func summed(in term: Term) -> [Index] {
    var found: [Index] = []
    for factor in term.factors {
      var indices: [Index?] = []
      switch factor {
      case .entry(_, let row, let col): indices = [row, col]
      case .delta(let a, let b): indices = [a, b]
      }
      for case let index? in indices where index.isSummed && !found.contains(index) {
        found.append(index)
      }
    }
    return found.sorted { $0.rawValue < $1.rawValue }
  }

  /// The letter an index prints as.
  static func letter(_ index: Index) -> String {
    switch index {
    case .i: return "i"
    case .j: return "j"
    case .k: return "k"
    case .l: return "l"
    case .p: return "p"
    case .q: return "q"
    case .s: return "s"
    case .t: return "t"
    case .u: return "u"
    case .v: return "v"
    }
  }

}
