import TensorKernel

extension TensorDerivative {
  /// The size of each free index (1 for an index the result does not have).
  func sizes(_ evaluator: Evaluator) throws -> [Index: Int] {
    var result: [Index: Int] = [:]
    result[.i] = try evaluator.size(functionShape.rows)
    result[.j] = try evaluator.size(functionShape.cols)
    result[.k] = try evaluator.size(variableShape.rows)
    result[.l] = try evaluator.size(variableShape.cols)
    result[.p] = try secondVariableShape.map { try evaluator.size($0.rows) } ?? 1
    result[.q] = try secondVariableShape.map { try evaluator.size($0.cols) } ?? 1
    return result
  }

  /// The tensor's values as a Jacobian matrix: rows the entries of what is differentiated
  /// (F_ij, or the first derivative's entries ijkl), columns the entries of X, each
  /// row-major over its indices.
  func jacobian(_ evaluator: inout Evaluator) throws -> TensorKernel.Tensor {
    let extent = try sizes(evaluator)
    let rowIndices = outputIndices
    let colIndices = variableIndices
    let rowCount = rowIndices.reduce(1) { $0 * (extent[$1] ?? 1) }
    let colCount = colIndices.reduce(1) { $0 * (extent[$1] ?? 1) }
    try Evaluator.ensureAllocatable([rowCount, colCount])
    var result = TensorKernel.Tensor(rows: rowCount, cols: colCount)
    let free = rowIndices + colIndices
    for term in terms {
      let c = try evaluator.evaluate(term.coefficient).scalar
      var operands: [(TensorKernel.Tensor, Index?, Index?)] = []
      var deltas: [(Index, Index)] = []
      for factor in term.factors {
        switch factor {
        case .entry(let e, let row, let col): operands.append((try evaluator.evaluate(e), row, col))
        case .delta(let a, let b): deltas.append((a, b))
        }
      }
      // Summed indices run over the axis they index in any factor that carries them.
      let summed = Self.summed(in: term)
      var ranges: [Int] = []
      for index in summed {
        var size = 1
        for (tensor, row, col) in operands {
          if row == index { size = tensor.rows }
          if col == index { size = tensor.cols }
        }
        ranges.append(size)
      }
      let all = free + summed
      let limits = free.map { extent[$0] ?? 1 } + ranges
      var value = [Int](repeating: 0, count: Index.allCases.count)
      var counter = [Int](repeating: 0, count: all.count)
      // Every assignment of the free and summed indices, the last fastest.
      outer: while true {
        for (position, index) in all.enumerated() { value[index.rawValue] = counter[position] }
        if !deltas.contains(where: { value[$0.0.rawValue] != value[$0.1.rawValue] }) {
          var product = c
          for (tensor, row, col) in operands {
            product *=
              tensor[row.map { value[$0.rawValue] } ?? 0, col.map { value[$0.rawValue] } ?? 0]
          }
          let r = rowIndices.reduce(0) { $0 * (extent[$1] ?? 1) + value[$1.rawValue] }
          let k = colIndices.reduce(0) { $0 * (extent[$1] ?? 1) + value[$1.rawValue] }
          result[r, k] += product
        }
        var position = all.count - 1
        while position >= 0 {
          counter[position] += 1
          if counter[position] < limits[position] { continue outer }
          counter[position] = 0
          position -= 1
        }
        break
      }
    }
    return result
  }
}
