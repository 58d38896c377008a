/// Puts a derived matrix formula in the form a person would write: common factors pulled
/// out of sums (`A x + Aᵀ x = (A + Aᵀ) x`) and defined names used where their bodies occur
/// (`1 − tanh(z)^⊙2` becomes `1 − y^⊙2` when `y = tanh(z)`).
struct Presentation {
  private var foldMemo: [Expr: Expr] = [:]
  private var factorMemo: [Expr: Expr] = [:]
  private let names: [Expr: Expr]
  private var algebra = ElementwiseAlgebra()
  private var foldedTransposes: [Expr: Expr] = [:]
  /// Token counts of the candidates compared while factoring, each node counted once.
  private var tokens = PlainSpelling.TokenCounter()
  private var distributeMemo: [Expr: Expr] = [:]
  /// Transposes single factors for ``transposesFolded(_:)`` (`(S⁻¹)ᵀ = S⁻¹` for a symmetric S).
  private var simplifier: Simplifier?
  /// What the printed form is chosen by.
  private var cost = PrintedSize()

  /// - Parameter definitions: body (as written and as simplified) → the defined name.
  init(definitions: [(body: Expr, variable: Expr)]) {
    var names: [Expr: Expr] = [:]
    for definition in definitions where names[definition.body] == nil {
      if case .variable = definition.body.node { continue }
      names[definition.body] = definition.variable
    }
    self.names = names
  }

  /// Folds every definition of `problem` back to its name, whether its body appears as
  /// written or as simplified.
  init(problem: Problem, rules: RuleSet) throws {
    var simplifier = Simplifier(rules: rules)
    var folding: [(body: Expr, variable: Expr)] = []
    for definition in problem.definitions {
      folding.append((definition.body, definition.variable))
      folding.append((try simplifier.simplified(definition.body), definition.variable))
    }
    self.init(definitions: folding)
    self.simplifier = simplifier
  }

  /// Makes every subexpression of `e` familiar to the reader (the objective's): among
  /// printed forms of equal size, the one that reuses them is chosen.
  mutating func makeFamiliar(_ e: Expr) {
    // Collected when a cost is first compared: most derivations never compare one.
    unfamiliar.append(e)
  }

  /// Objectives given to ``makeFamiliar(_:)`` whose subexpressions are not yet in ``cost``.
  private var unfamiliar: [Expr] = []

  /// ``cost``'s totals computed so far; valid until more subexpressions are made familiar.
  private var costMemo: [Expr: Double] = [:]

  /// `cost.total(e)` with every subexpression of the objectives made familiar, each subtree
  /// summed once per derivation (a node's total is its local cost plus its children's, in
  /// the order ``ExpressionCost/total(_:)`` adds them).
  private mutating func printedCost(_ e: Expr) -> Double {
    if !unfamiliar.isEmpty {
      func insert(_ e: Expr) {
        guard cost.familiar.insert(e).inserted else { return }
        e.forEachChild(insert)
      }
      unfamiliar.forEach(insert)
      unfamiliar = []
      costMemo = [:]
    }
    return Self.total(e, cost, &costMemo)
  }

  private static func total(_ e: Expr, _ cost: PrintedSize, _ memo: inout [Expr: Double])
    -> Double
  {
    if let known = memo[e] { return known }
    var sum = cost.local(e)
    e.forEachChild { sum += total($0, cost, &memo) }
    memo[e] = sum
    return sum
  }

  /// The node count as printed (``Expr/treeSize``).
  private func printedSize(_ e: Expr) -> Int { e.treeSize }

  /// The printed size: tokens in the input language (``PlainSpelling/tokenCount(_:)``, `−2 a`
  /// one more than `2 a`), ties broken by nodes (`(A + Aᵀ) x` before `A x + Aᵀ x`, both eight
  /// tokens); shared subtrees counted each time printed, capped.
  static func size(_ e: Expr) -> Int {
    PlainSpelling.tokenCount(e) * nodeWeight + min(nodeWeight - 1, e.treeSize)
  }

  /// A token outweighs any number of nodes below this.
  private static let nodeWeight = 1 << 12

  /// The presented form: folded (so `sigmoid(z)` and its name `a` are one atom), element-wise
  /// algebra simplified, then factored.
  mutating func presented(_ e: Expr) throws -> Expr {
    let factored = try factored(try distributed(try algebra.normalized(try folded(onSimplex(e)))))
    return try transposesFolded(try Self.signAbsorbed(factored) ?? factored)
  }

  /// A sum times a quotient distributed where that prints smaller: (Σ Tᵢ) v = Σ Tᵢ v, with
  /// diag(x) v = x ⊙ v and xᵀ v = sum(x ⊙ v), so that entry-wise algebra cancels
  /// ((diag(s) − s sᵀ)(y ⊘ s) = y − s sum(y), the softmax Jacobian on the cross-entropy's
  /// adjoint). Only a column v that is a ⊙ product or a power is tried.
  mutating func distributed(_ e: Expr) throws -> Expr {
    // Only a chain through a matrix sum is rewritten: a subtree without one comes back as it is.
    guard e.holdsMatrixSum else { return e }
    if let done = distributeMemo[e] { return done }
    var result = try e.mappingChildren { try distributed($0) }
    if case .chain(let factors) = result.node, let k = Self.sumBeforeQuotient(in: factors),
      case .add(let terms) = factors[k].node,
      terms.allSatisfy({ $0.shape == factors[k].shape })  // no 1×1 term broadcast
    {
      let v = factors[k + 1]
      var distributedTerms: [Expr] = []
      for term in terms {
        let (c, base) = term.coefficientAndBase
        var chain = base.matrixFactors
        let last = chain.removeLast()
        var applied: Expr
        if case .call(.diag, let x) = last.node {  // diag(x) v = x ⊙ v
          applied = try Expr.hadamard(x, v)
          if let rest = try Expr.product(of: chain[...]) { applied = try rest * applied }
        } else if case .transpose(let x) = last.node, x.shape.cols == .one {
          // (R xᵀ) v = R sum(x ⊙ v)
          applied = try Expr.call(.sum, try Expr.hadamard(x, v))
          if let rest = try Expr.product(of: chain[...]) {
            applied = try Expr.multiply(applied, rest)
          }
        } else {
          applied = try base * v
        }
        distributedTerms.append(try Expr.scale(c, applied))
      }
      let sum = try onSimplex(try algebra.normalized(try Expr.add(distributedTerms)))
      let chain = Array(factors[..<k]) + [sum] + Array(factors[(k + 2)...])
      if let candidate = try Expr.product(of: chain[...]),
        printedSize(candidate) < printedSize(result)
      {
        result = candidate
      }
    }
    distributeMemo[e] = result
    return result
  }

  /// The first factor of a chain that is a sum followed by a column that is a ⊙ product or a
  /// power, what ``distributed(_:)`` rewrites, or `nil`.
  private static func sumBeforeQuotient(in factors: [Expr]) -> Int? {
    factors.indices.dropLast().first { index in
      let next = factors[index + 1]
      guard case .add = factors[index].node, next.shape.cols == .one else { return false }
      switch next.node {
      case .hadamard, .power: return true
      default: return false
      }
    }
  }

  /// Sums of transposes folded back into a transposed sum where that prints smaller
  /// (``cost``): `xᵀ − μᵀ = (x − μ)ᵀ`, `Tᵀ − V Uᵀ = (T − U Vᵀ)ᵀ`. The rules push transposes
  /// into sums, (A + C)ᵀ = Aᵀ + Cᵀ (The Matrix Cookbook (5)), in one direction only; this
  /// chooses between the two by cost, all the terms folded or only those whose transpose
  /// is smaller.
  mutating func transposesFolded(_ e: Expr) throws -> Expr {
    // Only a matrix sum is rewritten: a subtree without one comes back as it is.
    guard e.holdsMatrixSum else { return e }
    if let done = foldedTransposes[e] { return done }
    var result = try e.mappingChildren { try transposesFolded($0) }
    if case .add(let terms) = result.node, !result.isScalar,
      terms.contains(where: Self.holdsTranspose)
    {
      let flipped = try terms.map { try transposed($0) }
      let whole = try Expr.add(flipped)
      var candidates: [Expr] = []
      // Terms whose flips are the same terms reordered (`A + Aᵀ`) sum to the sum itself,
      // and its transpose prints larger.
      if whole != result { candidates.append(try Expr.transpose(whole)) }
      let smaller = terms.indices.filter { printedCost(flipped[$0]) < printedCost(terms[$0]) }
      if smaller.count >= 2 && smaller.count < terms.count {
        let rest = terms.indices.filter { !smaller.contains($0) }.map { terms[$0] }
        let inner = try Expr.add(smaller.map { flipped[$0] })
        candidates.append(try Expr.add(rest + [try Expr.transpose(inner)]))
      }
      if !candidates.isEmpty {
        var best = printedCost(result)
        for candidate in candidates {
          let candidateCost = printedCost(candidate)
          if candidateCost < best {
            result = candidate
            best = candidateCost
          }
        }
      }
    }
    foldedTransposes[e] = result
    return result
  }

  /// Whether a term of a sum is a transpose or a product with a transposed factor.
  private static func holdsTranspose(_ term: Expr) -> Bool {
    term.coefficientAndBase.1.matrixFactors.contains {
      if case .transpose = $0.node { return true }
      if case .product(let s, let m) = $0.node, s.isScalar, case .transpose = m.node {
        return true
      }
      return false
    }
  }

  /// `tᵀ` for a term of a sum: scalars stay in front, a product chain reverses with each
  /// factor transposed, a transposed factor loses its transpose, a sum keeps its own.
  private mutating func transposed(_ term: Expr) throws -> Expr {
    if term.isScalar { return term }
    if case .product(let s, let m) = term.node, s.isScalar { return try s * transposed(m) }
    let factors = term.matrixFactors
    guard factors.count == 1 else {
      var flipped: [Expr] = []
      for factor in factors.reversed() { flipped.append(try transposed(factor)) }
      return try Expr.product(of: flipped[...]) ?? term
    }
    switch term.node {
    case .transpose(let inner): return inner
    case .add: return try Expr.transpose(term)
    default:
      let plain = try Expr.transpose(term)
      return try simplifier?.simplified(plain) ?? plain
    }
  }

  /// sum(y) = 1 for every `y : simplex(n)` that is not the variable (the derivative by y
  /// itself is taken in the ambient space, where sum(y) varies).
  var simplexSums: [Expr: Expr] = [:]

  /// A variable declared `symmetric(n)` but differentiated with every entry independent →
  /// the symmetric name: the result is evaluated at a symmetric point, where Sᵀ = S, so it
  /// prints S⁻¹ for S⁻ᵀ. Applied to results only, never before differentiating.
  var symmetricAtPoint: [Expr: Expr] = [:]

  /// `e` with the identities that hold where it is evaluated: sum(y) = 1 on the simplex, and
  /// Sᵀ = S for a symmetric variable (``symmetricAtPoint``).
  func atPoint(_ e: Expr) throws -> Expr {
    symmetricAtPoint.isEmpty ? e : try e.substituting(symmetricAtPoint)
  }

  private func onSimplex(_ e: Expr) throws -> Expr {
    let symmetric = try atPoint(e)
    return simplexSums.isEmpty ? symmetric : try symmetric.substituting(simplexSums)
  }

  /// Replaces every subexpression that is the body of a definition by its name.
  mutating func folded(_ e: Expr) throws -> Expr {
    if names.isEmpty { return e }  // no definitions: nothing to fold
    if let done = foldMemo[e] { return done }
    if let name = names[e] {
      foldMemo[e] = name
      return name
    }
    var result = try e.mappingChildren { try folded($0) }
    if let name = names[result] { result = name }
    foldMemo[e] = result
    return result
  }

  /// Pulls a common right factor, then a common left factor, out of the terms of sums,
  /// wherever that makes the expression smaller.
  mutating func factored(_ e: Expr) throws -> Expr {
    if let done = factorMemo[e] { return done }
    var result = try e.mappingChildren { try factored($0) }
    if let rotated = try Self.traceRotated(result) { result = rotated }
    if let absorbed = try Self.coefficientAbsorbed(result),
      printedSize(absorbed) < printedSize(result)
    {
      result = absorbed
    }
    if case .add(let terms) = result.node {
      for side in [true, false] {
        if let better = try Self.factorOut(terms, right: side),
          printedSize(better) < printedSize(result)
        {
          result = try factored(better)
          break
        }
      }
    }
    if let pulled = try Self.constantPulled(result), tokens.count(pulled) < tokens.count(result) {
      result = pulled
    }
    factorMemo[e] = result
    return result
  }

  /// `e` with a constant common to the terms of a sum pulled out of it, the sum `e` or its
  /// operands (`(1 − a^⊙2) ⊙ (2 a − 2 y) = 2 (1 − a^⊙2) ⊙ (a − y)`; the constructors move the
  /// constant in front of a product), or `nil` when no sum has one. Chosen by printed tokens,
  /// where `2 (a − y)` is smaller than `(2 a − 2 y)` and `−2 a` larger than `2 a`.
  private static func constantPulled(_ e: Expr) throws -> Expr? {
    if let pulled = try sumConstantPulled(e) { return pulled }
    guard e.anyChild({ if case .add = $0.node { true } else { false } }) else { return nil }
    var changed = false
    let mapped = try e.mappingChildren { child in
      guard let pulled = try sumConstantPulled(child) else { return child }
      changed = true
      return pulled
    }
    return changed ? mapped : nil
  }

  /// `Σ cᵢ Tᵢ = c Σ (cᵢ/c) Tᵢ` for the smallest |cᵢ| ≠ 1 when every cᵢ/c is a whole number
  /// (negative when every cᵢ is), or `nil`.
  private static func sumConstantPulled(_ e: Expr) throws -> Expr? {
    guard case .add(let terms) = e.node else { return nil }
    let coefficients = terms.map(\.coefficientAndBase.0)
    guard let smallest = coefficients.map(abs).min(), smallest != 1, smallest > 0 else {
      return nil
    }
    let c = coefficients.allSatisfy { $0 < 0 } ? -smallest : smallest
    guard coefficients.allSatisfy({ ($0 / c).rounded() == $0 / c }) else { return nil }
    // Interned as it is: `scale` would distribute c back over the terms.
    let sum = try Expr.add(terms.map { try Expr.scale(1 / c, $0) })
    return try ExprPool.intern(.product(Expr.constant(c), sum))
  }

  /// `tr(P u vᵀ Q) = vᵀ Q P u` (the trace is cyclic): the trace of a chain through a column
  /// vector is a scalar product, printed without the trace; `nil` for anything else.
  private static func traceRotated(_ e: Expr) throws -> Expr? {
    guard case .call(.trace, let chain) = e.node else { return nil }
    let factors = chain.matrixFactors
    guard let column = factors.dropLast().firstIndex(where: { $0.shape.cols == .one }) else {
      return nil
    }
    return try Expr.product(of: factors[(column + 1)...] + factors[...column])
  }

  /// `c (a S + b T) M = (c a S + c b T) M`: a constant moved into the first sum of a product
  /// chain (`2 (0.5 K⁻¹ − 0.5 K⁻¹ y yᵀ K⁻¹) A` is `(K⁻¹ − K⁻¹ y yᵀ K⁻¹) A`), or `nil`.
  private static func coefficientAbsorbed(_ e: Expr) throws -> Expr? {
    guard case .product(let c, let rest) = e.node, let value = c.constantValue else { return nil }
    var factors = rest.matrixFactors
    guard
      let position = factors.firstIndex(where: { if case .add = $0.node { true } else { false } }),
      case .add(let terms) = factors[position].node
    else { return nil }
    // Absorbing c drops its two nodes, gives each term with coefficient 1 two (c and the
    // product), and takes two from each term whose coefficient c cancels: smaller only when
    // no more terms gain than cancel, so most candidates need not be built and measured.
    // (A constant term stays one node.)
    var change = -2
    for term in terms where term.constantValue == nil {
      let coefficient = term.coefficientAndBase.0
      if coefficient == 1 { change += 2 } else if coefficient * value == 1 { change -= 2 }
    }
    guard change <= 0 else { return nil }
    factors[position] = try Expr.scale(value, factors[position])
    return try Expr.product(of: factors[...])
  }

  /// `−c (S − T) M = c (T − S) M`: the result's negative coefficient absorbed by the first sum
  /// of its chain that has terms of both signs (it prints as many terms and signs either way,
  /// and the leading minus goes), or `nil`. Only for the whole result: inside a sum the minus
  /// is the sign between terms and costs nothing.
  private static func signAbsorbed(_ e: Expr) throws -> Expr? {
    guard case .product(let c, let rest) = e.node, let value = c.constantValue, value < 0 else {
      return nil
    }
    var factors = rest.matrixFactors
    guard
      let position = factors.firstIndex(where: { factor in
        guard case .add(let terms) = factor.node else { return false }
        let negative = terms.filter { $0.coefficientAndBase.0 < 0 }.count
        return negative > 0 && negative < terms.count
      })
    else { return nil }
    factors[position] = try Expr.scale(-1, factors[position])
    return try Expr.scale(-value, try Expr.product(of: factors[...]) ?? rest)
  }

  private static func factorOut(_ terms: [Expr], right: Bool) throws -> Expr? {
    var groups: [Expr: [Int]] = [:]
    var order: [Expr] = []
    let split = terms.map { term -> (Double, [Expr]) in
      let (c, base) = term.coefficientAndBase
      return (c, base.matrixFactors)
    }
    for (index, (_, factors)) in split.enumerated() where factors.count >= 2 {
      guard let key = right ? factors.last : factors.first else { continue }
      if groups[key] == nil { order.append(key) }
      groups[key, default: []].append(index)
    }
    // Terms sharing the factor are combined only where what is left of them has one shape:
    // s K + M K with a 1×1 s is (s I + M) K, never (s + M) K, whose sum would spread s over
    // every entry (a scalar subtracted from a vector, ‖A x − xᵀ x‖²).
    var members: [Int] = []
    var key: Expr?
    var inner: [Expr] = []
    for candidate in order where (groups[candidate]?.count ?? 0) >= 2 {
      var rests: [(index: Int, rest: Expr)] = []
      for index in groups[candidate] ?? [] {
        let (c, factors) = split[index]
        let rest = right ? factors.dropLast() : factors.dropFirst()
        guard let restProduct = try Expr.product(of: rest) else { return nil }
        rests.append((index, try Expr.scale(c, restProduct)))
      }
      guard let shape = rests.first(where: { !$0.rest.isScalar })?.rest.shape else { continue }
      let alike = rests.filter { !$0.rest.isScalar && $0.rest.shape == shape }
      if alike.count >= 2 {
        members = alike.map(\.index)
        inner = alike.map(\.rest)
        key = candidate
        break
      }
    }
    guard let key else { return nil }
    // A constant common to the inner terms goes in front: −2 (S + T) M, not (−2 S − 2 T) M.
    let sum = try Expr.add(inner)
    let factor = try sumConstantPulled(sum) ?? sum
    let combined = right ? try factor * key : try key * factor
    var remaining = terms.indices.filter { !members.contains($0) }.map { terms[$0] }
    remaining.append(combined)
    return try Expr.add(remaining)
  }
}
