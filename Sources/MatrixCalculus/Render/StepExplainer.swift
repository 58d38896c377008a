/// Explains each reverse step entry by entry, the way the derivation is done by hand:
/// the node in index form, the chain rule per entry, the elementary derivative (with its
/// Kronecker deltas), the contraction of the deltas, and the matrix form recognised.
struct StepExplainer {
  let renderer: MathRenderer
  /// Names of definitions by their bodies (as written and as simplified).
  let names: [Expr: String]
  let objective: String

  private var latex: Bool { renderer.style == .latex }
  private var sigma: String { latex ? "\\sum" : "Σ" }
  private var partialSymbol: String { latex ? "\\partial " : "∂" }

  /// `M_ij` with the indices of size-one axes dropped; compound M in parentheses.
  private func entry(_ e: Expr, _ row: String, _ col: String) -> String {
    let base: String
    if let name = names[e] {
      base = renderer.name(name)
    } else if case .variable = e.node {
      base = renderer.render(e)
    } else {
      base = latex ? "\\left(\(renderer.render(e))\\right)" : "(\(renderer.render(e)))"
    }
    var indices = ""
    if e.shape.rows != .one { indices += row }
    if e.shape.cols != .one { indices += col }
    return subscripted(base, indices)
  }

  /// A sum over the listed indices that are real for the given shape's axes.
  private func sum(_ indices: [(String, Bool)]) -> String {
    let real = indices.filter(\.1).map(\.0)
    if real.isEmpty { return "" }
    return latex ? "\(sigma)_{\(real.joined())} " : "\(sigma)_\(real.joined()) "
  }

  /// The indices of an entry of something shaped `shape` (size-one axes dropped).
  private func indices(_ shape: Shape, _ row: String, _ col: String) -> String {
    (shape.rows != .one ? row : "") + (shape.cols != .one ? col : "")
  }

  private func subscripted(_ base: String, _ suffix: String) -> String {
    if suffix.isEmpty { return base }
    // A name that already has a subscript (δ_ŷ, W_1) is braced before the next one.
    if latex { return base.contains("_") ? "{\(base)}_{\(suffix)}" : "\(base)_{\(suffix)}" }
    return "\(base)_\(suffix)"
  }

  /// δ between an index of C (real when `left`) and one of A (real when `right`); empty when
  /// either runs over one value.
  private func delta(_ a: String, _ b: String, _ left: Bool = true, _ right: Bool = true) -> String
  {
    guard left && right else { return "" }
    return latex ? "\\delta_{\(a)\(b)}" : "δ_\(a)\(b)"
  }

  /// Joins factors with spaces, skipping empty ones (1 when nothing is left).
  private func product(_ factors: String...) -> String {
    let kept = factors.filter { !$0.isEmpty }
    return kept.isEmpty ? "1" : kept.joined(separator: " ")
  }

  private func name(of e: Expr, fallback: String) -> String {
    if let name = names[e] { return renderer.name(name) }
    switch e.node {
    case .variable, .gradient, .constant: return renderer.render(e)
    default: return fallback
    }
  }

  /// The lines explaining one propagation (node C with adjoint G, to operand A).
  func explain(_ step: ReverseAccumulation.Propagation) -> [String] {
    let c = step.node
    let a = step.operand
    let cName = name(of: c, fallback: "C")
    let g = name(of: step.adjoint, fallback: "G")
    let gIsNamed = g != "G"
    let d = partialSymbol
    let l = renderer.name(objective)
    let aName = name(of: a, fallback: "A")
    func gEntry(_ row: String, _ col: String) -> String {
      gIsNamed ? entry(step.adjoint, row, col) : subscripted("G", indices(c.shape, row, col))
    }
    let ci = c.shape.rows != .one
    let cj = c.shape.cols != .one
    let aa = a.shape.rows != .one
    let ab = a.shape.cols != .one
    let resultSuffix = indices(a.shape, "a", "b")
    let result =
      resultSuffix.isEmpty
      ? renderer.render(step.contribution)
      : subscripted("(\(renderer.render(step.contribution)))", resultSuffix)
    let target =
      latex ? "\\frac{\(d)\(l)}{\(d)\(entry(a, "a", "b"))}" : "\(d)\(l)/\(d)\(entry(a, "a", "b"))"
    var lines: [String] = []
    if !gIsNamed {
      lines.append("G = \(d)\(l)/\(d)\(cName) = \(renderer.render(step.adjoint))")
    }
    let chain =
      "\(target) = \(sum([("i", ci), ("j", cj)]))"
      + "\(gEntry("i", "j")) \(d)\(entry(c, "i", "j"))/\(d)\(entry(a, "a", "b"))"
    switch c.node {
    case .product(let x, let y) where !x.isScalar && !y.isScalar:
      lines.append(
        "\(entry(c, "i", "j")) = \(sum([("k", x.shape.cols != .one)]))\(entry(x, "i", "k")) \(entry(y, "k", "j"))"
      )
      lines.append(chain)
      if a == x {
        lines.append(
          "\(d)\(entry(c, "i", "j"))/\(d)\(entry(a, "a", "b")) = \(product(delta("i", "a", ci, aa), entry(y, "b", "j")))"
        )
        lines.append(
          "\(target) = \(sum([("j", c.shape.cols != .one)]))\(gEntry("a", "j")) \(entry(y, "b", "j")) = \(result)"
        )
      } else {
        lines.append(
          "\(d)\(entry(c, "i", "j"))/\(d)\(entry(a, "a", "b")) = \(product(entry(x, "i", "a"), delta("j", "b", cj, ab)))"
        )
        lines.append(
          "\(target) = \(sum([("i", c.shape.rows != .one)]))\(entry(x, "i", "a")) \(gEntry("i", "b")) = \(result)"
        )
      }
    case .transpose(let x):
      lines.append("\(entry(c, "i", "j")) = \(entry(x, "j", "i"))")
      lines.append(chain)
      lines.append(
        "\(d)\(entry(c, "i", "j"))/\(d)\(entry(a, "a", "b")) = \(product(delta("j", "a", cj, aa), delta("i", "b", ci, ab)))"
      )
      lines.append("\(target) = \(gEntry("b", "a")) = \(result)")
    case .hadamard(let x, let y):
      let other = a == x ? y : x
      lines.append("\(entry(c, "i", "j")) = \(entry(x, "i", "j")) \(entry(y, "i", "j"))")
      lines.append(chain)
      lines.append(
        "\(d)\(entry(c, "i", "j"))/\(d)\(entry(a, "a", "b")) = \(product(delta("i", "a", ci, aa), delta("j", "b", cj, ab), entry(other, "i", "j")))"
      )
      lines.append("\(target) = \(gEntry("a", "b")) \(entry(other, "a", "b")) = \(result)")
    case .call(.trace, let x):
      lines.append("\(cName) = \(sum([("i", true)]))\(entry(x, "i", "i"))")
      lines.append("\(target) = \(product(g, delta("a", "b", aa, ab))) = \(result)")
    case .call(.sum, let x):
      lines.append(
        "\(cName) = \(sum([("i", x.shape.rows != .one), ("j", x.shape.cols != .one)]))\(entry(x, "i", "j"))"
      )
      lines.append("\(target) = \(g) = \(result)")
    case .opaque(let function, _):
      lines.append("\(cName) = \(renderer.name(function))(\(aName)): \(target) = \(result)")
    default:
      if let rule = step.rule {
        lines.append("\(d)\(cName) by the rule \(rule); its adjoint gives \(target) = \(result)")
      } else {
        lines.append(chain)
        lines.append("\(target) = \(result)")
      }
    }
    return lines
  }
}
