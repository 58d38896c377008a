/// Checks statements against shared/LANGUAGE.md and builds the typed ``Problem``.
///
/// Pass 1 infers the shapes of undeclared names by unifying dimensions; pass 2 builds
/// ``Expr`` values and reports shape mismatches in the user's terms.
struct TypeChecker {
  static let greekNames: Set<String> = [
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
    "lambda", "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi",
    "omega",
  ]
  /// Names that cannot be declared: the functions. (`d` is reserved in rule files only;
  /// `delta`, `I`, `ones`, `zeros` may name the user's own variables, which then win.)
  static let reservedNames: Set<String> = Set(Function.allCases.map(\.spelling)).union(["sum"])
  /// ``reservedNames``, for the check at each declaration and name.
  private static let reserved = NameTable(reservedNames.map { ($0, ()) })
  /// The built-in functions by their raw values, as `Function(rawValue:)` finds them.
  private static let functions = NameTable(Function.allCases.map { ($0.rawValue, $0) })

  /// The text positions count in: the statements and, for `matcalc derive`, a line break
  /// and the objective after them (joined only when a message quotes the source).
  private let statementsText: String
  private let objectiveText: String?
  var problem = Problem()
  private var unifier = Unifier()
  private var inferred = NameTable<(Int, Int)>()
  private var inferredOrder: [String] = []
  /// Where each inferred name is first used.
  private var firstUses = NameTable<SourceRange>()
  /// A declared name's type and the terms of its shape, fixed once where it is declared.
  /// (A class: each lookup then shares it rather than copying the type.)
  private final class Declared: Sendable {
    let type: TypeSpec
    let terms: (Int, Int)

    init(type: TypeSpec, terms: (Int, Int)) {
      self.type = type
      self.terms = terms
    }
  }
  private var declared = NameTable<Declared>()
  private var definedShapes = NameTable<(Int, Int)>()
  /// Pattern variables of a rule file may not be inferred; everything must be declared.
  var allowsInference = true
  /// Rules may write `d(E)`.
  var allowsDifferentials = false
  /// Whether the functions of Rules/functions.rules are known (not while reading that file).
  var loadsFunctionRules = true
  /// Those functions, by name, once loaded.
  private var builtinOperations: [String: ElementwiseOperation] = [:]
  private var firstConflict: MatcalcError?
  /// Inferred names read as scalar coefficients (see ``readCoefficientsAsScalars``).
  private var coefficients: Set<String> = []
  /// The shape terms of each operand of a product, by syntax node, in the order inferred
  /// (looked up only when names were inferred, so kept as a list until then).
  private var factorTerms: [(node: ObjectIdentifier, terms: (Int, Int))] = []
  /// The size term of each `I` written, by syntax node.
  private var identitySizes: [ObjectIdentifier: Int] = [:]
  /// Index ranges while an index definition is being inferred.
  private var indexScope: [String: Int]?
  /// Each index definition's ranges, by the definition's name, for the written form.
  private var indexRanges: [String: [String: Int]] = [:]
  /// Definitions with three indices (`T[i,j,k] = …`): they have no matrix form and are
  /// used through their entries in later index formulas, which expand them.
  private var threeIndex: [String: (indices: [String], body: SyntaxExpr)] = [:]
  /// Raises an index definition to matrix form; supplied by the stage that owns index form.
  var raiseIndexDefinition:
    (
      (_ name: String, _ indices: [String], _ body: SyntaxExpr, _ checker: TypeChecker) throws
        -> Expr
    )?

  /// Inputs declared `symmetric(n)` that are typed as general square matrices (every entry
  /// independent, `Sᵀ` kept as written): the variables a derivative is taken by, which is then
  /// that of f as written, evaluated at a symmetric point (shared/LANGUAGE.md, issue 23).
  var generalSymmetric: Set<String> = []

  init(source: String) {
    statementsText = source
    objectiveText = nil
  }

  /// A checker for `statements` and, on the line after them, `objective` when there is one.
  init(statements: String, objective: String?) {
    statementsText = statements
    objectiveText = objective
  }

  /// The whole text positions count in.
  var source: String {
    objectiveText.map { statementsText + "\n" + $0 } ?? statementsText
  }

  /// A checker with this one's text and settings, and nothing declared or inferred.
  private var unchecked: TypeChecker {
    var checker = TypeChecker(statements: statementsText, objective: objectiveText)
    checker.allowsInference = allowsInference
    checker.allowsDifferentials = allowsDifferentials
    checker.raiseIndexDefinition = raiseIndexDefinition
    checker.generalSymmetric = generalSymmetric
    return checker
  }

  func text(_ range: SourceRange) -> String {
    // Only error messages quote the source, so the line is found when asked for.
    var current = 1
    var found: [Unicode.Scalar]?
    var buffer: [Unicode.Scalar] = []
    for scalar in source.unicodeScalars {
      if scalar == "\n" {
        if current == range.line { found = buffer }
        current += 1
        buffer = []
        if current > range.line { break }
      } else if current == range.line {
        buffer.append(scalar)
      }
    }
    if found == nil && current == range.line { found = buffer }
    guard let line = found else { return "?" }
    let start = max(0, range.column - 1)
    let end = min(line.count, start + range.length)
    guard start < end else { return "?" }
    var text = String.UnicodeScalarView()
    text.append(contentsOf: line[start..<end])
    return String(text)
  }

  /// What `A^k` of a non-square A was likely meant as: the element-wise power `A.^k` and, for
  /// k = 2, the squared norm `norm2(A)^2` (`(X*w - y)^2` written for a sum of squares).
  func powerHint(base a: SyntaxExpr, exponent b: SyntaxExpr, _ exponent: Expr) -> String {
    let base = text(a.range)
    let power = text(b.range)
    // A parenthesised base is quoted with its parentheses; the norm takes what is inside.
    let inner =
      base.count >= 2 && base.hasPrefix("(") && base.hasSuffix(")")
      ? String(base.dropFirst().dropLast()) : base
    guard exponent.constantValue == 2 else {
      return "; for the element-wise power write \(base).^\(power)"
    }
    return "; for the element-wise square write \(base).^2, for the squared norm "
      + "norm2(\(inner))^2"
  }

  // MARK: - Statements

  /// Checks the statements and, when given, one more expression (the objective of
  /// `matcalc derive`), which takes part in inference; returns that expression typed.
  @discardableResult
  mutating func check(_ statements: [Statement], objective: SyntaxExpr? = nil) throws -> Expr? {
    if loadsFunctionRules { try loadFunctionRules() }
    try declare(statements)
    try inferShapes(statements, objective: objective)
    try readCoefficientsAsScalars(statements, objective: objective)
    try build(statements)
    let typed = try objective.map { try expression($0) }
    if let firstConflict { throw firstConflict }
    problem.written = written(statements, objective: objective, typed: typed)
    return typed
  }

  /// Records the declarations, each with the terms of its shape.
  private mutating func declare(_ statements: [Statement]) throws {
    for statement in statements {
      if case .function(let name, let parameters, let body, let range) = statement {
        try defineFunction(name, parameters, body, range)
      }
    }
    for statement in statements {
      if case .declaration(let name, let type, let range) = statement {
        if builtinOperations[name] != nil {
          throw MatcalcError.syntax(
            "'\(name)' is a built-in function and cannot be declared", range)
        }
        if problem.operations[name] != nil {
          throw MatcalcError.syntax(
            "'\(name)' is a function defined in this problem and cannot also be declared", range)
        }
        if Self.reserved[name] != nil || (allowsDifferentials && name == "d") {
          throw MatcalcError.syntax("'\(name)' is a built-in name and cannot be declared", range)
        }
        let terms = shapeTerms(of: type)
        if declared.updateValue(Declared(type: type, terms: terms), forKey: name) != nil {
          throw MatcalcError.syntax("'\(name)' is declared twice", range)
        }
      }
    }
    try requireDimensionsApartFromValues(statements)
  }

  /// A name is a value or a dimension, not both: with `d : scalar` and `W : matrix(d, n)`,
  /// `d` in an expression would be the scalar while W's size is another d. The error is at
  /// the value's statement and names the declaration that uses it as a dimension.
  private func requireDimensionsApartFromValues(_ statements: [Statement]) throws {
    // Values are the declared names (already in `declared`) and the defined ones; only a
    // dimension symbol among them is looked into further, to build the message.
    var defined = NameTable<Void>()
    for statement in statements {
      switch statement {
      case .definition(let name, _, _), .indexDefinition(let name, _, _, _),
        .function(let name, _, _, _):
        defined[name] = ()
      case .declaration, .goal: continue
      }
    }
    func isValue(_ d: Dim) -> String? {
      guard case .symbol(let name) = d, declared[name] != nil || defined[name] != nil else {
        return nil
      }
      return name
    }
    for statement in statements {
      guard case .declaration(let owner, let type, let ownerRange) = statement else { continue }
      let symbol: String?
      switch type {
      case .scalar, .function, .elementwise: symbol = nil
      case .vector(let d), .symmetric(let d), .simplex(let d): symbol = isValue(d)
      case .matrix(let r, let c): symbol = isValue(r) ?? isValue(c)
      }
      guard let symbol else { continue }
      // The value's own statement (the first that declares or defines it).
      for statement in statements {
        let value: (what: String, range: SourceRange)
        switch statement {
        case .declaration(let name, let valueType, let range) where name == symbol:
          value = ("declared as \(valueType)", range)
        case .definition(let name, _, let range) where name == symbol,
          .indexDefinition(let name, _, _, let range) where name == symbol:
          value = ("defined", range)
        case .function(let name, _, _, let range) where name == symbol:
          value = ("defined as a function", range)
        default: continue
        }
        throw MatcalcError.syntax(
          "'\(symbol)' is \(value.what) here and used as a dimension in '\(owner) : \(type)' at "
            + "\(ownerRange.line):\(ownerRange.column); a name is a value or a dimension, not "
            + "both: rename one of them", value.range)
      }
    }
  }

  /// The functions of Rules/functions.rules (and an added functions.rules), known as if
  /// defined first.
  private mutating func loadFunctionRules() throws {
    // Shared, not copied: a problem looks its built-in functions up there.
    builtinOperations = try FunctionRules.current().operations
    problem.builtinOperations = builtinOperations
  }

  /// `name(t) = body`: a function applied entry by entry, defined by its meaning. The body is
  /// checked on its own, over its parameters (scalars, local to it: they may reuse names of
  /// the problem) and the functions defined before it, and must be a scalar.
  private mutating func defineFunction(
    _ name: String, _ parameters: [(name: String, range: SourceRange)], _ body: SyntaxExpr,
    _ range: SourceRange
  ) throws {
    if Self.reserved[name] != nil || Self.isConstantMatrix(name) || name == "d" {
      throw MatcalcError.syntax(
        "'\(name)' is a built-in function; a function defined here needs a name of its own",
        range)
    }
    if builtinOperations[name] != nil {
      throw MatcalcError.syntax(
        "'\(name)' is a built-in function (Rules/functions.rules); a function defined here needs "
          + "a name of its own", range)
    }
    if problem.operations[name] != nil {
      throw MatcalcError.syntax("the function '\(name)' is defined twice", range)
    }
    var seen = Set<String>()
    for parameter in parameters where !seen.insert(parameter.name).inserted {
      throw MatcalcError.syntax(
        "'\(parameter.name)' is a parameter of '\(name)' twice", parameter.range)
    }
    if parameters.count > 1 {
      throw MatcalcError.unsupported(
        "functions of several parameters are not built yet; '\(name)' takes one, applied entry "
          + "by entry", parameters[1].range)
    }
    if let call = body.firstCall(of: name) {
      throw MatcalcError.syntax(
        "'\(name)' calls itself: a function is defined by its parameters and the functions "
          + "defined before it", call)
    }
    var checker = TypeChecker(statements: statementsText, objective: objectiveText)
    checker.allowsInference = false
    checker.loadsFunctionRules = false
    checker.problem.operations = problem.operations
    checker.problem.builtinOperations = problem.builtinOperations
    checker.builtinOperations = builtinOperations
    for (known, _) in problem.operations {
      checker.declared[known] = Declared(type: .elementwise, terms: (Unifier.one, Unifier.one))
    }
    let declarations = parameters.map {
      Statement.declaration(name: $0.name, type: .scalar, range: $0.range)
    }
    let checked: Expr?
    do {
      checked = try checker.check(declarations, objective: body)
    } catch MatcalcError.unknownName(let unknown, let at) {
      let names = parameters.map(\.name).joined(separator: ", ")
      throw MatcalcError.syntax(
        "'\(unknown)' is not a parameter of '\(name)': a function's body uses its parameters "
          + "(\(names)), numbers and functions; declared names are not seen there", at)
    }
    guard let meaning = checked, let parameter = checker.problem.expr(named: parameters[0].name)
    else {
      throw MatcalcError.internalError("the function \(name) has no meaning")
    }
    guard meaning.isScalar else {
      throw MatcalcError.shapeMismatch(
        "\(text(body.range)): the body of '\(name)' is \(describe(meaning.shape)); a function "
          + "applied entry by entry is a scalar formula of its parameters", body.range)
    }
    let operation = ElementwiseOperation(name: name, parameter: parameter, body: meaning)
    // Applied to a matrix, entry by entry: what does not apply so (inv(t), 2^t) is refused here,
    // not where the function is used.
    do {
      let trial = try Expr.variable("\u{2}entries", Shape(.size(2), .size(3)))
      _ = try operation.applied(to: trial)
    } catch let error as MatcalcError {
      var detail = error.message
      if case .unsupported(let text, _) = error { detail = text }
      throw MatcalcError.unsupported(
        "the body of '\(name)' does not apply entry by entry (\(detail)); use element-wise "
          + "operations of its parameter, with constant exponents", body.range)
    }
    if let height = operation.meaning?.expandedHeight, height > Parser.maximumHeight {
      throw MatcalcError.limit(
        "'\(name)' nests its functions \(height) levels deep when written out (more than "
          + "\(Parser.maximumHeight); raise it with --max-depth)", range)
    }
    problem.operations[name] = operation
    problem.definedFunctions.append(name)
    declared[name] = Declared(type: .elementwise, terms: (Unifier.one, Unifier.one))
  }

  /// A three-index definition's indices and right side, by its name.
  func threeIndexDefinition(_ name: String) -> (indices: [String], body: SyntaxExpr)? {
    threeIndex[name]
  }

  /// The range of every index of an index definition, by index name.
  func indexRanges(of name: String) -> [String: Dim] {
    (indexRanges[name] ?? [:]).compactMapValues { unifier.value($0) }
  }

  /// The statements as written, with every index range and bare `I` size resolved.
  private func written(_ statements: [Statement], objective: SyntaxExpr?, typed: Expr?)
    -> WrittenProblem
  {
    var result = WrittenProblem()
    if loadsFunctionRules, let loaded = try? FunctionRules.current() {
      result.functions = loaded.written
    }
    for statement in statements {
      switch statement {
      case .definition(let name, let body, _):
        result.definitions.append(
          .init(
            name: name, indices: [], body: body, isIndexFormula: body.usesIndexNotation,
            ranges: indexRanges(of: name)))
      case .indexDefinition(let name, let indices, let body, _):
        result.definitions.append(
          .init(
            name: name, indices: indices, body: body, isIndexFormula: true,
            ranges: indexRanges(of: name)))
      case .function(let name, let parameters, let body, _):
        result.functions[name] = (parameters.map(\.name), body)
      case .declaration, .goal: continue
      }
    }
    if let objective, let typed { result.objective = (objective, typed) }
    for (node, term) in identitySizes {
      if let size = unifier.value(term) { result.identitySizes[node] = size }
    }
    return result
  }

  // MARK: - Pass 1: inference

  private mutating func shapeTerms(of type: TypeSpec) -> (Int, Int) {
    switch type {
    case .scalar, .function, .elementwise: return (Unifier.one, Unifier.one)
    case .vector(let d), .simplex(let d): return (unifier.fixed(d), Unifier.one)
    case .matrix(let r, let c): return (unifier.fixed(r), unifier.fixed(c))
    case .symmetric(let d): return (unifier.fixed(d), unifier.fixed(d))
    }
  }

  private mutating func inferShapes(_ statements: [Statement], objective: SyntaxExpr?) throws {
    for statement in statements {
      switch statement {
      case .declaration, .goal, .function: continue
      case .definition(let name, let body, let range) where !body.usesIndexNotation:
        definedShapes[name] = try infer(body)
        try requireDefinedBeforeUse(name, range)
      case .definition(let name, let body, let range):
        try inferIndexDefinition(name, [], body, range)
        try requireDefinedBeforeUse(name, range)
      case .indexDefinition(let name, let indices, let body, let range):
        try inferIndexDefinition(name, indices, body, range)
        try requireDefinedBeforeUse(name, range)
      }
    }
    if let objective { _ = try infer(objective) }
    guard !inferredOrder.isEmpty else { return }
    var used = Set(declared.values.flatMap { Self.dimensionSymbols($0.type) })
    // A fresh dimension is named apart from every value too (`n : scalar` keeps n a value).
    used.formUnion(declared.entries.map(\.name))
    used.formUnion(definedShapes.entries.map(\.name))
    used.formUnion(inferredOrder)
    var fresh = ["n", "m", "p", "q", "r", "s", "k", "l"].makeIterator()
    func nextSymbol() -> Dim {
      while let candidate = fresh.next() {
        if used.contains(candidate) { continue }
        used.insert(candidate)
        return .symbol(candidate)
      }
      let name = "d\(used.count)"
      used.insert(name)
      return .symbol(name)
    }
    for name in inferredOrder {
      guard let (rows, cols) = inferred[name] else { continue }
      let isGreek = Self.greekNames.contains(name.lowercased())
      if isGreek, unifier.value(rows) == nil, unifier.value(cols) == nil {
        try unifier.bind(rows, .one)
        try unifier.bind(cols, .one)
      }
      if unifier.value(cols) == nil, let first = name.first, first.isLowercase {
        try unifier.bind(cols, .one)
      }
    }
    for name in inferredOrder {
      guard let (rows, cols) = inferred[name] else { continue }
      if unifier.value(rows) == nil { try unifier.bind(rows, nextSymbol()) }
      if unifier.value(cols) == nil { try unifier.bind(cols, nextSymbol()) }
    }
  }

  // MARK: - Coefficients

  /// A coefficient of a scalar is a scalar (shared/LANGUAGE.md): an inferred name written at
  /// an end of a product whose other factors multiply to a scalar (`c` in `c*x'*x`, `λ` in
  /// `λ/2*w'*w`) could be any shape, since a scalar times anything is defined, and the
  /// first pass reads it as a vector (`c xᵀ x` a vector, its derivative a Jacobian). Pass 1
  /// is rerun with such names fixed to scalars when every use of the name is a coefficient;
  /// a name that is a coefficient in one place and used otherwise in another has two
  /// readings, and which one was meant is asked for.
  private mutating func readCoefficientsAsScalars(
    _ statements: [Statement], objective: SyntaxExpr?
  ) throws {
    // Each round may expose one more coefficient (`a*b*x'*x`: b once a is a scalar).
    for _ in 0..<4 {
      guard allowsInference, !inferredOrder.isEmpty, firstConflict == nil else { return }
      var uses = CoefficientUses(
        factorTerms: Dictionary(factorTerms, uniquingKeysWith: { _, last in last }))
      for statement in statements {
        switch statement {
        case .definition(_, let body, _):
          collectUses(body, &uses, products: !body.usesIndexNotation)
        case .indexDefinition(_, _, let body, _): collectUses(body, &uses, products: false)
        case .declaration, .goal, .function: continue
        }
      }
      if let objective { collectUses(objective, &uses, products: true) }
      let candidates = inferredOrder.filter { name in
        uses.asCoefficient[name] != nil && !coefficients.contains(name)
          && !(inferred[name].map(isKnownScalar) ?? true)
      }
      let everywhere = candidates.filter {
        uses.asCoefficient[$0]?.count == uses.total[$0]
      }
      if let name = candidates.first(where: { !everywhere.contains($0) }),
        let use = uses.asCoefficient[name]?.first, let terms = inferred[name]
      {
        var scalar = unchecked
        try scalar.declare(statements)
        scalar.coefficients = coefficients.union(everywhere).union([name])
        let consistent =
          (try? scalar.inferShapes(statements, objective: objective)) != nil
          && scalar.firstConflict == nil
        if consistent {
          let shape = resolved(terms)
          let other =
            shape.cols == .one
            ? "vector(\(shape.rows))" : "matrix(\(shape.rows), \(shape.cols))"
          throw MatcalcError.shapeMismatch(
            "'\(name)' has two readings: a scalar coefficient in \(text(use.product)), or a "
              + "\(shape.cols == .one ? "vector" : "matrix") as its other uses allow; declare "
              + "'\(name) : scalar' or '\(name) : \(other)'", use.name)
        }
      }
      guard !everywhere.isEmpty else { return }
      var scalar = unchecked
      try scalar.declare(statements)
      scalar.coefficients = coefficients.union(everywhere)
      do { try scalar.inferShapes(statements, objective: objective) } catch { return }
      guard scalar.firstConflict == nil else { return }
      self = scalar
    }
  }

  /// Per inferred name: how often it is written, and where it is a coefficient.
  private struct CoefficientUses {
    /// The shape terms of each operand of a product, by syntax node.
    let factorTerms: [ObjectIdentifier: (Int, Int)]
    var total: [String: Int] = [:]
    var asCoefficient: [String: [(name: SourceRange, product: SourceRange)]] = [:]
  }

  /// The factors of a product chain `A*B*C` (a product is associative).
  private func factors(_ node: SyntaxExpr, into chain: inout [SyntaxExpr]) {
    guard case .binary("*", let a, let b) = node.kind else {
      chain.append(node)
      return
    }
    factors(a, into: &chain)
    factors(b, into: &chain)
  }

  /// The inferred name a factor scales, through `-c`, `c'` and `c/2`.
  private func coefficientName(_ node: SyntaxExpr) -> (String, SourceRange)? {
    switch node.kind {
    case .name(let name): return inferred[name] != nil ? (name, node.range) : nil
    case .negate(let a), .transpose(let a): return coefficientName(a)
    case .binary("/", let a, _): return coefficientName(a)
    default: return nil
    }
  }

  private func isScalarFactor(_ node: SyntaxExpr, _ uses: CoefficientUses) -> Bool {
    uses.factorTerms[ObjectIdentifier(node)].map(isKnownScalar) ?? false
  }

  private func collectUses(_ node: SyntaxExpr, _ uses: inout CoefficientUses, products: Bool) {
    switch node.kind {
    case .name(let name):
      if inferred[name] != nil { uses.total[name, default: 0] += 1 }
    case .number, .index: return
    case .negate(let a), .transpose(let a): collectUses(a, &uses, products: products)
    case .call(_, let arguments):
      for argument in arguments { collectUses(argument, &uses, products: products) }
    case .binary("*", _, _) where products:
      var chain: [SyntaxExpr] = []
      factors(node, into: &chain)
      // The non-scalar factors, in order: a factor is at an end when it is the first or the
      // last of them, and the others then run from the next (or first) to the last (or
      // previous) one.
      let matrices = chain.indices.filter { !isScalarFactor(chain[$0], uses) }
      for (position, factor) in chain.enumerated() {
        collectUses(factor, &uses, products: products)
        guard let (name, range) = coefficientName(factor) else { continue }
        let firstOther = matrices.first == position ? matrices.dropFirst().first : matrices.first
        let lastOther = matrices.last == position ? matrices.dropLast().last : matrices.last
        let atAnEnd =
          matrices.first.map { position <= $0 } ?? true
          || matrices.last.map { position >= $0 } ?? true
        guard atAnEnd else { continue }
        if let first = firstOther, let last = lastOther {
          guard let rows = uses.factorTerms[ObjectIdentifier(chain[first])]?.0,
            let cols = uses.factorTerms[ObjectIdentifier(chain[last])]?.1,
            unifier.isOne(rows), unifier.isOne(cols)
          else { continue }
        }
        uses.asCoefficient[name, default: []].append((range, node.range))
      }
    case .binary(_, let a, let b):
      collectUses(a, &uses, products: products)
      collectUses(b, &uses, products: products)
    }
  }

  /// A name defined after a use would otherwise have been inferred as an input there.
  private func requireDefinedBeforeUse(_ name: String, _ definition: SourceRange) throws {
    guard inferred[name] != nil, declared[name] == nil, let use = firstUses[name] else { return }
    if (use.line, use.column) < (definition.line, definition.column) {
      throw MatcalcError.syntax(
        "'\(name)' is used at \(use) before its definition at \(definition); definitions must "
          + "come before their use", use)
    }
    throw MatcalcError.syntax(
      "'\(name)' is used in its own definition at \(definition); a definition may use only the "
        + "names before it", use)
  }

  private mutating func inferIndexDefinition(
    _ name: String, _ indices: [String], _ body: SyntaxExpr, _ range: SourceRange
  ) throws {
    if indices.count == 3 {
      if declared[name] != nil || definedShapes[name] != nil || threeIndex[name] != nil {
        throw MatcalcError.syntax("'\(name)' is declared or defined twice", range)
      }
      threeIndex[name] = (indices, body)
    }
    indexScope = [:]
    _ = try infer(body)
    let map = indexScope ?? [:]
    indexScope = nil
    indexRanges[name] = map
    for index in indices where map[index] == nil {
      throw MatcalcError.syntax(
        "index \(index) of \(name) does not occur on the right side", range)
    }
    if indices.count == 3 { return }
    let terms = indices.map { map[$0] ?? Unifier.one }
    definedShapes[name] =
      terms.count == 0
      ? (Unifier.one, Unifier.one)
      : terms.count == 1 ? (terms[0], Unifier.one) : (terms[0], terms[1])
  }

  /// `I(n)`, `ones(m, n)`, `zeros(m, n)`: constant matrices whose arguments are dimensions.
  static let constantMatrices: Set<String> = ["I", "ones", "zeros"]

  /// Whether `name` is one of ``constantMatrices`` (compared, not hashed: asked at every call).
  static func isConstantMatrix(_ name: String) -> Bool {
    name == "I" || name == "ones" || name == "zeros"
  }

  func constantMatrixDims(_ name: String, _ arguments: [SyntaxExpr], _ node: SyntaxExpr) throws
    -> Shape
  {
    let expected = name == "I" ? 1 : 2
    guard arguments.count == expected else {
      throw MatcalcError.syntax(
        name == "I" ? "I takes one dimension: I(n)" : "\(name) takes two dimensions: \(name)(m, n)",
        node.range)
    }
    let dims = try arguments.map { argument -> Dim in
      switch argument.kind {
      case .name(let symbol): return .symbol(symbol)
      case .number(let value) where value >= 1 && value == value.rounded() && value <= 1e6:
        return .size(Int(value))
      default:
        throw MatcalcError.syntax(
          "\(name)(…) takes dimensions (names or positive integers)", argument.range)
      }
    }
    return name == "I" ? Shape(dims[0], dims[0]) : Shape(dims[0], dims[1])
  }

  /// How this language writes a function of other tools, applied to `argument`; nil when
  /// `name` is not one of them.
  static func foreignFunction(_ name: String, _ argument: String) -> String? {
    switch name {
    case "trace", "Tr", "Trace": return "tr(\(argument)) for the trace"
    case "norm", "Norm":
      return "norm2(\(argument)) for the Euclidean (Frobenius) norm, or norm1(\(argument)) "
        + "for the sum of absolute values"
    case "transpose": return "\(argument)' for the transpose"
    case "inverse": return "inv(\(argument)) for the inverse"
    case "determinant": return "det(\(argument)) for the determinant"
    default: return nil
    }
  }

  /// A call with other than one argument: of a function that takes one, that count; of an
  /// unknown name, "unknown function" (with `max(0, t)` read as relu).
  private func wrongArgumentCount(_ name: String, _ arguments: [SyntaxExpr], _ range: SourceRange)
    -> MatcalcError
  {
    let known =
      Self.functions[name] != nil || declared[name] != nil
      || problem.operation(named: name) != nil
    if !known && ["max", "maximum", "fmax"].contains(name) && arguments.count == 2 {
      let zero = arguments.firstIndex {
        if case .number(0) = $0.kind { return true }
        return false
      }
      if let zero {
        let t = text(arguments[1 - zero].range)
        return .syntax("unknown function '\(name)': write relu(\(t)) for max(0, \(t))", range)
      }
    }
    if !known {
      return Self.unknownFunction(
        name, range, argument: arguments.map { text($0.range) }.joined(separator: ", "))
    }
    let count = arguments.count
    return .syntax(
      "'\(name)' takes one argument, found \(count)"
        + (name == "softmax" || name == "logsumexp" || name == "sum"
          ? " (a dimension argument, as in \(name)(A, 2), is not built yet)" : ""),
      range)
  }

  static func unknownFunction(_ name: String, _ range: SourceRange, argument: String = "X")
    -> MatcalcError
  {
    if let translation = foreignFunction(name, argument) {
      return .syntax("unknown function '\(name)': write \(translation)", range)
    }
    let builtins = Function.allCases.filter { $0 != .diagonal }.map(\.spelling)
    let defined = ((try? FunctionRules.current().operations.keys.sorted()) ?? [])
    let known = (builtins + defined).joined(separator: " ")
    return .syntax(
      "unknown function '\(name)'; the functions are \(known), or declare an opaque one with "
        + "'\(name) : function' (scalar) or '\(name) : elementwise'", range)
  }

  private static func dimensionSymbols(_ type: TypeSpec) -> [String] {
    let dims: [Dim]
    switch type {
    case .scalar, .function, .elementwise: dims = []
    case .vector(let d), .symmetric(let d), .simplex(let d): dims = [d]
    case .matrix(let r, let c): dims = [r, c]
    }
    return dims.compactMap { if case .symbol(let s) = $0 { return s } else { return nil } }
  }

  private func isKnownScalar(_ shape: (Int, Int)) -> Bool {
    unifier.isOne(shape.0) && unifier.isOne(shape.1)
  }

  /// Inference only: a conflict between declared dimensions is reported by pass 2, which
  /// names the operands' shapes in the user's terms; the first one is kept in case pass 2
  /// does not meet it.
  private mutating func unify(_ a: Int, _ b: Int, at node: SyntaxExpr) throws {
    do { try unifier.unify(a, b) } catch let conflict as Unifier.Conflict {
      if firstConflict == nil {
        firstConflict = MatcalcError.shapeMismatch(
          "\(text(node.range)): dimension \(conflict.left) does not match \(conflict.right)",
          node.range)
      }
    }
  }

  private mutating func infer(_ node: SyntaxExpr) throws -> (Int, Int) {
    let one = Unifier.one
    switch node.kind {
    case .number: return (one, one)
    case .name(let name):
      if let definition = threeIndex[name] {
        throw MatcalcError.shapeMismatch(
          "\(name) has three indices and no matrix form: use its entries "
            + "\(name)[\(definition.indices.joined(separator: ","))] in an index formula",
          node.range)
      }
      if let declaration = declared[name] {
        if declaration.type == .function || declaration.type == .elementwise {
          throw MatcalcError.syntax("'\(name)' is a function: write \(name)(…)", node.range)
        }
        return declaration.terms
      }
      if let shape = definedShapes[name] { return shape }
      if name == "I" {  // the identity, its size inferred from where it is used
        let d = unifier.fresh()
        identitySizes[ObjectIdentifier(node)] = d
        return (d, d)
      }
      if Self.reserved[name] != nil {
        throw MatcalcError.syntax("'\(name)' is a function: write \(name)(…)", node.range)
      }
      guard allowsInference else { throw MatcalcError.unknownName(name, node.range) }
      if inferred[name] == nil,
        let owner = declared.entries.sorted(by: { $0.name < $1.name }).first(where: {
          Self.dimensionSymbols($0.value.type).contains(name)
        })
      {
        // `sum(x)/n` with x : vector(n): a dimension is not a value, and reading it as a new
        // scalar input would change the problem.
        throw MatcalcError.syntax(
          "'\(name)' is a dimension (of \(owner.name)), not a value: declare a scalar for it "
            + "(e.g. 'N : scalar'), or write the size as sum(ones(\(name), 1))", node.range)
      }
      if let shape = inferred[name] { return shape }
      let shape = (unifier.fresh(), unifier.fresh())
      if coefficients.contains(name) {
        try unifier.bind(shape.0, .one)
        try unifier.bind(shape.1, .one)
      }
      inferred[name] = shape
      inferredOrder.append(name)
      firstUses[name] = node.range
      return shape
    case .negate(let a): return try infer(a)
    case .transpose(let a):
      let (r, c) = try infer(a)
      return (c, r)
    case .binary(let op, let a, let b):
      // `x^T` (LaTeX, NumPy's `.T`) is a transpose unless T is one of the user's names.
      if op == "^", case .name("T") = b.kind, declared["T"] == nil, definedShapes["T"] == nil,
        allowsInference
      {
        var base = text(a.range)
        // A parenthesised base is quoted with its parentheses already.
        let parenthesised = base.hasPrefix("(") && base.hasSuffix(")")
        if case .name = a.kind {} else if !parenthesised { base = "(\(base))" }
        throw MatcalcError.syntax("\(base)^T: write \(base)' for the transpose", node.range)
      }
      let left = try infer(a)
      let right = try infer(b)
      switch op {
      case "*":
        if indexScope != nil { return (one, one) }
        if allowsInference {
          if factorTerms.isEmpty { factorTerms.reserveCapacity(16) }
          factorTerms.append((ObjectIdentifier(a), left))
          factorTerms.append((ObjectIdentifier(b), right))
        }
        if isKnownScalar(left) { return right }
        if isKnownScalar(right) { return left }
        try unify(left.1, right.0, at: node)
        return (left.0, right.1)
      case "/":
        try unify(right.0, one, at: node)
        try unify(right.1, one, at: node)
        return left
      case "^", ".^":
        try unify(right.0, one, at: node)
        try unify(right.1, one, at: node)
        if op == "^" && !isKnownScalar(left) { try unify(left.0, left.1, at: node) }
        return left
      default:  // + - .* ./
        if indexScope != nil { return (one, one) }
        if isKnownScalar(left) { return right }
        if isKnownScalar(right) { return left }
        try unify(left.0, right.0, at: node)
        try unify(left.1, right.1, at: node)
        return left
      }
    case .index(let name, let names):
      guard indexScope != nil else {
        throw MatcalcError.syntax(
          "'\(name)[…]' is index notation: use it in an index definition 'D[i,j] = …'",
          node.range)
      }
      if let definition = threeIndex[name] {
        guard names.count == 3 else {
          throw MatcalcError.shapeMismatch(
            "\(name) has three indices: write \(name)[\(definition.indices.joined(separator: ","))]",
            node.range)
        }
        for (index, own) in zip(names, definition.indices) {
          guard let dim = indexRanges[name]?[own] else { continue }
          if let existing = indexScope?[index] {
            try unify(existing, dim, at: node)
          } else {
            indexScope?[index] = dim
          }
        }
        return (one, one)
      }
      let shape: (Int, Int)
      if let declaration = declared[name] {
        shape = declaration.terms
      } else if let defined = definedShapes[name] {
        shape = defined
      } else if allowsInference {
        if inferred[name] == nil {
          inferred[name] = (unifier.fresh(), unifier.fresh())
          inferredOrder.append(name)
          firstUses[name] = node.range
        }
        shape = inferred[name] ?? (one, one)
        if names.count == 1 { try unify(shape.1, one, at: node) }
      } else {
        throw MatcalcError.unknownName(name, node.range)
      }
      guard names.count <= 2 else {
        throw MatcalcError.unsupported(
          "'\(name)' has \(names.count) indices; at most 2", node.range)
      }
      let dims = names.count == 2 ? [shape.0, shape.1] : [shape.0]
      for (index, dim) in zip(names, dims) {
        if let existing = indexScope?[index] {
          try unify(existing, dim, at: node)
        } else {
          indexScope?[index] = dim
        }
      }
      return (one, one)
    case .call(let name, let arguments) where Self.isConstantMatrix(name):
      let dims = try constantMatrixDims(name, arguments, node)
      return (unifier.fixed(dims.rows), unifier.fixed(dims.cols))
    case .call(let name, let arguments):
      if indexScope != nil && (name == "sum" || name == "delta") {
        // delta's arguments are index names, not expressions to infer.
        for argument in name == "sum" ? Array(arguments.dropFirst()) : [] {
          _ = try infer(argument)
        }
        if name == "delta" {
          let names = arguments.compactMap { arg -> String? in
            if case .name(let n) = arg.kind { return n } else { return nil }
          }
          guard names.count == 2 else {
            throw MatcalcError.syntax("delta takes two indices: delta(i, j)", node.range)
          }
          for index in names where indexScope?[index] == nil {
            indexScope?[index] = unifier.fresh()
          }
          if let a = indexScope?[names[0]], let b = indexScope?[names[1]] {
            try unify(a, b, at: node)
          }
        }
        return (one, one)
      }
      guard arguments.count == 1 else {
        throw wrongArgumentCount(name, arguments, node.range)
      }
      let argument = try infer(arguments[0])
      if indexScope != nil { return (one, one) }
      if let type = declared[name]?.type {
        if type == .function { return (one, one) }
        if type == .elementwise { return argument }
      }
      if problem.operation(named: name) != nil { return argument }
      if allowsDifferentials && name == "d" { return argument }
      guard let function = Self.functions[name], function != .diagonal else {
        throw Self.unknownFunction(name, node.range, argument: text(arguments[0].range))
      }
      switch function {
      case .trace, .det, .logdet:
        try unify(argument.0, argument.1, at: node)
        return (one, one)
      case .inverse:
        try unify(argument.0, argument.1, at: node)
        return argument
      case .diag, .diagonal:
        if unifier.isOne(argument.1) { return (argument.0, argument.0) }
        try unify(argument.0, argument.1, at: node)
        return (argument.0, one)
      case .sum, .norm1, .norm2, .logsumexp: return (one, one)
      case .softmax:
        try unify(argument.1, one, at: node)
        return argument
      default: return argument
      }
    }
  }

  // MARK: - Pass 2: building

  private func resolved(_ terms: (Int, Int)) -> Shape {
    Shape(unifier.value(terms.0) ?? .one, unifier.value(terms.1) ?? .one)
  }

  private mutating func build(_ statements: [Statement]) throws {
    problem.reserveInputs(declared.count + inferredOrder.count)
    for statement in statements {
      if case .declaration(let name, let type, _) = statement {
        try addInput(name, type)
      }
    }
    for name in inferredOrder {
      guard let terms = inferred[name] else { continue }
      let shape = resolved(terms)
      let type: TypeSpec =
        shape.isScalar
        ? .scalar
        : shape.cols == .one
          ? .vector(shape.rows)
          : .matrix(shape.rows, shape.cols)
      try addInput(name, type)
      problem.inferredNames.append(name)
    }
    for statement in statements {
      switch statement {
      case .declaration, .function: continue
      case .definition(let name, let body, let range) where !body.usesIndexNotation:
        try define(name, try expression(body), range)
      case .definition(let name, let body, let range):
        guard let raise = raiseIndexDefinition else {
          throw MatcalcError.unsupported("index definitions", range)
        }
        try define(name, try raisingReportsConflicts { try raise(name, [], body, self) }, range)
      case .indexDefinition(_, let indices, _, _) where indices.count == 3:
        continue  // expanded where its entries are used
      case .indexDefinition(let name, let indices, let body, let range):
        guard let raise = raiseIndexDefinition else {
          throw MatcalcError.unsupported("index definitions", range)
        }
        try define(
          name, try raisingReportsConflicts { try raise(name, indices, body, self) }, range)
      case .goal(let of, let wrt, let order, let range):
        problem.goals.append(Problem.Goal(of: of, wrt: wrt, order: order, range: range))
      }
    }
  }

  /// Raises an index definition; when inference met a conflict (an index ranging over n in
  /// one entry and p in another), that conflict, with its position, is the error rather than
  /// what raising then stumbles on.
  private func raisingReportsConflicts(_ raise: () throws -> Expr) throws -> Expr {
    do {
      return try raise()
    } catch {
      throw firstConflict ?? error
    }
  }

  private mutating func addInput(_ name: String, _ type: TypeSpec) throws {
    let shape: Shape
    switch type {
    case .function, .elementwise:
      problem.functions[name] = type
      return
    case .scalar: shape = .scalar
    case .vector(let d), .simplex(let d): shape = Shape(d, .one)
    case .matrix(let r, let c): shape = Shape(r, c)
    case .symmetric(let d): shape = Shape(d, d)
    }
    let isSymmetric: Bool
    if case .symmetric = type {
      isSymmetric = !generalSymmetric.contains(name)
    } else {
      isSymmetric = false
    }
    let variable = try Expr.variable(name, shape, symmetric: isSymmetric)
    problem.addInput(name, variable, type)
  }

  private mutating func define(_ name: String, _ body: Expr, _ range: SourceRange) throws {
    if problem.operation(named: name) != nil {
      throw MatcalcError.syntax(
        "'\(name)' is a function defined by its meaning and cannot also be a value", range)
    }
    if problem.isInput(name) || problem.functions[name] != nil {
      throw MatcalcError.syntax("'\(name)' is declared as an input and cannot be defined", range)
    }
    if problem.isDefinition(name) {
      throw MatcalcError.syntax("'\(name)' is defined twice", range)
    }
    let variable = try Expr.variable(name, body.shape)
    problem.addDefinition(
      Problem.Definition(name: name, variable: variable, body: body, range: range))
  }

  func describe(_ shape: Shape) -> String {
    shape.isScalar ? "a scalar" : "\(shape.rows)×\(shape.cols)"
  }

  private func mismatch(
    _ node: SyntaxExpr, _ a: SyntaxExpr, _ left: Expr, _ b: SyntaxExpr,
    _ right: Expr, _ need: String
  ) -> MatcalcError {
    mismatch(node, a, left.shape, b, right.shape, need)
  }

  private func mismatch(
    _ node: SyntaxExpr, _ a: SyntaxExpr, _ left: Shape, _ b: SyntaxExpr,
    _ right: Shape, _ need: String
  ) -> MatcalcError {
    .shapeMismatch(
      "\(text(node.range)): \(text(a.range)) is \(describe(left)) but \(text(b.range)) is "
        + "\(describe(right))\(need)", node.range)
  }

  /// `F₁*F₂*⋯*Fₖ` as written: the operands along the left spine of `*` checked one by one
  /// and multiplied in one pass (a fold would copy the growing chain at every factor).
  private func product(_ node: SyntaxExpr) throws -> Expr {
    var spine: [SyntaxExpr] = []
    var leftmost = node
    while case .binary("*", let a, _) = leftmost.kind {
      spine.append(leftmost)
      leftmost = a
    }
    var operands = [try expression(leftmost)]
    var shape = operands[0].shape
    for product in spine.reversed() {
      guard case .binary(_, let a, let b) = product.kind else { continue }
      let right = try expression(b)
      if shape.isScalar {
        shape = right.shape
      } else if !right.isScalar {
        guard shape.cols == right.shape.rows else {
          throw mismatch(product, a, shape, b, right.shape, "")
        }
        shape = Shape(shape.rows, right.shape.cols)
      }
      operands.append(right)
    }
    return try Expr.product(of: operands[...]) ?? operands[0]
  }

  /// Builds the typed expression of a matrix-syntax node.
  func expression(_ node: SyntaxExpr) throws -> Expr {
    switch node.kind {
    case .number(let value): return Expr.constant(value)
    case .name(let name):
      if let expr = problem.expr(named: name) { return expr }
      if name == "I", let term = identitySizes[ObjectIdentifier(node)] {
        guard let size = unifier.value(term) else {
          throw MatcalcError.shapeMismatch(
            "the size of I cannot be inferred here; write it as a declared matrix", node.range)
        }
        return try Expr.identity(size)
      }
      throw MatcalcError.unknownName(name, node.range)
    case .negate(let a): return try -expression(a)
    case .transpose(let a): return try Expr.transpose(try expression(a))
    case .index(let name, _):
      throw MatcalcError.syntax(
        "'\(name)[…]' is index notation: use it in an index definition 'D[i,j] = …'", node.range)
    case .binary("*", _, _): return try product(node)
    case .binary(let op, let a, let b):
      let left = try expression(a)
      let right = try expression(b)
      if op == "/" || op == "./", right.isZero {
        throw MatcalcError.shapeMismatch(
          "\(text(node.range)): division by zero (\(text(b.range)) is 0)", node.range)
      }
      switch op {
      case "+", "-":
        guard left.shape == right.shape || left.isScalar || right.isScalar else {
          throw mismatch(node, a, left, b, right, "")
        }
        return op == "+" ? try left + right : try left - right
      case ".*", "./":
        guard left.shape == right.shape || left.isScalar || right.isScalar else {
          throw mismatch(node, a, left, b, right, "")
        }
        let factor = op == ".*" ? right : try Expr.power(right, Expr.constant(-1))
        return try Expr.hadamard(left, factor)
      case "/":
        guard right.isScalar else {
          throw mismatch(node, a, left, b, right, " (divide by scalars only; use ./ or inv)")
        }
        return try left * Expr.power(right, Expr.constant(-1))
      case ".^":
        guard right.isScalar else { throw mismatch(node, a, left, b, right, " (need a scalar)") }
        return try Expr.power(left, right)
      default:  // ^
        guard right.isScalar else { throw mismatch(node, a, left, b, right, " (need a scalar)") }
        if left.isScalar { return try Expr.power(left, right) }
        guard left.shape.isSquare else {
          throw MatcalcError.shapeMismatch(
            "\(text(node.range)): matrix power needs a square matrix, but \(text(a.range)) is "
              + describe(left.shape) + powerHint(base: a, exponent: b, right), node.range)
        }
        guard let k = right.constantValue, k == k.rounded(), abs(k) <= 64 else {
          throw MatcalcError.unsupported(
            "matrix power with exponent \(text(b.range)): use an integer between -64 and 64",
            b.range)
        }
        let base = k < 0 ? try Expr.call(.inverse, left) : left
        var result = try Expr.identity(left.shape.rows)
        for _ in 0..<Int(abs(k)) { result = try result * base }
        return result
      }
    case .call(let name, let arguments) where Self.isConstantMatrix(name):
      let shape = try constantMatrixDims(name, arguments, node)
      switch name {
      case "I": return try Expr.identity(shape.rows)
      case "ones": return try Expr.ones(shape)
      default: return try Expr.zero(shape)
      }
    case .call(let name, let arguments):
      guard arguments.count == 1 else {
        throw wrongArgumentCount(name, arguments, node.range)
      }
      let argument = try expression(arguments[0])
      if let operation = problem.operation(named: name) {
        return try Expr.make(.mapped(operation, 0, argument))
      }
      if let type = problem.functions[name] {
        if type == .function { return try Expr.make(.opaque(name, argument)) }
        return try Expr.make(.mapped(ElementwiseOperation(opaque: name), 0, argument))
      }
      if allowsDifferentials && name == "d" { return try Expr.make(.differential(argument)) }
      guard var function = Self.functions[name], function != .diagonal else {
        throw Self.unknownFunction(name, node.range, argument: text(arguments[0].range))
      }
      let shape = argument.shape
      func square() -> String {
        "\(text(node.range)): \(name) needs a square matrix, but \(text(arguments[0].range)) is "
          + describe(shape)
      }
      switch function {
      case .trace, .det, .logdet, .inverse:
        guard shape.isSquare else { throw MatcalcError.shapeMismatch(square(), node.range) }
      case .diag:
        if shape.cols != .one {
          guard shape.isSquare else { throw MatcalcError.shapeMismatch(square(), node.range) }
          function = .diagonal
        }
      case .softmax:
        guard shape.cols == .one else {
          throw MatcalcError.shapeMismatch(
            "\(text(node.range)): softmax needs a vector, but \(text(arguments[0].range)) is "
              + describe(shape), node.range)
        }
      default: break
      }
      return try Expr.call(function, argument)
    }
  }
}
