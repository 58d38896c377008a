/// Matches a rule's pattern against an expression and instantiates its right side.
struct Matcher {
  /// What the pattern variables and dimension symbols stand for. A rule has a handful of
  /// each, so they are kept in short lists, searched in place: a match is tried at every
  /// node the simplifier visits, and hash tables made and copied per attempt were most of
  /// its cost.
  struct Bindings {
    private var exprs: [(pattern: Expr, value: Expr)] = []
    private var dims: [(symbol: String, value: Dim)] = []

    /// What a pattern variable is bound to.
    subscript(pattern pattern: Expr) -> Expr? {
      exprs.first { $0.pattern === pattern }?.value
    }

    /// What a dimension symbol is bound to.
    subscript(symbol symbol: String) -> Dim? {
      dims.first { $0.symbol == symbol }?.value
    }

    mutating func bind(_ pattern: Expr, to value: Expr) { exprs.append((pattern, value)) }
    mutating func bind(_ symbol: String, to value: Dim) { dims.append((symbol, value)) }

    /// A point to return to when a partial match fails.
    var mark: (Int, Int) { (exprs.count, dims.count) }

    /// Forgets what was bound after `mark`.
    mutating func restore(_ mark: (Int, Int)) {
      exprs.removeLast(exprs.count - mark.0)
      dims.removeLast(dims.count - mark.1)
    }
  }

  let patternVariables: Set<Expr>
  /// An element-wise rule's scalar variables match matrices too (the rule is lifted).
  let lifting: Bool

  init(_ rule: Rule) {
    patternVariables = rule.patternVariables
    lifting = rule.isElementwise
  }

  func match(_ pattern: Expr, _ target: Expr) -> Bindings? {
    var bindings = Bindings()
    return match(pattern, target, &bindings) ? bindings : nil
  }

  /// Binds a pattern dimension to a target dimension; symbols bind once.
  private func bind(_ pattern: Dim, _ target: Dim, _ bindings: inout Bindings) -> Bool {
    switch pattern {
    case .size: return pattern == target
    case .symbol(let name):
      if let bound = bindings[symbol: name] { return bound == target }
      bindings.bind(name, to: target)
      return true
    }
  }

  private func bind(_ pattern: Shape, _ target: Shape, _ bindings: inout Bindings) -> Bool {
    bind(pattern.rows, target.rows, &bindings) && bind(pattern.cols, target.cols, &bindings)
  }

  /// Whether `e` is known to equal its transpose (by construction, ``Expr/isSymmetric``).
  static func isSymmetric(_ e: Expr) -> Bool { e.isSymmetric }

  func match(_ pattern: Expr, _ target: Expr, _ bindings: inout Bindings) -> Bool {
    if patternVariables.contains(pattern),
      case .variable(_, let shape, let symmetric) = pattern.node
    {
      if let bound = bindings[pattern: pattern] { return bound === target }
      if symmetric && !Matcher.isSymmetric(target) { return false }
      if shape.isScalar && !target.isScalar {
        // A scalar pattern variable matches 1×1 expressions only, unless the rule is lifted.
        guard lifting else { return false }
      } else {
        guard bind(shape, target.shape, &bindings) else { return false }
      }
      bindings.bind(pattern, to: target)
      return true
    }
    // The pattern's node first, then the target's of the same kind: a pair of nodes made
    // into one value would copy both at every attempt.
    switch pattern.node {
    case .variable(let a, _, _):
      guard case .variable(let b, _, _) = target.node else { return false }
      return a == b
    case .constant(let a):
      guard case .constant(let b) = target.node else { return false }
      return a == b
    case .identity(let a):
      guard case .identity(let b) = target.node else { return false }
      return bind(a, b, &bindings)
    case .ones(let a):
      guard case .ones(let b) = target.node else { return false }
      return bind(a, b, &bindings)
    case .zero(let a):
      guard case .zero(let b) = target.node else { return false }
      return bind(a, b, &bindings)
    case .add(let ps):
      guard case .add(let ts) = target.node else { return false }
      let mark = bindings.mark
      if ps.count == ts.count {
        if zip(ps, ts).allSatisfy({ match($0, $1, &bindings) }) { return true }
        bindings.restore(mark)
      }
      // `A + B` against `t₁ + t₂ + … + tₙ`: A = t₁, B = the rest.
      if ps.count == 2 && ts.count > 2 && match(ps[0], ts[0], &bindings) {
        if let rest = try? Expr.add(Array(ts.dropFirst())), match(ps[1], rest, &bindings) {
          return true
        }
        bindings.restore(mark)
      }
      return false
    case .chain(let ps):
      guard case .chain(let ts) = target.node else { return false }
      return matchChain(ps, ts[...], &bindings)
    case .product(let pa, let pb):
      guard case .product(let ta, let tb) = target.node else { return false }
      return matchBoth(pa, pb, ta, tb, &bindings)
    case .hadamard(let pa, let pb):
      guard case .hadamard(let ta, let tb) = target.node else { return false }
      return matchBoth(pa, pb, ta, tb, &bindings)
    case .power(let pa, let pb):
      guard case .power(let ta, let tb) = target.node else { return false }
      return matchBoth(pa, pb, ta, tb, &bindings)
    case .transpose(let p):
      guard case .transpose(let t) = target.node else { return false }
      return match(p, t, &bindings)
    case .differential(let p):
      guard case .differential(let t) = target.node else { return false }
      return match(p, t, &bindings)
    case .call(let f, let p):
      guard case .call(let g, let t) = target.node, f == g else { return false }
      return match(p, t, &bindings)
    case .opaque(let f, let p):
      guard case .opaque(let g, let t) = target.node, f == g else { return false }
      return match(p, t, &bindings)
    case .gradient(let f, let p):
      guard case .gradient(let g, let t) = target.node, f == g else { return false }
      return match(p, t, &bindings)
    case .mapped(let f, let i, let p):
      guard case .mapped(let g, let j, let t) = target.node, f == g, i == j else { return false }
      return match(p, t, &bindings)
    }
  }

  /// Both operands of a binary node, in order; nothing is bound when either fails.
  private func matchBoth(
    _ pa: Expr, _ pb: Expr, _ ta: Expr, _ tb: Expr, _ bindings: inout Bindings
  ) -> Bool {
    let mark = bindings.mark
    guard match(pa, ta, &bindings) && match(pb, tb, &bindings) else {
      bindings.restore(mark)
      return false
    }
    return true
  }

  /// A pattern chain P₁ ⋯ Pₚ against the chain `ts`, associatively: factor by factor when the
  /// lengths agree; for a longer target one pattern variable stands for a run of consecutive
  /// factors (itself a chain), tried for each variable in turn, the others one factor each.
  /// Linear in the target's length per variable; no other split of the surplus is tried.
  private func matchChain(
    _ ps: [Expr], _ ts: ArraySlice<Expr>, _ bindings: inout Bindings
  ) -> Bool {
    let surplus = ts.count - ps.count
    guard surplus >= 0 else { return false }
    let mark = bindings.mark
    if surplus == 0 {
      guard zip(ps, ts).allSatisfy(plausible) else { return false }
      if zip(ps, ts).allSatisfy({ match($0, $1, &bindings) }) { return true }
      bindings.restore(mark)
      return false
    }
    spanning: for spanner in ps.indices where patternVariables.contains(ps[spanner]) {
      bindings.restore(mark)
      // The factors that take one each first: cheap, and they may bind the spanning variable
      // (S in S * inv(S)), which is then compared factor by factor, never built.
      for (index, pattern) in ps.enumerated() where index != spanner {
        let position = ts.startIndex + (index < spanner ? index : index + surplus)
        guard match(pattern, ts[position], &bindings) else { continue spanning }
      }
      let start = ts.startIndex + spanner
      let run = ts[start...(start + surplus)]
      if let bound = bindings[pattern: ps[spanner]] {
        guard bound.matrixFactors.elementsEqual(run, by: ===) else { continue spanning }
      } else {
        guard let target = try? Expr.product(of: run), match(ps[spanner], target, &bindings)
        else { continue spanning }
      }
      return true
    }
    bindings.restore(mark)
    return false
  }

  /// Whether `target` could match `pattern`, judged by heads alone (no bindings are made): a
  /// pattern variable could match anything, anything else needs its target's head.
  private func plausible(_ pattern: Expr, _ target: Expr) -> Bool {
    patternVariables.contains(pattern) || Rule.head(of: pattern) == Rule.head(of: target)
  }

  /// A pattern chain of p factors against a window of p consecutive factors of a longer
  /// target chain, leftmost first: the bindings and the window, or `nil`. The rest of the
  /// chain stays as it is on both sides of the rewrite.
  func matchWindow(_ pattern: Expr, _ target: Expr) -> (Bindings, Range<Int>)? {
    guard case .chain(let ps) = pattern.node, case .chain(let ts) = target.node,
      ts.count > ps.count
    else { return nil }
    for start in 0...(ts.count - ps.count) {
      guard zip(ps, ts[start...]).allSatisfy(plausible) else { continue }
      var bindings = Bindings()
      let window = start..<(start + ps.count)
      if matchChain(ps, ts[window], &bindings) { return (bindings, window) }
    }
    return nil
  }

  /// The right side with the bindings substituted, rebuilt through the canonical constructors.
  /// `elementwise` lifts a scalar rule to matrices: products of equal shapes become ⊙.
  func instantiate(_ template: Expr, _ bindings: Bindings, elementwise: Bool = false) throws
    -> Expr
  {
    // A right side is a few nodes: a part it holds twice is rebuilt twice (interning gives
    // the same node) rather than remembered in a table made for each rewrite.
    try instantiate(template, bindings, elementwise)
  }

  private func dim(_ d: Dim, _ bindings: Bindings) -> Dim {
    if case .symbol(let name) = d, let bound = bindings[symbol: name] { return bound }
    return d
  }

  private func instantiate(_ e: Expr, _ bindings: Bindings, _ elementwise: Bool) throws -> Expr {
    switch e.node {
    case .variable(let name, _, _) where patternVariables.contains(e):
      guard let bound = bindings[pattern: e] else {
        throw MatcalcError.internalError("pattern variable \(name) is unbound")
      }
      return bound
    case .identity(let d): return try Expr.identity(dim(d, bindings))
    case .ones(let s):
      return try Expr.ones(Shape(dim(s.rows, bindings), dim(s.cols, bindings)))
    case .zero(let s):
      return try Expr.zero(Shape(dim(s.rows, bindings), dim(s.cols, bindings)))
    default:
      let children = try e.children.map { try instantiate($0, bindings, elementwise) }
      return try e.rebuilt(children, elementwise: elementwise)
    }
  }
}
