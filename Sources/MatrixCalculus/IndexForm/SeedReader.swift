/// One term of an expression linear in a seed U, in index form:
/// `coefficient · Π factors · U_{seedRow, seedCol}`, summed over `summed`.
struct SeededTerm {
  /// A scalar (1×1) expression free of U.
  var coefficient: Expr
  /// Entries of U-free expressions and Kronecker deltas.
  var factors: [IndexedTensor]
  /// Indices summed in this term.
  var summed: [String]
  /// The indices U's entry carries (`nil` for an axis of size 1).
  var seedRow: String?
  var seedCol: String?
}

/// Reads an expression G that is linear in a seed U (reverse accumulation seeded with a
/// symbolic U gives G = Σ_ij U_ij ∂F_ij/∂X) into index form, term by term, and turns each term
/// into the derivative's entries by putting δ_i,p δ_j,q in place of U_pq.
///
/// Products introduce summed indices, traces and sums sum over their argument's indices,
/// diag puts a delta between its two indices; every U-free subexpression stays one opaque
/// entry. Anything that is not linear in U is refused.
struct SeedReader {
  let seed: Expr
  private var occurrence: Occurrence
  private var counter = 0

  init(seed: Expr) {
    self.seed = seed
    occurrence = Occurrence(of: seed)
  }

  private mutating func contains(_ e: Expr) -> Bool { occurrence.isIn(e) }

  private mutating func fresh() -> String {
    counter += 1
    return "s\(counter)"
  }

  private func refuse(_ e: Expr) -> MatcalcError {
    .unsupported(
      "the derivative passes through \(e), which the engine cannot read entry by entry", nil)
  }

  /// `e_{row,col}` as terms (`row` is `nil` exactly when e has one row, `col` likewise).
  mutating func read(_ e: Expr, row: String?, col: String?) throws -> [SeededTerm] {
    if !contains(e) { return try constant(e, row: row, col: col) }
    switch e.node {
    case .variable:
      guard e == seed else { throw refuse(e) }
      return [
        SeededTerm(
          coefficient: .constant(1), factors: [], summed: [], seedRow: row, seedCol: col)
      ]
    case .transpose(let a):
      return try read(a, row: col, col: row)
    case .add(let terms):
      var result: [SeededTerm] = []
      for term in terms {
        // A 1×1 term is added to every entry.
        result +=
          term.isScalar ? try read(term, row: nil, col: nil) : try read(term, row: row, col: col)
      }
      return result
    case .product(let a, let b):
      if contains(a) && contains(b) { throw refuse(e) }
      if a.isScalar || b.isScalar {
        let (s, m) = a.isScalar ? (a, b) : (b, a)
        return try cross(try read(s, row: nil, col: nil), try read(m, row: row, col: col))
      }
      if a.shape.cols == .one {  // an outer product: no index is summed
        return try cross(try read(a, row: row, col: nil), try read(b, row: nil, col: col))
      }
      let k = fresh()
      return summing(try cross(try read(a, row: row, col: k), try read(b, row: k, col: col)), [k])
    case .hadamard(let a, let b):
      if contains(a) && contains(b) { throw refuse(e) }
      return try cross(try read(a, row: row, col: col), try read(b, row: row, col: col))
    case .call(.trace, let a):
      if a.isScalar { return try read(a, row: nil, col: nil) }
      let k = fresh()
      return summing(try read(a, row: k, col: k), [k])
    case .call(.sum, let a):
      let r = a.shape.rows == .one ? nil : fresh()
      let c = a.shape.cols == .one ? nil : fresh()
      return summing(try read(a, row: r, col: c), [r, c].compactMap { $0 })
    case .call(.diag, let v) where v.isScalar, .call(.diagonal, let v) where v.isScalar:
      return try read(v, row: nil, col: nil)  // of a 1×1, both are the identity
    case .call(.diag, let v):
      // diag(v)_rc = δ_rc v_r.
      guard let row, let col else { throw refuse(e) }
      let inner =
        v.shape.cols == .one ? try read(v, row: row, col: nil) : try read(v, row: nil, col: row)
      if row == col { return inner }  // diag(v)_rr = v_r
      let delta = IndexedTensor(
        expr: try Expr.identity(e.shape.rows), row: row, col: col, isDelta: true)
      return inner.map {
        var term = $0
        term.factors.append(delta)
        return term
      }
    case .call(.diagonal, let m):
      // diagonal(M)_r = M_rr.
      return try read(m, row: row, col: row)
    default:
      throw refuse(e)
    }
  }

  /// The terms with `indices` summed over.
  private func summing(_ terms: [SeededTerm], _ indices: [String]) -> [SeededTerm] {
    terms.map {
      var term = $0
      term.summed += indices
      return term
    }
  }

  /// A U-free expression as one term: a coefficient, a delta (I), nothing (𝟏), or an entry.
  private func constant(_ e: Expr, row: String?, col: String?) throws -> [SeededTerm] {
    var term = SeededTerm(
      coefficient: .constant(1), factors: [], summed: [], seedRow: nil, seedCol: nil)
    switch e.node {
    case .zero: return []
    case .ones: return [term]
    case .identity where row != nil && col != nil:
      term.factors = [IndexedTensor(expr: e, row: row, col: col, isDelta: true)]
    default:
      if e.isScalar {
        term.coefficient = e
      } else if row == col, let row {
        term.factors = [IndexedTensor(expr: try Expr.call(.diagonal, e), row: row, col: nil)]
      } else {
        term.factors = [IndexedTensor(expr: e, row: row, col: col)]
      }
    }
    return [term]
  }

  private func cross(_ first: [SeededTerm], _ second: [SeededTerm]) throws -> [SeededTerm] {
    var result: [SeededTerm] = []
    for a in first {
      for b in second {
        result.append(
          SeededTerm(
            coefficient: try a.coefficient * b.coefficient,
            factors: a.factors + b.factors, summed: a.summed + b.summed,
            seedRow: a.seedRow ?? b.seedRow, seedCol: a.seedCol ?? b.seedCol))
      }
    }
    return result
  }

  /// The derivative's terms: G (shaped like X, indexed k, l) read term by term, U_pq
  /// replaced by δ_ip δ_jq (i, j index F), and every summed index contracted. Each result is
  /// a list of factors whose indices are among i, j, k, l, and a coefficient.
  mutating func derivativeTerms(of g: Expr, keepingSums: Bool = false) throws -> [(
    coefficient: Expr, factors: [IndexedTensor]
  )] {
    let k = g.shape.rows == .one ? nil : "k"
    let l = g.shape.cols == .one ? nil : "l"
    var result: [(coefficient: Expr, factors: [IndexedTensor])] = []
    for term in try read(g, row: k, col: l) {
      var factors = term.factors
      if let p = term.seedRow {
        factors.append(
          IndexedTensor(expr: try Expr.identity(seed.shape.rows), row: "i", col: p, isDelta: true))
      }
      if let q = term.seedCol {
        factors.append(
          IndexedTensor(expr: try Expr.identity(seed.shape.cols), row: "j", col: q, isDelta: true))
      }
      if keepingSums {
        // Indices no matrix product absorbs stay in the factors, summed in index form.
        var kept: [String] = []
        let contracted = try IndexContraction.contractSums(
          factors, term.summed, keeping: &kept)
        result.append((term.coefficient, contracted))
      } else {
        result.append(
          (term.coefficient, try IndexContraction.contractSums(factors, term.summed)))
      }
    }
    return result
  }
}
