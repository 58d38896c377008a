import TensorKernel

extension [IndexTerm] {
  /// The sum's value over the free indices `free` (in that order), each term broadcast to
  /// them: Σ_t c_t Σ_summed Π_f (F_f)_{indices}, every factor evaluated as a matrix.
  func evaluated(free: [String], sizes: [String: Int], _ evaluator: inout Evaluator) throws
    -> IndexedArray
  {
    var total = IndexedArray(
      indices: free, sizes: free.map { sizes[$0] ?? 1 }, repeating: 0)
    for term in self {
      var value = IndexedArray(scalar: term.coefficient)
      for factor in term.factors {
        let t = try evaluator.evaluate(factor.expr)
        let array: IndexedArray
        switch (factor.row, factor.col) {
        case (let row?, let col?):
          array = IndexedArray(indices: [row, col], sizes: [t.rows, t.cols], data: t.storage)
        case (let row?, nil):
          array = IndexedArray(indices: [row], sizes: [t.rows], data: t.storage)
        case (nil, let col?):
          array = IndexedArray(indices: [col], sizes: [t.cols], data: t.storage)
        case (nil, nil):
          array = IndexedArray(scalar: t.scalar)
        }
        value = try value.combined(with: array, *)
      }
      for index in term.summed { value = value.summed(over: index) }
      guard Set(value.indices).isSubset(of: free) else {
        throw MatcalcError.internalError("free indices \(value.indices), expected \(free)")
      }
      total = try total.combined(with: value, +)
    }
    return total
  }
}
