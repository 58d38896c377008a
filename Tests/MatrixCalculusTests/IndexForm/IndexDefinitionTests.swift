import Testing

@testable import MatrixCalculus

let indexDeclarations =
  "A : matrix(m, n); B : matrix(n, p); C : matrix(m, n); S : matrix(n, n); x : vector(n); "
  + "y : vector(m); z : vector(n)"

/// Index definitions raise to the matrix form written on the right (the same interned Expr).
@Test(arguments: [
  ("D[i,j] = sum(k, A[i,k]*B[k,j])", "A*B"),
  ("D[i,j] = sum(k, B[k,j]*A[i,k])", "A*B"),
  ("D[j,i] = sum(k, A[i,k]*B[k,j])", "(A*B)'"),
  ("D[i] = sum(j, A[i,j]*x[j])", "A*x"),
  ("D = sum(i, x[i]*z[i])", "x'*z"),
  ("D[i,j] = A[j,i]", "A'"),
  ("D[i,j] = A[i,j]*C[i,j]", "A .* C"),
  ("D[i,j] = y[i]*x[j]", "y*x'"),
  ("D[i,j] = A[i,j] + C[i,j]", "A + C"),
  ("D[i] = tanh(sum(j, A[i,j]*x[j]))", "tanh(A*x)"),
  ("D = sum(i, sum(j, y[i]*A[i,j]*x[j]))", "y'*A*x"),
  ("D[i] = sum(k, delta(i,k)*x[k])", "x"),
  ("D[i] = S[i,i]", "diag(S)"),
  ("D[i,j] = sum(k, A[i,k]*x[k]*z[k]*B[k,j])", "A*diag(x .* z)*B"),
  ("D[i,j] = delta(i,j)*x[i]", "diag(x)"),
  ("D[i,j] = x[j]*delta(i,j)", "diag(x)"),
  ("D[i,j] = delta(i,j)*S[i,j]", "diag(diag(S))"),
  ("D[i] = sum(k, A[i,k]*C[i,k])", "(A .* C)*ones(n, 1)"),
])
func indexDefinitionRaises(_ definition: String, matrixForm: String) throws {
  let problem = try parseProblem(indexDeclarations + "; " + definition + "; E = " + matrixForm)
  let raised = try #require(problem.definitions.first { $0.name == "D" })
  let expected = try #require(problem.definitions.first { $0.name == "E" })
  #expect(raised.body == expected.body, "\(raised.body) vs \(expected.body)")
}

/// delta's arguments are indices: they do not become inferred variables (which would add
/// dimensions to the problem).
@Test func deltaArgumentsAreIndicesNotInputs() throws {
  let problem = try parseProblem("x : vector(n); D[i,j] = delta(i,j)*x[i]")
  #expect(problem.inputs.map(\.name) == ["x"])
}

/// Σ_ij Y_ij Y_ij: the two factors share both indices, so they multiply entry by entry before
/// either index is summed (not a matrix product over i).
@Test func sumOfSquaresFromIndexFormIsTheFrobeniusNorm() throws {
  let statements =
    "W : matrix(m, n); X : matrix(n, p); Y[i,j] = sum(k, W[i,k]*X[k,j]); "
    + "l = sum(i, sum(j, Y[i,j]*Y[i,j]))"
  let derivation = try derivedAndChecked("l", wrt: "W", where: statements)
  #expect(MathRenderer(.text).render(derivation.result) == "2 Y Xᵀ")
}

@Test func traceFromIndexFormAgreesOnNumbers() throws {
  try derivedAndChecked("t", wrt: "S", where: indexDeclarations + "; t = sum(i, S[i,i])")
}

@Test(arguments: [
  "D[i,j,k,l] = A[i,j]*S[k,l]",
  "D[i] = A[i,j]",
  "D[i,j,k] = A[i,j]*x[k]; E = D*x",
  "D[i] = sum(i, x[i])",
])
func indexDefinitionWithoutMatrixFormIsRefused(_ definition: String) {
  #expect(throws: MatcalcError.self) { try parseProblem(indexDeclarations + "; " + definition) }
}

/// An index ranging over two different dimensions is reported where inference found it,
/// not as an internal error of raising.
@Test func indexWithTwoRangesIsReportedAtItsEntry() throws {
  let statements =
    "C : matrix(p, n); x : vector(n); z : vector(p); D[j] = sum(k, x[k]*C[k,j]*z[k])"
  #expect {
    _ = try parseProblem(statements)
  } throws: { error in
    guard case .shapeMismatch(let message, let range) = error as? MatcalcError else { return false }
    return message.contains("does not match") && range.column > 49
  }
}
