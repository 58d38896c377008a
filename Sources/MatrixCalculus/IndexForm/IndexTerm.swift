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

  /// Terms equal up to the order of their factors and the names of their bound indices
  /// added into one (Σ_k X_ik X_jk and Σ_l X_jl X_il), in order of first appearance;
  /// terms that cancel are dropped.
  static func merged(_ terms: [IndexTerm]) -> [IndexTerm] {
    var result: [IndexTerm] = []
    var positions: [String: Int] = [:]
    for term in terms {
      let key = canonicalKey(term)
      if let position = positions[key] {
        result[position].coefficient += term.coefficient
      } else {
        positions[key] = result.count
        result.append(term)
      }
    }
    return result.filter { $0.coefficient != 0 }
  }

  /// The term spelled with its factors sorted and its bound indices renamed in order of
  /// appearance (equal terms may still get different keys when factors tie; never the
  /// reverse).
  static func canonicalKey(_ term: IndexTerm) -> String {
    func spelled(_ factor: IndexedTensor, _ names: [String: String]) -> String {
      let indices = [factor.row, factor.col].map { index in
        index.map { term.summed.contains($0) ? names[$0] ?? "_" : $0 } ?? "-"
      }
      let head = factor.isDelta ? "δ" : "\(factor.expr)"
      return "\(head)[\(indices.joined(separator: ","))]"
    }
    let sorted = term.factors.sorted { spelled($0, [:]) < spelled($1, [:]) }
    var names: [String: String] = [:]
    for factor in sorted {
      for index in factor.indices where term.summed.contains(index) && names[index] == nil {
        names[index] = "#\(names.count)"
      }
    }
    return sorted.map { spelled($0, names) }.joined(separator: " ")
  }
}
