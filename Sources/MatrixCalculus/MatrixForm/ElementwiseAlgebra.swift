import Foundation

/// Simplifies entry-by-entry algebra as a rational function: sums, ⊙ products, scalar
/// factors and integer ⊙-powers are multiplied out into monomials over atoms (anything else:
/// σ(z), y, A x, a sum under a negative power), common factors cancel, like monomials
/// combine, and exp(a) ⊘ (1 + exp(a)) is recognised as σ(a). The result replaces the original
/// only when it is smaller as printed, so the logistic loss's gradient
/// `(σ ⊙ (1 − σ)) ⊙ (−y ⊘ σ − (y − 1) ⊘ (1 − σ))` becomes `σ − y`, while `(1 − t^⊙2) ⊙ δ`
/// stays as it is.
struct ElementwiseAlgebra {
  /// One monomial: a coefficient times atoms raised to non-zero integer powers.
  private struct Term {
    var coefficient: Double
    var powers: [Expr: Int]
  }

  /// Expansion stops (and the original is kept) past this many monomials.
  private let limit = 64
  private var memo: [Expr: Expr] = [:]
  private var clusterMemo: [Expr: Expr] = [:]
  private var divisionMemo: [Expr: Bool] = [:]
  private var termMemo: [Expr: [Term]] = [:]
  private var deadline = Deadline()

  private struct TooLarge: Error {}

  /// `e` with every element-wise cluster in its simplest rational form. A cluster (a maximal
  /// tree of sums, ⊙ and scalar products, integer powers) is rewritten as a whole, and only
  /// when it divides (nothing cancels otherwise), so the pass stays linear in the size of `e`.
  mutating func normalized(_ e: Expr) throws -> Expr {
    if let done = memo[e] { return done }
    try deadline.check()
    var result: Expr
    if Self.isCluster(e) {
      let original = try rebuiltCluster(e)
      result = original
      if divides(e), let terms = try? expanded(try self.terms(e)),
        let better = try rebuilt(terms, like: e),
        Presentation.size(better) < Presentation.size(original)
      {
        result = better
      }
    } else {
      result = try e.mappingChildren { try normalized($0) }
    }
    memo[e] = result
    return result
  }

  /// The cluster as written, its atoms normalized.
  private mutating func rebuiltCluster(_ e: Expr) throws -> Expr {
    guard Self.isCluster(e) else { return try normalized(e) }
    if let done = clusterMemo[e] { return done }
    let result = try e.mappingChildren { try rebuiltCluster($0) }
    clusterMemo[e] = result
    return result
  }

  /// Whether the cluster has a negative power (a quotient) outside its atoms.
  private mutating func divides(_ e: Expr) -> Bool {
    guard Self.isCluster(e) else { return false }
    if let known = divisionMemo[e] { return known }
    var answer = false
    if case .power(_, let p) = e.node, let k = Self.integerExponent(p), k < 0 {
      answer = true
    } else {
      answer = e.anyChild { divides($0) }
    }
    divisionMemo[e] = answer
    return answer
  }

  /// The nodes whose entries are rational in their operands' entries.
  private static func isCluster(_ e: Expr) -> Bool {
    switch e.node {
    case .add, .hadamard: return true
    case .product: return true  // a scaling
    case .power(_, let p): return integerExponent(p) != nil
    default: return false
    }
  }

  private static func integerExponent(_ p: Expr) -> Int? {
    guard let value = p.constantValue, value == value.rounded(), abs(value) <= 8, value != 0
    else { return nil }
    return Int(value)
  }

  // MARK: - Monomials

  /// The monomials of `e`, with sums that are factors kept whole (expanded later, so that a
  /// sum can cancel against the same sum under a negative power first).
  private mutating func terms(_ e: Expr) throws -> [Term] {
    if let known = termMemo[e] { return known }
    let result: [Term]
    switch e.node {
    case .constant(let c):
      result = [Term(coefficient: c, powers: [:])]
    case .add(let parts):
      result = try parts.flatMap { try terms($0) }
    case .hadamard(let a, let b):
      result = try multiply(try factor(a), try factor(b))
    case .product(let a, let b) where a.isScalar || b.isScalar:
      result = try multiply(try factor(a), try factor(b))
    case .power(let a, let p):
      if let k = Self.integerExponent(p) {
        if case .add = a.node {
          result = [Term(coefficient: 1, powers: [try normalized(a): k])]
        } else {
          let inner = try terms(a)
          if inner.count == 1, let only = inner.first {
            result = [
              Term(
                coefficient: pow(only.coefficient, Double(k)),
                powers: only.powers.mapValues { $0 * k })
            ]
          } else {
            result = [Term(coefficient: 1, powers: [try normalized(a): k])]
          }
        }
      } else {
        result = [Term(coefficient: 1, powers: [try normalized(e): 1])]
      }
    default:
      result = [Term(coefficient: 1, powers: [try normalized(e): 1])]
    }
    if result.count > limit { throw TooLarge() }
    termMemo[e] = result
    return result
  }

  /// An operand of a product: a sum stays one factor; anything else is its monomials.
  private mutating func factor(_ e: Expr) throws -> [Term] {
    if case .add = e.node { return [Term(coefficient: 1, powers: [try normalized(e): 1])] }
    return try terms(e)
  }

  private static func times(_ a: Term, _ b: Term) -> Term {
    var powers = a.powers
    for (base, k) in b.powers {
      let total = (powers[base] ?? 0) + k
      powers[base] = total == 0 ? nil : total
    }
    return Term(coefficient: a.coefficient * b.coefficient, powers: powers)
  }

  private func multiply(_ a: [Term], _ b: [Term]) throws -> [Term] {
    if a.count * b.count > limit { throw TooLarge() }
    return a.flatMap { x in b.map { Self.times(x, $0) } }
  }

  /// Multiplies out every sum under a positive power, those whose terms can cancel a factor
  /// (they carry negative powers) first; then combines like monomials.
  private mutating func expanded(_ input: [Term]) throws -> [Term] {
    var work = input
    var done: [Term] = []
    while let term = work.popLast() {
      let sums = term.powers.filter { base, k in
        if case .add = base.node { return k > 0 }
        return false
      }.map(\.key).sorted(by: Expr.precedes)
      guard !sums.isEmpty else {
        done.append(term)
        continue
      }
      var chosen = sums[0]
      for sum in sums where try terms(sum).contains(where: { $0.powers.values.contains { $0 < 0 } })
      {
        chosen = sum
        break
      }
      var rest = term
      let k = rest.powers[chosen] ?? 1
      rest.powers[chosen] = k == 1 ? nil : k - 1
      for part in try terms(chosen) { work.append(Self.times(rest, part)) }
      if work.count + done.count > limit { throw TooLarge() }
    }
    return try combined(try done.map(recognisingSigmoid))
  }

  /// exp(a) ⊘ (1 + exp(a)) = σ(a) and 1 ⊘ (1 + exp(a)) = σ(−a).
  private func recognisingSigmoid(_ term: Term) throws -> Term {
    var term = term
    for (base, k) in term.powers where k == -1 {
      guard case .add(let parts) = base.node, parts.count == 2,
        parts.contains(where: { $0.constantValue == 1 }),
        let exponential = parts.first(where: { $0.constantValue != 1 }),
        case .call(.exp, let a) = exponential.node
      else { continue }
      term.powers[base] = nil
      if let j = term.powers[exponential], j >= 1 {
        term.powers[exponential] = j == 1 ? nil : j - 1
        term.powers[try Expr.call(.sigmoid, a), default: 0] += 1
      } else {
        term.powers[try Expr.call(.sigmoid, try -a), default: 0] += 1
      }
    }
    return term
  }

  private func combined(_ terms: [Term]) throws -> [Term] {
    var order: [[Expr: Int]] = []
    var coefficients: [[Expr: Int]: Double] = [:]
    for term in terms {
      if coefficients[term.powers] == nil { order.append(term.powers) }
      coefficients[term.powers, default: 0] += term.coefficient
    }
    // A coefficient that cancels to rounding noise (1/3 · 3 − 1) is zero.
    let scale = coefficients.values.map(abs).max() ?? 0
    return order.compactMap { powers in
      guard let c = coefficients[powers], abs(c) > 1e-12 * scale else { return nil }
      return Term(coefficient: c, powers: powers)
    }
  }

  /// The monomials as an expression shaped like `original`, or nil.
  private func rebuilt(_ terms: [Term], like original: Expr) throws -> Expr? {
    var parts: [Expr] = []
    for term in terms {
      let bases = term.powers.keys.sorted(by: Expr.precedes)
      var scalar: Expr?
      var entrywise: Expr?
      for base in bases {
        guard let k = term.powers[base] else { continue }
        let factor = k == 1 ? base : try Expr.power(base, .constant(Double(k)))
        if factor.isScalar {
          scalar = try scalar.map { try $0 * factor } ?? factor
        } else {
          entrywise = try entrywise.map { try Expr.hadamard($0, factor) } ?? factor
        }
      }
      var value: Expr
      switch (scalar, entrywise) {
      case (let s?, let m?): value = try s * m
      case (let s?, nil): value = s
      case (nil, let m?): value = m
      case (nil, nil): value = .constant(1)
      }
      parts.append(try Expr.scale(term.coefficient, value))
    }
    var result = parts.isEmpty ? try Expr.zero(original.shape) : try Expr.add(parts)
    if result.shape != original.shape {
      guard result.isScalar else { return nil }
      result = try result * Expr.ones(original.shape)
    }
    return result
  }
}
