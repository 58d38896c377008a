// MARK: - Orders chosen from the shapes the code is called with

extension ProductPlanner {
  /// One planned program among those emitted code chooses from when it runs.
  struct Variant {
    /// The roots in planned form; a chain of three or more factors has its order chosen when
    /// it runs (`np.linalg.multi_dot`).
    var roots: [Expr]
    /// The planned form of each subexpression asked for (a definition's value), where it
    /// has one.
    var forms: [Expr: Expr]
    /// What the program costs (``programCost(_:size:)``) in the dimension symbols, in the
    /// order it takes where it is the best.
    var cost: CostPolynomial
  }

  /// The ratio of a small dimension to a large one in the size regimes planned for.
  static let smallRatio = 0.1

  /// `roots` planned for the sizes the code will be called with: one ``Variant`` when the
  /// order is the same for all of them, or two, the first for every dimension large and the
  /// second for the regime where it costs less, to be chosen between by their costs
  /// (``Variant/cost``) once the shapes are known.
  ///
  /// With `model` giving sizes, or fewer than two `dimensions` to vary, the plan is static
  /// (one variant). Otherwise the roots are planned for every dimension large, and for size
  /// regimes in which each pair of dimensions is once small (``smallRatio``) and large, once
  /// large and small. Plans that differ only in how a chain of dense factors is parenthesised
  /// become one, the chain's order chosen when it runs (`np.linalg.multi_dot`, from its
  /// operands' shapes); plans that differ otherwise (a sum distributed or not, a shared sum
  /// computed once or not) are alternatives, of which the first and the one best for the
  /// most regimes are kept.
  ///
  /// - Parameters:
  ///   - roots: the formulas, definitions substituted.
  ///   - named: subexpressions whose planned form ``Variant/forms`` gives.
  ///   - model: the cost model (its sizes, if any).
  ///   - dimensions: the symbols the code can read from its inputs' shapes.
  static func variants(
    of roots: [Expr], named: [Expr], model: CostModel, dimensions: [String]
  ) throws -> [Variant] {
    let free = dimensions.filter { model.sizes[$0] == nil }.sorted()
    var regimes = [model]
    if model.sizes.isEmpty && free.count >= 2 {
      // Dimension i is small in regime b when bit b of i is set, and in its mirror when it is
      // not: any two dimensions are small and large, and large and small, in some regime, with
      // 2⌈log₂ d⌉ + 1 plans for d dimensions.
      let large = Int(CostModel.largeDimension)
      let small = Int(CostModel.largeDimension * smallRatio)
      var bits = 0
      while 1 << bits < free.count { bits += 1 }
      for bit in 0..<bits {
        for smallWhenSet in [true, false] {
          let sizes = free.enumerated().map { index, dimension in
            (dimension, ((index >> bit) & 1 == 1) == smallWhenSet ? small : large)
          }
          regimes.append(CostModel(sizes: Dictionary(uniqueKeysWithValues: sizes)))
        }
      }
    }
    // Each regime's plan, joined with the first plan it agrees with up to chain order.
    var classes: [(roots: [Expr], forms: [Expr: Expr], members: Int, cost: CostPolynomial)] = []
    var seen: [(plan: [Expr], class: Int)] = []
    for regime in regimes {
      let planner = ProductPlanner(model: regime, placement: model)
      let planned = try planner.planned(roots)
      var forms: [Expr: Expr] = [:]
      for value in named { forms[value] = planner.plannedForm(of: value) }
      if let known = seen.first(where: { $0.plan == planned }) {
        classes[known.class].members += 1
        continue
      }
      let cost = planner.programCost(planned, size: CostPolynomial.init(_:))
      var joined = false
      for index in classes.indices {
        var merger = Merger(
          shared: sharedNodes(of: classes[index].roots).union(sharedNodes(of: planned)),
          planner: planner)
        let merged = try zip(classes[index].roots, planned).map { try merger.merge($0, $1) }
        guard merged.allSatisfy({ $0 != nil }) else { continue }
        classes[index].roots = merged.compactMap { $0 }
        for (value, form) in forms {
          guard let known = classes[index].forms[value] else { continue }
          classes[index].forms[value] = try merger.merge(known, form)
        }
        classes[index].members += 1
        seen.append((planned, index))
        joined = true
        break
      }
      if !joined {
        seen.append((planned, classes.count))
        classes.append((planned, forms, 1, cost))
      }
    }
    let variants = classes.map { Variant(roots: $0.roots, forms: $0.forms, cost: $0.cost) }
    guard let first = variants.first else { return [] }
    // The alternative best for the most regimes (the earliest of equals).
    var second: Int?
    for index in classes.indices.dropFirst()
    where second.map({ classes[index].members > classes[$0].members }) ?? true {
      second = index
    }
    guard let second else { return [first] }
    // One that costs less for every size is the plan.
    let difference = first.cost - variants[second].cost
    let readable = Set(dimensions)
    guard difference.terms.keys.allSatisfy({ $0.allSatisfy(readable.contains) }) else {
      return [first]
    }
    let signs = Set(difference.terms.values.map { $0 > 0 })
    if signs == [false] || difference.terms.isEmpty { return [first] }
    if signs == [true] { return [variants[second]] }
    return [first, variants[second]]
  }

  /// Joins two plans of the same roots that differ only in the order of chains of dense
  /// factors: where the parenthesisations differ, one chain of all the factors, ordered when
  /// it runs.
  private struct Merger {
    /// Nodes used more than once in either plan, which are computed once, so never
    /// flattened into a chain.
    var shared: Set<Expr>
    let planner: ProductPlanner
    private var memo: [Pair: Expr?] = [:]

    private struct Pair: Hashable {
      var a: Expr
      var b: Expr
    }

    init(shared: Set<Expr>, planner: ProductPlanner) {
      self.shared = shared
      self.planner = planner
    }

    /// The joined form of `a` and `b`, or `nil` when they differ by more than chain order.
    mutating func merge(_ a: Expr, _ b: Expr) throws -> Expr? {
      if a === b { return a }
      let pair = Pair(a: a, b: b)
      if let known = memo[pair] { return known }
      let result = try joined(a, b)
      memo[pair] = result
      return result
    }

    private mutating func joined(_ a: Expr, _ b: Expr) throws -> Expr? {
      let children = (a.children, b.children)
      // The same operation of the same arity: b is a with b's children (a's operation on
      // b's children may not even be defined: a scaling of two matrices).
      if children.0.count == children.1.count,
        (try? ProductPlanner.rebuilt(a, children.1)) === b
      {
        var merged: [Expr] = []
        var agrees = true
        for (x, y) in zip(children.0, children.1) {
          guard let z = try merge(x, y) else {
            agrees = false
            break
          }
          merged.append(z)
        }
        if agrees { return try ProductPlanner.rebuilt(a, merged) }
      }
      // Two orders of one chain: one chain of its factors, ordered when it runs.
      guard case .chain = a.node, case .chain = b.node else { return nil }
      let (left, right) = (factors(of: a, top: true), factors(of: b, top: true))
      guard left.count >= 3, left.count == right.count else { return nil }
      var merged: [Expr] = []
      for (x, y) in zip(left, right) {
        guard let z = try merge(x, y), planner.isDense(z), !z.isScalar else { return nil }
        merged.append(z)
      }
      return try Expr.make(.chain(merged))
    }

    /// The factors of a chain of products, not looking inside a shared one.
    private func factors(of e: Expr, top: Bool = false) -> [Expr] {
      guard case .chain(let operands) = e.node, top || !shared.contains(e) else { return [e] }
      return operands.flatMap { factors(of: $0) }
    }
  }
}
