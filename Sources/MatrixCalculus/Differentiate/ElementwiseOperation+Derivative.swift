extension ElementwiseOperation {
  /// `f⁽ᵏ⁾(Z)` entry by entry: for a function defined by its meaning, the k-th derivative of
  /// that meaning by its parameter (derived by the engine's own gradient, once per
  /// definition, simplified by `rules`: d/dt log(1 + eᵗ) = σ(t)) lifted to Z; for an opaque
  /// function, the symbol `f⁽ᵏ⁾(Z)`.
  func derivative(_ order: Int, at argument: Expr, rules: RuleSet) throws -> Expr {
    guard let meaning else { return try Expr.make(.mapped(self, order, argument)) }
    let derivative = try meaning.derivative(order, rules: rules.identity) { body, parameter in
      var problem = Problem()
      if case .variable(let name, _, _) = parameter.node {
        problem.addInput(name, parameter, .scalar)
      }
      var builder = GradientBuilder(problem: problem, rules: rules)
      var algebra = ElementwiseAlgebra()
      return try builder.simplifier.simplified(
        try algebra.normalized(try builder.gradient(of: body, withRespectTo: parameter).inlined))
    }
    return try Self.lifted(derivative, parameter: meaning.parameter, to: argument)
  }
}
