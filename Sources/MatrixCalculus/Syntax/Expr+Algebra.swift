import Foundation

/// The canonical constructors. Every expression the engine makes passes through these, so
/// equal values get equal handles: sums are flat with like terms collected and a canonical
/// order, constants are folded, scalars come first in products and move out of matrix
/// products, matrix products are flat chains in the order written (no association chosen),
/// zeros and identities vanish.
extension Expr {
  /// A declared or defined name.
  static func variable(_ name: String, _ shape: Shape, symmetric: Bool = false) throws
    -> Expr
  {
    try ExprPool.intern(.variable(name, shape, symmetric: symmetric && shape.isSquare))
  }

  /// A 1×1 constant (−0 is stored as 0).
  static func constant(_ value: Double) -> Expr {
    // Interning a constant cannot fail: its shape is always 1×1.
    (try? ExprPool.intern(.constant(value == 0 ? 0 : value))) ?? unreachableConstant
  }

  private static let unreachableConstant: Expr = {
    // A constant's shape never fails; this only keeps the code free of `!`.
    guard let made = try? ExprPool.intern(.constant(0)) else { preconditionFailure() }
    return made
  }()

  /// The zero of a shape (the constant 0 for 1×1).
  static func zero(_ shape: Shape) throws -> Expr {
    shape.isScalar ? constant(0) : try ExprPool.intern(.zero(shape))
  }

  /// All ones of a shape (the constant 1 for 1×1).
  static func ones(_ shape: Shape) throws -> Expr {
    shape.isScalar ? constant(1) : try ExprPool.intern(.ones(shape))
  }

  /// The d×d identity (the constant 1 for d = 1).
  static func identity(_ d: Dim) throws -> Expr {
    d == .one ? constant(1) : try ExprPool.intern(.identity(d))
  }

  // MARK: - Sums

  /// Splits `c·B` into the constant c and the rest B.
  var coefficientAndBase: (Double, Expr) {
    if case .constant(let value) = node { return (value, Expr.unit) }
    if case .product(let a, let b) = node, let value = a.constantValue { return (value, b) }
    return (1, self)
  }

  /// The constant 1, made once (``coefficientAndBase`` asks for it at every constant term).
  private static let unit = Expr.constant(1)

  /// `Σ terms`, flattened, like terms collected, zeros dropped, canonically ordered.
  static func add(_ terms: [Expr]) throws -> Expr {
    // A single term is already canonical (a zero included).
    if terms.count == 1 { return terms[0] }
    var flat: [Expr] = []
    flat.reserveCapacity(terms.count)
    for term in terms {
      if case .add(let inner) = term.node { flat += inner } else { flat.append(term) }
    }
    // The terms that are not 1×1 share one shape, the sum's (a 1×1 term is added to every
    // entry).
    var shape = Shape.scalar
    for term in flat where !term.isScalar {
      if shape.isScalar {
        shape = term.shape
      } else if term.shape != shape {
        let shapes = Set(flat.map(\.shape).filter { !$0.isScalar })
        throw MatcalcError.internalError(
          "sum of different shapes \(shapes.sorted { "\($0)" < "\($1)" })")
      }
    }
    // Like terms collected, each base at its first place. Sums are short: a base is looked
    // up by a scan, and by a table only in a long sum.
    var bases: [Expr] = []
    var coefficients: [Double] = []
    bases.reserveCapacity(flat.count)
    coefficients.reserveCapacity(flat.count)
    var places: [Expr: Int] = [:]
    let indexed = flat.count > 16
    for term in flat where !term.isZero {
      let (coefficient, base) = term.coefficientAndBase
      let place = indexed ? places[base] : bases.firstIndex { $0 === base }
      if let place {
        coefficients[place] += coefficient
      } else {
        if indexed { places[base] = bases.count }
        bases.append(base)
        coefficients.append(coefficient)
      }
    }
    var collected: [(base: Expr, term: Expr)] = []
    collected.reserveCapacity(bases.count)
    for (base, coefficient) in zip(bases, coefficients) where coefficient != 0 {
      collected.append((base, try scale(coefficient, base)))
    }
    if collected.isEmpty { return try zero(shape) }
    if collected.count == 1 {
      let only = collected[0].term
      return only.shape == shape ? only : try multiply(only, try ones(shape))
    }
    collected.sort { Expr.precedes($0.base, $1.base) }
    return try ExprPool.intern(.add(collected.map(\.term)))
  }

  /// The terms of a sum in the order they print: positive terms first, so `A x − b` reads as
  /// written; a multiple of the identity last among them (`Vᵀ V + λ I`).
  static func inPrintingOrder(_ terms: [Expr]) -> [Expr] {
    func isScaledIdentity(_ term: Expr) -> Bool {
      if case .product(let s, let m) = term.coefficientAndBase.1.node, s.isScalar {
        return m.isIdentity
      }
      return false
    }
    return [true, false].flatMap { positive in
      let sign = terms.filter { ($0.coefficientAndBase.0 >= 0) == positive }
      return sign.filter { !isScaledIdentity($0) } + sign.filter(isScaledIdentity)
    }
  }

  /// `a + b`.
  static func + (a: Expr, b: Expr) throws -> Expr { try add([a, b]) }

  /// `a − b`.
  static func - (a: Expr, b: Expr) throws -> Expr { try add([a, try scale(-1, b)]) }

  /// `−a`.
  static prefix func - (a: Expr) throws -> Expr { try scale(-1, a) }

  /// `c·a` for a constant c.
  static func scale(_ c: Double, _ a: Expr) throws -> Expr {
    if c == 0 { return try zero(a.shape) }
    if c == 1 { return a }
    switch a.node {
    case .constant(let value): return constant(c * value)
    case .zero: return a
    case .add(let terms): return try add(terms.map { try scale(c, $0) })
    default:
      let (coefficient, base) = a.coefficientAndBase
      let total = c * coefficient
      if total == 1 { return base }
      if base.isScalar, case .constant(1) = base.node { return constant(total) }
      return try ExprPool.intern(.product(constant(total), base))
    }
  }

  // MARK: - Products

  /// The language's `*`: matrix product, or scaling when an operand is 1×1.
  static func * (a: Expr, b: Expr) throws -> Expr { try multiply(a, b) }

  /// See ``*(_:_:)``.
  static func multiply(_ a: Expr, _ b: Expr) throws -> Expr {
    if a.isScalar && b.isScalar {
      if let x = a.constantValue, let y = b.constantValue { return constant(x * y) }
      if let x = a.constantValue { return try scale(x, b) }
      if let y = b.constantValue { return try scale(y, a) }
      if a.isZero || b.isZero { return constant(0) }
      let (ca, ba) = a.coefficientAndBase
      let (cb, bb) = b.coefficientAndBase
      if ca != 1 || cb != 1 { return try scale(ca * cb, try multiply(ba, bb)) }
      // Like factors: a a = a², aᵖ a = aᵖ⁺¹, aᵖ a^q = aᵖ⁺q (constant exponents).
      let (baseA, powerA) = ba.baseAndExponent
      let (baseB, powerB) = bb.baseAndExponent
      if baseA == baseB, let p = powerA, let q = powerB {
        return try power(baseA, constant(p + q))
      }
      let (first, second) = precedes(ba, bb) ? (ba, bb) : (bb, ba)
      return try ExprPool.intern(.product(first, second))
    }
    if a.isScalar || b.isScalar {
      let (s, m) = a.isScalar ? (a, b) : (b, a)
      if let value = s.constantValue { return try scale(value, m) }
      if m.isZero { return m }
      // s (t M) = (s t) M: one scalar factor in front.
      if case .product(let t, let rest) = m.node, t.isScalar, !rest.isScalar {
        return try multiply(try multiply(s, t), rest)
      }
      let (cs, bs) = s.coefficientAndBase
      if cs != 1 { return try scale(cs, try multiply(bs, m)) }
      return try ExprPool.intern(.product(s, m))
    }
    guard a.shape.cols == b.shape.rows else {
      throw MatcalcError.internalError("product of \(a.shape) and \(b.shape)")
    }
    if a.isZero || b.isZero { return try zero(Shape(a.shape.rows, b.shape.cols)) }
    if case .identity = a.node { return b }
    if case .identity = b.node { return a }
    if case .product(let s, let rest) = a.node, s.isScalar, !rest.isScalar {
      return try multiply(s, try multiply(rest, b))
    }
    if case .product(let s, let rest) = b.node, s.isScalar, !rest.isScalar {
      return try multiply(s, try multiply(a, rest))
    }
    // Flat: a chain operand contributes its factors. Nothing happens where the two meet;
    // identities between neighbours (A A⁻¹ = I, diag(u) diag(v) = diag(u ⊙ v), 𝟏 𝟏ᵀ = 𝟏𝟏ᵀ)
    // are rules in Rules/simplify.rules.
    switch (a.node, b.node) {
    case (.chain, .chain) where a.shape.rows == .one:  // xᵀ A · y zᵀ: a 1×1 part may scale
      return try product(of: [a, b]) ?? a
    case (.chain(let left), .chain(let right)): return try ExprPool.intern(.chain(left + right))
    case (.chain(let left), _): return try ExprPool.intern(.chain(left + [b]))
    case (_, .chain) where a.shape.rows == .one: return try product(of: [a, b]) ?? a
    case (_, .chain(let right)): return try ExprPool.intern(.chain([a] + right))
    default: return try ExprPool.intern(.chain([a, b]))
    }
  }

  /// The chain of `factors` (matrices, none a chain): the identity with `rows` rows for none,
  /// the factor itself for one.
  private static func chain(_ factors: [Expr], rows: Dim) throws -> Expr {
    switch factors.count {
    case 0: return try identity(rows)
    case 1: return factors[0]
    default: return try ExprPool.intern(.chain(factors))
    }
  }

  /// `A ⊙ B`; scaling when an operand is 1×1.
  static func hadamard(_ a: Expr, _ b: Expr) throws -> Expr {
    if a.isScalar || b.isScalar { return try multiply(a, b) }
    if a.isZero { return a }
    if b.isZero { return b }
    if case .ones = a.node { return b }
    if case .ones = b.node { return a }
    let (ca, ba) = a.coefficientAndBase
    let (cb, bb) = b.coefficientAndBase
    if ca != 1 || cb != 1 { return try scale(ca * cb, try hadamard(ba, bb)) }
    if case .product(let s, let rest) = a.node, s.isScalar {
      return try multiply(s, try hadamard(rest, b))
    }
    if case .product(let s, let rest) = b.node, s.isScalar {
      return try multiply(s, try hadamard(a, rest))
    }
    // Like factors entry by entry: a ⊙ a = a^⊙2, a^⊙p ⊙ a^⊙q = a^⊙(p+q).
    let (baseA, powerA) = a.elementwiseBaseAndExponent
    let (baseB, powerB) = b.elementwiseBaseAndExponent
    if baseA == baseB, let p = powerA, let q = powerB {
      return try power(baseA, constant(p + q))
    }
    let (first, second) = precedes(a, b) ? (a, b) : (b, a)
    return try ExprPool.intern(.hadamard(first, second))
  }

  /// Element-wise power `A^⊙p`.
  static func power(_ a: Expr, _ p: Expr) throws -> Expr {
    if let exponent = p.constantValue {
      if exponent == 1 { return a }
      if exponent == 0 { return try ones(a.shape) }
      if let base = a.constantValue { return constant(pow(base, exponent)) }
      // (c b)ᵖ = cᵖ bᵖ for c > 0, so constants leave powers: 1/(2 √s) = ½ s^-½.
      let (c, base) = a.coefficientAndBase
      if c > 0 && c != 1 { return try scale(pow(c, exponent), try power(base, p)) }
      // (aᵖ)^q = a^(pq) for integer q, which holds for every real a.
      if case .power(let inner, let q) = a.node, let innerExponent = q.constantValue,
        exponent == exponent.rounded()
      {
        return try power(inner, constant(innerExponent * exponent))
      }
    }
    return try ExprPool.intern(.power(a, p))
  }

  /// `a^⊙p` as (a, p) for a constant p; anything else as (self, 1).
  var elementwiseBaseAndExponent: (Expr, Double?) {
    if case .power(let base, let p) = node, let value = p.constantValue { return (base, value) }
    return (self, 1)
  }

  /// `aᵖ` as (a, p) for a constant p; anything else as (self, 1). Non-scalars give nil.
  var baseAndExponent: (Expr, Double?) {
    guard isScalar else { return (self, nil) }
    if case .power(let base, let p) = node, let value = p.constantValue { return (base, value) }
    return (self, 1)
  }

  /// `Aᵀ`; scalars, symmetric names, identities and double transposes simplify at once. A
  /// chain keeps its order: (F₁ ⋯ Fₖ)ᵀ = Fₖᵀ ⋯ F₁ᵀ is the rule transpose-product.
  static func transpose(_ a: Expr) throws -> Expr {
    switch a.node {
    case .constant, .identity: return a
    case .zero(let shape): return try zero(shape.transposed)
    case .ones(let shape): return try ones(shape.transposed)
    case .transpose(let inner): return inner
    case .variable(_, _, symmetric: true): return a
    default:
      if a.isScalar { return a }
      return try ExprPool.intern(.transpose(a))
    }
  }

  /// The factors of a matrix-product chain, left to right (`[self]` when this is not a
  /// chain).
  var matrixFactors: [Expr] {
    if case .chain(let factors) = node { return factors }
    return [self]
  }

  /// The product of `factors` through the canonical constructors, or `nil` when there are
  /// none. Matrix factors are joined into one chain in a single pass.
  static func product(of factors: ArraySlice<Expr>) throws -> Expr? {
    guard let first = factors.first else { return nil }
    if factors.count == 1 { return first }
    var scalar: Expr?
    var chained: [Expr] = []
    chained.reserveCapacity(factors.count)
    var rows: Dim?  // of the first matrix factor
    func scale(by s: Expr) throws { scalar = try scalar.map { try multiply($0, s) } ?? s }
    // A chain that is 1×1 so far (xᵀ A y) scales what follows, as a left fold does.
    func isScalarSoFar() -> Bool {
      guard let head = chained.first, let last = chained.last else { return false }
      return head.shape.rows == .one && last.shape.cols == .one
    }
    func push(_ matrix: Expr) throws {
      if isScalarSoFar() {
        try scale(by: try chain(chained, rows: .one))
        chained.removeAll(keepingCapacity: true)
      }
      chained.append(matrix)
    }
    for factor in factors {
      var matrix = factor
      if factor.isScalar {
        try scale(by: factor)
        continue
      }
      if case .product(let s, let rest) = factor.node, s.isScalar {
        try scale(by: s)
        matrix = rest
      }
      rows = rows ?? matrix.shape.rows
      switch matrix.node {
      case .chain(let inner): for next in inner { try push(next) }
      case .identity where !isScalarSoFar(): break  // the unit
      case .zero:  // absorbs: the product's shape, from the first and last matrix factors
        return try factors.dropFirst().reduce(first) { try multiply($0, $1) }
      default: try push(matrix)
      }
    }
    guard let rows else { return scalar }
    let matrix = try chain(chained, rows: rows)
    return try scalar.map { try multiply($0, matrix) } ?? matrix
  }

  /// `(F₁ ⋯ Fₖ)ᵀ = Fₖᵀ ⋯ F₁ᵀ` for a chain's factors, in one pass (the rule transpose-product
  /// applied to a whole chain at once), or `nil` when there are none.
  static func transposedChain(_ factors: [Expr]) throws -> Expr? {
    try product(of: factors.reversed().map(Expr.transpose)[...])
  }

  /// A built-in function applied to `a`.
  static func call(_ function: Function, _ a: Expr) throws -> Expr {
    switch function {
    case .trace where a.isScalar, .sum where a.isScalar: return a
    case .inverse:
      if case .identity = a.node { return a }
    case .trace, .sum:
      if a.isZero { return constant(0) }
    default: break
    }
    return try ExprPool.intern(.call(function, a))
  }

  /// Any other node, interned as it is.
  static func make(_ node: Node) throws -> Expr { try ExprPool.intern(node) }
}

// MARK: - Canonical order

extension Expr {
  /// Products first and constants before everything, so sums read `1 − y`, `W x + b`,
  /// `A + Aᵀ`.
  private var rank: Int {
    switch node {
    case .constant: return 0
    case .product, .chain: return 1
    case .hadamard: return 2
    case .variable: return 3
    case .gradient: return 4
    case .transpose: return 5
    case .power: return 6
    case .call: return 7
    case .mapped: return 8
    case .opaque: return 9
    case .identity: return 10
    case .ones: return 11
    case .zero: return 12
    case .add: return 13
    case .differential: return 14
    }
  }

  /// A total, deterministic order on expressions (never by hash): the order of terms in
  /// sums and operands of commutative products.
  static func precedes(_ a: Expr, _ b: Expr) -> Bool {
    compare(a, b) < 0
  }

  private static func compare(_ a: Expr, _ b: Expr) -> Int {
    if a === b { return 0 }
    if a.rank != b.rank { return a.rank < b.rank ? -1 : 1 }
    let byChildren: Int
    switch (a.node, b.node) {
    case (.constant(let x), .constant(let y)): return x < y ? -1 : (x > y ? 1 : 0)
    case (.variable(let x, let sx, _), .variable(let y, let sy, _)):
      if x != y { return x < y ? -1 : 1 }
      return compareShapes(sx, sy)
    case (.call(let f, _), .call(let g, _)) where f != g:
      return f.rawValue < g.rawValue ? -1 : 1
    case (.opaque(let f, _), .opaque(let g, _)) where f != g: return f < g ? -1 : 1
    case (.gradient(let f, _), .gradient(let g, _)) where f != g: return f < g ? -1 : 1
    case (.mapped(let f, let i, _), .mapped(let g, let j, _)) where f != g || i != j:
      return (f.name, i) < (g.name, j) ? -1 : 1
    // A chain is ordered among products as the left-nested products it prints as.
    case (.chain, _), (_, .chain): return compare(ProductView(a), ProductView(b))
    // Otherwise the same kind (equal ranks): the children in order, then their number.
    // Sorting the terms of every sum compares often, so the common kinds skip the array
    // `children` makes.
    case (.product(let a1, let a2), .product(let b1, let b2)),
      (.hadamard(let a1, let a2), .hadamard(let b1, let b2)),
      (.power(let a1, let a2), .power(let b1, let b2)):
      let first = compare(a1, b1)
      byChildren = first != 0 ? first : compare(a2, b2)
    case (.transpose(let x), .transpose(let y)), (.call(_, let x), .call(_, let y)),
      (.opaque(_, let x), .opaque(_, let y)), (.gradient(_, let x), .gradient(_, let y)),
      (.mapped(_, _, let x), .mapped(_, _, let y)), (.differential(let x), .differential(let y)):
      byChildren = compare(x, y)
    default:
      let left = a.children
      let right = b.children
      var first = 0
      for (x, y) in zip(left, right) where first == 0 { first = compare(x, y) }
      if first == 0 && left.count != right.count { first = left.count < right.count ? -1 : 1 }
      byChildren = first
    }
    if byChildren != 0 { return byChildren }
    return compareShapes(a.shape, b.shape)
  }

  private static func compareShapes(_ a: Shape, _ b: Shape) -> Int {
    "\(a)" < "\(b)" ? -1 : ("\(a)" == "\(b)" ? 0 : 1)
  }

  /// A product of rank 1 seen as a binary node: a chain F₁ ⋯ Fₖ as (F₁ ⋯ Fₖ₋₁) Fₖ, so that
  /// chains order among products as they always have (sums keep their printed order).
  private struct ProductView {
    var expr: Expr?
    var prefix: ArraySlice<Expr>

    init(_ e: Expr) {
      if case .chain(let factors) = e.node {
        (expr, prefix) = (nil, factors[...])
      } else {
        (expr, prefix) = (e, [])
      }
    }

    init(_ factors: ArraySlice<Expr>) {
      if factors.count == 1, let only = factors.first {
        (expr, prefix) = (only, [])
      } else {
        (expr, prefix) = (nil, factors)
      }
    }

    var shape: Shape {
      if let expr { return expr.shape }
      return Shape(prefix.first?.shape.rows ?? .one, prefix.last?.shape.cols ?? .one)
    }

    /// The two operands: the prefix and the last factor, or a scaling's two operands.
    var operands: (ProductView, ProductView)? {
      if let expr {
        guard case .product(let s, let m) = expr.node else { return nil }
        return (ProductView(s), ProductView(m))
      }
      guard let last = prefix.last else { return nil }
      return (ProductView(prefix.dropLast()), ProductView(last))
    }
  }

  private static func compare(_ a: ProductView, _ b: ProductView) -> Int {
    if let x = a.expr, let y = b.expr { return compare(x, y) }
    if a.expr == nil && b.expr == nil && a.prefix.elementsEqual(b.prefix, by: ===) { return 0 }
    let rankA = a.expr?.rank ?? 1
    let rankB = b.expr?.rank ?? 1
    if rankA != rankB { return rankA < rankB ? -1 : 1 }
    if let (a1, a2) = a.operands, let (b1, b2) = b.operands {
      let first = compare(a1, b1)
      if first != 0 { return first }
      let second = compare(a2, b2)
      if second != 0 { return second }
    }
    return compareShapes(a.shape, b.shape)
  }
}
