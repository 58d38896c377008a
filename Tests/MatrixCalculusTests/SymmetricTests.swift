import TensorKernel
import Testing

@testable import MatrixCalculus

/// The gradient on symmetric matrices (Cookbook (141)): entry (i, j) is the derivative along
/// the one parameter that moves S_ij and S_ji together; checked by central differences.
@Test(arguments: [
  ("x'*S*x", "2 x xᵀ − diag(diag(x xᵀ))"),
  ("logdet(S)", "2 S⁻¹ − diag(diag(S⁻¹))"),
  ("tr(A*S)", ""),
  ("tr(S*S*A)", ""),
])
func symmetricGradientMatchesSymmetricDifferences(_ expression: String, expected: String) throws {
  let derivation = try deriveUnchecked(
    expression, wrt: "S", where: "S : symmetric(n); x : vector(n); A : matrix(n, n)")
  let gradient = try derivation.symmetricGradient()
  if !expected.isEmpty { #expect(MathRenderer(.text).render(gradient) == expected) }
  let problem = derivation.problem
  let sizes = Sampler.sizes(for: problem.inputs.map(\.expr.shape))
  let requirements = Sampler.requirements(of: [derivation.objective], definitions: [])
  var generator = SplitMix64(seed: 41)
  let values = try Sampler.draw(
    inputsOf: problem, requirements: requirements, sizes: sizes,
    generator: &generator)
  var evaluator = Evaluator(sizes: sizes, values: values)
  let g = try evaluator.evaluate(gradient)
  let s = try #require(values["S"])
  let h = 1e-5
  for i in 0..<s.rows {
    for j in i..<s.cols {
      func f(_ step: Double) throws -> Double {
        var moved = s
        moved[i, j] += step
        if i != j { moved[j, i] += step }
        var shifted = Evaluator(sizes: sizes, values: values)
        shifted.values["S"] = moved
        return try shifted.evaluate(derivation.objective).scalar
      }
      let difference = (try f(h) - f(-h)) / (2 * h)
      #expect(abs(difference - g[i, j]) <= 1e-6 * max(1, abs(difference)), "(\(i), \(j))")
    }
  }
}

/// `y : simplex(m)` (a probability vector) makes sum(y) = 1: the softmax cross-entropy
/// gradient is the textbook (softmax(W x) − y) xᵀ, checked at points on the simplex; by y
/// itself the derivative is taken in the ambient space (sum(y) still varies).
@Test func simplexInputGivesTheTextbookCrossEntropy() throws {
  let statements = "y : simplex(m); W : matrix(m, n); x : vector(n); t : scalar"
  let byW = try derivedAndChecked("-y'*log(softmax(W*x))", wrt: "W", where: statements)
  #expect(MathRenderer(.text).render(byW.result) == "(softmax(W x) − y) xᵀ")
  let hessian = try derivedAndChecked(
    "-y'*log(softmax(W*x))", wrt: "x", where: statements, order: 2)
  #expect(!MathRenderer(.text).render(hessian.result).contains("sum(y)"))
  let byY = try derivedAndChecked("sum(y)*t", wrt: "y", where: statements)
  #expect(MathRenderer(.text).render(byY.result) != "0")
}

/// The gradient on symmetric matrices with G printed once: 2G − diag(diag(G)) for a G that is
/// symmetric by construction, G + Gᵀ − diag(diag(G)) otherwise; checked as printed (G bound to
/// its value) and against the self-contained result.
@Test(arguments: [
  ("1/2*y'*inv(S)*y + 1/2*logdet(S)", "2 G − diag(diag(G))", "α = S⁻¹ y, G = ½ S⁻¹ − ½ α αᵀ"),
  ("logdet(S) - tr(B*S)", "2 G − diag(diag(G))", "G = S⁻¹ − B"),
  ("tr(A*S*S)", "G + Gᵀ − diag(diag(G))", "G = (A S + S A)ᵀ"),
  ("x'*S*x", "2 x xᵀ − diag(diag(x xᵀ))", ""),
])
func symmetricGradientNamesTheGradientOnce(_ expression: String, shown: String, names: String)
  throws
{
  let derivation = try deriveUnchecked(
    expression, wrt: "S",
    where: "S : symmetric(n); B : symmetric(n); y : vector(n); x : vector(n); A : matrix(n, n)")
  let symmetrized = try derivation.symmetrized()
  #expect(try symmetrized.check().passed)
  let text = MathRenderer(.text)
  #expect(text.render(symmetrized.shown) == shown)
  #expect(symmetrized.whereList(text).joined(separator: ", ") == names)
  #expect(symmetrized.result == (try derivation.symmetricGradient()))
}

/// The derivative by a `symmetric(n)` variable is that of f as written with every entry
/// independent, at a symmetric point (what JAX and PyTorch give): the same values as the
/// derivative with S declared a general `matrix(n, n)`, evaluated where S is symmetric. Sᵀ in
/// f is never replaced by S before differentiating; Hessians and tensors likewise.
@Test(arguments: [
  ("x'*(S + S')*y/2", 1, "½ x yᵀ + ½ y xᵀ"),
  ("x'*S'*y", 1, "y xᵀ"),
  ("tr(A*S')", 1, "A"),
  ("S'", 1, ""),
  ("S - S'", 1, ""),
  ("S*x", 1, ""),
  ("logdet(S)", 2, ""),
  ("tr(S*S)", 2, ""),
  ("det(S)", 2, ""),
  ("tr(inv(S))", 2, ""),
  ("1/2*(x - y)'*inv(S)*(x - y) + 1/2*logdet(S)", 2, ""),
])
func symmetricVariableIsDifferentiatedAsWritten(
  _ expression: String, order: Int, expected: String
) throws {
  let others = "x : vector(n); y : vector(n); A : matrix(n, n)"
  let symmetric = try derivedAndChecked(
    expression, wrt: "S", where: "S : symmetric(n); " + others, order: order)
  let general = try derivedAndChecked(
    expression, wrt: "S", where: "S : matrix(n, n); " + others, order: order)
  if !expected.isEmpty { #expect(MathRenderer(.text).render(symmetric.result) == expected) }
  // Both at the symmetric problem's point (S drawn symmetric there).
  let (sizes, values) = try sampledInputs(symmetric, seed: 7)
  let s = try #require(values["S"])
  #expect(s.zip(s.transposed, -)?.storage.allSatisfy { abs($0) < 1e-12 } == true)
  func evaluated(_ derivation: Derivation) throws -> Tensor {
    var evaluator = Evaluator(sizes: sizes, values: values)
    try evaluator.bind(derivation.problem.definitions)
    if let tensor = derivation.tensor { return try tensor.jacobian(&evaluator) }
    return try evaluator.evaluate(derivation.result)
  }
  expectClose(try evaluated(symmetric), try evaluated(general), expression)
  #expect(try symmetric.render(.text).contains("every entry of a symmetric variable"))
}

/// Several variables, one of them symmetric: each gradient is f's as written.
@Test func symmetricVariableAmongSeveralIsDifferentiatedAsWritten() throws {
  let b = try deriveUnchecked(
    "x'*(S + S')*y/2", wrt: ["S", "x"], where: "S : symmetric(n); x : vector(n); y : vector(n)")
  #expect(try b.check().passed)
  #expect(try b.render(.text).contains("½ x yᵀ + ½ y xᵀ"))
}

/// A problem typed with S symmetric (its transposes already S) is refused for a derivative
/// by S rather than differentiated as if Sᵀ were S.
@Test func symmetricTypedProblemIsRefusedForItsOwnVariable() throws {
  let problem = try parseProblem("S : symmetric(n); x : vector(n); f = x'*S'*x")
  let f = try #require(problem.expr(named: "f"))
  #expect(throws: MatcalcError.self) {
    try Derivation(of: f, named: "f", withRespectTo: "S", in: problem)
  }
  let parsed = try parseProblem(
    "S : symmetric(n); x : vector(n); f = x'*S'*x", differentiating: ["S"])
  let g = try #require(parsed.expr(named: "f"))
  #expect(try Derivation(of: g, named: "f", withRespectTo: "S", in: parsed).check().passed)
}

/// A checked derivation's gradient on symmetric matrices is checked anew, as itself.
@Test func symmetrizedCheckedDerivationIsCheckedAnew() throws {
  let d = try derive("x'*S*x", wrt: "S", where: "S : symmetric(n); x : vector(n)")
  let symmetrized = try d.symmetrized()
  #expect(symmetrized.certificate?.passed == true)
  #expect(try symmetrized.render(.text).contains("2 x xᵀ − diag(diag(x xᵀ))"))
  #expect(try symmetrized.render(.text).contains("checked:"))
}

/// Several variables, one symmetric: the convention is stated in text, Markdown and JSON.
@Test func severalVariablesStateTheSymmetricConvention() throws {
  let b = try derive(
    "x'*inv(S)*x", wrt: ["S", "x"], where: "S : symmetric(n); x : vector(n)")
  for format in [OutputFormat.text, .markdown, .json] {
    #expect(try b.render(format).contains("every entry of a symmetric variable (S)"), "\(format)")
  }
}
