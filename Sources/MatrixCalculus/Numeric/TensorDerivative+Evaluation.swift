import TensorKernel

extension TensorDerivative {
  /// The tensor's values, `D[i][j][k][l]` flattened row-major over the real indices, as a
  /// Jacobian matrix: rows the entries of F, columns the entries of X.
  func jacobian(_ evaluator: inout Evaluator) throws -> TensorKernel.Tensor {
    let fi = try evaluator.size(functionShape.rows)
    let fj = try evaluator.size(functionShape.cols)
    let xk = try evaluator.size(variableShape.rows)
    let xl = try evaluator.size(variableShape.cols)
    var result = TensorKernel.Tensor(rows: fi * fj, cols: xk * xl)
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
      var value = [Int](repeating: 0, count: Index.allCases.count)
      for i in 0..<fi {
        for j in 0..<fj {
          for k in 0..<xk {
            for l in 0..<xl {
              value[0] = i
              value[1] = j
              value[2] = k
              value[3] = l
              if deltas.contains(where: { value[$0.0.rawValue] != value[$0.1.rawValue] }) {
                continue
              }
              var total = 0.0
              // Every assignment of the summed indices (one, with none).
              var counter = [Int](repeating: 0, count: summed.count)
              repeat {
                for (position, index) in summed.enumerated() {
                  value[index.rawValue] = counter[position]
                }
                var product = c
                for (tensor, row, col) in operands {
                  product *=
                    tensor[
                      row.map { value[$0.rawValue] } ?? 0, col.map { value[$0.rawValue] } ?? 0]
                }
                total += product
                var position = 0
                while position < counter.count {
                  counter[position] += 1
                  if counter[position] < ranges[position] { break }
                  counter[position] = 0
                  position += 1
                }
                if position == counter.count { break }
              } while true
              result[i * fj + j, k * xl + l] += total
            }
          }
        }
      }
    }
    return result
  }
}
