/// One term of an index formula: coefficient × Σ over the summed indices × a product of
/// indexed factors (entries of matrix expressions, Kronecker deltas as entries of I), e.g.
/// −2 Σ_k X_ik X_jk. A sum of terms is an array of them; terms may have different free
/// indices (they broadcast, as NumPy does).
struct IndexTerm {
  var coefficient: Double = 1
  var summed: [String] = []
  var factors: [IndexedTensor] = []

  /// The indices not summed, in order of appearance.
  var free: [String] {
    var result: [String] = []
    for factor in factors {
      for index in factor.indices where !summed.contains(index) && !result.contains(index) {
        result.append(index)
      }
    }
    return result
  }

  var allIndices: Set<String> { Set(factors.flatMap(\.indices)).union(summed) }

  /// The product of two terms whose bound indices are already distinct.
  static func * (a: IndexTerm, b: IndexTerm) -> IndexTerm {
    IndexTerm(
      coefficient: a.coefficient * b.coefficient, summed: a.summed + b.summed,
      factors: a.factors + b.factors)
  }
}
