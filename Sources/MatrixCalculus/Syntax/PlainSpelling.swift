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
      case .identity, .ones, .zero, .add, .product, .hadamard, .power, .transpose, .call,
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
    guard case .product = b.node else { return spell(b, 2) }
    let c = firstSpelled(b)
    if raw(c).1 != 1, a.isScalar || c.isScalar || a.shape.cols == c.shape.rows {
      return spell(b, 1)
    }
    return spell(b, 2)
  }

  /// The operand a product's spelling begins with: `A` in `A*B*C` and in `A*B/s`.
  private static func firstSpelled(_ e: Expr) -> Expr {
    guard case .product(let a, let b) = e.node, a.constantValue != -1 else { return e }
    return divisor(a) != nil ? firstSpelled(b) : firstSpelled(a)
  }

  /// `sᵖ` for a scalar `s⁻ᵖ` (p > 0), spelled as a divisor; `nil` for anything else.
  private static func divisor(_ e: Expr) -> Expr? {
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
