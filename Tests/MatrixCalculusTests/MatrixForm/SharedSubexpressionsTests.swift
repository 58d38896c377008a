import TensorKernel
import Testing

@testable import MatrixCalculus

private let sharingDeclarations =
  "A : matrix(n, m); B : matrix(n, n); S : symmetric(n); x : vector(n); y : vector(n); "
  + "u : vector(m); s : scalar"

/// A formula over its shared names equals the formula: each name replaced by its value, the
/// two agree on numbers at a point with pairwise-distinct sizes. `named` is how many names
/// the formula gets (0: nothing nontrivial repeats).
@Test(arguments: [
  ("inv(S)*x*x'*inv(S)*A", 1), ("inv(S)*x*x'*inv(S) + inv(S)*x*u'*A'", 1),
  ("x'*inv(S)*inv(S)*x", 1), ("inv(B)*x*x'*inv(B')", 1), ("exp(A*u) + B*exp(A*u)", 1),
  ("(x + y)*(x + y)'", 1), ("tr(inv(S)*x*x'*inv(S)) - x'*inv(S)*inv(S)*x", 1),
  ("x*x' + y*y'", 0), ("inv(S)*x*y'*inv(S)", 0), ("inv(B)*x*x'*inv(B)", 0), ("A*u + B*x", 0),
  ("x'*inv(S)*x", 0),
])
func sharedNamesStandForTheirValues(_ text: String, named: Int) throws {
  let problem = try parseProblem(sharingDeclarations + "; F = " + text)
  let formula = try #require(problem.definitions.last).body
  let sharing = try SharedSubexpressions(formula) { ["alpha", "beta", "gamma"] }
  #expect(sharing.names.count == named, "\(text): \(sharing.formula)")
  let sizes = Sampler.sizes(for: problem.inputs.map(\.expr.shape))
  var generator = SplitMix64(seed: TestFunctions.stableHash(text))
  let values = try Sampler.draw(
    inputsOf: problem, requirements: ["B": [.posdef], "S": [.posdef]], sizes: sizes,
    generator: &generator)
  var evaluator = Evaluator(sizes: sizes, values: values)
  let expected = try evaluator.evaluate(formula)
  var overNames = Evaluator(sizes: sizes, values: values)
  try overNames.bind(
    sharing.names.map {
      Problem.Definition(
        name: $0.variable.description, variable: $0.variable, body: $0.value,
        range: SourceRange(line: 0, column: 0, length: 0))
    })
  let printed = try overNames.evaluate(sharing.formula)
  let difference = try #require(printed.zip(expected, -)).maxAbs
  #expect(difference <= 1e-9 * max(1, expected.maxAbs), "\(text) as \(sharing.formula)")
}
