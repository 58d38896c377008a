import Testing

@testable import MatrixCalculus

private let n = Dim.symbol("n")

private func square(_ name: String) throws -> Expr { try Expr.variable(name, Shape(n, n)) }

private func column(_ name: String) throws -> Expr { try Expr.variable(name, Shape(n, .one)) }

private func rule(_ name: String) throws -> Rule {
  try #require(RuleSet.embedded.rules.first { $0.name == name })
}

@Test func aChainRuleRewritesAWindowOfALongerChain() throws {
  // X Bᵀ Bᵀ Y = X (B B)ᵀ Y: a rule for Aᵀ Aᵀ on the two middle factors.
  let text = "let A : matrix(n, n)\ntransposes-joined: A' * A' => (A * A)'"
  let rules = try RuleSet(try RuleFile.parse(text, file: "window.rules"))
  let (x, b, y) = (try square("X"), try square("B"), try square("Y"))
  let chain = try #require(
    try Expr.product(of: [x, try Expr.transpose(b), try Expr.transpose(b), y]))
  var simplifier = Simplifier(rules: rules)
  let expected = try Expr.product(of: [x, try Expr.transpose(try b * b), y])
  #expect(try simplifier.simplified(chain) == expected)
  #expect(simplifier.steps.map(\.rule) == ["transposes-joined"])
}

@Test func aPatternVariableStandsForARunOfFactors() throws {
  // inv(S T) against inv(A B C): S = A B (a chain), T = C.
  let (a, b, c) = (try square("A"), try square("B"), try square("C"))
  let inverseProduct = try rule("inverse-product")
  let matcher = Matcher(inverseProduct)
  let target = try Expr.call(.inverse, try a * b * c)
  let bindings = try #require(matcher.match(inverseProduct.left, target))
  let expected = try Expr.call(.inverse, c) * Expr.call(.inverse, try a * b)
  #expect(try matcher.instantiate(inverseProduct.right, bindings) == expected)
}

@Test func aChainPatternMatchesOnlyWhereItsFactorsAre() throws {
  // diag(x) diag(w) has no window in A diag(u) B diag(v).
  let (a, b) = (try square("A"), try square("B"))
  let (u, v) = (try Expr.call(.diag, try column("u")), try Expr.call(.diag, try column("v")))
  let diagProduct = try rule("diag-product")
  let target = try Expr.make(.chain([a, u, b, v]))
  #expect(Matcher(diagProduct).matchWindow(diagProduct.left, target) == nil)
  #expect(Matcher(diagProduct).match(diagProduct.left, target) == nil)
}

@Test func identitiesBetweenNeighboursAreRulesNotConstructors() throws {
  // L S S⁻¹ diag(u) diag(v) R: the constructor keeps all six factors; the rules inverse-right
  // and diag-product leave L diag(u ⊙ v) R.
  let (l, s, r) = (try square("L"), try square("S"), try square("R"))
  let (u, v) = (try column("u"), try column("v"))
  let factors = [
    l, s, try Expr.call(.inverse, s), try Expr.call(.diag, u), try Expr.call(.diag, v), r,
  ]
  let chain = try #require(try Expr.product(of: factors[...]))
  #expect(chain.matrixFactors == factors)
  var simplifier = Simplifier(rules: RuleSet.embedded)
  let merged = try Expr.call(.diag, try Expr.hadamard(u, v))
  #expect(try simplifier.simplified(chain) == Expr.product(of: [l, merged, r]))
  #expect(Set(simplifier.steps.map(\.rule)) == ["inverse-right", "diag-product"])
}

@Test func aTransposedChainIsReversedByItsRule() throws {
  // (A B C)ᵀ stays as written until transpose-product gives Cᵀ Bᵀ Aᵀ, in one step.
  let (a, b, c) = (try square("A"), try square("B"), try square("C"))
  let transposed = try Expr.transpose(try a * b * c)
  guard case .transpose = transposed.node else {
    Issue.record("the constructor reversed the chain: \(transposed)")
    return
  }
  var simplifier = Simplifier(rules: RuleSet.embedded)
  let expected = try Expr.product(of: [c, b, a].map(Expr.transpose)[...])
  #expect(try simplifier.simplified(transposed) == expected)
  #expect(simplifier.steps.map(\.rule) == ["transpose-product"])
}

/// Every subexpression of the corpus objectives and their derived results, of a few chains
/// with rules to apply inside, and of the rules themselves, each once.
private func corpusSubexpressions() throws -> [Expr] {
  var pool: [Expr] = []
  var seen = Set<Expr>()
  func collect(_ e: Expr) {
    guard seen.insert(e).inserted else { return }
    pool.append(e)
    e.forEachChild(collect)
  }
  for rule in RuleSet.embedded.rules {
    collect(rule.left)
    collect(rule.right)
  }
  // Chains whose neighbouring factors a rule rewrites further along (windows).
  let windows = [
    ("b'*W*diag(x)*diag(c)*a", "x", Corpus.vectors), ("a'*A*inv(X)*X*b", "X", Corpus.squares),
    ("a'*A*X*inv(X)*b", "X", Corpus.squares),
    ("a'*A*ones(n, 1)*ones(1, n)*X*b", "X", Corpus.squares),
  ]
  for (expression, wrt, statements) in Corpus.problems + windows {
    let derivation = try deriveUnchecked(expression, wrt: wrt, where: statements)
    collect(derivation.objective)
    collect(derivation.result)
  }
  return pool
}

/// The simplifier turns a rule away by the head of its pattern's first operand
/// (``Rule/operandHead``) before trying a match: that never skips a rule that would match.
@Test func operandHeadNeverSkipsAMatch() throws {
  let pool = try corpusSubexpressions()
  var skipped = 0
  for rule in RuleSet.embedded.rules where rule.kind == .simplification {
    guard let head = rule.operandHead else { continue }
    for e in pool where Rule.head(of: e) == Rule.head(of: rule.left) {
      guard Rule.firstOperand(of: e).map(Rule.head(of:)) != head else { continue }
      skipped += 1
      let matcher = Matcher(rule)
      #expect(matcher.match(rule.left, e) == nil, "\(rule.name) would match \(e)")
      #expect(matcher.matchWindow(rule.left, e) == nil, "\(rule.name) would match in \(e)")
    }
  }
  #expect(skipped > 100)
}

/// ``Expr/treeSize``, known at construction, is the printed node count a walk finds (a chain
/// of k factors counted as its k − 1 products), and −0 is interned as 0.
@Test func treeSizeIsThePrintedNodeCount() throws {
  func walked(_ e: Expr) -> Int {
    var total = 1
    if case .chain(let factors) = e.node { total = factors.count - 1 }
    e.forEachChild { total += walked($0) }
    return min(Expr.treeSizeCap, total)
  }
  for e in try corpusSubexpressions() { #expect(e.treeSize == walked(e), "\(e)") }
  #expect(try ExprPool.intern(.constant(-0.0)) === Expr.constant(0))
}
