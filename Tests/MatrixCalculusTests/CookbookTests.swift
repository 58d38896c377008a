import Testing

@testable import MatrixCalculus

let cookbookDeclarations =
  "A : matrix(n, n); B : matrix(n, n); X : matrix(n, n); x : vector(n); a : vector(n); "
  + "b : vector(n); C : matrix(m, n); c : vector(m); Y : matrix(m, p); Q : matrix(n, p)"

/// The Matrix Cookbook (Petersen & Pedersen, 2012) §2, numbers in parentheses; each result
/// checked on numbers, then compared with the Cookbook's own compact form.
@Test(arguments: [
  ("tr(A*X)", "X", "Aᵀ"),  // (100)
  ("tr(X'*A)", "X", "A"),  // (101)
  ("tr(A*X*B)", "X", "Aᵀ Bᵀ"),  // (102)
  ("tr(X'*X)", "X", "2 X"),  // (103)
  ("x'*A*x", "x", "(A + Aᵀ) x"),  // (81)
  ("a'*X*b", "X", "a bᵀ"),  // (70)
  ("a'*X'*b", "X", "b aᵀ"),  // (71)
  ("logdet(X)", "X", "X⁻ᵀ"),  // (57)
  ("det(X)", "X", "det(X) X⁻ᵀ"),  // (49)
  ("tr(inv(X)*A)", "X", "−X⁻ᵀ Aᵀ X⁻ᵀ"),  // (63)
  ("norm2(C*x - c)^2", "x", "2 Cᵀ (C x − c)"),  // (84) with W = I
  ("tr(Y'*C*Q)", "C", "Y Qᵀ"),  // (102) rectangular
  ("a'*X*X'*b", "X", "(a bᵀ + b aᵀ) X"),  // (77)
  ("tr(X*X)", "X", "2 Xᵀ"),  // (104)
  ("norm2(X)^2", "X", "2 X"),  // (129)
])
func cookbook(_ input: String, wrt: String, expected: String) throws {
  let derivation = try derivedAndChecked(input, wrt: wrt, where: cookbookDeclarations)
  #expect(MathRenderer(.text).render(derivation.result) == expected)
}

/// Shapes are inferred from use when nothing is declared.
@Test(arguments: [
  ("x'*A*x", "x"), ("tr(A*X)", "X"), ("norm2(A*x - b)^2", "x"), ("-y'*log(p)", "p"),
  ("lambda*x'*x + sum(exp(x))", "x"), ("logdet(X) - tr(S*X)", "X"),
])
func inferredShapes(_ input: String, wrt: String) throws {
  try derivedAndChecked(input, wrt: wrt)
}

/// Scalar calculus and small forms come out collected, not expanded.
@Test(arguments: [
  ("sin(x)*cos(x)", "x", "cos(x)² − sin(x)²"),
  ("sqrt(x'*x)", "x", "x / sqrt(xᵀ x)"),
  ("norm2(x)^3", "x", "3 ‖x‖ x"),
  ("x'*(A + I)*x", "x", "(A + Aᵀ + 2 I) x"),
  ("exp(-x^2/2)", "x", "−x exp(−½ x²)"),
  ("1/x", "x", "−x⁻²"),
])
func collectedForms(_ input: String, wrt: String, expected: String) throws {
  let derivation = try derivedAndChecked(input, wrt: wrt)
  #expect(MathRenderer(.text).render(derivation.result) == expected)
}

let cookbookSquares =
  "A : matrix(n, n); B : matrix(n, n); C : matrix(n, n); D : matrix(n, n); X : matrix(n, n); "
  + "a : vector(n); b : vector(n); c : vector(n); d : vector(n); x : vector(n); s : vector(n); "
  + "W : symmetric(n)"

/// More of The Matrix Cookbook §2 (equation numbers of the 2012 edition), each checked on
/// numbers and compared with the Cookbook's own form.
@Test(arguments: [
  ("a'*inv(X)*b", "X", "−X⁻ᵀ a bᵀ X⁻ᵀ"),  // (61)
  ("b'*X'*D*X*c", "X", "D X c bᵀ + Dᵀ X b cᵀ"),  // (78)
  ("(X*b + c)'*D*(X*b + c)", "X", "(D + Dᵀ) (X b + c) bᵀ"),  // (79)
  ("(x - A*s)'*W*(x - A*s)", "s", "2 Aᵀ W (A s − x)"),  // (84) −2 Aᵀ W (x − A s), W symmetric
  ("(A*x + b)'*(C*x + d)", "x", "Aᵀ (C x + d) + Cᵀ (A x + b)"),  // (88)
  ("tr(X)", "X", "I"),  // (99)
  ("tr(A*X'*B)", "X", "B A"),  // (103)
  ("tr(X*X*B)", "X", "(B X + X B)ᵀ"),  // (106): Bᵀ Xᵀ + Xᵀ Bᵀ, one transpose
  ("tr(X'*B*X)", "X", "(B + Bᵀ) X"),  // (108)
  ("tr(X*X')", "X", "2 X"),  // (111)
  ("tr(A*X*B*X)", "X", "(A X B + B X A)ᵀ"),  // (113): Aᵀ Xᵀ Bᵀ + Bᵀ Xᵀ Aᵀ
  ("tr(X^4)", "X", "4 Xᵀ Xᵀ Xᵀ"),  // (116), k = 4
  ("tr(inv(X))", "X", "−X⁻ᵀ X⁻ᵀ"),  // (121) with A = B = I
  ("det(A*X*B)", "X", "det(A X B) X⁻ᵀ"),  // (51), square A, X, B
  ("logdet(A*X*B)", "X", "X⁻ᵀ"),  // (51) over det
  ("logdet(X'*X)", "X", "2 X⁻ᵀ"),  // (55) for a square X
])
func cookbookMore(_ input: String, wrt: String, expected: String) throws {
  let derivation = try derivedAndChecked(input, wrt: wrt, where: cookbookSquares)
  if !expected.isEmpty {
    #expect(MathRenderer(.text).render(derivation.result) == expected)
  }
}

@Test func commonNamesAreNotReserved() throws {
  // d, delta, I, ones are ordinary names when declared.
  try derivedAndChecked(
    "d'*x + delta*x'*I*x + ones'*x", wrt: "x",
    where: "d : vector(n); x : vector(n); delta : scalar; I : matrix(n, n); ones : vector(n)")
}
