import Foundation
import TensorKernel
import Testing

@testable import MatrixCalculus

private let kernel = "y : vector(n); A : matrix(n, m); s : scalar; K = A*A' + s*I(n)"
private let negativeLogLikelihood = "1/2*y'*inv(K)*y + 1/2*logdet(K)"

/// The Gaussian process loss ½ yᵀK⁻¹y + ½ log det K with K = A Aᵀ + s I (symmetric by
/// construction) or K a symmetric input: the gradients in the textbook form with α = K⁻¹ y
/// (Rasmussen & Williams (5.9)). Numbers first: the formula over α, α bound to its value, is
/// what the certificate checks, and α bound to anything else fails it; then the text.
@Test(arguments: [
  ("A", kernel, "∂f/∂A = (K⁻¹ − α αᵀ) A", "  where K = A Aᵀ + s I, α = K⁻¹ y"),
  ("s", kernel, "∂f/∂s = ½ tr(K⁻¹) − ½ αᵀ α", "  where K = A Aᵀ + s I, α = K⁻¹ y"),
  ("K", "y : vector(n); K : symmetric(n)", "∂f/∂K = ½ K⁻¹ − ½ α αᵀ", "  where α = K⁻¹ y"),
])
func gaussianProcessGradientsReadAsTheTextbook(
  wrt: String, statements: String, formula: String, whereLine: String
) throws {
  let derivation = try derivedAndChecked(negativeLogLikelihood, wrt: wrt, where: statements)
  let alpha = try #require(derivation.shared.first)
  #expect(derivation.shared.count == 1)
  let y = try #require(derivation.problem.expr(named: "y"))
  let misnamed = try Checker.checkGradient(
    of: derivation.objective, withRespectTo: derivation.variable, gradient: derivation.shown,
    in: derivation.problem,
    intermediates: [
      Problem.Definition(
        name: alpha.name, variable: alpha.variable, body: y,
        range: SourceRange(line: 0, column: 0, length: 0))
    ])
  #expect(!misnamed.passed)
  let lines = try derivation.render(.text).split(separator: "\n").map(String.init)
  #expect(lines.contains(formula), "\(lines)")
  #expect(lines.contains(whereLine), "\(lines)")
}

/// Every format names α the same way; `plain` and NumPy stay self-contained (no α), and
/// `plain` parses back, beside the same declarations, to the values of the result.
@Test func sharedNamesInEveryFormat() throws {
  let derivation = try derivedAndChecked(negativeLogLikelihood, wrt: "A", where: kernel)
  #expect(
    try derivation.render(.latex)
      == "\\frac{\\partial f}{\\partial A} = \\left(K^{-1} - \\alpha \\alpha^\\top\\right) A "
      + "\\\\\n\\text{where } \\alpha = K^{-1} y")
  #expect(
    try derivation.render(.markdown).contains("where $K = A A^\\top + s I$, $\\alpha = K^{-1} y$"))
  #expect(try derivation.latexSection().contains("\\alpha = K^{-1} y"))
  let json = try derivation.jsonObject()
  let shared = try #require(json["shared"] as? [[String: String]])
  #expect(shared == [["name": "alpha", "text": "K⁻¹ y", "latex": "K^{-1} y", "plain": "inv(K)*y"]])
  let plain = try #require(try derivation.plain())
  #expect(!plain.contains("alpha"))
  #expect(!(try derivation.render(.numpy)).contains("alpha"))
  let problem = try parseProblem(kernel + "; G = " + plain)
  let spelled = try #require(problem.definitions.last)
  let (sizes, values) = try sampledInputs(derivation, seed: 7)
  var evaluator = Evaluator(sizes: sizes, values: values)
  try evaluator.bind(problem.definitions)
  let parsedBack = try evaluator.evaluate(spelled.variable)
  let result = try evaluator.evaluate(derivation.result)
  #expect(try #require(parsedBack.zip(result, -)).maxAbs <= 1e-9 * max(1, result.maxAbs))
}

/// With X declared symmetric, the logdet gradient and Hessian both print X⁻¹ (never X⁻ᵀ).
@Test func logdetOfASymmetricInputPrintsTheInverse() throws {
  for order in [1, 2] {
    let derivation = try derivedAndChecked(
      "logdet(X)", wrt: "X", where: "X : symmetric(n)", order: order)
    let text = try derivation.render(.text)
    #expect(text.contains("X⁻¹") && !text.contains("⁻ᵀ"), "\(text)")
  }
}
