import Foundation
import TensorKernel
import TestSupport
import Testing

@testable import MatrixCalculus

let documentProblems: [(String, String, String, Int)] = [
  ("l", "W", "L : function; W : matrix(m, n); X : matrix(n, p); D = W*X; l = L(D)", 1),
  (
    "l", "W",
    "X : matrix(b, d); W : matrix(d, h); v : vector(h); y : vector(b); H = X*W; yhat = H*v; "
      + "l = 1/2*(yhat - y)'*(yhat - y)", 1
  ),
  (
    "l", "W",
    "L : function; f : elementwise; W : matrix(h, d); x : vector(d); b : vector(h); "
      + "z = W*x + b; y = f(z); l = L(y)", 1
  ),
  ("l", "W", "L : function; W : matrix(a, m); A : matrix(a, n); Z = W'*A; l = L(Z)", 1),
  ("l", "W1", SeedTests.mlp, 1),
  ("logdet(X) - tr(S*X) + lambda*norm1(X)", "X", "S : symmetric(n); X : matrix(n, n)", 1),
  ("softmax(x)", "x", "x : vector(n)", 1),
  ("A*X*B", "X", "A : matrix(m, n); X : matrix(n, p); B : matrix(p, q)", 1),
  ("tanh(W*x)", "W", "W : matrix(m, n); x : vector(n)", 1),
  ("-y'*log(sigmoid(A*w)) - (1 - y)'*log(1 - sigmoid(A*w))", "w", "", 2),
  // The worked solutions of the steps issue: each a document without overfull boxes.
  ("x'*A*x", "x", "x : vector(n); A : matrix(n, n)", 1),
  ("det(X)", "X", "X : matrix(n, n)", 1),
  ("a'*inv(X)*b", "X", "a : vector(n); X : matrix(n, n); b : vector(n)", 1),
  (
    "l", "w",
    "X : matrix(m, n); w : vector(n); y : vector(m); p = sigmoid(X*w); "
      + "l = -sum(y .* log(p) + (1 - y) .* log(1 - p))", 1
  ),
  ("-y'*log(softmax(W*x))", "W", "W : matrix(c, d); x : vector(d); y : simplex(c)", 1),
  (
    "l", "W1",
    "X : matrix(d, b); W1 : matrix(h, d); W2 : matrix(g, h); W3 : matrix(c, g); "
      + "Y : matrix(c, b); Z1 = W1*X; A1 = tanh(Z1); Z2 = W2*A1; A2 = sigmoid(Z2); "
      + "Z3 = W3*A2; l = 1/2*norm2(Z3 - Y)^2", 1
  ),
  ("tanh(W*x)", "x", "W : matrix(m, n); x : vector(n)", 1),
  ("x'*A*x", "x", "x : vector(n); A : matrix(n, n)", 2),
  (
    "l", "W",
    "W : matrix(m, n); X : matrix(n, p); D[i,j] = sum(k, W[i,k]*X[k,j]); "
      + "l = sum(D .* D)", 1
  ),
]

@Test(.needs(.pdflatex), arguments: documentProblems.indices)
func standaloneDocumentCompiles(_ index: Int) throws {
  let (expression, wrt, statements, order) = documentProblems[index]
  let derivation = try deriveUnchecked(expression, wrt: wrt, where: statements, order: order)
  let certificate = try derivation.check()
  #expect(certificate.passed)
  let document = try derivation.render(.latex, certificate: certificate, standalone: true)
  let (status, log) = try compileLatex(document)
  #expect(status == 0, "pdflatex failed:\n\(log.suffix(2000))")
  #expect(!log.contains("Overfull \\hbox"), "\(log.suffix(2000))")
  // The fragment alone compiles in a minimal document too.
  let fragment = try derivation.render(.latex)
  let minimal =
    "\\documentclass{article}\\usepackage{amsmath,amssymb}\\begin{document}\n\\["
    + fragment + "\\]\n\\end{document}\n"
  #expect(try compileLatex(minimal).status == 0)
}

@Test func markdownHasDisplayMathAndStatesTheLayout() throws {
  let derivation = try deriveUnchecked("x'*A*x", wrt: "x", where: "A : matrix(n, n); x : vector(n)")
  let markdown = try derivation.render(.markdown, certificate: try derivation.check())
  // The objective as written, then the result (as the text prints them).
  #expect(markdown.hasPrefix("$$f = x^\\top A x$$\n\n$$\\frac{\\partial f}{\\partial x} = "))
  #expect(markdown.contains("Layout: a gradient has the shape of the variable"))
  #expect(markdown.contains("Checked: max rel. error"))
}

@Test(arguments: [
  ("x'*A*x", "x", Layout.numerator, "xᵀ (A + Aᵀ)"),
  ("a'*X*b", "X", Layout.numerator, "b aᵀ"),
  ("a'*X*b", "X", Layout.denominator, "a bᵀ"),
  ("A*x", "x", Layout.denominator, "Aᵀ"),
  ("A*x", "x", Layout.numerator, "A"),
])
func layoutTransposesAsItsConventionSays(
  _ expression: String, wrt: String, layout: Layout, expected: String
) throws {
  let derivation = try derivedAndChecked(
    expression, wrt: wrt,
    where: "A : matrix(n, n); X : matrix(n, n); x : vector(n); a : vector(n); b : vector(n)")
  let laid = try derivation.laidOut(layout)
  #expect(MathRenderer(.text).render(laid) == expected)
  #expect(try derivation.render(.text, layout: layout).contains(layout.rawValue))
}

/// Every rewrite the simplifier recorded (a rule applied to a subexpression) preserves values.
@Test func everyRecordedStepPreservesValues() throws {
  var total = 0
  for index in documentProblems.indices {
    total += try stepsPreserveValues(index)
  }
  #expect(total >= 10, "only \(total) steps were recorded and checked")
}

/// Checks the steps of one problem; returns how many were checked.
func stepsPreserveValues(_ index: Int) throws -> Int {
  let (expression, wrt, statements, order) = documentProblems[index]
  let derivation = try deriveUnchecked(expression, wrt: wrt, where: statements, order: order)
  let problem = derivation.problem
  let (sizes, values) = try sampledInputs(derivation, seed: UInt64(index) + 5)
  var evaluator = Evaluator(sizes: sizes, values: values)
  try evaluator.bind(
    problem.definitions + derivation.intermediates.asDefinitions)
  // Differentials (d-rules) are checked by the rule tests; Jacobian seeds have no value.
  let steps = derivation.appliedRules.filter { step in
    if case .differential = step.before.node { return false }
    return !names(in: step.before).contains { $0.hasPrefix("\u{2}") }
  }
  for step in steps {
    let before = try evaluator.evaluate(step.before)
    let after = try evaluator.evaluate(step.after)
    let gap = before.zip(after, -)?.maxAbs ?? .infinity
    #expect(gap <= 1e-9 * max(1, before.maxAbs), "\(step)")
  }
  return steps.count
}
