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
  ("exp(-x^2/2)", "x", "−x exp(−0.5 x²)"),
  ("1/x", "x", "−x⁻²"),
])
func collectedForms(_ input: String, wrt: String, expected: String) throws {
  let derivation = try derivedAndChecked(input, wrt: wrt)
  #expect(MathRenderer(.text).render(derivation.result) == expected)
}
