import Foundation
import TensorKernel
import TestSupport
import Testing

@testable import MatrixCalculus

/// A layer `l = L(Y)` through an opaque L whose backward function takes `grad_Y`.
struct LayerCase: Sendable, CustomTestStringConvertible {
  var wrt: String
  var statements: String
  var expression = "l"
  var testDescription: String { "\(expression) wrt \(wrt) where \(statements)" }
}

/// Matrix, vector and scalar Y; one and several variables; two upstream gradients.
let layerCases: [LayerCase] = [
  LayerCase(
    wrt: "W", statements: "L : function; W : matrix(m,n); X : matrix(n,p); Y = W*X; l = L(Y)"),
  LayerCase(
    wrt: "W,X", statements: "L : function; W : matrix(m,n); X : matrix(n,p); Y = W*X; l = L(Y)"),
  LayerCase(
    wrt: "W,b",
    statements:
      "L : function; W : matrix(m,n); x : vector(n); b : vector(m); Y = tanh(W*x + b); l = L(Y)"),
  LayerCase(
    wrt: "x", statements: "L : function; W : matrix(m,n); x : vector(n); Y = sigmoid(W*x); l = L(Y)"
  ),
  LayerCase(
    wrt: "x,W",
    statements: "L : function; W : matrix(m,n); x : vector(n); Y = sigmoid(W*x); l = L(Y)"),
  LayerCase(
    wrt: "A", statements: "L : function; A : matrix(n,n); x : vector(n); Y = x'*A*x; l = L(Y)"),
  LayerCase(
    wrt: "A,x", statements: "L : function; A : matrix(n,n); x : vector(n); Y = x'*A*x; l = L(Y)"),
  LayerCase(
    wrt: "W", statements: "L : function; W : matrix(m,n); X : matrix(n,p); Y = W*X; l = L(Y)",
    expression: "L(W*X)"),
  LayerCase(
    wrt: "W",
    statements:
      "L : function; M : function; W : matrix(m,n); X : matrix(n,p); Y = W*X; Z = W*W'; "
      + "l = L(Y) + M(Z)"),
  LayerCase(
    wrt: "W,X",
    statements:
      "L : function; W : matrix(m,n); X : matrix(n,p); H = tanh(W*X); Y = H .* H; l = L(Y)"),
]

/// The texts of `--format python` and `jax`, rendered with the derivation's own certificate
/// (so the check runs), and a closure that checks an edited text as the render would.
private struct Rendered {
  var python: String
  var jax: String
  var problem: Problem
  /// The backward's upstream gradients, as the emitter names them.
  var upstream: [NumpyRenderer.Upstream]
  var check: (String, OutputFormat) throws -> Void
}

private func rendered(_ layer: LayerCase) throws -> Rendered {
  let names = layer.wrt.split(separator: ",").map(String.init)
  if names.count > 1 {
    let b = try derive(layer.expression, wrt: names, where: layer.statements)
    let certificate = try b.check()
    #expect(certificate.passed, "\(layer.testDescription): \(certificate)")
    return Rendered(
      python: try b.render(.python, certificate: certificate),
      jax: try b.render(.jax, certificate: certificate), problem: b.problem,
      upstream: try NumpyRenderer(problem: b.problem).upstreamGradients(
        in: try b.laidOut(.standard) + b.intermediates.map(\.value))
    ) { text, format in
      try b.checkEmitted(text, format: format, layout: .standard, certificate: certificate)
    }
  }
  let d = try derive(layer.expression, wrt: layer.wrt, where: layer.statements)
  let certificate = try d.check()
  #expect(certificate.passed, "\(layer.testDescription): \(certificate)")
  return Rendered(
    python: try d.render(.python, certificate: certificate),
    jax: try d.render(.jax, certificate: certificate), problem: d.problem,
    upstream: try NumpyRenderer(problem: d.problem).upstreamGradients(
      in: [try d.laidOut(.standard)])
  ) { text, format in
    try d.checkEmitted(text, format: format, layout: .standard, certificate: certificate)
  }
}

/// The message of the internal error `body` throws, or `nil` when it passes.
private func refusal(_ body: () throws -> Void) -> String? {
  do {
    try body()
    return nil
  } catch MatcalcError.internalError(let message) {
    return message
  } catch {
    return "not an internal error: \(error)"
  }
}

/// Each layer's backward function passes the check as printed, with and without JAX's layer.
@Test(arguments: layerCases)
func backwardFunctionsPassTheCheck(_ layer: LayerCase) throws {
  let r = try rendered(layer)
  #expect(r.python.contains(", grad_"), "\(r.python)")
  #expect(r.jax.contains(", grad_"), "\(r.jax)")
  for (text, format) in [(r.python, OutputFormat.python), (r.jax, .jax)] {
    #expect(refusal { try r.check(text, format) } == nil, "\(layer.testDescription)\n\(text)")
  }
}

/// A backward text edited by hand (a transpose dropped, grad_Y ignored, the custom_vjp's
/// cotangents swapped, its layer computing another Y) is refused with an internal error.
@Test func editedBackwardTextIsRefused() throws {
  // Square, so that the edits keep every shape: only the values tell.
  let layer = LayerCase(
    wrt: "W,X", statements: "L : function; W : matrix(n,n); X : matrix(n,n); Y = W*X; l = L(Y)")
  let r = try rendered(layer)
  let edits: [(String, OutputFormat, String, String)] = [
    ("transpose dropped", .python, "grad_Y @ X.T", "grad_Y @ X"),
    ("transpose dropped", .jax, "grad_Y @ X.T", "grad_Y @ X"),
    ("grad_Y ignored", .python, "grad_Y @ X.T", "X.T"),
    (
      "cotangents swapped", .jax, "return (gradients[0], gradients[1])",
      "return (gradients[1], gradients[0])"
    ),
    ("layer transposed", .jax, "return jnp.asarray((W @ X))", "return jnp.asarray((W @ X).T)"),
  ]
  for (label, format, old, new) in edits {
    let text = format == .python ? r.python : r.jax
    #expect(text.contains(old), "\(label): \(old) not in\n\(text)")
    let edited = text.replacingOccurrences(of: old, with: new)
    let message = refusal { try r.check(edited, format) }
    #expect(
      message?.contains("--format \(format.rawValue)") == true
        && message?.contains("differs") == true, "\(label): \(message ?? "passed")")
  }
  // The layer's backward names a held input's cotangent: not None is refused.
  let single = try rendered(
    LayerCase(
      wrt: "W", statements: "L : function; W : matrix(n,n); X : matrix(n,n); Y = W*X; l = L(Y)"))
  let held = single.jax.replacingOccurrences(
    of: "return (gradients, None)", with: "return (gradients, gradients)")
  #expect(held != single.jax, "\(single.jax)")
  let message = refusal { try single.check(held, .jax) }
  #expect(message?.contains("held constant") == true, "\(message ?? "passed")")
}

/// The interpreter runs backward modules as Python and JAX do: the backward function given
/// ∇L(Y) (both backends), and the JAX layer's VJP through `jax.vjp`, against the interpreter's
/// call of the layer's `bwd` on its `fwd` residuals.
@Test func interpreterRunsBackwardModulesAsPythonDoes() throws {
  var payload: [[String: Any]] = []
  var mine: [[String: [[Double]]]] = []
  for layer in layerCases {
    let r = try rendered(layer)
    let problem = r.problem
    let sizes = Sampler.sizes(for: problem.inputs.map(\.expr.shape))
    var generator = SplitMix64(seed: TestFunctions.stableHash(layer.testDescription))
    let values = try Sampler.draw(
      inputsOf: problem, requirements: [:], sizes: sizes, generator: &generator)
    var evaluator = Evaluator(sizes: sizes, values: values)
    try evaluator.bind(problem.definitions)
    let upstream = r.upstream
    var arguments: [String: PythonValue] = [:]
    var json: [Any] = []
    for input in problem.inputs {
      guard let value = values[input.name],
        let python = try EmittedCodeCheck.pythonValue(value, type: input.type)
      else { continue }
      arguments[input.name] = python
      json.append(nested(python))
    }
    var upstreamJSON: [Any] = []
    for gradient in upstream {
      let value = try evaluator.evaluate(
        try Expr.make(.gradient(gradient.function, gradient.argument)))
      let python = try #require(try EmittedCodeCheck.pythonValue(value, type: gradient.type))
      arguments[gradient.name] = python
      upstreamJSON.append(nested(python))
    }
    var results: [String: [[Double]]] = [:]
    for (format, text) in [("python", r.python), ("jax", r.jax)] {
      var interpreter = PythonInterpreter()
      defer { interpreter.close() }
      let module = try interpreter.load(module: text)
      let name = try #require(
        text.split(separator: "\n").first { $0.hasPrefix("def grad") }?.dropFirst(4)
          .prefix { $0 != "(" })
      guard case .closure(let function) = module.names[String(name)] else {
        Issue.record("\(format): no function \(name)")
        continue
      }
      let value = try interpreter.invoke(
        function, try PythonInterpreter.positional(function, arguments, name: String(name)))
      results[format] = flattened(value)
      if format == "jax",
        let (_, defined) = module.names.first(where: { $0.key.hasPrefix("layer_") }),
        case .customVJP(let custom) = defined, let forward = custom.forward,
        let backward = custom.backward,
        let cotangent = upstreamJSON.first.map({ _ in
          arguments[upstream[0].name] ?? .none
        })
      {
        let inputs = try PythonInterpreter.positional(custom.primal, arguments, name: "layer")
        guard case .tuple(let pair) = try interpreter.invoke(forward, inputs) else {
          Issue.record("fwd returns no pair")
          continue
        }
        results["layer"] = flattened(try interpreter.callValue(.customVJP(custom), inputs))
        results["vjp"] = flattened(try interpreter.invoke(backward, [pair[1], cotangent]))
      }
    }
    mine.append(results)
    payload.append([
      "python": r.python, "jax": r.jax, "args": json, "upstream": upstreamJSON,
      "label": layer.testDescription,
    ])
  }
  let script = """

    def flat(v):
        parts = v if isinstance(v, tuple) else (v,)
        return [[] if p is None else [float(x) for x in np.ravel(np.asarray(p, dtype=float))]
                for p in parts]

    report = []
    for case in json.load(open(PAYLOAD)):
        args = [np.asarray(a, dtype=float) for a in case['args']]
        upstream = [np.asarray(g, dtype=float) for g in case['upstream']]
        row = {}
        for backend in ('python', 'jax'):
            if backend == 'jax' and jax is None:
                continue
            scope = {}
            exec(case[backend], scope)
            name = re.search(r'^def (grad\\w*)\\(', case[backend], re.M).group(1)
            f = scope[name] if backend == 'python' else jax.jit(scope[name])
            row[backend] = flat(f(*args, *upstream))
            layer = next((v for k, v in scope.items() if k.startswith('layer_')), None)
            if backend == 'jax' and layer is not None:
                value, vjp = jax.vjp(layer, *args)
                row['layer'] = flat(value)
                row['vjp'] = flat(tuple(None if np.all(np.asarray(c) == 0) else c
                                        for c in vjp(jax.numpy.asarray(upstream[0]))))
        report.append(row)
    print(json.dumps(report))
    """
  let printed = try PythonRunner.run(script, payload: payload, jax: true)
  let rows = try #require(
    try JSONSerialization.jsonObject(with: Data(printed.utf8)) as? [[String: [[Double]]]])
  try #require(rows.count == mine.count)
  for ((layer, python), interpreted) in zip(zip(layerCases, rows), mine) {
    for key in ["python", "jax", "layer", "vjp"] {
      guard let theirs = python[key] else {
        #expect(key != "python", "\(layer.testDescription): Python gave no \(key)")
        continue
      }
      let ours = interpreted[key] ?? []
      #expect(
        ours.count == theirs.count
          && zip(ours, theirs).allSatisfy { a, b in
            a.count == b.count
              && zip(a, b).allSatisfy { abs($0 - $1) <= 1e-9 * max(1, abs($1)) }
          }, "\(layer.testDescription) \(key): interpreter \(ours), Python \(theirs)")
    }
  }
}

/// A returned value as its parts' entries (`None` an empty part), for comparison with Python.
private func flattened(_ value: PythonValue) -> [[Double]] {
  let parts: [PythonValue]
  if case .tuple(let items) = value { parts = items } else { parts = [value] }
  return parts.map { part in
    switch part {
    case .array(let a): return a.storage
    case .integer(let n): return [Double(n)]
    default: return []
    }
  }
}

/// A Python value as JSON (nested lists of an array's rows).
private func nested(_ value: PythonValue) -> Any {
  guard case .array(let a) = value else { return NSNull() }
  switch a.shape.count {
  case 0: return a.storage.first ?? 0
  case 1: return a.storage
  default:
    let columns = a.shape[1]
    return (0..<a.shape[0]).map { i in Array(a.storage[(i * columns)..<((i + 1) * columns)]) }
  }
}
