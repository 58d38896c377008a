import Foundation
import TestSupport
import Testing

@testable import MatrixCalculus

/// A problem through sigmoid run at logits of ±800: `inputs` (Python literals, by name) and
/// the stable `reference` (NumPy, over the inputs and, for a backward, the upstream `G`).
private struct SigmoidProbe: Sendable {
  var expression: String
  var wrt: String
  var statements: String
  var inputs: [String: String]
  var upstream: String?
  var reference: String
}

/// σ at logits of ±800 in every backend: finite, equal to a stable σ, and with no warning
/// (Python runs with `-W error`: NumPy's overflow warning in exp would be an error). The
/// former spelling 1/(1 + e^(−t)) of the same NumPy code must raise there.
@Test func sigmoidIsStableAtLargeLogits() throws {
  let matrix = "[[800.0, -800.0, 3.0], [-2.0, 0.5, -800.0]]"
  let probes = [
    SigmoidProbe(
      expression: "sum(sigmoid(X) .* Y)", wrt: "X",
      statements: "X : matrix(m, n); Y : matrix(m, n)",
      inputs: ["X": matrix, "Y": "[[1.0, -2.0, 0.5], [3.0, 0.25, -1.5]]"],
      reference: "(lambda s: s * (1 - s) * Y)(sig(X))"),
    SigmoidProbe(
      expression: "y'*sigmoid(W*x)", wrt: "x",
      statements: "W : matrix(m, n); x : vector(n); y : vector(m)",
      inputs: [
        "W": "[[800.0, 0.0], [0.0, -800.0], [1.0, 1.0]]", "x": "[1.0, 1.0]",
        "y": "[0.5, -1.0, 2.0]",
      ],
      reference: "W.T @ ((lambda s: s * (1 - s))(sig(W @ x)) * y)"),
    SigmoidProbe(
      expression: "s*sum(sigmoid(x))", wrt: "s", statements: "s : scalar; x : vector(n)",
      inputs: ["s": "2.0", "x": "[800.0, -800.0, 0.3]"], reference: "np.sum(sig(x))"),
    SigmoidProbe(
      expression: "sum(silu(X))", wrt: "X", statements: "X : matrix(m, n)", inputs: ["X": matrix],
      reference: "(lambda s: s + X * s * (1 - s))(sig(X))"),
    SigmoidProbe(
      expression: "l", wrt: "W",
      statements: "L : function; W : matrix(m, n); x : vector(n); Y = sigmoid(W*x); l = L(Y)",
      inputs: ["W": "[[800.0, 0.0], [0.0, -800.0], [1.0, 1.0]]", "x": "[1.0, 1.0]"],
      upstream: "[0.5, -1.0, 2.0]",
      reference: "np.outer((lambda s: s * (1 - s))(sig(W @ x)) * G, x)"),
  ]
  var cases: [[String: Any]] = []
  for probe in probes {
    let d = try derivedAndChecked(probe.expression, wrt: probe.wrt, where: probe.statements)
    let numpy = probe.upstream == nil ? try d.render(.numpy) : nil
    let python = try d.render(.python)
    let jax = try d.render(.jax)
    for text in [numpy, python].compactMap({ $0 }) {
      #expect(text.contains("np.maximum(") && !text.contains("1.0 + np.exp(-(X))"), "\(text)")
    }
    #expect(jax.contains("jax.nn.sigmoid(") && jax.contains("import jax\n"), "\(jax)")
    let name = python.split(separator: "\n").first { $0.hasPrefix("def ") }?.dropFirst(4)
      .prefix { $0 != "(" }
    cases.append([
      "numpy": numpy ?? NSNull(), "python": python, "jax": jax, "name": String(name ?? ""),
      "names": d.problem.inputs.compactMap { probe.inputs[$0.name] == nil ? nil : $0.name },
      "inputs": probe.inputs, "upstream": probe.upstream ?? NSNull(),
      "reference": probe.reference, "label": "\(probe.expression) wrt \(probe.wrt)",
    ])
  }
  let script = """
    def sig(t):
        e = np.exp(-np.abs(t))
        return np.where(t >= 0, 1.0, e) / (1.0 + e)

    report = []
    for case in json.load(open(PAYLOAD)):
        args = {n: np.array(eval(v), dtype=float) for n, v in case['inputs'].items()}
        if 's' in args:
            args['s'] = float(args['s'])
        positional = [args[n] for n in case['names']]
        if case['upstream'] is not None:
            args['G'] = np.array(eval(case['upstream']), dtype=float)
            positional.append(args['G'])
        expected = np.asarray(eval(case['reference'], dict(args, np=np, sig=sig)), dtype=float)
        def gap(got):
            got = np.asarray(got, dtype=float)
            if got.shape != expected.shape:
                return 'shape %s, expected %s' % (got.shape, expected.shape)
            if not np.all(np.isfinite(got)):
                return 'not finite: %s' % got
            return float(np.max(np.abs(got - expected)) / max(1.0, np.max(np.abs(expected))))
        row = {'label': case['label']}
        if case['numpy'] is not None:
            row['numpy'] = gap(eval(case['numpy'], dict(args, np=np)))
            # The former spelling warns (an error here).
            former = re.sub(r'np\\.exp\\(-np\\.maximum\\((.+?), -709\\.0\\)\\)', r'np.exp(-(\\1))',
                            case['numpy'])
            try:
                eval(former, dict(args, np=np))
                row['control'] = former == case['numpy']
            except RuntimeWarning:
                row['control'] = True
        scope = {}
        exec(case['python'], scope)
        row['python'] = gap(scope[case['name']](*positional))
        if jax is not None:
            scope = {}
            exec(case['jax'], scope)
            row['jax'] = gap(jax.jit(scope[case['name']])(*positional))
        report.append(row)
    print(json.dumps(report))
    """
  let result = try PythonRunner.result(
    script, payload: cases, jax: true, options: ["-W", "error"])
  try #require(result.status == 0, "python3 -W error failed: \(result.error)")
  let rows = try #require(
    try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [[String: Any]])
  #expect(rows.count == probes.count)
  for (row, probe) in zip(rows, probes) {
    let label = row["label"] as? String ?? "?"
    var backends = ["python"]
    if probe.upstream == nil { backends.append("numpy") }
    if jaxIsInstalled { backends.append("jax") }
    for backend in backends {
      let gap = row[backend] as? Double
      #expect(gap.map { $0 <= 1e-12 } ?? false, "\(label): \(backend): \(row[backend] ?? "none")")
    }
    if probe.upstream == nil {
      #expect(row["control"] as? Bool == true, "\(label): the former σ does not warn")
    }
  }
}

/// The emitted σ is exact to rounding wherever e^(−t) is finite, and within 1.3e-308 of σ(t)
/// below t = −709, where it is clipped: evaluated here as NumPy would, against a stable σ.
@Test func emittedSigmoidMatchesAStableSigmoid() throws {
  let logits: [Double] = [-800, -745, -709.5, -709, -708, -50, -1, 0, 1e-8, 1, 36, 50, 800]
  let problem = try parseProblem("t : vector(n)\nf = sum(sigmoid(t))")
  let t = try #require(problem.inputs.first).expr
  let line = try NumpyRenderer(problem: problem).render(
    try Expr.make(.call(.sigmoid, t)), rank: 1)
  var interpreter = PythonInterpreter()
  let value = try interpreter.evaluate(
    line, globals: ["t": .array(try NDArray(shape: [logits.count], storage: logits))])
  let got = try value.asArray().storage
  for (t, s) in zip(logits, got) {
    let e = Foundation.exp(-Swift.abs(t))
    let stable = (t >= 0 ? 1 : e) / (1 + e)
    let exact = Swift.abs(s - stable) <= 4 * Double.ulpOfOne * stable
    #expect(
      s.isFinite && (exact || (t < -709 && Swift.abs(s - stable) < 1.3e-308)),
      "σ(\(t)) = \(s), stable \(stable)")
  }
}
