import Foundation
import TensorKernel

/// The gradients of one scalar objective with respect to several variables from one backward
/// pass: the adjoint δD of each definition is derived once, and every gradient is stated in
/// terms of those δ's, so the work and the printed result stay linear in the depth (an
/// L-layer network's ∂l/∂W_l for every l).
public struct Backpropagation: Sendable, CertifiedResult {
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
  /// The certificate ``derive(_:wrt:where:rules:)`` checked all gradients with, jointly, in
  /// ``certifiedLayout``; `nil` when derived unchecked. Rendering in that layout prints it.
  public private(set) var certificate: Certificate?
  /// The layout ``certificate`` checked.
  public private(set) var certifiedLayout = Layout.standard

  /// The gradients with their ``certificate``: ``check(points:directions:layout:)`` run and
  /// passed.
  ///
  /// - Parameters:
  ///   - points: how many size draws to check at.
  ///   - layout: the layout whose printed forms are checked.
  /// - Returns: these gradients, the certificate stored.
  /// - Throws: ``MatcalcError/checkFailed(_:)`` when they do not pass.
  public func certified(points: Int = 2, layout: Layout = .standard) throws -> Backpropagation {
    let result = try check(points: points, layout: layout)
    guard result.passed else {
      throw MatcalcError.checkFailed(
        "the gradients of \(objectiveName): "
          + (result.failure
            ?? "max rel. error \(result.maxRelativeError) at \(result.worstEntry)")
          + "; nothing is returned")
    }
    var copy = self
    copy.certificate = result
    copy.certifiedLayout = layout
    return copy
  }

  /// The convention of the variables declared `symmetric(n)` (each differentiated with every
  /// entry independent, at a symmetric point), naming them, or nil when there are none.
  var symmetricConvention: String? {
    let symmetric = variables.filter { variable in
      problem.inputs.contains { $0.expr == variable.expr && $0.type.isSymmetric }
    }
    guard !symmetric.isEmpty else { return nil }
    return "convention: every entry of a symmetric variable ("
      + symmetric.map(\.name).joined(separator: ", ")
      + ") independent, evaluated at a symmetric point"
  }

  /// The rules it was derived with; printing it in another layout uses the same ones.
  private let rules: RuleSet

  /// One backward pass for `variableNames` (inputs of `problem`).
  ///
  /// - Throws: ``MatcalcError`` for a non-scalar objective or an unknown variable.
  init(
    of objective: Expr, named objectiveName: String, withRespectTo variableNames: [String],
    in problem: Problem, rules: RuleSet = .embedded
  ) throws {
    self = try rules.withRaiseRules {
      try Backpropagation(
        deriving: objective, named: objectiveName, withRespectTo: variableNames, in: problem,
        rules: rules)
    }
  }

  private init(
    deriving objective: Expr, named objectiveName: String, withRespectTo variableNames: [String],
    in problem: Problem, rules: RuleSet
  ) throws {
    var problem = problem
    let objective = try objective.substituting(try problem.markSymmetricDefinitions())
    guard objective.isScalar else {
      throw MatcalcError.unsupported(
        "several variables at once (--wrt A,B) need a scalar \(objectiveName); it is "
          + "\(objective.shape)", nil)
    }
    variables = try variableNames.map { name in
      guard let input = problem.inputs.first(where: { $0.name == name }) else {
        throw MatcalcError.unsupported(
          "cannot differentiate with respect to '\(name)': it is not an input", nil)
      }
      if Matcher.isSymmetric(input.expr) && input.type.isSymmetric {
        throw MatcalcError.unsupported(
          "'\(name)' is declared symmetric(n): parse the problem for it with "
            + "parseProblem(_:differentiating:) (every entry independent, as written)", nil)
      }
      return (name, input.expr)
    }
    var builder = GradientBuilder(problem: problem, rules: rules)
    let (named, adjoints, _) = try builder.backpropagate(
      objective, to: variables.map(\.expr), seed: .constant(1), inlining: false)
    var presentation = try Presentation(problem: problem, rules: rules)
    presentation.makeFamiliar(objective)
    presentation.symmetricAtPoint = try Derivation.symmetricAtPoint(
      problem, variables.map(\.expr))
    // sum(y) = 1 for a simplex input only when no gradient is taken by it.
    let differentiated = variables.map(\.expr)
    presentation.simplexSums = try Derivation.simplexSums(in: problem, except: nil).filter {
      sum in !differentiated.contains { sum.key.children.contains($0) }
    }
    gradients = try named.map { try presentation.presented($0) }
    intermediates = try adjoints.map {
      Derivation.Intermediate(
        name: $0.definition.name, variable: $0.variable,
        value: try presentation.presented($0.value))
    }
    self.problem = problem
    self.rules = rules
    self.objective = objective
    self.objectiveName = objectiveName
  }

  /// Checks all gradients at once: along random directions V for every variable together,
  /// Σ_v ⟨G_v, V_v⟩ against the central difference of the objective (Richardson-extrapolated).
  /// In numerator layout the gradients are checked as printed there (each the transpose of
  /// G_v), transposed back node for node.
  public func check(points: Int = 2, directions: Int = 6, layout: Layout = .standard) throws
    -> Certificate
  {
    let printed =
      layout == .numerator
      ? try laidOut(layout).map { try Expr.make(.transpose($0)) } : gradients
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
      var values = try Sampler.draw(
        inputsOf: problem, requirements: requirements, sizes: sizes,
        generator: &generator)
      // Inside the domain (a log barrier), variable by variable.
      values = try Checker.movedIntoDomain(
        values, variables: variables.map(\.name), of: objectiveName, sizes: sizes
      ) { candidate in
        var magnitude = 0.0
        return try Checker.value(
          of: objective, in: problem, sizes: sizes, values: candidate, magnitude: &magnitude)
      }
      var evaluator = Evaluator(sizes: sizes, values: values)
      try evaluator.bind(definitions)
      let formulas = try printed.map { try evaluator.evaluate($0) }
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

  /// The gradients in a layout: numerator layout transposes each (∂f/∂X shaped like Xᵀ).
  public func laidOut(_ layout: Layout) throws -> [Expr] {
    guard layout == .numerator else { return gradients }
    var simplifier = Simplifier(rules: rules)
    return try gradients.map { try simplifier.simplified(try Expr.transpose($0)) }
  }

  /// The backward pass step by step in index form: each definition's adjoint by the chain
  /// rule through its users, then each variable's gradient, all through the same δ's.
  ///
  /// - Returns: lines of text, or LaTeX paragraphs and display equations.
  public func renderSteps(_ style: MathRenderer.Style = .text) throws -> String {
    let steps = try IndexSteps.backward(
      problem: problem, objective: objective, objectiveName: objectiveName,
      variables: variables, results: gradients, intermediates: intermediates)
    return IndexSteps.formatted(backward: steps, objectiveName: objectiveName, style)
      .joined(separator: "\n")
  }

  /// The backward recursion, then one line per variable; NumPy gives a tuple in the order of
  /// the variables, a standalone LaTeX document one section (with the steps). With `steps`,
  /// Markdown ends with ``renderSteps(_:)``. Given a `certificate`, emitted code (NumPy,
  /// Python, JAX, JSON's `numpy`) is run as printed at its sizes and must give every gradient
  /// in its shape, or the call throws ``MatcalcError/internalError(_:)``.
  public func render(
    _ format: OutputFormat, certificate: Certificate? = nil, layout: Layout = .standard,
    standalone: Bool = false, steps: Bool = false, sizes: [String: Int] = [:]
  ) throws -> String {
    try checkedRendering(
      format, certificate: certificate, layout: layout, standalone: standalone, steps: steps,
      sizes: sizes)
  }

  /// ``render(_:certificate:layout:standalone:steps:sizes:)`` before emitted code is checked.
  func rendered(
    _ format: OutputFormat, certificate: Certificate?, layout: Layout, standalone: Bool,
    steps: Bool, sizes: [String: Int]
  ) throws -> String {
    let gradients = try laidOut(layout)
    switch format {
    case .markdown:
      let renderer = MathRenderer(.latex)
      var blocks: [String] = []
      if let line = objectiveLine(renderer) { blocks.append("$$\(line)$$") }
      if !intermediates.isEmpty {
        blocks.append("Backward pass (one adjoint per definition, last first):")
      }
      for intermediate in intermediates {
        blocks.append(
          "$$\(renderer.name("δ" + intermediate.name)) = \(renderer.render(intermediate.value))$$")
      }
      for ((name, _), gradient) in zip(variables, gradients) {
        blocks.append(
          "$$\\frac{\\partial \(renderer.name(objectiveName))}{\\partial \(renderer.name(name))} = "
            + "\(renderer.render(gradient))$$")
      }
      if let inferred = problem.inferredList(renderer) {
        blocks.append("Inferred (not declared): $\(inferred)$.")
      }
      if let convention = symmetricConvention {
        blocks.append(convention.prefix(1).uppercased() + convention.dropFirst() + ".")
      }
      blocks.append(layout.statement.prefix(1).uppercased() + layout.statement.dropFirst() + ".")
      if let certificate {
        blocks.append(
          certificate.description.prefix(1).uppercased() + certificate.description.dropFirst()
            + " (all gradients jointly, random directions).")
      }
      if steps { blocks += IndexSteps.markdown(fromLatex: try renderSteps(.latex)) }
      return blocks.joined(separator: "\n\n")
    case .latex where standalone:
      return LatexDocument.document(
        sections: [try latexSection(certificate: certificate, layout: layout)])
    case .text, .latex:
      let renderer = MathRenderer(format == .text ? .text : .latex)
      var lines: [String] = []
      if format == .text, let line = objectiveLine(renderer) { lines.append(line) }
      if format == .text && !intermediates.isEmpty { lines.append("backward:") }
      for intermediate in intermediates {
        let name = renderer.name("δ" + intermediate.name)
        lines.append(
          (format == .text ? "  " : "") + "\(name) = \(renderer.render(intermediate.value))")
      }
      for ((name, _), gradient) in zip(variables, gradients) {
        lines.append("\(partial(name, renderer)) = \(renderer.render(gradient))")
      }
      if format == .text {
        if let convention = symmetricConvention { lines.append("  " + convention) }
        if let inferred = problem.inferredTextLine { lines.append(inferred) }
        if layout != .standard { lines.append("  " + layout.statement) }
        if let certificate {
          lines.append(certificate.description + " (all gradients jointly, random directions)")
        }
      } else if let inferred = problem.inferredLatexLine {
        lines.append(inferred)
      }
      return lines.joined(separator: format == .text ? "\n" : " \\\\\n")
    case .numpy:
      let renderer = NumpyRenderer(problem: problem, sizes: sizes)
      let bindings = intermediates.map { ($0.variable, $0.value) }
      let lines = try zip(variables, gradients).map { variable, gradient in
        try renderer.render(
          gradient, rank: axes(of: variable.expr), bindings: bindings)
      }
      return "(" + lines.joined(separator: ", ") + (lines.count == 1 ? ",)" : ")")
    case .python, .jax:
      let renderer = NumpyRenderer(
        problem: problem, sizes: sizes, style: format == .jax ? .jaxFunction : .numpyFunction)
      let code = try renderer.code(
        zip(variables, gradients).map { ($1, axes(of: $0.expr)) },
        bindings: intermediates.map { ($0.variable, $0.value) })
      let summary = try render(.text, layout: layout).split(separator: "\n").map(String.init)
      let returns = variables.map {
        "∂\(objectiveName)/∂\($0.name): "
          + NumpyRenderer.shapeText(shape(of: $0.expr, in: layout))
      }
      let name = NumpyRenderer.functionName(["grad", objectiveName] + variables.map(\.name))
      // l = L(Y) under JAX: also the layer Y with this backward as its jax.custom_vjp.
      let wrapper =
        layout == .numerator
        ? nil
        : try renderer.customVJP(
          objective: objective, backward: name, code: code, wrt: variables.map(\.name))
      return renderer.function(
        named: name, summary: summary, returns: "tuple of " + returns.joined(separator: ", "),
        code: code, wrapper: wrapper)
    case .json:
      return try Derivation.serialized(
        jsonObject(certificate: certificate, layout: layout, steps: steps))
    case .html:
      return HTMLPage.document(
        sections: [
          try htmlSection(certificate: certificate, layout: layout, steps: steps, sizes: sizes)
        ], title: htmlTitle + " · matcalc")
    }
  }

  /// `f = …` as written, or `nil` when the objective is a name (its definition is listed).
  private func objectiveLine(_ renderer: MathRenderer) -> String? {
    guard problem.expr(named: objectiveName) == nil else { return nil }
    return "\(renderer.name(objectiveName)) = \(renderer.render(objective, asWrittenIn: problem))"
  }

  /// `∂f/∂X` in a notation.
  private func partial(_ name: String, _ renderer: MathRenderer) -> String {
    let of = renderer.name(objectiveName)
    return renderer.style == .text
      ? "∂\(of)/∂\(renderer.name(name))"
      : "\\frac{\\partial \(of)}{\\partial \(renderer.name(name))}"
  }

  /// The number of NumPy axes of ∂f/∂X: those of the array bound to the input X
  /// (``NumpyRenderer/axes(of:)``), so that a `vector(1)` gets a (1,) array, not a float.
  private func axes(of variable: Expr) -> Int {
    guard let input = problem.inputs.first(where: { $0.expr == variable }) else {
      return Derivation.rank(of: variable.shape)
    }
    return NumpyRenderer.axes(of: input.type)
  }

  /// The shape of ∂f/∂X in a layout: X's axes, swapped in numerator layout.
  private func shape(of variable: Expr, in layout: Layout) -> [String] {
    if let input = problem.inputs.first(where: { $0.expr == variable }) {
      let axes = NumpyRenderer.axisNames(of: input)
      return layout == .numerator ? axes.reversed() : axes
    }
    let shape = variable.shape
    switch Derivation.rank(of: shape) {
    case 0: return []
    case 1: return [(shape.cols == .one ? shape.rows : shape.cols).description]
    default:
      let axes = [shape.rows.description, shape.cols.description]
      return layout == .numerator ? axes.reversed() : axes
    }
  }

  /// The JSON object of ``render(_:certificate:layout:standalone:sizes:)``: one entry per
  /// gradient (text, LaTeX, NumPy, shape), the backward recursion, and the NumPy tuple.
  public func jsonObject(
    certificate: Certificate? = nil, layout: Layout = .standard, steps: Bool = false
  ) throws -> [String: Any] {
    let certificate = try certificate ?? self.certificate(for: layout)
    let gradients = try laidOut(layout)
    let text = MathRenderer(.text)
    let latex = MathRenderer(.latex)
    let numpy = NumpyRenderer(problem: problem)
    let bindings = intermediates.map { ($0.variable, $0.value) }
    let plain = try plainSpellings(gradients)
    let lines = try zip(variables, gradients).enumerated().map { index, pair in
      let line = try? numpy.render(
        pair.1, rank: Derivation.rank(of: pair.0.expr.shape), bindings: bindings)
      if let line, let certificate {
        try checkEmitted(
          line, format: .numpy, layout: layout, certificate: certificate, only: index)
      }
      return line
    }
    var object: [String: Any] = [
      "of": objectiveName,
      "wrt": variables.map(\.name),
      "gradients": zip(zip(variables, gradients), zip(plain, lines)).map { pair, printed in
        let (variable, gradient) = pair
        let (plain, line) = printed
        var entry: [String: Any] = [
          "wrt": variable.name,
          "text": "\(partial(variable.name, text)) = \(text.render(gradient))",
          "latex": "\(partial(variable.name, latex)) = \(latex.render(gradient))",
          "numpy": line ?? NSNull(),
          "shape": shape(of: variable.expr, in: layout),
          "plain": plain.text ?? NSNull(),
        ]
        if let reason = plain.reason { entry["plain_reason"] = reason }
        return entry
      },
      "plain": plain.map { $0.text ?? NSNull() as Any },
      "shape": variables.map { shape(of: $0.expr, in: layout) },
      "text": try render(.text, layout: layout),
      "latex": try render(.latex, layout: layout),
      "numpy": try checkedNumpy(layout: layout, certificate: certificate) ?? NSNull(),
      "layout": layout.rawValue,
      "inferred": problem.inferredJSON,
      "backward": intermediates.map {
        ["name": $0.name, "text": text.render($0.value), "latex": latex.render($0.value)]
      },
      "layout_statement": layout.statement,
      "convention": symmetricConvention ?? NSNull(),
    ]
    if let line = objectiveLine(text), let latexLine = objectiveLine(latex) {
      object["objective"] = ["text": line, "latex": latexLine]
    }
    if steps { object["steps"] = try renderSteps().split(separator: "\n").map(String.init) }
    if let certificate { object["check"] = Derivation.checkObject(certificate) }
    return object
  }

  /// The NumPy tuple, checked as printed when a certificate is given; `nil` where NumPy cannot
  /// express it (an opaque function).
  private func checkedNumpy(layout: Layout, certificate: Certificate?) throws -> String? {
    guard
      let text = try? rendered(
        .numpy, certificate: nil, layout: layout, standalone: false, steps: false, sizes: [:])
    else { return nil }
    if let certificate {
      try checkEmitted(text, format: .numpy, layout: layout, certificate: certificate)
    }
    return text
  }

  /// Each gradient in the input language (shared/LANGUAGE.md), in the order of the variables:
  /// the backward recursion's δ's inlined, so that each parses back, as the body of a
  /// definition next to the same declarations and definitions, to the same values; `nil`
  /// where a gradient has no spelling (an opaque function's upstream gradient `∇L`).
  ///
  /// - Parameter layout: the layout, as in ``laidOut(_:)``.
  /// - Returns: one spelling (or `nil`) per variable.
  /// - Throws: ``MatcalcError`` if inlining fails.
  ///
  /// ```swift
  /// let b = try derive("x'*A*x", wrt: ["x", "A"], where: "x : vector(n); A : matrix(n, n)")
  /// try b.plain()  // ["(A + A')*x", "x*x'"]
  /// ```
  public func plain(layout: Layout = .standard) throws -> [String?] {
    try plainSpellings(try laidOut(layout)).map(\.text)
  }

  /// ``plain(layout:)`` of `gradients` (laid out), each with the reason when it has none.
  private func plainSpellings(_ gradients: [Expr]) throws -> [(text: String?, reason: String?)] {
    // Each δ uses only the ones derived before it: substitute in that order.
    var values: [Expr: Expr] = [:]
    for intermediate in intermediates {
      values[intermediate.variable] = try intermediate.value.substituting(values)
    }
    return try gradients.map { gradient in
      let inlined = try gradient.substituting(values)
      if let obstacle = PlainSpelling.obstacle(in: inlined) { return (nil, obstacle) }
      return (inlined.description, nil)
    }
  }

  /// The gradients as one section of a standalone LaTeX document (ASCII).
  public func latexSection(certificate: Certificate? = nil, layout: Layout = .standard) throws
    -> String
  {
    let certificate = try certificate ?? self.certificate(for: layout)
    let renderer = MathRenderer(.latex)
    let of = renderer.name(objectiveName)
    let wrt = variables.map { "$\(renderer.name($0.name))$" }.joined(separator: ", ")
    var lines = [
      "\\section*{Gradients of $\(of)$ with respect to \(wrt)}", "\\paragraph{Problem.}",
    ]
    var declarations: [String] = []
    for input in problem.inputs where !input.name.hasPrefix("δ") {
      declarations.append(
        "$\(renderer.name(input.name)) \\in \(LatexDocument.shape(input.type, renderer))$")
    }
    for (name, type) in problem.functions.sorted(by: { $0.key < $1.key }) {
      declarations.append(
        "$\(renderer.name(name))$ is an opaque "
          + (type == .function ? "scalar function" : "element-wise function"))
    }
    declarations += LatexDocument.definedFunctions(problem, renderer)
    lines.append(declarations.joined(separator: ", ") + ".")
    if let inferred = problem.inferredLatexLine { lines.append(LatexDocument.display(inferred)) }
    if !problem.definitions.isEmpty {
      lines.append("Definitions:")
      for definition in problem.definitions {
        lines.append(
          LatexDocument.display(
            "\(renderer.name(definition.name)) = \(renderer.render(definition.body))"))
      }
    }
    if problem.expr(named: objectiveName) == nil {
      lines.append("Objective:")
      lines.append(
        LatexDocument.display(
          "\(of) = \(renderer.render(objective, asWrittenIn: problem))"))
    }
    if !intermediates.isEmpty {
      lines.append(
        "\\paragraph{Backward pass.} One adjoint $\\delta D = \\partial \(of) / \\partial D$ per "
          + "definition, the last one first; every gradient is stated through them.")
      for intermediate in intermediates {
        lines.append(
          LatexDocument.display(
            "\(renderer.name("δ" + intermediate.name)) = \(renderer.render(intermediate.value))"))
      }
    }
    lines.append(
      "\\paragraph{Result.} "
        + LatexDocument.escaped(
          layout.statement.prefix(1).uppercased() + layout.statement.dropFirst()) + ".")
    for ((name, _), gradient) in zip(variables, try laidOut(layout)) {
      lines.append(
        LatexDocument.display("\(partial(name, renderer)) = \(renderer.render(gradient))"))
    }
    lines.append(
      "\\paragraph{Entry by entry.} For each definition on the way, last first, its adjoint by "
        + "the chain rule through its users, each user entry by entry, differentiated (the "
        + "product rule, with the differentials of the rules), the Kronecker deltas contracted, "
        + "and the matrix form recognised; then each gradient the same way.")
    lines.append(try renderSteps(.latex))
    if let certificate {
      lines.append(
        "\\paragraph{Numeric certificate.} \(LatexDocument.escaped(certificate.description)): "
          + "all gradients together were compared with central finite differences of the "
          + "objective along random directions.")
    }
    return lines.joined(separator: "\n")
  }
}

/// Derives `expression` with respect to several variables in one backward pass.
///
/// `(∂f/∂X_v)_ij = ∂f/∂(X_v)_ij` for each variable X_v, through one adjoint
/// `δD = ∂f/∂D` per definition D, derived once and shared by every gradient.
///
/// - Parameters:
///   - expression: a scalar expression.
///   - variables: inputs of the problem.
///   - statements: declarations and definitions, as for ``derive(_:wrt:where:order:rules:)``.
///   - rules: the rule set; by default the embedded Rules/.
/// - Returns: the ``Backpropagation``, checked on numbers (all gradients jointly): its
///   ``Backpropagation/certificate`` holds the check, and rendering prints it.
/// - Throws: ``MatcalcError`` for a non-scalar objective or a variable that is not an input,
///   ``MatcalcError/checkFailed(_:)`` when the gradients do not pass their check; positions
///   count as for ``derive(_:wrt:where:order:rules:)``.
///
/// ```swift
/// let b = try derive("x'*A*x", wrt: ["x", "A"], where: "x : vector(n); A : matrix(n, n)")
/// b.certificate?.passed  // true
/// ```
public func derive(
  _ expression: String, wrt variables: [String], where statements: String = "",
  rules: RuleSet = .embedded
) throws -> Backpropagation {
  try deriveUnchecked(expression, wrt: variables, where: statements, rules: rules).certified()
}

/// ``derive(_:wrt:where:rules:)`` for several variables without the numeric check (no
/// ``Backpropagation/certificate``).
///
/// - Parameters: as for ``derive(_:wrt:where:rules:)``.
/// - Returns: the unchecked ``Backpropagation``.
/// - Throws: ``MatcalcError`` as for ``derive(_:wrt:where:rules:)``, but never
///   ``MatcalcError/checkFailed(_:)``.
public func deriveUnchecked(
  _ expression: String, wrt variables: [String], where statements: String = "",
  rules: RuleSet = .embedded
) throws -> Backpropagation {
  try relocatingErrors(statements) {
    try rules.withRaiseRules {
      let (problem, objective, name) = try parsedObjective(
        expression, statements, differentiating: Set(variables))
      return try Backpropagation(
        of: objective, named: name, withRespectTo: variables, in: problem, rules: rules)
    }
  }
}
