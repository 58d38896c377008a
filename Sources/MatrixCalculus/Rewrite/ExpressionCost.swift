/// A cost of expressions: what choosing among equal forms minimises. The printed form
/// minimises ``PrintedSize``; emitted code minimises flops and memory (`CostModel`).
///
/// `total(e) = Σ_nodes local(node)`, a repeated subexpression paid at every occurrence
/// (printed each time) or once (computed once and reused).
protocol ExpressionCost {
  /// The cost of `e`'s own node, its children paid for separately.
  func local(_ e: Expr) -> Double
  /// Whether a subexpression that occurs more than once is paid once.
  var paysRepeatsOnce: Bool { get }
}

extension ExpressionCost {
  /// The cost of `e`: the local costs of its nodes.
  func total(_ e: Expr) -> Double {
    var memo: [Expr: Double] = [:]
    func walk(_ e: Expr) -> Double {
      if let known = memo[e] { return paysRepeatsOnce ? 0 : known }
      var sum = local(e)
      e.forEachChild { sum += walk($0) }
      memo[e] = sum
      return sum
    }
    return walk(e)
  }
}

/// The size of a formula as printed: one per node, a transpose a quarter more (`xᵀ − μᵀ`
/// is larger than `(x − μ)ᵀ`). Among forms of equal size, one that reuses subexpressions the
/// reader has already seen (``familiar``, those of the objective) is a hundredth cheaper per
/// node: `(T − U Vᵀ)ᵀ` rather than `Tᵀ − V Uᵀ` for f = ‖T − U Vᵀ‖².
struct PrintedSize: ExpressionCost {
  /// The extra weight of a transpose.
  static let transposeWeight = 0.25
  /// What a node the reader has already seen saves.
  static let familiarSaving = 0.01

  /// Subexpressions already seen.
  var familiar: Set<Expr> = []

  func local(_ e: Expr) -> Double {
    var cost = 1.0
    if case .transpose = e.node { cost += Self.transposeWeight }
    // A chain of k factors is k − 1 products.
    if case .chain(let factors) = e.node { cost = Double(factors.count - 1) }
    if familiar.contains(e) { cost -= Self.familiarSaving }
    return cost
  }

  var paysRepeatsOnce: Bool { false }
}
