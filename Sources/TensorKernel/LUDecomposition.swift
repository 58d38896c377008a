import Foundation

/// LU decomposition with partial pivoting: `P A = L U`, L unit lower triangular.
///
/// Gives the determinant, the log-determinant and the inverse of a square matrix.
public struct LUDecomposition: Sendable {
  /// L below the diagonal (unit diagonal implied), U on and above it.
  public let factors: Tensor
  /// `pivots[i]` is the original row now at row i.
  public let pivots: [Int]
  /// +1 or −1: the sign of the row permutation.
  public let permutationSign: Double
  /// Whether a pivot was exactly zero.
  public let isSingular: Bool

  /// Factors a square matrix; returns `nil` when it is not square.
  public init?(_ matrix: Tensor) {
    guard matrix.rows == matrix.cols else { return nil }
    let n = matrix.rows
    var a = matrix
    var pivots = Array(0..<n)
    var sign = 1.0
    var singular = false
    for column in 0..<n {
      var best = column
      var bestValue = abs(a[column, column])
      for row in (column + 1)..<max(n, column + 1) where abs(a[row, column]) > bestValue {
        best = row
        bestValue = abs(a[row, column])
      }
      if bestValue == 0 {
        singular = true
        continue
      }
      if best != column {
        for j in 0..<n {
          let swap = a[column, j]
          a[column, j] = a[best, j]
          a[best, j] = swap
        }
        pivots.swapAt(column, best)
        sign = -sign
      }
      let pivot = a[column, column]
      for row in (column + 1)..<max(n, column + 1) {
        let factor = a[row, column] / pivot
        a[row, column] = factor
        if factor == 0 { continue }
        for j in (column + 1)..<n { a[row, j] -= factor * a[column, j] }
      }
    }
    factors = a
    self.pivots = pivots
    permutationSign = sign
    isSingular = singular
  }

  /// `det A = sign(P) Π U_ii`.
  public var determinant: Double {
    var product = permutationSign
    for i in 0..<factors.rows { product *= factors[i, i] }
    return product
  }

  /// `log det A`, or `nil` when det A ≤ 0.
  public var logDeterminant: Double? {
    var sum = 0.0
    var sign = permutationSign
    for i in 0..<factors.rows {
      let u = factors[i, i]
      if u == 0 { return nil }
      if u < 0 { sign = -sign }
      sum += log(abs(u))
    }
    return sign > 0 ? sum : nil
  }

  /// Solves `A X = B` for X; `nil` when A is singular or the shapes do not conform.
  public func solve(_ rhs: Tensor) -> Tensor? {
    let n = factors.rows
    guard !isSingular, rhs.rows == n else { return nil }
    var x = Tensor(rows: n, cols: rhs.cols)
    for i in 0..<n {
      for j in 0..<rhs.cols { x[i, j] = rhs[pivots[i], j] }
    }
    for j in 0..<rhs.cols {
      for i in 0..<n {
        var value = x[i, j]
        for k in 0..<i { value -= factors[i, k] * x[k, j] }
        x[i, j] = value
      }
      for i in stride(from: n - 1, through: 0, by: -1) {
        var value = x[i, j]
        for k in (i + 1)..<max(n, i + 1) { value -= factors[i, k] * x[k, j] }
        x[i, j] = value / factors[i, i]
      }
    }
    return x
  }

  /// `A⁻¹`, or `nil` when A is singular.
  public var inverse: Tensor? { solve(.identity(factors.rows)) }
}
