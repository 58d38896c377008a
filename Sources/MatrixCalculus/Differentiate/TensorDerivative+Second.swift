extension TensorDerivative {
  /// The derivative of this tensor with respect to `variable` again, term by term in index
  /// form: ∂(c Π_f M_f)/∂X_pq = (∂c/∂X_pq) Π_f M_f + c Σ_f (∂(M_f)_rc/∂X_pq) Π_{g≠f} M_g,
  /// each ∂(M_f)_rc/∂X_pq itself a derivative with up to four indices (r, c of M_f; p, q of
  /// X) whose summed indices are renamed apart.
  ///
  /// - Throws: ``MatcalcError/unsupported(_:_:)`` when a term would need more than four
  ///   summed indices, or a factor's derivative has no index form.
  func derivative(
    withRespectTo variable: Expr,
    partial: (Expr) throws -> TensorDerivative,
    gradient: (Expr) throws -> Expr
  ) throws -> TensorDerivative {
    guard secondVariableShape == nil else {
      throw MatcalcError.unsupported("derivatives of order three", nil)
    }
    // p and q index X (size 1 along an axis X does not have, as k and l do).
    let p = Index.p
    let q = Index.q
    let shape = variable.shape
    func isReal(_ index: Index) -> Bool {
      switch index {
      case .p: return shape.rows != .one
      case .q: return shape.cols != .one
      default: return self.isReal(index)
      }
    }
    var occurrence = Occurrence(of: variable)
    var result: [Term] = []
    for term in terms {
      if occurrence.isIn(term.coefficient) {
        let g = try gradient(term.coefficient)
        if !g.isZero {
          result.append(
            Term(coefficient: .constant(1), factors: term.factors + [.entry(g, row: p, col: q)]))
        }
      }
      for (position, factor) in term.factors.enumerated() {
        guard case .entry(let e, let row, let col) = factor, occurrence.isIn(e) else { continue }
        var rest = term.factors
        rest.remove(at: position)
        if e == variable {
          // ∂X_rc/∂X_pq = δ_rp δ_cq.
          var factors = rest
          if let row { factors.append(.delta(row, p)) }
          if let col { factors.append(.delta(col, q)) }
          result.append(Term(coefficient: term.coefficient, factors: factors))
          continue
        }
        let inner = try partial(e)
        var used = Set(Self.summed(in: term))
        for innerTerm in inner.terms {
          var renaming: [Index: Index?] = [.i: row, .j: col, .k: p, .l: q]
          for index in Self.summed(in: innerTerm) {
            guard let fresh = Index.summed.first(where: { !used.contains($0) }) else {
              throw MatcalcError.unsupported(
                "this second derivative has a term with more than four summed indices", nil)
            }
            used.insert(fresh)
            renaming[index] = fresh
          }
          var factors = rest
          for innerFactor in innerTerm.factors {
            switch innerFactor {
            case .entry(let m, let r, let c):
              let mappedRow = r.flatMap { renaming[$0] ?? nil }
              let mappedCol = c.flatMap { renaming[$0] ?? nil }
              factors.append(.entry(m, row: mappedRow, col: mappedCol))
            case .delta(let a, let b):
              let x = renaming[a] ?? nil
              let y = renaming[b] ?? nil
              if let x, let y {
                factors.append(.delta(x, y))
              } else if let index = x ?? y, isReal(index) {
                // nil is the one value of a size-1 axis; δ with it fixes a real index.
                throw MatcalcError.unsupported("a delta with an axis of size one", nil)
              }
            }
          }
          result.append(
            Term(coefficient: try term.coefficient * innerTerm.coefficient, factors: factors))
        }
      }
    }
    return TensorDerivative(terms: result, first: self)
  }
}
