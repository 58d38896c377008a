import Foundation

/// Renders matrix expressions as presentation MathML, which browsers draw natively (no
/// script, no font): `(A + Aᵀ) x` becomes `<mrow><mrow><mo stretchy="false">(</mo>…`, the
/// transpose `<msup><mi>A</mi><mi mathvariant="normal">T</mi></msup>`.
///
/// The markup is the content of a `<math>` element (``math(_:display:)`` wraps it); it is
/// well-formed XML, with `<`, `>` and `&` escaped in names. Parentheses follow the same
/// levels as ``MathRenderer`` (0 sum, 1 product, 2 negation, 3 power and postfix, 4 atom).
///
/// ```swift
/// let d = try derive("x'*A*x", wrt: "x", where: "x : vector(n); A : matrix(n, n)")
/// MathMLRenderer().render(d.result)
/// // "<mrow><mrow><mo stretchy=\"false\">(</mo><mrow><mi>A</mi><mo>+</mo><msup>…</mrow>"
/// ```
public struct MathMLRenderer: Sendable {
  /// A renderer.
  public init() {}

  /// Renders `e` as MathML (the content of a `<math>` element).
  ///
  /// - Parameter e: the expression.
  /// - Returns: one `<mrow>` or a single token element.
  public func render(_ e: Expr) -> String { render(e, 0) }

  /// `<math>` around `content`: a display block, or inline in text.
  ///
  /// - Parameters:
  ///   - content: MathML elements.
  ///   - display: a block of its own (centred) rather than inline.
  /// - Returns: the `<math>` element.
  public static func math(_ content: String, display: Bool = true) -> String {
    display ? "<math display=\"block\">\(content)</math>" : "<math>\(content)</math>"
  }

  /// Escapes `&`, `<`, `>` and `"` for XML text and attribute values.
  static func escaped(_ text: String) -> String {
    var result = ""
    result.reserveCapacity(text.utf8.count)
    for character in text {
      switch character {
      case "&": result += "&amp;"
      case "<": result += "&lt;"
      case ">": result += "&gt;"
      case "\"": result += "&quot;"
      default: result.append(character)
      }
    }
    return result
  }

  /// An operator token.
  static func mo(_ text: String) -> String { "<mo>\(escaped(text))</mo>" }

  /// An identifier token; a multi-letter one is upright, as browsers draw `<mi>`.
  static func mi(_ text: String) -> String { "<mi>\(escaped(text))</mi>" }

  /// A number token.
  static func mn(_ text: String) -> String { "<mn>\(escaped(text))</mn>" }

  /// A row of elements.
  static func row(_ parts: [String]) -> String { "<mrow>" + parts.joined() + "</mrow>" }

  /// `(content)`: fences that stretch around a fraction, a big operator or a root, and
  /// otherwise keep the text size (a stretchy fence is drawn with gaps beside it).
  static func fenced(_ content: String, open: String = "(", close: String = ")") -> String {
    row([fence(open, around: content), content, fence(close, around: content)])
  }

  /// A fence token for `content`: stretchy only around something taller than a line.
  static func fence(_ symbol: String, around content: String) -> String {
    if symbol.isEmpty { return "" }
    let tall = ["<mfrac", "<munder", "<msqrt"].contains {
      content.contains($0)
    }
    return tall ? mo(symbol) : "<mo stretchy=\"false\">\(escaped(symbol))</mo>"
  }

  /// A name: Greek names as letters, `yhat` as y with a hat, trailing digits or `_k` as a
  /// subscript, an adjoint `δH` as δ before the name.
  ///
  /// - Parameter name: the name as written.
  /// - Returns: MathML.
  public func name(_ name: String) -> String {
    if name.hasPrefix("δ") { return Self.row([Self.mi("δ"), self.name(String(name.dropFirst()))]) }
    if name.hasPrefix("∇") {
      return Self.row([Self.mo("∇"), self.name(String(name.dropFirst()))])
    }
    let (stem, hat, index) = Names.parts(name)
    var base = Self.mi(Names.greek[stem]?.text ?? stem)
    if hat { base = "<mover accent=\"true\">\(base)<mo>^</mo></mover>" }
    if index.isEmpty { return base }
    let subscriptText =
      index.allSatisfy(\.isNumber) ? Self.mn(index) : Self.mi(Names.greek[index]?.text ?? index)
    return "<msub>\(base)\(subscriptText)</msub>"
  }

  /// `base` with a superscript, both MathML.
  static func superscript(_ base: String, _ exponent: String) -> String {
    // W₃ᵀ: a subscripted name takes the superscript beside its subscript, not above it.
    if base.hasPrefix("<msub>"), base.hasSuffix("</msub>"),
      base.components(separatedBy: "<msub>").count == 2
    {
      return "<msubsup>\(base.dropFirst(6).dropLast(7))\(exponent)</msubsup>"
    }
    return "<msup>\(base)\(exponent)</msup>"
  }

  /// `base` with a subscript, both MathML.
  static func subscripted(_ base: String, _ index: String) -> String {
    "<msub>\(base)\(index)</msub>"
  }

  /// 𝟏, the all-ones vector: the mathematical bold digit (MathML Core draws no
  /// `mathvariant="bold"`, and a plain 1 would read as the number).
  static let boldOne = "<mn>\u{1D7CF}</mn>"

  /// The transpose mark ᵀ.
  static let transposeMark = "<mi mathvariant=\"normal\">T</mi>"

  /// `Aᵀ` for a base already rendered as an atom.
  static func transposed(_ base: String) -> String { superscript(base, transposeMark) }

  /// `A⁻¹` or `A⁻ᵀ` for a base already rendered as an atom.
  static func inverse(_ base: String, transposed: Bool) -> String {
    superscript(base, row([mo("−"), transposed ? transposeMark : mn("1")]))
  }

  /// `∂f/∂x` as a fraction; `order` 2 gives `∂²f/∂x²`.
  ///
  /// - Parameters:
  ///   - of: the function, already MathML.
  ///   - wrt: the variable, already MathML.
  ///   - order: 1 or 2.
  /// - Returns: MathML.
  public static func partial(_ of: String, _ wrt: String, order: Int = 1) -> String {
    if order == 2 {
      return
        "<mfrac>\(row([superscript(mo("∂"), mn("2")), of]))"
        + "\(row([mo("∂"), superscript(wrt, mn("2"))]))</mfrac>"
    }
    return "<mfrac>\(row([mo("∂"), of]))\(row([mo("∂"), wrt]))</mfrac>"
  }

  /// A number: an integer as digits, else the shortest `%g` form.
  private static func number(_ value: Double) -> String { MathRenderer.number(value) }

  /// A positive constant that is a small exact fraction p/q (q ≤ 10) as `<mfrac>`.
  private static func fraction(_ value: Double) -> String? {
    guard value > 0, value != value.rounded(), value < 1e6 else { return nil }
    for bottom in 2...10 {
      let top = Int((value * Double(bottom)).rounded())
      guard Double(top) / Double(bottom) == value else { continue }
      return "<mfrac>\(mn(String(top)))\(mn(String(bottom)))</mfrac>"
    }
    return nil
  }

  private func render(_ e: Expr, _ context: Int) -> String {
    let (body, level) = raw(e)
    return level >= context ? body : Self.fenced(body)
  }

  /// Renders `e` as one factor of a product (parenthesised unless it binds tighter).
  func operand(_ e: Expr) -> String {
    if case .chain = e.node { return render(e, 1) }
    if case .product(let a, _) = e.node, a.constantValue.map({ $0 >= 0 }) ?? true {
      if case .power(_, let p) = a.node, p.constantValue == -1 { return render(e, 2) }
      return render(e, 1)
    }
    return render(e, 2)
  }

  /// `name(argument)` for an argument already rendered: the function's name upright,
  /// applied (U+2061) to the fenced argument.
  private static func call(_ name: String, _ argument: String) -> String {
    row([mi(name), mo("\u{2061}"), fenced(argument)])
  }

  /// A built-in function other than the inverse applied to an argument already rendered.
  private func applied(_ function: Function, _ argument: String) -> String {
    switch function {
    case .logdet:
      return Self.row([Self.mi("log"), Self.thinSpace, Self.call("det", argument)])
    case .norm2: return Self.row([Self.mo("‖"), argument, Self.mo("‖")])
    case .norm1:
      return Self.subscripted(Self.row([Self.mo("‖"), argument, Self.mo("‖")]), Self.mn("1"))
    case .trace, .det, .inverse, .diag, .diagonal, .sum, .softmax,
      .logsumexp, .exp, .log, .sin, .cos, .tanh, .sigmoid, .relu, .sqrt, .abs, .step, .sign:
      return Self.call(function.spelling, argument)
    }
  }

  private static let times = "<mo>\u{2062}</mo>"  // invisible times between factors
  static let thinSpace = "<mspace width=\"0.17em\"/>"

  /// What separates two factors of a product: nothing visible (`X W`), a thin space beside
  /// an adjoint (`Xᵀ δH`, which would otherwise read as a product with δ), a dot before a
  /// number.
  private static func separator(_ left: Expr, _ right: Expr) -> String {
    func isAdjoint(_ e: Expr) -> Bool {
      if case .variable(let name, _, _) = e.node { return name.hasPrefix("δ") }
      if case .transpose(let a) = e.node { return isAdjoint(a) }
      return false
    }
    func isNamedCall(_ e: Expr) -> Bool {
      switch e.node {
      case .call(.inverse, _), .call(.norm1, _), .call(.norm2, _): return false
      case .call, .opaque, .mapped: return true
      default: return false
      }
    }
    if right.constantValue != nil { return mo("·") }
    let spaced = isAdjoint(left) || isAdjoint(right) || isNamedCall(left) || isNamedCall(right)
    return spaced ? thinSpace : times
  }

  private func raw(_ e: Expr) -> (String, Int) {
    switch e.node {
    case .variable(let name, _, _):  // X_ij
      return (self.name(name), 4)
    case .constant(let value):  // c
      let magnitude = Self.fraction(abs(value)) ?? Self.mn(Self.number(abs(value)))
      return value < 0 ? (Self.row([Self.mo("−"), magnitude]), 2) : (magnitude, 4)
    case .identity:  // I_ij = δ_ij
      return (Self.mi("I"), 4)
    case .ones(let shape):  // 𝟏_ij = 1: a column 𝟏, a row 𝟏ᵀ, a matrix 𝟏𝟏ᵀ
      let one = Self.boldOne
      if shape.cols == .one { return (one, 4) }
      if shape.rows == .one { return (Self.transposed(one), 3) }
      return (Self.row([one, Self.transposed(one)]), 3)
    case .zero:  // 0_ij = 0
      return (Self.mn("0"), 4)
    case .add(let terms):  // (A + B)_ij = A_ij + B_ij
      var parts: [String] = []
      for (index, term) in Expr.inPrintingOrder(terms).enumerated() {
        let (c, base) = term.coefficientAndBase
        if c < 0 {
          let positive = (try? Expr.scale(-c, base)) ?? base
          parts.append(Self.mo("−"))
          parts.append(render(positive, 1))
        } else {
          if index > 0 { parts.append(Self.mo("+")) }
          parts.append(render(term, 1))
        }
      }
      return (Self.row(parts), 0)
    case .product(let a, let b):  // (s A)_ij = s A_ij
      if let c = a.constantValue, c < 0 {
        let positive = (try? Expr.scale(-c, b)) ?? b
        return (Self.row([Self.mo("−"), operand(positive)]), 2)
      }
      // (1/s) M prints as a fraction M / s.
      if case .power(let s, let p) = a.node, s.isScalar, p.constantValue == -1 {
        return ("<mfrac>\(render(b, 0))\(render(s, 0))</mfrac>", 4)
      }
      if a.isScalar, case .hadamard = b.node {
        return (Self.row([operand(a), Self.separator(a, b), render(b, 1)]), 1)
      }
      return (Self.row([operand(a), Self.separator(a, b), operand(b)]), 1)
    case .chain(let factors):  // (F₁ F₂)_ij = Σ_k (F₁)_ik (F₂)_kj
      var parts: [String] = []
      for (index, factor) in factors.enumerated() {
        if index > 0 { parts.append(Self.separator(factors[index - 1], factor)) }
        parts.append(operand(factor))
      }
      return (Self.row(parts), 1)
    case .hadamard(let a, let b):  // (A ⊙ B)_ij = A_ij B_ij; A ⊙ B^⊙−1 = A ⊘ B
      if case .power(let divisor, let p) = b.node, p.constantValue == -1 {
        return (Self.row([render(a, 2), Self.mo("⊘"), render(divisor, 2)]), 1)
      }
      if case .power(let divisor, let p) = a.node, p.constantValue == -1 {
        return (Self.row([render(b, 2), Self.mo("⊘"), render(divisor, 2)]), 1)
      }
      return (Self.row([render(a, 2), Self.mo("⊙"), render(b, 2)]), 1)
    case .power(let a, let p):  // (A^⊙p)_ij = A_ij^p
      let exponent: String
      if let value = p.constantValue {
        exponent =
          value < 0
          ? Self.row([Self.mo("−"), Self.mn(Self.number(-value))]) : Self.mn(Self.number(value))
      } else {
        exponent = render(p, 4)
      }
      if a.isScalar {
        if p.constantValue == 0.5 { return ("<msqrt>\(render(a, 0))</msqrt>", 4) }
        if p.constantValue == -1 { return ("<mfrac>\(Self.mn("1"))\(render(a, 0))</mfrac>", 4) }
        return (Self.superscript(render(a, 4), exponent), 3)
      }
      if p.constantValue == -1 {
        return (Self.row([Self.mn("1"), Self.mo("⊘"), render(a, 2)]), 1)
      }
      return (Self.superscript(render(a, 4), Self.row([Self.mo("∘"), exponent])), 3)
    case .transpose(let a):  // (Aᵀ)_ij = A_ji; (X⁻¹)ᵀ = X⁻ᵀ
      if case .call(.inverse, let inner) = a.node {
        return (Self.inverse(render(inner, 4), transposed: true), 3)
      }
      return (Self.transposed(render(a, 4)), 3)
    case .call(.inverse, let a):  // Σ_k (A⁻¹)_ik A_kj = δ_ij
      if case .transpose(let inner) = a.node {
        return (Self.inverse(render(inner, 4), transposed: true), 3)
      }
      return (Self.inverse(render(a, 4), transposed: false), 3)
    case .call(let f, let a):  // f(A), by its entry in the function table
      return (applied(f, render(a, 0)), 4)
    case .opaque(let f, let a):  // L(D), a scalar
      return (Self.row([name(f), Self.mo("\u{2061}"), Self.fenced(render(a, 0))]), 4)
    case .gradient(let f, let a):  // (∇L(D))_ij = ∂L/∂D_ij
      if case .variable(let v, _, _) = a.node {
        return (Self.row([Self.subscripted(Self.mo("∇"), name(v)), name(f)]), 1)
      }
      return (Self.row([Self.mo("∇"), name(f), Self.fenced(render(a, 0))]), 4)
    case .mapped(let f, let order, let a):  // f^(order)(Z_ij), entry by entry
      let primes = ["", "′", "″", "‴"][min(max(order, 0), 3)]
      let head = primes.isEmpty ? name(f.name) : Self.superscript(name(f.name), Self.mo(primes))
      return (Self.row([head, Self.mo("\u{2061}"), Self.fenced(render(a, 0))]), 4)
    case .differential(let a):  // dX, the direction X moves in
      let d = "<mi mathvariant=\"normal\">d</mi>"
      if case .variable = a.node { return (Self.row([d, render(a, 4)]), 4) }
      return (Self.row([d, Self.fenced(render(a, 0))]), 4)
    }
  }
}
