import TensorKernel
import Testing

@testable import MatrixCalculus

/// The engine's matrix-level derivative (reverse accumulation with adjoint rules, then
/// simplification) equals the element-wise derivative in index form, entry by entry: the
/// fast path is proven against ∂X_rc/∂X_ab = δ_ra δ_cb, the product rule and the
/// differentials of Rules/, at two orderings of the dimensions.
@discardableResult
func expectMatrixFormEqualsIndexForm(
  _ expression: String, wrt: String, where statements: String,
  sourceLocation: SourceLocation = #_sourceLocation
) throws -> Bool {
  let derivation = try deriveUnchecked(expression, wrt: wrt, where: statements)
  // Results with three or more indices come from the index form itself.
  if derivation.tensor != nil { return false }
  let problem = derivation.problem
  let variable = derivation.variable
  let objective = derivation.objective
  var index = IndexDerivative(withRespectTo: variable, indices: "a", "b", rules: .embedded)
  let rowIndex = objective.shape.rows == .one ? nil : "i"
  let colIndex = objective.shape.cols == .one ? nil : "j"
  let terms = try index.derivative(of: objective, rowIndex, colIndex)
  for reversed in [false, true] {
    let sizes = Sampler.sizes(for: problem.inputs.map(\.expr.shape), reversed: reversed)
    var generator = SplitMix64(seed: TestFunctions.stableHash(expression + wrt))
    let requirements = Sampler.requirements(of: [objective], definitions: [])
    let values = try Sampler.draw(
      inputsOf: problem, requirements: requirements, sizes: sizes, generator: &generator)
    var evaluator = Evaluator(sizes: sizes, values: values)
    let matrixForm = try evaluator.evaluate(derivation.result)
    var free: [String] = []
    var extents: [String: Int] = [:]
    for (name, dim) in [
      (rowIndex, objective.shape.rows), (colIndex, objective.shape.cols),
      (index.a, variable.shape.rows), (index.b, variable.shape.cols),
    ] {
      guard let name else { continue }
      free.append(name)
      extents[name] = try evaluator.size(dim)
    }
    let indexForm = try terms.evaluated(free: free, sizes: extents, &evaluator)
    #expect(indexForm.data.count == matrixForm.count, sourceLocation: sourceLocation)
    let scale = max(1, matrixForm.maxAbs)
    let gap = zip(indexForm.data, matrixForm.storage).map { abs($0 - $1) }.max() ?? 0
    #expect(
      gap <= 1e-9 * scale,
      "∂(\(expression))/∂\(wrt) at \(sizes): matrix form \(derivation.result)",
      sourceLocation: sourceLocation)
  }
  return true
}

let indexDerivativeDeclarations =
  "A : matrix(m, n); B : matrix(n, n); C : matrix(n, m); x : vector(n); y : vector(m); "
  + "z : vector(n); s : scalar; S : symmetric(n); L : function; f : elementwise; "
  + "X : matrix(n, n); W : matrix(m, n)"

/// One or more problems per kind of node and per differential rule.
@Test(arguments: [
  ("x'*B*x", "x"), ("x'*B*x", "B"),  // product, transpose
  ("y'*W*x", "W"), ("s*x'*z", "s"), ("s^3 + 2*s", "s"),  // scalar products, powers
  ("sum(A .* W)", "A"), ("tr(B*X)", "X"), ("tr(X)", "X"), ("sum(X + I(n))", "X"),
  ("sum(ones(m, n) .* W)", "W"), ("sum(diag(x)*B)", "x"), ("sum(diag(B*X))", "X"),
  ("sum(exp(W*x))", "W"), ("sum(log(exp(x) + 1))", "x"), ("sum(sin(x) + cos(z .* x))", "x"),
  ("sum(tanh(B*x))", "B"), ("sum(sigmoid(W*x))", "x"), ("sum(sqrt(x .* x + 1))", "x"),
  ("sum(abs(x - 3))", "x"), ("sum(relu(x + 5))", "x"), ("sum(x .^ 3)", "x"),
  ("logdet(X*X' + I(n))", "X"), ("det(X + 3*I(n))", "X"), ("sum(inv(X + 3*I(n))*B)", "X"),
  ("norm2(W*x)", "W"), ("norm1(x + 3)", "x"), ("logsumexp(W*x)", "x"),
  ("y'*log(softmax(W*x))", "W"), ("L(W*B)", "W"), ("sum(f(B*x))", "x"),
  ("tr(S*X)", "X"), ("x'*S*x", "S"),
  // Jacobians (a vector function of a vector).
  ("tanh(W*x)", "x"), ("softmax(x)", "x"), ("W*x .* y", "x"), ("inv(X)*x", "x"),
])
func matrixFormEqualsIndexForm(_ expression: String, wrt: String) throws {
  try expectMatrixFormEqualsIndexForm(expression, wrt: wrt, where: indexDerivativeDeclarations)
}

/// The same on random expressions over the whole language (products, ⊙, transposes,
/// powers, inverses, every function), scalars and vectors (Jacobians).
@Test func matrixFormEqualsIndexFormOnRandomExpressions() throws {
  var generator = ExpressionGenerator(random: SplitMix64(seed: 20_261_201))
  var compared = 0
  for round in 0..<300 {
    let kind: ExpressionGenerator.Kind = round % 3 == 2 ? .vectorN : .scalar
    guard let (text, wrt) = try generator.problem(kind) else { continue }
    do {
      let matrixForm = try expectMatrixFormEqualsIndexForm(
        text, wrt: wrt, where: ExpressionGenerator.declarations)
      if matrixForm { compared += 1 }
    } catch MatcalcError.numeric {
      continue  // a point outside the domain (an inverse of a singular matrix)
    }
  }
  #expect(compared >= 200)
}
