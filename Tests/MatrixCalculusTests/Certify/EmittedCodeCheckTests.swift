import Foundation
import TensorKernel
import TestSupport
import Testing

@testable import MatrixCalculus

/// One problem whose three backends are run: `wrt` may name several variables.
struct EmittedCase: Sendable, CustomTestStringConvertible {
  var expression: String
  var wrt: String
  var statements: String
  var order = 1

  var testDescription: String {
    (order == 1 ? "∂(\(expression))/∂\(wrt)" : "∂²(\(expression))/∂\(wrt)²")
  }
}

/// Simplex, symmetric, scalar, index-defined and several-variable inputs, and results with
/// three and four indices, beside the corpus.
let emittedExtras: [EmittedCase] = [
  EmittedCase(
    expression: "-y'*log(softmax(W*x + b))", wrt: "W,b",
    statements: "y : simplex(c); W : matrix(c, d); x : vector(d); b : vector(c)"),
  EmittedCase(
    expression: "-y'*log(softmax(W*x))", wrt: "W",
    statements: "y : simplex(c); W : matrix(c, d); x : vector(d)"),
  EmittedCase(
    expression: "-y'*log(softmax(W*x))", wrt: "x",
    statements: "y : simplex(c); W : matrix(c, d); x : vector(d)"),
  EmittedCase(expression: "x'*S*x", wrt: "S", statements: "S : symmetric(n); x : vector(n)"),
  EmittedCase(expression: "x'*inv(S)*x", wrt: "x", statements: "S : symmetric(n); x : vector(n)"),
  EmittedCase(expression: "logdet(S) - tr(S)", wrt: "S", statements: "S : symmetric(n)"),
  EmittedCase(expression: "s^2*x'*x + exp(s)", wrt: "s", statements: "s : scalar; x : vector(n)"),
  EmittedCase(expression: "s*x", wrt: "x", statements: "s : scalar; x : vector(n)"),
  EmittedCase(expression: "sin(s)*A", wrt: "s", statements: "s : scalar; A : matrix(m, n)"),
  EmittedCase(
    expression: "l", wrt: "W",
    statements: "W : matrix(m,n); X : matrix(n,p); D[i,j] = sum(k, W[i,k]*X[k,j]); l = sum(D .* D)"),
  EmittedCase(
    expression: "y", wrt: "x",
    statements: "A : matrix(n,n); x : vector(n); y[i] = sum(j, A[i,j]*x[j]) + x[i]"),
  EmittedCase(expression: "x'*A*x", wrt: "x,A", statements: "x : vector(n); A : matrix(n, n)"),
  EmittedCase(
    expression: "l", wrt: "W1,W2",
    statements:
      "X : matrix(d, b); W1 : matrix(h, d); W2 : matrix(o, h); T : matrix(o, b); "
      + "H = tanh(W1*X); Y = W2*H; l = sum((Y - T) .* (Y - T))"),
  EmittedCase(expression: "W*x", wrt: "W", statements: "W : matrix(m, n); x : vector(n)"),
  EmittedCase(expression: "X - sum(X)/12", wrt: "X", statements: "X : matrix(m, n)"),
  EmittedCase(expression: "X/sum(X)", wrt: "X", statements: "X : matrix(m, n)"),
  EmittedCase(expression: "logdet(X)", wrt: "X", statements: "X : matrix(n, n)", order: 2),
  EmittedCase(expression: "inv(X)", wrt: "X", statements: "X : matrix(n, n)"),
]

/// Every case: the corpus, its Jacobians and Hessians, and the extras.
let emittedCases: [EmittedCase] =
  Corpus.problems.map { EmittedCase(expression: $0.0, wrt: $0.1, statements: $0.2) }
  + jacobians.map {
    EmittedCase(expression: $0.0, wrt: $0.1, statements: Corpus.vectors, order: $0.2)
  } + emittedExtras

/// What one backend returned: parts (one unless a tuple) with shapes and entries, or an error.
private struct Returned {
  var tuple = false
  var parts: [(shape: [Int], values: [Double])] = []
  var error: String?

  init(_ json: Any?) {
    guard let object = json as? [String: Any] else {
      error = "no result"
      return
    }
    if let text = object["error"] as? String {
      error = text
      return
    }
    tuple = object["tuple"] as? Bool ?? false
    for part in object["parts"] as? [[String: Any]] ?? [] {
      parts.append((part["shape"] as? [Int] ?? [-1], part["values"] as? [Double] ?? []))
    }
  }

  init(_ value: PythonValue) {
    func part(_ v: PythonValue) -> ([Int], [Double])? {
      switch v {
      case .array(let a): return (a.shape, a.storage)
      case .integer(let n): return ([], [Double(n)])
      default: return nil
      }
    }
    if case .tuple(let items) = value {
      tuple = true
      parts = items.compactMap(part)
      if parts.count != items.count { error = "a tuple of non-arrays" }
    } else if let single = part(value) {
      parts = [single]
    } else {
      error = value.typeName
    }
  }
}

/// A case derived, its three texts, the inputs and the expected results.
private struct Prepared {
  var label: String
  var texts: [String: String] = [:]
  var functionName: String?
  var inputs: [(name: String, type: TypeSpec)] = []
  var values: [String: Tensor] = [:]
  /// The inputs as the line's globals, and as the functions' parameters (NumPy, JAX).
  var globals: [String: PythonValue] = [:]
  var parameters: [String: PythonValue] = [:]
  var jaxParameters: [String: PythonValue] = [:]
  var expected: [(shape: [Int], values: [Double])] = []
  var tuple = false
  var check: (String, OutputFormat, Certificate) throws -> Void = { _, _, _ in }
  var certificate: Certificate
}

private func prepare(_ problem: EmittedCase, seed: UInt64, reversed: Bool) throws -> Prepared {
  var prepared = try derived(problem, seed: seed, reversed: reversed)
  let inputs = try parseProblem(problem.statements + "\nf = " + problem.expression)
  let check = EmittedCodeCheck(
    problem: inputs, objective: .constant(0), variables: [], formulas: [], definitions: [])
  prepared.globals = try check.arguments(prepared.values)
  for (style, keyPath) in [
    (NumpyRenderer.Style.numpyFunction, \Prepared.parameters), (.jaxFunction, \.jaxParameters),
  ] {
    let renderer = NumpyRenderer(problem: inputs, style: style)
    for (name, value) in prepared.globals {
      prepared[keyPath: keyPath][renderer.inputReference(name)] = value
    }
  }
  return prepared
}

private func derived(_ problem: EmittedCase, seed: UInt64, reversed: Bool) throws -> Prepared {
  let names = problem.wrt.split(separator: ",").map(String.init)
  func concrete(_ axes: [String], _ sizes: [String: Int]) -> [Int] {
    axes.map { Int($0) ?? sizes[$0] ?? -1 }
  }
  func draw(_ inputs: Problem, _ formulas: [Expr]) throws -> ([String: Int], [String: Tensor]) {
    let sizes = Sampler.sizes(for: inputs.inputs.map(\.expr.shape), reversed: reversed)
    let requirements = Sampler.requirements(of: formulas, definitions: inputs.definitions)
    var generator = SplitMix64(seed: seed)
    let values = try Sampler.draw(
      inputsOf: inputs, requirements: requirements, sizes: sizes, generator: &generator)
    return (sizes, values)
  }
  if names.count > 1 {
    let b = try derive(problem.expression, wrt: names, where: problem.statements)
    let (sizes, values) = try draw(b.problem, [b.objective] + b.gradients)
    var certificate = Certificate(
      maxRelativeError: 0, sizes: sizes, worstEntry: "", passed: true, points: 1)
    certificate.checkedSizes = [sizes]
    var prepared = Prepared(label: problem.testDescription, certificate: certificate)
    for format in [OutputFormat.numpy, .python, .jax] {
      prepared.texts[format.rawValue] = try b.render(format)
    }
    var evaluator = Evaluator(sizes: sizes, values: values)
    try evaluator.bind(b.problem.definitions + b.intermediates.asDefinitions)
    for (variable, gradient) in zip(b.variables, b.gradients) {
      let value = try evaluator.evaluate(gradient)
      prepared.expected.append(
        (concrete(b.codeAxes(of: variable.name, in: .standard), sizes), value.storage))
    }
    prepared.tuple = true
    prepared.inputs = b.problem.inputs.map { ($0.name, $0.type) }
    prepared.values = values
    prepared.check = { text, format, certificate in
      try b.checkEmitted(text, format: format, layout: .standard, certificate: certificate)
    }
    return prepared
  }
  let d = try derive(
    problem.expression, wrt: problem.wrt, where: problem.statements, order: problem.order)
  let (sizes, values) = try draw(d.problem, [d.objective, d.result])
  var certificate = Certificate(
    maxRelativeError: 0, sizes: sizes, worstEntry: "", passed: true, points: 1)
  certificate.checkedSizes = [sizes]
  var prepared = Prepared(label: problem.testDescription, certificate: certificate)
  for format in [OutputFormat.numpy, .python, .jax] {
    prepared.texts[format.rawValue] = try d.render(format)
  }
  var evaluator = Evaluator(sizes: sizes, values: values)
  try evaluator.bind(d.problem.definitions)
  let value = try d.tensor.map { try $0.jacobian(&evaluator) } ?? evaluator.evaluate(d.result)
  prepared.expected = [(concrete(d.resultShape, sizes), value.storage)]
  prepared.inputs = d.problem.inputs.map { ($0.name, $0.type) }
  prepared.values = values
  prepared.check = { text, format, certificate in
    try d.checkEmitted(text, format: format, layout: .standard, certificate: certificate)
  }
  return prepared
}

/// A value as nested lists for JSON (a float, a 1-D list for a vector, rows for a matrix).
private func nested(_ t: Tensor, _ type: TypeSpec) -> Any {
  switch type {
  case .scalar: return t.scalar
  case .vector, .simplex: return t.storage
  default: return (0..<t.rows).map { i in (0..<t.cols).map { t[i, $0] } }
  }
}

/// Runs every prepared case's three texts in one Python process (the JAX function under
/// `jax.jit` with 64-bit floats when JAX is installed): what each returned.
private func runInPython(_ cases: [Prepared]) throws -> [[String: Any]] {
  var payload: [[String: Any]] = []
  for prepared in cases {
    var object: [String: Any] = [:]
    for (format, text) in prepared.texts { object[format] = text }
    let function = prepared.texts["python"]?.split(separator: "\n")
      .first { $0.hasPrefix("def ") }?.dropFirst(4).prefix { $0 != "(" }
    object["name"] = function.map(String.init) ?? ""
    var globals: [String: Any] = [:]
    var arguments: [Any] = []
    for (name, type) in prepared.inputs {
      guard let value = prepared.values[name] else { continue }
      globals[name] = nested(value, type)
      arguments.append(nested(value, type))
    }
    object["globals"] = globals
    object["args"] = arguments
    payload.append(object)
  }
  let script = """

    def array(v):
        return v if isinstance(v, float) else np.array(v, dtype=float)

    def pack(v):
        parts = v if isinstance(v, tuple) else (v,)
        out = []
        for p in parts:
            a = np.asarray(p, dtype=float)
            out.append({'shape': list(a.shape),
                        'values': [float(x) if np.isfinite(x) else 1e300 for x in a.ravel()]})
        return {'tuple': isinstance(v, tuple), 'parts': out}

    def run(case, backend):
        if backend == 'numpy':
            scope = {k: array(v) for k, v in case['globals'].items()}
            scope['np'] = np
            return eval(case['numpy'], scope)
        scope = {}
        exec(case[backend], scope)
        return scope[case['name']]

    def failed(error):
        return {'error': type(error).__name__ + ': ' + str(error)[:300]}

    cases = json.load(open(PAYLOAD))
    results = []
    batch = []
    alone = []
    for index, case in enumerate(cases):
        result = {}
        for backend in ('numpy', 'python'):
            try:
                if backend == 'numpy':
                    result[backend] = pack(run(case, backend))
                else:
                    result[backend] = pack(run(case, backend)(*[array(a) for a in case['args']]))
            except Exception as error:
                result[backend] = failed(error)
        if jax is not None:
            try:
                f = run(case, 'jax')
                # What runs in NumPy is compiled with the others; the rest one by one.
                (alone if 'error' in result['python'] else batch).append(
                    (index, f, [array(a) for a in case['args']]))
            except Exception as error:
                result['jax'] = failed(error)
        results.append(result)
    # Under jax.jit, compiled together once (one compile for all takes seconds, one each a
    # fifth of a second each); one by one when that fails, so that each failure is its own.
    try:
        values = jax.jit(lambda all_args: [f(*a) for (_, f, _), a in zip(batch, all_args)])(
            [args for (_, _, args) in batch]) if batch else []
        for (index, _, _), value in zip(batch, values):
            results[index]['jax'] = pack(value)
    except Exception:
        alone += batch
    for index, f, args in alone:
        try:
            results[index]['jax'] = pack(jax.jit(f)(*args))
        except Exception as error:
            results[index]['jax'] = failed(error)
    print(json.dumps(results))
    """
  let printed = try PythonRunner.run(script, payload: payload, jax: true)
  return try JSONSerialization.jsonObject(with: Data(printed.utf8)) as? [[String: Any]] ?? []
}

private func same(_ a: Returned, _ b: Returned) -> Bool {
  guard a.error == nil, b.error == nil, a.tuple == b.tuple, a.parts.count == b.parts.count else {
    return (a.error != nil) == (b.error != nil) && a.error != nil
  }
  for (p, q) in zip(a.parts, b.parts) {
    guard p.shape == q.shape, p.values.count == q.values.count else { return false }
    let scale = max(1, p.values.map(abs).max() ?? 0)
    for (u, v) in zip(p.values, q.values) where !(abs(u - v) <= 1e-9 * scale) { return false }
  }
  return true
}

/// Every corpus problem's three backends, run in Python (one process): each returns the
/// checked formula's values in the shape S_F + S_X, and the interpreter here returns what
/// Python returns (right or wrong), and the check built on it refuses exactly the wrong ones.
@Test func everyCorpusProblemsEmittedCodeAgreesInPython() throws {
  var prepared: [Prepared] = []
  for (index, problem) in emittedCases.enumerated() {
    // Another point, and the dimensions in the other order, where the formula cannot be
    // evaluated at the first (XᵀX of a wide X is singular).
    var failure: (any Error)?
    for attempt in 0..<4 {
      do {
        prepared.append(
          try prepare(problem, seed: UInt64(index + 1000 * attempt), reversed: attempt % 2 == 1))
        failure = nil
        break
      } catch {
        failure = error
      }
    }
    if let failure { Issue.record("\(problem.testDescription): \(failure)") }
  }
  let results = try runInPython(prepared)
  try #require(results.count == prepared.count)
  for (case_, result) in zip(prepared, results) {
    for format in [OutputFormat.numpy, .python, .jax] {
      guard let text = case_.texts[format.rawValue] else { continue }
      guard result[format.rawValue] != nil else {
        // JAX not installed: skipped here, a failure under CI (every tool is installed there).
        if OutsideTool.isRequired() { Issue.record("\(format.rawValue) was not run: JAX missing") }
        continue
      }
      let python = Returned(result[format.rawValue])
      // The interpreter here agrees with Python, right or wrong.
      var interpreter = PythonInterpreter()
      let mine: Returned
      do {
        mine = Returned(
          format == .numpy
            ? try interpreter.evaluate(text, globals: case_.globals)
            : try interpreter.call(
              module: text, arguments: format == .jax ? case_.jaxParameters : case_.parameters))
      } catch {
        var failed = Returned(nil as Any?)
        failed.error = "\(error)"
        mine = failed
      }
      #expect(
        same(mine, python),
        "\(case_.label) --format \(format.rawValue): the interpreter gives \(mine.error ?? "\(mine.parts.map(\.shape))"), Python \(python.error ?? "\(python.parts.map(\.shape))")\n\(text)"
      )
      // Python's verdict: the checked values in the exact shape.
      var wrong: String?
      if let error = python.error {
        wrong = "does not run: \(error)"
      } else if python.tuple != case_.tuple || python.parts.count != case_.expected.count {
        wrong = "returns \(python.parts.count) results, expected \(case_.expected.count)"
      } else {
        for (part, expected) in zip(python.parts, case_.expected) {
          if part.shape != expected.shape {
            wrong = "shape \(part.shape), expected \(expected.shape)"
          } else {
            let scale = max(1, expected.values.map(abs).max() ?? 0)
            let gap = zip(part.values, expected.values).map { abs($0 - $1) }.max() ?? 0
            if !(gap <= 1e-8 * scale) { wrong = "differs by \(gap)" }
          }
        }
      }
      // The check refuses exactly what Python finds wrong.
      var refused: String?
      do {
        try case_.check(text, format, case_.certificate)
      } catch {
        refused = "\(error)"
      }
      #expect(
        (refused != nil) == (wrong != nil),
        "\(case_.label) --format \(format.rawValue): Python \(wrong ?? "agrees"), check \(refused ?? "passes")"
      )
      if let wrong {
        let message = Comment(
          rawValue: "\(case_.label) --format \(format.rawValue) \(wrong)\n\(text)")
        Issue.record(message)
      }
    }
  }
}

/// A correct text passes; the same text with a transpose dropped, a reshape dropped, or an
/// input bound as a column is refused with an internal error that names the format and the
/// worst entry or the shape.
@Test func deliberatelyWrongEmittedTextIsRefused() throws {
  let d = try derive(
    "x'*A*x + a'*x", wrt: "x", where: "A : matrix(n, n); x : vector(n); a : vector(n)")
  let certificate = try d.check()
  let line = try d.render(.numpy, certificate: certificate)
  #expect(line.contains("A.T @ "), "\(line)")
  let dropped = line.replacingOccurrences(of: "A.T @ ", with: "A @ ")
  #expect(throws: MatcalcError.self) {
    try d.checkEmitted(dropped, format: .numpy, layout: .standard, certificate: certificate)
  }
  do {
    try d.checkEmitted(dropped, format: .numpy, layout: .standard, certificate: certificate)
  } catch let error as MatcalcError {
    guard case .internalError(let message) = error else {
      Issue.record("not an internal error: \(error)")
      return
    }
    #expect(
      message.contains("--format numpy") && message.contains("differs")
        && message.contains("entry"), "\(message)")
  }
  // The 1-D reshape dropped: (n, 1) is not (n,).
  let column = line.replacingOccurrences(of: "np.reshape(", with: "(").replacingOccurrences(
    of: ", (-1,))", with: ")")
  do {
    try d.checkEmitted(column, format: .numpy, layout: .standard, certificate: certificate)
    Issue.record("a column passed for a 1-D gradient: \(column)")
  } catch MatcalcError.internalError(let message) {
    #expect(message.contains("shape (2, 1)") || message.contains("shape (3, 1)"), "\(message)")
  }
  // The function, with the transpose dropped in one statement.
  let python = try d.render(.python, certificate: certificate)
  let wrongFunction = python.replacingOccurrences(of: "A.T @ ", with: "A @ ")
  #expect(wrongFunction != python)
  #expect(throws: MatcalcError.self) {
    try d.checkEmitted(wrongFunction, format: .python, layout: .standard, certificate: certificate)
  }
  _ = try d.render(.jax, certificate: certificate)
  // Several variables: the tuple's order swapped.
  let b = try derive("x'*A*x", wrt: ["x", "A"], where: "A : matrix(n, n); x : vector(n)")
  let joint = try b.check()
  let tuple = try b.render(.numpy, certificate: joint)
  let parts = tuple.dropFirst().dropLast()
  #expect(throws: MatcalcError.self) {
    try b.checkEmitted(
      "(" + parts + ")[::-1]", format: .numpy, layout: .standard, certificate: joint)
  }
  _ = try b.render(.python, certificate: joint)
  _ = try b.render(.jax, certificate: joint)
  _ = try b.render(.json, certificate: joint)
}

/// The README's cross-entropy with a bias, whose code once used a 1-D simplex y as a column
/// (broadcasting to c × c): its line passes its check as printed, and the same line with y
/// used flat again is refused, never printed.
@Test func crossEntropyWithABiasIsCheckedAsPrinted() throws {
  let b = try derive(
    "-y'*log(softmax(W*x + b))", wrt: ["W", "b"],
    where: "y : simplex(c); W : matrix(c, d); x : vector(d); b : vector(c)")
  let certificate = try b.check()
  #expect(certificate.passed)
  let line = try b.render(.numpy, certificate: certificate)
  #expect(line.contains("-y[:, None] + "), "\(line)")
  let flat = line.replacingOccurrences(of: "-y[:, None] + ", with: "-y + ")
  do {
    try b.checkEmitted(flat, format: .numpy, layout: .standard, certificate: certificate)
    Issue.record("the line with a flat y passed: \(flat)")
  } catch MatcalcError.internalError(let message) {
    #expect(message.contains("shape"), "\(message)")
  }
}

/// In every layout, each format's code passes its check as printed (numerator layout prints
/// a gradient's transpose, denominator layout a Jacobian's).
@Test(arguments: Layout.allCases)
func emittedCodeIsCheckedInEveryLayout(_ layout: Layout) throws {
  let statements = "W : matrix(m, n); x : vector(n); b : vector(m); A : matrix(n, n)"
  for (expression, wrt) in [("b'*W*x", "W"), ("tanh(W*x)", "x"), ("x'*A*x", "x")] {
    let d = try derive(expression, wrt: wrt, where: statements)
    let certificate = try d.check(layout: layout)
    for format in [OutputFormat.numpy, .python, .jax, .json] {
      _ = try d.render(format, certificate: certificate, layout: layout)
    }
  }
  let b = try derive("b'*W*x + x'*A*x", wrt: ["W", "x", "A"], where: statements)
  let joint = try b.check(layout: layout)
  for format in [OutputFormat.numpy, .python, .jax, .json] {
    _ = try b.render(format, certificate: joint, layout: layout)
  }
}
