import Foundation
import TensorKernel

/// The gradients of one scalar objective with respect to several variables from one backward
/// pass: the adjoint δD of each definition is derived once, and every gradient is stated in
/// terms of those δ's, so the work and the printed result stay linear in the depth (an
/// L-layer network's ∂l/∂W_l for every l).
public struct Backpropagation: Sendable {
  /// The problem.
  public let problem: Problem
  /// How the objective is named in output.
  public let objectiveName: String
  /// The objective.
  public let objective: Expr
  /// The variables, in the order asked.
  public let variables: [(name: String, expr: Expr)]
  /// ∂objective/∂variable for each variable, in terms of the intermediates.
  public let gradients: [Expr]
  /// The backward recursion, last definition first.
  public let intermediates: [Derivation.Intermediate]

  /// One backward pass for `variableNames` (inputs of `problem`).
  ///
  /// - Throws: ``MatcalcError`` for a non-scalar objective or an unknown variable.
  public init(
    of objective: Expr, named objectiveName: String, withRespectTo variableNames: [String],
    in problem: Problem, rules: RuleSet = .embedded
  ) throws {
    guard objective.isScalar else {
      throw MatcalcError.unsupported(
        "several variables at once need a scalar \(objectiveName); it is \(objective.shape)", nil)
    }
    variables = try variableNames.map { name in
      guard let input = problem.inputs.first(where: { $0.name == name }) else {
        throw MatcalcError.unsupported(
          "cannot differentiate with respect to '\(name)': it is not an input", nil)
      }
      return (name, input.expr)
    }
    var builder = GradientBuilder(problem: problem, rules: rules)
    let (named, adjoints, _) = try builder.backpropagate(
      objective, to: variables.map(\.expr), seed: .constant(1), inlining: false)
    var presentation = try Presentation(problem: problem, rules: rules)
    gradients = try named.map { try presentation.presented($0) }
    intermediates = try adjoints.map {
      Derivation.Intermediate(
        name: $0.definition.name, variable: $0.variable,
        value: try presentation.presented($0.value))
    }
    self.problem = problem
    self.objective = objective
    self.objectiveName = objectiveName
  }

  /// Checks all gradients at once: along random directions V for every variable together,
  /// Σ_v ⟨G_v, V_v⟩ against the central difference of the objective (Richardson-extrapolated).
  public func check(points: Int = 2, directions: Int = 6) throws -> Certificate {
    let requirements = Sampler.requirements(of: [objective], definitions: problem.definitions)
    let definitions = problem.definitions + intermediates.asDefinitions
    var worst = Certificate(
      maxRelativeError: 0, sizes: [:], worstEntry: "", passed: true, points: points)
    var failed = false
    for point in 0..<points {
      // The dimensions' orderings alternate, as in ``Checker``.
      let sizes = Sampler.sizes(for: problem.inputs.map(\.expr.shape), reversed: point % 2 == 1)
      if point == 0 { worst.sizes = sizes }
      worst.checkedSizes.append(sizes)
      var generator = SplitMix64(
        seed: TestFunctions.stableHash("\(objective) jointly") &+ UInt64(point))
      let values = try Sampler.draw(
        inputsOf: problem, requirements: requirements, sizes: sizes,
        generator: &generator)
      var evaluator = Evaluator(sizes: sizes, values: values)
      try evaluator.bind(definitions)
      let formulas = try gradients.map { try evaluator.evaluate($0) }
      for direction in 0..<directions {
        var moves: [String: Tensor] = [:]
        var predicted = 0.0
        for ((name, _), formula) in zip(variables, formulas) {
          var v = Tensor(rows: formula.rows, cols: formula.cols)
          for index in v.storage.indices { v.storage[index] = generator.symmetricUnit() }
          moves[name] = v
          predicted += formula.zip(v, *)?.sum ?? .nan
        }
        let h = 1e-5
        func objective(at step: Double) throws -> Double {
          var moved = values
          for (name, v) in moves {
            guard let value = values[name], let next = value.zip(v, { $0 + step * $1 }) else {
              throw MatcalcError.internalError("direction shape for \(name)")
            }
            moved[name] = next
          }
          // The objective as written (index definitions entry by entry).
          var magnitude = 0.0
          return try Checker.value(
            of: self.objective, in: problem, sizes: sizes, values: moved, magnitude: &magnitude
          ).scalar
        }
        let (up, down) = (try objective(at: h), try objective(at: -h))
        let (farUp, farDown) = (try objective(at: 2 * h), try objective(at: -2 * h))
        let near = (up - down) / (2 * h)
        let far = (farUp - farDown) / (4 * h)
        let difference = (4 * near - far) / 3
        let rounding = 64 * Double.ulpOfOne * max(abs(up), abs(down), abs(farUp), abs(farDown)) / h
        let raw = abs(difference - predicted)
        let excess = raw - rounding - abs(near - far)
        let scale = max(abs(difference), abs(predicted), rounding)
        let relative = scale > 0 ? raw / scale : raw
        if !((scale > 0 ? excess / scale : excess) <= Checker.tolerance) || !relative.isFinite {
          failed = true
        }
        if !(relative <= worst.maxRelativeError) {
          worst.maxRelativeError = relative.isNaN ? .infinity : relative
          worst.worstEntry =
            "point \(point + 1), random direction \(direction + 1): formulas \(predicted), "
            + "finite difference \(difference)"
        }
      }
    }
    worst.passed = !failed
    return worst
  }

  /// The backward recursion, then one line per variable.
  public func render(_ format: OutputFormat, certificate: Certificate? = nil) throws -> String {
    switch format {
    case .markdown:
      let renderer = MathRenderer(.latex)
      var blocks: [String] = []
      for intermediate in intermediates {
        blocks.append(
          "$$\(renderer.name("δ" + intermediate.name)) = \(renderer.render(intermediate.value))$$")
      }
      for ((name, _), gradient) in zip(variables, gradients) {
        blocks.append(
          "$$\\frac{\\partial \(renderer.name(objectiveName))}{\\partial \(renderer.name(name))} = "
            + "\(renderer.render(gradient))$$")
      }
      return blocks.joined(separator: "\n\n")
    case .text, .latex:
      let renderer = MathRenderer(format == .text ? .text : .latex)
      let of = renderer.name(objectiveName)
      func partial(_ name: String) -> String {
        format == .text
          ? "∂\(of)/∂\(renderer.name(name))"
          : "\\frac{\\partial \(of)}{\\partial \(renderer.name(name))}"
      }
      var lines: [String] = []
      if format == .text && !intermediates.isEmpty { lines.append("backward:") }
      for intermediate in intermediates {
        let name = renderer.name("δ" + intermediate.name)
        lines.append(
          (format == .text ? "  " : "") + "\(name) = \(renderer.render(intermediate.value))")
      }
      for ((name, _), gradient) in zip(variables, gradients) {
        lines.append("\(partial(name)) = \(renderer.render(gradient))")
      }
      if let certificate, format == .text {
        lines.append(certificate.description + " (all gradients jointly, random directions)")
      }
      return lines.joined(separator: format == .text ? "\n" : " \\\\\n")
    case .numpy:
      throw MatcalcError.unsupported(
        "NumPy output for several variables at once; ask for one --wrt at a time", nil)
    case .json:
      let renderer = MathRenderer(.text)
      var object: [String: Any] = [
        "of": objectiveName,
        "wrt": variables.map(\.name),
        "gradients": zip(variables, gradients).map {
          ["wrt": $0.0.name, "text": renderer.render($0.1)]
        },
        "backward": intermediates.map { ["name": $0.name, "text": renderer.render($0.value)] },
      ]
      if let certificate {
        object["check"] = [
          "passed": certificate.passed, "max_relative_error": certificate.maxRelativeError,
        ]
      }
      let data = try JSONSerialization.data(
        withJSONObject: object, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
      return String(decoding: data, as: UTF8.self)
    }
  }
}

/// Derives `expression` with respect to several variables in one backward pass.
///
/// - Parameters:
///   - expression: a scalar expression.
///   - variables: inputs of the problem.
///   - statements: declarations and definitions, as for ``derive(_:wrt:where:order:rules:)``.
/// - Returns: the unchecked ``Backpropagation``.
/// - Throws: ``MatcalcError``.
public func derive(
  _ expression: String, wrt variables: [String], where statements: String = "",
  rules: RuleSet = .embedded
) throws -> Backpropagation {
  let (problem, objective, name) = try parsedObjective(expression, statements)
  return try Backpropagation(
    of: objective, named: name, withRespectTo: variables, in: problem, rules: rules)
}
