import Testing

@testable import MatrixCalculus

/// The certificate must reject formulas that are wrong, including by a transpose, a factor,
/// or a small relative amount.
@Test(arguments: [
  ("x'*A*x", "x", "A*x"),  // the Aᵀ x term missing
  ("x'*A*x", "x", "2*A*x"),  // (A + Aᵀ) x only for symmetric A
  ("a'*X*b", "X", "b*a'"),  // transposed
  ("tr(A*X)", "X", "A"),  // transposed
  ("logdet(X)", "X", "inv(X)"),  // X⁻¹ instead of X⁻ᵀ
  ("sum(exp(x))", "x", "1.0001*exp(x)"),  // off by 1e-4 relative
  ("norm2(x)^2", "x", "x"),  // a factor 2
  ("sum(tanh(A*x))", "x", "A'*(1 - tanh(A*x))"),  // wrong derivative of tanh
])
func wrongGradientFailsTheCheck(_ objective: String, wrt: String, wrong: String) throws {
  let problem = try parseProblem(
    "A : matrix(n, n); X : matrix(n, n); x : vector(n); a : vector(n); b : vector(n)\n"
      + "F = \(objective)\nG = \(wrong)")
  let f = try #require(problem.definitions.first { $0.name == "F" }).body
  let g = try #require(problem.definitions.first { $0.name == "G" }).body
  let variable = try #require(problem.inputs.first { $0.name == wrt }).expr
  var bare = problem
  bare.removeDefinitions()
  let report = try Checker.checkGradient(
    of: f, withRespectTo: variable, gradient: g, in: bare, points: 2)
  #expect(!report.passed, "\(wrong) passed as ∂(\(objective))/∂\(wrt): \(report)")
}

@Test(arguments: [
  ("A*x", "A'"),  // transposed Jacobian
  ("tanh(A*x)", "A"),  // missing diag(1 − tanh²)
  ("softmax(x)", "diag(softmax(x))"),  // missing − s sᵀ
])
func wrongJacobianFailsTheCheck(_ function: String, wrong: String) throws {
  let problem = try parseProblem(
    "A : matrix(n, n); x : vector(n)\nF = \(function)\nJ = \(wrong)")
  let f = try #require(problem.definitions.first { $0.name == "F" }).body
  let j = try #require(problem.definitions.first { $0.name == "J" }).body
  let variable = try #require(problem.inputs.first { $0.name == "x" }).expr
  var bare = problem
  bare.removeDefinitions()
  let report = try Checker.checkJacobian(
    of: f, withRespectTo: variable, jacobian: j, in: bare, points: 2)
  #expect(!report.passed, "\(wrong) passed as the Jacobian of \(function): \(report)")
}
