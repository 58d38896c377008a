/// The gradient of a scalar objective through a chain of definitions, by reverse
/// accumulation: the adjoint of each definition is derived in turn, later ones first, so
/// the work and the result stay linear in the depth of the chain (the δ of each layer).
struct GradientBuilder {
  /// The adjoint `G_D = ∂f/∂D` of a definition D on the path to the variable.
  struct Adjoint {
    var definition: Problem.Definition
    /// The variable `δD` standing for it.
    var variable: Expr
    /// Its value, in terms of the adjoints derived before it.
    var value: Expr
  }

  let problem: Problem
  var accumulation: ReverseAccumulation
  var simplifier: Simplifier

  init(problem: Problem, rules: RuleSet) {
    self.problem = problem
    accumulation = ReverseAccumulation(rules: rules)
    simplifier = Simplifier(rules: rules)
  }

  static func isAtomic(_ e: Expr) -> Bool {
    switch e.node {
    case .variable, .constant: return true
    case .gradient(_, let argument):
      if case .variable = argument.node { return true }
      return false
    default: return false
    }
  }

  /// Definitions whose value depends on `variable`, as their variables.
  func dependents(of variable: Expr) -> Set<Expr> {
    var dependent: Set<Expr> = [variable]
    var memo: [Expr: Bool] = [:]
    func mentions(_ e: Expr) -> Bool {
      if let known = memo[e] { return known }
      let answer = dependent.contains(e) || e.children.contains(where: mentions)
      memo[e] = answer
      return answer
    }
    // A definition is mentioned only after it is made, so answers already memoized stay
    // right as the set grows.
    for definition in problem.definitions where definition.variable != variable {
      if mentions(definition.body) { dependent.insert(definition.variable) }
    }
    return dependent
  }

  /// ∂objective/∂variable (shaped like the variable).
  ///
  /// `named` is the result in terms of adjoint variables `δD` of the definitions on the way,
  /// with `adjoints` giving each δD in terms of the ones derived before it (the backward
  /// recursion); `inlined` substitutes them all.
  ///
  /// - Parameter seed: the adjoint of the objective; 1 for a scalar objective, a symbolic
  ///   vector u (giving Jᵀ u) for a vector one.
  mutating func gradient(
    of objective: Expr, withRespectTo variable: Expr, seed: Expr = .constant(1)
  ) throws -> (inlined: Expr, named: Expr, adjoints: [Adjoint]) {
    guard objective.shape == seed.shape else {
      throw MatcalcError.internalError("seed \(seed.shape) for an objective \(objective.shape)")
    }
    let targets = dependents(of: variable)
    let simplifiedObjective = try simplifier.simplified(objective)
    var pending: [Expr: [Expr]] = [:]
    for (target, adjoint) in try accumulation.adjoints(
      of: simplifiedObjective, seed: seed, targets: targets)
    {
      pending[target, default: []].append(adjoint)
    }
    var adjoints: [Adjoint] = []
    var inlineValues: [Expr: Expr] = [:]
    for definition in problem.definitions.reversed()
    where definition.variable != variable && targets.contains(definition.variable) {
      guard let parts = pending[definition.variable] else { continue }
      let value = try simplifier.simplified(try Expr.add(parts))
      if value.isZero { continue }
      // An atomic adjoint (δD = δE, a constant, ∇_D L) needs no name of its own.
      let seed: Expr
      if Self.isAtomic(value) {
        seed = value
      } else {
        seed = try Expr.variable("δ" + definition.name, definition.variable.shape)
        adjoints.append(Adjoint(definition: definition, variable: seed, value: value))
        inlineValues[seed] = try simplifier.simplified(try value.substituting(inlineValues))
      }
      let body = try simplifier.simplified(definition.body)
      for (target, part) in try accumulation.adjoints(of: body, seed: seed, targets: targets) {
        pending[target, default: []].append(part)
      }
    }
    let named = try simplifier.simplified(try Expr.add(pending[variable] ?? []))
    let inlined = try simplifier.simplified(try named.substituting(inlineValues))
    guard named.shape == variable.shape || named.isZero else {
      throw MatcalcError.internalError(
        "gradient has shape \(named.shape), expected \(variable.shape)")
    }
    if named.isZero {
      let zero = try Expr.zero(variable.shape)
      return (zero, zero, [])
    }
    return (inlined, named, adjoints)
  }
}
