import TensorKernel
import Testing

@testable import MatrixCalculus

/// The entry-by-entry derivation of the seeds reads as done by hand: index form, chain rule
/// per entry, elementary derivative with deltas, contraction, matrix form.
@Test func linearLayerStepsReadAsByHand() throws {
  let derivation = try derive(
    "l", wrt: "W", where: "L : function; W : matrix(m, n); X : matrix(n, p); D = W*X; l = L(D)")
  let steps = try derivation.renderSteps()
  for line in [
    "  D_ij = Σ_k W_ik X_kj",
    "  ∂l/∂W_ab = Σ_ij (∇_D L)_ij ∂D_ij/∂W_ab",
    "  ∂D_ij/∂W_ab = δ_ia X_bj",
    "  ∂l/∂W_ab = Σ_j (∇_D L)_aj X_bj = ((∇_D L) Xᵀ)_ab",
  ] {
    #expect(steps.contains(line + "\n") || steps.hasSuffix(line), "missing: \(line)\n\(steps)")
  }
}

@Test func leastSquaresStepsEndInTheMatrixForms() throws {
  let derivation = try derive(
    "l", wrt: "W",
    where: "X : matrix(b, d); W : matrix(d, h); v : vector(h); y : vector(b); H = X*W; "
      + "yhat = H*v; l = 1/2*(yhat - y)'*(yhat - y)")
  let steps = try derivation.renderSteps()
  #expect(steps.contains("  ∂ŷ_i/∂H_ab = δ_ia v_b\n"))
  #expect(steps.contains("  ∂l/∂H_ab = δŷ_a v_b = (δŷ vᵀ)_ab\n"))
  #expect(steps.contains("  ∂H_ij/∂W_ab = X_ia δ_jb\n"))
  #expect(steps.contains("  ∂l/∂W_ab = Σ_i X_ia δH_ib = (Xᵀ δH)_ab\n"))
}

/// Every step's matrix form is the contribution the engine used, so the steps add up to the
/// checked result: each contribution, evaluated, is what the step prints.
@Test func stepsCoverEveryPropagationIntoTheVariable() throws {
  let derivation = try derive("tr(A*X*B)", wrt: "X", where: cookbookDeclarations)
  let intoX = derivation.propagations.filter { $0.operand == derivation.variable }
  #expect(!intoX.isEmpty)
  var simplifier = Simplifier(rules: .embedded)
  let total = try simplifier.simplified(try Expr.add(intoX.map(\.contribution)))
  #expect(total == derivation.result || MathRenderer(.text).render(total) == "Aᵀ Bᵀ")
}

/// Each printed step is numerically true: the index sum a step states (Σ_j G_aj B_bj, G_ba,
/// G_ab B_ab, g δ_ab, …) evaluated by loops equals the matrix form it names.
@Test(arguments: documentProblems.indices)
func everyEntryStepIsNumericallyTrue(_ index: Int) throws {
  let (expression, wrt, statements, order) = documentProblems[index]
  guard order == 1 else { return }
  let derivation = try derive(expression, wrt: wrt, where: statements)
  let problem = derivation.problem
  let (sizes, values) = try sampledInputs(derivation, seed: UInt64(index) + 17)
  var evaluator = Evaluator(sizes: sizes, values: values)
  try evaluator.bind(problem.definitions + derivation.intermediates.asDefinitions)
  var checked = 0
  for step in derivation.propagations where !step.operand.isScalar {
    let g = try evaluator.evaluate(step.adjoint)
    let stated = try evaluator.evaluate(step.contribution)
    var byLoops = Tensor(rows: stated.rows, cols: stated.cols)
    switch step.node.node {
    case .product(let x, let y) where !x.isScalar && !y.isScalar:
      let a = try evaluator.evaluate(x)
      let b = try evaluator.evaluate(y)
      for r in 0..<byLoops.rows {
        for s in 0..<byLoops.cols {
          if step.operand == x {  // Σ_j G_rj B_sj
            for j in 0..<g.cols { byLoops[r, s] += g[r, j] * b[s, j] }
          } else {  // Σ_i A_ir G_is
            for i in 0..<g.rows { byLoops[r, s] += a[i, r] * g[i, s] }
          }
        }
      }
    case .transpose:  // G_sr
      for r in 0..<byLoops.rows { for s in 0..<byLoops.cols { byLoops[r, s] = g[s, r] } }
    case .hadamard(let x, let y):  // G_rs B_rs
      let other = try evaluator.evaluate(step.operand == x ? y : x)
      for r in 0..<byLoops.rows {
        for s in 0..<byLoops.cols { byLoops[r, s] = g[r, s] * other[r, s] }
      }
    case .call(.trace, _):  // g δ_rs
      for r in 0..<min(byLoops.rows, byLoops.cols) { byLoops[r, r] = g.scalar }
    default:
      continue
    }
    let gap = stated.zip(byLoops, -)?.maxAbs ?? .infinity
    #expect(gap <= 1e-10 * max(1, stated.maxAbs), "\(step.node) into \(step.operand)")
    checked += 1
  }
  if expression == "l" { #expect(checked > 0) }
}
