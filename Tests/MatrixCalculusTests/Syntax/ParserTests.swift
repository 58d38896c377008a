import Testing

@testable import MatrixCalculus

/// parse → print → parse gives the same (interned) expression.
@Test(arguments: [
  "x'*A*x", "-y'*log(p)", "tr(inv(X)*A) + 2*logdet(X)", "sum(exp(A*x) .* b) / s",
  "norm2(A*x - b)^2 + s*norm1(x)", "sigmoid(A*x)'*b - 3", "x'*(A + A')*x", "det(X)^0.5",
  "softmax(A*x)'*b", "(A*X)'", "relu(x) ./ (abs(x) + 1)",
])
func printedExpressionReparses(_ text: String) throws {
  let statements =
    "A : matrix(n, n); X : matrix(n, n); x : vector(n); b : vector(n); "
    + "y : vector(n); p : vector(n); s : scalar"
  let first = try #require(try parseProblem(statements + "; E = " + text).definitions.last).body
  let second = try #require(
    try parseProblem(statements + "; E = " + first.description).definitions.last
  ).body
  #expect(first == second, "\(text) printed as \(first.description), re-read as \(second)")
}

@Test func equalExpressionsAreOneObject() throws {
  let statements = "A : matrix(n, n); x : vector(n)"
  let a = try deriveUnchecked("x'*A*x + x'*x", wrt: "x", where: statements).objective
  let b = try deriveUnchecked("x'*x + (x'*A)*x", wrt: "x", where: statements).objective
  #expect(a === b)
}

@Test func expressionMayBeginWithMinus() throws {
  let d = try derivedAndChecked("-y'*log(p)", wrt: "p")
  #expect(MathRenderer(.text).render(d.result) == "−(y ⊘ p)")
}

@Test func problemFileWithGoals() throws {
  let problem = try parseProblem(
    """
    # a linear layer
    W : matrix(m, n); X : matrix(n, p)
    L : function
    D = W*X
    l = L(D)
    derive l wrt W
    derive l wrt X
    """)
  #expect(problem.goals.map(\.wrt) == ["W", "X"])
  #expect(problem.definitions.map(\.name) == ["D", "l"])
}

@Test func unusedExpressionsLeaveThePool() throws {
  // Names no other test uses, so what other tests intern meanwhile does not count.
  let statements = "Aleak : matrix(n, n); xleak : vector(n)"
  func deriveOnce(_ k: Int) throws -> Derivation {
    try deriveUnchecked(
      "xleak'*Aleak^\(k)*xleak + \(k)*sum(exp(Aleak*xleak))", wrt: "xleak", where: statements)
  }
  var held: [Derivation] = []
  for k in 2...40 { held.append(try deriveOnce(k)) }
  let whileHeld = ExprPool.count(mentioning: "Aleak")
  held.removeAll()
  // Forty different derivations leave nothing of theirs behind once their results are gone.
  #expect(whileHeld > 300, "\(whileHeld) live while held")
  #expect(ExprPool.count(mentioning: "Aleak") == 0)
}

/// A parenthesised expression's source range includes its parentheses, so a message quotes
/// `(X*w - y)^2`, not `X*w - y)^2`.
@Test(arguments: [
  ("(X*w - y)^2", 1, 11), ("2*(x)", 3, 3), ("((x))'", 1, 6), ("-(x + x)", 1, 8), ("(x)", 1, 3),
])
func parenthesesBelongToTheirExpression(_ text: String, column: Int, length: Int) throws {
  var parser = try Parser(text)
  var node = try parser.singleExpression()
  if case .binary("*", _, let right) = node.kind { node = right }
  #expect(node.range.line == 1)
  #expect(node.range.column == column, "\(node.range)")
  #expect(node.range.length == length, "\(node.range)")
}
