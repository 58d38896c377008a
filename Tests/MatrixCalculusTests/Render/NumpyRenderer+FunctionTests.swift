import Foundation
import TensorKernel
import TestSupport
import Testing

@testable import MatrixCalculus

/// One problem whose `--format python` and `--format jax` functions are run in Python.
private struct FunctionCase: Sendable {
  var expression: String
  var wrt: String
  var statements: String
  var order = 1
}

private let functionCases: [FunctionCase] = [
  FunctionCase(expression: "x'*A*x", wrt: "x", statements: "A : matrix(n, n); x : vector(n)"),
  FunctionCase(
    expression: "logdet(X) + tr(inv(X)*A)", wrt: "X",
    statements: "A : matrix(n, n); X : matrix(n, n)"),
  FunctionCase(
    expression: "l", wrt: "W",
    statements:
      "X : matrix(b, d); W : matrix(d, h); v : vector(h); y : vector(b); H = X*W; yhat = H*v; "
      + "l = 1/2*(yhat - y)'*(yhat - y)"),
  FunctionCase(
    expression: "-y'*log(softmax(W*x))", wrt: "W",
    statements: "W : matrix(k, n); x : vector(n); y : vector(k)"),
  FunctionCase(
    expression: "sum(log(1 + exp(-y .* (X*w))))", wrt: "w",
    statements: "X : matrix(m, n); w : vector(n); y : vector(m)"),
  // Shared subexpressions become statements.
  FunctionCase(
    expression: "sum(relu(W*x) .* b) + logsumexp(W*x)", wrt: "W",
    statements: "W : matrix(m, n); x : vector(n); b : vector(m)"),
  // A Jacobian, a Hessian, a scalar variable, a keyword input.
  FunctionCase(expression: "tanh(W*x)", wrt: "x", statements: "W : matrix(m, n); x : vector(n)"),
  FunctionCase(
    expression: "x'*A*x + sum(exp(x))", wrt: "x", statements: "A : matrix(n, n); x : vector(n)",
    order: 2),
  FunctionCase(
    expression: "det(X)*s + sum(diag(X))", wrt: "s", statements: "X : matrix(n, n); s : scalar"),
  FunctionCase(
    expression: "norm2(C*x - c)^2 + lambda*x'*x", wrt: "x",
    statements: "C : matrix(m, n); x : vector(n); c : vector(m); lambda : scalar"),
  // Several variables (a tuple), a three-index result (einsum), a solve.
  FunctionCase(
    expression: "l", wrt: "W,v",
    statements:
      "X : matrix(b, d); W : matrix(d, h); v : vector(h); y : vector(b); H = X*W; yhat = H*v; "
      + "l = 1/2*(yhat - y)'*(yhat - y)"),
  FunctionCase(expression: "W*x", wrt: "W", statements: "W : matrix(m, n); x : vector(n)"),
  FunctionCase(
    expression: "y'*inv(A)*x", wrt: "x",
    statements: "A : matrix(n, n); x : vector(n); y : vector(n)"),
  // Solves with X and Xᵀ: under JAX one LU factorisation.
  FunctionCase(
    expression: "a'*inv(X)*b", wrt: "X",
    statements: "X : matrix(n, n); a : vector(n); b : vector(n)"
  ),
  // Transposed matrices times vectors (a tensordot under JAX), not square.
  FunctionCase(
    expression: "y'*tanh(W2*tanh(W1*x))", wrt: "W1",
    statements: "W1 : matrix(h, n); W2 : matrix(m, h); x : vector(n); y : vector(m)"),
]

/// A value as nested lists (a float, a 1-D list for a vector, rows for a matrix).
private func nested(_ t: Tensor, _ type: TypeSpec) -> Any {
  switch NumpyRenderer.axes(of: type) {
  case 0: return t.scalar
  case 1: return t.storage
  default: return (0..<t.rows).map { i in (0..<t.cols).map { t[i, $0] } }
  }
}

/// Every case's `--format python` function, called with the arrays the checker draws, agrees
/// with the formula evaluated here (one Python process for all cases).
@Test(.needs(.numpy)) func emittedFunctionsAgreeWithTheFormulaInNumpy() throws {
  try expectEmittedFunctionsAgree(backend: .python)
}

/// Every case's `--format jax` function under `jax.jit` agrees with the formula likewise.
@Test(.needs(.numpy, .jax)) func emittedFunctionsAgreeWithTheFormulaUnderJaxJit() throws {
  try expectEmittedFunctionsAgree(backend: .jax)
}

private func expectEmittedFunctionsAgree(backend: OutputFormat) throws {
  var cases: [[String: Any]] = []
  var expectations: [(label: String, values: [Double], scale: Double)] = []
  for (index, problem) in functionCases.enumerated() {
    let names = problem.wrt.split(separator: ",").map(String.init)
    let python: String
    let jax: String
    let expected: [Tensor]
    let inputs: Problem
    let requirements: [String: Set<Sampler.Requirement>]
    var values: [String: Tensor] = [:]
    if names.count > 1 {
      let backpropagation = try deriveUnchecked(
        problem.expression, wrt: names, where: problem.statements)
      #expect(try backpropagation.check().passed)
      python = try backpropagation.render(.python)
      jax = try backpropagation.render(.jax)
      inputs = backpropagation.problem
      requirements = Sampler.requirements(
        of: [backpropagation.objective], definitions: inputs.definitions)
      let sizes = Sampler.sizes(for: inputs.inputs.map(\.expr.shape))
      var generator = SplitMix64(seed: UInt64(index))
      values = try Sampler.draw(
        inputsOf: inputs, requirements: requirements, sizes: sizes, generator: &generator)
      var evaluator = Evaluator(sizes: sizes, values: values)
      try evaluator.bind(inputs.definitions + backpropagation.intermediates.asDefinitions)
      expected = try backpropagation.gradients.map { try evaluator.evaluate($0) }
    } else {
      let derivation = try derivedAndChecked(
        problem.expression, wrt: problem.wrt, where: problem.statements, order: problem.order)
      python = try derivation.render(.python)
      jax = try derivation.render(.jax)
      inputs = derivation.problem
      requirements = Sampler.requirements(
        of: [derivation.objective], definitions: inputs.definitions)
      let sizes = Sampler.sizes(for: inputs.inputs.map(\.expr.shape))
      var generator = SplitMix64(seed: UInt64(index))
      values = try Sampler.draw(
        inputsOf: inputs, requirements: requirements, sizes: sizes, generator: &generator)
      var evaluator = Evaluator(sizes: sizes, values: values)
      try evaluator.bind(inputs.definitions)
      expected = [
        try derivation.tensor.map { try $0.jacobian(&evaluator) }
          ?? evaluator.evaluate(derivation.result)
      ]
    }
    #expect(python.hasPrefix("import numpy as np\n"), "\(python)")
    #expect(jax.hasPrefix("import jax.numpy as jnp\n") && !jax.contains("np.linalg.inv(np"))
    #expect(!jax.contains(" np.") && !jax.contains("(np.") && !jax.contains("float("), "\(jax)")
    #expect(python.contains("\"\"\"") && python.contains("Returns:"), "\(python)")
    let name = try #require(
      python.split(separator: "\n").first { $0.hasPrefix("def ") }?.dropFirst(4)
        .prefix { $0 != "(" })
    cases.append([
      "python": python, "jax": jax, "name": String(name),
      "args": inputs.inputs.map { nested(values[$0.name] ?? Tensor(rows: 1, cols: 1), $0.type) },
    ])
    let flat = expected.flatMap(\.storage)
    let scale = max(1, flat.map(abs).max() ?? 0)
    let code = backend == .jax ? jax : python
    expectations.append(("\(problem.expression) wrt \(problem.wrt)\n\(code)", flat, scale))
  }
  let underJit = backend == .jax
  let script = """
    def flat(v):
        parts = v if isinstance(v, tuple) else (v,)
        return [float(x) for p in parts for x in np.asarray(p, dtype=float).ravel()]

    out = []
    for case in json.load(open(PAYLOAD)):
        args = [a if isinstance(a, float) else np.array(a, dtype=float) for a in case['args']]
        scope = {}
        exec(case['\(backend.rawValue)'], scope)
        function = scope[case['name']]
        out.append(flat(\(underJit ? "jax.jit(function)" : "function")(*args)))
    print(json.dumps(out))
    """
  let printed = try PythonRunner.run(script, payload: cases, jax: underJit)
  let results = try JSONDecoder().decode([[Double]].self, from: Data(printed.utf8))
  try #require(results.count == expectations.count)
  for (numbers, expectation) in zip(results, expectations) {
    #expect(numbers.count == expectation.values.count, "\(backend): \(expectation.label)")
    let gap = zip(numbers, expectation.values).map { abs($0 - $1) }.max() ?? .infinity
    #expect(gap <= 1e-9 * expectation.scale, "\(backend): \(expectation.label)")
  }
}

/// Under JAX, Aᵀ b contracts A's first axis with a tensordot (XLA on CPU would copy `A.T` and
/// multiply it in a plain loop); NumPy keeps `A.T @ b`.
@Test func transposedProductsAreTensordotsUnderJax() throws {
  let derivation = try deriveUnchecked("x'*A*x", wrt: "x", where: "A : matrix(n, n); x : vector(n)")
  let jax = try derivation.render(.jax)
  #expect(jax.contains("jnp.tensordot(A, x[:, None], axes=(0, 0))") && !jax.contains(".T @"))
  #expect(try derivation.render(.python).contains("(A.T @ x[:, None])"))
}

/// Under JAX the solves with X and Xᵀ share one LU factorisation; NumPy has none to share.
@Test func solvesShareOneFactorisationUnderJax() throws {
  let derivation = try deriveUnchecked(
    "a'*inv(X)*b", wrt: "X", where: "X : matrix(n, n); a : vector(n); b : vector(n)")
  let jax = try derivation.render(.jax)
  #expect(jax.components(separatedBy: "lu_factor(X)").count == 2, "\(jax)")
  #expect(jax.components(separatedBy: "lu_solve(_lu0, ").count == 3, "\(jax)")
  #expect(jax.contains("import jax.scipy.linalg\n") && !jax.contains("linalg.solve("))
  let python = try derivation.render(.python)
  #expect(!python.contains("lu_") && !python.contains("import jax"), "\(python)")
}
