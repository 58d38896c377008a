import Foundation

/// The output formats of ``Derivation/render(_:)``.
public enum OutputFormat: String, Sendable, CaseIterable {
  /// Unicode text for the terminal.
  case text
  /// A LaTeX math fragment.
  case latex
  /// One line of Python over NumPy (shared/LANGUAGE.md).
  case numpy
  /// A JSON object for tools.
  case json
}

/// A derived formula with everything needed to print and check it.
///
/// `∂f/∂X` for a scalar f: shaped like X (shared/LANGUAGE.md), in matrix form, with the
/// backward recursion through the definitions it passed and the rules that fired.
public struct Derivation: Sendable {
  /// One intermediate adjoint of the backward recursion: `δD = ∂f/∂D`.
  public struct Intermediate: Sendable {
    /// The definition's name.
    public var name: String
    /// The variable `δD`.
    public var variable: Expr
    /// Its value in terms of earlier intermediates.
    public var value: Expr
  }

  /// The problem (inputs, definitions) the derivation is over.
  public let problem: Problem
  /// How the objective is named in output (`l`, or `f` for an expression).
  public let objectiveName: String
  /// The objective.
  public let objective: Expr
  /// The variable.
  public let variable: Expr
  /// The variable's name.
  public let variableName: String
  /// The derivative in matrix form, in terms of the inputs and definitions.
  public let result: Expr
  /// The derivative in terms of the intermediates.
  public let named: Expr
  /// The backward recursion, in the order derived (last definition first).
  public let intermediates: [Intermediate]
  /// Every rule that fired, in order.
  public let steps: [Step]

  /// Derives `∂objective/∂variable` over `problem`.
  ///
  /// - Throws: ``MatcalcError`` for a non-scalar objective, an unknown variable, or a
  ///   construct no rule covers.
  public init(
    of objective: Expr, named objectiveName: String, withRespectTo variableName: String,
    in problem: Problem, rules: RuleSet = .embedded
  ) throws {
    var problem = problem
    guard objective.isScalar else {
      throw MatcalcError.unsupported(
        "\(objectiveName) has shape \(objective.shape); matcalc derives gradients of scalar "
          + "expressions (Jacobians and matrix-by-matrix derivatives are not built yet)", nil)
    }
    // A defined name as the variable: treat it as an input (∂f/∂D with D held free).
    if let index = problem.definitions.firstIndex(where: { $0.name == variableName }) {
      let definition = problem.definitions.remove(at: index)
      let type: TypeSpec =
        definition.variable.shape.isScalar
        ? .scalar
        : definition.variable.shape.cols == .one
          ? .vector(definition.variable.shape.rows)
          : .matrix(definition.variable.shape.rows, definition.variable.shape.cols)
      problem.inputs.append((variableName, definition.variable, type))
    }
    guard let variable = problem.inputs.first(where: { $0.name == variableName })?.expr else {
      throw MatcalcError.unknownName(variableName, SourceRange(line: 0, column: 0, length: 0))
    }
    var builder = GradientBuilder(problem: problem, rules: rules)
    let (inlined, named, adjoints) = try builder.gradient(
      of: objective, withRespectTo: variable)
    var simplifier = Simplifier(rules: rules)
    var folding: [(body: Expr, variable: Expr)] = []
    for definition in problem.definitions {
      folding.append((definition.body, definition.variable))
      folding.append((try simplifier.simplified(definition.body), definition.variable))
    }
    var presentation = Presentation(definitions: folding)
    self.problem = problem
    self.objective = objective
    self.objectiveName = objectiveName
    self.variable = variable
    self.variableName = variableName
    result = try presentation.presented(inlined)
    self.named = try presentation.presented(named)
    intermediates = try adjoints.map {
      Intermediate(
        name: $0.definition.name, variable: $0.variable,
        value: try presentation.presented($0.value))
    }
    steps = builder.simplifier.steps + builder.accumulation.steps + simplifier.steps
  }

  /// The intermediates as definitions, for evaluation.
  private var intermediateDefinitions: [Problem.Definition] {
    intermediates.map {
      Problem.Definition(
        name: ($0.variable.description), variable: $0.variable, body: $0.value,
        range: SourceRange(line: 0, column: 0, length: 0))
    }
  }

  /// Checks the printed formulas (the inlined one and, when there is one, the backward
  /// recursion) against central finite differences of the objective.
  public func check(points: Int = 2) throws -> Certificate {
    var certificate = try Checker.checkGradient(
      of: objective, withRespectTo: variable, gradient: result, in: problem, points: points)
    if !intermediates.isEmpty && certificate.passed {
      let recursion = try Checker.checkGradient(
        of: objective, withRespectTo: variable, gradient: named, in: problem,
        intermediates: intermediateDefinitions, points: points)
      if !recursion.passed || recursion.maxRelativeError > certificate.maxRelativeError {
        certificate = recursion
      }
    }
    return certificate
  }

  /// Definitions the printed formulas refer to, in the order written.
  public var definitionsUsed: [Problem.Definition] {
    var used = Set<Expr>()
    var visited = Set<Expr>()
    var bodies: [Expr: Expr] = [:]
    for definition in problem.definitions { bodies[definition.variable] = definition.body }
    func walk(_ e: Expr) {
      guard visited.insert(e).inserted else { return }
      if let body = bodies[e] {
        used.insert(e)
        walk(body)
      }
      e.children.forEach(walk)
    }
    walk(result)
    if intermediates.count >= 2 {
      walk(named)
      intermediates.forEach { walk($0.value) }
    }
    return problem.definitions.filter { used.contains($0.variable) }
  }

  private func partial(_ renderer: MathRenderer) -> String {
    let of = renderer.name(objectiveName)
    let wrt = renderer.name(variableName)
    return renderer.style == .text
      ? "∂\(of)/∂\(wrt)" : "\\frac{\\partial \(of)}{\\partial \(wrt)}"
  }

  /// The formula in a format; `certificate` adds the check line (text) or object (JSON).
  public func render(_ format: OutputFormat, certificate: Certificate? = nil) throws -> String {
    switch format {
    case .text:
      let renderer = MathRenderer(.text)
      var lines: [String] = []
      let isName = problem.expr(named: objectiveName) != nil
      if !isName { lines.append("\(objectiveName) = \(renderer.render(objective))") }
      lines.append("\(partial(renderer)) = \(renderer.render(result))")
      let used = definitionsUsed
      if !used.isEmpty {
        lines.append(
          "  where "
            + used.map { "\(renderer.name($0.name)) = \(renderer.render($0.body))" }
            .joined(separator: ", "))
      }
      if intermediates.count >= 2 {
        lines.append("  backward:")
        for intermediate in intermediates {
          lines.append(
            "    \(renderer.name("δ" + intermediate.name)) = ∂\(renderer.name(objectiveName))/∂"
              + "\(renderer.name(intermediate.name)) = \(renderer.render(intermediate.value))")
        }
        lines.append("    \(partial(renderer)) = \(renderer.render(named))")
      }
      if let certificate { lines.append(certificate.description) }
      return lines.joined(separator: "\n")
    case .latex:
      let renderer = MathRenderer(.latex)
      return "\(partial(renderer)) = \(renderer.render(result))"
    case .numpy:
      return try NumpyRenderer(problem: problem).render(result, shapedLike: variable)
    case .json:
      var object: [String: Any] = [
        "of": objectiveName,
        "wrt": variableName,
        "shape": [variable.shape.rows.description, variable.shape.cols.description],
        "text": MathRenderer(.text).render(result),
        "latex": MathRenderer(.latex).render(result),
        "where": definitionsUsed.map {
          ["name": $0.name, "text": MathRenderer(.text).render($0.body)]
        },
        "backward": intermediates.map {
          ["name": $0.name, "text": MathRenderer(.text).render($0.value)]
        },
        "rules": steps.map(\.rule),
      ]
      object["numpy"] =
        (try? NumpyRenderer(problem: problem).render(result, shapedLike: variable)) ?? NSNull()
      if let certificate {
        object["check"] = [
          "passed": certificate.passed,
          "max_relative_error": certificate.maxRelativeError,
          "sizes": certificate.sizes,
          "points": certificate.points,
        ]
      }
      let data = try JSONSerialization.data(
        withJSONObject: object, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
      return String(decoding: data, as: UTF8.self)
    }
  }
}

// MARK: - Entry points

/// Parses problem text (declarations, definitions, index definitions, goals).
///
/// - Parameter source: statements separated by newlines or `;`.
/// - Returns: the type-checked ``Problem``.
/// - Throws: ``MatcalcError`` with the position of the first problem.
public func parseProblem(_ source: String) throws -> Problem {
  var parser = try Parser(source)
  let statements = try parser.statements()
  var checker = TypeChecker(source: source)
  checker.raiseIndexDefinition = IndexDefinitionRaiser.raise
  try checker.check(statements)
  return checker.problem
}

/// Derives `∂expression/∂wrt` where the statements declare and define the names used.
///
/// ```swift
/// let d = try derive("x'*A*x", wrt: "x", where: "x : vector(n); A : matrix(n, n)")
/// try d.render(.text)  // "f = xᵀ A x\n∂f/∂x = (A + Aᵀ) x"
/// ```
///
/// - Parameters:
///   - expression: a scalar expression in the language of shared/LANGUAGE.md.
///   - wrt: the variable, an input or a defined name.
///   - statements: declarations and definitions, separated by `;` or newlines. Positions in
///     errors count the statements' lines first, then the expression's line.
///   - rules: the rule set; by default the embedded Rules/.
/// - Returns: the unchecked ``Derivation``; call ``Derivation/check(points:)``.
/// - Throws: ``MatcalcError``.
public func derive(
  _ expression: String, wrt: String, where statements: String = "",
  rules: RuleSet = .embedded
) throws -> Derivation {
  let lineCount = statements.split(separator: "\n", omittingEmptySubsequences: false).count
  var whereParser = try Parser(statements)
  let parsedStatements = try whereParser.statements()
  var expressionParser = try Parser(expression, firstLine: lineCount + 1)
  let objectiveSyntax = try expressionParser.singleExpression()
  var checker = TypeChecker(source: statements + "\n" + expression)
  checker.raiseIndexDefinition = IndexDefinitionRaiser.raise
  guard let objective = try checker.check(parsedStatements, objective: objectiveSyntax) else {
    throw MatcalcError.internalError("no objective")
  }
  let trimmed = expression.trimmingCharacters(in: .whitespaces)
  let isName = checker.problem.expr(named: trimmed) != nil
  return try Derivation(
    of: objective, named: isName ? trimmed : "f", withRespectTo: wrt,
    in: checker.problem, rules: rules)
}
