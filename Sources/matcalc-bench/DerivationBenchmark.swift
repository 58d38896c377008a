import Foundation
import MatrixCalculus

/// One seed or Cookbook problem to time.
struct BenchProblem {
  let name: String
  let expression: String
  let wrt: String
  let statements: String
}

let problems: [BenchProblem] = [
  BenchProblem(
    name: "linear layer", expression: "l", wrt: "W",
    statements: "L : function; W : matrix(m, n); X : matrix(n, p); D = W*X; l = L(D)"),
  BenchProblem(
    name: "least squares", expression: "l", wrt: "W",
    statements: "X : matrix(b, d); W : matrix(d, h); v : vector(h); y : vector(b); H = X*W; "
      + "yhat = H*v; l = 1/2*(yhat - y)'*(yhat - y)"),
  BenchProblem(
    name: "dense tanh", expression: "l", wrt: "W",
    statements: "L : function; W : matrix(h, d); x : vector(d); b : vector(h); z = W*x + b; "
      + "y = tanh(z); l = L(y)"),
  BenchProblem(
    name: "transposed weights", expression: "l", wrt: "W",
    statements: "L : function; W : matrix(a, m); A : matrix(a, n); Z = W'*A; l = L(Z)"),
  BenchProblem(
    name: "3-layer MLP", expression: "l", wrt: "W1",
    statements: "L : function; X : matrix(d, b); W1 : matrix(h1, d); W2 : matrix(h2, h1); "
      + "W3 : matrix(o, h2); H1 = tanh(W1*X); H2 = tanh(W2*H1); Y = W3*H2; l = L(Y)"),
  BenchProblem(name: "quadratic form", expression: "x'*A*x", wrt: "x", statements: ""),
  BenchProblem(name: "log det", expression: "logdet(X) - tr(S*X)", wrt: "X", statements: ""),
]

/// Wall time of `body` in milliseconds.
func milliseconds(_ body: () throws -> Void) rethrows -> Double {
  let start = DispatchTime.now().uptimeNanoseconds
  try body()
  return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
}

/// `matcalc-bench derive`: time to derive and render each problem, and to certify it.
func benchmarkDerivations() throws {
  let repeats = 20
  for problem in problems {
    var derive = Double.infinity
    var certify = Double.infinity
    for _ in 0..<repeats {
      var derivation: Derivation?
      derive = min(
        derive,
        try milliseconds {
          let d = try MatrixCalculus.deriveUnchecked(
            problem.expression, wrt: problem.wrt, where: problem.statements)
          _ = try d.render(.text)
          derivation = d
        })
      if let derivation {
        certify = min(certify, try milliseconds { _ = try derivation.check() })
      }
    }
    let label = problem.name.padding(toLength: 20, withPad: " ", startingAt: 0)
    print(String(format: "%@ derive %7.3f ms, certificate %7.3f ms", label, derive, certify))
  }
}

/// Statements of an L-layer tanh network over a batch: H_l = tanh(W_l H_{l-1}), l = L(H_L).
func perceptronStatements(layers: Int) -> String {
  var statements = ["L : function", "X : matrix(d0, b)"]
  var previous = "X"
  for layer in 1...layers {
    statements.append("W\(layer) : matrix(d\(layer), d\(layer - 1))")
    statements.append("H\(layer) = tanh(W\(layer)*\(previous))")
    previous = "H\(layer)"
  }
  statements.append("l = L(\(previous))")
  return statements.joined(separator: "; ")
}
