import TensorKernel

extension Checker {
  /// Checks one rule on numbers: a simplification by evaluating both sides, a differential
  /// `d(F) => R` by comparing R (with each d(X) a random direction V) against the central
  /// difference (F(X + hV) − F(X − hV)) / 2h. Inputs respect the rule's `when` domains.
  ///
  /// - Parameters:
  ///   - rule: the rule.
  ///   - points: how many random points.
  /// - Returns: the certificate; `passed` is false when any point disagrees.
  static func check(_ rule: Rule, points: Int = 3) throws -> Certificate {
    let variables = rule.variables.sorted { $0.key < $1.key }
    // Variables first; then constant matrices, whose dimensions no variable may name
    // (ones(m, 1) * ones(1, p)).
    var shapes = variables.map(\.value.shape)
    func collect(_ e: Expr) {
      shapes.append(e.shape)
      e.forEachChild(collect)
    }
    collect(rule.left)
    collect(rule.right)
    let sizes = Sampler.sizes(for: shapes)
    var requirements: [String: Set<Sampler.Requirement>] = [:]
    for (domain, name) in rule.domains {
      let requirement: Sampler.Requirement
      switch domain {
      case .invertible, .posdef: requirement = .posdef
      case .positive: requirement = .positive
      case .nonzero: requirement = .nonzero
      }
      requirements[name, default: []].insert(requirement)
    }
    var worst = Certificate(
      maxRelativeError: 0, sizes: sizes, worstEntry: "", passed: true, points: points)
    for point in 0..<points {
      var generator = SplitMix64(seed: TestFunctions.stableHash(rule.name) &+ UInt64(point))
      var values: [String: Tensor] = [:]
      var directions: [Expr: Tensor] = [:]
      for (name, variable) in variables {
        values[name] = try Sampler.draw(
          variable.shape, requirements: requirements[name] ?? [],
          symmetric: Matcher.isSymmetric(variable), sizes: sizes, generator: &generator)
        directions[variable] = try Sampler.draw(
          variable.shape, requirements: [], symmetric: Matcher.isSymmetric(variable),
          sizes: sizes, generator: &generator)
      }
      let expected: Tensor
      let actual: Tensor
      switch rule.kind {
      case .simplification:
        var evaluator = Evaluator(sizes: sizes, values: values)
        expected = try evaluator.evaluate(rule.left)
        actual = try evaluator.evaluate(rule.right)
      case .differential:
        guard case .differential(let function) = rule.left.node else {
          throw MatcalcError.internalError("\(rule.name) is not a differential")
        }
        var evaluator = Evaluator(sizes: sizes, values: values)
        evaluator.directions = directions
        actual = try evaluator.evaluate(rule.right)
        let scale = values.values.map(\.frobeniusNorm).max() ?? 1
        let h = 1e-6 * max(1, scale)
        func shifted(_ sign: Double) throws -> Tensor {
          var moved = values
          for (name, variable) in variables {
            guard let value = values[name], let direction = directions[variable],
              let next = value.zip(direction, { $0 + sign * h * $1 })
            else { throw MatcalcError.internalError("direction shape for \(name)") }
            moved[name] = next
          }
          var shiftedEvaluator = Evaluator(sizes: sizes, values: moved)
          return try shiftedEvaluator.evaluate(function)
        }
        let plus = try shifted(1)
        let minus = try shifted(-1)
        guard let difference = plus.zip(minus, { ($0 - $1) / (2 * h) }) else {
          throw MatcalcError.internalError("shape of \(rule.name)")
        }
        expected = difference
      }
      guard let gap = expected.zip(actual, -) else {
        throw MatcalcError.internalError("the sides of \(rule.name) evaluate to different shapes")
      }
      let largest = max(expected.maxAbs, actual.maxAbs)
      let relative = largest > 1e-12 ? gap.maxAbs / largest : gap.maxAbs
      if !(relative <= worst.maxRelativeError) {
        worst.maxRelativeError = relative.isNaN ? .infinity : relative
        worst.worstEntry = "point \(point): left \(expected.storage), right \(actual.storage)"
      }
    }
    worst.passed = worst.maxRelativeError <= tolerance
    return worst
  }
}
