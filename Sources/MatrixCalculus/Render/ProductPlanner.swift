/// Rewrites a formula into its cheapest evaluation order under a ``CostModel``, for emitted
/// code.
///
/// Every maximal product chain F₁ F₂ ⋯ Fₖ — flattened through transposes, (A B)ᵀ = Bᵀ Aᵀ,
/// with its 1×1 factors set aside — is parenthesised by dynamic programming over
/// cost(i, j) = min_s cost(i, s) + cost(s+1, j) + cost(F_i⋯F_s · F_s+1⋯F_j). A sum inside a
/// chain is distributed over it when that is cheaper, ((A + Aᵀ) x = A x + Aᵀ x), and the
/// 1×1 factors multiply the smallest operand or the result. A product with `diag(d)` is priced
/// as a row or column scaling and one with an inverse as a solve, as ``NumpyRenderer`` writes
/// them. A compound subexpression used more than once stays a single operand, so it is still
/// computed once.
///
/// The result is made of raw nodes, not the canonical constructors, which keep chains flat:
/// each planned matrix product is a chain of two operands, either of which may be a chain.
final class ProductPlanner {
  /// The costs the plan minimises.
  let model: CostModel
  /// The sizes that decide which factor a chain's 1×1 factors multiply (a small saving; plans
  /// for several size regimes place them alike, so that they differ only in their order).
  let placement: CostModel
  private var shared: Set<Expr> = []
  private var memo: [Expr: Plan] = [:]

  /// An expression in its planned form and the cost of computing it.
  private struct Plan {
    var expr: Expr
    var cost: Double
  }

  /// One operand of a chain, as it will be multiplied.
  private struct Factor {
    var expr: Expr
    /// What computing it costs (0 for a shared subexpression, computed once anyway).
    var cost: Double
    /// The unshared sum it came from, which may be distributed over the chain.
    var sum: Expr?
    /// Whether the sum enters the chain transposed.
    var transposed: Bool
  }

  private enum Kind { case dense, diagonal, inverse }

  /// Chains longer than this keep their order (the search is cubic in the length).
  private static let longestOrderedChain = 48
  /// Sums distributed inside one another, at most.
  private static let deepestDistribution = 2
  /// Shared sums tried unshared (each use distributed on its own), at most.
  private static let mostUnsharedSums = 6

  init(model: CostModel, placement: CostModel? = nil) {
    self.model = model
    self.placement = placement ?? model
  }

  /// `root` rewritten into its cheapest order.
  func planned(_ root: Expr) throws -> Expr { try planned([root])[0] }

  /// `roots` rewritten into their cheapest order, planned together: what they share stays a
  /// single operand, so it is still computed once.
  ///
  /// A sum used more than once is computed once, unless distributing it over each of its uses
  /// costs less in all: (U Vᵀ − T)ᵀ U and (U Vᵀ − T) V, with U and V n×k, cost 6n²k as one
  /// n×n sum, 4n²k + O(nk²) as V (Uᵀ U) − Tᵀ U and U (Vᵀ V) − T V.
  func planned(_ roots: [Expr]) throws -> [Expr] {
    var kept = Self.sharedNodes(of: roots)
    var best = try planned(roots, sharing: kept)
    var bestCost = programCost(best, size: model.size)
    var memoIsBest = true
    for sum in Self.sharedSums(in: roots, shared: kept).prefix(Self.mostUnsharedSums) {
      var trial = kept
      trial.remove(sum)
      let candidate = try planned(roots, sharing: trial)
      let cost = programCost(candidate, size: model.size)
      memoIsBest = cost < bestCost
      if memoIsBest {
        (kept, best, bestCost) = (trial, candidate, cost)
      }
    }
    if !memoIsBest { _ = try planned(roots, sharing: kept) }
    return try sharingMirroredProducts(best)
  }

  /// `roots` with a product whose transpose is another product in them written as that one
  /// transposed, so that it is computed once: xᵀ Cᵀ = (C x)ᵀ beside A (B (C x)).
  private func sharingMirroredProducts(_ roots: [Expr]) throws -> [Expr] {
    var order: [Expr] = []  // children first
    var visited: Set<Expr> = []
    func visit(_ e: Expr) {
      guard visited.insert(e).inserted else { return }
      e.forEachChild(visit)
      order.append(e)
    }
    roots.forEach(visit)
    var mirrors: [Expr: Expr] = [:]
    for node in order {
      guard case .chain(let factors) = node.node, factors.count == 2, mirrors[node] == nil
      else { continue }
      // (A B)ᵀ = Bᵀ Aᵀ
      let mirror = try Expr.make(
        .chain([
          try transposedOperand(factors[1], shared: true),
          try transposedOperand(factors[0], shared: true),
        ]))
      guard mirror !== node, visited.contains(mirror), mirrors[mirror] == nil else { continue }
      mirrors[node] = mirror
    }
    guard !mirrors.isEmpty else { return roots }
    var memo: [Expr: Expr] = [:]
    func rebuild(_ e: Expr) throws -> Expr {
      if let done = memo[e] { return done }
      let result =
        try mirrors[e].map { try Expr.make(.transpose(try rebuild($0))) }
        ?? Self.rebuilt(e, try e.children.map(rebuild))
      memo[e] = result
      return result
    }
    return try roots.map(rebuild)
  }

  private func planned(_ roots: [Expr], sharing: Set<Expr>) throws -> [Expr] {
    shared = sharing
    memo = [:]
    return try roots.map { try plan($0).expr }
  }

  /// The sums among `shared` that are operands of a product (or transposed into one), in the
  /// order a walk from the roots meets them.
  private static func sharedSums(in roots: [Expr], shared: Set<Expr>) -> [Expr] {
    var found: [Expr] = []
    var listed: Set<Expr> = []
    var visited: Set<Expr> = []
    func visit(_ e: Expr) {
      guard visited.insert(e).inserted else { return }
      switch e.node {
      case .product, .chain, .transpose:
        e.forEachChild { child in
          if case .add = child.node, shared.contains(child), listed.insert(child).inserted {
            found.append(child)
          }
        }
      default: break
      }
      e.forEachChild(visit)
    }
    roots.forEach(visit)
    return found
  }

  /// What computing every node of `roots` once costs, each dimension's size given by `size`:
  /// the local cost of each distinct node, a product with `diag(d)` a scaling and one with an
  /// inverse a solve, as the plan priced them.
  func programCost<N: CostArithmetic>(_ roots: [Expr], size: (Dim) -> N) -> N {
    var seen: Set<Expr> = []
    var total = N(0)
    func walk(_ e: Expr) {
      guard seen.insert(e).inserted else { return }
      total = total + cost(of: e, size: size)
      e.forEachChild(walk)
    }
    roots.forEach(walk)
    return total
  }

  /// The cost of `e` from its children, a planned product of two priced as ``ordered(_:cost:)``
  /// prices it.
  private func cost<N: CostArithmetic>(of e: Expr, size: (Dim) -> N) -> N {
    guard case .chain(let factors) = e.node, factors.count == 2 else {
      return model.local(e, size: size)
    }
    let (a, b) = (factors[0], factors[1])
    let (m, inner, n) = (size(a.shape.rows), size(a.shape.cols), size(b.shape.cols))
    if kind(a) == .diagonal || kind(b) == .diagonal {
      return model.elementwise(m * n, operands: 2)
    }
    if kind(a) == .inverse { return model.solve(m, n) }
    if kind(b) == .inverse { return model.solve(inner, m) }
    return model.product(m, inner, n)
  }

  /// The planned form of a subexpression of the last root, if it was planned.
  func plannedForm(of e: Expr) -> Expr? { memo[e]?.expr }

  /// The compound subexpressions of `roots` used more than once (a root counts as one use).
  static func sharedNodes(of roots: [Expr]) -> Set<Expr> {
    var uses: [Expr: Int] = [:]
    var visited: Set<Expr> = []
    var result: Set<Expr> = []
    func use(_ e: Expr) {
      uses[e, default: 0] += 1
      if uses[e] == 2 && !e.children.isEmpty { result.insert(e) }
      if visited.insert(e).inserted { e.forEachChild(use) }
    }
    roots.forEach(use)
    return result
  }

  // MARK: - Planning

  private func plan(_ e: Expr) throws -> Plan {
    if let done = memo[e] { return done }
    let result: Plan
    if isChain(e, top: true) {
      var scalars: [Plan] = []
      var factors: [Factor] = []
      try flatten(e, transposed: false, top: true, &scalars, &factors)
      result = try chain(scalars, factors, depth: 0)
    } else {
      let children = try e.children.map(plan)
      let expr = try Self.rebuilt(e, children.map(\.expr))
      result = Plan(expr: expr, cost: children.reduce(model.local(e)) { $0 + $1.cost })
    }
    memo[e] = result
    return result
  }

  /// Whether `e` is a product of matrices (or the transpose of one) that is not shared.
  private func isChain(_ e: Expr, top: Bool = false) -> Bool {
    if !top && shared.contains(e) { return false }
    switch e.node {
    case .product(let a, let b): return !(a.isScalar && b.isScalar)
    case .chain: return true
    case .transpose(let inner): return isChain(inner)
    default: return false
    }
  }

  /// Appends the 1×1 factors of `e` to `scalars` and its matrix factors, in order, to
  /// `factors`; `transposed` reads the chain backwards with each factor transposed.
  private func flatten(
    _ e: Expr, transposed: Bool, top: Bool = false, _ scalars: inout [Plan],
    _ factors: inout [Factor]
  ) throws {
    // A 1×1 operand scales the chain (it may be a chain of its own, xᵀ y).
    if e.isScalar && !top {
      scalars.append(try plan(e))
      return
    }
    if isChain(e, top: top) {
      switch e.node {
      case .product(let a, let b):
        for operand in transposed ? [b, a] : [a, b] {
          try flatten(operand, transposed: transposed, &scalars, &factors)
        }
        return
      case .chain(let chained):
        for operand in transposed ? chained.reversed() : chained {
          try flatten(operand, transposed: transposed, &scalars, &factors)
        }
        return
      case .transpose(let inner):
        try flatten(inner, transposed: !transposed, &scalars, &factors)
        return
      default: break
      }
    }
    var source = e
    var flipped = transposed
    if case .transpose(let inner) = e.node, !shared.contains(e) {
      source = inner
      flipped.toggle()
    }
    let isShared = shared.contains(source)
    let planned = try plan(source)
    var sum: Expr?
    if case .add = source.node, !isShared { sum = source }
    factors.append(
      Factor(
        expr: flipped ? try transposedOperand(planned.expr, shared: isShared) : planned.expr,
        cost: isShared ? 0 : planned.cost, sum: sum, transposed: flipped))
  }

  /// `pᵀ` without re-associating: diag(d)ᵀ = diag(d), (A⁻¹)ᵀ = (Aᵀ)⁻¹ (unless A⁻¹ is shared,
  /// so it stays one inverse).
  private func transposedOperand(_ p: Expr, shared isShared: Bool) throws -> Expr {
    if p.isScalar { return p }
    switch p.node {
    case .transpose(let inner): return inner
    case .variable(_, _, symmetric: true), .identity, .call(.diag, _): return p
    case .call(.inverse, let a) where !isShared:
      return try Expr.make(.call(.inverse, try transposedOperand(a, shared: false)))
    default: return try Expr.make(.transpose(p))
    }
  }

  /// Whether `e` multiplies as a dense matrix (not a row scaling nor a solve).
  func isDense(_ e: Expr) -> Bool { kind(e) == .dense }

  private func kind(_ e: Expr) -> Kind {
    switch e.node {
    case .call(.diag, let d) where d.shape.isColumn: return .diagonal
    case .call(.inverse, _): return .inverse
    default: return .dense
    }
  }

  /// The cheapest plan of `scalars` times the product of `factors`, distributing a sum
  /// among the factors over the chain when that is cheaper.
  private func chain(_ scalars: [Plan], _ factors: [Factor], depth: Int) throws -> Plan {
    var best = try ordered(scalars, factors)
    guard depth < Self.deepestDistribution, factors.count >= 2, factors.count <= 8 else {
      return best
    }
    for (index, factor) in factors.enumerated() {
      guard let sum = factor.sum, case .add(let terms) = sum.node, terms.count <= 4,
        terms.allSatisfy({ $0.shape == sum.shape })
      else { continue }
      // F (T₁ + T₂ + ⋯) G = F T₁ G + F T₂ G + ⋯
      var parts: [Expr] = []
      var cost = 0.0
      for term in terms {
        var termScalars: [Plan] = []
        var termFactors = Array(factors[..<index])
        try flatten(term, transposed: factor.transposed, &termScalars, &termFactors)
        termFactors += factors[(index + 1)...]
        let part = try chain(termScalars, termFactors, depth: depth + 1)
        parts.append(part.expr)
        cost += part.cost
      }
      var distributed = try Expr.make(.add(parts))
      cost += model.local(distributed)
      // The chain's own scalars multiply the sum once.
      if let scalar = try combined(scalars) {
        cost += scalar.cost + model.elementwise(model.elements(distributed.shape), operands: 1)
        distributed = try Expr.make(.product(scalar.expr, distributed))
      }
      if cost < best.cost { best = Plan(expr: distributed, cost: cost) }
    }
    return best
  }

  /// The scalars (constants folded) times the best-parenthesised product of `factors`; the
  /// scalars multiply the smallest dense factor if it is smaller than the product.
  private func ordered(_ scalars: [Plan], _ factors: [Factor]) throws -> Plan {
    let combined = try combined(scalars)
    guard let first = factors.first, let last = factors.last else {
      return combined ?? Plan(expr: Expr.constant(1), cost: 0)
    }
    var factors = factors
    guard let scalar = combined?.expr else { return try ordered(factors, cost: 0) }
    var cost = combined?.cost ?? 0
    let resultCount =
      placement.size(first.expr.shape.rows) * placement.size(last.expr.shape.cols)
    var target: Int?
    var smallest = resultCount
    for (index, factor) in factors.enumerated() where kind(factor.expr) == .dense {
      let count = placement.elements(factor.expr.shape)
      if count < smallest {
        smallest = count
        target = index
      }
    }
    let scaled =
      target.map { model.elements(factors[$0].expr.shape) }
      ?? model.size(first.expr.shape.rows) * model.size(last.expr.shape.cols)
    cost += model.elementwise(scaled, operands: 1)
    if let target {
      factors[target].expr = try Expr.make(.product(scalar, factors[target].expr))
      return try ordered(factors, cost: cost)
    }
    let product = try ordered(factors, cost: cost)
    return Plan(expr: try Expr.make(.product(scalar, product.expr)), cost: product.cost)
  }

  /// The product of 1×1 factors, constants folded into one leading constant; `nil` for none.
  private func combined(_ scalars: [Plan]) throws -> Plan? {
    guard !scalars.isEmpty else { return nil }
    var constant = 1.0
    var scalar: Expr?
    var cost = 0.0
    for plan in scalars {
      cost += plan.cost
      if let value = plan.expr.constantValue {
        constant *= value
      } else {
        scalar = try scalar.map { try Expr.make(.product($0, plan.expr)) } ?? plan.expr
      }
    }
    if constant != 1 || scalar == nil {
      let c = Expr.constant(constant)
      scalar = try scalar.map { try Expr.make(.product(c, $0)) } ?? c
    }
    return scalar.map { Plan(expr: $0, cost: cost) }
  }

  /// The product of `factors` in the cheapest parenthesisation (matrix-chain dynamic
  /// programming), plus `cost`.
  private func ordered(_ factors: [Factor], cost: Double) throws -> Plan {
    let count = factors.count
    var total = factors.reduce(cost) { $0 + $1.cost }
    guard count > 1 else { return Plan(expr: factors[0].expr, cost: total) }
    guard count <= Self.longestOrderedChain else {
      var expr = factors[0].expr
      for factor in factors.dropFirst() {
        expr = try Self.multiplied(expr, factor.expr)
        total += model.local(expr)
      }
      return Plan(expr: expr, cost: total)
    }
    // Factor i is dims[i] × dims[i + 1].
    let dims =
      factors.map { model.size($0.expr.shape.rows) } + [
        model.size(factors[count - 1].expr.shape.cols)
      ]
    let kinds = factors.map { kind($0.expr) }
    func join(_ i: Int, _ s: Int, _ j: Int) -> Double {
      let (m, inner, n) = (dims[i], dims[s + 1], dims[j + 1])
      if (i == s && kinds[i] == .diagonal) || (s + 1 == j && kinds[j] == .diagonal) {
        return model.elementwise(m * n, operands: 2)
      }
      if i == s && kinds[i] == .inverse { return model.solve(m, n) }
      if s + 1 == j && kinds[j] == .inverse { return model.solve(inner, m) }
      return model.product(m, inner, n)
    }
    var best = Array(repeating: Array(repeating: 0.0, count: count), count: count)
    var split = Array(repeating: Array(repeating: 0, count: count), count: count)
    for length in 2...count {
      for i in 0...(count - length) {
        let j = i + length - 1
        best[i][j] = .infinity
        for s in i..<j {
          let candidate = best[i][s] + best[s + 1][j] + join(i, s, j)
          if candidate < best[i][j] {
            best[i][j] = candidate
            split[i][j] = s
          }
        }
      }
    }
    func build(_ i: Int, _ j: Int) throws -> Expr {
      if i == j { return factors[i].expr }
      let s = split[i][j]
      return try Self.multiplied(try build(i, s), try build(s + 1, j))
    }
    return Plan(expr: try build(0, count - 1), cost: total + best[0][count - 1])
  }

  /// `a b` as a raw node: a chain of the two, or a scaling when one is 1×1 (in this order,
  /// as it is computed).
  private static func multiplied(_ a: Expr, _ b: Expr) throws -> Expr {
    if a.isScalar || b.isScalar { return try Expr.make(.product(a, b)) }
    return try Expr.make(.chain([a, b]))
  }

  /// `e` with its children replaced, as a raw node.
  static func rebuilt(_ e: Expr, _ children: [Expr]) throws -> Expr {
    if children.elementsEqual(e.children, by: ===) { return e }
    switch e.node {
    case .variable, .constant, .identity, .ones, .zero: return e
    case .add: return try Expr.make(.add(children))
    case .product: return try Expr.make(.product(children[0], children[1]))
    case .chain: return try Expr.make(.chain(children))
    case .hadamard: return try Expr.make(.hadamard(children[0], children[1]))
    case .power: return try Expr.make(.power(children[0], children[1]))
    case .transpose: return try Expr.make(.transpose(children[0]))
    case .call(let f, _): return try Expr.make(.call(f, children[0]))
    case .opaque(let f, _): return try Expr.make(.opaque(f, children[0]))
    case .gradient(let f, _): return try Expr.make(.gradient(f, children[0]))
    case .mapped(let f, let order, _): return try Expr.make(.mapped(f, order, children[0]))
    case .differential: return try Expr.make(.differential(children[0]))
    }
  }
}
