/// Renders a formula as one Python expression over NumPy (shared/LANGUAGE.md): `np` is
/// NumPy, every declared input is bound to an array (a scalar is a float, a `vector(n)` has
/// shape (n,), a matrix two axes), and nothing else is bound. Definitions are substituted and
/// every subexpression used more than once is bound inside the line with a lambda, so the text
/// stays linear in the size of the problem.
///
/// The line is cheap to run (``ProductPlanner``, ``CostModel``): product chains are evaluated
/// in their cheapest order, a sum times a vector is distributed when that is cheaper,
/// `diag(d) B` is written `d * B` and `A diag(d)` `A * dᵀ` (never `np.diag(d) @ B`), an inverse
/// applied to a few columns is a solve (`np.linalg.solve(A, b)`), and an outer product is
/// `np.outer(u, v)`. Under JAX (``Style/jaxFunction``), Aᵀ B is `jnp.tensordot(A, B, axes=(0,
/// 0))` (XLA on CPU would copy `A.T` and multiply it in a plain loop), and the solves with one
/// matrix and its transpose share one `jax.scipy.linalg.lu_factor`.
///
/// Without sizes, where the cheapest order depends on them, the code chooses it when it runs
/// (``ProductPlanner/variants(of:named:model:dimensions:)``): a chain as `np.linalg.multi_dot`,
/// two plans by `a if cost_a <= cost_b else b` over the inputs' shapes (an `if` in a function).
///
/// Internally every vector is a column (n, 1): inputs are reshaped where used and the result
/// is given the shape of the derivative at the end.
struct NumpyRenderer {
  /// What the code is: one line, or the body of a function (``function(named:summary:returns:code:)``).
  enum Style {
    /// One NumPy expression over the inputs bound as globals.
    case line
    /// Statements of a function over NumPy (`np`), its inputs as parameters.
    case numpyFunction
    /// Statements of a function over `jax.numpy` (`jnp`), traceable under `jax.jit`.
    case jaxFunction
  }

  /// The problem whose inputs and definitions the formula uses (in a function, with the
  /// upstream gradients it takes added as inputs after the declared ones).
  private(set) var problem: Problem
  /// What the code is.
  let style: Style
  private(set) var dimensionSources: [String: String] = [:]
  let model: CostModel

  /// A renderer for formulas over `problem`.
  ///
  /// - Parameters:
  ///   - problem: declares the inputs and definitions.
  ///   - sizes: sizes of symbolic dimensions to plan the evaluation order for; the others
  ///     are taken as large (``CostModel``).
  ///   - style: one line, or the body of a function over NumPy or JAX.
  init(problem: Problem, sizes: [String: Int] = [:], style: Style = .line) {
    self.problem = problem
    self.style = style
    self.model = CostModel(sizes: sizes)
    for input in problem.inputs {
      let dims = [input.expr.shape.rows, input.expr.shape.cols]
      for (axis, dim) in dims.prefix(Self.axes(of: input.type)).enumerated() {
        guard case .symbol(let name) = dim, dimensionSources[name] == nil else { continue }
        dimensionSources[name] = "\(inputReference(input.name)).shape[\(axis)]"
      }
    }
  }

  /// How many axes the array bound to an input of `type` has (shared/LANGUAGE.md): 0 for a
  /// scalar (a float), 1 for a `vector(n)` or a `simplex(n)` (shape (n,), a column inside the
  /// code), 2 for a matrix or a symmetric matrix. The one place an input's NumPy shape is
  /// decided: the code that reads an input and the docstring that states it both ask here.
  static func axes(of type: TypeSpec) -> Int {
    switch type {
    case .scalar, .function, .elementwise: return 0
    case .vector, .simplex: return 1
    case .matrix, .symmetric: return 2
    }
  }

  /// The sizes of the axes of the array bound to `input` (`[]`, `["n"]`, `["m", "n"]`).
  static func axisNames(of input: (name: String, expr: Expr, type: TypeSpec)) -> [String] {
    let dims = [input.expr.shape.rows.description, input.expr.shape.cols.description]
    return Array(dims.prefix(axes(of: input.type)))
  }

  private func dimension(_ d: Dim) throws -> String {
    switch d {
    case .size(let n): return "\(n)"
    case .symbol(let name):
      guard let source = dimensionSources[name] else {
        throw MatcalcError.unsupported("NumPy output: no input has dimension \(name)", nil)
      }
      return source
    }
  }

  static let pythonKeywords: Set<String> = [
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class",
    "continue", "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if",
    "import", "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try",
    "while", "with", "yield", "np",
  ]

  /// How the code names a definition or an adjoint: `_H`, `_d_H` in a line; `H` in a function
  /// where that is a plain identifier.
  func parameter(_ name: String) -> String {
    if style != .line, Self.isIdentifier(name), !name.hasPrefix("_"),
      !Self.pythonKeywords.contains(name), name != "jnp"
    {
      return name
    }
    return name.hasPrefix("δ") ? "_d_" + name.dropFirst() : "_" + name
  }

  /// Whether `name` is an ASCII Python identifier.
  static func isIdentifier(_ name: String) -> Bool {
    guard let first = name.unicodeScalars.first, !("0"..."9").contains(first) else {
      return false
    }
    return name.unicodeScalars.allSatisfy {
      $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_")
    }
  }

  /// How the code refers to an input: a function parameter (a keyword gets a trailing `_`),
  /// or in a line a global (a keyword read from `globals()`).
  func inputReference(_ name: String) -> String {
    guard
      Self.pythonKeywords.contains(name) || (style != .line && name == "jnp")
        || (style == .jaxFunction && name == "jax")
    else {
      return name
    }
    return style == .line ? "globals()['\(name)']" : name + "_"
  }

  /// Statements binding what is computed once (`name = value`, in order), then the
  /// expressions of the results.
  struct Code {
    var statements: [(name: String, value: String)] = []
    var results: [(text: String, rank: Int)] = []
    /// Code for other shapes, run instead when its condition holds (at most one; without
    /// `--sizes`, ``NumpyRenderer+Shapes``).
    var alternatives: [Alternative] = []
    /// The upstream gradients the code takes as parameters after the inputs.
    var upstream: [Upstream] = []
  }

  /// An upstream gradient ∇L(Y) of an opaque function `L : function` that a function takes as
  /// a parameter (shared/LANGUAGE.md): `grad_Y`, shaped like Y, the backward of a layer.
  struct Upstream {
    /// The parameter's name: `grad_Y` for L(Y) with Y a name, `grad_L` for L of an expression.
    var name: String
    /// The variable standing for it in the formula.
    var variable: Expr
    /// Its type as an input (its NumPy axes, ``axes(of:)``).
    var type: TypeSpec
    /// The opaque function L.
    var function: String
    /// L's argument Y: what a forward function computes.
    var argument: Expr
  }

  /// The upstream gradients in `roots`, in order of first occurrence, each with its own
  /// parameter name; `grad_Y` names ∇L at Y, `grad_L_Y` when two functions meet at Y.
  func upstreamGradients(in roots: [Expr]) throws -> [Upstream] {
    var found: [Upstream] = []
    var visited = Set<Expr>()
    var taken = Set(problem.inputs.map(\.name) + problem.definitions.map(\.name))
    func visit(_ e: Expr) throws {
      guard visited.insert(e).inserted else { return }
      if case .gradient(let function, let argument) = e.node {
        var name = "grad_" + function
        if case .variable(let y, _, _) = argument.node {
          name = taken.contains("grad_" + y) ? "grad_\(function)_\(y)" : "grad_" + y
        }
        name = Self.functionName([name])
        var candidate = name
        var counter = 2
        while taken.contains(candidate) {
          candidate = "\(name)\(counter)"
          counter += 1
        }
        taken.insert(candidate)
        let shape = argument.shape
        let type: TypeSpec =
          shape.isScalar
          ? .scalar : shape.cols == .one ? .vector(shape.rows) : .matrix(shape.rows, shape.cols)
        found.append(
          Upstream(
            name: candidate, variable: try Expr.variable(candidate, shape), type: type,
            function: function, argument: argument))
      }
      for child in e.children { try visit(child) }
    }
    for root in roots { try visit(root) }
    return found
  }

  /// The names already used in generated code, and the next `_t` number.
  private struct Naming {
    var taken: Set<String> = []
    var counter = 0
  }

  /// One line of Python that evaluates to `e` with `rank` axes (0 a float, 1 a 1-D array).
  ///
  /// Definitions and `bindings` are substituted, the result is put in its cheapest order
  /// (``ProductPlanner``), and what is used more than once is computed once, bound by a lambda
  /// named after its definition where it has one.
  ///
  /// - Parameter bindings: named intermediates (adjoints) `variable = value` the formula
  ///   uses, in order; each may use the ones before it.
  func render(_ e: Expr, rank: Int, bindings: [(Expr, Expr)] = []) throws -> String {
    return shaped(lineText(of: try code([(e, rank)], bindings: bindings)), rank: rank)
  }

  /// The code of several results planned together (each subexpression they share computed
  /// once), as ``render(_:rank:bindings:)`` plans one.
  func code(_ roots: [(Expr, Int)], bindings: [(Expr, Expr)] = []) throws -> Code {
    // In a function ∇L(Y) is the parameter grad_Y (the backward of a layer); a line binds
    // only declared names, so it has no spelling there (``expression(_:_:)`` refuses it).
    guard style != .line else { return try plannedCode(roots, bindings: bindings) }
    let upstream = try upstreamGradients(in: roots.map(\.0) + bindings.map(\.1))
    guard !upstream.isEmpty else { return try plannedCode(roots, bindings: bindings) }
    var parameters: [Expr: Expr] = [:]
    var extended = self
    for gradient in upstream {
      parameters[try Expr.make(.gradient(gradient.function, gradient.argument))] =
        gradient.variable
      extended.problem.addInput(gradient.name, gradient.variable, gradient.type)
    }
    var code = try extended.plannedCode(
      try roots.map { (try $0.0.substituting(parameters), $0.1) },
      bindings: try bindings.map { ($0.0, try $0.1.substituting(parameters)) })
    code.upstream = upstream
    return code
  }

  /// ``code(_:bindings:)`` over the inputs of ``problem``.
  private func plannedCode(_ roots: [(Expr, Int)], bindings: [(Expr, Expr)]) throws -> Code {
    var replacements: [Expr: Expr] = [:]
    var definitions: [(value: Expr, name: String)] = []
    for (variable, body) in problem.definitions.map({ ($0.variable, $0.body) }) + bindings {
      let value = try body.substituting(replacements)
      replacements[variable] = value
      if case .variable(let name, _, _) = variable.node { definitions.append((value, name)) }
    }
    // Without --sizes, the order may be chosen when the code runs (NumpyRenderer+Shapes).
    let variants = try ProductPlanner.variants(
      of: try Self.cancellingPositiveFactors(
        try roots.map { try $0.0.substituting(replacements) }), named: definitions.map(\.value),
      model: model, dimensions: Array(dimensionSources.keys))
    var codes: [Code] = []
    for variant in variants {
      var names: [Expr: String] = [:]
      for (value, name) in definitions {
        if let form = variant.forms[value], names[form] == nil { names[form] = parameter(name) }
      }
      var naming = Naming(taken: Set(problem.inputs.map { inputReference($0.name) }))
      let (statements, texts) = try sharedSubexpressions(
        variant.roots, preferredNames: names, naming: &naming)
      codes.append(Code(statements: statements, results: zip(texts, roots).map { ($0, $1.1) }))
    }
    return chosen(codes, costs: variants.map(\.cost))
  }

  /// A derivative with three or four indices as a sum of `np.einsum` terms, axes in the
  /// order of F's indices then X's (shared/LANGUAGE.md).
  func render(tensor: TensorDerivative, rank: Int) throws -> String {
    var naming = Naming(taken: Set(problem.inputs.map { inputReference($0.name) }))
    let (body, uses, shared) = try einsumSum(tensor, naming: &naming)
    // What several einsum terms use (X⁻¹ in each term of a second derivative) is computed once.
    var text = body
    for (name, value) in shared.reversed() { text = "(lambda \(name): \(text))(\(value))" }
    return shaped(try bindingDefinitions(in: text, uses: uses, bindings: []), rank: rank)
  }

  /// The code of ``render(tensor:rank:)``: a statement per definition it uses, then the sum.
  func code(tensor: TensorDerivative, rank: Int) throws -> Code {
    var naming = Naming(taken: Set(problem.inputs.map { inputReference($0.name) }))
    let (body, uses, shared) = try einsumSum(tensor, naming: &naming)
    var code = Code()
    for (variable, value) in try neededDefinitions(uses: uses, bindings: []) {
      guard case .variable(let name, _, _) = variable.node else { continue }
      let (statements, texts) = try sharedSubexpressions(
        [value], preferredNames: [:], naming: &naming)
      code.statements += statements + [(parameter(name), texts[0])]
    }
    code.statements += shared
    code.results = [(body, rank)]
    return code
  }

  /// The `np.einsum` terms of a derivative with three or four indices, and the
  /// subexpressions they use.
  private func einsumSum(_ tensor: TensorDerivative, naming: inout Naming) throws
    -> (body: String, uses: [Expr], shared: [(name: String, value: String)])
  {
    let fRows = try dimension(tensor.functionShape.rows)
    let fCols = try dimension(tensor.functionShape.cols)
    let xRows = try dimension(tensor.variableShape.rows)
    let xCols = try dimension(tensor.variableShape.cols)
    let second = try tensor.secondVariableShape.map {
      (try dimension($0.rows), try dimension($0.cols))
    }
    func size(_ index: TensorDerivative.Index) -> String {
      switch index {
      case .i: return fRows
      case .j: return fCols
      case .k: return xRows
      case .l: return xCols
      case .p: return second?.0 ?? "1"
      case .q: return second?.1 ?? "1"
      // Never in a delta or the output: the contraction renames summed indices out of deltas.
      case .s, .t, .u, .v: return "1"
      }
    }
    // A size-1 axis gets a letter of its own (summed over one value).
    func label(_ index: TensorDerivative.Index) -> String {
      tensor.isReal(index)
        ? TensorDerivative.letter(index) : ["a", "b", "c", "d", "g", "h"][index.rawValue]
    }
    let axes = tensor.outputIndices + tensor.variableIndices
    let output = axes.filter(tensor.isReal).map(label).joined()
    var uses: [Expr] = []
    // Every operand and coefficient, in order: what occurs more than once is bound once.
    for term in tensor.terms {
      for case .entry(let e, _, _) in term.factors { uses.append(e) }
      if term.coefficient.constantValue != 1 { uses.append(term.coefficient) }
    }
    // A term's factors are shifted together: exp(X) over sum(exp(X)) is invariant as a product.
    let shifts = Self.shiftedExponentials(
      inTerms: tensor.terms.map { term in
        term.factors.compactMap { factor -> Expr? in
          if case .entry(let e, _, _) = factor { return e }
          return nil
        } + [term.coefficient]
      })
    let (shared, texts) = try sharedSubexpressions(
      uses, preferredNames: [:], naming: &naming, shifted: shifts)
    var next = texts.makeIterator()
    var pieces: [String] = []
    for term in tensor.terms {
      var specs: [String] = []
      var operands: [String] = []
      for factor in term.factors {
        switch factor {
        case .entry:
          guard case .entry(_, let row, let col) = factor, let text = next.next() else {
            throw MatcalcError.internalError("einsum operands")
          }
          specs.append((row.map(label) ?? "e") + (col.map(label) ?? "f"))
          operands.append(text)
        case .delta(let a, let b):
          specs.append(label(a) + label(b))
          operands.append("np.eye(\(size(a)))")
        }
      }
      // A term constant along an output axis (−1/12 of ∂sum(X)/∂X_kl in ∂(X − sum(X)/12)/∂X)
      // is broadcast along it: einsum names every output subscript in some operand, so the
      // axis gets a vector of ones (`np.einsum('->ijkl', )` does not run).
      let written = Set(specs.joined())
      for index in axes where tensor.isReal(index) {
        guard let letter = label(index).first, !written.contains(letter) else { continue }
        specs.append(String(letter))
        operands.append("np.ones((\(size(index)),))")
      }
      var piece =
        "np.einsum('\(specs.joined(separator: ","))->\(output)', \(operands.joined(separator: ", ")))"
      if term.coefficient.constantValue != 1 {
        guard let coefficient = next.next() else {
          throw MatcalcError.internalError("einsum coefficient")
        }
        // A number multiplies as it is; a 1×1 expression is squeezed to a scalar first.
        piece =
          term.coefficient.constantValue != nil
          ? "(\(coefficient) * \(piece))" : "(np.squeeze(\(coefficient)) * \(piece))"
      }
      pieces.append(piece)
    }
    let zero =
      "np.zeros(("
      + axes.filter(tensor.isReal).map(size)
      .joined(separator: ", ") + ",))"
    let body = pieces.isEmpty ? zero : "(" + pieces.joined(separator: " + ") + ")"
    return (body, uses, shared)
  }

  /// `text` with `rank` axes: a float (under JAX a 0-d array), a 1-D array or an array.
  func shaped(_ text: String, rank: Int) -> String {
    switch rank {
    case 0: return style == .jaxFunction ? "np.squeeze(\(text))" : "float(np.squeeze(\(text)))"
    case 1: return "np.reshape(\(text), (-1,))"
    default: return "np.asarray(\(text))"
    }
  }

  /// Binds, with lambdas around `text`, the definitions (and extra bindings) that `uses`
  /// need, in dependency order.
  private func bindingDefinitions(in text: String, uses: [Expr], bindings: [(Expr, Expr)])
    throws -> String
  {
    var text = text
    for (variable, body) in try neededDefinitions(uses: uses, bindings: bindings).reversed() {
      guard case .variable(let name, _, _) = variable.node else { continue }
      text = "(lambda \(parameter(name)): \(text))(\(try withSharedSubexpressions(body)))"
    }
    return text
  }

  /// The definitions (and extra bindings) that `uses` need, in dependency order.
  private func neededDefinitions(uses: [Expr], bindings: [(Expr, Expr)]) throws -> [(Expr, Expr)] {
    var needed = Set<Expr>()
    var definitionBodies: [Expr: Expr] = [:]
    for definition in problem.definitions {
      definitionBodies[definition.variable] = definition.body
    }
    for (variable, value) in bindings { definitionBodies[variable] = value }
    var visited = Set<Expr>()
    func collect(_ e: Expr) {
      guard visited.insert(e).inserted else { return }
      if let body = definitionBodies[e] {
        needed.insert(e)
        collect(body)
      }
      e.children.forEach(collect)
    }
    uses.forEach(collect)
    let ordered: [(Expr, Expr)] =
      problem.definitions.map { ($0.variable, $0.body) } + bindings
    return ordered.filter { needed.contains($0.0) }
  }

  /// The expression with every compound subexpression that occurs more than once computed
  /// once and bound by a lambda (`(lambda _t0: … _t0 … _t0 …)(np.exp(x))`), named from
  /// `preferredNames` where it has a name there.
  private func withSharedSubexpressions(_ e: Expr) throws -> String {
    var naming = Naming()
    let (bindings, texts) = try sharedSubexpressions([e], preferredNames: [:], naming: &naming)
    var text = texts[0]
    for (name, value) in bindings.reversed() {
      text = "(lambda \(name): \(text))(\(value))"
    }
    return text
  }

  /// The compound subexpressions that occur more than once in `roots` (a root counts as one
  /// occurrence), each `name = value` in dependency order, and the roots' expressions in
  /// terms of them; names from `preferredNames`, else `_t0`, `_t1`, … not in `naming`.
  /// `shifted` gives the exp(A) to evaluate as exp(A − max A), by default those under which
  /// every root is invariant (``shiftedExponentials(in:)``).
  private func sharedSubexpressions(
    _ roots: [Expr], preferredNames: [Expr: String], naming: inout Naming,
    shifted: [Expr: ShiftAxis]? = nil
  ) throws -> (bindings: [(name: String, value: String)], texts: [String]) {
    var emission = Emission(
      solved: solvedInverses(in: roots), shifted: shifted ?? Self.shiftedExponentials(in: roots))
    var uses: [Expr: Int] = [:]
    var order: [Expr] = []  // children before parents
    var visited = Set<Expr>()
    func count(_ e: Expr) {
      for child in operands(of: e, emission) {
        uses[child, default: 0] += 1
        if visited.insert(child).inserted { count(child) }
      }
      order.append(e)
    }
    for root in roots {
      uses[root, default: 0] += 1
      if visited.insert(root).inserted { count(root) }
    }
    naming.taken.formUnion(preferredNames.values)
    var bindings: [(name: String, value: String)] = []
    // Under JAX, one LU factorisation serves every solve with a matrix or its transpose.
    var solves: [Expr: Int] = [:]
    if style == .jaxFunction {
      for node in order {
        if let system = system(of: node, emission) { solves[system.matrix, default: 0] += 1 }
      }
    }
    for node in order {
      if let matrix = system(of: node, emission)?.matrix, (solves[matrix] ?? 0) >= 2,
        emission.factorisations[matrix] == nil
      {
        var name = ""
        while name.isEmpty || naming.taken.contains(name) {
          name = "_lu\(naming.counter)"
          naming.counter += 1
        }
        naming.taken.insert(name)
        bindings.append((name, "jax.scipy.linalg.lu_factor(\(try expression(matrix, emission)))"))
        emission.factorisations[matrix] = name
      }
      guard (uses[node] ?? 0) >= 2 && !node.children.isEmpty else { continue }
      if case .transpose(let inner) = node.node, inner.children.isEmpty { continue }
      var name = preferredNames[node] ?? ""
      while name.isEmpty || (preferredNames[node] == nil && naming.taken.contains(name)) {
        name = "_t\(naming.counter)"
        naming.counter += 1
      }
      naming.taken.insert(name)
      bindings.append((name, try expression(node, emission)))
      emission.names[node] = name
    }
    return (bindings, try roots.map { try expression($0, emission) })
  }

  /// What the line computes once and names, and which inverses it applies as solves.
  private struct Emission {
    var names: [Expr: String] = [:]
    var solved: Set<Expr> = []
    /// The exp(A) evaluated as exp(A − max A) (``shiftedExponentials(in:)``).
    var shifted: [Expr: ShiftAxis] = [:]
    /// The name of the LU factorisation of a matrix several solves share (JAX).
    var factorisations: [Expr: String] = [:]
  }

  /// The matrix A that the product `e` solves with (A⁻¹ B = solve(A, B), B A⁻¹ = solve(Aᵀ, Bᵀ)ᵀ),
  /// as the untransposed `matrix` and whether A is its transpose.
  private func system(of e: Expr, _ emission: Emission) -> (matrix: Expr, transposed: Bool)? {
    guard let (a, b) = Self.operandPair(e) else { return nil }
    let system: Expr
    let flipped: Bool
    if case .call(.inverse, let m) = a.node, emission.solved.contains(a) {
      (system, flipped) = (m, false)
    } else if case .call(.inverse, let m) = b.node, emission.solved.contains(b) {
      (system, flipped) = (m, true)
    } else {
      return nil
    }
    if case .transpose(let inner) = system.node { return (inner, !flipped) }
    return (system, flipped)
  }

  /// The two operands of a planned matrix product (``ProductPlanner`` makes every chain one of
  /// two operands, each possibly a chain), or `nil` for anything else.
  private static func operandPair(_ e: Expr) -> (Expr, Expr)? {
    guard case .chain(let factors) = e.node, factors.count == 2 else { return nil }
    return (factors[0], factors[1])
  }

  /// `d` when `e` is `diag(d)` of a column, which a product applies as a scaling.
  private static func diagonalVector(_ e: Expr) -> Expr? {
    if case .call(.diag, let d) = e.node, d.shape.isColumn { return d }
    return nil
  }

  /// The subexpressions `expression` writes for `e` (its children, except that a product
  /// with `diag(d)` writes d and a solve writes the matrix and the transposed operands).
  private func operands(of e: Expr, _ emission: Emission) -> [Expr] {
    // exp(A − max A) and a stable log-sum-exp write A twice: A is computed once.
    if let (a, _, _) = Self.logSumExp(e) { return [a, a] }
    if case .call(.exp, let a) = e.node, emission.shifted[e] != nil { return [a, a] }
    if case .call(.log, let a) = e.node, let (operand, _) = Self.stableLog(a) { return [operand] }
    guard let (a, b) = Self.operandPair(e) else { return e.children }
    func untransposed(_ x: Expr) -> Expr {
      if case .transpose(let inner) = x.node { return inner }
      return x
    }
    if let d = Self.diagonalVector(a) { return [d, b] }
    if let d = Self.diagonalVector(b) { return [a, d] }
    if case .call(.inverse, let m) = a.node, emission.solved.contains(a) { return [m, b] }
    if case .call(.inverse, let m) = b.node, emission.solved.contains(b) {
      return [untransposed(m), untransposed(a)]
    }
    return [a, b]
  }

  /// The inverses in `root` to apply as solves rather than compute: those used only as a
  /// factor of products, when k solves cost less than the inverse and k products
  /// (Σ solve(n, kᵢ) < inv(n) + Σ 2n²kᵢ in ``CostModel``).
  private func solvedInverses(in roots: [Expr]) -> Set<Expr> {
    var widths: [Expr: [Double]] = [:]
    var others: Set<Expr> = []
    var candidates: [Expr] = []
    func note(_ child: Expr, width: Double?) {
      guard case .call(.inverse, _) = child.node else { return }
      if widths[child] == nil && !others.contains(child) { candidates.append(child) }
      if let width { widths[child, default: []].append(width) } else { others.insert(child) }
    }
    var visited = Set(roots)
    func visit(_ e: Expr) {
      if let (a, b) = Self.operandPair(e), Self.diagonalVector(a) == nil,
        Self.diagonalVector(b) == nil
      {
        note(a, width: model.size(b.shape.cols))
        // Both inverses: the left one is the solve, the right one its right side.
        let leftIsInverse: Bool
        if case .call(.inverse, _) = a.node { leftIsInverse = true } else { leftIsInverse = false }
        note(b, width: leftIsInverse ? nil : model.size(a.shape.rows))
      } else {
        e.forEachChild { note($0, width: nil) }
      }
      e.forEachChild { child in
        if visited.insert(child).inserted { visit(child) }
      }
    }
    roots.forEach(visit)
    var solved: Set<Expr> = []
    for inverse in candidates where !others.contains(inverse) {
      let n = model.size(inverse.shape.rows)
      let ks = widths[inverse] ?? []
      let solves = ks.reduce(0) { $0 + model.solve(n, $1) }
      let materialised = ks.reduce(model.inverse(n)) { $0 + model.product(n, n, $1) }
      if solves < materialised { solved.insert(inverse) }
    }
    return solved
  }

  private func expression(_ e: Expr, _ emission: Emission = Emission()) throws -> String {
    if let name = emission.names[e] { return name }
    func expression(_ child: Expr) throws -> String { try self.expression(child, emission) }
    // Xᵀ, written without `.T.T` when X is itself a transpose.
    func transposed(_ x: Expr) throws -> String {
      if case .transpose(let inner) = x.node, emission.names[x] == nil {
        return try expression(inner)
      }
      return "\(try expression(x)).T"
    }
    switch e.node {
    case .variable(let name, let shape, _):
      guard let input = problem.inputs.first(where: { $0.name == name }) else {
        return parameter(name)
      }
      // A Python keyword (`lambda`) cannot be written as a name.
      let name = inputReference(name)
      // Inside the code a vector is a column (n, 1); a 1×1 one is read as a float.
      switch Self.axes(of: input.type) {
      case 1: return shape.isScalar ? "\(name)[0]" : "\(name)[:, None]"
      case 2: return shape.isScalar ? "\(name)[0, 0]" : name
      default: return name
      }
    case .constant(let value): return value < 0 ? "(\(value))" : "\(value)"
    case .identity(let d): return "np.eye(\(try dimension(d)))"
    case .ones(let s): return "np.ones((\(try dimension(s.rows)), \(try dimension(s.cols))))"
    case .zero(let s): return "np.zeros((\(try dimension(s.rows)), \(try dimension(s.cols))))"
    case .add(let terms):
      var text = ""
      for (index, term) in terms.enumerated() {
        let (c, base) = term.coefficientAndBase
        if c < 0 {
          let positive = try Expr.scale(-c, base)
          let rendered = try expression(positive)
          text += (index == 0 ? "-" : " - ") + rendered
        } else {
          text += (index == 0 ? "" : " + ") + (try expression(term))
        }
      }
      return "(" + text + ")"
    case .product(let a, let b): return "(\(try expression(a)) * \(try expression(b)))"
    case .chain(let factors):
      guard let (a, b) = Self.operandPair(e) else {
        // Three or more factors: ordered when it runs, from their shapes.
        let operands = try factors.map { try expression($0) }
        return "np.linalg.multi_dot([\(operands.joined(separator: ", "))])"
      }
      // (diag(d) B)_ij = d_i B_ij and (A diag(d))_ij = A_ij d_j: scalings, never np.diag.
      if let d = Self.diagonalVector(a) { return "(\(try expression(d)) * \(try expression(b)))" }
      if let d = Self.diagonalVector(b) { return "(\(try expression(a)) * \(try transposed(d)))" }
      // A⁻¹ B = solve(A, B) and B A⁻¹ = solve(Aᵀ, Bᵀ)ᵀ, with a shared factorisation of A or Aᵀ.
      if let system = system(of: e, emission), let lu = emission.factorisations[system.matrix] {
        let solvesLeft: Bool
        if case .call(.inverse, _) = a.node, emission.solved.contains(a) {
          solvesLeft = true
        } else {
          solvesLeft = false
        }
        let rightSide = solvesLeft ? try expression(b) : try transposed(a)
        let trans = system.transposed ? 1 : 0
        return "jax.scipy.linalg.lu_solve(\(lu), \(rightSide), trans=\(trans))"
          + (solvesLeft ? "" : ".T")
      }
      if case .call(.inverse, let m) = a.node, emission.solved.contains(a) {
        return "np.linalg.solve(\(try expression(m)), \(try expression(b)))"
      }
      if case .call(.inverse, let m) = b.node, emission.solved.contains(b) {
        return "np.linalg.solve(\(try transposed(m)), \(try transposed(a))).T"
      }
      // (u vᵀ)_ij = u_i v_j for a column u.
      if a.shape.cols == .one { return "np.outer(\(try expression(a)), \(try expression(b)))" }
      // (Aᵀ B)_ij = Σ_k A_ki B_kj contracts A's first axis: XLA on CPU copies `A.T` and
      // multiplies it in a plain loop (20× slower for a matrix-vector product), a tensordot not.
      if style == .jaxFunction, case .transpose(let m) = a.node {
        return "np.tensordot(\(try expression(m)), \(try expression(b)), axes=(0, 0))"
      }
      return "(\(try expression(a)) @ \(try expression(b)))"
    case .hadamard(let a, let b): return "(\(try expression(a)) * \(try expression(b)))"
    case .power(let a, let p): return "np.power(\(try expression(a)), \(try expression(p)))"
    case .transpose(let a): return "\(try expression(a)).T"
    case .call(let f, let a):
      if let (argument, axis, transposed) = Self.logSumExp(e) {
        return Self.logSumExpText(try expression(argument), axis: axis, transposed: transposed)
      }
      if let axis = emission.shifted[e] {
        return Self.shiftedExponentialText(try expression(a), axis: axis)
      }
      if f == .log, let (operand, text) = Self.stableLog(a) { return text(try expression(operand)) }
      let x = try expression(a)
      switch f {
      case .trace: return "np.trace(\(x))"
      case .det: return "np.linalg.det(\(x))"
      case .logdet: return "np.linalg.slogdet(\(x))[1]"
      case .inverse: return "np.linalg.inv(\(x))"
      case .diag: return "np.diag(np.ravel(\(x)))"
      case .diagonal: return "np.diag(\(x))[:, None]"
      case .sum: return "np.sum(\(x))"
      case .norm1: return "np.sum(np.abs(\(x)))"
      case .norm2: return "np.linalg.norm(\(x))"
      case .softmax:
        return "(lambda t: (lambda e: e / np.sum(e))(np.exp(t - np.max(t))))(\(x))"
      case .logsumexp:
        return "(lambda t: np.max(t) + np.log(np.sum(np.exp(t - np.max(t)))))(\(x))"
      case .exp, .log, .sin, .cos, .tanh, .sqrt, .abs, .sign: return "np.\(f.rawValue)(\(x))"
      case .sigmoid:
        // JAX's own (an XLA logistic, which never overflows). In NumPy 1/(1 + e^(−t)) is exact
        // to a few ulp wherever e^(−t) is finite; t clipped at −709 (e^709 < max double) keeps
        // it finite with no overflow warning: the same value wherever σ(t) is a normal double,
        // and within 1.3e-308 of it below, at the cost of one np.maximum (issue 23).
        if style == .jaxFunction { return "jax.nn.sigmoid(\(x))" }
        return "(1.0 / (1.0 + np.exp(-np.maximum(\(x), -709.0))))"
      case .relu: return "np.maximum(\(x), 0.0)"
      case .step: return "np.heaviside(\(x), 0.0)"
      }
    case .mapped(let f, 0, let a) where f.isDefined:
      // Its meaning at a, entry by entry (sp(Z) = log(1 + exp(Z))).
      guard let meaning = try f.applied(to: a) else { throw Self.opaqueUnsupported(f.name) }
      return try expression(meaning)
    case .gradient(let f, _) where style == .line:
      // The line binds only declared names (shared/LANGUAGE.md); a function takes ∇L.
      throw MatcalcError.unsupported(
        "NumPy output cannot evaluate the opaque function \(f) (its upstream gradient: "
          + "--format numpy binds only declared names); --format python or jax give a "
          + "backward function that takes it as a parameter (grad_…), or use --format text, "
          + "latex, markdown or json", nil)
    case .opaque(let f, _), .gradient(let f, _): throw Self.opaqueUnsupported(f)
    case .mapped(let f, _, _): throw Self.opaqueUnsupported(f.name)
    case .differential:
      throw MatcalcError.internalError("a differential in a formula")
    }
  }

  /// NumPy has no value for an opaque function: the error that says so.
  private static func opaqueUnsupported(_ f: String) -> MatcalcError {
    .unsupported(
      "NumPy output cannot evaluate the opaque function \(f) (--format numpy); use --format "
        + "text, latex, markdown or json", nil)
  }
}
