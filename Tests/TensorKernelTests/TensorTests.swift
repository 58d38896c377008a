import Foundation
import Testing

@testable import TensorKernel

/// The reference: a plain triple loop.
func naiveProduct(_ a: Tensor, _ b: Tensor) -> Tensor {
  var c = Tensor(rows: a.rows, cols: b.cols)
  for i in 0..<a.rows {
    for j in 0..<b.cols {
      var total = 0.0
      for k in 0..<a.cols { total += a[i, k] * b[k, j] }
      c[i, j] = total
    }
  }
  return c
}

func pseudoRandom(_ rows: Int, _ cols: Int, seed: Int) -> Tensor {
  var t = Tensor(rows: rows, cols: cols)
  for index in t.storage.indices {
    t.storage[index] = Double((index * 7919 + seed * 104_729) % 2003) / 1001.5 - 1
  }
  return t
}

@Test(arguments: [(1, 1, 1), (1, 9, 1), (1, 1, 9), (7, 5, 3), (65, 33, 17), (16, 16, 16)])
func matmulMatchesTheReference(_ m: Int, _ k: Int, _ n: Int) throws {
  let a = pseudoRandom(m, k, seed: 1)
  let b = pseudoRandom(k, n, seed: 2)
  let c = try #require(a.matmul(b))
  let reference = naiveProduct(a, b)
  let gap = zip(c.storage, reference.storage).map { abs($0 - $1) }.max() ?? 0
  #expect(gap <= 1e-12 * max(1, reference.maxAbs))
}

@Test func nonConformingProductIsNil() {
  #expect(pseudoRandom(2, 3, seed: 1).matmul(pseudoRandom(2, 3, seed: 2)) == nil)
}

@Test(arguments: [1, 2, 3, 7, 20])
func inverseTimesMatrixIsIdentity(_ n: Int) throws {
  var a = pseudoRandom(n, n, seed: n)
  for i in 0..<n { a[i, i] += Double(n) }  // well conditioned
  let lu = try #require(LUDecomposition(a))
  let inverse = try #require(lu.inverse)
  let product = try #require(a.matmul(inverse))
  let gap = zip(product.storage, Tensor.identity(n).storage).map { abs($0 - $1) }.max() ?? 0
  #expect(gap <= 1e-10)
}

@Test func determinantMatchesCofactorExpansion() throws {
  let a = Tensor(rows: 3, cols: 3, storage: [2, -1, 0, 1, 3, 4, 0, 5, -2])
  // 2(3·(−2) − 4·5) − (−1)(1·(−2) − 4·0) + 0 = −52 − 2 = −54
  let lu = try #require(LUDecomposition(a))
  #expect(abs(lu.determinant - -54) <= 1e-12)
  #expect(lu.logDeterminant == nil)  // det < 0
  let b = Tensor(rows: 2, cols: 2, storage: [4, 1, 1, 3])
  let logdet = try #require(LUDecomposition(b)?.logDeterminant)
  #expect(abs(logdet - 2.3978952727983707) <= 1e-12)  // log 11
}

@Test func singularMatrixHasNoInverse() throws {
  let a = Tensor(rows: 2, cols: 2, storage: [1, 2, 2, 4])
  let lu = try #require(LUDecomposition(a))
  #expect(lu.inverse == nil)
  #expect(lu.determinant == 0)
}

@Test(arguments: [5, 20, 64])
func logDeterminantAgreesWithTheDeterminant(_ n: Int) throws {
  // A Aᵀ/n + I: symmetric positive definite, well conditioned.
  let a = pseudoRandom(n, n, seed: n + 1)
  var spd = try #require(a.matmul(a.transposed))
  for index in spd.storage.indices { spd.storage[index] /= Double(n) }
  for i in 0..<n { spd[i, i] += 1 }
  let lu = try #require(LUDecomposition(spd))
  let logdet = try #require(lu.logDeterminant)
  #expect(abs(logdet - Foundation.log(lu.determinant)) <= 1e-10 * max(1, abs(logdet)))
  let inverse = try #require(lu.inverse)
  let identity = try #require(spd.matmul(inverse))
  let gap = zip(identity.storage, Tensor.identity(n).storage).map { abs($0 - $1) }.max() ?? .nan
  #expect(gap <= 1e-10)
}
