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

  private static func raw(_ e: Expr) -> (String, Int) {
    switch e.node {
    case .variable(let name, _, _): return (name, 4)
    case .constant(let value):
      return value < 0 ? ("-" + number(-value), 2) : (number(value), 4)
    case .identity(let d): return ("I(\(d))", 4)
    case .ones(let shape): return ("ones(\(shape.rows), \(shape.cols))", 4)
    case .zero(let shape): return ("zeros(\(shape.rows), \(shape.cols))", 4)
    case .add(let terms):
      var text = ""
      for (index, term) in terms.enumerated() {
        let (c, base) = term.coefficientAndBase
        if c < 0 {
          let positive = (try? Expr.scale(-c, base)) ?? base
          text += (index == 0 ? "-" : " - ") + spell(positive, 1)
        } else {
          text += (index == 0 ? "" : " + ") + spell(term, 1)
        }
      }
      return (text, 0)
    case .product(let a, let b):
      if let c = a.constantValue, c == -1 { return ("-" + spell(b, 2), 2) }
      return (spell(a, 1) + "*" + spell(b, 2), 1)
    case .hadamard(let a, let b): return (spell(a, 1) + " .* " + spell(b, 2), 1)
    case .power(let a, let p):
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
