/// A parsed, type-checked problem: inputs with shapes, opaque functions, definitions in
/// order, and goals.
public struct Problem: Sendable {
  /// A `derive OF wrt WRT [order k]` goal.
  public struct Goal: Sendable, Hashable {
    /// The name (or expression name) being differentiated.
    public var of: String
    /// The variable.
    public var wrt: String
    /// 1 for gradients, 2 for Hessians.
    public var order: Int
    /// Where the goal was written.
    public var range: SourceRange?
  }

  /// A named definition `NAME = EXPR`.
  public struct Definition: Sendable {
    /// The name.
    public var name: String
    /// The variable standing for it in later expressions.
    public var variable: Expr
    /// Its body.
    public var body: Expr
    /// Where it was written.
    public var range: SourceRange
  }

  /// Inputs by name (declared or inferred), in order of first appearance.
  public private(set) var inputs: [(name: String, expr: Expr, type: TypeSpec)] = []
  /// Opaque functions (`function` or `elementwise`) and functions defined by their meaning
  /// (`elementwise`) by name.
  public internal(set) var functions: [String: TypeSpec] = [:]
  /// The functions defined by their meaning (`sp(t) = log(1 + exp(t))`), by name: those of
  /// Rules/functions.rules and the problem's own.
  public internal(set) var operations: [String: ElementwiseOperation] = [:]
  /// The functions of Rules/functions.rules (and an added functions.rules) in force when the
  /// problem was read, shared by every problem.
  var builtinOperations: [String: ElementwiseOperation] = [:]

  /// A function defined by its meaning: the problem's own, or a built-in one.
  func operation(named name: String) -> ElementwiseOperation? {
    operations[name] ?? builtinOperations[name]
  }

  /// The names of the functions the problem itself defines, in order.
  public internal(set) var definedFunctions: [String] = []
  /// Definitions in the order written; each may use the ones before it.
  public private(set) var definitions: [Definition] = []
  /// Goals of a problem file.
  public internal(set) var goals: [Goal] = []
  /// The inputs that were used but not declared, in order of first use: their types were
  /// inferred (every output states them).
  public internal(set) var inferredNames: [String] = []
  /// The problem as the user wrote it, for the certificate (`nil` for problems built from
  /// rule files or with their definitions removed).
  var written: WrittenProblem?

  /// Names to inputs and definitions, so lookups stay O(1) in problems with hundreds of
  /// definitions (a deep network).
  private var inputsByName = NameTable<Expr>()
  private var definitionsByName = NameTable<Expr>()

  /// Makes room for `count` more inputs. (Only the list: `Dictionary.reserveCapacity` is not
  /// specialized and looks up generic metadata at every call, which costs more than growing.)
  mutating func reserveInputs(_ count: Int) {
    inputs.reserveCapacity(inputs.count + count)
  }

  /// Adds an input.
  mutating func addInput(_ name: String, _ expr: Expr, _ type: TypeSpec) {
    inputs.append((name, expr, type))
    // The first input of a name is the one found by name (one lookup when it is new).
    if let first = inputsByName.updateValue(expr, forKey: name) { inputsByName[name] = first }
  }

  /// Adds a definition after the others.
  mutating func addDefinition(_ definition: Definition) {
    definitions.append(definition)
    definitionsByName[definition.name] = definition.variable
  }

  /// Turns a definition into an input of the same shape (to differentiate with respect to
  /// it, holding it free).
  mutating func makeInput(_ name: String) {
    guard let index = definitions.firstIndex(where: { $0.name == name }) else { return }
    let definition = definitions.remove(at: index)
    definitionsByName[name] = nil
    let shape = definition.variable.shape
    let type: TypeSpec =
      shape.isScalar
      ? .scalar : shape.cols == .one ? .vector(shape.rows) : .matrix(shape.rows, shape.cols)
    addInput(name, definition.variable, type)
  }

  /// Marks each definition whose body is symmetric by construction (``Expr/isSymmetric``:
  /// `K = A Aᵀ + s I`, `inv(K)`, `S + Sᵀ`) as a symmetric name, so that `Kᵀ = K` and
  /// `(K⁻¹)ᵀ = K⁻¹` hold wherever K is used; later bodies and the written objective's typed
  /// form are rewritten over the symmetric names. A definition's value is always its body's,
  /// so this holds at every point; inputs (a definition held free among them) keep their types
  /// and are sampled as before.
  ///
  /// - Returns: each definition's former variable → its symmetric one, for expressions over
  ///   the problem (the objective).
  mutating func markSymmetricDefinitions() throws -> [Expr: Expr] {
    var replacements: [Expr: Expr] = [:]
    for index in definitions.indices {
      var definition = definitions[index]
      if !replacements.isEmpty {
        definition.body = try definition.body.substituting(replacements)
      }
      guard case .variable(let name, let shape, symmetric: false) = definition.variable.node,
        !shape.isScalar, definition.body.isSymmetric
      else {
        definitions[index] = definition
        continue
      }
      let symmetric = try Expr.variable(name, shape, symmetric: true)
      replacements[definition.variable] = symmetric
      definition.variable = symmetric
      definitionsByName[name] = symmetric
      definitions[index] = definition
    }
    if let typed = written?.objective?.typed, !replacements.isEmpty {
      written?.objective?.typed = try typed.substituting(replacements)
    }
    return replacements
  }

  /// Drops every definition (tests check formulas against inputs only).
  mutating func removeDefinitions() {
    definitions = []
    written = nil
    definitionsByName = NameTable()
  }

  /// The one-letter names of inputs, definitions, functions and dimensions: letters an index
  /// shown in steps must not take.
  var oneLetterNames: Set<String> {
    var names = Set(inputs.map(\.name) + definitions.map(\.name) + functions.keys)
    for input in inputs {
      for dim in [input.expr.shape.rows, input.expr.shape.cols] {
        if case .symbol(let symbol) = dim { names.insert(symbol) }
      }
    }
    return names.filter { $0.count == 1 }
  }

  /// The input or definition named `name` (a definition wins over an input).
  public func expr(named name: String) -> Expr? {
    definitionsByName[name] ?? inputsByName[name]
  }

  /// The inferred inputs with their types, in order of first use.
  public var inferred: [(name: String, type: TypeSpec)] {
    inferredNames.compactMap { name in
      inputs.first(where: { $0.name == name }).map { (name, $0.type) }
    }
  }

  /// Whether `name` is a definition.
  func isDefinition(_ name: String) -> Bool { definitionsByName[name] != nil }

  /// Whether `name` is an input.
  func isInput(_ name: String) -> Bool { inputsByName[name] != nil }
}

/// A problem exactly as written: each definition's syntax with the ranges of its indices,
/// and the objective's syntax. The certificate evaluates this, entry by entry for index
/// definitions, so it never depends on how the engine read the input.
struct WrittenProblem: Sendable {
  /// `NAME = EXPR` or `NAME[i,j] = INDEX_EXPR` as written.
  struct Definition: Sendable {
    var name: String
    /// The left side's indices (empty for a matrix definition or a scalar index formula).
    var indices: [String]
    var body: SyntaxExpr
    /// Whether the body is an index formula (entries, sums over indices, deltas).
    var isIndexFormula: Bool
    /// The range of every index the formula uses.
    var ranges: [String: Dim]
  }

  var definitions: [Definition] = []
  /// Functions defined by their meaning, `NAME(t) = EXPR`, by name: parameters and body.
  var functions: [String: (parameters: [String], body: SyntaxExpr)] = [:]
  /// The objective of `matcalc derive`, when there is one, with its typed form.
  var objective: (syntax: SyntaxExpr, typed: Expr)?
  /// The size of each bare `I`, by syntax node (inferred from where it is used).
  var identitySizes: [ObjectIdentifier: Dim] = [:]
}
