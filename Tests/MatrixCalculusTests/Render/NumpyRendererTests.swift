import Foundation
import TensorKernel
import TestSupport
import Testing

@testable import MatrixCalculus

/// Runs Python with NumPy (an outside consumer of `--format numpy`) on the emitted line and
/// compares its value with the formula evaluated here.
enum PythonRunner {
  static func run(_ script: String) throws -> String {
    try output(of: try launched(["-c", script]))
  }

  /// `script` run by python3 after a preamble that imports `json`, `re` and NumPy as `np`
  /// (with `jax`, JAX in float64, or None where it is not installed), with `payload` written
  /// as JSON to a temporary file that the script reads as `json.load(open(PAYLOAD))`; its
  /// output, or an error when python3 fails.
  static func run(_ script: String, payload: Any, jax: Bool = false) throws -> String {
    try output(of: try result(script, payload: payload, jax: jax))
  }

  /// ``run(_:payload:jax:)`` with python3's `options` (`-W error`), and its status, output and
  /// error as they are.
  static func result(_ script: String, payload: Any, jax: Bool = false, options: [String] = [])
    throws -> (status: Int32, output: String, error: String)
  {
    let file = FileManager.default.temporaryDirectory
      .appendingPathComponent("python-payload-\(UUID().uuidString).json")
    try JSONSerialization.data(withJSONObject: payload).write(to: file)
    defer { try? FileManager.default.removeItem(at: file) }
    let importJax = """
      try:
          import jax
          jax.config.update("jax_enable_x64", True)
      except ImportError:
          jax = None

      """
    let preamble =
      "import json, re\nimport numpy as np\n" + (jax ? importJax : "")
      + "PAYLOAD = '\(file.path)'\n"
    return try launched(options + ["-c", preamble + script])
  }

  /// python3 with `arguments`; skipped with one line without NumPy, failed under CI
  /// (``OutsideTool``).
  private static func launched(_ arguments: [String]) throws
    -> (status: Int32, output: String, error: String)
  {
    if let missing = OutsideTool.missing([.numpy]) {
      if OutsideTool.isRequired() { throw MatcalcError.numeric(missing) }
      try Test.cancel(Comment(rawValue: missing))
    }
    return try Subprocess.run(["python3"] + arguments)
  }

  private static func output(of result: (status: Int32, output: String, error: String)) throws
    -> String
  {
    guard result.status == 0 else {
      throw MatcalcError.numeric("python3 failed: " + result.error)
    }
    return result.output
  }

  /// Binds every input of `problem` to its value in Python, evaluates `line` there, and
  /// returns the result flattened (row-major).
  static func evaluate(_ line: String, problem: Problem, values: [String: Tensor]) throws
    -> [Double]
  {
    var script = "import numpy as np, json\n"
    for input in problem.inputs {
      guard let value = values[input.name] else { continue }
      script += "globals()['\(input.name)'] = \(literal(value, input.type))\n"
    }
    script += "print(json.dumps(np.asarray(\(line), dtype=float).ravel().tolist()))\n"
    return try JSONDecoder().decode([Double].self, from: Data(try run(script).utf8))
  }

  static func literal(_ t: Tensor, _ type: TypeSpec) -> String {
    func number(_ x: Double) -> String { "\(x)" }
    switch NumpyRenderer.axes(of: type) {
    case 0: return number(t.scalar)
    case 1: return "np.array([\(t.storage.map(number).joined(separator: ", "))])"
    default:
      let rows = (0..<t.rows).map { i in
        "[" + (0..<t.cols).map { number(t[i, $0]) }.joined(separator: ", ") + "]"
      }
      return "np.array([\(rows.joined(separator: ", "))])"
    }
  }
}

@Test(
  .needs(.numpy),
  arguments: [
    ("x'*A*x", "x", "A : matrix(n, n); x : vector(n)"),
    ("logdet(X) + tr(inv(X)*A)", "X", "A : matrix(n, n); X : matrix(n, n)"),
    (
      "norm2(C*x - c)^2 + lambda*x'*x", "x",
      "C : matrix(m, n); x : vector(n); c : vector(m); lambda : scalar"
    ),
    (
      "l", "W",
      "X : matrix(b, d); W : matrix(d, h); v : vector(h); y : vector(b); H = X*W; yhat = H*v; l = 1/2*(yhat - y)'*(yhat - y)"
    ),
    ("-y'*log(softmax(W*x))", "W", "W : matrix(k, n); x : vector(n); y : vector(k)"),
    ("sum(log(1 + exp(-y .* (X*w))))", "w", "X : matrix(m, n); w : vector(n); y : vector(m)"),
    ("sum(relu(W*x) .* b) + logsumexp(W*x)", "W", "W : matrix(m, n); x : vector(n); b : vector(m)"),
    ("det(X)*s + sum(diag(X))", "s", "X : matrix(n, n); s : scalar"),
    ("sum(sqrt(A .* A + 1)) + norm1(A)", "A", "A : matrix(m, n)"),
    (
      "x'*diag(v)*x + sum(sigmoid(v)) + tr(A^3)", "v",
      "x : vector(n); v : vector(n); A : matrix(n, n)"
    ),
    (
      "sum(sp(W*x)) + b'*silu(W*x) + sum(softplus(x))", "W",
      "W : matrix(m, n); x : vector(n); b : vector(m); sp(t) = log(1 + exp(t))"
    ),
  ])
func numpyLineAgreesWithTheFormula(_ expression: String, wrt: String, statements: String) throws {
  let derivation = try derivedAndChecked(expression, wrt: wrt, where: statements)
  let line = try derivation.render(.numpy)
  #expect(!line.contains("\n"))
  let problem = derivation.problem
  let sizes = Sampler.sizes(for: problem.inputs.map(\.expr.shape))
  let requirements = Sampler.requirements(
    of: [derivation.objective, derivation.result], definitions: problem.definitions)
  var generator = SplitMix64(seed: 7)
  var values: [String: Tensor] = [:]
  var script = "import numpy as np, json\n"
  for input in problem.inputs {
    let value = try Sampler.draw(
      input.expr.shape, requirements: requirements[input.name] ?? [], symmetric: false,
      sizes: sizes, generator: &generator)
    values[input.name] = value
    script += "globals()['\(input.name)'] = \(PythonRunner.literal(value, input.type))\n"
  }
  script += "print(json.dumps(np.asarray(\(line), dtype=float).ravel().tolist()))\n"
  var evaluator = Evaluator(sizes: sizes, values: values)
  try evaluator.bind(problem.definitions)
  let expected = try evaluator.evaluate(derivation.result)
  let printed = try PythonRunner.run(script)
  let numbers = try JSONDecoder().decode([Double].self, from: Data(printed.utf8))
  #expect(numbers.count == expected.count, "\(line)")
  let gap = zip(numbers, expected.storage).map { abs($0 - $1) }.max() ?? .infinity
  #expect(gap <= 1e-9 * max(1, expected.maxAbs), "\(line): \(numbers) vs \(expected.storage)")
}

/// c log x is stable only where x > 0 by construction: log((1 + x)²) is not 2 log1p(x), which is
/// NaN below x = −1; the emitted line agrees with the formula there.
@Test(.needs(.numpy)) func powerInsideALogIsNotTurnedIntoALog1p() throws {
  let d = try derive("sum(x .* log((1 + x).^2))", wrt: "x", where: "x : vector(n)")
  let line = try d.render(.numpy)
  let x = Tensor(rows: 2, cols: 1, storage: [-3, 0.5])
  let printed = try PythonRunner.evaluate(line, problem: d.problem, values: ["x": x])
  var evaluator = Evaluator(sizes: ["n": 2], values: ["x": x])
  let expected = try evaluator.evaluate(d.result)
  let finite = printed.allSatisfy { $0.isFinite }
  let agrees = zip(printed, expected.storage).allSatisfy { abs($0 - $1) < 1e-9 }
  #expect(finite && agrees, "\(line): \(printed), expected \(expected.storage)")
}
