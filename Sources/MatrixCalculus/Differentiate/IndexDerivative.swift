/// Element-wise differentiation in index form: ∂(Σ_t c_t Π_f F_f)/∂X_ab by the product rule,
/// with ∂X_rc/∂X_ab = δ_ra δ_cb and every other atom through its differential in Rules/
/// (d(inv(M)) = −M⁻¹ dM M⁻¹ lowered to index form, with dM_rc the derivative of M_rc).
///
/// The matrix-level reverse accumulation is the engine's fast path; a test proves it equal
/// to this, entry by entry, for every kind of node.
struct IndexDerivative {
  let variable: Expr
  let rules: RuleSet
  /// The variable's indices (`nil` for an axis of size one).
  let a: String?
  let b: String?
  var lowering = Lowering()
  private let finder: Finder
  /// Every differential rule used, in order: (rule, d(atom), its differential as the rule
  /// gives it; ``shown(_:rules:)`` prints it).
  private(set) var rulesUsed: [(rule: String, before: Expr, after: Expr)] = []

  /// Whether an expression holds the variable (memoized across the derivation).
  private final class Finder {
    var occurrence: Occurrence
    init(_ variable: Expr) { occurrence = Occurrence(of: variable) }
    func isIn(_ e: Expr) -> Bool { occurrence.isIn(e) }
  }

  init(withRespectTo variable: Expr, indices a: String?, _ b: String?, rules: RuleSet) {
    self.variable = variable
    self.rules = rules
    self.a = variable.shape.rows == .one ? nil : a
    self.b = variable.shape.cols == .one ? nil : b
    finder = Finder(variable)
  }

  /// The lowered form of F_rc, with the subexpressions that do not hold X kept whole; with
  /// `keepingSums`, also every sum below the top (½ Σ_s (ŷ − y)_s (ŷ − y)_s, as a student
  /// writes it, not its four products).
  mutating func lowered(_ e: Expr, _ row: String?, _ col: String?, keepingSums: Bool = false)
    throws -> [IndexTerm]
  {
    let finder = self.finder
    return try lowering.lower(
      e, row, col,
      atom: { part in
        guard finder.isIn(part) else { return true }
        if keepingSums, part !== e, case .add = part.node { return true }
        return false
      })
  }

  /// ∂F_rc/∂X_ab for a matrix expression F.
  mutating func derivative(of e: Expr, _ row: String?, _ col: String?) throws -> [IndexTerm] {
    try derivative(of: try lowered(e, row, col))
  }

  /// The product rule over each term's factors.
  mutating func derivative(of terms: [IndexTerm]) throws -> [IndexTerm] {
    var result: [IndexTerm] = []
    for term in terms {
      for (position, factor) in term.factors.enumerated() {
        if factor.isDelta || !finder.isIn(factor.expr) { continue }
        // The factor's derivative takes its place: δ_ka Y_lj for ∂(Y Y)_ij, read in order.
        for inner in try entryDerivative(factor.expr, factor.row, factor.col) {
          var factors = term.factors
          factors.replaceSubrange(position...position, with: inner.factors)
          result.append(
            IndexTerm(
              coefficient: term.coefficient * inner.coefficient,
              summed: term.summed + inner.summed, factors: factors))
        }
      }
    }
    return result
  }

  /// A differential as shown in steps: d(c) of a constant is 0 (d(x^2) = 2 x dx, without the
  /// x² log(x) d(2) of the general power rule), then simplified. Only steps ask for it, so
  /// a derivation does not pay for it.
  static func shown(_ differential: Expr, rules: RuleSet) throws -> Expr {
    var zeros: [Expr: Expr] = [:]
    var seen = Set<Expr>()
    func walk(_ e: Expr) {
      guard seen.insert(e).inserted else { return }
      if case .differential(let x) = e.node, x.constantValue != nil {
        zeros[e] = .constant(0)
      }
      e.children.forEach(walk)
    }
    walk(differential)
    var simplifier = Simplifier(rules: rules)
    return try simplifier.simplified(try differential.substituting(zeros))
  }

  /// ∂e_rc/∂X_ab for an atom e (the terms of a lowered expression are entries of atoms).
  private mutating func entryDerivative(_ e: Expr, _ row: String?, _ col: String?) throws
    -> [IndexTerm]
  {
    switch e.node {
    case .variable:
      guard e == variable else { return [] }
      // ∂X_rc/∂X_ab = δ_ra δ_cb
      var factors: [IndexedTensor] = []
      if let row, let a {
        factors.append(try Lowering.entry(try Expr.identity(e.shape.rows), a, row))
      }
      if let col, let b {
        factors.append(try Lowering.entry(try Expr.identity(e.shape.cols), b, col))
      }
      return [IndexTerm(factors: factors)]
    case .call(.diagonal, let m):  // diag(M)_r = M_rr
      return try entryDerivative(m, row, row)
    case .opaque(let name, let argument):  // ∂L(D) = Σ_kl ∇L(D)_kl ∂D_kl
      let k = argument.shape.rows == .one ? nil : lowering.fresh()
      let l = argument.shape.cols == .one ? nil : lowering.fresh()
      let gradient = try Lowering.entry(try Expr.make(.gradient(name, argument)), k, l)
      return try derivative(of: argument, k, l).map { term in
        IndexTerm(summed: [k, l].compactMap { $0 }, factors: [gradient]) * term
      }
    case .mapped(let f, let order, let argument):  // ∂f(Z)_rc = f′(Z)_rc ∂Z_rc
      guard order < 3 || f.isDefined else {
        throw MatcalcError.unsupported("derivatives of \(f) beyond the third", nil)
      }
      let slope = try f.derivative(order + 1, at: argument, rules: rules)
      if f.isDefined {
        // d f(Z) = f′(Z) ⊙ dZ, f′ derived from f's meaning: a step of its own.
        rulesUsed.append(
          (
            "\(f)′", try Expr.make(.differential(e)),
            try Expr.hadamard(slope, try Expr.make(.differential(argument)))
          ))
      }
      let prime = try Lowering.entry(slope, row, col)
      return try derivative(of: argument, row, col).map { IndexTerm(factors: [prime]) * $0 }
    case .gradient(let name, _):
      throw ReverseAccumulation.opaqueHessian(name)
    case .call, .power:
      // d(e) from Rules/, lowered with each d(M)_rc replaced by ∂M_rc/∂X_ab.
      let (rule, differential) = try ReverseAccumulation.differential(of: e, rules: rules)
      rulesUsed.append((rule.name, try Expr.make(.differential(e)), differential))
      // The rule's right side is linear in d(·): what holds no d(·) is a coefficient, whole.
      var derivative = self
      let terms = try lowering.lower(
        differential, row, col, atom: { !$0.holdsDifferential }
      ) { lowering, m, r, c in
        derivative.lowering = lowering
        let inner = try derivative.derivative(of: m, r, c)
        lowering = derivative.lowering
        return inner
      }
      rulesUsed = derivative.rulesUsed
      return terms
    case .constant, .identity, .ones, .zero, .differential:
      return []
    case .add, .product, .chain, .hadamard, .transpose:
      return try derivative(of: e, row, col)
    }
  }
}
