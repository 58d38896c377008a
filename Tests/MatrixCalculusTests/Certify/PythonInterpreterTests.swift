import Foundation
import TensorKernel
import Testing

@testable import MatrixCalculus

/// The arrays the interpreter tests bind, as Python literals and as values.
private let bound: [(name: String, shape: [Int], values: [Double])] = [
  ("A", [3, 2], [0.5, -1.25, 2.0, 0.75, -0.5, 1.5]),
  ("B", [2, 3], [1.0, 0.25, -2.0, 0.5, 1.75, -0.25]),
  ("S", [3, 3], [4.0, 1.0, 0.5, 1.0, 3.0, -0.25, 0.5, -0.25, 2.0]),
  ("x", [2], [0.3, -0.7]),
  ("y", [3], [1.5, -0.5, 0.25]),
  ("s", [], [0.5]),
]

/// Expressions the emitters print (and a few they may), each run by the interpreter and by
/// Python with NumPy; the last ones are errors in both.
private let expressions = [
  "1 + 2", "7 // 2", "-7 // 2", "-3 % 2", "2 ** 10", "1 / 4", "2 ** -1", "-A ** 2", "A @ B",
  "B @ A", "x @ x", "A @ x", "y @ A", "np.outer(x, y)", "x[:, None] * y", "A + y[:, None]",
  "A * x", "A.T", "A.shape[0] * A.shape[1]", "np.sum(A, axis=0)",
  "np.sum(A, axis=1, keepdims=True)", "np.sum(A * A, axis=(0, 1))", "np.mean(A)",
  "np.mean(A, axis=-1)", "np.max(A, axis=0)", "np.max(A) + np.min(A)",
  "np.exp(A) / np.sum(np.exp(A))", "np.log1p(np.abs(A))", "np.logaddexp(A, 1.0)",
  "np.tanh(A)", "np.sqrt(np.abs(A))", "np.sign(A)", "np.maximum(A, 0.0)",
  "np.where(A > 0, A, 0.5 * A)", "np.reshape(A, (-1,))", "A.reshape(2, 3)", "np.transpose(A)",
  "np.kron(A, B)", "np.kron(x, y)", "np.einsum('ij,jk->ik', A, B)",
  "np.einsum('ki,lj->ijkl', np.eye(3), np.eye(2))", "np.einsum('ij->', A)",
  "np.einsum('ii->i', S)", "np.einsum('ij,j', A, x)", "np.einsum('i,j->ij', y, np.ones(1))",
  "np.linalg.solve(S, y)", "np.linalg.solve(S, A)", "np.linalg.inv(S)", "np.linalg.det(S)",
  "np.linalg.slogdet(S)[1]", "np.linalg.slogdet(-S)[0]", "np.linalg.multi_dot([x, B, A, x])",
  "np.linalg.multi_dot([A, B, S])", "np.linalg.norm(A)", "np.trace(S)", "np.diag(x)",
  "np.diag(S)", "np.diag(np.ravel(A[:, :1]))", "np.eye(3)", "np.ones((2, 3))", "np.zeros(3)",
  "(lambda t: t @ t.T)(A)", "(lambda a, b: a - b)(y, 1)", "A if A.shape[0] > 2 else B",
  "A if A.shape[0] < 2 else B", "float(np.squeeze(x @ x))", "np.squeeze(A[:, :1])", "S[0, 0]",
  "y[-1]", "A[1]", "A[:, 1]", "S[::2, 1:]", "S[..., None].shape[2]", "x[None, :] + y[:, None]",
  "np.tensordot(A, y, axes=(0, 0))", "np.tensordot(A, B, axes=1)", "np.power(np.abs(A), 1.5)",
  "np.abs(A) ** 0.5", "np.heaviside(A, 0.0)", "globals()['A'] @ x", "np.asarray(3.0)",
  "int(A[1, 1] * 10)",
  "np.outer(x[:, None], y[:, None].T)", "np.dot(A, x)", "s * A + s", "np.asarray([[1, 2], [3, 4]])",
  "np.squeeze(np.sum(A, axis=0, keepdims=True))", "A.sum(axis=0)", "np.expand_dims(x, 0)",
  "np.swapaxes(np.ones((2, 3, 4)), 0, 2).shape[0]", "(A > 0) * 1.0", "np.minimum(A, y[:, None])",
  "np.log(np.sum(np.exp(A - np.max(A)))) + np.max(A)", "1e-06 * A", "np.float64(2.5) * 2",
  // Errors, in Python and here.
  "A @ A", "A + B", "np.einsum('->ijkl', )", "np.einsum('ij,jk->il', A, B)", "np.foo(A)",
  "x[:, None] + np.ones((3, 3))", "np.linalg.solve(A, y)", "np.linalg.inv(np.zeros((2, 2)))",
  "undefined_name", "A[3]", "A[0, 0, 0]", "np.reshape(A, (4, 2))", "y[:, None] @ y[:, None]",
  "1 // 0", "float(x[:1])", "float(A[:1, :1])", "int(A[:1, 0])",
]

/// A value as the tests compare it: a shape and the entries, or an error.
private enum Outcome: Equatable {
  case value([Int], [Double])
  case error
}

private func outcome(_ value: PythonValue) -> Outcome {
  switch value {
  case .array(let a): return .value(a.shape, a.storage)
  case .integer(let n): return .value([], [Double(n)])
  case .boolean(let b): return .value([], [b ? 1 : 0])
  default: return .error
  }
}

private func agree(_ a: Outcome, _ b: Outcome) -> Bool {
  switch (a, b) {
  case (.error, .error): return true
  case (.value(let s, let u), .value(let t, let v)):
    guard s == t, u.count == v.count else { return false }
    return zip(u, v).allSatisfy { abs($0 - $1) <= 1e-12 * max(1, abs($0), abs($1)) }
  default: return false
  }
}

/// Runs `script`'s `exprs` in one Python process: each a shape and entries, or an error.
private func pythonOutcomes(of sources: [String], prelude: String) throws -> [Outcome] {
  let script = """
    \(prelude)
    out = []
    for e in json.load(open(PAYLOAD)):
        try:
            a = np.asarray(eval(e), dtype=float)
            out.append({'shape': list(a.shape), 'values': [float(v) for v in a.ravel()]})
        except Exception as error:
            out.append({'error': type(error).__name__})
    print(json.dumps(out))
    """
  let printed = try PythonRunner.run(script, payload: sources)
  let decoded = try JSONSerialization.jsonObject(with: Data(printed.utf8)) as? [[String: Any]]
  return (decoded ?? []).map { item in
    guard let shape = item["shape"] as? [Int], let values = item["values"] as? [Double] else {
      return .error
    }
    return .value(shape, values)
  }
}

/// Every expression gives what NumPy gives: the same shape and entries, or an error in both.
@Test func interpreterAgreesWithNumpyOnExpressions() throws {
  var globals: [String: PythonValue] = [:]
  var prelude = ""
  for (name, shape, values) in bound {
    globals[name] = .array(try NDArray(shape: shape, storage: values))
    let literal = "np.array(\(values)).reshape(\(shape.isEmpty ? "()" : "\(shape)"))"
    prelude += shape.isEmpty ? "\(name) = \(values[0])\n" : "\(name) = \(literal)\n"
  }
  let python = try pythonOutcomes(of: expressions, prelude: prelude)
  try #require(python.count == expressions.count)
  for (source, expected) in zip(expressions, python) {
    var interpreter = PythonInterpreter()
    let mine: Outcome
    do {
      mine = outcome(try interpreter.evaluate(source, globals: globals))
    } catch {
      mine = .error
    }
    #expect(agree(mine, expected), "\(source): here \(mine), NumPy \(expected)")
  }
}

/// A module as `--format python` prints it: imports, a def with a docstring and comments,
/// statements, a tuple returned; called by parameter name.
@Test func interpreterRunsAFunctionModule() throws {
  let module = """
    import numpy as np
    import jax.scipy.linalg


    def grad_f_x_A(A, x, lambda_):
        \"\"\"∂f/∂x = (A + Aᵀ) x

        Parameters:
            A: (n, n) array
        \"\"\"
        # Evaluation order planned for every symbolic dimension large.
        _t0 = x[:, None]  # a column
        _lu0 = jax.scipy.linalg.lu_factor(A)
        u, v = (A @ _t0), (A.T @ _t0)
        return (np.reshape(u + v, (-1,)) * lambda_, jax.scipy.linalg.lu_solve(_lu0, _t0, trans=1))
    """
  let a = try NDArray(shape: [2, 2], storage: [2, 1, 0.5, 3])
  let x = try NDArray(shape: [2], storage: [1, -1])
  var interpreter = PythonInterpreter()
  let value = try interpreter.call(
    module: module,
    arguments: ["A": .array(a), "x": .array(x), "lambda_": .array(NDArray(scalar: 2))])
  guard case .tuple(let parts) = value, parts.count == 2, case .array(let g) = parts[0],
    case .array(let solved) = parts[1]
  else {
    Issue.record("not a pair of arrays: \(value.typeName)")
    return
  }
  // (A + Aᵀ) x · 2 with A = [[2, 1], [0.5, 3]], x = (1, −1).
  let gradient: [Double] = [5, -9]
  #expect(g.shape == [2] && g.storage == gradient)
  // Aᵀ z = x: 2 z₀ + 0.5 z₁ = 1 and z₀ + 3 z₁ = −1.
  let z: [Double] = solved.storage
  let first: Double = 2 * z[0] + 0.5 * z[1] - 1
  let second: Double = z[0] + 3 * z[1] + 1
  #expect(solved.shape == [2, 1] && abs(first) < 1e-12 && abs(second) < 1e-12)
  var missing = PythonInterpreter()
  #expect(throws: MatcalcError.self) {
    try missing.call(module: module, arguments: ["A": .array(a), "x": .array(x)])
  }
}

/// A function choosing its order from its arguments' shapes (`if` with the names of the
/// dimensions, a fall-through `return`, and `else`) returns from the branch the shapes pick.
@Test func interpreterRunsIfBlocks() throws {
  let module = """
    import numpy as np


    def grad_f_U(U, V):
        k = U.shape[1]
        n = U.shape[0]
        # The order that costs less:
        if 2*k*n*n + 50*n*n <= 4*k*k*n:
            return (U @ V.T) @ V
        if n < 0:
            return None
        else:
            t = V.T @ V
        return U @ t
    """
  for (n, k) in [(3, 5), (5, 2)] {
    let u = try NDArray(shape: [n, k], storage: (0..<(n * k)).map { Double($0 % 7) - 3 })
    let v = try NDArray(shape: [n, k], storage: (0..<(n * k)).map { Double($0 % 5) - 2 })
    var interpreter = PythonInterpreter()
    let value = try interpreter.call(module: module, arguments: ["U": .array(u), "V": .array(v)])
    guard case .array(let result) = value else {
      Issue.record("not an array: \(value.typeName)")
      return
    }
    // U Vᵀ V either way.
    var expected = [Double](repeating: 0, count: n * k)
    for i in 0..<n {
      for j in 0..<k {
        for a in 0..<n {
          for b in 0..<k {
            expected[i * k + j] +=
              u.storage[i * k + b] * v.storage[a * k + b] * v.storage[a * k + j]
          }
        }
      }
    }
    #expect(result.shape == [n, k] && result.storage == expected, "\(n)×\(k)")
  }
  var broken = PythonInterpreter()
  #expect(throws: MatcalcError.self) {
    try broken.call(module: "def f(x):\n    if x:\n    return x\n", arguments: ["x": .none])
  }
}

/// Text that is not the subset, or not Python, is an error, never a trap.
@Test(arguments: [
  "(", "np.exp(", "x[", "lambda: ", "1 +", "def f(:", "'unterminated", "a b", "x = = 1",
  String(repeating: "(", count: 250) + "1" + String(repeating: ")", count: 250), "np.e.x",
  "np.linalg", "(1, 2)[5]", "np.einsum('ij', x)", "np.reshape(x, (-1, -1))",
])
func malformedProgramsThrow(_ source: String) {
  var interpreter = PythonInterpreter()
  let x = try? NDArray(shape: [2], storage: [1, 2])
  #expect(throws: (any Error).self) {
    let value = try interpreter.evaluate(source, globals: ["x": .array(x ?? NDArray(scalar: 0))])
    if case .module = value { throw MatcalcError.numeric("a module is not a result") }
  }
}

/// The deepest chains the parser accepts evaluate without exhausting the stack; deeper ones
/// are refused with an error.
@Test func deepChainsEvaluateOrAreRefused() throws {
  let depth = PythonParser.maximumDepth - 10
  let x = PythonValue.array(NDArray(scalar: 1))
  var negations = PythonInterpreter()
  let negated = try negations.evaluate(
    String(repeating: "-", count: depth) + "x", globals: ["x": x])
  #expect(try negated.asArray().scalar == (depth % 2 == 0 ? 1 : -1))
  var sums = PythonInterpreter()
  let sum = try sums.evaluate("x" + String(repeating: " + x", count: depth), globals: ["x": x])
  #expect(try sum.asArray().scalar == Double(depth + 1))
  var lambdas = PythonInterpreter()
  let nested =
    String(repeating: "(lambda t: ", count: 190) + "t" + String(repeating: ")(x)", count: 190)
  #expect(try lambdas.evaluate(nested, globals: ["x": x]).asArray().scalar == 1)
  var deeper = PythonInterpreter()
  #expect(throws: MatcalcError.self) {
    try deeper.evaluate(String(repeating: "-", count: depth + 100) + "x", globals: ["x": x])
  }
}

/// Emitted code with characters deleted, duplicated or swapped (seeded) gives a value or an
/// error, never a trap.
@Test func mutatedEmittedCodeNeverTraps() throws {
  let statements = "A : matrix(n, n); X : matrix(n, n); x : vector(n); y : vector(n)"
  var texts: [String] = []
  for (expression, wrt) in [
    ("x'*A*x + logdet(X)", "X"), ("y'*inv(X)*x", "X"), ("sum(exp(A*x))", "x"), ("A*x", "A"),
  ] {
    let d = try derive(expression, wrt: wrt, where: statements)
    texts += [try d.render(.numpy), try d.render(.python), try d.render(.jax)]
  }
  let values: [String: PythonValue] = [
    "A": .array(try NDArray(shape: [2, 2], storage: [2, 1, 0.5, 3])),
    "X": .array(try NDArray(shape: [2, 2], storage: [3, 0.25, -0.5, 2])),
    "x": .array(try NDArray(shape: [2], storage: [1, -1])),
    "y": .array(try NDArray(shape: [2], storage: [0.5, 2])),
  ]
  var generator = SplitMix64(seed: TestFunctions.stableHash("mutatedEmittedCodeNeverTraps"))
  var outcomes = (values: 0, errors: 0)
  for round in 0..<600 {
    var characters = Array(texts[round % texts.count])
    for _ in 0..<(1 + round % 3) where !characters.isEmpty {
      let position = Int(generator.next() % UInt64(characters.count))
      switch generator.next() % 3 {
      case 0: characters.remove(at: position)
      case 1: characters.insert(characters[position], at: position)
      default: characters.swapAt(position, (position + 1) % characters.count)
      }
    }
    let text = String(characters)
    var interpreter = PythonInterpreter()
    do {
      if text.hasPrefix("import") {
        _ = try interpreter.call(module: text, arguments: values)
      } else {
        _ = try interpreter.evaluate(text, globals: values)
      }
      outcomes.values += 1
    } catch {
      outcomes.errors += 1
    }
  }
  #expect(outcomes.values > 0 && outcomes.errors > 0, "\(outcomes)")
}

/// A `jax.custom_vjp` module: the decorated function computes its primal, `defvjp` sets its
/// rule, and `f(*residuals, g)` spreads a tuple.
@Test func interpreterRunsACustomVJPModule() throws {
  let module = """
    import jax.numpy as jnp
    import jax


    def backward(a, b, g):
        return (g * b, g * a)


    @jax.custom_vjp
    def layer(a, b):
        return a * b


    def _fwd(a, b):
        return layer(a, b), (a, b)


    def _bwd(residuals, g):
        gradients = backward(*residuals, g)
        return (gradients[0], None)


    layer.defvjp(_fwd, _bwd)
    """
  var interpreter = PythonInterpreter()
  defer { interpreter.close() }
  let loaded = try interpreter.load(module: module)
  guard case .customVJP(let layer) = loaded.names["layer"], let forward = layer.forward,
    let backward = layer.backward
  else {
    Issue.record("no custom_vjp layer: \(loaded.names["layer"]?.typeName ?? "none")")
    return
  }
  let (a, b, g) = (NDArray(scalar: 2), NDArray(scalar: 3), NDArray(scalar: 5))
  let primal = try interpreter.callValue(.customVJP(layer), [.array(a), .array(b)])
  #expect(try primal.asArray().scalar == 6)
  guard case .tuple(let pair) = try interpreter.invoke(forward, [.array(a), .array(b)]),
    pair.count == 2,
    case .tuple(let cotangents) = try interpreter.invoke(backward, [pair[1], .array(g)]),
    cotangents.count == 2
  else {
    Issue.record("fwd or bwd does not return a pair")
    return
  }
  #expect(try cotangents[0].asArray().scalar == 15)
  if case .none = cotangents[1] {} else { Issue.record("not None: \(cotangents[1].typeName)") }
}

/// Decorators and starred arguments out of place are errors, never traps.
@Test(arguments: [
  "@jax.custom_vjp\nx = 1", "@jax.custom_vjp", "@\ndef f(a):\n    return a",
  "@jax.custom_vjp\ndef f(a):\n    return a\nf.defvjp(1, 2)", "def f(a):\n    return *a",
  "def f(a):\n    return a\nf(*1)", "@jax.custom_vjp\ndef f(a):\n    return a\nf.other",
  "@np.exp\ndef f(a):\n    return a", "x = *(1, 2)",
])
func malformedModulesThrow(_ source: String) {
  var interpreter = PythonInterpreter()
  defer { interpreter.close() }
  #expect(throws: (any Error).self) { _ = try interpreter.load(module: source) }
}
