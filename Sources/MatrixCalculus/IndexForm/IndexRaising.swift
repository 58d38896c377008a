/// Raises a sum of index terms to one matrix expression over at most two free indices: each
/// term contracted (Σ_k A_ik B_kj → (AB)_ij, a free δ_ij → I, ``IndexContraction``), equal
/// terms added first, and every term broadcast to the target's indices with 𝟏 (a_i over j is
/// (a 𝟏ᵀ)_ij), as NumPy broadcasts.
enum IndexRaising {
  /// The matrix form of `terms` with its axes in the order of `target` (one index: a
  /// column).
  ///
  /// - Throws: ``MatcalcError/unsupported(_:_:)`` without a position when a term has no
  ///   matrix form or an index's range is unknown.
  static func raise(_ terms: [IndexTerm], to target: [String], ranges: [String: Dim]) throws
    -> IndexedTensor
  {
    func range(_ index: String) throws -> Dim {
      guard let d = ranges[index] else {
        throw MatcalcError.unsupported("the range of index \(index) is not known", nil)
      }
      return d
    }
    var raised: [IndexedTensor] = []
    for term in IndexTerm.merged(terms) {
      var tensor = try IndexContraction.contract(term.factors, term.summed)
      if term.coefficient != 1 {
        tensor.expr = try Expr.constant(term.coefficient) * tensor.expr
      }
      raised.append(tensor)
    }
    let row = target.first
    let col = target.count == 2 ? target[1] : nil
    if raised.isEmpty {
      let shape =
        target.isEmpty ? Shape.scalar : Shape(try range(target[0]), try col.map(range) ?? .one)
      return IndexedTensor(
        expr: shape.isScalar ? .constant(0) : try Expr.zero(shape), row: row, col: col)
    }
    // A scalar term is added to every entry by the sum itself, unless no term has the
    // full set of indices.
    let someTermIsFull = raised.contains { Set($0.indices) == Set(target) }
    var sum: Expr?
    for var tensor in raised {
      for index in target where !tensor.indices.contains(index) {
        if tensor.indices.isEmpty && someTermIsFull { break }
        tensor = try IndexContraction.combine(
          tensor,
          IndexedTensor(expr: try Expr.ones(Shape(try range(index), .one)), row: index, col: nil))
      }
      if !tensor.indices.isEmpty { tensor = try tensor.ordered(target) }
      if target.count == 1 { tensor = try tensor.asColumn() }
      sum = try sum.map { try $0 + tensor.expr } ?? tensor.expr
    }
    return IndexedTensor(expr: sum ?? .constant(0), row: row, col: col)
  }
}
