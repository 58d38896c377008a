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

/// Derives `probe`, checks it, draws inputs with pairwise-distinct sizes and evaluates the
/// checked formula on them.
private func prepared(_ probe: EmitProbe, seed: UInt64) throws -> EmitRun {
  let names = probe.wrt.split(separator: ",").map(String.init)
  if names.count > 1 {
    let backpropagation = try derive(probe.expression, wrt: names, where: probe.statements)
    let certificate = try backpropagation.check()
    #expect(certificate.passed, "\(probe.testDescription): \(certificate)")
    let problem = backpropagation.problem
    let requirements = Sampler.requirements(
      of: [backpropagation.objective], definitions: problem.definitions)
    let sizes = Sampler.sizes(for: problem.inputs.map(\.expr.shape))
    var generator = SplitMix64(seed: seed)
    let values = try Sampler.draw(
      inputsOf: problem, requirements: requirements, sizes: sizes, generator: &generator)
    var evaluator = Evaluator(sizes: sizes, values: values)
    try evaluator.bind(problem.definitions + backpropagation.intermediates.asDefinitions)
    let expected = try backpropagation.gradients.map { try evaluator.evaluate($0) }
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
    of: [derivation.objective], definitions: problem.definitions)
  let sizes = Sampler.sizes(for: problem.inputs.map(\.expr.shape))
  var generator = SplitMix64(seed: seed)
  let values = try Sampler.draw(
    inputsOf: problem, requirements: requirements, sizes: sizes, generator: &generator)
  var evaluator = Evaluator(sizes: sizes, values: values)
  try evaluator.bind(problem.definitions)
  let expected =
    try derivation.tensor.map { try $0.jacobian(&evaluator) }
    ?? evaluator.evaluate(derivation.result)
  return EmitRun(
    numpy: try? derivation.render(.numpy), python: try derivation.render(.python),
    jax: try derivation.render(.jax), inputs: problem.inputs.map { ($0.name, $0.type) },
    values: values, expected: expected.storage,
    shapes: [derivation.resultShape.map { size($0, sizes) }])
}

/// Whether `python3` can import JAX here (the JAX backend is run only then).
let jaxIsInstalled: Bool = {
  (try? Subprocess.run(["python3", "-c", "import jax"]).status) == 0
}()

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
  let folder = FileManager.default.temporaryDirectory
  let data = folder.appendingPathComponent("emitted-\(UUID().uuidString).json")
  try JSONSerialization.data(withJSONObject: cases).write(to: data)
  defer { try? FileManager.default.removeItem(at: data) }
  let script = """
    import json
    import numpy as np
    try:
        import jax
        jax.config.update("jax_enable_x64", True)
    except ImportError:
        jax = None

    def parts(v):
        ps = v if isinstance(v, tuple) else (v,)
        return {"shapes": [list(np.shape(p)) for p in ps],
                "values": [[float(x) for p in ps for x in np.asarray(p, dtype=float).ravel()]]}

    out = []
    for case in json.load(open('\(data.path)')):
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
  let printed = try PythonRunner.run(script)
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
