import Foundation
import TensorKernel

/// The output formats of ``Derivation/render(_:certificate:layout:standalone:steps:sizes:)``.
public enum OutputFormat: String, Sendable, CaseIterable {
  /// Unicode text for the terminal.
  case text
  /// A LaTeX math fragment.
  case latex
  /// One line of Python over NumPy (shared/LANGUAGE.md).
  case numpy
  /// A self-contained Python function over NumPy: inputs as parameters, named intermediates.
  case python
  /// The same function over `jax.numpy`, traceable under `jax.jit`.
  case jax
  /// A JSON object for tools.
  case json
  /// Markdown with `$$` display math.
  case markdown
  /// One self-contained HTML5 page, math as MathML (``HTMLPage``); always standalone.
  case html
}

/// How a derivative is laid out (the two conventions of matrix calculus).
public enum Layout: String, Sendable, CaseIterable {
  /// The default (shared/LANGUAGE.md, as JAX): the gradient of a scalar has the shape of the
  /// variable; a Jacobian's rows are the outputs.
  case standard
  /// Numerator layout: ∂f/∂X has the shape of Xᵀ for a scalar f; a Jacobian's rows are the
  /// outputs.
  case numerator
  /// Denominator layout: ∂f/∂X has the shape of X for a scalar f; a Jacobian's rows are the
  /// inputs (the transpose of the standard Jacobian).
  case denominator

  /// One sentence stating the convention.
  public var statement: String {
    switch self {
    case .standard:
      return "layout: a gradient has the shape of the variable, a Jacobian's rows are the outputs"
    case .numerator:
      return "layout: numerator (∂f/∂X has the shape of Xᵀ, a Jacobian's rows are the outputs)"
    case .denominator:
      return "layout: denominator (∂f/∂X has the shape of X, a Jacobian's rows are the inputs)"
    }
  }
}

/// A derived formula with everything needed to print and check it.
///
/// The derivative of F (shape S_F) with respect to X (shape S_X) has shape S_F + S_X
/// (shared/LANGUAGE.md): `(∂f/∂X)_ij = ∂f/∂X_ij` for a scalar f, shaped like X, with the
/// backward recursion through the definitions it passed and the rules that fired; for a
/// vector F of a vector or scalar x, the Jacobian `J_ij = ∂F_i/∂x_j` (rows the outputs); with
/// order 2, the derivative of the first derivative (the Hessian of a scalar). A result with
/// at most two indices is a matrix formula, ``result``; one with three to six indices has no
/// matrix form and is ``tensor``, in index notation (`∂F_ij/∂X_kl = …`).
///
/// ```swift
/// let d = try derive("x'*A*x", wrt: "x", where: "x : vector(n); A : matrix(n, n)")
/// d.result.description   // "(A + A')*x"
/// d.resultShape          // ["n"]
/// d.certificate?.passed  // true: derive checks before it returns
/// ```
public struct Derivation: Sendable, CertifiedResult {
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
  /// The rules it was derived with; printing it in another form uses the same ones.
  private let rules: RuleSet
  /// How the objective is named in output (`l`, or `f` for an expression).
  public let objectiveName: String
  /// The objective.
  public let objective: Expr
  /// The variable.
  public let variable: Expr
  /// The variable's name.
  public let variableName: String
  /// The derivative in matrix form, in terms of the inputs and definitions.
  public private(set) var result: Expr
  /// The derivative in terms of the intermediates.
  public private(set) var named: Expr
  /// The backward recursion, in the order derived (last definition first).
  public private(set) var intermediates: [Intermediate]
  /// Names for the nontrivial subexpressions the printed gradient holds more than once
  /// (`α = K⁻¹ y`), in the order defined, each value over the names before it; text, LaTeX
  /// and Markdown print ``shown`` with them, NumPy and ``plain(layout:)`` the result itself.
  public private(set) var shared: [Intermediate] = []
  /// The result over the ``shared`` names (`(K⁻¹ − α αᵀ) A`), or the result when there are
  /// none; ``check(points:)`` checks it with each name bound to its value.
  public var shown: Expr { sharedForm ?? result }
  private var sharedForm: Expr?
  /// Whether `result` is the gradient on symmetric matrices (``symmetrized()``).
  public private(set) var isSymmetrized = false
  /// Every rule that fired, in order (the record the derivation keeps; ``renderSteps(_:)``
  /// prints the derivation step by step, as `--steps` does).
  public let appliedRules: [Step]
  /// The certificate ``derive(_:wrt:where:order:rules:)`` checked the printed forms with, in
  /// ``certifiedLayout``; `nil` for a derivation from
  /// ``deriveUnchecked(_:wrt:where:order:rules:)`` or an initialiser, which is not checked.
  /// Rendering in that layout prints it.
  public private(set) var certificate: Certificate?
  /// The layout ``certificate`` checked.
  public private(set) var certifiedLayout = Layout.standard
  /// 1 for first derivatives, 2 for second.
  public let order: Int
  /// For a second derivative, the first (the gradient it differentiates).
  public let firstOrder: Expr?
  /// The number of axes of the result: S_F + S_X (shared/LANGUAGE.md).
  public let resultRank: Int
  /// For a result with three to six indices, which has no matrix form: its index form,
  /// `∂F_ij/∂X_kl = Σ_terms coefficient · factors` (three or four indices: a matrix by a
  /// matrix, a vector or a matrix by a matrix, a Hessian with respect to a matrix; five or
  /// six: the second derivative of a vector or matrix by a matrix). `result` is then the
  /// function differentiated, not the derivative; ``render(_:certificate:layout:standalone:steps:sizes:)``
  /// prints this form (`∂f_i/∂W_kl = δ_ki x_l`) and ``plain(layout:)`` is `nil`.
  ///
  /// ```swift
  /// let d = try derive("W*x", wrt: "W", where: "W : matrix(m, n); x : vector(n)")
  /// d.tensor != nil         // true
  /// try d.render(.text)     // "f = W x\n∂f_i/∂W_kl = δ_ki x_l\nchecked: max rel. error …"
  /// d.resultShape           // ["m", "m", "n"]
  /// ```
  public let tensor: TensorDerivative?
  /// For a second derivative with five or six indices: the first derivative (three or four
  /// indices) it differentiates.
  public private(set) var firstTensor: TensorDerivative?
  /// The first derivative as differentiated again, where it differs from ``firstOrder`` or
  /// ``firstTensor``: those are printed at a symmetric point (S⁻ᵀ as S⁻¹), which is exact for
  /// their values but not for their derivative along every entry, which the certificate
  /// compares the second derivative with.
  private var exactFirstOrder: Expr?
  private var exactFirstTensor: TensorDerivative?

  /// Derives `∂objective/∂variable` over `problem`.
  ///
  /// - Throws: ``MatcalcError`` for a non-scalar objective, an unknown variable, or a
  ///   construct no rule covers.
  public init(
    of objective: Expr, named objectiveName: String, withRespectTo variableName: String,
    in problem: Problem, order: Int = 1, rules: RuleSet = .embedded
  ) throws {
    self = try rules.withRaiseRules {
      try Derivation(
        deriving: objective, named: objectiveName, withRespectTo: variableName, in: problem,
        order: order, rules: rules)
    }
  }

  private init(
    deriving objective: Expr, named objectiveName: String, withRespectTo variableName: String,
    in problem: Problem, order: Int, rules: RuleSet
  ) throws {
    var problem = problem
    // A defined name as the variable: treat it as an input (∂f/∂D with D held free).
    problem.makeInput(variableName)
    // K = A Aᵀ + s I is symmetric wherever it is used: K⁻ᵀ = K⁻¹.
    let objective = try objective.substituting(try problem.markSymmetricDefinitions())
    guard let input = problem.inputs.first(where: { $0.name == variableName }) else {
      let names = (problem.inputs.map(\.name) + problem.definitions.map(\.name))
        .filter { !$0.hasPrefix("\u{2}") }
      let known =
        names.isEmpty ? "the problem has none" : "those are: " + names.joined(separator: ", ")
      throw MatcalcError.unsupported(
        "cannot differentiate with respect to '\(variableName)': it is not an input or a "
          + "definition of the problem (\(known))", nil)
    }
    let variable = input.expr
    if Matcher.isSymmetric(variable) && input.type.isSymmetric {
      // Typed symmetric, Sᵀ would already be S in the objective: not f as written.
      throw MatcalcError.unsupported(
        "'\(variableName)' is declared symmetric(n): parse the problem for it with "
          + "parseProblem(_:differentiating:) (every entry independent, as written)", nil)
    }
    let variableRank = Self.rank(of: input.type)
    let objectiveRank = Self.rank(of: objective.shape)
    var builder = GradientBuilder(problem: problem, rules: rules)
    var presentation = try Presentation(problem: problem, rules: rules)
    presentation.makeFamiliar(objective)
    presentation.simplexSums = try Self.simplexSums(in: problem, except: variable)
    presentation.symmetricAtPoint = try Self.symmetricAtPoint(problem, [variable])
    self.problem = problem
    self.rules = rules
    self.objective = objective
    self.objectiveName = objectiveName
    self.variable = variable
    self.variableName = variableName
    self.order = order
    switch (order, objectiveRank, variableRank) {
    case (1, 0, _):
      tensor = nil
      let (inlined, named, adjoints) = try builder.gradient(of: objective, withRespectTo: variable)
      result = try presentation.presented(inlined)
      // Without adjoints the named form is the inlined one.
      self.named = named === inlined ? result : try presentation.presented(named)
      intermediates = try adjoints.map {
        Intermediate(
          name: $0.definition.name, variable: $0.variable,
          value: try presentation.presented($0.value))
      }
      firstOrder = nil
      resultRank = variableRank
    case (1, 1, 0...1), (1, 2, 0):
      // At most two indices: a matrix form (a Jacobian, a matrix's derivative by a scalar).
      tensor = nil
      result = try presentation.presented(
        try Self.jacobian(of: objective, withRespectTo: variable, builder: &builder))
      named = result
      intermediates = []
      firstOrder = nil
      resultRank = objectiveRank + variableRank
    case (2, 0, 0...1), (2, 1...2, 0):
      // The derivative of the first derivative, both in matrix form.
      tensor = nil
      let first = try Self.firstDerivative(
        of: objective, withRespectTo: variable, builder: &builder, presentation: &presentation)
      firstOrder = try presentation.presented(first)
      result = try presentation.presented(
        try Self.jacobian(of: first, withRespectTo: variable, builder: &builder))
      named = result
      intermediates = []
      resultRank = objectiveRank + 2 * variableRank
    case (1, 1...2, 0...2), (2, 0, 2), (2, 1, 1):
      // Three or four indices: seed with a symbolic U shaped like F and read the terms.
      let function: Expr
      if order == 2 {
        // The first derivative (a gradient matrix, a Jacobian) is the function.
        let first = try Self.firstDerivative(
          of: objective, withRespectTo: variable, builder: &builder, presentation: &presentation)
        firstOrder = try presentation.presented(first)
        if !presentation.symmetricAtPoint.isEmpty { exactFirstOrder = first }
        function = first
      } else {
        firstOrder = nil
        function = objective
      }
      // The index form sees through every name; its entries print with the names folded
      // back (K⁻¹, not (A Aᵀ + s I)⁻¹).
      tensor = try Self.tensorDerivative(
        of: function, withRespectTo: variable, in: problem, rules: rules
      )
      .tensor.mappingExpressions { try presentation.atPoint(try presentation.folded($0)) }
      result = function
      named = function
      intermediates = []
      resultRank = Self.rank(of: function.shape) + variableRank
      appliedRules = builder.simplifier.steps + builder.accumulation.steps
      return
    case (2, 1, 2), (2, 2, 1...2):
      // Five or six indices: the first derivative in index form (three or four indices),
      // differentiated again term by term.
      let (first, firstTerms, firstIndex) = try Self.tensorDerivative(
        of: objective, withRespectTo: variable, in: problem, rules: rules)
      firstOrder = nil
      var second = IndexDerivative(withRespectTo: variable, indices: "p", "q", rules: rules)
      second.lowering = firstIndex.lowering  // fresh summed indices stay fresh
      tensor = try TensorDerivative(
        indexTerms: try second.derivative(of: firstTerms), functionShape: objective.shape,
        variableShape: variable.shape, secondVariableShape: variable.shape
      ).mappingExpressions { try presentation.atPoint(try presentation.folded($0)) }
      firstTensor = try first.mappingExpressions {
        try presentation.atPoint(try presentation.folded($0))
      }
      if !presentation.symmetricAtPoint.isEmpty { exactFirstTensor = first }
      result = objective
      named = objective
      intermediates = []
      resultRank = objectiveRank + 2 * variableRank
      appliedRules = builder.simplifier.steps + builder.accumulation.steps
      return
    default:
      let what = order == 2 ? "second derivatives (--order 2)" : "derivatives"
      throw MatcalcError.unsupported(
        "\(what) of \(objectiveName) (\(objective.shape)) with respect to \(variableName) "
          + "(\(variable.shape)): this combination of shapes (a "
          + "\(objectiveRank + order * variableRank)-index result; up to 6 are built) is not "
          + "built yet", nil)
    }
    appliedRules = builder.simplifier.steps + builder.accumulation.steps
    if order == 1 && objective.isScalar { try nameSharedSubexpressions() }
  }

  /// Names what the gradient holds more than once (``shared``), with Greek letters the problem
  /// does not use.
  private mutating func nameSharedSubexpressions() throws {
    let sharing = try SharedSubexpressions(result) {
      let taken = takenNames
      let spellings = ["alpha", "beta", "gamma", "eta", "theta", "kappa", "mu", "nu", "xi", "rho"]
        .filter { !taken.contains(Names.text($0)) }
      return Array(spellings.prefix(3))
    }
    sharedForm = sharing.names.isEmpty ? nil : sharing.formula
    shared = sharing.names.map {
      Intermediate(name: $0.variable.description, variable: $0.variable, value: $0.value)
    }
  }

  /// 0 for a scalar, 1 for a vector, 2 for a matrix (the number of NumPy axes).
  /// S_F + S_X (+ S_X for a second derivative), the result's axes as dimension names or
  /// sizes (shared/LANGUAGE.md): `[]` for a scalar, `["n"]` for a vector.
  public var resultShape: [String] {
    func axes(_ shape: Shape) -> [String] {
      switch Self.rank(of: shape) {
      case 0: return []
      case 1: return [(shape.cols == .one ? shape.rows : shape.cols).description]
      default: return [shape.rows.description, shape.cols.description]
      }
    }
    // X's axes are those of the array bound to the input (a `vector(1)` has one).
    let input = problem.inputs.first { $0.expr == variable }
    let variableAxes = input.map(NumpyRenderer.axisNames) ?? axes(variable.shape)
    return axes(objective.shape) + Array(repeating: variableAxes, count: order).flatMap { $0 }
  }

  /// Each of `variables` declared `symmetric(n)` and typed with every entry independent →
  /// the same name typed symmetric: the derivative is evaluated at symmetric points.
  static func symmetricAtPoint(_ problem: Problem, _ variables: [Expr]) throws -> [Expr: Expr] {
    var map: [Expr: Expr] = [:]
    for input in problem.inputs where input.type.isSymmetric && variables.contains(input.expr) {
      guard case .variable(let name, let shape, symmetric: false) = input.expr.node else {
        continue
      }
      map[input.expr] = try Expr.variable(name, shape, symmetric: true)
    }
    return map
  }

  /// `sum(y) → 1` for each input declared `simplex(n)` other than `variable`.
  static func simplexSums(in problem: Problem, except variable: Expr?) throws -> [Expr: Expr] {
    var sums: [Expr: Expr] = [:]
    for input in problem.inputs where input.expr != variable {
      if case .simplex = input.type { sums[try Expr.call(.sum, input.expr)] = .constant(1) }
    }
    return sums
  }

  static func rank(of type: TypeSpec) -> Int {
    switch type {
    case .scalar, .function, .elementwise: return 0
    case .vector, .simplex: return 1
    case .matrix, .symmetric: return 2
    }
  }

  static func rank(of shape: Shape) -> Int {
    if shape.isScalar { return 0 }
    return shape.rows == .one || shape.cols == .one ? 1 : 2
  }

  /// The first derivative a second one differentiates (a gradient or a Jacobian), with its
  /// element-wise algebra simplified first (σ − y, not a quotient that cancels to it), so the
  /// second derivative comes out in the textbook form.
  private static func firstDerivative(
    of objective: Expr, withRespectTo variable: Expr, builder: inout GradientBuilder,
    presentation: inout Presentation
  ) throws -> Expr {
    let first =
      objective.isScalar
      ? try builder.gradient(of: objective, withRespectTo: variable).inlined
      : try jacobian(of: objective, withRespectTo: variable, builder: &builder)
    // Folded first: the rules write σ(z) where the input wrote its name a.
    var algebra = ElementwiseAlgebra()
    return try builder.simplifier.simplified(
      try algebra.normalized(try presentation.folded(first)))
  }

  /// The derivative in matrix form when it has at most two indices: `J_ij = ∂F_i/∂x_j` of a
  /// vector (or scalar) F by a vector or scalar x, and `∂F_ij/∂s` (shaped like F) of a matrix F
  /// by a scalar s. Reverse accumulation seeded with a symbolic U shaped like F gives
  /// Σ U_ij ∂F_ij/∂x; for a vector F that is Jᵀ u, whose coefficient of u is Jᵀ.
  /// ∂F_ij/∂X_kl in index form: F lowered entry by entry and differentiated element-wise
  /// (``IndexDerivative``), deltas contracted and matrix products raised. Returns the raw
  /// index terms too, for a second derivative.
  static func tensorDerivative(
    of function: Expr, withRespectTo variable: Expr, in problem: Problem, rules: RuleSet
  ) throws -> (tensor: TensorDerivative, terms: [IndexTerm], index: IndexDerivative) {
    var index = IndexDerivative(withRespectTo: variable, indices: "k", "l", rules: rules)
    let terms = try index.derivative(of: try inlined(function, in: problem), "i", "j")
    let tensor = try TensorDerivative(
      indexTerms: terms, functionShape: function.shape, variableShape: variable.shape)
    return (tensor, terms, index)
  }

  /// `e` with every definition replaced by its body: the index form sees through every
  /// name to the inputs.
  static func inlined(_ e: Expr, in problem: Problem) throws -> Expr {
    var bodies: [Expr: Expr] = [:]
    for definition in problem.definitions {
      bodies[definition.variable] = try definition.body.substituting(bodies)
    }
    return try e.substituting(bodies)
  }

  private static func jacobian(
    of function: Expr, withRespectTo variable: Expr, builder: inout GradientBuilder
  ) throws -> Expr {
    let isVector = function.shape.rows == .one || function.shape.cols == .one
    let column =
      function.shape.rows == .one && !function.isScalar
      ? try builder.simplifier.simplified(try Expr.transpose(function)) : function
    let seed = try Expr.variable("\u{2}u", isVector ? Shape(column.shape.rows, .one) : column.shape)
    let adjoint = try builder.gradient(of: column, withRespectTo: variable, seed: seed).inlined
    if isVector {
      var form = LinearForm(of: seed)
      if let coefficient = try form.coefficient(adjoint) {
        return try builder.simplifier.simplified(try Expr.transpose(coefficient))
      }
    }
    // Entry by entry: F's (i, j) differentiated by x's k in index form, raised to matrix
    // form (x is a scalar or a column here).
    let free = [("i", column.shape.rows), ("j", column.shape.cols), ("k", variable.shape.rows)]
      .filter { $0.1 != .one }
    var index = IndexDerivative(
      withRespectTo: variable, indices: "k", nil, rules: builder.accumulation.rules)
    let terms = try index.derivative(
      of: try inlined(column, in: builder.problem), "i", "j")
    let raised = try IndexRaising.raise(
      terms, to: free.map(\.0), ranges: Dictionary(uniqueKeysWithValues: free))
    // One index: a column, except ∂f/∂x of a scalar f, a row (1×n, rows the outputs).
    let jacobian =
      free.count == 1 && free[0].0 == "k" ? try raised.transposed().expr : raised.expr
    return try builder.simplifier.simplified(jacobian)
  }

  /// The index-form steps of a first derivative of a vector or matrix F, or nil for
  /// another kind of result.
  func indexSteps() throws -> IndexSteps? {
    guard order == 1 else { return nil }
    return try indexSteps(of: objective, named: objectiveName, matrix: tensor == nil ? result : nil)
  }

  /// The index-form steps of ∂F/∂X for F (the objective, or a Hessian's gradient), or nil
  /// for a gradient through definitions (explained by ``backwardSteps()``).
  func indexSteps(of objective: Expr, named name: String, matrix: Expr?) throws -> IndexSteps? {
    guard explainsInIndexForm(objective) else { return nil }
    let rows = objective.shape.rows == .one ? nil : "i"
    let cols = objective.shape.cols == .one ? nil : "j"
    let names = problem.oneLetterNames
    let pair = IndexSteps.indexPair(avoiding: names.union([rows, cols].compactMap { $0 }))
    var index = IndexDerivative(
      withRespectTo: variable, indices: pair.0, pair.1, rules: .embedded)
    let function = try index.lowered(
      try Self.inlined(objective, in: problem), rows, cols, keepingSums: true)
    var steps = try IndexSteps(
      function: function, index: &index, shape: objective.shape, rows: rows, cols: cols,
      named: name, variableName: variableName, matrix: matrix)
    steps.names = names
    try steps.addCollapse(functionShape: objective.shape, avoiding: names)
    return steps
  }

  /// The backward pass of a gradient through definitions in index form: the adjoint of each
  /// definition on the way, then the gradient (``IndexSteps/backward(problem:objective:objectiveName:variables:results:intermediates:)``).
  func backwardSteps() throws -> [IndexSteps]? {
    guard order == 1, tensor == nil, objective.isScalar, !problem.definitions.isEmpty else {
      return nil
    }
    return try IndexSteps.backward(
      problem: problem, objective: objective, objectiveName: objectiveName,
      variables: [(variableName, variable)], results: [named], intermediates: intermediates,
      printed: [result])
  }

  /// Whether ``renderSteps(_:)`` explains this derivative directly in index form (not as a
  /// backward pass through definitions).
  var explainsInIndexForm: Bool {
    order == 1 || (tensor == nil && firstOrder != nil) ? explainsInIndexForm(objective) : false
  }

  /// Whether derivatives of `function` are explained in index form: all but a gradient
  /// through definitions (explained by its backward pass, a δ per definition).
  private func explainsInIndexForm(_ function: Expr) -> Bool {
    !function.isScalar || problem.definitions.isEmpty
  }

  /// Whether ``renderSteps(_:)`` has steps: all but a second derivative whose first
  /// derivative has three or more indices.
  public var hasSteps: Bool { order == 1 || firstOrder != nil }

  /// The derivation step by step, in index form as the engine computes it: for a vector or
  /// matrix function, or a gradient without definitions, the function entry by entry, each
  /// factor differentiated (product rule, differential rules), the deltas contracted, the
  /// matrix products recognised (``indexSteps()``); for a gradient through definitions, the
  /// same for each definition's adjoint and then the variable (``backwardSteps()``); for a
  /// second derivative, the first derivative, then its derivative.
  ///
  /// - Returns: lines of text, or LaTeX paragraphs and display equations.
  public func renderSteps(_ style: MathRenderer.Style = .text) throws -> String {
    if order == 1, let lines = try stepLines(of: objective, named: objectiveName, style) {
      return lines.joined(separator: "\n")
    }
    guard order == 2, let firstOrder,
      let first = try stepLines(of: objective, named: objectiveName, style, result: firstOrder),
      let second = try stepLines(
        of: firstOrder, named: objective.isScalar ? "∇" + objectiveName : "J", style,
        result: tensor == nil ? result : nil)
    else {
      throw MatcalcError.unsupported(
        "--steps for a second derivative whose first derivative has three or more indices "
          + "(derive without --steps for the result)", nil)
    }
    let heads =
      style == .latex
      ? ["\\paragraph{The first derivative.}", "\\paragraph{Its derivative.}"]
      : ["the first derivative:", "its derivative:"]
    // A Hessian in matrix form ends with it, as the result states it.
    var closing: [String] = []
    if objective.isScalar && tensor == nil {
      let renderer = MathRenderer(style)
      closing = IndexSteps.formatted(
        [
          (
            "the Hessian, the derivative of the gradient",
            "\(partial(renderer)) = \(renderer.render(result))"
          )
        ],
        style, from: second.count / 2 + 1)
    }
    return ([heads[0]] + first + [heads[1]] + second + closing).joined(separator: "\n")
  }

  /// The steps of ∂F/∂X as lines: in index form for a vector or matrix F or one without
  /// definitions, else as a backward pass; `result` is what they end in (the printed
  /// derivative by default).
  private func stepLines(
    of function: Expr, named name: String, _ style: MathRenderer.Style, result: Expr? = nil
  ) throws -> [String]? {
    let matrix = result ?? (tensor == nil ? self.result : nil)
    if let steps = try indexSteps(of: function, named: name, matrix: matrix) {
      return IndexSteps.formatted(steps.equations(style), style)
    }
    guard function.isScalar else { return nil }
    // Through definitions: in terms of the δ's printed, or (a Hessian's first derivative)
    // of the adjoints as found.
    let steps =
      try (function === objective ? backwardSteps() : nil)
      ?? IndexSteps.backward(
        problem: problem, objective: function, objectiveName: name,
        variables: [(variableName, variable)], results: [matrix ?? self.result],
        intermediates: [])
    return IndexSteps.formatted(backward: steps, objectiveName: name, style)
  }

  /// Whether the variable is declared `symmetric(n)`.
  public var isSymmetricVariable: Bool {
    problem.inputs.contains { $0.expr == variable && $0.type.isSymmetric }
  }

  /// For a symmetric variable, the gradient on the space of symmetric matrices (The Matrix
  /// Cookbook, (141)): G + Gᵀ − diag(diag(G)), where G is the gradient with every entry
  /// independent. Entry (i, j), i ≠ j, is the derivative along the one parameter that moves
  /// S_ij and S_ji together.
  public func symmetricGradient() throws -> Expr {
    guard isSymmetricVariable, objective.isScalar, order == 1, tensor == nil else {
      throw MatcalcError.unsupported(
        "--symmetric-gradient applies to the first derivative (not --order 2) of a scalar "
          + "with respect to a variable declared symmetric(n)", nil)
    }
    var simplifier = Simplifier(rules: rules)
    let g = result
    return try simplifier.simplified(
      try g + Expr.transpose(g) - Expr.call(.diag, try Expr.call(.diagonal, g)))
  }

  /// The derivation with ``symmetricGradient()`` as its result, so that every format prints
  /// the gradient on symmetric matrices (the backward recursion of G is dropped).
  ///
  /// - Throws: ``MatcalcError/unsupported(_:_:)`` unless the variable is symmetric and the
  ///   derivative a first-order gradient of a scalar.
  public func symmetrized() throws -> Derivation {
    var copy = self
    copy.certificate = nil  // a new result: checked anew when this one was
    copy.result = try symmetricGradient()
    copy.named = copy.result
    copy.intermediates = []
    copy.shared = []
    copy.sharedForm = nil
    copy.isSymmetrized = true
    // G printed once, with the names it already had (α = K⁻¹ y), when it is more than a name
    // or two: 2G − diag(diag(G)) for a G symmetric by construction, else G + Gᵀ − diag(diag(G)).
    if PlainSpelling.tokenCount(result) > Self.namedGradientSize,
      let spelling = Self.gradientSpellings.first(where: { !takenNames.contains(Names.text($0)) })
    {
      let g = try Expr.variable(spelling, result.shape, symmetric: result.isSymmetric)
      let diagonal = try Expr.call(.diag, try Expr.call(.diagonal, g))
      let twice = g.isSymmetric ? try Expr.scale(2, g) : try g + Expr.transpose(g)
      copy.sharedForm = try twice - diagonal
      copy.shared = shared + [Intermediate(name: spelling, variable: g, value: shown)]
    }
    return certificate == nil ? copy : try copy.certified(layout: certifiedLayout)
  }

  /// A gradient printed in more tokens than this is named in ``symmetrized()`` (`x*x'` and
  /// `inv(S)` are printed where they occur).
  static let namedGradientSize = 4
  /// Names for the gradient G in ``symmetrized()``, the first the problem does not use.
  static let gradientSpellings = ["G", "H", "Gamma"]

  /// The names the problem, the objective, the variable and the shared names already use, as
  /// printed.
  private var takenNames: Set<String> {
    Set(
      (problem.inputs.map(\.name) + problem.definitions.map(\.name) + problem.functions.keys
        + [objectiveName, variableName] + shared.map(\.name)).map(Names.text))
  }

  /// The convention of ``symmetrized()``, stated in outputs.
  static let symmetrizedConvention =
    "convention: the gradient on symmetric matrices, G + Gᵀ − diag(G) (The Matrix Cookbook (141))"

  /// The convention a symmetric variable's gradient follows, stated in outputs.
  static let symmetricConvention =
    "convention: every entry of a symmetric variable independent, evaluated at a symmetric "
    + "point (--symmetric-gradient gives the Cookbook's G + Gᵀ − diag(G))"

  /// ``symmetricConvention``, naming `--symmetric-gradient` only where it applies (the
  /// gradient of a scalar).
  var symmetricConventionLine: String {
    offersSymmetricGradient
      ? Self.symmetricConvention
      : "convention: every entry of a symmetric variable independent, evaluated at a symmetric "
        + "point"
  }

  /// Whether `--symmetric-gradient` applies: the first derivative of a scalar.
  var offersSymmetricGradient: Bool { tensor == nil && order == 1 && objective.isScalar }

  /// The matrices the printed derivative inverts that f itself does not (det A: f is defined
  /// at a singular A, its gradient det(A) A⁻ᵀ is printed through A⁻¹); the formula and the
  /// emitted code hold where they are invertible.
  var invertedOnlyByTheDerivative: [Expr] {
    let text = MathRenderer(.text)
    func inverted(_ roots: [Expr]) -> [(spelled: String, matrix: Expr)] {
      var found: [(spelled: String, matrix: Expr)] = []
      var seen = Set<Expr>()
      var pending = roots
      while let e = pending.popLast() {
        // Only the parts that hold an inverse are walked.
        if !e.holdsInverse || !seen.insert(e).inserted { continue }
        switch e.node {
        case .call(.inverse, var m), .call(.logdet, var m):
          // Mᵀ is invertible where M is: the orientation with fewer transposes (A B, not Bᵀ Aᵀ).
          var spelled = text.render(m)
          if let flipped = try? m.transposedForm() {
            let other = text.render(flipped)
            if other.filter({ $0 == "ᵀ" }).count < spelled.filter({ $0 == "ᵀ" }).count {
              (m, spelled) = (flipped, other)
            }
          }
          if !found.contains(where: { $0.spelled == spelled }) { found.append((spelled, m)) }
        default: break
        }
        e.forEachChild { pending.append($0) }
      }
      return found
    }
    var printed: [Expr] = [result] + intermediates.map(\.value) + shared.map(\.value)
    if shown !== result { printed.append(shown) }
    if let firstOrder { printed.append(firstOrder) }
    if let tensor {
      for term in tensor.terms {
        printed.append(term.coefficient)
        for case .entry(let e, _, _) in term.factors { printed.append(e) }
      }
    }
    let byDerivative = inverted(printed)
    if byDerivative.isEmpty { return [] }
    let byF = Set(inverted([objective] + problem.definitions.map(\.body)).map(\.spelled))
    return byDerivative.filter { !byF.contains($0.spelled) }.map(\.matrix)
  }

  /// "holds where A is invertible; f is defined at a singular A too", the matrices in the
  /// renderer's notation (LaTeX between `$`), or nil.
  func domainLine(_ renderer: MathRenderer) -> String? {
    let matrices = invertedOnlyByTheDerivative
    guard !matrices.isEmpty else { return nil }
    let latex = renderer.style == .latex
    let listed = matrices.map { latex ? "$\(renderer.render($0))$" : renderer.render($0) }
      .joined(separator: " and ")
    return "holds where \(listed) \(matrices.count == 1 ? "is" : "are") invertible; f is "
      + "defined at a singular \(listed) too"
  }

  /// The result in a layout: numerator layout transposes gradients of scalars, denominator
  /// layout transposes Jacobians; the standard one is the result as derived.
  public func laidOut(_ layout: Layout) throws -> Expr { try laidOut(layout, result) }

  /// `formula` (the result, or ``shown``) in a layout.
  func laidOut(_ layout: Layout, _ formula: Expr) throws -> Expr {
    guard transposes(in: layout) else { return formula }
    var simplifier = Simplifier(rules: rules)
    return try simplifier.simplified(try Expr.transpose(formula))
  }

  /// Whether `layout` prints the transpose of the standard result.
  private func transposes(in layout: Layout) -> Bool {
    if tensor != nil { return false }
    switch layout {
    case .standard: return false
    case .numerator: return objective.isScalar && order == 1
    case .denominator: return !objective.isScalar && order == 1
    }
  }

  /// The result in the input language (shared/LANGUAGE.md): it parses back, as the body of a
  /// definition `G = …` next to the same declarations and definitions, to the same values.
  ///
  /// `G_ij = (∂f/∂X)_ij` in the layout's matrix form. A result with three to six indices has
  /// no matrix form, and an opaque function's upstream gradient `∇L` no spelling: then `nil`
  /// (``plainUnavailableReason(layout:)`` says why).
  ///
  /// - Parameter layout: the layout of the result spelled, as in ``laidOut(_:)``.
  /// - Returns: the spelling, or `nil`.
  /// - Throws: ``MatcalcError`` if the layout's transpose cannot be simplified.
  ///
  /// ```swift
  /// let d = try derive("x'*A*x", wrt: "x", where: "x : vector(n); A : matrix(n, n)")
  /// try d.plain()  // "(A + A')*x"
  /// ```
  public func plain(layout: Layout = .standard) throws -> String? {
    try plainSpelling(layout).text
  }

  /// Why ``plain(layout:)`` is `nil`, or `nil` when it is not.
  ///
  /// - Parameter layout: the layout, as in ``plain(layout:)``.
  /// - Returns: one sentence, e.g. `a 4-index result has no matrix form; text and latex give
  ///   its index form`.
  /// - Throws: ``MatcalcError`` as ``plain(layout:)``.
  public func plainUnavailableReason(layout: Layout = .standard) throws -> String? {
    try plainSpelling(layout).reason
  }

  /// ``plain(layout:)`` and, when there is none, the reason.
  private func plainSpelling(_ layout: Layout) throws -> (text: String?, reason: String?) {
    if tensor != nil {
      return (
        nil,
        "a \(resultRank)-index result has no matrix form; text and latex give its index form"
      )
    }
    let result = try laidOut(layout)
    if let obstacle = PlainSpelling.obstacle(in: result) { return (nil, obstacle) }
    return (result.description, nil)
  }

  /// ``resultShape`` in a layout: the two axes swapped where the layout transposes.
  public func resultShape(in layout: Layout) -> [String] {
    let shape = resultShape
    return transposes(in: layout) && shape.count == 2 ? shape.reversed() : shape
  }

  /// The intermediates as definitions, for evaluation.
  var intermediateDefinitions: [Problem.Definition] { intermediates.asDefinitions }

  /// Checks the printed formulas against central finite differences of the objective as the
  /// user wrote it.
  ///
  /// The objective is evaluated from the parsed input (index definitions entry by entry), not
  /// from the engine's rewritten form; the derivative exactly as printed: the inlined formula
  /// and, when there is one, the backward recursion; for a second derivative, the first
  /// against f and the second against the first; for a result with three to six indices, its
  /// index form entry by entry. Each point draws new inputs inside the objective's domain
  /// (positive, invertible, positive definite where the formula needs it) and the dimension
  /// symbols get pairwise-distinct sizes, in a different order at alternate points.
  ///
  /// - Parameters:
  ///   - points: how many random points (size assignments and inputs) to check.
  ///   - layout: the layout the result is printed in; a layout that prints the transpose
  ///     (``laidOut(_:)``) has that form checked as well.
  /// - Returns: the worst ``Certificate``; `passed` is false when a formula disagrees with
  ///   the finite differences by more than 1e-6 relative beyond what the differences
  ///   themselves can resolve (their rounding and the gap between two step sizes), or cannot
  ///   be evaluated anywhere the objective can.
  /// - Throws: ``MatcalcError`` when nothing can be evaluated (no point in the domain).
  ///
  /// ```swift
  /// let d = try derive("logdet(X)", wrt: "X", where: "X : matrix(n, n)")
  /// let certificate = try d.check()
  /// certificate.passed  // true
  /// certificate.points  // 2
  /// ```
  public func check(points: Int = 2, layout: Layout = .standard) throws -> Certificate {
    let certificate = try checkStandardLayout(points: points)
    guard certificate.passed, transposes(in: layout), !result.isScalar else { return certificate }
    // The layout prints the transpose of the standard form: that form as printed, transposed
    // back node for node, is checked too.
    let printed = try Expr.make(.transpose(try laidOut(layout, shown)))
    let value =
      objective.isScalar
      ? try Checker.checkGradient(
        of: objective, withRespectTo: try checkedVariable, gradient: try checkable(printed),
        in: problem,
        intermediates: shared.asDefinitions, points: points)
      : try checkMatrixForm(printed, of: objective, points: points)
    return !value.passed || value.maxRelativeError > certificate.maxRelativeError
      ? value : certificate
  }

  /// The derivation with its ``certificate``: ``check(points:layout:)`` run and passed.
  ///
  /// - Parameters:
  ///   - points: how many size draws to check at.
  ///   - layout: the layout whose printed form is checked.
  /// - Returns: this derivation, its certificate stored (rendering in `layout` prints it).
  /// - Throws: ``MatcalcError/checkFailed(_:)`` when the formula does not pass, naming the
  ///   worst entry; ``MatcalcError`` when nothing can be evaluated.
  ///
  /// ```swift
  /// let d = try deriveUnchecked("logdet(X)", wrt: "X", where: "X : matrix(n, n)")
  /// try d.certified().certificate?.passed  // true
  /// ```
  public func certified(points: Int = 2, layout: Layout = .standard) throws -> Derivation {
    let result = try check(points: points, layout: layout)
    guard result.passed else {
      throw MatcalcError.checkFailed(
        "∂\(objectiveName)/∂\(variableName): "
          + (result.failure
            ?? "max rel. error \(result.maxRelativeError) at \(result.worstEntry)")
          + "; the formula is not returned")
    }
    var copy = self
    copy.certificate = result
    copy.certifiedLayout = layout
    return copy
  }

  /// ``check(points:layout:)`` of the forms printed in the standard layout.
  private func checkStandardLayout(points: Int) throws -> Certificate {
    if let tensor, let firstTensor {
      // The first derivative against f as written, then the second against the first.
      let first = try Checker.checkJacobian(
        of: objective, withRespectTo: variable, in: problem, points: points
      ) { evaluator in try firstTensor.jacobian(&evaluator) }
      let second = try Checker.checkJacobian(
        values: { evaluator in
          let value = try (exactFirstTensor ?? firstTensor).jacobian(&evaluator)
          return Tensor(rows: value.count, cols: 1, storage: value.storage)
        }, requiring: objective, withRespectTo: variable, in: problem, points: points
      ) { evaluator in try tensor.jacobian(&evaluator) }
      return !first.passed || first.maxRelativeError > second.maxRelativeError ? first : second
    }
    if let tensor {
      let function = exactFirstOrder ?? firstOrder ?? objective
      var value = try Checker.checkJacobian(
        of: function, withRespectTo: variable, in: problem, points: points
      ) { evaluator in try tensor.jacobian(&evaluator) }
      // The differential form as printed (its terms factored: dX (A + Aᵀ)).
      if value.passed, let printed = try tensor.differentialTensor() {
        let differential = try Checker.checkJacobian(
          of: function, withRespectTo: variable, in: problem, points: points
        ) { evaluator in try printed.jacobian(&evaluator) }
        if !differential.passed || differential.maxRelativeError > value.maxRelativeError {
          value = differential
        }
      }
      guard let firstOrder else { return value }
      let first = try checkMatrixForm(firstOrder, of: objective, points: points)
      return !first.passed || first.maxRelativeError > value.maxRelativeError ? first : value
    }
    if let firstOrder {  // the first derivative against f, then the second against it
      let first = try checkMatrixForm(firstOrder, of: objective, points: points)
      let second = try checkMatrixForm(result, of: firstOrder, points: points)
      return !first.passed || first.maxRelativeError > second.maxRelativeError ? first : second
    }
    if !objective.isScalar { return try checkMatrixForm(result, of: objective, points: points) }
    var certificate = try Checker.checkGradient(
      of: objective, withRespectTo: try checkedVariable, gradient: try checkable(result),
      in: problem,
      points: points)
    // The backward recursion and the formula over the shared names, as printed.
    for (formula, names) in [(named, intermediates), (shown, shared)]
    where !names.isEmpty && certificate.passed {
      let printed = try Checker.checkGradient(
        of: objective, withRespectTo: try checkedVariable, gradient: try checkable(formula),
        in: problem,
        intermediates: names.asDefinitions, points: points)
      if !printed.passed || printed.maxRelativeError > certificate.maxRelativeError {
        certificate = printed
      }
    }
    return certificate
  }

  /// The variable the gradient is checked by: the gradient on symmetric matrices along
  /// symmetric directions only (the variable typed symmetric), every other one along every
  /// entry.
  private var checkedVariable: Expr {
    get throws {
      guard isSymmetrized, case .variable(let name, let shape, _) = variable.node else {
        return variable
      }
      return try Expr.variable(name, shape, symmetric: true)
    }
  }

  /// What the checker compares with differences along symmetric directions V: the formula
  /// itself, or for the gradient on symmetric matrices Gₛ = G + Gᵀ − diag(diag(G)) (printed
  /// 2G − diag(diag(G)) for a symmetric G), ½ (Gₛ + diag(diag(Gₛ))) = ½ (G + Gᵀ), whose
  /// Σ ½ (G + Gᵀ) ⊙ V is Σ G ⊙ V for every symmetric V.
  private func checkable(_ formula: Expr) throws -> Expr {
    guard isSymmetrized else { return formula }
    let diagonal = try Expr.call(.diag, try Expr.call(.diagonal, formula))
    return try Expr.scale(0.5, try formula + diagonal)
  }

  /// Checks `derivative`, the first derivative of `function` in matrix form: a gradient, a
  /// Jacobian (rows the entries of F), or a matrix's derivative by a scalar (shaped like F,
  /// checked as the one column of F's entries).
  private func checkMatrixForm(_ derivative: Expr, of function: Expr, points: Int) throws
    -> Certificate
  {
    if function.isScalar {
      return try Checker.checkGradient(
        of: function, withRespectTo: variable, gradient: derivative, in: problem, points: points)
    }
    if function.shape.rows == .one || function.shape.cols == .one {
      return try Checker.checkJacobian(
        of: function, withRespectTo: variable, jacobian: derivative, in: problem, points: points)
    }
    return try Checker.checkJacobian(
      of: function, withRespectTo: variable, in: problem, points: points
    ) { evaluator in
      let value = try evaluator.evaluate(derivative)
      return Tensor(rows: value.count, cols: 1, storage: value.storage)
    }
  }

  /// Definitions the printed formulas refer to, in the order written.
  public var definitionsUsed: [Problem.Definition] {
    if problem.definitions.isEmpty { return [] }
    var bodies = [Expr: Expr](minimumCapacity: problem.definitions.count)
    for definition in problem.definitions { bodies[definition.variable] = definition.body }
    // What the printed formulas mention, followed through the bodies of the names they use.
    var pending: [Expr] = []
    if let tensor {
      for term in tensor.terms {
        pending.append(term.coefficient)
        for case .entry(let e, _, _) in term.factors { pending.append(e) }
      }
    } else {
      pending.append(result)
    }
    if intermediates.count >= 2 {
      pending.append(named)
      pending += intermediates.map(\.value)
    }
    pending += shared.map(\.value)
    var used = Set<Expr>()
    var visited = Set<Expr>()
    while let e = pending.popLast() {
      guard visited.insert(e).inserted else { continue }
      if let body = bodies[e] {
        used.insert(e)
        pending.append(body)
      }
      e.forEachChild { pending.append($0) }
    }
    return problem.definitions.filter { used.contains($0.variable) }
  }

  /// `∂f/∂x = …`, or the index form of a three- or four-index result.
  func formulaLine(_ renderer: MathRenderer, layout: Layout) throws -> String {
    if let tensor {
      return tensor.render(
        renderer, function: tensorFunctionName(renderer), variable: renderer.name(variableName))
    }
    return "\(partial(renderer)) = \(renderer.render(try laidOut(layout, shown)))"
  }

  /// For a three- or four-index result, `df = A dX B` and, when exact, its Kronecker form
  /// `d vec f = (Bᵀ ⊗ A) d vec X` (text adds that vec stacks columns); empty otherwise.
  func differentialLines(_ renderer: MathRenderer) throws -> [String] {
    guard let tensor else { return [] }
    return try tensor.differentialForm(
      renderer, function: tensorFunctionName(renderer), variable: renderer.name(variableName))
      ?? []
  }

  /// Whether the outputs state the layout convention: for a matrix-form result other than
  /// a scalar's derivative by a scalar.
  var statesLayout: Bool { tensor == nil && !(objective.isScalar && variable.isScalar) }

  /// `K = A Aᵀ + s I, α = K⁻¹ y`: the definitions the printed formulas use, then the shared
  /// names (``shared``), or `nil` when there are none.
  func whereList(_ renderer: MathRenderer, definitions: Bool = true) -> [String] {
    let used = definitions ? definitionsUsed.map { ($0.name, $0.body) } : []
    return (used + shared.map { ($0.name, $0.value) }).map {
      "\(renderer.name($0.0)) = \(renderer.render($0.1))"
    }
  }

  /// What a three- or four-index result differentiates: f, its gradient ∇f (a Hessian by a
  /// matrix), or its Jacobian (∂f/∂x) (a vector's second derivative).
  private func tensorFunctionName(_ renderer: MathRenderer) -> String {
    guard order == 2 else { return renderer.name(objectiveName) }
    if objective.isScalar {
      return renderer.style == .text
        ? renderer.name("∇" + objectiveName) : "\\nabla " + renderer.name(objectiveName)
    }
    let jacobian = partial(renderer, order: 1)
    return renderer.style == .text ? "(\(jacobian))" : "\\left(\(jacobian)\\right)"
  }

  private func partial(_ renderer: MathRenderer, order: Int? = nil) -> String {
    let order = order ?? self.order
    let of = renderer.name(objectiveName)
    let wrt = renderer.name(variableName)
    if order == 2 {
      return renderer.style == .text
        ? "∂²\(of)/∂\(wrt)²" : "\\frac{\\partial^2 \(of)}{\\partial \(wrt)^2}"
    }
    if isSymmetrized {
      return renderer.style == .text
        ? "∂\(of)/∂\(wrt) (symmetric)"
        : "\\left.\\frac{\\partial \(of)}{\\partial \(wrt)}\\right|_{\\text{symmetric}}"
    }
    return renderer.style == .text
      ? "∂\(of)/∂\(wrt)" : "\\frac{\\partial \(of)}{\\partial \(wrt)}"
  }

  /// The formula in a format; `certificate` adds the check line (text) or object (JSON);
  /// `steps` adds the derivation entry by entry (Markdown, and JSON's `steps`; text prints
  /// ``renderSteps(_:)`` after it, a standalone LaTeX document always has it).
  ///
  /// Text states the objective (when it is not a name), the formula, the definitions it uses,
  /// the backward recursion, what was inferred and the layout; LaTeX is one ASCII math
  /// fragment (or, `standalone`, a whole document); NumPy one line of Python
  /// (shared/LANGUAGE.md); JSON one object with `text`, `latex`, `numpy`, `plain`, `shape`,
  /// `inferred`, `layout` and, given a certificate, `check`.
  ///
  /// - Parameters:
  ///   - format: the output format.
  ///   - certificate: the result of ``check(points:)``, printed with the formula. Given one,
  ///     emitted code (NumPy, Python, JAX, JSON's `numpy`) is itself run as printed, with
  ///     NumPy's semantics, at the certificate's sizes and must give the result's values in
  ///     the shape S_F + S_X; without one (`--no-check`) nothing is evaluated.
  ///   - layout: the layout convention; numerator layout transposes a gradient.
  ///   - standalone: for LaTeX, a complete document.
  ///   - steps: include the derivation step by step.
  ///   - sizes: sizes of dimension symbols that emitted code is planned for (``CostModel``);
  ///     the others are taken as large.
  /// - Returns: the text.
  /// - Throws: ``MatcalcError`` when the format cannot express the result (NumPy output of
  ///   an opaque function); ``MatcalcError/internalError(_:)`` when emitted code disagrees
  ///   with the certified result (never printed).
  ///
  /// ```swift
  /// let d = try derive("x'*A*x", wrt: "x", where: "x : vector(n); A : matrix(n, n)")
  /// try d.render(.latex)  // "\\frac{\\partial f}{\\partial x} = \\left(A + A^\\top\\right) x"
  /// try d.render(.numpy)  // "np.reshape(((A @ x[:, None]) + (A.T @ x[:, None])), (-1,))"
  /// ```
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
    switch format {
    case .text:
      let renderer = MathRenderer(.text)
      var lines: [String] = []
      let isName = problem.expr(named: objectiveName) != nil
      if !isName {
        lines.append("\(objectiveName) = \(renderer.render(objective, asWrittenIn: problem))")
      }
      lines.append(try formulaLine(renderer, layout: layout))
      lines += try differentialLines(renderer).map { "  " + $0 }
      if isSymmetrized {
        lines.append("  " + Self.symmetrizedConvention)
      } else if isSymmetricVariable {
        lines.append("  " + symmetricConventionLine)
      }
      let used = whereList(renderer)
      if !used.isEmpty { lines.append("  where " + used.joined(separator: ", ")) }
      if let domainLine = domainLine(renderer) { lines.append("  " + domainLine) }
      if intermediates.count >= 2 {
        lines.append("  backward:")
        for intermediate in intermediates {
          lines.append(
            "    \(renderer.name("δ" + intermediate.name)) = ∂\(renderer.name(objectiveName))/∂"
              + "\(renderer.name(intermediate.name)) = \(renderer.render(intermediate.value))")
        }
        lines.append("    \(partial(renderer)) = \(renderer.render(named))")
      }
      if let inferred = problem.inferredTextLine { lines.append(inferred) }
      if statesLayout {
        lines.append("  " + layout.statement)
      }
      if let certificate { lines.append(certificate.description) }
      return lines.joined(separator: "\n")
    case .latex:
      if standalone {
        return LatexDocument.document(
          sections: [try latexSection(certificate: certificate, layout: layout)])
      }
      let renderer = MathRenderer(.latex)
      let formula = try formulaLine(renderer, layout: layout)
      let names = whereList(renderer, definitions: false)
      let shared = names.isEmpty ? nil : "\\text{where } " + names.joined(separator: ", \\; ")
      // Lines of a fragment end in \\ (as in gather*); inside \[ \] they run on.
      return
        ([formula] + (try differentialLines(renderer))
        + [shared, problem.inferredLatexLine].compactMap { $0 })
        .joined(separator: " \\\\\n")
    case .markdown:
      let renderer = MathRenderer(.latex)
      var blocks: [String] = []
      if problem.expr(named: objectiveName) == nil {
        blocks.append(
          "$$\(renderer.name(objectiveName)) = "
            + "\(renderer.render(objective, asWrittenIn: problem))$$")
      }
      blocks.append("$$\(try formulaLine(renderer, layout: layout))$$")
      let differential = try differentialLines(renderer)
      if !differential.isEmpty {
        blocks.append(
          "As a differential (vec stacks columns):\n"
            + differential.map { "$$\($0)$$" }.joined(separator: "\n"))
      }
      if isSymmetrized {
        blocks.append(
          "Convention: the gradient on symmetric matrices, $G + G^\\top - \\operatorname{diag}(G)$."
        )
      } else if isSymmetricVariable {
        blocks.append(
          "Convention: every entry of a symmetric variable independent, evaluated at a "
            + "symmetric point"
            + (offersSymmetricGradient
              ? " (`--symmetric-gradient` gives the Cookbook's "
                + "$G + G^\\top - \\operatorname{diag}(G)$)." : "."))
      }
      if let domainLine = domainLine(renderer) {
        blocks.append(domainLine.prefix(1).uppercased() + domainLine.dropFirst() + ".")
      }
      let used = whereList(renderer)
      if !used.isEmpty { blocks.append("where " + used.map { "$\($0)$" }.joined(separator: ", ")) }
      if intermediates.count >= 2 {
        blocks.append("Backward pass (one adjoint per definition, last first):")
        let f = renderer.name(objectiveName)
        blocks.append(
          (intermediates.map {
            "$$\(renderer.name("δ" + $0.name)) = \\frac{\\partial \(f)}{\\partial "
              + "\(renderer.name($0.name))} = \(renderer.render($0.value))$$"
          } + ["$$\(partial(renderer)) = \(renderer.render(named))$$"]).joined(separator: "\n"))
      }
      if let inferred = problem.inferredList(renderer) {
        blocks.append("Inferred (not declared): $\(inferred)$.")
      }
      blocks.append(layout.statement.prefix(1).uppercased() + layout.statement.dropFirst() + ".")
      if let certificate {
        blocks.append(
          certificate.description.prefix(1).uppercased() + certificate.description.dropFirst() + "."
        )
      }
      if steps { blocks += try markdownSteps() }
      return blocks.joined(separator: "\n\n")
    case .numpy:
      if let tensor {
        return try NumpyRenderer(problem: problem, sizes: sizes).render(
          tensor: tensor, rank: resultRank)
      }
      return try NumpyRenderer(problem: problem, sizes: sizes).render(
        try laidOut(layout), rank: resultRank)
    case .python, .jax:
      let renderer = NumpyRenderer(
        problem: problem, sizes: sizes, style: format == .jax ? .jaxFunction : .numpyFunction)
      let code =
        try tensor.map { try renderer.code(tensor: $0, rank: resultRank) }
        ?? renderer.code([(try laidOut(layout), resultRank)])
      let summary = try render(.text, layout: layout).split(separator: "\n").map(String.init)
      let name = NumpyRenderer.functionName(["grad", objectiveName, variableName])
      // l = L(Y) under JAX: also the layer Y with this backward as its jax.custom_vjp.
      let wrapper =
        layout == .numerator || order != 1
        ? nil
        : try renderer.customVJP(
          objective: objective, backward: name, code: code, wrt: [variableName])
      return renderer.function(
        named: name, summary: summary, returns: NumpyRenderer.shapeText(resultShape(in: layout)),
        code: code, wrapper: wrapper)
    case .json:
      return try Self.serialized(jsonObject(certificate: certificate, layout: layout, steps: steps))
    case .html:
      return HTMLPage.document(
        sections: [
          try htmlSection(certificate: certificate, layout: layout, steps: steps, sizes: sizes)
        ], title: htmlTitle + " · matcalc")
    }
  }

  /// The JSON object of ``render(_:certificate:layout:standalone:steps:sizes:)`` (a problem file
  /// with several goals prints an array of them).
  public func jsonObject(
    certificate: Certificate? = nil, layout: Layout = .standard, steps: Bool = false
  )
    throws -> [String: Any]
  {
    let certificate = try certificate ?? self.certificate(for: layout)
    var object: [String: Any] = [
      "of": objectiveName,
      "wrt": variableName,
      "shape": resultShape(in: layout),
      "order": order,
      "text": try formulaLine(MathRenderer(.text), layout: layout),
      "latex": try formulaLine(MathRenderer(.latex), layout: layout),
      "layout": layout.rawValue,
      "inferred": problem.inferredJSON,
      "where": definitionsUsed.map {
        [
          "name": $0.name, "text": MathRenderer(.text).render($0.body),
          "latex": MathRenderer(.latex).render($0.body),
        ]
      },
      "backward": intermediates.map {
        [
          "name": $0.name, "text": MathRenderer(.text).render($0.value),
          "latex": MathRenderer(.latex).render($0.value),
        ]
      },
      "shared": shared.map {
        [
          "name": $0.name, "text": MathRenderer(.text).render($0.value),
          "latex": MathRenderer(.latex).render($0.value), "plain": $0.value.description,
        ]
      },
      "rules": Self.distinct(self.appliedRules.map(\.rule)),
    ]
    let (text, latex) = (MathRenderer(.text), MathRenderer(.latex))
    if problem.expr(named: objectiveName) == nil {
      object["objective"] = [
        "text": "\(text.name(objectiveName)) = \(text.render(objective, asWrittenIn: problem))",
        "latex": "\(latex.name(objectiveName)) = \(latex.render(objective, asWrittenIn: problem))",
      ]
    }
    if intermediates.count >= 2 {
      // The backward pass ends in the derivative through the adjoints (∂l/∂W = Xᵀ δH).
      object["backward_result"] = [
        "text": "\(partial(text)) = \(text.render(named))",
        "latex": "\(partial(latex)) = \(latex.render(named))",
      ]
    }
    let differential = try differentialLines(text)
    if !differential.isEmpty {
      object["differential"] = ["text": differential, "latex": try differentialLines(latex)]
    }
    if isSymmetrized {
      object["convention"] = Self.symmetrizedConvention
    } else if isSymmetricVariable {
      object["convention"] = symmetricConventionLine
    }
    if let domainLine = domainLine(text) { object["holds_where"] = domainLine }
    if statesLayout { object["layout_statement"] = layout.statement }
    // The line as printed, checked when there is a certificate (a line that does not run or
    // disagrees is an error, not a null); null when NumPy has no spelling (an opaque L).
    let numpy = try? rendered(
      .numpy, certificate: nil, layout: layout, standalone: false, steps: false, sizes: [:])
    if let numpy, let certificate {
      try checkEmitted(numpy, format: .numpy, layout: layout, certificate: certificate)
    }
    object["numpy"] = numpy ?? NSNull()
    let plain = try plainSpelling(layout)
    object["plain"] = plain.text ?? NSNull()
    if let reason = plain.reason { object["plain_reason"] = reason }
    if isSymmetrized { object["symmetric_gradient"] = true }
    if steps {
      let explained = try renderSteps()
      object["steps"] =
        explained.isEmpty ? [] : explained.split(separator: "\n").map(String.init)
    }
    if let certificate { object["check"] = Self.checkObject(certificate) }
    return object
  }

  /// The JSON value of a certificate: `sizes` holds every size draw, in order; `text` is the
  /// line the text output prints.
  static func checkObject(_ certificate: Certificate) -> [String: Any] {
    [
      "passed": certificate.passed,
      "max_relative_error": certificate.maxRelativeError,
      "sizes": certificate.sizeDraws,
      "points": certificate.points,
      "text": certificate.description,
    ]
  }

  /// `names` without repeats, in the order of first appearance.
  static func distinct(_ names: [String]) -> [String] {
    var seen = Set<String>()
    return names.filter { seen.insert($0).inserted }
  }

  /// A JSON value as printed: keys sorted, indented, slashes unescaped.
  public static func serialized(_ value: Any) throws -> String {
    let data = try JSONSerialization.data(
      withJSONObject: value, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
    return String(decoding: data, as: UTF8.self)
  }

  /// The derivation as one section of a standalone LaTeX document (ASCII); a problem file's
  /// goals are sections of one document (``LatexDocument/document(sections:)``).
  public func latexSection(certificate: Certificate? = nil, layout: Layout = .standard) throws
    -> String
  {
    try LatexDocument(derivation: self).section(
      certificate: try certificate ?? self.certificate(for: layout), layout: layout)
  }

  /// ``renderSteps(_:)`` for Markdown: a paragraph per step, `$$` display math, the rules.
  private func markdownSteps() throws -> [String] {
    var blocks = IndexSteps.markdown(fromLatex: try renderSteps(.latex))
    var seen = Set<String>()
    let rules = appliedRules.map(\.rule).filter { seen.insert($0).inserted }
    if !rules.isEmpty {
      blocks.append(
        "Rules applied: " + rules.map { "`\($0)`" }.joined(separator: ", ")
          + ", by the engine's matrix-level derivation, which the steps above redo in index form.")
    }
    return blocks
  }
}

extension [Derivation.Intermediate] {
  /// Each `δD = value` as a definition, in the order derived (each uses the ones before it).
  var asDefinitions: [Problem.Definition] {
    map {
      Problem.Definition(
        name: $0.variable.description, variable: $0.variable, body: $0.value,
        range: SourceRange(line: 0, column: 0, length: 0))
    }
  }
}

// MARK: - Entry points

/// Parses problem text (declarations, definitions, index definitions, goals).
///
/// Index definitions become matrix definitions where they can be raised
/// (`D[i,j] = sum(k, W[i,k]*X[k,j])` is `D = W*X`); names used but not declared are inferred
/// where that is unambiguous (``Problem/inferred``).
///
/// - Parameter source: statements separated by newlines or `;`.
/// - Returns: the type-checked ``Problem``.
/// - Throws: ``MatcalcError`` with the position of the first problem, counted in `source`.
///
/// ```swift
/// let problem = try parseProblem("W : matrix(m, n); x : vector(n); l = sum(W*x)\nderive l wrt W")
/// problem.goals.map(\.wrt)                  // ["W"]
/// problem.definitions.map(\.body.description)  // ["sum(W*x)"]
/// ```
public func parseProblem(_ source: String) throws -> Problem {
  try parseProblem(source, differentiating: [])
}

/// Parses problem text for derivatives by `variables`: an input among them declared
/// `symmetric(n)` is typed with every entry independent (`Sᵀ` kept as written), so that its
/// derivative is that of f as written, evaluated at a symmetric point; the certificate still
/// draws it symmetric. A goal by a symmetric input needs the problem parsed this way.
///
/// - Parameters:
///   - source: statements separated by newlines or `;`.
///   - variables: the names derivatives will be taken by.
/// - Returns: the type-checked ``Problem``.
/// - Throws: ``MatcalcError`` with the position of the first problem, counted in `source`.
public func parseProblem(_ source: String, differentiating variables: Set<String>) throws
  -> Problem
{
  var parser = try Parser(source)
  let statements = try parser.statements()
  var checker = TypeChecker(source: source)
  checker.generalSymmetric = variables
  checker.raiseIndexDefinition = IndexDefinitionRaiser.raise
  try checker.check(statements)
  return checker.problem
}

/// Derives `∂expression/∂wrt` where the statements declare and define the names used.
///
/// `(∂F/∂X)` has shape S_F + S_X (shared/LANGUAGE.md): `(∂f/∂X)_ij = ∂f/∂X_ij` for a scalar
/// f, `J_ij = ∂F_i/∂x_j` for a vector F of a vector x.
///
/// ```swift
/// let d = try derive("x'*A*x", wrt: "x", where: "x : vector(n); A : matrix(n, n)")
/// try d.render(.text)
/// // "f = xᵀ A x\n∂f/∂x = (A + Aᵀ) x\n  layout: a gradient has the shape of the variable, …"
/// try d.check().passed  // true
/// let h = try derive("x'*A*x", wrt: "x", where: "x : vector(n); A : matrix(n, n)", order: 2)
/// h.result.description  // "A + A'"
/// ```
///
/// - Parameters:
///   - expression: a scalar, vector or matrix expression in the language of
///     shared/LANGUAGE.md.
///   - wrt: the variable, an input or a defined name (then held free).
///   - order: 1 for the first derivative, 2 for the derivative of the first derivative (the
///     Hessian of a scalar). A result with at most two indices is a matrix formula
///     (``Derivation/result``); one with three to six indices (a matrix or vector by a
///     matrix, a Hessian with respect to a matrix, second derivatives of vectors and
///     matrices) is in index form (``Derivation/tensor``). Any other order, and results with
///     more than six indices, throw ``MatcalcError/unsupported(_:_:)``.
///   - statements: declarations and definitions, separated by `;` or newlines.
///   - rules: the rule set; by default the embedded Rules/.
/// - Returns: the ``Derivation``, checked on numbers: its ``Derivation/certificate`` holds
///   the check, and rendering prints it.
/// - Throws: ``MatcalcError``; ``MatcalcError/checkFailed(_:)`` when the formula does not
///   pass its check (nothing wrong is returned). Its position counts in the text it falls in:
///   ``SourceRange/Part/expression`` (line 1 is the expression's first line) or
///   ``SourceRange/Part/statements``; ``MatcalcError/rendered(expression:statements:)``
///   prints that line with a caret.
public func derive(
  _ expression: String, wrt: String, where statements: String = "", order: Int = 1,
  rules: RuleSet = .embedded
) throws -> Derivation {
  try deriveUnchecked(expression, wrt: wrt, where: statements, order: order, rules: rules)
    .certified()
}

/// ``derive(_:wrt:where:order:rules:)`` without the numeric check: the derivation has no
/// ``Derivation/certificate`` and nothing about it has been verified. For tools that check
/// later (``Derivation/certified(points:layout:)``) or time the symbolic work alone.
///
/// - Parameters: as for ``derive(_:wrt:where:order:rules:)``.
/// - Returns: the unchecked ``Derivation``.
/// - Throws: ``MatcalcError``, positions as for ``derive(_:wrt:where:order:rules:)``.
///
/// ```swift
/// let d = try deriveUnchecked("x'*A*x", wrt: "x", where: "x : vector(n); A : matrix(n, n)")
/// d.certificate == nil     // true
/// try d.check().passed     // true
/// ```
public func deriveUnchecked(
  _ expression: String, wrt: String, where statements: String = "", order: Int = 1,
  rules: RuleSet = .embedded
) throws -> Derivation {
  try relocatingErrors(statements) {
    try rules.withRaiseRules {
      let (problem, objective, name) = try parsedObjective(
        expression, statements, differentiating: [wrt])
      return try Derivation(
        of: objective, named: name, withRespectTo: wrt, in: problem, order: order, rules: rules)
    }
  }
}

/// Runs `body`, moving the position of a ``MatcalcError`` it throws into the text it falls in
/// (``SourceRange/Part/statements`` or ``SourceRange/Part/expression``, each counted from 1).
func relocatingErrors<T>(_ statements: String, _ body: () throws -> T) throws -> T {
  do {
    return try body()
  } catch let error as MatcalcError {
    throw error.relocated(statementLines: statements.utf8.reduce(1) { $1 == 10 ? $0 + 1 : $0 })
  }
}

/// The problem of `statements` with `expression` typed in it: the problem, the objective,
/// and the objective's display name (the expression itself if it is a name, else `f`).
func parsedObjective(
  _ expression: String, _ statements: String, differentiating variables: Set<String> = []
) throws -> (Problem, Expr, String) {
  var whereParser = try Parser(statements)
  let parsedStatements = try whereParser.statements()
  var expressionParser = try Parser(expression, firstLine: whereParser.lastLine + 1)
  let objectiveSyntax = try expressionParser.singleExpression()
  var checker = TypeChecker(statements: statements, objective: expression)
  checker.generalSymmetric = variables
  checker.raiseIndexDefinition = IndexDefinitionRaiser.raise
  guard let objective = try checker.check(parsedStatements, objective: objectiveSyntax) else {
    throw MatcalcError.internalError("no objective")
  }
  // Only an expression that parses as a name can be spelled as one.
  guard case .name = objectiveSyntax.kind else { return (checker.problem, objective, "f") }
  var trimmed = Substring(expression)
  while let first = trimmed.first, first == " " || first == "\t" { trimmed.removeFirst() }
  while let last = trimmed.last, last == " " || last == "\t" { trimmed.removeLast() }
  let name = String(trimmed)
  let isName = checker.problem.expr(named: name) != nil
  return (checker.problem, objective, isName ? name : "f")
}
