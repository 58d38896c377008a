/// Spells an expression in the input language where it can (internal nodes get readable
/// names). Used by `description` and in error messages.
enum PlainSpelling {
  static func spell(_ e: Expr) -> String { spell(e, 0) }

  /// Why ``spell(_:)`` of `e` would not parse back in the input language (a node the language
  /// has no word for), or `nil` when it does.
  static func obstacle(in e: Expr) -> String? {
    var visited = Set<Expr>()
    var found: String?
    func walk(_ e: Expr) {
      guard found == nil, visited.insert(e).inserted else { return }
      switch e.node {
      case .variable(let name, _, _):
        let isName =
          name.first.map { $0.isASCII && ($0.isLetter || $0 == "_") } == true
          && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
        if !isName { found = "'\(name)' is not a name of the input language" }
      case .constant(let value):
        if !value.isFinite { found = "the constant \(value) has no spelling" }
      case .gradient(let f, _):
        found = "the upstream gradient ∇\(f) of the opaque function \(f) has no spelling"
      case .mapped(let f, let order, _) where order > 0:
        found = "the derivative of the opaque element-wise function \(f) has no spelling"
      case .differential: found = "a differential d(…) has no spelling outside the rules"
      case .identity, .ones, .zero, .add, .product, .chain, .hadamard, .power, .transpose, .call,
        .opaque, .mapped:
        break
      }
      e.forEachChild(walk)
    }
    walk(e)
    return found
  }

  // Precedence: 0 sum, 1 product, 2 unary, 3 power, 4 postfix/atom.
  private static func spell(_ e: Expr, _ context: Int) -> String {
    let (text, level) = raw(e)
    return level < context ? "(\(text))" : text
  }

  private static func number(_ value: Double) -> String {
    value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : "\(value)"
  }

  /// `b` spelled as the right factor of `a*b`: a product is associative, so `a*(c*d)` is
  /// `a*c*…` when `a*c` is itself a product the language accepts (scalars scale anything) for
  /// the operand `c` the spelling of `b` begins with, and `c` is not itself spelled at the
  /// level of `*` (`p .* q`, `1/s`).
  private static func rightFactor(_ a: Expr, _ b: Expr) -> String {
    // s*(A .* B) is (s*A) .* B: `2*(a - y) .* u`, one pair of parentheses fewer.
    if a.isScalar, case .hadamard = b.node { return spell(b, 1) }
    guard b.isProduct else { return spell(b, 2) }
    let c = firstSpelled(b)
    if raw(c).1 != 1, a.isScalar || c.isScalar || a.shape.cols == c.shape.rows {
      return spell(b, 1)
    }
    return spell(b, 2)
  }

  /// The operand a product's spelling begins with: `A` in `A*B*C` and in `A*B/s`.
  fileprivate static func firstSpelled(_ e: Expr) -> Expr {
    if case .chain(let factors) = e.node, let first = factors.first { return firstSpelled(first) }
    guard case .product(let a, let b) = e.node, a.constantValue != -1 else { return e }
    return divisor(a) != nil ? firstSpelled(b) : firstSpelled(a)
  }

  /// `sᵖ` for a scalar `s⁻ᵖ` (p > 0), spelled as a divisor; `nil` for anything else.
  fileprivate static func divisor(_ e: Expr) -> Expr? {
    guard e.isScalar, case .power(let s, let p) = e.node, let q = p.constantValue, q < 0 else {
      return nil
    }
    return q == -1 ? s : ((try? Expr.power(s, .constant(-q))) ?? nil)
  }

  private static func raw(_ e: Expr) -> (String, Int) {
    switch e.node {
    case .variable(let name, _, _): return (name, 4)
    case .constant(let value):
      return value < 0 ? ("-" + number(-value), 2) : (number(value), 4)
    case .identity(let d): return ("I(\(d))", 4)
    case .ones(let shape): return ("ones(\(shape.rows), \(shape.cols))", 4)
    case .zero(let shape): return ("zeros(\(shape.rows), \(shape.cols))", 4)
    case .add(let terms):
      // Positive terms first, as MathRenderer prints them; all ones beside a term of the sum's
      // shape is the number 1 (a scalar term broadcasts).
      let shape = e.shape
      let broadcasts = terms.contains { term in
        if case .ones = term.coefficientAndBase.1.node { return false }
        return term.shape == shape
      }
      var text = ""
      for (index, term) in Expr.inPrintingOrder(terms).enumerated() {
        let (c, base) = term.coefficientAndBase
        var magnitude: String
        if broadcasts, case .ones = base.node {
          magnitude = number(abs(c))
        } else if c < 0 {
          magnitude = spell((try? Expr.scale(-c, base)) ?? base, 1)
        } else {
          magnitude = spell(term, 1)
        }
        if c < 0 { magnitude = (index == 0 ? "-" : " - ") + magnitude }
        text += c >= 0 && index > 0 ? " + " + magnitude : magnitude
      }
      return (text, 0)
    case .product(let a, let b):
      if let c = a.constantValue, c == -1 { return ("-" + spell(b, 1), 2) }
      // s⁻ᵖ M and M s⁻ᵖ are M / sᵖ.
      if let divisor = divisor(a) { return (spell(b, 1) + "/" + spell(divisor, 3), 1) }
      if let divisor = divisor(b) { return (spell(a, 1) + "/" + spell(divisor, 3), 1) }
      return (spell(a, 1) + "*" + rightFactor(a, b), 1)
    case .chain(let factors):
      // A chain reads left to right, `A*B*C`; only its first factor may bind as loosely as `*`.
      let rest = factors.dropFirst().map { spell($0, 2) }
      return (([spell(factors[0], 1)] + rest).joined(separator: "*"), 1)
    case .hadamard(let a, let b):
      // A .* B.^(-1) is A ./ B.
      if case .power(let divisor, let p) = b.node, p.constantValue == -1 {
        return (spell(a, 1) + " ./ " + spell(divisor, 2), 1)
      }
      if case .power(let divisor, let p) = a.node, p.constantValue == -1 {
        return (spell(b, 1) + " ./ " + spell(divisor, 2), 1)
      }
      return (spell(a, 1) + " .* " + spell(b, 2), 1)
    case .power(let a, let p):
      if let divisor = divisor(e) { return ("1/" + spell(divisor, 3), 1) }  // s⁻ᵖ is 1/sᵖ
      return (spell(a, 4) + (a.isScalar ? "^" : ".^") + spell(p, 4), 3)
    case .transpose(let a): return (spell(a, 4) + "'", 4)
    case .call(let f, let a): return ("\(f.spelling)(\(spell(a, 0)))", 4)
    case .opaque(let f, let a): return ("\(f)(\(spell(a, 0)))", 4)
    case .gradient(let f, let a): return ("grad_\(f)(\(spell(a, 0)))", 4)
    case .mapped(let f, let order, let a):
      return ("\(f)\(String(repeating: "'", count: order))(\(spell(a, 0)))", 4)
    case .differential(let a): return ("d(\(spell(a, 0)))", 4)
    }
  }
}

extension Expr {
  /// Whether this is a product: a scaling or a matrix chain.
  fileprivate var isProduct: Bool {
    switch node {
    case .product, .chain: return true
    default: return false
    }
  }
}

// MARK: - Printed size in tokens

extension PlainSpelling {
  /// The number of tokens of ``spell(_:)`` of `e` (names, numbers, operators, parentheses), as
  /// the lexer reads them: `2*(a - y)` is 7, `2*a - 2*y` is 7, `-2*a` is 4. Counted on the
  /// expression graph, each node once per spelling context, so shared subtrees cost no time
  /// (their tokens count each time printed), capped at a million.
  static func tokenCount(_ e: Expr) -> Int {
    var counter = TokenCounter()
    return counter.count(e)
  }

  /// Mirrors ``raw(_:)`` and ``spell(_:_:)``, counting instead of writing. One counter kept
  /// across calls counts each node once (a pass that compares many candidates).
  struct TokenCounter {
    var memo: [Expr: (count: Int, level: Int)] = [:]

    /// The tokens of `e` spelled on its own.
    mutating func count(_ e: Expr) -> Int { spelled(e, 0) }

    mutating func spelled(_ e: Expr, _ context: Int) -> Int {
      let (count, level) = raw(e)
      return min(1_000_000, level < context ? count + 2 : count)
    }

    mutating func rightFactor(_ a: Expr, _ b: Expr) -> Int {
      if a.isScalar, case .hadamard = b.node { return spelled(b, 1) }
      guard b.isProduct else { return spelled(b, 2) }
      let c = PlainSpelling.firstSpelled(b)
      if raw(c).level != 1, a.isScalar || c.isScalar || a.shape.cols == c.shape.rows {
        return spelled(b, 1)
      }
      return spelled(b, 2)
    }

    mutating func raw(_ e: Expr) -> (count: Int, level: Int) {
      if let known = memo[e] { return known }
      let result: (count: Int, level: Int)
      switch e.node {
      case .variable: result = (1, 4)
      case .constant(let value): result = value < 0 ? (2, 2) : (1, 4)
      case .identity: result = (4, 4)  // I(n)
      case .ones, .zero: result = (6, 4)  // ones(m, n)
      case .add(let terms):
        let shape = e.shape
        let broadcasts = terms.contains { term in
          if case .ones = term.coefficientAndBase.1.node { return false }
          return term.shape == shape
        }
        var count = 0
        for (index, term) in Expr.inPrintingOrder(terms).enumerated() {
          let (c, base) = term.coefficientAndBase
          if broadcasts, case .ones = base.node {
            count += 1
          } else if c < 0 {
            count += spelled((try? Expr.scale(-c, base)) ?? base, 1)
          } else {
            count += spelled(term, 1)
          }
          if c < 0 || index > 0 { count += 1 }  // the sign
        }
        result = (count, 0)
      case .product(let a, let b):
        if let c = a.constantValue, c == -1 {
          result = (1 + spelled(b, 1), 2)
        } else if let divisor = PlainSpelling.divisor(a) {
          result = (spelled(b, 1) + 1 + spelled(divisor, 3), 1)
        } else if let divisor = PlainSpelling.divisor(b) {
          result = (spelled(a, 1) + 1 + spelled(divisor, 3), 1)
        } else {
          result = (spelled(a, 1) + 1 + rightFactor(a, b), 1)
        }
      case .chain(let factors):
        result = (factors.dropFirst().reduce(spelled(factors[0], 1)) { $0 + 1 + spelled($1, 2) }, 1)
      case .hadamard(let a, let b):
        if case .power(let divisor, let p) = b.node, p.constantValue == -1 {
          result = (spelled(a, 1) + 1 + spelled(divisor, 2), 1)
        } else if case .power(let divisor, let p) = a.node, p.constantValue == -1 {
          result = (spelled(b, 1) + 1 + spelled(divisor, 2), 1)
        } else {
          result = (spelled(a, 1) + 1 + spelled(b, 2), 1)
        }
      case .power(let a, let p):
        if let divisor = PlainSpelling.divisor(e) {
          result = (2 + spelled(divisor, 3), 1)
        } else {
          result = (spelled(a, 4) + 1 + spelled(p, 4), 3)
        }
      case .transpose(let a): result = (spelled(a, 4) + 1, 4)
      case .call(_, let a), .opaque(_, let a), .gradient(_, let a), .differential(let a):
        result = (3 + spelled(a, 0), 4)
      case .mapped(_, let order, let a): result = (3 + order + spelled(a, 0), 4)
      }
      memo[e] = result
      return result
    }
  }
}
