/// Matches a rule's pattern against an expression and instantiates its right side.
struct Matcher {
  /// What the pattern variables and dimension symbols stand for.
  struct Bindings {
    /// By pattern variable (interned, so looked up by identity).
    var exprs: [Expr: Expr] = [:]
    var dims: [String: Dim] = [:]
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
      if let bound = bindings.dims[name] { return bound == target }
      bindings.dims[name] = target
      return true
    }
  }

  private func bind(_ pattern: Shape, _ target: Shape, _ bindings: inout Bindings) -> Bool {
    bind(pattern.rows, target.rows, &bindings) && bind(pattern.cols, target.cols, &bindings)
  }

  /// Whether `e` is known to equal its transpose (by construction, ``Expr/isSymmetric``).
  static func isSymmetric(_ e: Expr) -> Bool { e.isSymmetric }

  func match(_ pattern: Expr, _ target: Expr, _ bindings: inout Bindings) -> Bool {
    if case .variable(_, let shape, let symmetric) = pattern.node,
      patternVariables.contains(pattern)
    {
      if let bound = bindings.exprs[pattern] { return bound === target }
      if symmetric && !Matcher.isSymmetric(target) { return false }
      if shape.isScalar && !target.isScalar {
        // A scalar pattern variable matches 1×1 expressions only, unless the rule is lifted.
        guard lifting else { return false }
      } else {
        guard bind(shape, target.shape, &bindings) else { return false }
      }
      bindings.exprs[pattern] = target
      return true
    }
    switch (pattern.node, target.node) {
    case (.variable(let a, _, _), .variable(let b, _, _)): return a == b
    case (.constant(let a), .constant(let b)): return a == b
    case (.identity(let a), .identity(let b)): return bind(a, b, &bindings)
    case (.ones(let a), .ones(let b)), (.zero(let a), .zero(let b)):
      return bind(a, b, &bindings)
    case (.add(let ps), .add(let ts)):
      if ps.count == ts.count {
        var trial = bindings
        if zip(ps, ts).allSatisfy({ match($0, $1, &trial) }) {
          bindings = trial
          return true
        }
      }
      // `A + B` against `t₁ + t₂ + … + tₙ`: A = t₁, B = the rest.
      if ps.count == 2 && ts.count > 2, let rest = try? Expr.add(Array(ts.dropFirst())) {
        var trial = bindings
        if match(ps[0], ts[0], &trial) && match(ps[1], rest, &trial) {
          bindings = trial
          return true
        }
      }
      return false
    case (.chain(let ps), .chain(let ts)):
      return matchChain(ps, ts[...], &bindings)
    case (.product(let pa, let pb), .product(let ta, let tb)),
      (.hadamard(let pa, let pb), .hadamard(let ta, let tb)),
      (.power(let pa, let pb), .power(let ta, let tb)):
      var trial = bindings
      guard match(pa, ta, &trial) && match(pb, tb, &trial) else { return false }
      bindings = trial
      return true
    case (.transpose(let p), .transpose(let t)), (.differential(let p), .differential(let t)):
      return match(p, t, &bindings)
    case (.call(let f, let p), .call(let g, let t)):
      return f == g && match(p, t, &bindings)
    case (.opaque(let f, let p), .opaque(let g, let t)),
      (.gradient(let f, let p), .gradient(let g, let t)):
      return f == g && match(p, t, &bindings)
    case (.mapped(let f, let i, let p), .mapped(let g, let j, let t)):
      return f == g && i == j && match(p, t, &bindings)
    default:
      return false
    }
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
    if surplus == 0 {
      guard zip(ps, ts).allSatisfy(plausible) else { return false }
      var trial = bindings
      guard zip(ps, ts).allSatisfy({ match($0, $1, &trial) }) else { return false }
      bindings = trial
      return true
    }
    spanning: for spanner in ps.indices where patternVariables.contains(ps[spanner]) {
      var trial = bindings
      // The factors that take one each first: cheap, and they may bind the spanning variable
      // (S in S * inv(S)), which is then compared factor by factor, never built.
      for (index, pattern) in ps.enumerated() where index != spanner {
        let position = ts.startIndex + (index < spanner ? index : index + surplus)
        guard match(pattern, ts[position], &trial) else { continue spanning }
      }
      let start = ts.startIndex + spanner
      let run = ts[start...(start + surplus)]
      if let bound = trial.exprs[ps[spanner]] {
        guard bound.matrixFactors.elementsEqual(run, by: ===) else { continue spanning }
      } else {
        guard let target = try? Expr.product(of: run), match(ps[spanner], target, &trial)
        else { continue spanning }
      }
      bindings = trial
      return true
    }
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
    var memo: [Expr: Expr] = [:]
    return try instantiate(template, bindings, elementwise, &memo)
  }

  private func dim(_ d: Dim, _ bindings: Bindings) -> Dim {
    if case .symbol(let name) = d, let bound = bindings.dims[name] { return bound }
    return d
  }

  private func instantiate(
    _ e: Expr, _ bindings: Bindings, _ elementwise: Bool, _ memo: inout [Expr: Expr]
  ) throws -> Expr {
    if let done = memo[e] { return done }
    let result: Expr
    switch e.node {
    case .variable(let name, _, _) where patternVariables.contains(e):
      guard let bound = bindings.exprs[e] else {
        throw MatcalcError.internalError("pattern variable \(name) is unbound")
      }
      result = bound
    case .identity(let d): result = try Expr.identity(dim(d, bindings))
    case .ones(let s):
      result = try Expr.ones(Shape(dim(s.rows, bindings), dim(s.cols, bindings)))
    case .zero(let s):
      result = try Expr.zero(Shape(dim(s.rows, bindings), dim(s.cols, bindings)))
    default:
      let children = try e.children.map { try instantiate($0, bindings, elementwise, &memo) }
      result = try e.rebuilt(children, elementwise: elementwise)
    }
    memo[e] = result
    return result
  }
}
