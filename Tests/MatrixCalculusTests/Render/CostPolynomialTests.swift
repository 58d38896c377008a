import Testing

@testable import MatrixCalculus

/// The cost model over symbols agrees with the cost model over numbers at any sizes.
@Test func costPolynomialsEvaluateAsTheModel() {
  let model = CostModel()
  let (n, k) = (CostPolynomial(symbol: "n"), CostPolynomial(symbol: "k"))
  let symbolic = model.product(n, k, n) + model.solve(n, k) + model.inverse(k)
  for (nn, kk) in [(7.0, 2.0), (2000, 200), (3, 5)] {
    let numeric = model.product(nn, kk, nn) + model.solve(nn, kk) + model.inverse(kk)
    let value = symbolic.value { $0 == "n" ? nn : kk }
    #expect(abs(value - numeric) <= 1e-12 * numeric, "\(nn), \(kk)")
  }
}

/// (n²k − 4nk²) / (nk) = n − 4k; printed highest degree first, integers as integers.
@Test func costPolynomialsPrintWithoutTheirCommonFactor() {
  let (n, k) = (CostPolynomial(symbol: "n"), CostPolynomial(symbol: "k"))
  let p = n * n * k - CostPolynomial(4) * n * k * k
  #expect(p.withoutCommonFactor == n - CostPolynomial(4) * k)
  #expect(p.text { $0 } == "-4*k*k*n + k*n*n")
  let q = CostPolynomial(3) * (CostPolynomial(2.0 / 3) * n * n * n) + CostPolynomial(5)
  #expect(q.text { "\($0).shape[0]" } == "2*n.shape[0]*n.shape[0]*n.shape[0] + 5")
  #expect(CostPolynomial(0).text { $0 } == "0")
}
