/// The derivative of a matrix (or vector) F with respect to a matrix (or vector) X as a sum
/// of index-form terms: `D_ijkl = ∂F_ij/∂X_kl = Σ_t c_t · Π factors`, each factor an entry
/// of a matrix expression (`L_ki`, `R_jl`, `M_kl`) or a Kronecker delta.
///
/// The terms come from element-wise differentiation in index form (`IndexDerivative`):
/// F lowered entry by entry, differentiated by the product rule and the differentials of
/// Rules/, deltas contracted and matrix products raised; a second derivative differentiates
/// the first's index form again (indices p, q).
public struct TensorDerivative: Sendable {
  /// The index roles: F's row and column, X's row and column (and again); and up to four indices
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

  /// The derivative from terms already in this form.
  init(terms: [Term], functionShape: Shape, variableShape: Shape, secondVariableShape: Shape?) {
    self.terms = terms
    self.functionShape = functionShape
    self.variableShape = variableShape
    self.secondVariableShape = secondVariableShape
  }

  /// The same derivative with every matrix expression in it (entries and coefficients)
  /// replaced by `transform` of it: an equal expression, such as the one with the problem's
  /// definitions folded back to their names.
  func mappingExpressions(_ transform: (Expr) throws -> Expr) rethrows -> TensorDerivative {
    let mapped = try terms.map { term in
      Term(
        coefficient: try transform(term.coefficient),
        factors: try term.factors.map { factor in
          guard case .entry(let e, let row, let col) = factor else { return factor }
          return .entry(try transform(e), row: row, col: col)
        })
    }
    return TensorDerivative(
      terms: mapped, functionShape: functionShape, variableShape: variableShape,
      secondVariableShape: secondVariableShape)
  }

  /// The derivative from its index form, whose free indices are named i, j (F's), k, l
  /// (X's) and, for a second derivative, p, q (X's again): Kronecker deltas over summed
  /// indices contracted, sums a matrix product absorbs raised (Σ_s A_is B_sk → (AB)_ik),
  /// equal terms added, and what remains summed named s, t, u, v.
  ///
  /// - Throws: ``MatcalcError/unsupported(_:_:)`` for a term with more than four sums left.
  init(
    indexTerms: [IndexTerm], functionShape: Shape, variableShape: Shape,
    secondVariableShape: Shape? = nil
  ) throws {
    self.functionShape = functionShape
    self.variableShape = variableShape
    self.secondVariableShape = secondVariableShape
    let contracted = try indexTerms.map { try IndexContraction.contracted($0) }
    terms = try IndexTerm.merged(contracted).map { term in
      var coefficient = Expr.constant(term.coefficient)
      var factors: [Factor] = []
      // Indices still summed (shared by three factors) become s, t, u, v in this term.
      var dummies: [String: Index] = [:]
      func index(_ name: String) throws -> Index {
        if let free = Index.free.first(where: { Self.letter($0) == name }) { return free }
        if let known = dummies[name] { return known }
        guard dummies.count < Index.summed.count else {
          throw MatcalcError.unsupported(
            "this derivative has a term with more than four summed indices", nil)
        }
        let next = Index.summed[dummies.count]
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
    // δ_ki X_ij = δ_ki X_kj: where a delta ties F's index to X's, the other factors use X's
    // (so ∂(X ⊙ X)_ij/∂X_kl reads 2 δ_ki δ_lj X_kl, and its differential 2 (X ⊙ dX)).
    var substitution: [Index: Index] = [:]
    for case .delta(let a, let b) in term.factors {
      let (f, x) = a.rawValue < b.rawValue ? (a, b) : (b, a)
      if [.i, .j].contains(f), [.k, .l, .p, .q].contains(x), substitution[f] == nil {
        substitution[f] = x
      }
    }
    if !substitution.isEmpty {
      term.factors = term.factors.map { factor in
        guard case .entry(let e, let row, let col) = factor else { return factor }
        return .entry(
          e, row: row.map { substitution[$0] ?? $0 }, col: col.map { substitution[$0] ?? $0 })
      }
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
