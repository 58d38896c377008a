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
