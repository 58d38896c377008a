extension MathRenderer {
  /// The objective as the user wrote it (the `f =` line): ½ for `1/2`, the operands in the
  /// order written, `/` kept (`xᵀ A x / (xᵀ x)`). This is the syntax the certificate
  /// evaluates (``WrittenProblem``), so the line states exactly what was checked. An
  /// objective the problem was not typed from, or a construct this spelling does not cover,
  /// prints as derived.
  ///
  /// - Parameters:
  ///   - objective: the typed objective.
  ///   - problem: the problem it belongs to.
  /// - Returns: the objective's text or LaTeX.
  func render(_ objective: Expr, asWrittenIn problem: Problem) -> String {
    if let written = problem.written?.objective, written.typed == objective,
      let text = WrittenSpelling(renderer: self, problem: problem).render(written.syntax, 0)
    {
      return text
    }
    return render(objective)
  }
}

/// Spells a syntax tree in the renderer's notation, parenthesised by the same levels as
/// ``MathRenderer`` (0 sum, 1 product, 2 negation, 3 power and postfix, 4 atom). `nil` for
/// what it does not spell (index notation, differentials).
private struct WrittenSpelling {
  let renderer: MathRenderer
  let problem: Problem

  private var latex: Bool { renderer.style == .latex }

  func render(_ node: SyntaxExpr, _ context: Int) -> String? {
    guard let (body, level) = raw(node) else { return nil }
    if level >= context { return body }
    return latex ? "\\left(\(body)\\right)" : "(\(body))"
  }

  /// `p/q` (or `-p/q`) of integer literals as one number: ½ in text, `\frac12` in LaTeX.
  private func fraction(_ node: SyntaxExpr) -> (String, Int)? {
    guard case .binary("/", let a, let b) = node.kind, case .number(let q) = b.kind else {
      return nil
    }
    var numerator = a
    var negative = false
    if case .negate(let inner) = a.kind {
      numerator = inner
      negative = true
    }
    guard case .number(let p) = numerator.kind, p >= 1, q >= 2, p <= 1e6, q <= 1e6,
      p == p.rounded(), q == q.rounded()
    else { return nil }
    let (top, bottom) = (Int(p), Int(q))
    let text: String
    if latex {
      text = top < 10 && bottom < 10 ? "\\frac\(top)\(bottom)" : "\\frac{\(top)}{\(bottom)}"
    } else {
      guard let glyph = MathRenderer.vulgar[[top, bottom]] else { return nil }
      text = glyph
    }
    return negative ? (renderer.minus + text, 2) : (text, 4)
  }

  /// An exponent as written: a number (negated or not) as superscript digits.
  private func exponent(_ node: SyntaxExpr) -> String? {
    switch node.kind {
    case .number(let value): return MathRenderer.number(value)
    case .negate(let inner):
      guard case .number(let value) = inner.kind else { break }
      return "-" + MathRenderer.number(value)
    default: break
    }
    return render(node, 4)
  }

  private func raw(_ node: SyntaxExpr) -> (String, Int)? {
    if let fraction = fraction(node) { return fraction }
    switch node.kind {
    case .name(let name): return (name == "I" ? "I" : renderer.name(name), 4)
    case .number(let value): return (MathRenderer.number(value), 4)
    case .negate(let a):
      guard let operand = render(a, 3) else { return nil }
      return (renderer.minus + operand, 2)
    case .transpose(let a):
      if case .call("inv", let arguments) = a.kind, arguments.count == 1,
        let inner = render(arguments[0], 4)
      {
        return (renderer.inverse(inner, transposed: true), 3)
      }
      return render(a, 4).map { (renderer.transposed($0), 3) }
    case .index: return nil
    case .binary(let op, let a, let b): return binary(op, a, b)
    case .call(let name, let arguments): return call(name, arguments)
    }
  }

  private func binary(_ op: String, _ a: SyntaxExpr, _ b: SyntaxExpr) -> (String, Int)? {
    // A product or quotient continues to the left as written; anything looser is bracketed.
    func sameOperator(_ node: SyntaxExpr, _ op: String, or other: String? = nil) -> Bool {
      if case .binary(let inner, _, _) = node.kind, inner == op || inner == other {
        return fraction(node) == nil
      }
      return false
    }
    switch op {
    case "+", "-":
      guard let left = render(a, 0), let right = render(b, 1) else { return nil }
      return ("\(left) \(op == "+" ? "+" : renderer.minus) \(right)", 0)
    case "*":
      // A chain A * B * ⋯ * Z (nested to the left) is spelled in one pass, not by copying
      // the growing left part at every factor.
      var operands = [b]
      var first = a
      while case .binary("*", let left, let right) = first.kind {
        operands.append(right)
        first = left
      }
      guard var text = render(first, 2) else { return nil }
      for operand in operands.reversed() {
        guard let right = render(operand, 3) else { return nil }
        text += Self.productSeparator(before: right, latex: latex)
        text += right
      }
      return (text, 1)
    case "/":
      if latex {
        guard let top = render(a, 0), let bottom = render(b, 0) else { return nil }
        return ("\\frac{\(top)}{\(bottom)}", 4)
      }
      guard let left = render(a, sameOperator(a, "*", or: "/") ? 1 : 2), let right = render(b, 3)
      else { return nil }
      return ("\(left) / \(right)", 1)
    case ".*", "./":
      guard let left = render(a, sameOperator(a, op) ? 1 : 2), let right = render(b, 2)
      else { return nil }
      let symbol = op == ".*" ? (latex ? "\\odot" : "⊙") : (latex ? "\\oslash" : "⊘")
      return ("\(left) \(symbol) \(right)", 1)
    case ".^":
      guard let base = render(a, 4), let power = exponent(b) else { return nil }
      return (latex ? "\(base)^{\\circ \(power)}" : "\(base)^⊙\(power)", 3)
    case "^":
      guard let base = render(a, 4), let power = exponent(b) else { return nil }
      return (base + renderer.superscript(power), 3)
    default: return nil
    }
  }

  /// What separates a product's factors: a space, or a dot before a number (two numbers
  /// side by side read as one: 2 · 3).
  private static func productSeparator(before right: String, latex: Bool) -> String {
    guard let byte = right.utf8.first else { return " " }
    let numeric: Bool
    if byte < 0x80 {  // ASCII: a digit, or LaTeX's \frac
      numeric = (0x30...0x39).contains(byte) || byte == 0x5C && right.hasPrefix("\\frac")
    } else {
      numeric = right.first?.isNumber == true
    }
    return numeric ? (latex ? " \\cdot " : " · ") : " "
  }

  private func call(_ name: String, _ arguments: [SyntaxExpr]) -> (String, Int)? {
    // An opaque function L(D), an element-wise f(Z), or one defined by its meaning.
    let type = problem.functions[name] ?? (problem.operation(named: name).map { _ in .elementwise })
    if let type {
      guard type == .function || type == .elementwise, arguments.count == 1,
        let argument = render(arguments[0], 0)
      else { return nil }
      let f = renderer.name(name)
      return (latex ? "\(f)\\left(\(argument)\\right)" : "\(f)(\(argument))", 4)
    }
    switch name {
    case "I": return ("I", 4)
    case "zeros": return ("0", 4)
    case "ones":
      guard arguments.count == 2 else { return nil }
      func isOne(_ node: SyntaxExpr) -> Bool {
        if case .number(1) = node.kind { return true }
        return false
      }
      return renderer.ones(oneColumn: isOne(arguments[1]), oneRow: isOne(arguments[0]))
    default: break
    }
    guard arguments.count == 1, let function = Function(rawValue: name) else { return nil }
    if function == .inverse {
      if case .transpose(let inner) = arguments[0].kind {
        return render(inner, 4).map { (renderer.inverse($0, transposed: true), 3) }
      }
      return render(arguments[0], 4).map { (renderer.inverse($0, transposed: false), 3) }
    }
    return render(arguments[0], 0).map { (renderer.applied(function, $0), 4) }
  }
}
