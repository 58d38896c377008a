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

/// Jacobians and three- or four-index results are explained in index form, as the index
/// path computes them: entry by entry, the rule used, the product rule with its deltas, the
/// contraction. Each step is an equality on numbers.
@Test(arguments: [
  ("A*X*B", "X", "A : matrix(m, n); X : matrix(n, p); B : matrix(p, q)"),
  ("tanh(W*x)", "W", "W : matrix(m, n); x : vector(n)"),
  ("tanh(W*x)", "x", "W : matrix(m, n); x : vector(n)"),
  ("Y'*inv(Y)", "Y", "Y : matrix(n, n)"),
  ("softmax(W*x)", "x", "W : matrix(m, n); x : vector(n)"),
  // Gradients of scalars without definitions: the contributions, then their sum.
  ("x'*A*x", "x", "A : matrix(n, n); x : vector(n)"),
  ("logdet(X)", "X", "X : matrix(n, n)"),
  ("tr(A*X*B)", "X", "A : matrix(p, m); X : matrix(m, n); B : matrix(n, p)"),
  ("norm2(A*x - b)^2", "x", "A : matrix(m, n); x : vector(n); b : vector(m)"),
])
func indexStepsAreEqualities(_ expression: String, wrt: String, statements: String) throws {
  let derivation = try derive(expression, wrt: wrt, where: statements)
  let steps = try #require(try derivation.indexSteps())
  let (sizes, values) = try sampledInputs(derivation, seed: 7)
  var evaluator = Evaluator(sizes: sizes, values: values)
  var extents: [String: Int] = [:]
  let shapes = [
    derivation.objective.shape.rows, derivation.objective.shape.cols,
    derivation.variable.shape.rows, derivation.variable.shape.cols,
  ]
  for (name, dim) in zip(steps.free, shapes) {
    if let name { extents[name] = try evaluator.size(dim) }
  }
  let functionIndices = Array(steps.free.prefix(2)).compactMap { $0 }
  let all = steps.free.compactMap { $0 }
  // Step 1: the lowered form is F.
  let lowered = try steps.function.evaluated(free: functionIndices, sizes: extents, &evaluator)
  let f = try evaluator.evaluate(derivation.objective)
  #expect(zip(lowered.data, f.storage).allSatisfy { abs($0 - $1) <= 1e-12 * max(1, abs($1)) })
  // The product rule and the contraction give the same derivative, the one printed.
  let raw = try steps.derivative.evaluated(free: all, sizes: extents, &evaluator)
  let contracted = try steps.contracted.evaluated(free: all, sizes: extents, &evaluator)
  #expect(zip(raw.data, contracted.data).allSatisfy { abs($0 - $1) <= 1e-10 * max(1, abs($1)) })
  let deltas = try steps.deltasContracted.evaluated(free: all, sizes: extents, &evaluator)
  #expect(zip(raw.data, deltas.data).allSatisfy { abs($0 - $1) <= 1e-10 * max(1, abs($1)) })
  if let terms = steps.terms {
    // The contributions as matrix expressions add up to the derivative (entry (i, k)).
    var sum = [Double](repeating: 0, count: raw.data.count)
    for (coefficient, matrix) in terms {
      let value = try evaluator.evaluate(matrix).storage
      #expect(value.count == sum.count)
      for index in sum.indices where index < value.count {
        sum[index] += coefficient * value[index]
      }
    }
    #expect(zip(raw.data, sum).allSatisfy { abs($0 - $1) <= 1e-10 * max(1, abs($1)) })
  }
  let printed: [Double]
  if let tensor = derivation.tensor {
    printed = try tensor.jacobian(&evaluator).storage
  } else {
    printed = try evaluator.evaluate(derivation.result).storage
  }
  #expect(raw.data.count == printed.count)
  #expect(zip(raw.data, printed).allSatisfy { abs($0 - $1) <= 1e-10 * max(1, abs($1)) })
  let text = try derivation.renderSteps()
  #expect(text.contains("step 1: entry by entry"))
  #expect(text.contains("the deltas contracted"))
}

@Test func matrixProductStepsReadAsByHand() throws {
  let derivation = try derive(
    "A*X*B", wrt: "X", where: "A : matrix(m, n); X : matrix(n, p); B : matrix(p, q)")
  #expect(
    try derivation.renderSteps() == """
      step 1: entry by entry
        f_ij = Σ_st A_is X_st B_tj
      step 2: each factor differentiated (product rule; ∂X_ab/∂X_kl = δ_ka δ_lb)
        ∂f_ij/∂X_kl = Σ_st A_is δ_ks δ_lt B_tj
      step 3: the deltas contracted
        ∂f_ij/∂X_kl = A_ik B_lj
      """)
}

/// A Hessian in matrix form is explained as two derivatives in index form: the gradient,
/// then the gradient's Jacobian; the second's steps add up to the printed Hessian.
@Test func hessianStepsAreTwoDerivatives() throws {
  let derivation = try derive("logsumexp(x)", wrt: "x", where: "x : vector(n)", order: 2)
  let text = try derivation.renderSteps()
  #expect(text.contains("the first derivative:\nstep 1: entry by entry\n  f = logsumexp(x)"))
  #expect(text.contains("its derivative:\nstep 1: entry by entry\n  (∇f)_i = (softmax(x))_i"))
  let first = try #require(derivation.firstOrder)
  let second = try #require(
    try derivation.indexSteps(of: first, named: "∇f", matrix: derivation.result))
  let (sizes, values) = try sampledInputs(derivation, seed: 3)
  var evaluator = Evaluator(sizes: sizes, values: values)
  let n = try evaluator.size(derivation.variable.shape.rows)
  let contracted = try second.contracted.evaluated(
    free: ["i", "k"], sizes: ["i": n, "k": n], &evaluator)
  let hessian = try evaluator.evaluate(derivation.result)
  #expect(zip(contracted.data, hessian.storage).allSatisfy { abs($0 - $1) <= 1e-10 })
}
