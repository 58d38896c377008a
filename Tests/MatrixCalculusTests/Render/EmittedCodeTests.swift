import Foundation
import TensorKernel
import TestSupport
import Testing

@testable import MatrixCalculus

/// One problem whose emitted code (the NumPy line, the Python function, the JAX function) is
/// run in Python and compared, value and shape, with the checked formula evaluated here.
struct EmitProbe: Sendable, CustomTestStringConvertible {
  var expression: String
  var wrt: String
  var statements: String
  var order = 1
  var testDescription: String { "\(expression) wrt \(wrt)" }
}

/// What a probe's code is run on and must give.
private struct EmitRun {
  var numpy: String?
  var python: String
  var jax: String
  var inputs: [(name: String, type: TypeSpec)]
  var values: [String: Tensor]
  var expected: [Double]
  var shapes: [[Int]]
}

/// An input's value as JSON (a float, a list for a vector or a probability vector, rows).
private func nestedValue(_ t: Tensor, _ type: TypeSpec) -> Any {
  switch NumpyRenderer.axes(of: type) {
  case 0: return t.scalar
  case 1: return t.storage
  default: return (0..<t.rows).map { i in (0..<t.cols).map { t[i, $0] } }
  }
}

/// A dimension name or size as a number, for `sizes`.
private func size(_ name: String, _ sizes: [String: Int]) -> Int { sizes[name] ?? Int(name) ?? -1 }

/// Draws inputs of `problem` at `sizes` (the certificate's: pairwise distinct, where the
/// objective is defined) and evaluates `expected` there,
/// drawing again (a few times) where a drawn matrix is nearly singular.
private func drawn(
  _ problem: Problem, sizes: [String: Int], requirements: [String: Set<Sampler.Requirement>],
  seed: UInt64, label: String, expected: (inout Evaluator) throws -> [Tensor]
) throws -> (values: [String: Tensor], sizes: [String: Int], expected: [Tensor]) {
  var generator = SplitMix64(seed: seed)
  var failure: Error?
  for _ in 0..<5 {
    let values = try Sampler.draw(
      inputsOf: problem, requirements: requirements, sizes: sizes, generator: &generator)
    var evaluator = Evaluator(sizes: sizes, values: values)
    do {
      return (values, sizes, try expected(&evaluator))
    } catch {
      failure = error
    }
  }
  throw MatcalcError.numeric("\(label): \(failure.map { "\($0)" } ?? "no values")")
}

/// Derives `probe`, checks it, draws inputs with pairwise-distinct sizes and evaluates the
/// checked formula on them.
private func prepared(_ probe: EmitProbe, seed: UInt64) throws -> EmitRun {
  let names = probe.wrt.split(separator: ",").map(String.init)
  if names.count > 1 {
    let backpropagation = try derive(probe.expression, wrt: names, where: probe.statements)
    let certificate = try backpropagation.check()
    #expect(certificate.passed, "\(probe.testDescription): \(certificate)")
    let problem = backpropagation.problem
    let definitions = problem.definitions + backpropagation.intermediates.asDefinitions
    let requirements = Sampler.requirements(
      of: [backpropagation.objective] + backpropagation.gradients, definitions: definitions)
    let (values, sizes, expected) = try drawn(
      problem, sizes: certificate.sizes, requirements: requirements, seed: seed,
      label: probe.testDescription
    ) { evaluator in
      try evaluator.bind(definitions)
      return try backpropagation.gradients.map { try evaluator.evaluate($0) }
    }
    let shapes = backpropagation.variables.map { variable in
      let input = problem.inputs.first { $0.name == variable.name }
      return (input.map(NumpyRenderer.axisNames) ?? []).map { size($0, sizes) }
    }
    return EmitRun(
      numpy: try? backpropagation.render(.numpy), python: try backpropagation.render(.python),
      jax: try backpropagation.render(.jax), inputs: problem.inputs.map { ($0.name, $0.type) },
      values: values, expected: expected.flatMap(\.storage), shapes: shapes)
  }
  let derivation = try derive(
    probe.expression, wrt: probe.wrt, where: probe.statements, order: probe.order)
  let certificate = try derivation.check(points: 3)
  #expect(certificate.passed, "\(probe.testDescription): \(certificate)")
  let problem = derivation.problem
  let requirements = Sampler.requirements(
    of: [derivation.objective, derivation.result], definitions: problem.definitions)
  let (values, sizes, expected) = try drawn(
    problem, sizes: certificate.sizes, requirements: requirements, seed: seed,
    label: probe.testDescription
  ) { evaluator in
    try evaluator.bind(problem.definitions)
    return [
      try derivation.tensor.map { try $0.jacobian(&evaluator) }
        ?? evaluator.evaluate(derivation.result)
    ]
  }
  return EmitRun(
    numpy: try? derivation.render(.numpy), python: try derivation.render(.python),
    jax: try derivation.render(.jax), inputs: problem.inputs.map { ($0.name, $0.type) },
    values: values, expected: expected.flatMap(\.storage),
    shapes: [derivation.resultShape.map { size($0, sizes) }])
}

/// Whether the JAX backend is run: where `python3` can import JAX, and always under CI
/// (``OutsideTool/isRequired(in:)``), where a missing JAX then fails the run.
let jaxIsInstalled: Bool = OutsideTool.jax.isAvailable || OutsideTool.isRequired()

/// The Python run of every backend of `runs`: per run, per backend (`numpy`, `python`, `jax`),
/// the shapes and the flat values, or `nil` for a backend that was not run.
private func runInPython(_ runs: [EmitRun]) throws -> [[[String: [[Double]]]?]] {
  var cases: [[String: Any]] = []
  for run in runs {
    let name = run.python.split(separator: "\n").first { $0.hasPrefix("def ") }?.dropFirst(4)
      .prefix { $0 != "(" }
    cases.append([
      "numpy": run.numpy ?? NSNull(), "python": run.python, "jax": run.jax,
      "name": String(name ?? ""), "names": run.inputs.map(\.name),
      "args": run.inputs.map {
        nestedValue(run.values[$0.name] ?? Tensor(rows: 1, cols: 1), $0.type)
      },
    ])
  }
  let script = """

    def parts(v):
        ps = v if isinstance(v, tuple) else (v,)
        return {"shapes": [list(np.shape(p)) for p in ps],
                "values": [[float(x) for p in ps for x in np.asarray(p, dtype=float).ravel()]]}

    out = []
    for case in json.load(open(PAYLOAD)):
        args = [a if isinstance(a, float) else np.array(a, dtype=float) for a in case['args']]
        row = []
        if case['numpy'] is None:
            row.append(None)
        else:
            scope = {'np': np}
            scope.update(dict(zip(case['names'], args)))
            row.append(parts(eval(case['numpy'], scope)))
        scope = {}
        exec(case['python'], scope)
        row.append(parts(scope[case['name']](*args)))
        if jax is None:
            row.append(None)
        else:
            scope = {}
            exec(case['jax'], scope)
            row.append(parts(jax.jit(scope[case['name']])(*args)))
        out.append(row)
    print(json.dumps(out))
    """
  let printed = try PythonRunner.run(script, payload: cases, jax: true)
  return try JSONDecoder().decode([[[String: [[Double]]]?]].self, from: Data(printed.utf8))
}

/// Runs each probe's three backends and expects the checked formula's shape and values.
func expectEmittedCodeAgrees(
  _ probes: [EmitProbe], numpyRefuses: Set<String> = [],
  sourceLocation: SourceLocation = #_sourceLocation
) throws {
  let runs = try probes.enumerated().map { try prepared($1, seed: UInt64($0 + 1)) }
  let results = try runInPython(runs)
  try #require(results.count == runs.count)
  for ((probe, run), row) in zip(zip(probes, runs), results) {
    let scale = max(1, run.expected.map(abs).max() ?? 0)
    if run.numpy == nil {
      #expect(
        numpyRefuses.contains(probe.expression), "numpy refused: \(probe.testDescription)",
        sourceLocation: sourceLocation)
    }
    for (backend, result) in zip(["numpy", "python", "jax"], row) {
      guard let result else {
        #expect(backend != "python", sourceLocation: sourceLocation)
        continue
      }
      let label = "\(backend): \(probe.testDescription)\n\(backend == "jax" ? run.jax : run.python)"
      let shapes = (result["shapes"] ?? []).map { $0.map { Int($0) } }
      #expect(shapes == run.shapes, "\(label)", sourceLocation: sourceLocation)
      let numbers = result["values"]?.first ?? []
      #expect(numbers.count == run.expected.count, "\(label)", sourceLocation: sourceLocation)
      let gap = zip(numbers, run.expected).map { abs($0 - $1) }.max() ?? .infinity
      #expect(
        gap <= 1e-9 * scale, "\(label): gap \(gap)", sourceLocation: sourceLocation)
    }
  }
}

/// A `simplex(c)` input is a 1-D (c,) array, like a vector, in every backend; scalars are
/// floats and symmetric matrices two axes.
@Test func inputShapesAgreeAcrossBackends() throws {
  try expectEmittedCodeAgrees([
    EmitProbe(
      expression: "-y'*log(softmax(W*x + b))", wrt: "W,b",
      statements: "y : simplex(c); W : matrix(c, d); x : vector(d); b : vector(c)"),
    EmitProbe(
      expression: "-y'*log(softmax(W*x))", wrt: "W",
      statements: "y : simplex(c); W : matrix(c, d); x : vector(d)"),
    EmitProbe(
      expression: "y'*W*x + s*sum(y)", wrt: "y",
      statements: "y : simplex(c); W : matrix(c, d); x : vector(d); s : scalar"),
    EmitProbe(
      expression: "x'*S*x + s*tr(S)", wrt: "x",
      statements: "x : vector(n); S : symmetric(n); s : scalar"),
    EmitProbe(
      expression: "s*x'*A*y + s^2", wrt: "s",
      statements: "x : vector(m); A : matrix(m, n); y : vector(n); s : scalar"),
    EmitProbe(
      expression: "y .* (A*x)", wrt: "x",
      statements: "y : simplex(m); A : matrix(m, n); x : vector(n)"),
  ])
}

/// A `matrix(n, 1)` input is two axes and a `vector(1)` one, and so are their gradients.
@Test func gradientsHaveTheShapesOfTheirInputs() throws {
  let statements = "A : matrix(n, 1); x : vector(n); y : vector(1)"
  try expectEmittedCodeAgrees([
    EmitProbe(expression: "x'*A*y", wrt: "A,y", statements: statements),
    EmitProbe(expression: "x'*A*y", wrt: "A", statements: statements),
    EmitProbe(expression: "x'*A*y", wrt: "y", statements: statements),
  ])
}

/// Three- and four-index results whose terms lack some output indices broadcast them.
@Test func tensorTermsBroadcastMissingIndices() throws {
  try expectEmittedCodeAgrees([
    EmitProbe(expression: "X - sum(X)/12", wrt: "X", statements: "X : matrix(m, n)"),
    EmitProbe(expression: "X/sum(X)", wrt: "X", statements: "X : matrix(m, n)"),
    EmitProbe(expression: "X - log(sum(exp(X)))", wrt: "X", statements: "X : matrix(m, n)"),
    EmitProbe(
      expression: "W*x - logsumexp(W*x)", wrt: "W", statements: "W : matrix(m, n); x : vector(n)"),
    EmitProbe(expression: "sum(X)*A", wrt: "X", statements: "X : matrix(m, n); A : matrix(p, q)"),
  ])
}

/// A layer `l = L(Y)` through an opaque L: its backward function, given the upstream gradient
/// `grad_Y`, returns ⟨grad_Y, ∂Y/∂V⟩ for each variable V, which Python measures by central
/// differences of Σ grad_Y ⊙ Y(…) with Y written in NumPy (`forward`); under JAX, the
/// `jax.custom_vjp` layer computes Y and its VJP is the backward.
private struct BackwardProbe: Sendable {
  var expression: String
  var wrt: String
  var statements: String
  var forward: String
  var sizes: [String: Int]
}

@Test func backwardFunctionsTakeTheUpstreamGradient() throws {
  let probes = [
    BackwardProbe(
      expression: "l", wrt: "W",
      statements: "L : function; W : matrix(m,n); X : matrix(n,p); Y = W*X; l = L(Y)",
      forward: "W @ X", sizes: ["m": 2, "n": 3, "p": 4]),
    BackwardProbe(
      expression: "l", wrt: "W,b",
      statements:
        "L : function; W : matrix(m,n); x : vector(n); b : vector(m); Y = tanh(W*x + b); l = L(Y)",
      forward: "np.tanh(W @ x + b)", sizes: ["m": 4, "n": 3]),
    BackwardProbe(
      expression: "L(W*X)", wrt: "W,X",
      statements: "L : function; W : matrix(m,n); X : matrix(n,p)",
      forward: "W @ X", sizes: ["m": 3, "n": 2, "p": 5]),
    BackwardProbe(
      expression: "l", wrt: "x",
      statements: "L : function; W : matrix(m,n); x : vector(n); Y = sigmoid(W*x); l = L(Y)",
      forward: "1 / (1 + np.exp(-(W @ x)))", sizes: ["m": 5, "n": 3]),
    BackwardProbe(
      expression: "l", wrt: "A",
      statements: "L : function; A : matrix(n,n); x : vector(n); Y = x'*A*x; l = L(Y)",
      forward: "x @ A @ x", sizes: ["n": 3]),
    BackwardProbe(
      expression: "l", wrt: "W",
      statements:
        "L : function; W : matrix(m,n); X : matrix(n,p); y : simplex(p); Y = log(softmax(W*X*y)); l = L(Y)",
      forward: "(lambda t: t - t.max() - np.log(np.sum(np.exp(t - t.max()))))(W @ X @ y)",
      sizes: ["m": 2, "n": 3, "p": 4]),
  ]
  var cases: [[String: Any]] = []
  for probe in probes {
    let names = probe.wrt.split(separator: ",").map(String.init)
    let python: String
    let jax: String
    let problem: Problem
    if names.count > 1 {
      let backpropagation = try derive(probe.expression, wrt: names, where: probe.statements)
      #expect(try backpropagation.check().passed, "\(probe.expression) wrt \(probe.wrt)")
      #expect(throws: MatcalcError.self) { try backpropagation.render(.numpy) }
      (python, jax, problem) = (
        try backpropagation.render(.python), try backpropagation.render(.jax),
        backpropagation.problem
      )
    } else {
      let derivation = try derivedAndChecked(
        probe.expression, wrt: probe.wrt, where: probe.statements)
      #expect(throws: MatcalcError.self) { try derivation.render(.numpy) }
      (python, jax, problem) = (
        try derivation.render(.python), try derivation.render(.jax), derivation.problem
      )
    }
    #expect(python.contains(", grad_") && jax.contains("@jax.custom_vjp"), "\(python)\n\(jax)")
    let name = python.split(separator: "\n").first { $0.hasPrefix("def ") }?.dropFirst(4)
      .prefix { $0 != "(" }
    let shapes = problem.inputs.map { input in
      NumpyRenderer.axisNames(of: input).map { probe.sizes[$0] ?? Int($0) ?? 1 }
    }
    cases.append([
      "python": python, "jax": jax, "name": String(name ?? ""), "wrt": names,
      "names": problem.inputs.map(\.name), "shapes": shapes, "forward": probe.forward,
      "label": "\(probe.expression) wrt \(probe.wrt)",
    ])
  }
  let script = """

    rng = np.random.default_rng(23)
    report = []
    for case in json.load(open(PAYLOAD)):
        args = {n: (rng.normal() if s == [] else rng.normal(size=s))
                for n, s in zip(case['names'], case['shapes'])}
        if 'y' in args:
            args['y'] = np.abs(args['y']) / np.sum(np.abs(args['y']))
        forward = lambda a: eval(case['forward'], {'np': np}, a)
        upstream = rng.normal(size=np.shape(forward(args)))
        # <grad_Y, dY/dV> by central differences, per variable.
        expected = []
        for v in case['wrt']:
            g = np.zeros(np.shape(args[v]))
            for index in np.ndindex(*np.shape(args[v])):
                h = 1e-6
                plus, minus = dict(args), dict(args)
                plus[v] = np.array(args[v], dtype=float)
                plus[v][index] += h
                minus[v] = np.array(args[v], dtype=float)
                minus[v][index] -= h
                difference = np.sum(upstream * forward(plus)) - np.sum(upstream * forward(minus))
                g[index] = difference / (2 * h)
            expected.append(g)
        def gap(got):
            got = got if isinstance(got, tuple) else (got,)
            if [list(np.shape(x)) for x in got] != [list(np.shape(x)) for x in expected]:
                return float('inf')
            return max(float(np.max(np.abs(np.asarray(a) - b), initial=0))
                       for a, b in zip(got, expected))
        positional = [args[n] for n in case['names']]
        scope = {}
        exec(case['python'], scope)
        row = {'label': case['label'], 'python': gap(scope[case['name']](*positional, upstream))}
        if jax is not None:
            scope = {}
            exec(case['jax'], scope)
            row['jax'] = gap(jax.jit(scope[case['name']])(*positional, upstream))
            layer = next(v for k, v in scope.items() if k.startswith('layer_'))
            value, vjp = jax.vjp(layer, *positional)
            row['layer forward'] = float(np.max(np.abs(np.asarray(value) - forward(args))))
            cotangents = vjp(jax.numpy.asarray(upstream))
            row['layer vjp'] = gap(tuple(c for n, c in zip(case['names'], cotangents)
                                         if n in case['wrt']))
            held = [np.max(np.abs(np.asarray(c)), initial=0)
                    for n, c in zip(case['names'], cotangents) if n not in case['wrt']]
            row['held'] = float(max(held, default=0.0))
        report.append(row)
    print(json.dumps(report))
    """
  let printed = try PythonRunner.run(script, payload: cases, jax: true)
  let rows = try #require(
    try JSONSerialization.jsonObject(with: Data(printed.utf8)) as? [[String: Any]])
  #expect(rows.count == probes.count)
  for row in rows {
    let label = row["label"] as? String ?? "?"
    for key in ["python", "jax", "layer forward", "layer vjp", "held"] {
      if key != "python" && !jaxIsInstalled { continue }
      let value = try #require(row[key] as? Double, "\(label): \(key)")
      #expect(value <= 1e-6, "\(label): \(key) off by \(value)")
    }
  }
}

/// A problem run with logits of a few hundred: every backend gives finite values equal to a
/// stable reference written in NumPy (`reference`, over the inputs and, through an opaque L,
/// the upstream gradient `G`).
private struct LargeLogitProbe: Sendable {
  var expression: String
  var wrt: String
  var statements: String
  var sizes: [String: Int]
  /// Factors the drawn inputs are multiplied by.
  var scale: [String: Double]
  /// Numbers then added to every entry (softmax is invariant; exp alone overflows).
  var offset: [String: Double] = [:]
  /// The axes of the upstream gradient G (a backward), or `nil`.
  var upstream: [String]?
  var reference: String
  /// Whether the code without the subtracted maximum must fail (the probe is hard enough).
  var control = false
}

@Test func stableCodeAtLargeLogits() throws {
  let attention =
    "Q : matrix(n, d); K : matrix(n, d); V : matrix(n, e); L : function; S = Q*K'; "
    + "P[i,j] = exp(S[i,j]) / sum(k, exp(S[i,k])); O = P*V; l = L(O)"
  let logistic = "X : matrix(m, n); w : vector(n); y : simplex(m); s : scalar"
  let probes = [
    LargeLogitProbe(
      expression: "l", wrt: "Q", statements: attention, sizes: ["n": 4, "d": 3, "e": 5],
      scale: ["Q": 300, "K": 3], upstream: ["n", "e"],
      reference: "(lambda P: (P * (G @ V.T - np.sum(P * (G @ V.T), 1, keepdims=True))) @ K)"
        + "(softmax_rows(Q @ K.T))", control: true),
    LargeLogitProbe(
      expression: "l", wrt: "K,V", statements: attention, sizes: ["n": 5, "d": 2, "e": 3],
      scale: ["Q": 30, "K": 3], upstream: ["n", "e"],
      reference: "(lambda P: ((P * (G @ V.T - np.sum(P * (G @ V.T), 1, keepdims=True))).T @ Q,"
        + " P.T @ G))(softmax_rows(Q @ K.T))"),
    LargeLogitProbe(
      expression: "l", wrt: "S",
      statements:
        "S : matrix(m, n); L : function; P[i,j] = exp(S[i,j]) / sum(k, exp(S[k,j])); l = L(P)",
      sizes: ["m": 3, "n": 4], scale: ["S": 300], offset: ["S": 800], upstream: ["m", "n"],
      reference: "(lambda P: P * (G - np.sum(G * P, 0, keepdims=True)))(softmax_rows(S.T).T)",
      control: true),
    LargeLogitProbe(
      expression: "l", wrt: "x",
      statements: "x : vector(n); L : function; p[i] = exp(x[i]) / sum(k, exp(x[k])); l = L(p)",
      sizes: ["n": 5], scale: ["x": 300], offset: ["x": 800], upstream: ["n"],
      reference: "(lambda p: p * (G - np.sum(G * p)))(softmax_rows(x[None, :])[0])",
      control: true),
    LargeLogitProbe(
      expression: "-y'*log(softmax(W*x))", wrt: "W",
      statements: "y : simplex(c); W : matrix(c, d); x : vector(d)", sizes: ["c": 4, "d": 3],
      scale: ["W": 300], reference: "np.outer(softmax_rows((W @ x)[None, :])[0] - y, x)"),
    LargeLogitProbe(
      expression: "s*sum(log(sigmoid(X*w)))", wrt: "s", statements: logistic,
      sizes: ["m": 4, "n": 3], scale: ["w": 300],
      reference: "np.sum(-np.logaddexp(0, -(X @ w)))"),
    LargeLogitProbe(
      expression: "s*sum(log(1 + exp(X*w)))", wrt: "s", statements: logistic,
      sizes: ["m": 4, "n": 3], scale: ["w": 300], reference: "np.sum(np.logaddexp(0, X @ w))"),
    LargeLogitProbe(
      expression: "s*logsumexp(X*w)", wrt: "s", statements: logistic, sizes: ["m": 4, "n": 3],
      scale: ["w": 300], reference: "lse(X @ w)"),
    LargeLogitProbe(
      expression: "s*log(sum(exp(X*w)))", wrt: "s", statements: logistic,
      sizes: ["m": 4, "n": 3], scale: ["w": 300], reference: "lse(X @ w)"),
    LargeLogitProbe(
      expression: "s*y'*log(softmax(X*w))", wrt: "s", statements: logistic,
      sizes: ["m": 4, "n": 3], scale: ["w": 300], reference: "y @ (X @ w - lse(X @ w))"),
    LargeLogitProbe(
      expression: "s*(-y'*log(p) - (1 - y)'*log(1 - p))", wrt: "s",
      statements: logistic + "; p = sigmoid(X*w)", sizes: ["m": 4, "n": 3], scale: ["w": 300],
      reference: "y @ np.logaddexp(0, -(X @ w)) + (1 - y) @ np.logaddexp(0, X @ w)"),
    // Cross-entropy through a softmax written in index form: (y ⊘ p) ⊙ p cancels to y.
    LargeLogitProbe(
      expression: "-y'*log(p)", wrt: "x",
      statements: "x : vector(n); y : simplex(n); p[i] = exp(x[i]) / sum(k, exp(x[k]))",
      sizes: ["n": 5], scale: ["x": 300],
      reference: "softmax_rows(x[None, :])[0] * np.sum(y) - y"),
    LargeLogitProbe(
      expression: "-y'*log(p)", wrt: "W",
      statements:
        "W : matrix(n, d); v : vector(d); y : simplex(n); z = W*v; "
        + "p[i] = exp(z[i]) / sum(k, exp(z[k]))",
      sizes: ["n": 4, "d": 3], scale: ["W": 300],
      reference: "np.outer(softmax_rows((W @ v)[None, :])[0] * np.sum(y) - y, v)"),
    // Log-softmax written in index form: of a vector, of each row, of each column.
    LargeLogitProbe(
      expression: "s*y'*Z", wrt: "s",
      statements:
        "x : vector(n); y : simplex(n); s : scalar; Z[i] = x[i] - log(sum(k, exp(x[k])))",
      sizes: ["n": 5], scale: ["x": 300], reference: "y @ (x - lse(x))"),
    LargeLogitProbe(
      expression: "s*sum(Z)", wrt: "s",
      statements:
        "X : matrix(m, n); s : scalar; Z[i,j] = X[i,j] - log(sum(k, exp(X[i,k])))",
      sizes: ["m": 3, "n": 4], scale: ["X": 300],
      reference: "np.sum(X) - X.shape[1] * sum(lse(r) for r in X)"),
    LargeLogitProbe(
      expression: "s*sum(Z)", wrt: "s",
      statements:
        "X : matrix(m, n); s : scalar; Z[i,j] = X[i,j] - log(sum(k, exp(X[k,j])))",
      sizes: ["m": 3, "n": 4], scale: ["X": 300],
      reference: "np.sum(X) - X.shape[0] * sum(lse(c) for c in X.T)"),
    // A four-index result: the shift multiplies an einsum operand and its coefficient.
    LargeLogitProbe(
      expression: "X - log(sum(exp(X)))", wrt: "X", statements: "X : matrix(m, n)",
      sizes: ["m": 3, "n": 4], scale: ["X": 300], offset: ["X": 800],
      reference: "(lambda P: np.einsum('ki,lj->ijkl', np.eye(3), np.eye(4)) - P[None, None])"
        + "(np.exp(X - lse(X)))", control: true),
  ]
  var cases: [[String: Any]] = []
  for probe in probes {
    let names = probe.wrt.split(separator: ",").map(String.init)
    let numpy: String?
    let python: String
    let jax: String
    let problem: Problem
    if names.count > 1 {
      let backpropagation = try derive(probe.expression, wrt: names, where: probe.statements)
      #expect(try backpropagation.check().passed, "\(probe.expression) wrt \(probe.wrt)")
      (numpy, python, jax, problem) = (
        try? backpropagation.render(.numpy), try backpropagation.render(.python),
        try backpropagation.render(.jax), backpropagation.problem
      )
    } else {
      let derivation = try derivedAndChecked(
        probe.expression, wrt: probe.wrt, where: probe.statements)
      (numpy, python, jax, problem) = (
        try? derivation.render(.numpy), try derivation.render(.python),
        try derivation.render(.jax), derivation.problem
      )
    }
    #expect((numpy == nil) == (probe.upstream != nil), "\(probe.expression)")
    let name = python.split(separator: "\n").first { $0.hasPrefix("def ") }?.dropFirst(4)
      .prefix { $0 != "(" }
    cases.append([
      "numpy": numpy ?? NSNull(), "python": python, "jax": jax, "name": String(name ?? ""),
      "names": problem.inputs.map(\.name),
      "shapes": problem.inputs.map { input in
        NumpyRenderer.axisNames(of: input).map { probe.sizes[$0] ?? Int($0) ?? 1 }
      },
      "scale": probe.scale, "offset": probe.offset, "reference": probe.reference,
      "control": probe.control,
      "upstream": probe.upstream.map { $0.map { probe.sizes[$0] ?? 1 } } ?? NSNull(),
      "label": "\(probe.expression) wrt \(probe.wrt)",
    ])
  }
  let script = """
    import json, re, warnings
    warnings.simplefilter('ignore')

    def softmax_rows(S):
        e = np.exp(S - np.max(S, axis=1, keepdims=True))
        return e / np.sum(e, axis=1, keepdims=True)

    def lse(t):
        return np.max(t) + np.log(np.sum(np.exp(t - np.max(t))))

    def parts(v):
        return [np.asarray(p, dtype=float) for p in (v if isinstance(v, tuple) else (v,))]

    report = []
    for index, case in enumerate(json.load(open(PAYLOAD))):
        rng = np.random.default_rng(300 + index)
        args = {n: (rng.normal() if s == [] else rng.normal(size=s)) * case['scale'].get(n, 1.0)
                + case['offset'].get(n, 0.0) for n, s in zip(case['names'], case['shapes'])}
        if 'y' in args:
            args['y'] = np.abs(args['y']) / np.sum(np.abs(args['y']))
        positional = [args[n] for n in case['names']]
        if case['upstream'] is not None:
            args['G'] = rng.normal(size=case['upstream'])
            positional.append(args['G'])
        scope = {'np': np, 'softmax_rows': softmax_rows, 'lse': lse}
        scope.update(args)
        expected = parts(eval(case['reference'], scope))
        size = max(1.0, max(float(np.max(np.abs(e))) for e in expected))
        def gap(got):
            got = parts(got)
            if [g.shape for g in got] != [e.shape for e in expected]:
                return 'shapes %s, expected %s' % ([g.shape for g in got], [e.shape for e in expected])
            if not all(np.all(np.isfinite(g)) for g in got):
                return 'not finite: %s' % got
            return max(float(np.max(np.abs(g - e))) for g, e in zip(got, expected)) / size
        row = {'label': case['label']}
        if case['numpy'] is not None:
            line_scope = {'np': np}
            line_scope.update(args)
            row['numpy'] = gap(eval(case['numpy'], line_scope))
        function_scope = {}
        exec(case['python'], function_scope)
        row['python'] = gap(function_scope[case['name']](*positional))
        if jax is not None:
            function_scope = {}
            exec(case['jax'], function_scope)
            row['jax'] = gap(jax.jit(function_scope[case['name']])(*positional))
        if case['control']:
            plain = re.sub(r'np\\.exp\\((.+?) - np\\.max\\(\\1(, axis=\\d, keepdims=True)?\\)\\)',
                           r'np.exp(\\1)', case['python'])
            function_scope = {}
            exec(plain, function_scope)
            failure = gap(function_scope[case['name']](*positional))
            row['control'] = plain != case['python'] and (isinstance(failure, str) or failure > 1e-6)
        report.append(row)
    print(json.dumps(report))
    """
  let printed = try PythonRunner.run(script, payload: cases, jax: true)
  let rows = try #require(
    try JSONSerialization.jsonObject(with: Data(printed.utf8)) as? [[String: Any]])
  #expect(rows.count == probes.count)
  for (row, probe) in zip(rows, probes) {
    let label = row["label"] as? String ?? "?"
    var backends = ["python"]
    if probe.upstream == nil { backends.append("numpy") }
    if jaxIsInstalled { backends.append("jax") }
    for backend in backends {
      let gap = row[backend] as? Double
      #expect(gap.map { $0 <= 1e-9 } ?? false, "\(label): \(backend): \(row[backend] ?? "none")")
    }
    if probe.control {
      #expect(row["control"] as? Bool == true, "\(label): the unshifted code stays right")
    }
  }
}

/// Every corpus problem and every Jacobian and Hessian of the corpus: the NumPy line, the
/// Python function and the JAX function give the checked formula's shape and values.
@Test func corpusCodeRunsInEveryBackend() throws {
  let probes =
    Corpus.problems.map { EmitProbe(expression: $0.0, wrt: $0.1, statements: $0.2) }
    + jacobians.map {
      EmitProbe(expression: $0.0, wrt: $0.1, statements: Corpus.vectors, order: $0.2)
    }
  try expectEmittedCodeAgrees(probes)
}
