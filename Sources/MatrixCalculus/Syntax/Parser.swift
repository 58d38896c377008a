/// Recursive-descent parser for shared/LANGUAGE.md. Nesting is bounded by
/// ``Parser/maximumHeight`` so that no later stage can overflow the stack.
struct Parser {
  /// The nesting limit in force.
  static var maximumHeight: Int { Limits.current.maximumDepth }

  /// ``maximumHeight``, read once: the limits sit behind a lock, and every node asks.
  private let maximumHeight = Parser.maximumHeight

  private var tokens: [Token]
  private var position = 0
  private var nesting = 0
  /// Lines before the source's first (an expression checked after `where:` statements):
  /// positions quoted in messages count from the source's own first line.
  private let linesBefore: Int

  init(_ source: String, firstLine: Int = 1) throws {
    tokens = try Lexer.tokens(source, line: firstLine)
    linesBefore = firstLine - 1
  }

  /// The line the source ends on (its first line plus the line breaks in it).
  var lastLine: Int { tokens.last?.range.line ?? linesBefore + 1 }

  private var current: Token { tokens[min(position, tokens.count - 1)] }

  private mutating func advance() -> Token {
    let token = current
    if position < tokens.count - 1 { position += 1 }
    return token
  }

  private func isSymbol(_ symbol: Token.Symbol) -> Bool {
    // The token's kind in place: copying `current` would copy (and retain) a name too.
    if case .symbol(let next) = tokens[min(position, tokens.count - 1)].kind {
      return next == symbol
    }
    return false
  }

  /// The next token, which must be `symbol`; `context` (where, for the message) is built
  /// only when it is not.
  private mutating func expect(_ symbol: Token.Symbol, _ context: @autoclosure () -> String)
    throws -> Token
  {
    guard isSymbol(symbol) else {
      throw MatcalcError.syntax(
        "expected '\(symbol.text)' \(context()), found '\(current.text)'", current.range)
    }
    return advance()
  }

  private mutating func expectName(_ context: @autoclosure () -> String) throws
    -> (String, SourceRange)
  {
    guard case .name(let name) = current.kind else {
      throw MatcalcError.syntax(
        "expected a name \(context()), found '\(current.text)'", current.range)
    }
    return (name, advance().range)
  }

  private func bounded(_ node: SyntaxExpr) throws -> SyntaxExpr {
    guard node.height <= maximumHeight else {
      throw MatcalcError.limit(
        "expression is nested more than \(maximumHeight) levels deep (raise it with "
          + "--max-depth)", node.range)
    }
    return node
  }

  // MARK: - Statements

  /// Parses a whole problem: statements separated by newlines or `;`.
  mutating func statements() throws -> [Statement] {
    var result: [Statement] = []
    result.reserveCapacity(
      tokens.reduce(1) { count, token in
        switch token.kind {
        case .newline, .symbol(.semicolon): return count + 1
        default: return count
        }
      })
    while true {
      while current.kind == .newline || isSymbol(.semicolon) { _ = advance() }
      if current.kind == .end { return result }
      result.append(try statement())
      guard current.kind == .newline || isSymbol(.semicolon) || current.kind == .end else {
        throw MatcalcError.syntax("unexpected '\(current.text)' after statement", current.range)
      }
    }
  }

  /// Parses one complete expression and nothing else.
  mutating func singleExpression() throws -> SyntaxExpr {
    while current.kind == .newline { _ = advance() }
    if current.kind == .end {
      throw MatcalcError.syntax("empty expression", current.range)
    }
    let node = try expression()
    while current.kind == .newline { _ = advance() }
    guard current.kind == .end else {
      throw MatcalcError.syntax("unexpected '\(current.text)' after expression", current.range)
    }
    return node
  }

  private mutating func statement() throws -> Statement {
    let (name, nameRange) = try expectName("at the start of a statement")
    if name == "derive", case .name = current.kind {
      let (of, _) = try expectName("after 'derive'")
      let (word, wordRange) = try expectName("after 'derive \(of)'")
      guard word == "wrt" else {
        throw MatcalcError.syntax(
          "expected 'wrt', found '\(word)': write derive \(of) wrt NAME", wordRange)
      }
      let (wrt, wrtRange) = try expectName("after 'wrt'")
      var order = 1
      if case .name("order") = current.kind {
        _ = advance()
        guard case .number(let value) = current.kind, value == 1 || value == 2 else {
          throw MatcalcError.syntax("expected order 1 or 2", current.range)
        }
        order = Int(value)
        _ = advance()
      }
      return .goal(of: of, wrt: wrt, order: order, range: nameRange.joined(wrtRange))
    }
    if name == "let" && !isSymbol(.colon) && !isSymbol(.equals) {
      return try statement()
    }
    if isSymbol(.colon) {
      _ = advance()
      return .declaration(name: name, type: try typeSpec(), range: nameRange)
    }
    if isSymbol(.openParenthesis) {
      // NAME(t, …) = EXPR: a function defined by its meaning.
      _ = advance()
      var parameters: [(name: String, range: SourceRange)] = []
      repeat {
        if !parameters.isEmpty { _ = advance() }
        let (parameter, range) = try expectName("as a parameter of '\(name)'")
        if isSymbol(.colon) {
          throw MatcalcError.unsupported(
            "an operator by its index meaning ('\(name)(\(parameter) : …)[i,j] = …') is not "
              + "built yet; define a function of scalars ('\(name)(t) = …'), applied entry by "
              + "entry", range)
        }
        parameters.append((parameter, range))
      } while isSymbol(.comma)
      _ = try expect(.closeParenthesis, "after the parameters of '\(name)'")
      _ = try expect(.equals, "in the definition of the function '\(name)'")
      return .function(
        name: name, parameters: parameters, body: try expression(), range: nameRange)
    }
    if isSymbol(.openBracket) {
      _ = advance()
      var indices: [String] = []
      repeat {
        if !indices.isEmpty { _ = advance() }
        indices.append(try expectName("as an index").0)
      } while isSymbol(.comma)
      _ = try expect(.closeBracket, "after the indices")
      _ = try expect(.equals, "in an index definition")
      return .indexDefinition(
        name: name, indices: indices, body: try expression(), range: nameRange)
    }
    guard isSymbol(.equals) else {
      throw MatcalcError.syntax(
        "expected ':' (declaration) or '=' (definition) after '\(name)', found '\(current.text)'",
        current.range)
    }
    _ = advance()
    return .definition(name: name, body: try expression(), range: nameRange)
  }

  private mutating func typeSpec() throws -> TypeSpec {
    let (kind, kindRange) = try expectName("as a type")
    switch kind {  // the most used first: each case is a string comparison
    case "matrix":
      _ = try expect(.openParenthesis, "after 'matrix'")
      let rows = try dimension()
      _ = try expect(.comma, "between the dimensions")
      let cols = try dimension()
      _ = try expect(.closeParenthesis, "after the dimensions")
      return .matrix(rows, cols)
    case "scalar": return .scalar
    case "vector", "symmetric", "simplex":
      _ = try expect(.openParenthesis, "after '\(kind)'")
      let d = try dimension()
      _ = try expect(.closeParenthesis, "after the dimension")
      return kind == "vector" ? .vector(d) : kind == "simplex" ? .simplex(d) : .symmetric(d)
    case "function": return .function
    case "elementwise": return .elementwise
    default:
      throw MatcalcError.syntax(
        "unknown type '\(kind)': use scalar, vector(d), matrix(d1, d2), symmetric(d), "
          + "simplex(d), function or elementwise", kindRange)
    }
  }

  private mutating func dimension() throws -> Dim {
    switch current.kind {
    case .name(let name):
      _ = advance()
      return .symbol(name)
    case .number(let value):
      guard value >= 1, value <= 1_000_000, value == value.rounded() else {
        throw MatcalcError.syntax("a dimension must be a positive integer or a name", current.range)
      }
      _ = advance()
      return .size(Int(value))
    default:
      throw MatcalcError.syntax("expected a dimension, found '\(current.text)'", current.range)
    }
  }

  // MARK: - Expressions

  private mutating func enter() throws {
    nesting += 1
    guard nesting <= maximumHeight else {
      throw MatcalcError.limit(
        "expression is nested more than \(maximumHeight) levels deep (raise it with "
          + "--max-depth)", current.range)
    }
  }

  mutating func expression() throws -> SyntaxExpr {
    try enter()
    defer { nesting -= 1 }
    var left = try term()
    while isSymbol(.plus) || isSymbol(.minus) {
      let op = advance()
      let right = try term()
      left = try bounded(SyntaxExpr(.binary(op.text, left, right), left.range.joined(right.range)))
    }
    return left
  }

  private mutating func term() throws -> SyntaxExpr {
    var left = try unary()
    while isSymbol(.times) || isSymbol(.divide) || isSymbol(.elementTimes)
      || isSymbol(.elementDivide)
    {
      let op = advance()
      let right = try unary()
      left = try bounded(
        SyntaxExpr(.binary(op.text, left, right), left.range.joined(right.range)))
    }
    return left
  }

  private mutating func unary() throws -> SyntaxExpr {
    if isSymbol(.minus) {
      let op = advance()
      try enter()
      defer { nesting -= 1 }
      let operand = try unary()
      return try bounded(SyntaxExpr(.negate(operand), op.range.joined(operand.range)))
    }
    if isSymbol(.plus) {
      _ = advance()
      return try unary()
    }
    return try power()
  }

  private mutating func power() throws -> SyntaxExpr {
    let base = try postfix()
    if isSymbol(.power) || isSymbol(.elementPower) {
      let op = advance()
      let exponent = try unary()
      return try bounded(
        SyntaxExpr(.binary(op.text, base, exponent), base.range.joined(exponent.range)))
    }
    return base
  }

  private mutating func postfix() throws -> SyntaxExpr {
    var node = try primary()
    var quotes = 0
    while isSymbol(.quote) {
      let op = advance()
      quotes += 1
      node = try bounded(SyntaxExpr(.transpose(node), node.range.joined(op.range)))
    }
    // `x'x` (MATLAB reads it as x'*x): a product needs its '*'.
    if quotes > 0 {
      let right: String?
      switch current.kind {
      case .name(let name): right = name
      case .number(let value):
        right = value == value.rounded() && abs(value) < 1e15 ? "\(Int(value))" : current.text
      case .symbol(.openParenthesis): right = "(…)"
      default: right = nil
      }
      if let right {
        var base = node
        while case .transpose(let inner) = base.kind { base = inner }
        let name: String
        if case .name(let spelled) = base.kind { name = spelled } else { name = "(…)" }
        let left = name + String(repeating: "'", count: quotes)
        throw MatcalcError.syntax(
          "\(left)\(right): write \(left)*\(right); a product needs '*'", current.range)
      }
    }
    return node
  }

  private mutating func primary() throws -> SyntaxExpr {
    let token = current
    switch token.kind {
    case .number(let value):
      _ = advance()
      return SyntaxExpr(.number(value), token.range)
    case .name(let name):
      _ = advance()
      if isSymbol(.openParenthesis) {
        _ = advance()
        var arguments: [SyntaxExpr] = []
        if !isSymbol(.closeParenthesis) {
          // Made with its first argument: most calls have one, and appending to an empty
          // array goes through the standard library's unspecialized growth.
          arguments = [try expression()]
          while isSymbol(.comma) {
            _ = advance()
            arguments.append(try expression())
          }
        }
        let close = try expect(.closeParenthesis, "to close the arguments of '\(name)'")
        return try bounded(SyntaxExpr(.call(name, arguments), token.range.joined(close.range)))
      }
      if isSymbol(.openBracket) {
        _ = advance()
        var indices: [String] = []
        repeat {
          if !indices.isEmpty { _ = advance() }
          indices.append(try expectName("as an index").0)
        } while isSymbol(.comma)
        let close = try expect(.closeBracket, "after the indices")
        return SyntaxExpr(.index(name, indices), token.range.joined(close.range))
      }
      return SyntaxExpr(.name(name), token.range)
    case .symbol(.openParenthesis):
      _ = advance()
      let inner = try expression()
      let line = token.range.line - linesBefore
      let close = try expect(.closeParenthesis, "to close '(' at \(line):\(token.range.column)")
      // The parentheses belong to the expression's source: a message quotes `(X*w - y)^2`,
      // not `X*w - y)^2` (a range spans one line, so across lines it keeps what it can).
      return SyntaxExpr(inner.kind, token.range.joined(inner.range).joined(close.range))
    default:
      throw MatcalcError.syntax("expected an expression, found '\(token.text)'", token.range)
    }
  }
}
