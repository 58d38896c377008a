import TensorKernel
import Testing

@testable import MatrixCalculus

/// The definition D of `problem` at random inputs (drawn from `seed`, at one ordering of the
/// dimensions): its raised matrix form evaluated, and its written form entry by entry.
func valuesOfD(_ problem: Problem, seed: String, reversed: Bool) throws
  -> (sizes: [String: Int], raised: Tensor, written: Tensor)
{
  let raised = try #require(problem.definitions.first { $0.name == "D" })
  let written = try #require(problem.written)
  let sizes = Sampler.sizes(for: problem.inputs.map(\.expr.shape), reversed: reversed)
  var generator = SplitMix64(seed: TestFunctions.stableHash(seed))
  let values = try Sampler.draw(
    inputsOf: problem, requirements: [:], sizes: sizes, generator: &generator)
  var matrixForm = Evaluator(sizes: sizes, values: values)
  let expected = try matrixForm.evaluate(raised.body)
  var entryByEntry = WrittenEvaluator(
    written, functions: problem.functions, sizes: sizes, values: values)
  try entryByEntry.bindDefinitions()
  return (sizes, expected, try #require(entryByEntry.values["D"]))
}

/// The problem as written (index definitions entry by entry) and the engine's raised matrix
/// form agree on numbers, at two orderings of the dimensions.
@Test(arguments: [
  "D[i,j] = sum(k, A[i,k]*B[k,j])",
  "D[i,j] = sum(k, A[i,k]*C[j,k]) + delta(i,j)",
  "D[i,j] = S[i,j] - delta(i,j)",
  "D[i,j] = 2*delta(i,j) + S[j,i]",
  "D[i,j] = sum(k, (A[i,k] - A[j,k])*(A[i,k] - A[j,k]))",
  "D[i,j] = exp(-sum(k, (A[i,k] - A[j,k])^2)/2)",
  "D[i,j] = y[i] - y[j] + 1",
  "D[i,j] = S[i,j] + x[j]",
  "D[i] = sum(j, A[i,j]*x[j]) + 1",
  "D = sum(i, sum(j, y[i]*A[i,j]*x[j]))",
  "D[i,j] = sum(k, delta(i,k)*S[k,j])*x[j]",
  "D[i] = sum(k, A[i,k]*C[i,k]) / y[i]",
])
func raisedFormAgreesWithTheWrittenForm(_ definition: String) throws {
  let source =
    "A : matrix(m, n); B : matrix(n, p); C : matrix(m, n); S : matrix(n, n); x : vector(n); "
    + "y : vector(m); \(definition)"
  let problem = try parseProblem(source)
  let raised = try #require(problem.definitions.first { $0.name == "D" })
  for reversed in [false, true] {
    let (sizes, expected, value) = try valuesOfD(problem, seed: definition, reversed: reversed)
    #expect(value.rows == expected.rows && value.cols == expected.cols)
    let difference = zip(value.storage, expected.storage).map { abs($0 - $1) }.max() ?? 0
    #expect(difference < 1e-12, "\(definition) at \(sizes): raised \(raised.body)")
  }
}

/// The certificate checks the printed formula against the input as written: a raiser that
/// misreads a free delta as the scalar 1 (as one once did) is caught, although the engine's
/// derivation from its own reading is self-consistent.
@Test func misreadIndexDefinitionFailsTheCertificate() throws {
  let statements = "A : matrix(m, n); Q[i,j] = sum(k, A[i,k]*A[j,k]) + delta(i,j)"
  var parser = try Parser(statements)
  let parsed = try parser.statements()
  var expressionParser = try Parser("logdet(Q)", firstLine: 2)
  let objective = try expressionParser.singleExpression()
  var checker = TypeChecker(source: statements + "\nlogdet(Q)")
  checker.raiseIndexDefinition = { name, indices, body, checker in
    let right = try IndexDefinitionRaiser.raise(
      name: name, indices: indices, body: body, checker: checker)
    // The misreading: A Aᵀ + 1 instead of A Aᵀ + I.
    guard case .add(let terms) = right.node else { return right }
    return try Expr.add(
      terms.map { term in
        if case .identity = term.node { return .constant(1) }
        return term
      })
  }
  let typed = try #require(try checker.check(parsed, objective: objective))
  let problem = checker.problem
  let misread = try #require(problem.definitions.first { $0.name == "Q" })
  #expect(MathRenderer(.text).render(misread.body) == "1 + A Aᵀ")
  let derivation = try Derivation(of: typed, named: "f", withRespectTo: "A", in: problem)
  #expect(!(try derivation.check()).passed)
  // The same input read correctly passes.
  #expect(try deriveUnchecked("logdet(Q)", wrt: "A", where: statements).check().passed)
}

/// Correct formulas whose objective is defined only on part of the space (log barriers,
/// square roots of differences): the checker finds points inside the domain.
@Test(arguments: [
  ("-sum(log(b - A*x))", 1), ("-sum(log(b - A*x))", 2), ("log(1 - x'*x)", 1),
  ("log(1 - x'*x)", 2), ("sum(sqrt(b - A*x))", 1),
])
func objectiveDefinedOnPartOfTheSpaceIsChecked(_ objective: String, order: Int) throws {
  try derivedAndChecked(
    objective, wrt: "x", where: "A : matrix(m, n); b : vector(m); x : vector(n)", order: order)
}

/// Nowhere defined: refused with a clear message, never a NaN comparison.
@Test func objectiveDefinedNowhereIsRefused() throws {
  let derivation = try deriveUnchecked("log(-1 - x'*x)", wrt: "x", where: "x : vector(n)")
  #expect {
    try derivation.check()
  } throws: { error in
    (error as? MatcalcError)?.message.contains("no point found where") == true
  }
}

/// det(AB) with a thin inner dimension is identically 0; det(AB)(AB)⁻ᵀBᵀ is not its
/// derivative there. With declared sizes it is refused; with symbolic sizes it is certified
/// where AB is invertible and the certificate says where it is not.
@Test func determinantOfAThinProductIsNeverInverted() throws {
  let thin = try deriveUnchecked("det(A*B)", wrt: "A", where: "A : matrix(4, 2); B : matrix(2, 4)")
  let refused = try thin.check()
  #expect(!refused.passed)
  #expect(refused.failure?.contains("the formula cannot be evaluated") == true)
  let symbolic = try deriveUnchecked(
    "det(A*B)", wrt: "A", where: "A : matrix(m, k); B : matrix(k, m)")
  let certificate = try symbolic.check()
  #expect(certificate.passed)
  let undefined = try #require(certificate.undefinedAt)
  #expect(undefined.sizes["k"] ?? 0 < undefined.sizes["m"] ?? 0)
  #expect(certificate.description.contains("f is defined but the formula is not"))
}

/// Index input as wide as matrix input: a pairwise-distance kernel (terms with different
/// free indices broadcast) and free deltas derive and pass the certificate.
@Test(arguments: [
  (
    "sum(K)", "X",
    "X : matrix(n, d); D[i,j] = sum(k, (X[i,k] - X[j,k])*(X[i,k] - X[j,k])); K[i,j] = exp(-D[i,j])"
  ),
  ("y'*K*y", "X", "X : matrix(n, d); y : vector(n); K[i,j] = exp(-sum(k, (X[i,k] - X[j,k])^2)/2)"),
  ("logdet(Q)", "A", "A : matrix(m, n); Q[i,j] = sum(k, A[i,k]*A[j,k]) + delta(i,j)"),
  ("sum(E .* E)", "X", "X : matrix(n, n); E[i,j] = X[i,j] - delta(i,j)"),
  ("tr(E*X)", "X", "X : matrix(n, n); E[i,j] = delta(i,j)"),
  ("tr(E*X)", "X", "X : matrix(n, n); E[i,j] = 2*delta(i,j)"),
  ("sum(D .* D)", "x", "x : vector(n); D[i,j] = x[i] - x[j]"),
  (
    "l", "A",
    "A : matrix(m, n); x : vector(p); B : matrix(m, n); y : vector(p); T[i,j,k] = A[i,j]*x[k]; "
      + "l = sum(i, sum(j, sum(k, T[i,j,k]*B[i,j]*y[k])))"
  ),
  (
    "l", "W",
    "W : matrix(m, n); X : matrix(n, p); T[i,j,k] = W[i,k]*X[k,j]; D[i,j] = sum(k, T[i,j,k]); "
      + "L : function; l = L(D)"
  ),
  ("sum(G)", "A", "A : matrix(n, n); T[i,j,k] = A[i,j]*A[j,k]; G[i,k] = T[i,k,k]"),
  (
    "l", "W",
    "W : matrix(m, n); T[i,j,k] = tanh(W[i,j])*W[i,k]; "
      + "l = sum(i, sum(j, sum(k, T[i,j,k]*T[i,k,j])))"
  ),
])
func broadcastAndDeltaIndexInputIsDerived(_ objective: String, wrt: String, statements: String)
  throws
{
  try derivedAndChecked(objective, wrt: wrt, where: statements)
}

/// Random index definitions (sums of broadcast terms, products, powers, deltas, element-wise
/// functions): every one the raiser accepts agrees with its entry-by-entry evaluation.
@Test func randomIndexDefinitionsRaiseToTheirValues() throws {
  var random = SplitMix64(seed: 20_261_202)
  func pick<T>(_ options: [T]) -> T { options[Int(random.next() % UInt64(options.count))] }
  func summand() -> String {
    pick([
      "A[i,k]*C[k,j]", "A[i,k]*A[j,k]", "z[k]*C[k,j]*z[k]", "(A[i,k] - A[j,k])^2",
      "delta(i,k)*B[k,j]", "A[i,k]*z[k]", "exp(A[i,k])*C[k,j]", "A[j,k]*z[k]*z[k]",
    ])
  }
  func factor(_ depth: Int) -> String {
    if depth == 0 || random.next() % 3 == 0 {
      return pick([
        "B[i,j]", "B[j,i]", "x[i]", "x[j]", "sum(k, \(summand()))", "delta(i,j)", "2",
      ])
    }
    switch random.next() % 6 {
    case 0: return "(\(factor(depth - 1)) + \(factor(depth - 1)))"
    case 1: return "(\(factor(depth - 1)) - \(factor(depth - 1)))"
    case 2: return "\(factor(depth - 1))*\(factor(depth - 1))"
    case 3: return "tanh(\(factor(depth - 1)))"
    case 4: return "(\(factor(depth - 1)))^2"
    default: return "0.5*\(factor(depth - 1))"
    }
  }
  let declarations =
    "A : matrix(n, p); C : matrix(p, n); B : matrix(n, n); x : vector(n); z : vector(p)"
  var raised = 0
  var refused = 0
  for _ in 0..<200 {
    let body = factor(3)
    let source = declarations + "; D[i,j] = " + body
    let problem: Problem
    do {
      problem = try parseProblem(source)
    } catch MatcalcError.internalError(let message) {
      Issue.record("\(body): internal error \(message)")
      continue
    } catch is MatcalcError {
      refused += 1  // no matrix form, or an index of D missing on the right
      continue
    }
    let definition = try #require(problem.definitions.first { $0.name == "D" })
    for reversed in [false, true] {
      let (_, expected, value) = try valuesOfD(problem, seed: body, reversed: reversed)
      // A term without i or j broadcasts: the matrix form may be a scalar added to every entry.
      let broadcast =
        expected.isScalar
        ? Tensor(rows: value.rows, cols: value.cols, repeating: expected.scalar) : expected
      #expect(value.rows == broadcast.rows && value.cols == broadcast.cols, "\(body)")
      let gap = zip(value.storage, broadcast.storage).map { abs($0 - $1) }.max() ?? 0
      #expect(gap <= 1e-9 * max(1, value.maxAbs), "\(body): raised \(definition.body)")
    }
    raised += 1
  }
  #expect(raised >= 100, "raised \(raised), refused \(refused)")
}
