/// Recursive descent over ``PythonLexer`` tokens into a ``PythonProgram``, with Python's
/// precedence (lambda, `if`–`else`, `or`, `and`, `not`, comparisons, `+ -`, `* / // % @`,
/// unary signs, `**`, then calls, subscripts and attributes).
struct PythonParser {
  private var tokens: [PythonLexer.Token]
  private var position = 0
  private var depth = 0
  /// Deeper expressions are refused (each level is a frame of the evaluator too).
  static let maximumDepth = 1500

  /// A parser of `source`.
  init(_ source: String) throws {
    tokens = try PythonLexer.tokens(source)
  }

  /// The whole module: statements at indentation 0 (a `def` holds the more indented ones).
  mutating func program() throws -> PythonProgram {
    var statements: [PythonProgram.Statement] = []
    while case .line(let indent) = peek {
      guard indent == 0 else { throw fail("unexpected indent") }
      statements += try line(indent: indent)
    }
    guard peek == .end else { throw fail("invalid syntax at \(describe(peek))") }
    return PythonProgram(statements: statements)
  }

  /// One expression filling the whole source (`--format numpy`).
  mutating func singleExpression() throws -> PythonProgram.Expression {
    guard case .line = peek else { throw fail("empty program") }
    advance()
    let expression = try expressionList()
    guard peek == .end else { throw fail("invalid syntax at \(describe(peek))") }
    return expression
  }

  // MARK: - Statements

  private var peek: PythonLexer.Token { position < tokens.count ? tokens[position] : .end }

  private mutating func advance() { position += 1 }

  private func fail(_ message: String) -> MatcalcError {
    .numeric("Python: SyntaxError: " + message)
  }

  private func describe(_ token: PythonLexer.Token) -> String {
    switch token {
    case .name(let name): return "'\(name)'"
    case .integer(let value): return "\(value)"
    case .float(let value): return "\(value)"
    case .string: return "a string"
    case .symbol(let symbol): return "'\(symbol)'"
    case .line: return "a new line"
    case .end: return "the end"
    }
  }

  private mutating func accept(_ symbol: String) -> Bool {
    if peek == .symbol(symbol) || peek == .name(symbol) {
      advance()
      return true
    }
    return false
  }

  private mutating func expect(_ symbol: String) throws {
    guard accept(symbol) else { throw fail("expected '\(symbol)', found \(describe(peek))") }
  }

  private mutating func name() throws -> String {
    guard case .name(let name) = peek else {
      throw fail("expected a name, found \(describe(peek))")
    }
    advance()
    return name
  }

  /// The statements of one logical line (several with `;`), a `def` with its block.
  private mutating func line(indent: Int) throws -> [PythonProgram.Statement] {
    advance()  // the line token
    if accept("@") {
      let decorator = try test()
      guard case .line(let next) = peek, next == indent else {
        throw fail("expected a definition after a decorator")
      }
      let decorated = try line(indent: indent)
      guard decorated.count == 1, let function = decorated.first else {
        throw fail("a decorator decorates one definition")
      }
      switch function {
      case .function:
        return [.decorated(decorators: [decorator], function: function)]
      case .decorated(let inner, let definition):
        return [.decorated(decorators: [decorator] + inner, function: definition)]
      default:
        throw fail("a decorator decorates a definition")
      }
    }
    if case .name("def") = peek {
      advance()
      let functionName = try name()
      try expect("(")
      var parameters: [String] = []
      while !accept(")") {
        parameters.append(try name())
        if !accept(",") {
          try expect(")")
          break
        }
      }
      if accept("->") { _ = try test() }
      try expect(":")
      let body = try block(after: indent, "function definition")
      return [.function(name: functionName, parameters: parameters, body: body)]
    }
    if case .name("if") = peek {
      advance()
      let condition = try test()
      try expect(":")
      let body = try block(after: indent, "'if' statement")
      var otherwise: [PythonProgram.Statement] = []
      if case .line(let next) = peek, next == indent, position + 1 < tokens.count,
        tokens[position + 1] == .name("else")
      {
        advance()
        advance()
        try expect(":")
        otherwise = try block(after: indent, "'else'")
      }
      return [.conditional(condition: condition, body: body, otherwise: otherwise)]
    }
    return try simpleStatements()
  }

  /// The block after a `:` at `indent`: the lines indented further, or the rest of the line.
  private mutating func block(after indent: Int, _ what: String) throws
    -> [PythonProgram.Statement]
  {
    guard case .line = peek else { return try simpleStatements() }
    guard case .line(let inner) = peek, inner > indent else {
      throw fail("expected an indented block after \(what)")
    }
    var body: [PythonProgram.Statement] = []
    while case .line(let next) = peek, next >= inner {
      guard next == inner else { throw fail("unexpected indent") }
      body += try line(indent: inner)
    }
    return body
  }

  private mutating func simpleStatements() throws -> [PythonProgram.Statement] {
    var statements = [try simpleStatement()]
    while accept(";") {
      if case .line = peek { break }
      if peek == .end { break }
      statements.append(try simpleStatement())
    }
    guard case .line = peek else {
      guard peek == .end else { throw fail("invalid syntax at \(describe(peek))") }
      return statements
    }
    return statements
  }

  private mutating func dottedName() throws -> [String] {
    var path = [try name()]
    while accept(".") { path.append(try name()) }
    return path
  }

  private mutating func simpleStatement() throws -> PythonProgram.Statement {
    switch peek {
    case .name("import"):
      advance()
      let path = try dottedName()
      let alias = accept("as") ? try name() : nil
      guard !accept(",") else { throw fail("one module per import line is read here") }
      return .importModule(path: path, alias: alias)
    case .name("from"):
      advance()
      let path = try dottedName()
      try expect("import")
      var names: [(String, String?)] = []
      repeat {
        let imported = try name()
        names.append((imported, accept("as") ? try name() : nil))
      } while accept(",")
      return .importNames(path: path, names: names)
    case .name("return"):
      advance()
      if case .line = peek { return .returnValue(nil) }
      if peek == .end || peek == .symbol(";") { return .returnValue(nil) }
      return .returnValue(try expressionList())
    case .name("pass"):
      advance()
      return .pass
    default:
      let expression = try expressionList()
      guard accept("=") else { return .expression(expression) }
      let value = try expressionList()
      switch expression {
      case .name(let target): return .assignment(targets: [target], unpacks: false, value: value)
      case .tuple(let items):
        let targets = try items.map { item -> String in
          guard case .name(let target) = item else { throw fail("cannot assign to expression") }
          return target
        }
        return .assignment(targets: targets, unpacks: true, value: value)
      default:
        throw fail("cannot assign to expression")
      }
    }
  }

  // MARK: - Expressions

  /// `a, b, c` (a tuple) or one expression.
  private mutating func expressionList() throws -> PythonProgram.Expression {
    let first = try test()
    guard peek == .symbol(",") else { return first }
    var items = [first]
    while accept(",") {
      guard startsExpression else { break }
      items.append(try test())
    }
    return .tuple(items)
  }

  private var startsExpression: Bool {
    switch peek {
    case .name(let name): return !["else", "if", "for", "in", "as"].contains(name)
    case .integer, .float, .string: return true
    case .symbol(let s): return ["(", "[", "{", "-", "+", "~", "..."].contains(s)
    case .line, .end: return false
    }
  }

  private var tooDeep: MatcalcError {
    .limit("the emitted code is nested too deeply to evaluate", nil)
  }

  private mutating func nested<T>(_ body: (inout PythonParser) throws -> T) throws -> T {
    depth += 1
    defer { depth -= 1 }
    guard depth <= Self.maximumDepth else { throw tooDeep }
    return try body(&self)
  }

  /// `lambda …: …`, or `a if c else b`, or an `or` expression.
  private mutating func test() throws -> PythonProgram.Expression {
    try nested { parser in
      if parser.accept("lambda") {
        var parameters: [String] = []
        while !parser.accept(":") {
          parameters.append(try parser.name())
          if !parser.accept(",") {
            try parser.expect(":")
            break
          }
        }
        return .lambda(parameters: parameters, body: try parser.test())
      }
      let value = try parser.orTest()
      guard parser.accept("if") else { return value }
      let condition = try parser.orTest()
      try parser.expect("else")
      return .conditional(then: value, condition: condition, otherwise: try parser.test())
    }
  }

  private mutating func orTest() throws -> PythonProgram.Expression {
    var left = try andTest()
    while accept("or") { left = .logical("or", left, try nested { try $0.andTest() }) }
    return left
  }

  private mutating func andTest() throws -> PythonProgram.Expression {
    var left = try notTest()
    while accept("and") { left = .logical("and", left, try nested { try $0.notTest() }) }
    return left
  }

  private mutating func notTest() throws -> PythonProgram.Expression {
    if accept("not") { return .unary("not", try nested { try $0.notTest() }) }
    return try comparison()
  }

  private mutating func comparison() throws -> PythonProgram.Expression {
    let left = try arithmetic()
    var rest: [(String, PythonProgram.Expression)] = []
    while true {
      var op: String
      switch peek {
      case .symbol(let s) where ["<", ">", "==", "!=", "<=", ">="].contains(s):
        op = s
        advance()
      case .name("is"):
        advance()
        op = accept("not") ? "is not" : "is"
      case .name("in"):
        advance()
        op = "in"
      case .name("not") where position + 1 < tokens.count && tokens[position + 1] == .name("in"):
        position += 2
        op = "not in"
      default:
        return rest.isEmpty ? left : .comparison(left, rest)
      }
      rest.append((op, try arithmetic()))
    }
  }

  private mutating func arithmetic() throws -> PythonProgram.Expression {
    var left = try term()
    var links = 0
    while case .symbol(let s) = peek, s == "+" || s == "-" {
      advance()
      links += 1
      guard depth + links <= Self.maximumDepth else { throw tooDeep }
      left = .binary(s, left, try term())
    }
    return left
  }

  private mutating func term() throws -> PythonProgram.Expression {
    var left = try factor()
    var links = 0
    while case .symbol(let s) = peek, ["*", "/", "//", "%", "@"].contains(s) {
      advance()
      links += 1
      guard depth + links <= Self.maximumDepth else { throw tooDeep }
      left = .binary(s, left, try factor())
    }
    return left
  }

  private mutating func factor() throws -> PythonProgram.Expression {
    if case .symbol(let s) = peek, s == "-" || s == "+" || s == "~" {
      advance()
      return .unary(s, try nested { try $0.factor() })
    }
    return try power()
  }

  private mutating func power() throws -> PythonProgram.Expression {
    let base = try primary()
    guard accept("**") else { return base }
    return .binary("**", base, try nested { try $0.factor() })
  }

  private mutating func primary() throws -> PythonProgram.Expression {
    var value = try atom()
    while true {
      if accept("(") {
        var arguments: [PythonProgram.Expression] = []
        var keywords: [(String, PythonProgram.Expression)] = []
        while !accept(")") {
          if case .name(let keyword) = peek, position + 1 < tokens.count,
            tokens[position + 1] == .symbol("=")
          {
            position += 2
            keywords.append((keyword, try test()))
          } else {
            guard keywords.isEmpty else {
              throw fail("positional argument follows keyword argument")
            }
            arguments.append(accept("*") ? .starred(try test()) : try test())
          }
          if !accept(",") {
            try expect(")")
            break
          }
        }
        value = .call(value, arguments: arguments, keywords: keywords)
      } else if accept("[") {
        var items: [PythonProgram.Expression] = []
        var trailingComma = false
        repeat {
          if peek == .symbol("]") { break }
          items.append(try subscriptItem())
          trailingComma = peek == .symbol(",")
        } while accept(",")
        try expect("]")
        guard !items.isEmpty else { throw fail("empty subscript") }
        value = .index(value, items.count == 1 && !trailingComma ? items[0] : .tuple(items))
      } else if accept(".") {
        value = .attribute(value, try name())
      } else {
        return value
      }
    }
  }

  private mutating func subscriptItem() throws -> PythonProgram.Expression {
    let start = peek == .symbol(":") ? nil : try test()
    guard accept(":") else {
      guard let start else { throw fail("invalid subscript") }
      return start
    }
    func bound(_ parser: inout PythonParser) throws -> PythonProgram.Expression? {
      switch parser.peek {
      case .symbol(let s) where [":", ",", "]"].contains(s): return nil
      default: return try parser.test()
      }
    }
    let stop = try bound(&self)
    let step = accept(":") ? try bound(&self) : nil
    return .slice(start, stop, step)
  }

  private mutating func atom() throws -> PythonProgram.Expression {
    let token = peek
    switch token {
    case .name(let name):
      advance()
      switch name {
      case "None": return .none
      case "True": return .boolean(true)
      case "False": return .boolean(false)
      case "lambda", "if", "else", "for", "in", "not", "and", "or", "def", "return", "import":
        throw fail("invalid syntax at '\(name)'")
      default: return .name(name)
      }
    case .integer(let value):
      advance()
      return .integer(value)
    case .float(let value):
      advance()
      return .float(value)
    case .string(var value):
      advance()
      // Adjacent literals concatenate.
      while case .string(let more) = peek {
        value += more
        advance()
      }
      return .string(value)
    case .symbol("..."):
      advance()
      return .ellipsis
    case .symbol("("):
      advance()
      if accept(")") { return .tuple([]) }
      let first = try nested { try $0.test() }
      if accept(")") { return first }
      var items = [first]
      while accept(",") {
        if peek == .symbol(")") { break }
        items.append(try nested { try $0.test() })
      }
      try expect(")")
      return .tuple(items)
    case .symbol("["):
      advance()
      var items: [PythonProgram.Expression] = []
      while !accept("]") {
        items.append(try nested { try $0.test() })
        if !accept(",") {
          try expect("]")
          break
        }
      }
      return .list(items)
    default:
      throw fail("invalid syntax at \(describe(token))")
    }
  }
}
