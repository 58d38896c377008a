import Testing

@testable import MatrixCalculus

/// The type an undeclared name was inferred as.
func inferredType(_ name: String, in problem: Problem) -> TypeSpec? {
  problem.inputs.first { $0.name == name }?.type
}

/// A coefficient of a scalar objective is a scalar (shared/LANGUAGE.md): the objective stays a
/// scalar, its gradient has the shape of the variable and passes the numeric check.
@Test(arguments: [
  ("1/2*norm2(X*w - y)^2 + lambda/2*w'*w", "w", "lambda"),
  ("c*x'*x", "x", "c"),
  ("norm2(A*x)^2 + b*x'*x", "x", "b"),
  ("x'*A*x*c", "x", "c"),
  ("-c/2*x'*x + sum(exp(x))", "x", "c"),
  ("a*b*x'*x", "x", "b"),
  ("c*norm2(x)", "x", "c"),
])
func coefficientOfAScalarObjectiveIsAScalar(_ input: String, wrt: String, coefficient: String)
  throws
{
  let derivation = try deriveUnchecked(input, wrt: wrt)
  #expect(inferredType(coefficient, in: derivation.problem) == .scalar)
  #expect(derivation.objective.shape.isScalar)
  #expect(derivation.result.shape == derivation.variable.shape)
  #expect(!derivation.variable.shape.isScalar)
  #expect(try derivation.check().passed)
}

/// The same in a problem file, through a definition.
@Test func coefficientInAProblemFileIsAScalar() throws {
  let problem = try parseProblem("x : vector(n)\nl = c*x'*x\nderive l wrt x")
  #expect(inferredType("c", in: problem) == .scalar)
  #expect(problem.expr(named: "l")?.shape.isScalar == true)
}

/// Names that are not coefficients keep the reading they had: a matrix times a vector is a
/// Jacobian, a quadratic form's middle factor a square matrix.
@Test(arguments: [
  ("W*x", "x", "W", 2), ("x'*A*x", "x", "A", 2), ("lambda*x'*x + sum(exp(x))", "x", "x", 1),
])
func otherReadingsAreUnchanged(_ input: String, wrt: String, name: String, rank: Int) throws {
  let derivation = try deriveUnchecked(input, wrt: wrt)
  let shape = try #require(derivation.problem.expr(named: name)?.shape)
  #expect(rank == 2 ? shape.cols != .one : shape.cols == .one && !shape.isScalar)
  #expect(try derivation.check().passed)
}

/// A name that is a coefficient in one place and a vector in another has two readings: the
/// error names it, its position, and both declarations.
@Test(arguments: [
  ("1️⃣x*sum(x)", "x", "'x' has two readings", "'x : scalar' or 'x : vector(n)'"),
  ("1️⃣v*x'*x + sum(v)", "x", "'v' has two readings", "'v : scalar' or 'v : vector("),
])
func twoReadingsAreAnError(_ input: String, wrt: String, message: String, declarations: String) {
  let (text, column) = marked(input)
  do {
    let derivation = try deriveUnchecked(text, wrt: wrt)
    Issue.record("accepted: \(derivation.problem.inputs.map { ($0.name, $0.type) })")
  } catch let error as MatcalcError {
    #expect(error.message.contains(message), "\(error)")
    #expect(error.message.contains(declarations), "\(error)")
    #expect(error.range?.line == 1 && error.range?.part == .expression, "\(error)")
    #expect(error.range?.column == column, "\(error)")
  } catch {
    Issue.record("untyped error \(error)")
  }
}

/// A declaration settles it.
@Test(arguments: ["x : vector(n)", "x : scalar"])
func declarationSettlesTwoReadings(_ declaration: String) throws {
  let derivation = try deriveUnchecked("x*sum(x)", wrt: "x", where: declaration)
  #expect(try derivation.check().passed)
}

/// A dimension inferred for an undeclared name is named apart from every value: with
/// `n : scalar` declared (or `m` inferred as a coefficient), x is a vector of another size.
@Test(arguments: [
  ("n*x'*x", "n : scalar", TypeSpec.vector(.symbol("m"))),
  ("n*m*x'*A*x", "", TypeSpec.vector(.symbol("p"))),
])
func inferredDimensionsAreNamedApartFromValues(
  _ input: String, statements: String, type: TypeSpec
) throws {
  let derivation = try derive(input, wrt: "x", where: statements)
  #expect(inferredType("x", in: derivation.problem) == type)
  #expect(try derivation.check().passed)
}
