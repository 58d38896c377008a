import Foundation
import TensorKernel
import TestSupport
import Testing

@testable import MatrixCalculus

/// A corpus over the whole language. Each problem is derived, checked against finite
/// differences, and its NumPy line is evaluated by Python and compared with the formula.
enum Corpus {
  static let vectors =
    "A : matrix(m, n); B : matrix(n, m); x : vector(n); a : vector(n); "
    + "b : vector(m); c : vector(n); v : vector(n); W : matrix(m, n); y : vector(m); s : scalar"
  static let squares =
    "X : matrix(n, n); A : matrix(n, n); B : matrix(n, n); a : vector(n); "
    + "b : vector(n); S : symmetric(n); x : vector(n)"
  static let rectangles =
    "X : matrix(m, n); A : matrix(p, m); B : matrix(n, p); "
    + "C : matrix(n, m); a : vector(m); b : vector(n); Y : matrix(m, n)"

  static let problems: [(String, String, String)] = [
    ("x'*A'*A*x", "x", vectors), ("a'*x", "x", vectors), ("b'*W*x", "W", vectors),
    ("b'*W*x", "x", vectors), ("norm2(x)^2", "x", vectors), ("norm2(x)", "x", vectors),
    ("norm2(W*x - y)", "x", vectors), ("norm1(x)", "x", vectors), ("sum(W*x)", "x", vectors),
    ("sum(exp(x))", "x", vectors), ("sum(log(x))", "x", vectors), ("sum(sqrt(x))", "x", vectors),
    ("sum(sin(W*x))", "x", vectors), ("sum(cos(W))", "W", vectors),
    ("sum(tanh(W*x))", "W", vectors), ("sum(sigmoid(W*x))", "W", vectors),
    ("sum(relu(W*x))", "W", vectors), ("sum(abs(x))", "x", vectors),
    ("logsumexp(x)", "x", vectors), ("logsumexp(W*x)", "W", vectors),
    ("softmax(x)'*a", "x", vectors), ("-y'*log(softmax(W*x))", "x", vectors),
    ("sum(log(1 + exp(-y .* (W*x))))", "x", vectors),
    ("1/2*norm2(W*x - y)^2 + s/2*norm2(x)^2", "x", vectors),
    ("1/2*norm2(W*x - y)^2 + s/2*norm2(x)^2", "s", vectors),
    ("(x'*B*W*x)/(x'*x)", "x", vectors), ("exp(a'*x)", "x", vectors),
    ("x'*diag(v)*x", "v", vectors), ("x'*diag(v)*x", "x", vectors),
    ("sum(W .* W)", "W", vectors), ("sum(W .^ 3)", "W", vectors),
    ("b'*(W .^ 2)*a", "W", vectors), ("s^2*x'*x", "s", vectors),
    ("sin(s)*a'*x + s^3", "s", vectors), ("x'*x/s", "s", vectors), ("(a'*x)*(c'*x)", "x", vectors),
    ("sqrt(x'*x)", "x", vectors), ("sum(x ./ v)", "v", vectors), ("sum(x ./ v)", "x", vectors),
    ("log(a'*x)", "x", vectors), ("b'*W*diag(x)*a", "x", vectors),
    ("sum(exp(W*x) ./ (1 + exp(W*x)))", "W", vectors), ("-x'*x + 3*a'*x - 2", "x", vectors),
    ("tr(A*X)", "X", squares), ("tr(X*A)", "X", squares), ("tr(X'*A*X)", "X", squares),
    ("tr(X*X')", "X", squares), ("tr(X^3)", "X", squares), ("tr(inv(X))", "X", squares),
    ("tr(A*inv(X)*B)", "X", squares), ("det(X)", "X", squares), ("logdet(X)", "X", squares),
    ("logdet(X'*X)", "X", squares), ("det(A*X*B)", "X", squares), ("tr(X)^2", "X", squares),
    ("tr(A^2*X)", "X", squares), ("x'*A^3*x", "x", squares), ("tr(inv(A + X))", "X", squares),
    ("x'*S*x", "x", squares), ("x'*S*x", "S", squares), ("logdet(S) - tr(A*S)", "S", squares),
    ("a'*inv(X)*b", "X", squares), ("sum(diag(X))", "X", squares), ("diag(X)'*a", "X", squares),
    ("det(X)^2", "X", squares), ("tr(X^-1*A)", "X", squares), ("norm2(X)^2", "X", squares),
    ("a'*X'*X*b", "X", squares), ("sum(sum(X))", "X", squares),
    ("tr(A*X*B)", "X", rectangles), ("tr(A*X*X'*A')", "X", rectangles),
    ("a'*X*b", "X", rectangles), ("tr(X'*Y)", "X", rectangles), ("norm2(X - Y)^2", "X", rectangles),
    ("logdet(X'*X)", "X", rectangles), ("sum(exp(X) .* Y)", "X", rectangles),
    ("a'*tanh(X*b)", "X", rectangles), ("a'*tanh(X*b)", "b", rectangles),
    ("l", "x", "A : matrix(m, n); x : vector(n); y[i] = sum(j, A[i,j]*x[j]); l = y'*y"),
    (
      "l", "W2",
      "X : matrix(d, b); W1 : matrix(h, d); W2 : matrix(o, h); T : matrix(o, b); "
        + "H = relu(W1*X); Y = sigmoid(W2*H); l = sum((Y - T) .* (Y - T))"
    ),
    (
      "l", "W1",
      "X : matrix(d, b); W1 : matrix(h, d); W2 : matrix(o, h); T : matrix(o, b); "
        + "H = relu(W1*X); Y = sigmoid(W2*H); l = sum((Y - T) .* (Y - T))"
    ),
    (
      "l", "w",
      "X : matrix(m, n); w : vector(n); y : vector(m); p = sigmoid(X*w); "
        + "l = -y'*log(p) - (1 - y)'*log(1 - p)"
    ),
    (
      "l", "b",
      "W : matrix(h, d); x : vector(d); b : vector(h); t : vector(h); z = W*x + b; "
        + "l = norm2(exp(z) - t)^2"
    ),
  ]
}

struct CorpusCase: CustomTestStringConvertible, Sendable {
  let expression: String
  let wrt: String
  let statements: String
  var order = 1
  /// The problem as a reader would type it.
  var testDescription: String {
    order == 1 ? "∂(\(expression))/∂\(wrt)" : "∂²(\(expression))/∂\(wrt)²"
  }
}

/// Jacobians of vector functions (rows the outputs) and Hessians, with their textbook forms.
let jacobians: [(String, String, Int, String)] = [
  ("W*x", "x", 1, "W"),
  ("x'*A'", "x", 1, "A"),
  ("tanh(W*x)", "x", 1, "diag(1 − tanh(W x)^⊙2) W"),
  ("softmax(v)", "v", 1, "diag(softmax(v)) − softmax(v) softmax(v)ᵀ"),
  ("exp(s*x)", "s", 1, "diag(exp(s x)) x"),
  ("x .* v", "x", 1, "diag(v)"),
  ("W*x + b", "x", 1, "W"),
  ("x'*A'*A*x", "x", 2, "2 Aᵀ A"),
  ("logsumexp(v)", "v", 2, "diag(softmax(v)) − softmax(v) softmax(v)ᵀ"),
  ("s^3*x'*x", "s", 2, "6 xᵀ x s"),
  // Textbook forms of the logistic and cross-entropy losses (element-wise algebra cancels).
  ("sum(log(1 + exp(-y .* (W*x))))", "x", 1, "−Wᵀ (y ⊙ sigmoid(−((W x) ⊙ y)))"),
  (
    "sum(log(1 + exp(-y .* (W*x))))", "x", 2,
    "Wᵀ diag(((sigmoid(−((W x) ⊙ y)) ⊙ (1 − sigmoid(−((W x) ⊙ y)))) ⊙ y) ⊙ y) W"
  ),
  ("-y'*log(sigmoid(W*x)) - (1 - y)'*log(1 - sigmoid(W*x))", "x", 1, "Wᵀ (sigmoid(W x) − y)"),
  (
    "-y'*log(sigmoid(W*x)) - (1 - y)'*log(1 - sigmoid(W*x))", "x", 2,
    "Wᵀ diag(sigmoid(W x) ⊙ (1 − sigmoid(W x))) W"
  ),
  (
    "-y'*log(softmax(W*x))", "x", 2,
    "sum(y) Wᵀ (diag(softmax(W x)) − softmax(W x) softmax(W x)ᵀ) W"
  ),
  // Read entry by entry (no canonical shape matches), a matrix by a scalar, and second
  // derivatives of vectors and matrices by a scalar.
  ("(x'*x)*x", "x", 1, "2 x xᵀ + xᵀ x I"),
  ("x*(a'*x)", "x", 1, ""),
  ("diag(softmax(x))*v", "x", 1, ""),
  ("softmax(softmax(x))", "x", 1, ""),
  ("s^2*W + s*B'", "s", 1, "2 s W + Bᵀ"),
  ("exp(s*W)", "s", 2, "(W ⊙ exp(s W)) ⊙ W"),
  ("sin(s)*x", "s", 2, "−sin(s) x"),
]

@Test(arguments: jacobians)
func jacobianOrHessianIsChecked(_ expression: String, wrt: String, order: Int, expected: String)
  throws
{
  let derivation = try deriveUnchecked(expression, wrt: wrt, where: Corpus.vectors, order: order)
  let certificate = try derivation.check(points: 3)
  #expect(certificate.passed, "\(certificate) \(certificate.worstEntry)")
  if !expected.isEmpty {
    #expect(MathRenderer(.text).render(derivation.result) == expected)
  }
}

@Test(
  .needs(.numpy),
  arguments: Corpus.problems.map { CorpusCase(expression: $0.0, wrt: $0.1, statements: $0.2) }
    + jacobians.map {
      CorpusCase(expression: $0.0, wrt: $0.1, statements: Corpus.vectors, order: $0.2)
    })
func corpusProblemIsCheckedAndItsNumpyAgrees(_ problem: CorpusCase) throws {
  let derivation = try deriveUnchecked(
    problem.expression, wrt: problem.wrt, where: problem.statements, order: problem.order)
  let certificate = try derivation.check(points: 3)
  #expect(certificate.passed, "\(certificate) \(certificate.worstEntry)")
  let line = try derivation.render(.numpy)
  let sizes = certificate.sizes
  let requirements = Sampler.requirements(
    of: [derivation.objective, derivation.result], definitions: derivation.problem.definitions)
  var generator = SplitMix64(seed: 11)
  let values = try Sampler.draw(
    inputsOf: derivation.problem, requirements: requirements, sizes: sizes, generator: &generator)
  var evaluator = Evaluator(sizes: sizes, values: values)
  try evaluator.bind(derivation.problem.definitions)
  let expected = try evaluator.evaluate(derivation.result)
  let numbers = try PythonRunner.evaluate(line, problem: derivation.problem, values: values)
  #expect(numbers.count == expected.count, "\(line)")
  let gap = zip(numbers, expected.storage).map { abs($0 - $1) }.max() ?? .infinity
  #expect(gap <= 1e-9 * max(1, expected.maxAbs), "\(line)")
}

/// The textbook forms also come out when the loss is written through named definitions
/// (the rules write σ(z) where the input wrote a; both are one atom after folding).
@Test func logisticLossThroughDefinitionsIsTextbook() throws {
  let statements =
    "W : matrix(m, n); x : vector(n); b : vector(m); y : vector(m); z = W*x + b; "
    + "a = sigmoid(z); l = -y'*log(a) - (1 - y)'*log(1 - a)"
  let gradient = try derivedAndChecked("l", wrt: "W", where: statements)
  #expect(MathRenderer(.text).render(gradient.result) == "(a − y) xᵀ")
  let hessian = try derivedAndChecked("l", wrt: "b", where: statements, order: 2)
  #expect(MathRenderer(.text).render(hessian.result) == "diag(a ⊙ (1 − a))")
}
