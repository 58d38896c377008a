import TensorKernel
import Testing

@testable import MatrixCalculus

/// The entry-by-entry derivation of the seeds reads as done by hand: the adjoint of each
/// definition by the chain rule through its users, each user entry by entry, the elementary
/// derivative with deltas, their contraction, the matrix form.
@Test func linearLayerStepsReadAsByHand() throws {
  let derivation = try deriveUnchecked(
    "l", wrt: "W", where: "L : function; W : matrix(m, n); X : matrix(n, p); D = W*X; l = L(D)")
  let steps = try derivation.renderSteps()
  for line in [
    "the adjoint of D, ∂l/∂D:",
    "  ∂l/∂D_uv = (∇_D L)_uv",
    "the gradient ∂l/∂W:",
    "  ∂l/∂W_uv = Σ_ij (∇_D L)_ij ∂D_ij/∂W_uv",
    "  D_ij = Σ_s W_is X_sj",
    "  ∂l/∂W_uv = Σ_ijs (∇_D L)_ij δ_ui δ_vs X_sj",
    "  ∂l/∂W_uv = Σ_j (∇_D L)_uj X_vj",
    "  ∂l/∂W_uv = ((∇_D L) Xᵀ)_uv",
  ] {
    #expect(steps.contains(line + "\n") || steps.hasSuffix(line), "missing: \(line)\n\(steps)")
  }
}

@Test func leastSquaresStepsEndInTheMatrixForms() throws {
  let derivation = try deriveUnchecked(
    "l", wrt: "W",
    where: "X : matrix(b, d); W : matrix(d, h); v : vector(h); y : vector(b); H = X*W; "
      + "yhat = H*v; l = 1/2*(yhat - y)'*(yhat - y)")
  let steps = try derivation.renderSteps()
  for line in [
    "the adjoint of ŷ, δŷ = ∂l/∂ŷ:", "  δŷ = ŷ − y", "the adjoint of H, δH = ∂l/∂H:",
    "  ∂l/∂H_pq = Σ_i δŷ_i ∂ŷ_i/∂H_pq", "  ŷ_i = Σ_s H_is v_s", "  ∂l/∂H_pq = δŷ_p v_q",
    "  ∂l/∂H_pq = (δŷ vᵀ)_pq", "  δH = δŷ vᵀ", "  ∂l/∂W_pq = Σ_i δH_iq X_ip",
    "  ∂l/∂W_pq = (Xᵀ δH)_pq",
  ] {
    #expect(steps.contains(line + "\n") || steps.hasSuffix(line), "missing: \(line)\n\(steps)")
  }
}

/// An index definition is explained in the indices the user wrote, and the derivative's own
/// indices keep clear of them.
@Test func indexInputStepsUseTheUsersIndices() throws {
  let derivation = try deriveUnchecked(
    "l", wrt: "W",
    where: "W : matrix(m, n); X : matrix(n, p); D[i,j] = sum(k, W[i,k]*X[k,j]); l = sum(D .* D)")
  let steps = try derivation.renderSteps()
  for line in [
    "  D_ij = Σ_k W_ik X_kj", "  ∂l/∂W_uv = Σ_ij δD_ij ∂D_ij/∂W_uv",
    "step 8: differentiated (∂W_ab/∂W_uv = δ_ua δ_vb)",
    "  ∂l/∂W_uv = Σ_j δD_uj X_vj", "  ∂l/∂W_uv = (δD Xᵀ)_uv",
  ] {
    #expect(steps.contains(line + "\n") || steps.hasSuffix(line), "missing: \(line)\n\(steps)")
  }
}

/// A backward pass in index form is a chain of equalities on numbers: for every definition
/// and the variable, each user entry by entry is the user, and the derivative as the
/// product rule gives it, with the deltas contracted, as matrix products and in the matrix
/// form named (δD, or the gradient) agree; the adjoints substituted give the printed result.
@Test(arguments: [
  (
    "l", "W",
    "X : matrix(b, d); W : matrix(d, h); v : vector(h); y : vector(b); H = X*W; yhat = H*v; "
      + "l = 1/2*(yhat - y)'*(yhat - y)"
  ),
  (
    "l", "w",
    "X : matrix(m, n); w : vector(n); y : vector(m); p = sigmoid(X*w); "
      + "l = -sum(y .* log(p) + (1 - y) .* log(1 - p))"
  ),
  ("sum(D.*D)", "x", "x : vector(n); D[i,j] = x[i] - x[j]"),
  ("l", "W", "W : matrix(m, n); X : matrix(n, p); D[i,j] = sum(k, W[i,k]*X[k,j]); l = sum(D .* D)"),
  (
    "l", "W1",
    "X : matrix(d, b); W1 : matrix(h, d); W2 : matrix(g, h); W3 : matrix(c, g); "
      + "Y : matrix(c, b); Z1 = W1*X; A1 = tanh(Z1); Z2 = W2*A1; A2 = sigmoid(Z2); "
      + "Z3 = W3*A2; l = 1/2*norm2(Z3 - Y)^2"
  ),
  (
    "l", "W",
    "W : matrix(c, d); x : vector(d); y : simplex(c); s = softmax(W*x); l = -y'*log(s)"
  ),
  ("l", "X", "X : matrix(n, n); a : vector(n); b : vector(n); M = inv(X); l = a'*M*b"),
])
func backwardStepsAreEqualities(_ expression: String, wrt: String, statements: String) throws {
  try checkBackwardSteps(try deriveUnchecked(expression, wrt: wrt, where: statements))
}

/// The same for every gradient through definitions among the document problems (opaque
/// functions evaluated as the checker's test functions).
@Test(arguments: documentProblems.indices)
func documentBackwardStepsAreEqualities(_ index: Int) throws {
  let (expression, wrt, statements, order) = documentProblems[index]
  let derivation = try deriveUnchecked(expression, wrt: wrt, where: statements, order: order)
  guard order == 1, derivation.objective.isScalar, !derivation.problem.definitions.isEmpty
  else { return }
  try checkBackwardSteps(derivation)
}

private func checkBackwardSteps(_ derivation: Derivation) throws {
  let (sizes, values) = try sampledInputs(derivation, seed: 11)
  try checkBackwardSteps(
    try #require(try derivation.backwardSteps()), problem: derivation.problem,
    intermediates: derivation.intermediates,
    gradients: [derivation.variableName: derivation.result],
    sizes: sizes, values: values)
}

/// Several variables share one backward pass; its steps end in each printed gradient.
@Test func severalVariablesShareTheBackwardSteps() throws {
  let statements =
    "X : matrix(d, b); W1 : matrix(h, d); W2 : matrix(c, h); Y : matrix(c, b); Z1 = W1*X; "
    + "A1 = tanh(Z1); Z2 = W2*A1; l = 1/2*norm2(Z2 - Y)^2"
  let backpropagation = try deriveUnchecked("l", wrt: ["W1", "W2"], where: statements)
  let single = try deriveUnchecked("l", wrt: "W1", where: statements)
  let (sizes, values) = try sampledInputs(single, seed: 5)
  let steps = try IndexSteps.backward(
    problem: backpropagation.problem, objective: backpropagation.objective, objectiveName: "l",
    variables: backpropagation.variables, results: backpropagation.gradients,
    intermediates: backpropagation.intermediates)
  // δZ₂, δA₁, δZ₁ once each, then the two gradients.
  #expect(steps.map(\.variableName) == ["Z2", "A1", "Z1", "W1", "W2"])
  try checkBackwardSteps(
    steps, problem: backpropagation.problem, intermediates: backpropagation.intermediates,
    gradients: Dictionary(
      uniqueKeysWithValues: zip(backpropagation.variables.map(\.name), backpropagation.gradients)),
    sizes: sizes, values: values)
  let text = try backpropagation.renderSteps()
  #expect(text.contains("the gradient ∂l/∂W₁:") && text.contains("the gradient ∂l/∂W₂:"))
}

private func checkBackwardSteps(
  _ all: [IndexSteps], problem: Problem, intermediates: [Derivation.Intermediate],
  gradients: [String: Expr], sizes: [String: Int], values: [String: Tensor]
) throws {
  #expect(!all.isEmpty)
  var evaluator = Evaluator(sizes: sizes, values: values)
  try evaluator.bind(problem.definitions + intermediates.asDefinitions)
  func agree(_ a: [Double], _ b: [Double], _ what: String) {
    #expect(a.count == b.count, "\(what)")
    let scale = max(1, b.map(abs).max() ?? 0)
    #expect(zip(a, b).allSatisfy { abs($0 - $1) <= 1e-9 * scale }, "\(what): \(a) vs \(b)")
  }
  for steps in all {
    let target = try #require(problem.expr(named: steps.variableName))
    var extents: [String: Int] = [:]
    if let k = steps.free[2] { extents[k] = try evaluator.size(target.shape.rows) }
    if let l = steps.free[3] { extents[l] = try evaluator.size(target.shape.cols) }
    for use in steps.uses {
      let indices = use.indices.compactMap { $0 }
      var ranges = extents
      for (name, dim) in zip(use.indices, [use.expr.shape.rows, use.expr.shape.cols]) {
        if let name { ranges[name] = try evaluator.size(dim) }
      }
      let entry = try use.entry.evaluated(free: indices, sizes: ranges, &evaluator)
      agree(entry.data, try evaluator.evaluate(use.expr).storage, "\(steps.variableName) entry")
    }
    let free = steps.free.compactMap { $0 }
    let raw = try steps.derivative.evaluated(free: free, sizes: extents, &evaluator).data
    let name = steps.variableName
    agree(
      try steps.deltasContracted.evaluated(free: free, sizes: extents, &evaluator).data, raw, name)
    agree(try steps.contracted.evaluated(free: free, sizes: extents, &evaluator).data, raw, name)
    if let sum = try steps.summed() { agree(try evaluator.evaluate(sum).storage, raw, name) }
    let matrix = try #require(steps.matrix)
    agree(try evaluator.evaluate(matrix).storage, raw, "\(name) in matrix form")
    if let (substituted, printed) = steps.substituted {
      agree(try evaluator.evaluate(substituted).storage, raw, "\(name) substituted")
      agree(try evaluator.evaluate(printed).storage, raw, "\(name) printed")
    }
  }
  // Each variable's steps end in its printed gradient.
  for (name, gradient) in gradients {
    let steps = try #require(all.last { $0.variableName == name })
    let printed = try evaluator.evaluate(gradient).storage
    agree(try evaluator.evaluate(try #require(steps.matrix)).storage, printed, "∂/∂\(name)")
  }
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
  let derivation = try deriveUnchecked(expression, wrt: wrt, where: statements)
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
  // The chain rule's use of the derivative: contracted with a random upstream gradient G,
  // Σ_ij G_ij ∂F_ij/∂X_kl as printed (deltas contracted, and in matrix form) equals the sum
  // of the derivative's entries weighted by G.
  if let (upstream, terms, matrix) = steps.collapse {
    var generator = SplitMix64(seed: 29)
    var g = Tensor(
      rows: try evaluator.size(upstream.shape.rows), cols: try evaluator.size(upstream.shape.cols))
    for index in g.storage.indices { g.storage[index] = generator.symmetricUnit() }
    var withG = values
    withG[upstream.description] = g
    var weighted = Evaluator(sizes: sizes, values: withG)
    let outer = Array(all.suffix(all.count - functionIndices.count))
    var expected = [Double](repeating: 0, count: raw.data.count / max(1, g.storage.count))
    // raw is laid out over (function indices, variable indices), row-major.
    for (position, value) in raw.data.enumerated() {
      let f = position / expected.count
      expected[position % expected.count] += g.storage[f] * value
    }
    let stated = try terms.evaluated(free: outer, sizes: extents, &weighted).data
    #expect(zip(stated, expected).allSatisfy { abs($0 - $1) <= 1e-10 * max(1, abs($1)) })
    if let matrix {
      let value = try weighted.evaluate(matrix).storage
      #expect(zip(value, expected).allSatisfy { abs($0 - $1) <= 1e-10 * max(1, abs($1)) })
    }
  }
  let text = try derivation.renderSteps()
  #expect(text.hasPrefix("step 1: entry by entry") || text.hasPrefix("step 1: the function"))
  #expect(text.contains("the deltas contracted"))
}

@Test func matrixProductStepsReadAsByHand() throws {
  let derivation = try deriveUnchecked(
    "A*X*B", wrt: "X", where: "A : matrix(m, n); X : matrix(n, p); B : matrix(p, q)")
  #expect(
    try derivation.renderSteps() == """
      step 1: entry by entry
        f_ij = Σ_st A_is X_st B_tj
      step 2: differentiated (∂X_ab/∂X_kl = δ_ka δ_lb)
        ∂f_ij/∂X_kl = Σ_st A_is δ_ks δ_lt B_tj
      step 3: the deltas contracted
        ∂f_ij/∂X_kl = A_ik B_lj
      step 4: contracted with an upstream gradient G = ∂L/∂f, as the chain rule uses it
        Σ_ij G_ij ∂f_ij/∂X_kl = Σ_ij G_ij A_ik B_lj = (Aᵀ G Bᵀ)_kl
      """)
}

/// A Hessian in matrix form is explained as two derivatives in index form: the gradient,
/// then the gradient's Jacobian; the second's steps add up to the printed Hessian.
@Test func hessianStepsAreTwoDerivatives() throws {
  let derivation = try deriveUnchecked("logsumexp(x)", wrt: "x", where: "x : vector(n)", order: 2)
  let text = try derivation.renderSteps()
  #expect(text.contains("the first derivative:\nstep 1: the function\n  f = logsumexp(x)"))
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

/// The seed question "why is ∂L/∂W = δ uᵀ rank one?": the steps say so where the contraction
/// shows it, and the printed gradient is of rank one on numbers (every 2×2 minor vanishes);
/// over a batch, they say it is a sum of rank-one terms, one per example.
@Test func stepsSayWhenAGradientIsRankOne() throws {
  let single = try deriveUnchecked(
    "sum(tanh(W*x))", wrt: "W", where: "W : matrix(m, n); x : vector(n)")
  #expect(try single.renderSteps().contains("; an outer product, of rank one\n"))
  let (sizes, values) = try sampledInputs(single, seed: 3)
  var evaluator = Evaluator(sizes: sizes, values: values)
  let g = try evaluator.evaluate(single.result)
  #expect(g.rows > 1 && g.cols > 1)
  for r in 1..<g.rows {
    for c in 1..<g.cols {
      let minor = g[0, 0] * g[r, c] - g[0, c] * g[r, 0]
      #expect(abs(minor) <= 1e-12 * max(1, g.maxAbs * g.maxAbs))
    }
  }
  let batch = try deriveUnchecked(
    "l", wrt: "W1",
    where: "X : matrix(d, b); W1 : matrix(h, d); Y : matrix(h, b); Z1 = W1*X; "
      + "l = 1/2*norm2(tanh(Z1) - Y)^2")
  let steps = try batch.renderSteps()
  #expect(steps.contains("; a sum over j of rank-one outer products, one for each j\n"))
  #expect(steps.contains("  ∂l/∂W₁_pq = Σ_j δZ₁_pj X_qj\n"))
}
