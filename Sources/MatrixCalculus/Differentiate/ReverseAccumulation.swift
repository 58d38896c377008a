/// Reverse accumulation of adjoints through one expression DAG.
///
/// For a scalar objective f and a node N with adjoint G_N = ∂f/∂N, each operand receives
/// the adjoint of the linear map N depends on it by: C = AB gives G_A = G Bᵀ and G_B = Aᵀ G;
/// C = A ⊙ B gives G_A = G ⊙ B; C = Aᵀ gives G_A = G_Cᵀ; c = tr(A) gives G_A = g I. Every
/// other function takes its differential from Rules/ (`d(inv(X)) => -inv(X)*d(X)*inv(X)`), and
/// the adjoint of that linear map in d(X) is found by running this same accumulation on the
/// rule's right side with d(X) as the target.
struct ReverseAccumulation {
  let rules: RuleSet
  /// Rules that fired, for the derivation's steps.
  private(set) var steps: [Step] = []
  private var deadline = Deadline()

  init(rules: RuleSet) { self.rules = rules }

  /// The adjoints of `targets` (leaves of `root`) when `root` has adjoint `seed`.
  mutating func adjoints(of root: Expr, seed: Expr, targets: Set<Expr>) throws -> [Expr: Expr] {
    var relevant: [Expr: Bool] = [:]
    func isRelevant(_ e: Expr) -> Bool {
      if let known = relevant[e] { return known }
      let answer = targets.contains(e) || e.anyChild(isRelevant)
      relevant[e] = answer
      return answer
    }
    guard isRelevant(root) else { return [:] }
    // Post-order over relevant nodes; reversed, every node comes before its operands. Each
    // node's place in it keys the contributions it receives.
    var order: [Expr] = []
    var place: [Expr: Int] = [:]
    func visit(_ e: Expr) {
      guard place[e] == nil, isRelevant(e) else { return }
      place[e] = -1  // being visited
      if !targets.contains(e) { e.forEachChild(visit) }
      place[e] = order.count
      order.append(e)
    }
    visit(root)
    var contributions = [[Expr]](repeating: [], count: order.count)
    contributions[order.count - 1] = [seed]
    var result: [Expr: Expr] = [:]
    for (index, node) in order.enumerated().reversed() {
      try deadline.check()
      let parts = contributions[index]
      if parts.isEmpty { continue }
      let adjoint = try Expr.add(parts)
      if targets.contains(node) {
        result[node] = adjoint
        continue
      }
      if adjoint.isZero { continue }
      for (operand, part) in try propagate(adjoint, through: node, leadsToTarget: isRelevant) {
        guard let at = place[operand], at >= 0 else { continue }
        contributions[at].append(part)
      }
    }
    return result
  }

  /// `⟨G, M⟩ = Σ_ij G_ij M_ij` as a compact matrix expression.
  private func inner(_ g: Expr, _ m: Expr) throws -> Expr {
    if g.isScalar || m.isScalar { return try Expr.multiply(g, m) }
    if m.shape.cols == .one { return try Expr.transpose(g) * m }  // gᵀ m
    if m.shape.rows == .one { return try m * Expr.transpose(g) }  // m gᵀ
    return try Expr.call(.trace, try Expr.transpose(g) * m)  // tr(Gᵀ M)
  }

  /// The adjoint contributions of `node`'s operands, given the node's adjoint `g`.
  private mutating func propagate(
    _ g: Expr, through node: Expr, leadsToTarget: (Expr) -> Bool
  ) throws -> [(Expr, Expr)] {
    switch node.node {
    case .variable, .constant, .identity, .ones, .zero, .differential:
      return []
    case .add(let terms):  // a 1×1 term broadcast over the sum receives Σ_ij G_ij
      return try terms.map { term in
        (term, term.isScalar && !node.isScalar ? try Expr.call(.sum, g) : g)
      }
    case .product(let a, let b):
      if a.isScalar && b.isScalar {  // (ab)' = a' b + a b'
        return [(a, try g * b), (b, try g * a)]
      }
      if a.isScalar { return [(a, try inner(g, b)), (b, try g * a)] }  // C = s M
      return [(b, try inner(g, a)), (a, try g * b)]
    case .chain(let factors):
      // C = F₁ ⋯ Fₖ: G_Fⱼ = (F₁ ⋯ Fⱼ₋₁)ᵀ G Fₖᵀ ⋯ Fⱼ₊₁ᵀ (G_A = G Bᵀ, G_B = Aᵀ G for C = A B),
      // only for the factors that lead to a target: O(k) each, not O(k²) for the chain.
      if factors.count == 2 {  // the common case, without arrays
        let (a, b) = (factors[0], factors[1])
        var contributions: [(Expr, Expr)] = []
        if leadsToTarget(b) { contributions.append((b, try Expr.transpose(a) * g)) }
        if leadsToTarget(a) { contributions.append((a, try g * Expr.transpose(b))) }
        return contributions
      }
      guard let lowest = factors.indices.first(where: { leadsToTarget(factors[$0]) }) else {
        return []
      }
      var contributions: [(Expr, Expr)] = []
      var right = [g]  // G Fₖᵀ ⋯ Fⱼ₊₁ᵀ, grown from the end
      for index in factors.indices.reversed() where index >= lowest {
        if leadsToTarget(factors[index]) {
          let adjoint = try Expr.product(of: right[...]) ?? g
          let left = try Expr.product(of: factors[..<index])
          contributions.append(
            (factors[index], try left.map { try Expr.transpose($0) * adjoint } ?? adjoint))
        }
        right.append(try Expr.transpose(factors[index]))
      }
      return contributions
    case .hadamard(let a, let b):  // C_ij = A_ij B_ij
      return [(a, try Expr.hadamard(g, b)), (b, try Expr.hadamard(g, a))]
    case .transpose(let a):  // C_ij = A_ji
      return [(a, try Expr.transpose(g))]
    case .call(.trace, let a):  // c = Σ_i A_ii: G_A = g I
      return [(a, try g * Expr.identity(a.shape.rows))]
    case .call(.sum, let a):  // c = Σ_ij A_ij: G_A = g 𝟏
      return [(a, try g * Expr.ones(a.shape))]
    case .call(.diag, let v):  // C_ij = δ_ij v_i: G_v = diag(G)
      return [(v, try Expr.call(.diagonal, g))]
    case .call(.diagonal, let a):  // c_i = A_ii: G_A = diag(g)
      return [(a, try Expr.call(.diag, g))]
    case .opaque(let name, let argument):  // l = L(D): G_D = g ∇L(D)
      return [(argument, try g * Expr.make(.gradient(name, argument)))]
    case .mapped(let f, let order, let argument):  // Y = f(Z): G_Z = G ⊙ f′(Z)
      guard order < 3 || f.isDefined else {
        throw MatcalcError.unsupported("derivatives of \(f) beyond the third", nil)
      }
      return [
        (argument, try Expr.hadamard(g, try f.derivative(order + 1, at: argument, rules: rules)))
      ]
    case .gradient(let name, _):
      throw Self.opaqueHessian(name)
    case .power, .call:
      return try propagateByRule(g, through: node)
    }
  }

  /// Uses the differential rule for `node`: d(node) = R(d(operand₁), …); each operand gets the
  /// adjoint of R in its d(·).
  private mutating func propagateByRule(_ g: Expr, through node: Expr) throws -> [(Expr, Expr)] {
    let (rule, differential) = try Self.differential(of: node, rules: rules)
    steps.append(
      Step(rule: rule.name, before: try Expr.make(.differential(node)), after: differential))
    var directions: [Expr: Expr] = [:]
    for operand in Set(node.children) {
      directions[try Expr.make(.differential(operand))] = operand
    }
    let found = try adjoints(of: differential, seed: g, targets: Set(directions.keys))
    return found.compactMap { key, adjoint in directions[key].map { ($0, adjoint) } }
      .sorted { Expr.precedes($0.0, $1.0) }
  }

  /// The refusal of a second derivative through an opaque function.
  static func opaqueHessian(_ name: String) -> MatcalcError {
    .unsupported(
      "second derivatives (--order 2) through the opaque function \(name) (its Hessian is not "
        + "symbolic)", nil)
  }

  /// d(node) from the first differential rule in Rules/ that matches: an expression linear
  /// in d(operand) (d(inv(X)) = −X⁻¹ dX X⁻¹; element-wise rules lifted entry by entry).
  static func differential(of node: Expr, rules: RuleSet) throws -> (rule: Rule, value: Expr) {
    for rule in rules.candidates(.differential, for: node) {
      guard case .differential(let pattern) = rule.left.node else { continue }
      let matcher = Matcher(rule)
      guard let bindings = matcher.match(pattern, node) else { continue }
      let differential = try matcher.instantiate(
        rule.right, bindings, elementwise: rule.isElementwise)
      return (rule, differential)
    }
    throw MatcalcError.unsupported(
      "no differential rule in Rules/ matches \(node)", nil)
  }
}
