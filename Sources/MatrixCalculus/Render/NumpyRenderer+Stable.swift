import Foundation

// MARK: - Stable code for exp(A) normalised by its own sums (softmax written in index form)

/// Which maximum a stable exp(A) subtracts: of each row (a row-wise softmax,
/// `P[i,j] = exp(S[i,j]) / sum(k, exp(S[i,k]))`), of each column, or of all entries.
enum ShiftAxis: Sendable {
  case rows, columns, all

  /// NumPy's `axis=` argument of the maximum (with `keepdims=True`), or none.
  var keywords: String {
    switch self {
    case .rows: return ", axis=1, keepdims=True"
    case .columns: return ", axis=0, keepdims=True"
    case .all: return ""
    }
  }
}

/// How an expression scales when every exp(A) it holds is multiplied by positive factors
/// d (E → D E): per row of E (E_ij d_i), per column (E_ij d_j), or by one number (E d).
/// The code may evaluate exp(A − max A) instead of exp(A) exactly when the whole program is
/// invariant: then the maximum (its exponential, d) cancels, and nothing overflows. Each rule
/// is an exact law for d > 0, so the analysis never says invariant of what is not.
private enum Scaling: Equatable {
  /// Where the group's index sits in an entry.
  enum Position: Equatable {
    /// The entry's row index carries d (E itself under row scaling).
    case row
    /// The column index carries it (Eᵀ under row scaling).
    case column
    /// A diagonal matrix whose entry (i, i) carries d_i: a row and a column scaling at once.
    case diagonal
    /// Every entry, one number d (the scaling of all entries).
    case whole
  }

  case invariant
  /// Entries multiplied by d^power at `position`.
  case scaled(Double, Position)
  case unknown

  static func scaled(_ power: Double, at position: Position) -> Scaling {
    power == 0 ? .invariant : .scaled(power, position)
  }
}

/// The analysis of ``Scaling`` for one exp(A) node and one shift.
private struct ScalingAnalysis {
  let exponential: Expr
  let axis: ShiftAxis
  private var memo: [Expr: Scaling] = [:]

  init(exponential: Expr, axis: ShiftAxis) {
    self.exponential = exponential
    self.axis = axis
  }

  mutating func scaling(_ e: Expr) -> Scaling {
    if e == exponential {
      switch axis {
      case .rows: return .scaled(1, .row)
      case .columns: return .scaled(1, .column)
      case .all: return .scaled(1, .whole)
      }
    }
    if let known = memo[e] { return known }
    let result = computed(e)
    memo[e] = result
    return result
  }

  /// The scaling of a product of two operands (Σ_k A_ik B_kj).
  private func product(_ a: Scaling, _ b: Scaling) -> Scaling {
    switch (a, b) {
    case (.unknown, _), (_, .unknown): return .unknown
    case (.invariant, .invariant): return .invariant
    case (.scaled(let p, .whole), .scaled(let q, .whole)): return .scaled(p + q, at: .whole)
    case (.scaled(let p, .whole), .invariant), (.invariant, .scaled(let p, .whole)):
      return .scaled(p, at: .whole)
    case (.scaled(let p, .row), .invariant), (.scaled(let p, .diagonal), .invariant):
      return .scaled(p, at: .row)
    case (.invariant, .scaled(let q, .column)), (.invariant, .scaled(let q, .diagonal)):
      return .scaled(q, at: .column)
    // The summed index carries d^p d^q.
    case (.scaled(let p, .column), .scaled(let q, .row)): return p + q == 0 ? .invariant : .unknown
    case (.scaled(let p, .diagonal), .scaled(let q, .row)): return .scaled(p + q, at: .row)
    case (.scaled(let p, .column), .scaled(let q, .diagonal)): return .scaled(p + q, at: .column)
    case (.scaled(let p, .diagonal), .scaled(let q, .diagonal)):
      return .scaled(p + q, at: .diagonal)
    default: return .unknown
    }
  }

  /// The scaling of an entry-by-entry product.
  private func hadamard(_ a: Scaling, _ b: Scaling) -> Scaling {
    switch (a, b) {
    case (.unknown, _), (_, .unknown): return .unknown
    case (.invariant, _): return b
    case (_, .invariant): return a
    case (.scaled(let p, let x), .scaled(let q, let y)) where x == y: return .scaled(p + q, at: x)
    default: return .unknown
    }
  }

  private mutating func computed(_ e: Expr) -> Scaling {
    switch e.node {
    case .variable, .constant, .identity, .ones, .zero: return .invariant
    case .add(let terms):  // every term alike
      let scalings = terms.map { scaling($0) }
      return scalings.allSatisfy { $0 == scalings[0] } ? scalings[0] : .unknown
    case .chain(let factors):  // Σ over each inner index
      guard var result = factors.first.map({ scaling($0) }) else { return .unknown }
      for factor in factors.dropFirst() { result = product(result, scaling(factor)) }
      return result
    case .product(let a, let b):  // a scalar times anything
      let (x, y) = (scaling(a), scaling(b))
      if a.isScalar && b.isScalar { return hadamard(x, y) }
      let (scalar, other) = a.isScalar ? (x, y) : (y, x)
      if scalar == .invariant { return other }
      if case .scaled(let p, .whole) = scalar { return hadamard(.scaled(p, .whole), other) }
      return .unknown
    case .hadamard(let a, let b): return hadamard(scaling(a), scaling(b))
    case .power(let a, let p):  // (d^k x)^c = d^(kc) x^c for d > 0
      guard let c = p.constantValue else {
        return scaling(a) == .invariant && scaling(p) == .invariant ? .invariant : .unknown
      }
      switch scaling(a) {
      case .scaled(let k, let position): return .scaled(k * c, at: position)
      case let other: return other
      }
    case .transpose(let a):
      switch scaling(a) {
      case .scaled(let k, .row): return .scaled(k, .column)
      case .scaled(let k, .column): return .scaled(k, .row)
      case let other: return other
      }
    case .call(let function, let a):
      if function == .log, NumpyRenderer.logSumExp(e) != nil { return .invariant }  // exact
      let inner = scaling(a)
      if inner == .invariant { return .invariant }
      switch (function, inner) {
      case (.diag, .scaled(let k, .row)), (.diag, .scaled(let k, .column)):
        return .scaled(k, .diagonal)
      case (.diagonal, .scaled(let k, .row)), (.diagonal, .scaled(let k, .column)),
        (.diagonal, .scaled(let k, .diagonal)):
        return .scaled(k, .row)
      case (.sum, .scaled(let k, .whole)), (.trace, .scaled(let k, .whole)),
        (.diag, .scaled(let k, .whole)), (.diagonal, .scaled(let k, .whole)):
        return .scaled(k, .whole)
      default: return .unknown
      }
    case .opaque(_, let a), .gradient(_, let a), .mapped(_, _, let a):
      return scaling(a) == .invariant ? .invariant : .unknown
    case .differential: return .unknown
    }
  }
}

extension NumpyRenderer {
  /// The exp(A) nodes of `roots` that the code evaluates as exp(A − max A), with the axis of
  /// the maximum: those under which every root is invariant (``Scaling``), as the gradients of
  /// a softmax written in index form are (exp(S) ⊙ (diag(1 ⊘ α) … − α^⊙-2 …) with α = exp(S)𝟏).
  /// A matrix tries the maximum of each row, then of each column, then of all entries.
  static func shiftedExponentials(in roots: [Expr]) -> [Expr: ShiftAxis] {
    var exponentials: [Expr] = []
    var visited = Set<Expr>()
    func collect(_ e: Expr) {
      guard visited.insert(e).inserted else { return }
      if case .call(.exp, let a) = e.node, !a.isScalar { exponentials.append(e) }
      e.forEachChild(collect)
    }
    roots.forEach(collect)
    var shifts: [Expr: ShiftAxis] = [:]
    for exponential in exponentials {
      let shape = exponential.shape
      let axes: [ShiftAxis] =
        shape.isColumn || shape.rows == .one ? [.all] : [.rows, .columns, .all]
      for axis in axes {
        var analysis = ScalingAnalysis(exponential: exponential, axis: axis)
        if roots.allSatisfy({ analysis.scaling($0) == .invariant }) {
          shifts[exponential] = axis
          break
        }
      }
    }
    return shifts
  }

  /// The exp(A) nodes that a sum of products (`terms`, each the factors of one einsum term
  /// and its coefficient) evaluates as exp(A − max A), the maximum of all entries: those
  /// under which every term is invariant (its factors' powers of the scaling add up to 0, as
  /// in (1 / sum(exp(X))) exp(X)_kl).
  static func shiftedExponentials(inTerms terms: [[Expr]]) -> [Expr: ShiftAxis] {
    var exponentials: [Expr] = []
    var visited = Set<Expr>()
    func collect(_ e: Expr) {
      guard visited.insert(e).inserted else { return }
      if case .call(.exp, let a) = e.node, !a.isScalar { exponentials.append(e) }
      e.forEachChild(collect)
    }
    terms.joined().forEach(collect)
    var shifts: [Expr: ShiftAxis] = [:]
    for exponential in exponentials {
      var analysis = ScalingAnalysis(exponential: exponential, axis: .all)
      let invariant = terms.allSatisfy { factors in
        var power = 0.0
        for factor in factors {
          switch analysis.scaling(factor) {
          case .invariant: continue
          case .scaled(let k, .whole): power += k
          default: return false
          }
        }
        return power == 0
      }
      if invariant { shifts[exponential] = .all }
    }
    return shifts
  }

  /// `log(v)` where v sums exp(A) along an axis (exp(A) 𝟏, 𝟏ᵀ exp(A), exp(A)ᵀ 𝟏, sum(exp(A))):
  /// A, the axis summed over as a shift axis, and whether v is the transpose of NumPy's
  /// keepdims sum. The code evaluates it as max A + log Σ exp(A − max A), exactly.
  static func logSumExp(_ e: Expr) -> (argument: Expr, axis: ShiftAxis, transposed: Bool)? {
    guard case .call(.log, let v) = e.node else { return nil }
    func exponent(_ x: Expr) -> Expr? {
      if case .call(.exp, let a) = x.node { return a }
      return nil
    }
    func isOnes(_ x: Expr) -> Bool {
      if case .ones = x.node { return true }
      if case .transpose(let inner) = x.node, case .ones = inner.node { return true }
      return false
    }
    switch v.node {
    case .call(.sum, let x):
      return exponent(x).map { ($0, .all, false) }
    case .chain(let factors) where factors.count == 2:
      let (left, right) = (factors[0], factors[1])
      if isOnes(right), let a = exponent(left) {
        return (a, a.shape.isColumn ? .all : .rows, false)  // exp(A) 𝟏
      }
      if isOnes(left), let a = exponent(right) {
        return (a, a.shape.rows == .one ? .all : .columns, false)  // 𝟏ᵀ exp(A)
      }
      if isOnes(right), case .transpose(let inner) = left.node, let a = exponent(inner) {
        return (a, a.shape.rows == .one ? .all : .columns, true)  // exp(A)ᵀ 𝟏
      }
      return nil
    default: return nil
    }
  }

  /// The text of a stable log-sum-exp of `argument` along `axis` (``logSumExp(_:)``).
  static func logSumExpText(_ argument: String, axis: ShiftAxis, transposed: Bool) -> String {
    let keywords = axis.keywords
    let text =
      "(lambda t: (lambda m: m + np.log(np.sum(np.exp(t - m)\(keywords))))"
      + "(np.max(t\(keywords))))(\(argument))"
    return transposed ? text + ".T" : text
  }

  /// The text of exp(A − max A) (``shiftedExponentials(in:)``).
  static func shiftedExponentialText(_ argument: String, axis: ShiftAxis) -> String {
    "np.exp(\(argument) - np.max(\(argument)\(axis.keywords)))"
  }
}

// MARK: - Stable forms of built-in compositions

extension NumpyRenderer {
  /// The stable form of log(a) where the plain one overflows or loses digits, else `nil`: the
  /// one operand it evaluates and its text given that operand's. log(softmax(t)) = t − max t −
  /// log Σ exp(t − max t); log(σ(t)) = −log(1 + e^(−t)) as `-np.logaddexp(0, -t)` and
  /// log(1 − σ(t)) = log σ(−t) as `-np.logaddexp(0, t)`; log(1 + exp(t)) (softplus) as
  /// `np.logaddexp(0, t)`; log(1 + t) as `np.log1p(t)`; log(xᶜ) as c log x when log x has a
  /// stable form (1 / (1 + exp(−t)) written out) and x is positive by construction (σ, a
  /// softmax, 1 + eᵗ; never 1 + t, whose c log1p(t) is NaN where (1 + t)ᶜ is not).
  static func stableLog(_ a: Expr, positiveOnly: Bool = false)
    -> (operand: Expr, text: (String) -> String)?
  {
    switch a.node {
    case .power(let base, let exponent):
      guard let c = exponent.constantValue, let inner = stableLog(base, positiveOnly: true)
      else { return nil }
      return (inner.operand, { "(\(c) * \(inner.text($0)))" })
    case .call(.softmax, let t):
      return (t, { "(lambda t: t - \(logSumExpText("t", axis: .all, transposed: false)))(\($0))" })
    case .call(.sigmoid, let t):
      return (t, { "(-np.logaddexp(0.0, -(\($0))))" })
    case .add(let terms) where terms.count == 2:
      guard let one = terms.firstIndex(where: { $0.constantValue == 1 }) else { return nil }
      let other = terms[1 - one]
      if case .call(.exp, let t) = other.node { return (t, { "np.logaddexp(0.0, \($0))" }) }
      let (c, base) = other.coefficientAndBase
      if c == -1, case .call(.sigmoid, let t) = base.node {
        return (t, { "(-np.logaddexp(0.0, \($0)))" })
      }
      return positiveOnly ? nil : (other, { "np.log1p(\($0))" })
    default: return nil
    }
  }
}

// MARK: - Positive factors cancelled entry by entry

extension NumpyRenderer {
  /// `roots` with the positive factors of each entry-by-entry product that cancel removed:
  /// x^⊙a ⊙ x^⊙b = x^⊙(a+b), and x^⊙0 = 1, for x > 0 by construction (exp, sums and products of
  /// positive terms), and a row times a column (rᵀ c) read as sum(r ⊙ c) when that cancels.
  /// The gradient of y · log p with p = exp(x) / Σ exp(x) holds (y ⊘ p) ⊙ exp(x) / α: it
  /// becomes y, which stays finite where p underflows to 0. Nothing changes where nothing
  /// cancels.
  static func cancellingPositiveFactors(_ roots: [Expr]) throws -> [Expr] {
    var memo: [Expr: Expr] = [:]
    func walk(_ e: Expr) throws -> Expr {
      if let done = memo[e] { return done }
      let mapped = try e.mappingChildren(walk)
      let result = try cancelled(mapped) ?? mapped
      memo[e] = result
      return result
    }
    return try roots.map(walk)
  }

  /// Whether every entry of `e` is positive by construction.
  private static func isPositive(_ e: Expr) -> Bool {
    switch e.node {
    case .constant(let value): return value > 0
    case .ones: return true
    case .call(.exp, _), .call(.softmax, _), .call(.sigmoid, _): return true
    case .call(.sum, let a), .transpose(let a), .power(let a, _): return isPositive(a)
    case .chain(let factors): return factors.allSatisfy(isPositive)
    case .hadamard(let a, let b), .product(let a, let b): return isPositive(a) && isPositive(b)
    case .add(let terms): return terms.allSatisfy(isPositive)
    default: return false
    }
  }

  /// The factors of an entry-by-entry product (`a ⊙ b`, a scalar times a matrix, a constant
  /// power), each base with its exponent, read `transposed` where asked; `nil` for a power
  /// that cannot be distributed ((a ⊙ b)^½ with a factor of unknown sign).
  private static func factors(
    of e: Expr, exponent: Double, transposed: Bool, into factors: inout [(Expr, Double)],
    coefficient: inout Double
  ) throws {
    switch e.node {
    case .hadamard(let a, let b):
      try Self.factors(
        of: a, exponent: exponent, transposed: transposed, into: &factors,
        coefficient: &coefficient)
      try Self.factors(
        of: b, exponent: exponent, transposed: transposed, into: &factors,
        coefficient: &coefficient)
      return
    case .product(let a, let b) where a.isScalar || b.isScalar:
      try Self.factors(
        of: a, exponent: exponent, transposed: transposed, into: &factors,
        coefficient: &coefficient)
      try Self.factors(
        of: b, exponent: exponent, transposed: transposed, into: &factors,
        coefficient: &coefficient)
      return
    case .power(let a, let p):
      // (a ⊙ b)^c = a^c ⊙ b^c for an integer c, or for positive factors.
      if let c = p.constantValue, c == c.rounded() || isPositive(a) {
        try Self.factors(
          of: a, exponent: exponent * c, transposed: transposed, into: &factors,
          coefficient: &coefficient)
        return
      }
    case .transpose(let a) where !a.isScalar:
      try Self.factors(
        of: a, exponent: exponent, transposed: !transposed, into: &factors,
        coefficient: &coefficient)
      return
    case .constant(let value) where value > 0 || exponent == exponent.rounded():
      coefficient *= Foundation.pow(value, exponent)
      return
    default: break
    }
    factors.append((transposed && !e.isScalar ? try Expr.transpose(e) : e, exponent))
  }

  /// `e` with its cancelling positive factors removed, or `nil` when none cancel.
  private static func cancelled(_ e: Expr) throws -> Expr? {
    var collected: [(Expr, Double)] = []
    var coefficient = 1.0
    var summed = false
    switch e.node {
    case .hadamard, .power:
      try factors(
        of: e, exponent: 1, transposed: false, into: &collected, coefficient: &coefficient)
    case .product(let a, let b) where a.isScalar || b.isScalar:
      try factors(
        of: e, exponent: 1, transposed: false, into: &collected, coefficient: &coefficient)
    case .chain(let pair)
    where pair.count == 2 && pair[0].shape.rows == .one
      && pair[1].shape.cols == .one && pair[1].shape.isColumn:
      // rᵀ c = sum(r ⊙ c): both read as columns.
      try factors(
        of: pair[0], exponent: 1, transposed: true, into: &collected, coefficient: &coefficient)
      try factors(
        of: pair[1], exponent: 1, transposed: false, into: &collected, coefficient: &coefficient)
      summed = true
    default: return nil
    }
    // Positive bases merge; any other factor keeps its place and exponent.
    var order: [Expr] = []
    var exponents: [Expr: Double] = [:]
    var counts: [Expr: Int] = [:]
    var kept: [(Expr, Double)] = []
    for (base, exponent) in collected {
      guard isPositive(base) else {
        kept.append((base, exponent))
        continue
      }
      if exponents[base] == nil { order.append(base) }
      exponents[base, default: 0] += exponent
      counts[base, default: 0] += 1
    }
    guard order.contains(where: { (counts[$0] ?? 0) >= 2 }) else { return nil }
    let merged = order.compactMap { base -> (Expr, Double)? in
      guard let exponent = exponents[base], exponent != 0 else { return nil }
      return (base, exponent)
    }
    var scalars: [Expr] = []
    var entries: [Expr] = []
    for (base, exponent) in merged + kept {
      let factor = try Expr.power(base, Expr.constant(exponent))
      if factor.isScalar { scalars.append(factor) } else { entries.append(factor) }
    }
    let shape = summed ? (entries.first?.shape ?? e.shape) : e.shape
    var result: Expr
    if let first = entries.first {
      result = first
      for entry in entries.dropFirst() { result = try Expr.hadamard(result, entry) }
    } else {
      guard shape.isScalar else { return nil }
      result = Expr.constant(1)
    }
    for scalar in scalars { result = try Expr.multiply(scalar, result) }
    result = try Expr.scale(coefficient, result)
    guard result.shape == shape else { return nil }
    if summed && !result.isScalar { result = try Expr.call(.sum, result) }
    return result.shape == e.shape ? result : nil
  }
}
