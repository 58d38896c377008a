import TensorKernel

/// Draws inputs for numeric checks: pairwise-distinct sizes for the dimension symbols (so a
/// wrong transpose fails loudly) and values inside the domains the expressions need.
struct Sampler {
  /// What an input must satisfy.
  enum Requirement: Sendable {
    case positive, posdef, symmetric, nonzero
  }

  /// How many dimension symbols get pairwise-distinct sizes.
  static let distinctSizes = 12

  /// Sizes 2, 3, 4, 5, … in order of the symbols' first appearance (or the reverse order,
  /// for expressions such as log det(XᵀX) that need a tall X; a single symbol then gets 3).
  static func sizes(for shapes: [Shape], reversed: Bool = false) -> [String: Int] {
    var symbols: [String] = []
    for shape in shapes {
      for dim in [shape.rows, shape.cols] {
        if case .symbol(let name) = dim, !symbols.contains(name) { symbols.append(name) }
      }
    }
    if reversed { symbols.reverse() }
    // Sizes a fixed dimension already uses are skipped, so every dimension differs. Past
    // `distinctSizes` symbols (a deep network) the sizes repeat in order, so symbols that
    // appear together (neighbouring layers) still differ and the check stays cheap.
    var available: [Int] = []
    // One symbol reversed is the same assignment: the second ordering takes the next size
    // (n = 3 after n = 2), so no identity of 2×2 matrices alone can pass.
    var candidate = reversed && symbols.count == 1 ? 3 : 2
    while available.count < min(symbols.count, distinctSizes) {
      if !shapes.contains(where: { $0.rows == .size(candidate) || $0.cols == .size(candidate) }) {
        available.append(candidate)
      }
      candidate += 1
    }
    var sizes: [String: Int] = [:]
    for (index, name) in symbols.enumerated() {
      sizes[name] = available[index % available.count]
    }
    return sizes
  }

  /// The requirements the expressions put on the inputs named in them.
  static func requirements(of expressions: [Expr], definitions: [Problem.Definition])
    -> [String: Set<Requirement>]
  {
    var result: [String: Set<Requirement>] = [:]
    var bodies: [String: Expr] = [:]
    for definition in definitions { bodies[definition.name] = definition.body }
    func mark(_ e: Expr, _ requirement: Requirement, _ seen: inout Set<Expr>) {
      guard seen.insert(e).inserted else { return }
      if case .variable(let name, let shape, _) = e.node {
        if let body = bodies[name] {
          mark(body, requirement, &seen)
        } else if requirement != .posdef || shape.isSquare {
          result[name, default: []].insert(requirement)
        }
      }
      for child in e.children { mark(child, requirement, &seen) }
    }
    var visited = Set<Expr>()
    func walk(_ e: Expr) {
      guard visited.insert(e).inserted else { return }
      var seen = Set<Expr>()
      switch e.node {
      case .call(.log, let a), .call(.sqrt, let a): mark(a, .positive, &seen)
      case .call(.logdet, let a), .call(.inverse, let a), .call(.det, let a):
        mark(a, .posdef, &seen)
      case .call(.abs, let a), .call(.sign, let a), .call(.step, let a), .call(.relu, let a),
        .call(.norm1, let a):
        // Kinks at 0: entries at least 0.25 away, so a difference step never crosses one.
        mark(a, .nonzero, &seen)
      case .power(let a, let p):
        if let k = p.constantValue, k == k.rounded(), k >= 0 {} else { mark(a, .positive, &seen) }
      case .variable(let name, _, _): if let body = bodies[name] { walk(body) }
      default: break
      }
      e.children.forEach(walk)
    }
    expressions.forEach(walk)
    return result
  }

  /// A random tensor of the shape, satisfying the requirements.
  static func draw(
    _ shape: Shape, requirements: Set<Requirement>, symmetric: Bool, sizes: [String: Int],
    generator: inout SplitMix64
  ) throws -> Tensor {
    func size(_ d: Dim) throws -> Int {
      switch d {
      case .size(let n): return n
      case .symbol(let s):
        guard let n = sizes[s] else { throw MatcalcError.numeric("no size for \(s)") }
        return n
      }
    }
    let rows = try size(shape.rows)
    let cols = try size(shape.cols)
    try Evaluator.ensureAllocatable([rows, cols])
    var t = Tensor(rows: rows, cols: cols)
    for index in t.storage.indices { t.storage[index] = generator.symmetricUnit() }
    if requirements.contains(.posdef) && rows == cols {
      // A Aᵀ / n + I is symmetric positive definite and well conditioned. Unless the input is
      // declared symmetric, a skew part K = (B − Bᵀ)/2 is added: S + K keeps a positive
      // definite symmetric part (so det > 0 and the inverse exists) but is not symmetric, so
      // X⁻¹ and X⁻ᵀ differ and a transposition error cannot pass.
      guard var product = t.matmul(t.transposed) else { return t }
      for index in product.storage.indices { product.storage[index] /= Double(rows) }
      for i in 0..<rows { product[i, i] += 1 }
      if !symmetric {
        var b = Tensor(rows: rows, cols: cols)
        for index in b.storage.indices { b.storage[index] = generator.symmetricUnit() }
        product = product.zip(b.zip(b.transposed, { ($0 - $1) / 2 }) ?? b, +) ?? product
      }
      return product
    }
    if requirements.contains(.positive) {
      t = t.map { abs($0) + 0.5 }
    } else if requirements.contains(.nonzero) {
      t = t.map { $0 < 0 ? $0 - 0.25 : $0 + 0.25 }
    } else if rows > 1 && cols > 1 {
      // Variance 1/cols (entries uniform in ±√(3/cols)) keeps products of many matrices (deep
      // networks) of order one, neither exploding nor vanishing, so finite differences stay
      // accurate and meaningful.

      let scale = (3 / Double(cols)).squareRoot()
      t = t.map { $0 * scale }
    }
    if symmetric && rows == cols {
      t = t.zip(t.transposed) { ($0 + $1) / 2 } ?? t
    }
    return t
  }

  /// A value for every input of `problem`, each inside the domain its requirements name
  /// (symmetric inputs symmetric).
  static func draw(
    inputsOf problem: Problem, requirements: [String: Set<Requirement>], sizes: [String: Int],
    generator: inout SplitMix64
  ) throws -> [String: Tensor] {
    var values: [String: Tensor] = [:]
    for input in problem.inputs {
      var value = try draw(
        input.expr.shape, requirements: requirements[input.name] ?? [],
        symmetric: input.type.isSymmetric || Matcher.isSymmetric(input.expr), sizes: sizes,
        generator: &generator)
      if case .simplex = input.type {
        // A probability vector: positive entries scaled to sum to 1.
        value = value.map { abs($0) + 0.1 }
        let total = value.sum
        value = value.map { $0 / total }
      }
      values[input.name] = value
    }
    return values
  }
}
