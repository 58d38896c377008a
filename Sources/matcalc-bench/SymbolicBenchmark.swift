import Foundation
import MatrixCalculus

/// `matcalc-bench symbolic`: derivation time per problem against SymPy in the same run, an
/// L-layer network's gradients with respect to every weight, and a product chain.
enum SymbolicBenchmark {
  /// Problems by id (the ids of sympy_bench.py).
  static let problems: [(id: String, expression: String, wrt: String, statements: String)] = [
    ("quadratic-form", "x'*A*x", "x", "A : matrix(n, n); x : vector(n)"),
    ("trace-AX", "tr(A*X)", "X", "A : matrix(n, n); X : matrix(n, n)"),
    ("trace-XtA", "tr(X'*A)", "X", "A : matrix(n, n); X : matrix(n, n)"),
    ("bilinear", "a'*X*b", "X", "X : matrix(n, n); a : vector(n); b : vector(n)"),
    ("bilinear-transposed", "a'*X'*b", "X", "X : matrix(n, n); a : vector(n); b : vector(n)"),
    ("trace-AXB", "tr(A*X*B)", "X", "A : matrix(n, n); B : matrix(n, n); X : matrix(n, n)"),
    ("trace-XtX", "tr(X'*X)", "X", "X : matrix(n, n)"),
    (
      "least-squares", "(C*x - y)'*(C*x - y)", "x", "C : matrix(m, n); x : vector(n); y : vector(m)"
    ),
    ("logdet", "logdet(X)", "X", "X : matrix(n, n)"),
    ("det", "det(X)", "X", "X : matrix(n, n)"),
    ("trace-inverse", "tr(inv(X)*A)", "X", "A : matrix(n, n); X : matrix(n, n)"),
    (
      "two-definitions", "l", "W",
      "X : matrix(b, d); W : matrix(d, h); v : vector(h); y : vector(b); H = X*W; yhat = H*v; "
        + "l = 1/2*(yhat - y)'*(yhat - y)"
    ),
    (
      "ridge", "(C*x - y)'*(C*x - y) + 3*x'*x", "x",
      "C : matrix(m, n); x : vector(n); y : vector(m)"
    ),
    ("linear-term", "a'*x + c'*x", "x", "a : vector(n); c : vector(n); x : vector(n)"),
    (
      "linear-layer", "l", "W",
      "L : function; W : matrix(m, n); X : matrix(n, p); D = W*X; l = L(D)"
    ),
    (
      "dense-tanh", "l", "W",
      "L : function; W : matrix(h, d); x : vector(d); b : vector(h); z = W*x + b; y = tanh(z); "
        + "l = L(y)"
    ),
    (
      "transposed-weights", "l", "W",
      "L : function; W : matrix(a, m); A : matrix(a, n); Z = W'*A; l = L(Z)"
    ),
    ("mlp-3", "l", "W1", perceptronStatements(layers: 3)),
  ]

  /// `runs` timings of `body` in milliseconds, fastest first.
  static func sortedTimes(runs: Int = 31, _ body: () throws -> Void) rethrows -> [Double] {
    var times: [Double] = []
    for _ in 0..<runs { times.append(try milliseconds(body)) }
    return times.sorted()
  }

  /// Median of `runs` timings of `body`, in milliseconds.
  static func median(runs: Int = 31, _ body: () throws -> Void) rethrows -> Double {
    let times = try sortedTimes(runs: runs, body)
    return times[times.count / 2]
  }

  /// SymPy's seconds per problem id, or nil without python3/SymPy.
  static func sympyTimes() -> [String: Double?]? {
    let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .appendingPathComponent("sympy_bench.py")
    guard let data = runPython([script.path, "5"]) else { return nil }
    return try? JSONDecoder().decode([String: Double?].self, from: data)
  }

  /// Least-squares slope of log t against log L.
  static func exponent(_ points: [(Int, Double)]) -> Double {
    let xs = points.map { log(Double($0.0)) }
    let ys = points.map { log($0.1) }
    let mx = xs.reduce(0, +) / Double(xs.count)
    let my = ys.reduce(0, +) / Double(ys.count)
    let covariance = zip(xs, ys).reduce(0) { $0 + ($1.0 - mx) * ($1.1 - my) }
    let variance = xs.reduce(0) { $0 + ($1 - mx) * ($1 - mx) }
    return covariance / variance
  }

  /// The product chain tr(W_L ⋯ W_1 X), each factor of its own shape, and its declarations.
  static func chain(layers: Int) -> (expression: String, statements: String) {
    var statements = ["X : matrix(d0, d\(layers))"]
    var product = "X"
    for layer in 1...layers {
      statements.append("W\(layer) : matrix(d\(layer), d\(layer - 1))")
      product = "W\(layer)*\(product)"
    }
    return ("tr(\(product))", statements.joined(separator: "; "))
  }

  static func run() throws {
    let sympy = sympyTimes()
    var speedups: [Double] = []
    for problem in problems {
      let times = try sortedTimes {
        _ = try MatrixCalculus.deriveUnchecked(
          problem.expression, wrt: problem.wrt, where: problem.statements
        )
        .render(.text)
      }
      let derive = times[times.count / 2]
      // SymPy's time is its best of 5 (cache cleared each run); the ratio compares best
      // with best, so neither side is judged by its noise.
      let best = times[0]
      let certified = try median {
        let d = try MatrixCalculus.deriveUnchecked(
          problem.expression, wrt: problem.wrt, where: problem.statements)
        _ = try d.render(.text, certificate: try d.check())
      }
      var line = String(
        format: "problem %@: %.3f ms (best %.3f ms), with certificate %.3f ms", problem.id,
        derive, best, certified)
      if let sympy {
        if let seconds = sympy[problem.id] ?? nil {
          let speedup = seconds * 1000 / best
          speedups.append(speedup)
          line += String(
            format:
              ", sympy best %.3f ms, speedup %.0f× (best against best, %.0f× against our median)",
            seconds * 1000, speedup, seconds * 1000 / derive)
        } else {
          line += ", sympy cannot"
        }
      }
      print(line)
    }
    // Rounds over every L in turn, fifteen times; each L keeps its best and median. Taking
    // the sizes in turn spreads each over the whole run, so a neighbour's burst of load on
    // this shared machine slows one round of every size rather than all runs of one size.
    let sizes = [1, 2, 4, 8, 16, 32, 64, 128, 256]
    var times = [[Double]](repeating: [], count: sizes.count)
    var characters = [Int](repeating: 0, count: sizes.count)
    for _ in 0..<15 {
      for (index, layers) in sizes.enumerated() {
        let statements = perceptronStatements(layers: layers)
        let weights = (1...layers).map { "W\($0)" }
        times[index].append(
          try milliseconds {
            let text = try MatrixCalculus.deriveUnchecked("l", wrt: weights, where: statements)
              .render(.text)
            characters[index] = text.count
          })
      }
    }
    var timings: [(Int, Double)] = []
    for (index, layers) in sizes.enumerated() {
      let sorted = times[index].sorted()
      timings.append((layers, sorted[0]))
      print(String(format: "mlp L=%d: %.1f ms", layers, sorted[0]))
      print(String(format: "mlp median L=%d: %.1f ms", layers, sorted[sorted.count / 2]))
      print("mlp output L=\(layers): \(characters[index]) characters")
    }
    print(String(format: "mlp exponent 16..256: %.2f", exponent(timings.filter { $0.0 >= 16 })))
    for layers in [4, 16, 64, 256] {
      let chain = chain(layers: layers)
      let time = try median(runs: 7) {
        _ = try MatrixCalculus.deriveUnchecked(chain.expression, wrt: "W1", where: chain.statements)
          .render(.text)
      }
      print(String(format: "chain L=%d: %.2f ms", layers, time))
    }
    if speedups.isEmpty {
      print("sympy median speedup: unavailable (python3 with sympy 1.14 not found)")
    } else {
      speedups.sort()
      print(String(format: "sympy median speedup: %.0f×", speedups[speedups.count / 2]))
    }
  }
}
