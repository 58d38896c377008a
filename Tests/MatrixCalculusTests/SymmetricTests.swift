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
  let derivation = try derive(
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
  let derivation = try derive(
    expression, wrt: "S",
    where: "S : symmetric(n); B : symmetric(n); y : vector(n); x : vector(n); A : matrix(n, n)")
  let symmetrized = try derivation.symmetrized()
  #expect(try symmetrized.check().passed)
  let text = MathRenderer(.text)
  #expect(text.render(symmetrized.shown) == shown)
  #expect(symmetrized.whereList(text).joined(separator: ", ") == names)
  #expect(symmetrized.result == (try derivation.symmetricGradient()))
}
