import Foundation
import TensorKernel
import TestSupport
import Testing

@testable import MatrixCalculus

let tensorDeclarations =
  "A : matrix(m, n); B : matrix(p, q); X : matrix(n, p); Y : matrix(n, n); x : vector(p); "
  + "W : matrix(m, n); v : vector(n); S : symmetric(n)"

/// Results with three or four indices (shape S_F + S_X), in index form; each checked on
/// numbers and its NumPy einsum run by Python.
let tensorCases: [(String, String, Int, String)] = [
  ("A*X*B", "X", 1, "∂f_ij/∂X_kl = A_ik B_lj"),  // Cookbook: d(AXB) = A dX B
  ("X'", "X", 1, "∂f_ij/∂X_kl = δ_kj δ_li"),
  ("W*v", "W", 1, "∂f_i/∂W_kl = δ_ki v_l"),
  ("inv(Y)", "Y", 1, "∂f_ij/∂Y_kl = −(Y⁻¹)_ik (Y⁻¹)_lj"),  // Cookbook (59)
  ("Y*Y", "Y", 1, "∂f_ij/∂Y_kl = δ_ki Y_lj + Y_ik δ_lj"),
  ("tr(Y)*Y", "Y", 1, "∂f_ij/∂Y_kl = δ_lk Y_ij + tr(Y) δ_ki δ_lj"),
  ("X .* X", "X", 1, "∂f_ij/∂X_kl = 2 X_kl δ_ki δ_lj"),
  ("tanh(W)", "W", 1, ""),
  ("x'*x*X", "X", 1, ""),
  ("W'*W", "W", 1, ""),
  ("tr(Y^3)", "Y", 2, ""),
  ("logdet(Y)", "Y", 2, ""),
  ("sum(W .* W)", "W", 2, "∂f_ij/∂W_kl = 2 δ_ki δ_lj"),
  // Read entry by entry (summed indices contracted): element-wise functions of products,
  // vectors by matrices through a left factor, diag both ways.
  ("tanh(Y*Y)", "Y", 1, ""),
  ("exp(Y*Y)", "Y", 1, ""),
  ("sin(Y*Y')", "Y", 1, ""),
  ("tanh(A*Y)", "Y", 1, ""),
  ("tanh(A*Y*v)", "Y", 1, ""),
  ("sin(A*X*x)", "X", 1, "∂f_i/∂X_kl = (cos(A X x))_i A_ik x_l"),
  ("diag(Y)", "Y", 1, ""),
  ("diag(Y*Y)", "Y", 1, ""),
  ("diag(S)", "S", 1, ""),
  ("diag(W*v)*A", "v", 1, ""),
  ("((W*Y) .* W)*Y", "Y", 1, ""),
  ("(Y .* Y')*(Y .* S)", "Y", 1, ""),
  // Sums no matrix product absorbs stay summed in index form (Σ_s), and in the einsum.
  ("((Y*Y) .* Y)*Y", "Y", 1, ""),
  ("((W*Y*Y) .* W)*Y", "Y", 1, ""),
  ("sum(((A*X*B) .* (A*X*B))*B')", "X", 2, ""),
  // Second derivatives of vectors: the Jacobian's derivative.
  ("W*v", "v", 2, "∂f_ij/∂v_k = 0"),
  ("tanh(W*v)", "v", 2, ""),
  ("v*(v'*v)", "v", 2, ""),
  // Five and six indices: a three- or four-index first derivative differentiated again.
  ("tanh(W*v)", "W", 2, "∂f_ikl/∂W_pq = −2 (tanh(W v))_p (1 − tanh(W v)^⊙2)_p δ_pi v_q δ_ki v_l"),
  ("W*v", "W", 2, "∂f_ikl/∂W_pq = 0"),
  ("Y*Y", "Y", 2, "∂f_ijkl/∂Y_pq = δ_ki δ_pl δ_qj + δ_pi δ_kq δ_lj"),
  ("exp(Y*Y)", "Y", 2, ""),
  ("tanh(A*X)", "X", 2, ""),
  ("inv(Y)", "Y", 2, ""),
  ("v*v'", "v", 2, ""),
  ("Y*v*v'", "v", 2, ""),
]

@Test(.needs(.numpy), arguments: tensorCases.indices)
func tensorDerivativeIsCheckedAndItsEinsumAgrees(_ index: Int) throws {
  let (expression, wrt, order, expected) = tensorCases[index]
  let derivation = try deriveUnchecked(
    expression, wrt: wrt, where: tensorDeclarations, order: order)
  let tensor = try #require(derivation.tensor)
  let certificate = try derivation.check(points: 3)
  #expect(certificate.passed, "\(certificate) \(certificate.worstEntry)")
  if !expected.isEmpty {
    #expect(tensor.render(MathRenderer(.text), function: "f", variable: wrt) == expected)
  }
  try expectEinsumAgrees(derivation, tensor, sizes: certificate.sizes)
}

/// Definitions fold back into a result with three indices (K⁻¹, not (A Aᵀ + s I)⁻¹ in every
/// factor), and a leading run of a chain that the derivative does not reach stays one entry,
/// as the left-nested product it prints as ((A B)_ik): each checked on numbers, its NumPy
/// einsum (which binds the definitions itself) run by Python.
@Test(
  .needs(.numpy),
  arguments: [
    (
      "inv(K)*y", "A", "A : matrix(n, k); y : vector(n); s : scalar; K = A*A' + s*I(n)",
      "∂f_i/∂A_kl = −(K⁻¹)_ik (Aᵀ K⁻¹ y)_l − (K⁻¹ y)_k (K⁻¹ A)_il"
    ),
    (
      "A*B*X", "X", "A : matrix(m, n); B : matrix(n, p); X : matrix(p, q)",
      "∂f_ij/∂X_kl = (A B)_ik δ_lj"
    ),
    (
      "W*A*X*x", "X", "W : matrix(m, n); A : matrix(n, p); X : matrix(p, q); x : vector(q)",
      "∂f_i/∂X_kl = (W A)_ik x_l"
    ),
  ])
func tensorKeepsNamesAndLeadingRuns(
  _ expression: String, wrt: String, statements: String, expected: String
) throws {
  let derivation = try deriveUnchecked(expression, wrt: wrt, where: statements)
  let tensor = try #require(derivation.tensor)
  let certificate = try derivation.check(points: 3)
  #expect(certificate.passed, "\(certificate) \(certificate.worstEntry)")
  #expect(tensor.render(MathRenderer(.text), function: "f", variable: wrt) == expected)
  try expectEinsumAgrees(derivation, tensor, sizes: certificate.sizes)
}

/// The `--format numpy` line of a derivation with three or more indices against its tensor's
/// values at `sizes`, flattened as (F, X).
private func expectEinsumAgrees(
  _ derivation: Derivation, _ tensor: TensorDerivative, sizes: [String: Int]
) throws {
  let line = try derivation.render(.numpy)
  let problem = derivation.problem
  let requirements = Sampler.requirements(
    of: [derivation.objective], definitions: problem.definitions)
  var generator = SplitMix64(seed: 23)
  let values = try Sampler.draw(
    inputsOf: problem, requirements: requirements, sizes: sizes, generator: &generator)
  var evaluator = Evaluator(sizes: sizes, values: values)
  try evaluator.bind(problem.definitions)
  let expectedValues = try tensor.jacobian(&evaluator)
  let numbers = try PythonRunner.evaluate(line, problem: problem, values: values)
  #expect(numbers.count == expectedValues.count, "\(line)")
  let gap = zip(numbers, expectedValues.storage).map { abs($0 - $1) }.max() ?? .infinity
  #expect(gap <= 1e-9 * max(1, expectedValues.maxAbs), "\(line)")
}

@Test(arguments: [
  ("A*X*B", "X", ["df = A dX B", "d vec f = (Bᵀ ⊗ A) d vec X   (vec stacks columns)"]),
  ("inv(Y)", "Y", ["df = −Y⁻¹ dY Y⁻¹", "d vec f = −(Y⁻ᵀ ⊗ Y⁻¹) d vec Y   (vec stacks columns)"]),
  (
    "Y*Y", "Y",
    ["df = dY Y + Y dY", "d vec f = ((Yᵀ ⊗ I) + (I ⊗ Y)) d vec Y   (vec stacks columns)"]
  ),
  ("X'", "X", ["df = dXᵀ"]),
  ("tr(Y)*Y", "Y", ["df = Y tr(dY) + tr(Y) dY"]),
  ("X .* X", "X", ["df = 2 (X ⊙ dX)"]),
  // Signs go between the terms, also in the Kronecker form.
  (
    "Y*Y - Y", "Y",
    [
      "df = dY Y + Y dY − dY",
      "d vec f = ((Yᵀ ⊗ I) + (I ⊗ Y) − (I ⊗ I)) d vec Y   (vec stacks columns)",
    ]
  ),
])
func differentialFormReadsLikeTheCookbook(_ expression: String, wrt: String, lines: [String])
  throws
{
  let derivation = try deriveUnchecked(expression, wrt: wrt, where: tensorDeclarations)
  let tensor = try #require(derivation.tensor)
  let form = try tensor.differentialForm(MathRenderer(.text), function: "f", variable: wrt)
  #expect(form == lines)
}

/// d vec(A X B) = (Bᵀ ⊗ A) d vec X, on numbers: the Kronecker product equals the derived
/// (and checked) Jacobian in column-major vec order.
@Test func kroneckerFormAgreesWithTheTensorOnNumbers() throws {
  let derivation = try deriveUnchecked("A*X*B", wrt: "X", where: tensorDeclarations)
  let tensor = try #require(derivation.tensor)
  let sizes = Sampler.sizes(for: derivation.problem.inputs.map(\.expr.shape))
  var generator = SplitMix64(seed: 5)
  let values = try Sampler.draw(
    inputsOf: derivation.problem, requirements: [:], sizes: sizes, generator: &generator)
  var evaluator = Evaluator(sizes: sizes, values: values)
  let rowMajor = try tensor.jacobian(&evaluator)
  let a = try #require(values["A"])
  let b = try #require(values["B"])
  let (fRows, fCols, xRows, xCols) = (a.rows, b.cols, a.cols, b.rows)
  for i in 0..<fRows {
    for j in 0..<fCols {
      for k in 0..<xRows {
        for l in 0..<xCols {
          // (Bᵀ ⊗ A)[(j, i), (l, k)] = B_lj A_ik, rows and columns in column-major vec order.
          let kronecker = b[l, j] * a[i, k]
          let derived = rowMajor[i * fCols + j, k * xCols + l]
          #expect(abs(kronecker - derived) <= 1e-12 * max(1, abs(derived)))
        }
      }
    }
  }
}

let factoredDeclarations =
  "X : matrix(n, m); A : matrix(m, m); C : matrix(n, n); T : matrix(n, q); U : matrix(n, p); "
  + "V : matrix(q, p); lambda : scalar; Y : matrix(n, n)"

/// The differential form is printed factored (dX shared by several terms comes out once), and
/// the form as printed, read back as a tensor, equals the derived tensor on numbers.
@Test(arguments: [
  (
    "tr(X*A*X')", "X", 2,
    ["d∇f = dX (A + Aᵀ)", "d vec ∇f = ((A + Aᵀ) ⊗ I) d vec X   (vec stacks columns)"]
  ),
  (
    "tr(X'*C*X)", "X", 2,
    ["d∇f = (C + Cᵀ) dX", "d vec ∇f = (I ⊗ (C + Cᵀ)) d vec X   (vec stacks columns)"]
  ),
  (
    "norm2(T - U*V')^2 + lambda*norm2(U)^2", "U", 2,
    ["d∇f = 2 dU (Vᵀ V + λ I)", "d vec ∇f = 2 ((Vᵀ V + λ I) ⊗ I) d vec U   (vec stacks columns)"]
  ),
  (
    "Y*Y - Y", "Y", 1,
    [
      "df = dY Y + Y dY − dY",
      "d vec f = ((Yᵀ ⊗ I) + (I ⊗ Y) − (I ⊗ I)) d vec Y   (vec stacks columns)",
    ]
  ),
  (
    "X*A - 3*X", "X", 1,
    ["df = dX (A − 3 I)", "d vec f = ((Aᵀ − 3 I) ⊗ I) d vec X   (vec stacks columns)"]
  ),
])
func differentialFormIsFactoredAndChecked(
  _ expression: String, wrt: String, order: Int, lines: [String]
) throws {
  let derivation = try derivedAndChecked(
    expression, wrt: wrt, where: factoredDeclarations, order: order)
  let tensor = try #require(derivation.tensor)
  let printed = try #require(try tensor.differentialTensor())
  for seed in UInt64(1)...2 {
    let (sizes, values) = try sampledInputs(derivation, seed: seed)
    var evaluator = Evaluator(sizes: sizes, values: values)
    let expected = try tensor.jacobian(&evaluator)
    let actual = try printed.jacobian(&evaluator)
    let gap = expected.zip(actual, -)?.maxAbs ?? .infinity
    #expect(gap <= 1e-12 * max(1, expected.maxAbs))
  }
  let text = try derivation.render(.text).split(separator: "\n").map(String.init)
  #expect(
    Array(text.dropFirst(2).prefix(2)).map { $0.trimmingCharacters(in: .whitespaces) } == lines)
}
