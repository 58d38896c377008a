import Testing

@testable import MatrixCalculus

// The f = line is the objective as written: the syntax the certificate evaluates.

let writtenDeclarations = "x : vector(n); y : vector(n); mu : vector(n); S : symmetric(n)"

@Test(arguments: [
  (
    "-1/2*(x-mu)'*inv(S)*(x-mu) - 1/2*logdet(S)", "S",
    "−½ (x − μ)ᵀ S⁻¹ (x − μ) − ½ log det(S)",
    "-\\frac12 \\left(x - \\mu\\right)^\\top S^{-1} \\left(x - \\mu\\right) - \\frac12 "
      + "\\log\\det\\left(S\\right)"
  ),
  ("x'*S*x/(x'*x)", "x", "xᵀ S x / (xᵀ x)", "\\frac{x^\\top S x}{x^\\top x}"),
  (
    "exp(-0.5*(x-y)'*(x-y)/s^2)", "x", "exp(−0.5 (x − y)ᵀ (x − y) / s²)",
    "\\exp\\left(\\frac{-0.5 \\left(x - y\\right)^\\top \\left(x - y\\right)}{s^{2}}\\right)"
  ),
  (
    "lambda*x'*x + 3/4*sum(x)", "x", "λ xᵀ x + ¾ sum(x)",
    "\\lambda x^\\top x + \\frac34 \\operatorname{sum}\\left(x\\right)"
  ),
  (
    "a/b*c*x'*x - (x'*y)^-2", "x", "(a / b) c xᵀ x − (xᵀ y)⁻²",
    "\\frac{a}{b} c x^\\top x - \\left(x^\\top y\\right)^{-2}"
  ),
  (
    "-(-x'*y) + 2*3*x'*inv(S')*x", "x", "−(−xᵀ y) + 2 · 3 xᵀ S⁻ᵀ x",
    "-\\left(-x^\\top y\\right) + 2 \\cdot 3 x^\\top S^{-\\top} x"
  ),
  (
    "(x.*y)'*(x./y).^2", "x", "(x ⊙ y)ᵀ (x ⊘ y)^⊙2",
    "\\left(x \\odot y\\right)^\\top \\left(x \\oslash y\\right)^{\\circ 2}"
  ),
])
func objectiveLineIsAsWritten(_ input: String, wrt: String, text: String, latex: String) throws {
  let derivation = try derivedAndChecked(input, wrt: wrt, where: writtenDeclarations)
  let lines = try derivation.render(.text).split(separator: "\n")
  #expect(lines.first == "f = " + text[...])
  let renderer = MathRenderer(.latex)
  #expect(renderer.render(derivation.objective, asWrittenIn: derivation.problem) == latex)
  let document = try derivation.render(.latex, standalone: true)
  #expect(document.contains("f = " + latex))
}

/// An objective the problem was not typed from prints as derived.
@Test func objectiveNotWrittenPrintsAsDerived() throws {
  let derivation = try deriveUnchecked("1/2*x'*x", wrt: "x", where: writtenDeclarations)
  let other = try derivation.objective * Expr.constant(3)
  let renderer = MathRenderer(.text)
  #expect(renderer.render(derivation.objective, asWrittenIn: derivation.problem) == "½ xᵀ x")
  #expect(renderer.render(other, asWrittenIn: derivation.problem) == "1.5 xᵀ x")
}
