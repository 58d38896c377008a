import Testing

@testable import MatrixCalculus

/// The five seed derivations of the core-engine issue, judged by numbers, then by text.
struct SeedTests {
  let linear = "L : function; W : matrix(m, n); X : matrix(n, p); D = W*X; l = L(D)"
  let indexLinear =
    "L : function; W : matrix(m, n); X : matrix(n, p); D[i,j] = sum(k, W[i,k]*X[k,j]); l = L(D)"

  @Test func linearLayerWeights() throws {
    for statements in [linear, indexLinear] {
      let d = try derivedAndChecked("l", wrt: "W", where: statements)
      #expect(MathRenderer(.text).render(d.result) == "(∇_D L) Xᵀ")
    }
  }

  @Test func linearLayerInputs() throws {
    for statements in [linear, indexLinear] {
      let d = try derivedAndChecked("l", wrt: "X", where: statements)
      #expect(MathRenderer(.text).render(d.result) == "Wᵀ (∇_D L)")
    }
  }

  @Test func leastSquaresThroughTwoDefinitions() throws {
    let d = try derivedAndChecked(
      "l", wrt: "W",
      where: "X : matrix(b, d); W : matrix(d, h); v : vector(h); y : vector(b); H = X*W; "
        + "yhat = H*v; l = 1/2*(yhat - y)'*(yhat - y)")
    #expect(MathRenderer(.text).render(d.result) == "Xᵀ (ŷ − y) vᵀ")
  }

  @Test(arguments: [
    ("tanh", "((∇_y L) ⊙ (1 − y^⊙2)) xᵀ", "(∇_y L) ⊙ (1 − y^⊙2)"),
    ("f", "((∇_y L) ⊙ f′(z)) xᵀ", "(∇_y L) ⊙ f′(z)"),
  ])
  func denseLayer(_ activation: String, weights: String, bias: String) throws {
    let statements =
      "L : function; f : elementwise; W : matrix(h, d); x : vector(d); b : vector(h); "
      + "z = W*x + b; y = \(activation)(z); l = L(y)"
    let dw = try derivedAndChecked("l", wrt: "W", where: statements)
    #expect(MathRenderer(.text).render(dw.result) == weights)
    let db = try derivedAndChecked("l", wrt: "b", where: statements)
    #expect(MathRenderer(.text).render(db.result) == bias)
  }

  @Test func transposedWeights() throws {
    let d = try derivedAndChecked(
      "l", wrt: "W", where: "L : function; W : matrix(a, m); A : matrix(a, n); Z = W'*A; l = L(Z)")
    #expect(MathRenderer(.text).render(d.result) == "A (∇_Z L)ᵀ")
  }

  static let mlp =
    "L : function; X : matrix(d, b); W1 : matrix(h1, d); W2 : matrix(h2, h1); "
    + "W3 : matrix(o, h2); H1 = tanh(W1*X); H2 = tanh(W2*H1); Y = W3*H2; l = L(Y)"

  @Test(arguments: [
    ("W3", "(∇_Y L) H₂ᵀ"),
    ("W2", "(δH₂ ⊙ (1 − H₂^⊙2)) H₁ᵀ"),
    ("W1", "(δH₁ ⊙ (1 − H₁^⊙2)) Xᵀ"),
  ])
  func threeLayerPerceptron(_ weights: String, recursion: String) throws {
    let d = try derivedAndChecked("l", wrt: weights, where: Self.mlp)
    // ∂l/∂W_l = Δ_{l+1} U_lᵀ: the upstream δ times the layer's input, transposed.
    #expect(MathRenderer(.text).render(d.named) == recursion)
  }

  @Test func perceptronRecursionNamesEachLayer() throws {
    let d = try derivedAndChecked("l", wrt: "W1", where: Self.mlp)
    let lines = d.intermediates.map { "δ\($0.name) = \(MathRenderer(.text).render($0.value))" }
    #expect(lines == ["δH2 = W₃ᵀ (∇_Y L)", "δH1 = W₂ᵀ (δH₂ ⊙ (1 − H₂^⊙2))"])
  }
}
