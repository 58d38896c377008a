import TensorKernel
import Testing

@testable import MatrixCalculus

private let symmetryDeclarations =
  "A : matrix(n, m); B : matrix(n, n); C : matrix(n, n); D : symmetric(m); v : vector(m); "
  + "s : scalar"

/// Sᵀ = S decided from the form of S: each claim of symmetry holds on numbers at a general
/// (non-symmetric) point with pairwise-distinct sizes, and each refusal is a matrix that is
/// not symmetric there.
@Test(arguments: [
  ("A*A' + s*I(n)", true), ("A'*A", true), ("B + B'", true), ("A*D*A'", true),
  ("A*diag(v)*A'", true), ("inv(A*A' + s*I(n))", true), ("2*B + 2*B'", true),
  ("C*A*A'*C'", true), ("B*C + C'*B'", true), ("exp(A*A')", true), ("(A*A') .* (B + B')", true),
  ("s*(B + B') - A*A'", true), ("(B + B')*A*A'*(B + B')", true),
  ("A.^2*ones(m, 1)*ones(1, n) + ones(n, m)*(A.^2)'", true), ("B*C", false), ("B + C'", false),
  ("2*B + 3*B'", false), ("A*A'*B", false),
  ("(A*A') .* B", false), ("inv(B)", false), ("B*B", false), ("A*v*v'*A'*B", false),
])
func symmetryByConstructionHoldsOnNumbers(_ body: String, symmetric: Bool) throws {
  let problem = try parseProblem(symmetryDeclarations + "; K = " + body)
  let definition = try #require(problem.definitions.last)
  #expect(definition.body.isSymmetric == symmetric, "\(body)")
  let sizes = Sampler.sizes(for: problem.inputs.map(\.expr.shape))
  var generator = SplitMix64(seed: TestFunctions.stableHash(body))
  let values = try Sampler.draw(
    inputsOf: problem, requirements: [:], sizes: sizes, generator: &generator)
  var evaluator = Evaluator(sizes: sizes, values: values)
  let value = try evaluator.evaluate(definition.body)
  let asymmetry = try #require(value.zip(value.transposed, -)).maxAbs
  if symmetric {
    #expect(asymmetry <= 1e-12 * max(1, value.maxAbs), "\(body): ‖K − Kᵀ‖ = \(asymmetry)")
  } else {
    #expect(asymmetry > 1e-3, "\(body) is symmetric at this point after all")
  }
}

/// A definition symmetric by construction is a symmetric name in the derivation (K⁻ᵀ = K⁻¹),
/// while every input is sampled as declared; a definition held free as the variable stays a
/// general matrix.
@Test func symmetricDefinitionsLeaveInputsAsDeclared() throws {
  let statements = "y : vector(n); A : matrix(n, m); s : scalar; K = A*A' + s*I(n)"
  let objective = "1/2*y'*inv(K)*y + 1/2*logdet(K)"
  let byA = try derivedAndChecked(objective, wrt: "A", where: statements)
  #expect(byA.problem.definitions.allSatisfy { Matcher.isSymmetric($0.variable) })
  #expect(!byA.problem.inputs.contains { isDeclaredSymmetric($0.expr) })
  #expect(!MathRenderer(.text).render(byA.result).contains("⁻ᵀ"))
  let byK = try derivedAndChecked(objective, wrt: "K", where: statements)
  #expect(!byK.problem.inputs.contains { isDeclaredSymmetric($0.expr) })
  #expect(!byK.isSymmetricVariable)
}

private func isDeclaredSymmetric(_ input: Expr) -> Bool {
  if case .variable(_, _, symmetric: true) = input.node { return true }
  return false
}
