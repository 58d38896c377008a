import TensorKernel
import Testing

@testable import MatrixCalculus

let presentationDeclarations =
  "x : vector(n); mu : vector(n); A : matrix(n, n); B : matrix(n, n); C : matrix(n, n); "
  + "S : symmetric(n); T : matrix(n, m); U : matrix(n, p); V : matrix(m, p)"

/// Sums of transposes fold into a transposed sum where that prints smaller, and keep
/// their values; `familiar` is a subexpression of the objective the reader has seen.
@Test(
  arguments: [
    ("x' - mu'", nil, "(x − μ)ᵀ"),
    ("A + B' + C'", nil, "A + (B + C)ᵀ"),
    ("A + A'", nil, "A + Aᵀ"),
    ("S*x*(x' - mu')*S", nil, "S x (x − μ)ᵀ S"),
    ("T' - V*U'", nil, "Tᵀ − V Uᵀ"),
    ("T' - V*U'", "T - U*V'", "(T − U Vᵀ)ᵀ"),
    ("2*A'*B' - 3*C'", nil, "(2 B A − 3 C)ᵀ"),
  ] as [(String, String?, String)])
func transposesFoldWhereSmaller(_ input: String, familiar: String?, printed: String) throws {
  let problem = try parseProblem(
    presentationDeclarations + "; E = " + input + (familiar.map { "; F = " + $0 } ?? ""))
  let written = try #require(problem.definitions.first { $0.name == "E" }).body
  var presentation = Presentation(definitions: [])
  if let familiar = problem.definitions.first(where: { $0.name == "F" }) {
    presentation.makeFamiliar(familiar.body)
  }
  let folded = try presentation.transposesFolded(written)
  let sizes = Sampler.sizes(for: problem.inputs.map(\.expr.shape))
  var generator = SplitMix64(seed: 7)
  let values = try Sampler.draw(
    inputsOf: problem, requirements: [:], sizes: sizes, generator: &generator)
  var evaluator = Evaluator(sizes: sizes, values: values)
  let expected = try evaluator.evaluate(written)
  let actual = try evaluator.evaluate(folded)
  let gap = expected.zip(actual, -)?.maxAbs ?? .infinity
  #expect(gap <= 1e-12 * max(1, expected.maxAbs))
  #expect(MathRenderer(.text).render(folded) == printed)
}

/// The examples: transposes stay outside differences (each result checked).
@Test(arguments: [
  (
    "-1/2*(x-mu)'*inv(S)*(x-mu) - 1/2*logdet(S)", "S",
    "½ S⁻¹ (x − μ) (x − μ)ᵀ S⁻¹ − ½ S⁻¹"
  ),
  ("norm2(T - U*V')^2 + lambda*norm2(V)^2", "V", "2 λ V − 2 (T − U Vᵀ)ᵀ U"),
  ("exp(-0.5*(x-mu)'*(x-mu)/s^2)", "x", "−s⁻² exp(−½ (x − μ)ᵀ (x − μ) s⁻²) (x − μ)"),
])
func transposesStayOutsideDifferences(_ input: String, wrt: String, result: String) throws {
  let derivation = try derivedAndChecked(input, wrt: wrt, where: presentationDeclarations)
  #expect(MathRenderer(.text).render(derivation.result) == result)
}

/// A constant common to the terms of a sum is pulled out where that prints in fewer tokens:
/// the tanh layer's ∂l/∂b = 2 (1 − a^⊙2) ⊙ (a − y), not (1 − a^⊙2) ⊙ (2 a − 2 y).
@Test(arguments: [
  ("l = norm2(a - y)^2", "2 (1 − a^⊙2) ⊙ (a − y)", "2*(1 - a.^2) .* (a - y)"),
  ("l = 1/2*norm2(a - y)^2", "(1 − a^⊙2) ⊙ (a − y)", "(1 - a.^2) .* (a - y)"),
  ("l = 3*norm2(a - y)^2", "6 (1 − a^⊙2) ⊙ (a − y)", "6*(1 - a.^2) .* (a - y)"),
])
func commonConstantIsPulledOutOfASum(_ objective: String, text: String, plain: String) throws {
  let derivation = try derivedAndChecked(
    "l", wrt: "b",
    where: "W : matrix(h, n); b : vector(h); x : vector(n); y : vector(h); a = tanh(W*x + b); "
      + objective)
  #expect(MathRenderer(.text).render(derivation.result) == text)
  #expect(try derivation.plain() == plain)
}
