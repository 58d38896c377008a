import Foundation
import TensorKernel
import TestSupport
import Testing

@testable import MatrixCalculus

/// The emitted NumPy line of `derivation` (rendered with `sizes`), after checking in Python
/// that it has the value of the formula evaluated here.
private func checkedLine(_ derivation: Derivation, sizes planned: [String: Int] = [:]) throws
  -> String
{
  let problem = derivation.problem
  let line = try NumpyRenderer(problem: problem, sizes: planned).render(
    derivation.result, rank: derivation.resultRank)
  let sizes = Sampler.sizes(for: problem.inputs.map(\.expr.shape))
  let requirements = Sampler.requirements(
    of: [derivation.objective, derivation.result], definitions: problem.definitions)
  var generator = SplitMix64(seed: 14)
  let values = try Sampler.draw(
    inputsOf: problem, requirements: requirements, sizes: sizes, generator: &generator)
  var evaluator = Evaluator(sizes: sizes, values: values)
  try evaluator.bind(problem.definitions)
  let expected = try evaluator.evaluate(derivation.result)
  let numbers = try PythonRunner.evaluate(line, problem: problem, values: values)
  #expect(numbers.count == expected.count, "\(line)")
  let gap = zip(numbers, expected.storage).map { abs($0 - $1) }.max() ?? .infinity
  #expect(gap <= 1e-9 * max(1, expected.maxAbs), "\(line): \(numbers) vs \(expected.storage)")
  return line
}

struct EmissionCase: CustomTestStringConvertible, Sendable {
  var expression: String
  var wrt: String
  var statements: String
  var order = 1
  var present: [String] = []
  var absent: [String] = []
  var testDescription: String { "\(expression) wrt \(wrt)" }
}

@Test(
  .needs(.numpy),
  arguments: [
    // Matrix chains: A B C x evaluated right to left, (ABC + CᵀBᵀAᵀ) x distributed.
    EmissionCase(
      expression: "tr(A*B*C*x*x')", wrt: "x",
      statements: "A : matrix(n, n); B : matrix(n, n); C : matrix(n, n); x : vector(n)",
      present: ["(A @ (B @ (C @ x[:, None])))", "(C.T @ (B.T @ (A.T @ x[:, None])))"],
      absent: ["(A @ B)"]),
    // A chain under a transpose: (A B x)ᵀ y = xᵀ Bᵀ Aᵀ y, vectors first.
    EmissionCase(
      expression: "(A*B*x)'*(C*y)", wrt: "y",
      statements:
        "A : matrix(m, n); B : matrix(n, p); C : matrix(m, q); x : vector(p); y : vector(q)",
      absent: ["(A @ B)", "(C.T @ A)"]),
    // (A + Aᵀ) x = A x + Aᵀ x.
    EmissionCase(
      expression: "x'*A*x", wrt: "x", statements: "A : matrix(n, n); x : vector(n)",
      present: ["(A @ x[:, None]) + (A.T @ x[:, None])"], absent: ["(A + A.T)"]),
    // diag(s) W = s ⊙ W row by row.
    EmissionCase(
      expression: "tanh(W*x)", wrt: "x", statements: "W : matrix(m, n); x : vector(n)",
      present: [" * W)"], absent: ["np.diag"]),
    // Bᵀ diag(v) = Bᵀ ⊙ vᵀ column by column.
    EmissionCase(
      expression: "tr(A*diag(v)*B)", wrt: "A",
      statements: "A : matrix(m, n); B : matrix(n, m); v : vector(n)",
      present: ["v[:, None].T"], absent: ["np.diag"]),
    // Xᵀ diag(d) X: the logistic Hessian.
    EmissionCase(
      expression: "sum(log(1 + exp(-y .* (X*w))))", wrt: "w",
      statements: "X : matrix(m, n); w : vector(n); y : vector(m)", order: 2,
      absent: ["np.diag"]),
    // X⁻ᵀ a (X⁻¹ b)ᵀ by two solves and an outer product.
    EmissionCase(
      expression: "a'*inv(X)*b", wrt: "X",
      statements: "X : matrix(n, n); a : vector(n); b : vector(n)",
      present: ["np.outer(np.linalg.solve(X.T, ", "np.linalg.solve(X, b[:, None]).T"],
      absent: ["np.linalg.inv"]),
    // bᵀ X⁻¹ as solve(Xᵀ, b)ᵀ, a matrix right side too.
    EmissionCase(
      expression: "b'*inv(X)*A*c", wrt: "c",
      statements: "X : matrix(n, n); A : matrix(n, m); b : vector(n); c : vector(m)",
      present: ["np.linalg.solve("], absent: ["np.linalg.inv"]),
    // Two solves with n right sides cost more than the inverse and two products (LAPACK runs at
    // a third of the product's rate).
    EmissionCase(
      expression: "tr(inv(X)*A)", wrt: "X", statements: "A : matrix(n, n); X : matrix(n, n)",
      present: ["np.linalg.inv("], absent: ["np.linalg.solve"]),
    // An inverse needed as a matrix is computed once.
    EmissionCase(
      expression: "logdet(X) + tr(inv(X)*A)", wrt: "X",
      statements: "A : matrix(n, n); X : matrix(n, n)",
      present: ["(lambda _t0: "]),
    // Through definitions: (X W) v = X (W v).
    EmissionCase(
      expression: "l", wrt: "W",
      statements:
        "X : matrix(b, d); W : matrix(d, h); v : vector(h); y : vector(b); H = X*W; yhat = H*v; l = 1/2*(yhat - y)'*(yhat - y)",
      present: ["(W @ v[:, None])", "np.outer("], absent: ["(X @ W)"]),
    // A definition used twice keeps its name.
    EmissionCase(
      expression: "sum(exp(z)) + z'*z", wrt: "x",
      statements: "W : matrix(m, n); x : vector(n); z = W*x",
      present: ["lambda _z: "]),
    // 2 Aᵀ (A B C x − y) xᵀ Cᵀ: C x and xᵀ Cᵀ = (C x)ᵀ are one product, computed once.
    EmissionCase(
      expression: "norm2(A*B*C*x - y)^2", wrt: "B",
      statements:
        "A : matrix(n, k); B : matrix(k, k); C : matrix(k, n); x : vector(n); y : vector(n)",
      present: ["(lambda _t0: "]),
    // Integer sizes as given: U Vᵀ V with V n×3 is U (Vᵀ V).
    EmissionCase(
      expression: "norm2(T - U*V')^2", wrt: "U",
      statements: "T : matrix(n, n); U : matrix(n, 3); V : matrix(n, 3)",
      present: ["(U @ (V.T @ V))", "(T @ V)"]),
  ])
func emittedLineIsCheapAndKeepsItsValue(_ problem: EmissionCase) throws {
  let derivation = try derivedAndChecked(
    problem.expression, wrt: problem.wrt, where: problem.statements, order: problem.order)
  let line = try checkedLine(derivation)
  for fragment in problem.present { #expect(line.contains(fragment), "\(line)") }
  for fragment in problem.absent { #expect(!line.contains(fragment), "\(line)") }
}

/// Symbolic sizes given to the renderer change the plan: with k small, (T − U Vᵀ) V is
/// distributed to T V − U (Vᵀ V); with every size large it is not.
@Test(.needs(.numpy)) func givenSizesChooseTheOrder() throws {
  let derivation = try derivedAndChecked(
    "norm2(T - U*V')^2", wrt: "U", where: "T : matrix(n, n); U : matrix(n, k); V : matrix(n, k)")
  let large = try checkedLine(derivation)
  #expect(large.contains("(U @ V.T)"), "\(large)")
  let small = try checkedLine(derivation, sizes: ["n": 2000, "k": 10])
  #expect(small.contains("(U @ (V.T @ V))"), "\(small)")
}

/// The chain cost: (A B) x costs 2n³ + 2n², A (B x) costs 4n² (plus memory moves).
@Test func costModelPricesProductsSolvesAndInverses() {
  let model = CostModel()
  let n = CostModel.largeDimension
  #expect(model.size(.symbol("n")) == n)
  #expect(model.size(.size(7)) == 7)
  #expect(CostModel(sizes: ["n": 20]).size(.symbol("n")) == 20)
  #expect(model.product(n, n, n) + model.product(n, n, 1) > 2 * model.product(n, n, 1))
  #expect(model.solve(n, 1) < model.inverse(n))
  #expect(2 * model.solve(n, 1) < model.inverse(n) + 2 * model.product(n, n, 1))
  #expect(2 * model.solve(n, n) > model.inverse(n) + 2 * model.product(n, n, n))
}

/// A chain of sixty factors keeps its order (the search is cubic) and stays correct.
@Test(.needs(.numpy)) func longChainsKeepTheirOrder() throws {
  let factors = Array(repeating: "A", count: 60).joined(separator: "*")
  let derivation = try deriveUnchecked(
    "x'*\(factors)*x", wrt: "x", where: "A : matrix(n, n); x : vector(n)")
  _ = try checkedLine(derivation)
}

/// Random expressions and their Jacobians: every emitted line (reordered, distributed,
/// solved) has the value of the formula. One Python process runs them all.
@Test(.needs(.numpy)) func randomExpressionsEmitLinesWithTheirValues() throws {
  var generator = ExpressionGenerator(random: SplitMix64(seed: 14_2026))
  var script = "import numpy as np, json\nresults = []\n"
  var expectations: [(line: String, values: [Double], scale: Double)] = []
  for index in 0..<400 {
    let kinds: [ExpressionGenerator.Kind] = [.scalar, .vectorN, .vectorM, .matrixMN, .squareN]
    guard let (text, wrt) = try generator.problem(kinds[index % kinds.count]) else { continue }
    guard
      let derivation = try? deriveUnchecked(
        text, wrt: wrt, where: ExpressionGenerator.declarations),
      derivation.tensor == nil, let line = try? derivation.render(.numpy)
    else { continue }
    let problem = derivation.problem
    let sizes = Sampler.sizes(for: problem.inputs.map(\.expr.shape))
    let requirements = Sampler.requirements(
      of: [derivation.objective, derivation.result], definitions: problem.definitions)
    var random = SplitMix64(seed: UInt64(index))
    guard
      let values = try? Sampler.draw(
        inputsOf: problem, requirements: requirements, sizes: sizes, generator: &random)
    else { continue }
    var evaluator = Evaluator(sizes: sizes, values: values)
    guard let expected = try? evaluator.evaluate(derivation.result),
      expected.storage.allSatisfy(\.isFinite)
    else { continue }
    for input in problem.inputs {
      guard let value = values[input.name] else { continue }
      script += "globals()['\(input.name)'] = \(PythonRunner.literal(value, input.type))\n"
    }
    script += "results.append(np.asarray(\(line), dtype=float).ravel().tolist())\n"
    expectations.append((line, expected.storage, max(1, expected.maxAbs)))
  }
  script += "print(json.dumps(results))\n"
  #expect(expectations.count >= 150, "only \(expectations.count) lines")
  // Too long for an argument: Python reads it from a file.
  let file = FileManager.default.temporaryDirectory
    .appendingPathComponent("emitted-\(ProcessInfo.processInfo.processIdentifier).py")
  try Data(script.utf8).write(to: file)
  defer { try? FileManager.default.removeItem(at: file) }
  let printed = try PythonRunner.run("exec(open('\(file.path)').read())")
  let results = try JSONDecoder().decode([[Double]].self, from: Data(printed.utf8))
  try #require(results.count == expectations.count)
  let lines = expectations.map(\.line)
  print(
    "emitted lines: \(lines.count), with solves \(lines.filter { $0.contains("solve") }.count),"
      + " outer products \(lines.filter { $0.contains("np.outer") }.count),"
      + " inverses \(lines.filter { $0.contains("linalg.inv") }.count)")
  for (numbers, expectation) in zip(results, expectations) {
    #expect(numbers.count == expectation.values.count, "\(expectation.line)")
    let gap = zip(numbers, expectation.values).map { abs($0 - $1) }.max() ?? 0
    #expect(gap <= 1e-8 * expectation.scale, "\(expectation.line)")
  }
}

// MARK: - Orders chosen from the shapes the code is called with

private let lowRank = "T : matrix(n, n); U : matrix(n, k); V : matrix(n, k)"

/// The cost of a variant with n and k given.
private func cost(_ variant: ProductPlanner.Variant, n: Double, k: Double) -> Double {
  variant.cost.value { $0 == "n" ? n : k }
}

/// Without sizes, (U Vᵀ − T) V and U (Vᵀ V) − T V are both planned, and their costs choose:
/// the distributed form for k ≪ n (no n×n temporary), the factored one for k ≫ n, also at
/// the small sizes the Python tests below run.
@Test func distributionIsChosenFromTheShapes() throws {
  let derivation = try derivedAndChecked("norm2(T - U*V')^2", wrt: "U", where: lowRank)
  let variants = try ProductPlanner.variants(
    of: [derivation.result], named: [], model: CostModel(), dimensions: ["n", "k"])
  try #require(variants.count == 2)
  for (n, k) in [(2000.0, 200.0), (7, 2)] {
    #expect(cost(variants[1], n: n, k: k) < cost(variants[0], n: n, k: k))
  }
  for (n, k) in [(200.0, 2000.0), (2, 7)] {
    #expect(cost(variants[0], n: n, k: k) <= cost(variants[1], n: n, k: k))
  }
  let line = try NumpyRenderer(problem: derivation.problem).render(derivation.result, rank: 2)
  for fragment in ["((U @ V.T) - T) @ V)", "(U @ (V.T @ V))", "(T @ V)", " if ", " else "] {
    #expect(line.contains(fragment), "\(line)")
  }
  // With sizes the choice is made now, as planned for them.
  let sized = try NumpyRenderer(problem: derivation.problem, sizes: ["n": 2000, "k": 200])
    .render(derivation.result, rank: 2)
  #expect(!sized.contains(" if ") && sized.contains("(U @ (V.T @ V))"), "\(sized)")
}

/// A chain whose best order depends on the shapes (Cᵀ Bᵀ Aᵀ: (Cᵀ Bᵀ) Aᵀ for k < n, Cᵀ (Bᵀ Aᵀ)
/// for k > n) is left to `np.linalg.multi_dot`; with sizes, or with one dimension, it is
/// ordered now.
@Test func chainOrderIsChosenFromTheShapes() throws {
  let statements = "A : matrix(n, k); B : matrix(k, n); C : matrix(n, k); X : matrix(k, n)"
  let derivation = try derivedAndChecked("tr(A*B*C*X)", wrt: "X", where: statements)
  let line = try NumpyRenderer(problem: derivation.problem).render(derivation.result, rank: 2)
  #expect(line.contains("np.linalg.multi_dot([C.T, B.T, A.T])"), "\(line)")
  let sized = try NumpyRenderer(problem: derivation.problem, sizes: ["n": 2000, "k": 200])
    .render(derivation.result, rank: 2)
  #expect(sized.contains("((C.T @ B.T) @ A.T)"), "\(sized)")
  let square = try derivedAndChecked(
    "tr(A*B*C*X)", wrt: "X",
    where: "A : matrix(n, n); B : matrix(n, n); C : matrix(n, n); X : matrix(n, n)")
  let planned = try NumpyRenderer(problem: square.problem).render(square.result, rank: 2)
  #expect(!planned.contains("multi_dot") && !planned.contains(" if "), "\(planned)")
}

/// A sum used by two gradients is computed once for k ≈ n and distributed in each for k ≪ n
/// (4n²k flops instead of 6n²k); with sizes, the plan for them.
@Test func sharedSumsAreDistributedWhenThatCostsLess() throws {
  let derivation = try derive("norm2(T - U*V')^2", wrt: ["U", "V"], where: lowRank)
  let sized = try derivation.render(.numpy, sizes: ["n": 2000, "k": 10])
  for fragment in ["(U @ (V.T @ V))", "(V @ (U.T @ U))", "(T.T @ U)"] {
    #expect(sized.contains(fragment), "\(sized)")
  }
  #expect(!sized.contains("(U @ V.T)"), "\(sized)")
  let python = try derivation.render(.python)
  for fragment in ["    k = U.shape[1]", "    n = T.shape[0]", "    if ", "        _t0 = "] {
    #expect(python.contains(fragment), "\(python)")
  }
}

/// The code with a choice of order, in all three backends, gives the formula's values for
/// shapes on either side of the choice (k < n and k > n, sizes pairwise distinct).
@Test func codeChoosingItsOrderKeepsItsValueOnBothSides() throws {
  let cases: [(expression: String, wrt: [String], statements: String)] = [
    ("norm2(T - U*V')^2", ["U"], lowRank),
    ("norm2(T - U*V')^2", ["U", "V"], lowRank),
    (
      "tr(A*B*C*X)", ["X"],
      "A : matrix(n, k); B : matrix(k, n); C : matrix(n, k); X : matrix(k, n)"
    ),
    (
      "norm2(A*B - Y)^2 + tr(A'*A*B*B')", ["A"],
      "A : matrix(n, k); B : matrix(k, n); Y : matrix(n, n)"
    ),
  ]
  var runs: [[String: Any]] = []
  var expectations: [(label: String, values: [Double], scale: Double)] = []
  for (index, problem) in cases.enumerated() {
    let backpropagation = try derive(
      problem.expression, wrt: problem.wrt, where: problem.statements)
    #expect(try backpropagation.check().passed)
    let line = try backpropagation.render(.numpy)
    let python = try backpropagation.render(.python)
    let jax = try backpropagation.render(.jax)
    #expect(
      line.contains(" if ") || line.contains("multi_dot"), "\(problem.expression): \(line)")
    let name = try #require(
      python.split(separator: "\n").first { $0.hasPrefix("def ") }?.dropFirst(4)
        .prefix { $0 != "(" })
    let inputs = backpropagation.problem
    for sizes in [["n": 7, "k": 2], ["n": 2, "k": 7]] {
      let requirements = Sampler.requirements(
        of: [backpropagation.objective], definitions: inputs.definitions)
      var generator = SplitMix64(seed: UInt64(index))
      let values = try Sampler.draw(
        inputsOf: inputs, requirements: requirements, sizes: sizes, generator: &generator)
      var evaluator = Evaluator(sizes: sizes, values: values)
      try evaluator.bind(inputs.definitions + backpropagation.intermediates.asDefinitions)
      let expected = try backpropagation.gradients.map { try evaluator.evaluate($0) }
      var globals = ""
      for input in inputs.inputs {
        guard let value = values[input.name] else { continue }
        globals += "\(input.name) = \(PythonRunner.literal(value, input.type))\n"
      }
      runs.append([
        "line": line, "python": python, "jax": jax, "name": String(name), "globals": globals,
        "args": inputs.inputs.map(\.name),
      ])
      let flat = expected.flatMap(\.storage)
      expectations.append(
        (
          "\(problem.expression) wrt \(problem.wrt) at \(sizes)\n\(python)", flat,
          max(1, flat.map(abs).max() ?? 0)
        ))
    }
  }
  let script = """

    def flat(v):
        parts = v if isinstance(v, tuple) else (v,)
        return [float(x) for p in parts for x in np.asarray(p, dtype=float).ravel()]

    out = []
    for run in json.load(open(PAYLOAD)):
        scope, python, jaxed = {'np': np}, {}, {}
        exec(run['globals'], scope)
        args = [scope[a] for a in run['args']]
        exec(run['python'], python)
        exec(run['jax'], jaxed)
        out.append([flat(eval(run['line'], scope)), flat(python[run['name']](*args)),
                    flat(jax.jit(jaxed[run['name']])(*args))])
    print(json.dumps(out))
    """
  let printed = try PythonRunner.run(script, payload: runs, jax: true)
  let results = try JSONDecoder().decode([[[Double]]].self, from: Data(printed.utf8))
  try #require(results.count == expectations.count)
  for (backends, expectation) in zip(results, expectations) {
    for (backend, numbers) in zip(["numpy", "python", "jax"], backends) {
      #expect(numbers.count == expectation.values.count, "\(backend): \(expectation.label)")
      let gap = zip(numbers, expectation.values).map { abs($0 - $1) }.max() ?? .infinity
      #expect(gap <= 1e-9 * expectation.scale, "\(backend): \(expectation.label)")
    }
  }
}
