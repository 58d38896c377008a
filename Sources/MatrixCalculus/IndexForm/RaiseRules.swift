import Foundation

/// One identity of Rules/raise.rules: the matrix expression whose entry equals an index
/// pattern, e.g. `matmul: sum(k, A[i,k]*B[k,j]) => (A*B)[i,j]`.
struct RaiseRule: Sendable {
  let name: String
  /// The left side as written, in index notation.
  let patternText: String
  /// The left side parsed (the tests evaluate it entry by entry). Parsed when asked: the
  /// embedded rules live for the whole process and keep no syntax trees.
  var pattern: SyntaxExpr {
    get throws {
      var parser = try Parser(patternText)
      return try parser.singleExpression()
    }
  }
  /// The right side over the pattern variables.
  let right: Expr
  /// The right side's entry: its indices, rows then columns (axes of size one have none).
  let indices: [String]
  /// The pattern variables by name.
  let variables: [String: Expr]
  /// The `let` declarations, `;`-separated.
  let declarations: String
  let file: String
  let line: Int
}

/// The identities that raise index form to matrix form, from Rules/raise.rules.
/// ``IndexContraction`` decides which factors to combine and how to orient them; the matrix
/// expression it writes for them is the right side of one of these rules, instantiated.
enum RaiseRules {
  /// The file of the embedded rules that holds them (not a rewrite-rule file).
  static let fileName = "raise.rules"

  /// The embedded rules by name.
  static let embedded: [String: RaiseRule] = {
    do {
      let text = EmbeddedRules.files.first { $0.name == fileName }?.text ?? ""
      return Dictionary(
        try parse(text, file: fileName).map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    } catch {
      // The tests load and check every rule; a broken build must still not trap: raising
      // then reports that the rule is missing.
      FileHandle.standardError.write(Data("matcalc: \(fileName): \(error)\n".utf8))
      return [:]
    }
  }()

  /// The rules in force in place of the embedded ones (a ``RuleSet``'s, inside its
  /// ``RuleSet/withRaiseRules(_:)``), or nil for the embedded ones.
  @TaskLocal static var replaced: [String: RaiseRule]? = nil

  /// Parses a raise-rule file: `let` declarations, then `name: PATTERN => EXPR[i,j]` lines.
  ///
  /// - Throws: ``MatcalcError/rule(_:file:line:)`` naming the file and line.
  static func parse(_ text: String, file: String) throws -> [RaiseRule] {
    var rules: [RaiseRule] = []
    var names = Set<String>()
    for (line, content, lets) in RuleLines.read(text) {
      func fail(_ message: String) -> MatcalcError { .rule(message, file: file, line: line) }
      guard let colon = content.firstIndex(of: ":"),
        let arrow = content.range(of: "=>"),
        let open = content.range(of: "[", options: .backwards),
        content.hasSuffix("]"), open.lowerBound > arrow.upperBound
      else { throw fail("expected 'name: PATTERN => EXPR[indices]'") }
      let name = content[..<colon].trimmingCharacters(in: .whitespaces)
      guard names.insert(name).inserted else { throw fail("duplicate rule name '\(name)'") }
      let left = String(content[content.index(after: colon)..<arrow.lowerBound])
      let right = String(content[arrow.upperBound..<open.lowerBound])
      let indices = content[open.upperBound..<content.index(before: content.endIndex)]
        .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
      let declarations = lets.joined(separator: "; ")
      do {
        var leftParser = try Parser(left)
        _ = try leftParser.singleExpression()  // the left side must parse
        var statements = try Parser(declarations)
        let parsed = try statements.statements()
        var rightParser = try Parser(right)
        let rightSyntax = try rightParser.singleExpression()
        var checker = TypeChecker(source: right)
        checker.allowsInference = false
        guard let typed = try checker.check(parsed, objective: rightSyntax) else {
          throw fail("no right side")
        }
        var variables: [String: Expr] = [:]
        for input in checker.problem.inputs { variables[input.name] = input.expr }
        let axes = [typed.shape.rows, typed.shape.cols].filter { $0 != .one }.count
        guard axes == indices.count else {
          throw fail("the right side has \(axes) axes but [\(indices.joined(separator: ","))]")
        }
        rules.append(
          RaiseRule(
            name: name, patternText: left, right: typed, indices: indices, variables: variables,
            declarations: declarations, file: file, line: line))
      } catch let error as MatcalcError {
        if case .rule = error { throw error }
        throw fail(error.message)
      }
    }
    return rules
  }

  /// The right side of rule `name` with each pattern variable replaced by its binding and
  /// each dimension of the rule by the bound expression's (so `ones(1, m)` follows M).
  static func apply(
    _ name: String, _ bindings: [String: Expr], dimensions: [String: Dim] = [:]
  ) throws -> Expr {
    guard let rule = (replaced ?? embedded)[name] else {
      throw MatcalcError.internalError("raise rule '\(name)' is missing from Rules/raise.rules")
    }
    var replacements: [Expr: Expr] = [:]
    var dims: [Dim: Dim] = [:]
    for (symbol, value) in dimensions { dims[.symbol(symbol)] = value }
    for (variable, value) in bindings {
      guard let pattern = rule.variables[variable] else {
        throw MatcalcError.internalError("raise rule '\(name)' has no variable \(variable)")
      }
      replacements[pattern] = value
      for (from, to) in [
        (pattern.shape.rows, value.shape.rows), (pattern.shape.cols, value.shape.cols),
      ] where from != .one {
        dims[from] = to
      }
    }
    func dim(_ d: Dim) -> Dim { dims[d] ?? d }
    func walk(_ e: Expr) throws -> Expr {
      if let value = replacements[e] { return value }
      switch e.node {
      case .ones(let shape): return try Expr.ones(Shape(dim(shape.rows), dim(shape.cols)))
      case .identity(let d): return try Expr.identity(dim(d))
      case .zero(let shape): return try Expr.zero(Shape(dim(shape.rows), dim(shape.cols)))
      default: return try e.mappingChildren(walk)
      }
    }
    return try walk(rule.right)
  }
}
