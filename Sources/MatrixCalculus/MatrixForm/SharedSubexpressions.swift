/// Names the nontrivial subexpressions a printed formula holds more than once, as a textbook
/// does: `(K⁻¹ − α αᵀ) A` where `α = K⁻¹ y`. Product chains are searched for repeated runs of
/// factors, also transposed (`yᵀ K⁻¹ = (K⁻¹ y)ᵀ` for a symmetric K), so α is found inside
/// `K⁻¹ y yᵀ K⁻¹`; other repeated nodes (a sum, a function of a product) are found whole.
/// Exact by construction: a name stands for its value, and the formula over the names is the
/// formula it came from with runs of factors regrouped.
struct SharedSubexpressions {
  /// `variable = value`; a value may use the names before it.
  struct Name {
    var variable: Expr
    var value: Expr
  }

  /// The formula over the names.
  private(set) var formula: Expr
  /// The names, in the order they are defined.
  private(set) var names: [Name] = []

  /// Formulas with more distinct nodes than this are not searched (printed results are small;
  /// a deep network's gradient is named by its backward pass).
  static let nodeLimit = 400
  /// Runs are sought in chains of at most this many factors.
  static let chainLimit = 16

  /// Names up to `spellings.count` subexpressions of `formula`, the most printed size saved
  /// first, each with the next of `spellings` (names the problem does not use), which are
  /// asked for only when something repeats.
  init(_ formula: Expr, spellings: () -> [String]) throws {
    self.formula = formula
    var available: [String]?
    while let (run, flipped) = Self.mostRepeated(in: self.formula),
      let value = try Expr.product(of: run[...])
    {
      let free = available ?? spellings()
      guard names.count < free.count else { break }
      available = free
      let spelling = free[names.count]
      let variable = try Expr.variable(spelling, value.shape, symmetric: value.isSymmetric)
      var replacer = Replacer(
        run: run, flipped: flipped, variable: variable,
        transposed: try variable.transposedForm())
      self.formula = try replacer.replaced(self.formula)
      names.append(Name(variable: variable, value: value))
    }
  }

  /// A matrix product of non-scalars, read as its chain of factors.
  private static func isChain(_ e: Expr) -> Bool {
    if case .chain = e.node { return true }
    return false
  }

  /// What a formula is made of: a chain's factors, any other node's children.
  private static func parts(_ e: Expr) -> [Expr] {
    isChain(e) ? e.matrixFactors : e.children
  }

  /// Whether naming `run` can make the formula read more easily: two or more factors, not
  /// just two names (`x xᵀ` stays); or one node that is a sum, a Hadamard product, or a
  /// function of more than a name.
  private static func isNontrivial(_ run: [Expr]) -> Bool {
    func isBare(_ e: Expr) -> Bool {
      switch e.node {
      case .variable, .constant, .identity, .ones, .zero: return true
      case .transpose(let a): return isBare(a)
      default: return false
      }
    }
    if run.count >= 3 { return true }
    if run.count == 2 { return !run.allSatisfy(isBare) }
    guard let only = run.first, !only.holdsDifferential else { return false }
    switch only.node {
    case .add, .hadamard: return true
    case .call(_, let a), .power(let a, _), .mapped(_, _, let a): return !isBare(a)
    default: return false
    }
  }

  /// The run of factors (or single node) that occurs most often times its printed size, at
  /// least twice, with its transpose; `nil` when nothing repeats.
  private static func mostRepeated(in formula: Expr) -> (run: [Expr], flipped: [Expr])? {
    // Distinct nodes, children before parents. Nothing can repeat unless a node other than a
    // name is reached twice or two chain factors share a name up to transposes and inverses
    // (yᵀ and y): most formulas stop here.
    let walk = Walk(formula)
    if walk.tooLarge || !walk.mayRepeat { return nil }
    let order = walk.order
    // How often each occurs as printed.
    var occurrences: [Expr: Int] = [formula: 1]
    for e in order.reversed() {
      let count = occurrences[e] ?? 0
      for part in parts(e) { occurrences[part, default: 0] += count }
    }
    // Each run (read in the orientation printed more naturally) with its count, in order met.
    var position: [Run: Int] = [:]
    var met: [(run: [Expr], flipped: [Expr], count: Int)] = []
    func count(_ run: [Expr], _ flipped: [Expr], _ times: Int) {
      let key = Run(factors: run)
      if let index = position[key] {
        met[index].count += times
      } else {
        position[key] = met.count
        met.append((run, flipped, times))
      }
    }
    for e in order {
      let times = occurrences[e] ?? 0
      guard isChain(e) else {
        if times >= 2 && isNontrivial([e]) { count([e], [], times) }
        continue
      }
      let factors = e.matrixFactors
      guard factors.count <= chainLimit,
        let flippedFactors = try? factors.map({ try $0.transposedForm() })
      else { continue }
      // A run and its transpose are one key; occurrences in one chain do not overlap.
      var end: [Run: Int] = [:]
      for start in factors.indices {
        for length in 2...max(2, factors.count - start) where start + length <= factors.count {
          let run = Array(factors[start..<start + length])
          let flipped = Array(flippedFactors[start..<start + length].reversed())
          let key = preferred(run, flipped)
          let other = key == run ? flipped : run
          guard isNontrivial(key) else { continue }
          let keyRun = Run(factors: key)
          guard (end[keyRun] ?? 0) <= start else { continue }
          end[keyRun] = start + length
          count(key, other, times)
        }
      }
    }
    var best: (run: [Expr], flipped: [Expr], saving: Int)?
    for entry in met where entry.count >= 2 {
      let saving = (entry.count - 1) * entry.run.reduce(0) { $0 + Presentation.size($1) }
      if saving > (best?.saving ?? 0) { best = (entry.run, entry.flipped, saving) }
    }
    guard let best else { return nil }
    return (best.run, best.flipped)
  }

  /// The distinct nodes of a formula, children before parents, up to ``nodeLimit``; a
  /// struct rather than nested functions, whose captured variables are boxed and checked for
  /// exclusive access on every use.
  private struct Walk {
    private(set) var order: [Expr] = []
    private var seen = Set<Expr>(minimumCapacity: 32)
    private var stems = Set<Expr>(minimumCapacity: 16)
    private(set) var mayRepeat = false
    private(set) var tooLarge = false

    init(_ formula: Expr) {
      order.reserveCapacity(32)
      visit(formula)
    }

    private static func stem(_ e: Expr) -> Expr {
      switch e.node {
      case .transpose(let a), .call(.inverse, let a): return stem(a)
      default: return e
      }
    }

    private mutating func visit(_ e: Expr) {
      guard !tooLarge else { return }
      guard seen.insert(e).inserted else {
        if e.anyChild({ _ in true }) { mayRepeat = true }
        return
      }
      if seen.count > SharedSubexpressions.nodeLimit {
        tooLarge = true
        return
      }
      if SharedSubexpressions.isChain(e) {
        for factor in e.matrixFactors {
          if !stems.insert(Self.stem(factor)).inserted { mayRepeat = true }
          visit(factor)
        }
      } else {
        e.forEachChild { visit($0) }
      }
      order.append(e)
    }
  }

  /// A run of factors as a hash key: the factors' identities mixed one after another (an
  /// array of expressions would feed each one through SipHash).
  private struct Run: Hashable {
    let factors: [Expr]

    static func == (lhs: Run, rhs: Run) -> Bool { lhs.factors == rhs.factors }

    func hash(into hasher: inout Hasher) {
      for factor in factors { hasher.combine(factor) }
    }

    func _rawHashValue(seed: Int) -> Int {
      var hash = seed ^ factors.count
      for factor in factors { hash = factor._rawHashValue(seed: hash) }
      return hash
    }
  }

  /// Of a run and its transpose, the one a textbook names: a column rather than a row
  /// (`K⁻¹ y`, not `yᵀ K⁻¹`), else the one with fewer transposes.
  private static func preferred(_ run: [Expr], _ flipped: [Expr]) -> [Expr] {
    guard run != flipped, let first = run.first, let last = run.last else { return run }
    if first.shape.rows == .one && last.shape.cols != .one { return flipped }
    if last.shape.cols == .one && first.shape.rows != .one { return run }
    func transposes(_ factors: [Expr]) -> Int {
      factors.reduce(0) { count, factor in
        if case .transpose = factor.node { return count + 1 }
        return count
      }
    }
    return transposes(flipped) < transposes(run) ? flipped : run
  }

  /// Puts the name wherever its run (or its transpose) occurs.
  private struct Replacer {
    let run: [Expr]
    let flipped: [Expr]
    let variable: Expr
    let transposed: Expr
    var memo: [Expr: Expr] = [:]

    mutating func replaced(_ e: Expr) throws -> Expr {
      if let done = memo[e] { return done }
      let result: Expr
      if run.count == 1 && e === run[0] {
        result = variable
      } else if SharedSubexpressions.isChain(e) {
        let factors = e.matrixFactors
        var rebuilt: [Expr] = []
        var index = 0
        while index < factors.count {
          let end = index + run.count
          if run.count >= 2 && end <= factors.count && Array(factors[index..<end]) == run {
            rebuilt.append(variable)
            index = end
          } else if run.count >= 2 && end <= factors.count
            && Array(factors[index..<end]) == flipped
          {
            rebuilt.append(transposed)
            index = end
          } else {
            rebuilt.append(try replaced(factors[index]))
            index += 1
          }
        }
        result = try Expr.product(of: rebuilt[...]) ?? e
      } else {
        result = try e.mappingChildren { try replaced($0) }
      }
      memo[e] = result
      return result
    }
  }
}
