import Foundation

/// Renders matrix expressions as Unicode text (`Xᵀ (ŷ − y) vᵀ`) or LaTeX
/// (`X^\top (\hat{y} - y) v^\top`).
public struct MathRenderer: Sendable {
  /// The two notations.
  public enum Style: Sendable {
    /// Unicode for the terminal.
    case text
    /// A LaTeX math fragment.
    case latex
  }

  /// The notation.
  public let style: Style

  /// A renderer for `style`.
  public init(_ style: Style) { self.style = style }

  /// Renders `e`.
  public func render(_ e: Expr) -> String { render(e, 0) }

  /// Renders `e` as one factor of a product (parenthesised unless it binds tighter).
  func operand(_ e: Expr) -> String { factor(e) }

  /// Renders a name.
  public func name(_ name: String) -> String {
    style == .text ? Names.text(name) : Names.latex(name)
  }

  /// `base` with the index letters `indices` (`A_ij`); in LaTeX a base that has a subscript of
  /// its own, or is an adjoint δH, is parenthesised, (W_1)_{is}, (δH)_{ij}, so its indices do
  /// not run into it.
  func subscripted(_ base: String, _ indices: String) -> String {
    if indices.isEmpty { return base }
    guard style == .latex else { return "\(base)_\(indices)" }
    let own = (base.contains("_") || base.hasPrefix("\\delta ")) && !base.hasPrefix("\\left(")
    return (own ? "\\left(\(base)\\right)" : base) + "_{\(indices)}"
  }

  // Levels: 0 sum, 1 product, 2 negation, 3 power/postfix, 4 atom.
  private func render(_ e: Expr, _ context: Int) -> String {
    let (body, level) = raw(e)
    if level >= context { return body }
    return style == .text ? "(\(body))" : "\\left(\(body)\\right)"
  }

  var minus: String { style == .text ? "−" : "-" }

  static func number(_ value: Double) -> String {
    if value == value.rounded() && abs(value) < 1e15 { return String(Int(value)) }
    return String(format: "%g", value)
  }

  /// The vulgar fractions of Unicode, by numerator and denominator.
  static let vulgar: [[Int]: String] = [
    [1, 2]: "½", [1, 3]: "⅓", [2, 3]: "⅔", [1, 4]: "¼", [3, 4]: "¾", [1, 5]: "⅕", [2, 5]: "⅖",
    [3, 5]: "⅗", [4, 5]: "⅘", [1, 6]: "⅙", [5, 6]: "⅚", [1, 7]: "⅐", [1, 8]: "⅛", [3, 8]: "⅜",
    [5, 8]: "⅝", [7, 8]: "⅞", [1, 9]: "⅑", [1, 10]: "⅒",
  ]

  /// A positive constant that is a small exact fraction p/q (q ≤ 10, ½, ⅓, ¾, …) as one
  /// number: the vulgar fraction in text, `\frac12` in LaTeX; `nil` for anything else.
  func fraction(_ value: Double) -> String? {
    guard value > 0, value != value.rounded(), value < 1e6 else { return nil }
    for bottom in 2...10 {
      let top = Int((value * Double(bottom)).rounded())
      guard Double(top) / Double(bottom) == value else { continue }
      if style == .latex {
        return top < 10 && bottom < 10 ? "\\frac\(top)\(bottom)" : "\\frac{\(top)}{\(bottom)}"
      }
      return Self.vulgar[[top, bottom]]
    }
    return nil
  }

  func superscript(_ text: String) -> String {
    if style == .latex { return "^{\(text)}" }
    let table: [Character: Character] = [
      "0": "⁰", "1": "¹", "2": "²", "3": "³", "4": "⁴", "5": "⁵", "6": "⁶", "7": "⁷", "8": "⁸",
      "9": "⁹", "-": "⁻",
    ]
    if text.allSatisfy({ table[$0] != nil }) { return String(text.compactMap { table[$0] }) }
    return text.hasPrefix("(") ? "^\(text)" : "^(\(text))"
  }

  /// `name(argument)` for an argument already rendered.
  func call(_ name: String, _ argument: String) -> String {
    switch style {
    case .text: return "\(name)(\(argument))"
    case .latex:
      let operatorName =
        ["sin", "cos", "tanh", "exp", "log", "det"].contains(name)
        ? "\\\(name)" : "\\operatorname{\(name)}"
      return "\(operatorName)\\left(\(argument)\\right)"
    }
  }

  /// A built-in function other than the inverse applied to an argument already rendered
  /// (at the sum level): `log det(S)`, `‖A‖`, `‖A‖₁`, `tr(A)`; an atom.
  func applied(_ function: Function, _ argument: String) -> String {
    switch function {
    case .logdet:
      return style == .text ? "log det(\(argument))" : "\\log\\det\\left(\(argument)\\right)"
    case .norm2:
      return style == .text ? "‖\(argument)‖" : "\\left\\lVert \(argument) \\right\\rVert"
    case .norm1:
      return style == .text ? "‖\(argument)‖₁" : "\\left\\lVert \(argument) \\right\\rVert_1"
    default: return call(function.spelling, argument)
    }
  }

  /// `A⁻¹` (or `A⁻ᵀ`) for a base already rendered as an atom.
  func inverse(_ base: String, transposed: Bool) -> String {
    switch style {
    case .text: return base + (transposed ? "⁻ᵀ" : "⁻¹")
    case .latex: return base + (transposed ? "^{-\\top}" : "^{-1}")
    }
  }

  /// All ones: 𝟏 is a column of ones; a row is 𝟏ᵀ and a matrix of ones 𝟏𝟏ᵀ.
  func ones(oneColumn: Bool, oneRow: Bool) -> (String, Int) {
    let one = style == .text ? "𝟏" : "\\mathbf{1}"
    if oneColumn { return (one, 4) }
    return oneRow ? (transposed(one), 3) : (one + transposed(one), 3)
  }

  /// `Aᵀ` for a base already rendered as an atom.
  func transposed(_ base: String) -> String { base + (style == .text ? "ᵀ" : "^\\top") }

  private func factor(_ e: Expr) -> String {
    if case .chain = e.node { return render(e, 1) }
    if case .product(let a, _) = e.node, a.constantValue.map({ $0 >= 0 }) ?? true {
      if case .power(_, let p) = a.node, p.constantValue == -1 { return render(e, 2) }
      return render(e, 1)
    }
    return render(e, 2)
  }

  private func raw(_ e: Expr) -> (String, Int) {
    switch e.node {
    case .variable(let name, _, _): return (self.name(name), 4)
    case .constant(let value):
      let magnitude = fraction(abs(value)) ?? Self.number(abs(value))
      return value < 0 ? (minus + magnitude, 2) : (magnitude, 4)
    case .identity: return ("I", 4)
    case .ones(let shape): return ones(oneColumn: shape.cols == .one, oneRow: shape.rows == .one)
    case .zero: return ("0", 4)
    case .add(let terms):
      var text = ""
      for (index, term) in Expr.inPrintingOrder(terms).enumerated() {
        let (c, base) = term.coefficientAndBase
        if c < 0 {
          let positive = (try? Expr.scale(-c, base)) ?? base
          text += (index == 0 ? minus : " \(minus) ") + render(positive, 1)
        } else {
          text += (index == 0 ? "" : " + ") + render(term, 1)
        }
      }
      return (text, 0)
    case .product(let a, let b):
      if let c = a.constantValue, c < 0 {
        let positive = (try? Expr.scale(-c, b)) ?? b
        return (minus + factor(positive), 2)
      }
      // (1/s) M prints as M / s.
      if case .power(let s, let p) = a.node, s.isScalar, p.constantValue == -1 {
        if style == .latex { return ("\\frac{\(render(b, 0))}{\(render(s, 0))}", 4) }
        return ("\(render(b, 1)) / \(render(s, 3))", 1)
      }
      // s (A ⊙ B) = (s A) ⊙ B: `2 (1 − a^⊙2) ⊙ (a − y)`.
      if a.isScalar, case .hadamard = b.node { return ("\(factor(a)) \(render(b, 1))", 1) }
      // Juxtaposition is associative: a product inside a product needs no parentheses.
      return ("\(factor(a)) \(factor(b))", 1)
    case .chain(let factors): return (factors.map(factor).joined(separator: " "), 1)
    case .hadamard(let a, let b):
      // A ⊙ B^⊙-1 prints as A ⊘ B.
      if case .power(let divisor, let p) = b.node, p.constantValue == -1 {
        return ("\(render(a, 2))\(style == .text ? " ⊘ " : " \\oslash ")\(render(divisor, 2))", 1)
      }
      if case .power(let divisor, let p) = a.node, p.constantValue == -1 {
        return ("\(render(b, 2))\(style == .text ? " ⊘ " : " \\oslash ")\(render(divisor, 2))", 1)
      }
      return ("\(render(a, 2))\(style == .text ? " ⊙ " : " \\odot ")\(render(b, 2))", 1)
    case .power(let a, let p):
      let exponent = p.constantValue.map(Self.number) ?? render(p, 4)
      if a.isScalar {
        if p.constantValue == -1 {  // 1 / s, as a fraction in LaTeX
          return style == .text
            ? ("1 / \(render(a, 3))", 1) : ("\\frac{1}{\(render(a, 0))}", 4)
        }
        if p.constantValue == 0.5 {
          return style == .text ? ("√\(render(a, 4))", 3) : ("\\sqrt{\(render(a, 0))}", 4)
        }
        return ("\(render(a, 4))\(superscript(exponent))", 3)
      }
      if p.constantValue == -1 {
        return ("1\(style == .text ? " ⊘ " : " \\oslash ")\(render(a, 2))", 1)
      }
      return style == .text
        ? ("\(render(a, 4))^⊙\(exponent)", 3) : ("\(render(a, 4))^{\\circ \(exponent)}", 3)
    case .transpose(let a):
      if case .call(.inverse, let inner) = a.node {  // (X⁻¹)ᵀ = X⁻ᵀ
        return (inverse(render(inner, 4), transposed: true), 3)
      }
      return (transposed(render(a, 4)), 3)
    case .call(.inverse, let a):
      if case .transpose(let inner) = a.node {
        return (inverse(render(inner, 4), transposed: true), 3)
      }
      return (inverse(render(a, 4), transposed: false), 3)
    case .call(let f, let a): return (applied(f, render(a, 0)), 4)
    case .opaque(let f, let a):
      return (
        "\(name(f))\(style == .text ? "(" : "\\left(")\(render(a, 0))\(style == .text ? ")" : "\\right)")",
        4
      )
    case .gradient(let f, let a):
      if case .variable(let v, _, _) = a.node {
        return style == .text
          ? ("∇_\(name(v)) \(name(f))", 1) : ("\\nabla_{\(name(v))} \(name(f))", 1)
      }
      return style == .text
        ? ("∇\(name(f))(\(render(a, 0)))", 4)
        : ("\\nabla \(name(f))\\left(\(render(a, 0))\\right)", 4)
    case .mapped(let f, let order, let a):
      let primes =
        style == .text
        ? ["", "′", "″", "‴"][min(order, 3)] : String(repeating: "'", count: order)
      return style == .text
        ? ("\(name(f.name))\(primes)(\(render(a, 0)))", 4)
        : ("\(name(f.name))\(primes)\\left(\(render(a, 0))\\right)", 4)
    case .differential(let a):
      // dX for a name, d(tanh(W x)) for anything else.
      var inner = render(a, 4)
      if case .variable = a.node {
      } else {
        inner = style == .text ? "(\(render(a)))" : "\\left(\(render(a))\\right)"
      }
      return style == .text ? ("d\(inner)", 4) : ("\\mathrm{d}\(inner)", 4)
    }
  }
}
