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

  /// Definitions whose value depends on any of `variables`, with the variables themselves.
  func dependents(of variables: Set<Expr>) -> Set<Expr> {
    var dependent = variables
    var memo: [Expr: Bool] = [:]
    func mentions(_ e: Expr) -> Bool {
      if let known = memo[e] { return known }
      let answer = dependent.contains(e) || e.anyChild(mentions)
      memo[e] = answer
      return answer
    }
    // A definition is mentioned only after it is made, so answers already memoized stay
    // right as the set grows.
    for definition in problem.definitions where !variables.contains(definition.variable) {
      if mentions(definition.body) { dependent.insert(definition.variable) }
    }
    return dependent
  }

  /// One backward pass for several variables at once: the adjoint of each definition on the
  /// way is derived once (named δD when it is not atomic), and each variable's gradient is
  /// stated in terms of those names.
  ///
  /// - Returns: the gradient of each variable in terms of the δ's, the δ's in the order
  ///   derived, and (when `inlining`) each δ's value with the earlier δ's substituted.
  mutating func backpropagate(
    _ objective: Expr, to variables: [Expr], seed: Expr, inlining: Bool
  ) throws -> (named: [Expr], adjoints: [Adjoint], inlineValues: [Expr: Expr]) {
    guard objective.shape == seed.shape else {
      throw MatcalcError.internalError("seed \(seed.shape) for an objective \(objective.shape)")
    }
    let variableSet = Set(variables)
    let targets = dependents(of: variableSet)
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
    where !variableSet.contains(definition.variable) && targets.contains(definition.variable) {
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
        if inlining {
          inlineValues[seed] = try simplifier.simplified(try value.substituting(inlineValues))
        }
      }
      let body = try simplifier.simplified(definition.body)
      for (target, part) in try accumulation.adjoints(of: body, seed: seed, targets: targets) {
        pending[target, default: []].append(part)
      }
    }
    let named = try variables.map { variable -> Expr in
      let gradient = try simplifier.simplified(try Expr.add(pending[variable] ?? []))
      guard gradient.shape == variable.shape || gradient.isZero else {
        throw MatcalcError.internalError(
          "gradient has shape \(gradient.shape), expected \(variable.shape)")
      }
      return gradient.isZero ? try Expr.zero(variable.shape) : gradient
    }
    return (named, adjoints, inlineValues)
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
    let (named, adjoints, inlineValues) = try backpropagate(
      objective, to: [variable], seed: seed, inlining: true)
    let gradient = named[0]
    if gradient.isZero { return (gradient, gradient, []) }
    let inlined = try simplifier.simplified(try gradient.substituting(inlineValues))
    return (inlined, gradient, adjoints)
  }
}
