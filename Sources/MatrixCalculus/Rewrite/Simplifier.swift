/// One applied rule: what `--steps` prints by rule name.
public struct Step: Sendable, CustomStringConvertible {
  /// The rule's name (or a built-in step's name).
  public var rule: String
  /// The expression before.
  public var before: Expr
  /// The expression after.
  public var after: Expr

  /// `rule: before ⇒ after`.
  public var description: String { "\(rule): \(before) => \(after)" }
}

/// How a fixpoint ended.
enum FixpointOutcome: Sendable, Equatable {
  /// No rule applies any more.
  case saturated
  /// The limit was reached with rules still applying.
  case iterationLimit(Int)
}

/// Applies the simplification rules bottom up (post-walk) until nothing changes, through the
/// canonical constructors. Every rewrite is recorded as a ``Step``.
struct Simplifier {
  let rules: RuleSet
  var limit = 64
  private(set) var steps: [Step] = []
  private(set) var outcome = FixpointOutcome.saturated
  private var memo: [Expr: Expr] = [:]
  private var deadline = Deadline()

  init(rules: RuleSet) {
    self.rules = rules
    // Room for a derivation's worth of nodes at once, not grown (and rehashed) step by step.
    memo.reserveCapacity(64)
  }

  /// `e` over simplified children. The canonical constructors may build nodes of their own
  /// while rebuilding (a chain whose factor became a chain is flattened, a scaling moves to
  /// the front), so the rebuilt node's children are simplified again until they stay.
  private mutating func withSimplifiedChildren(_ e: Expr) throws -> Expr {
    var current = e
    for _ in 0..<4 {
      let next = try current.mappingChildren { try simplified($0) }
      if next === current { break }
      current = next
    }
    return current
  }

  mutating func simplified(_ e: Expr) throws -> Expr {
    if let done = memo[e] { return done }
    try deadline.check()
    var current = try withSimplifiedChildren(e)
    var rounds = 0
    rewriting: while rounds < limit {
      rounds += 1
      let operandHead = Rule.firstOperand(of: current).map(Rule.head(of:))
      for rule in rules.candidates(.simplification, for: current) where rule.mayMatch(current) {
        if let head = rule.operandHead, head != operandHead { continue }
        let matcher = Matcher(rule)
        let next: Expr
        if rule.reversesChains, case .transpose(let inner) = current.node,
          case .chain(let factors) = inner.node
        {
          // (F₁ ⋯ Fₖ)ᵀ = Fₖᵀ ⋯ F₁ᵀ in one pass: the rule itself would match A = F₁ ⋯ Fₖ₋₁,
          // then rewrite (F₁ ⋯ Fₖ₋₁)ᵀ again, k − 1 times, each building a chain of up to k
          // factors (quadratic, and as deep as the chain is long).
          next = try Expr.transposedChain(factors) ?? current
        } else if let bindings = matcher.match(rule.left, current) {
          next = try matcher.instantiate(rule.right, bindings)
        } else if let (bindings, window) = matcher.matchWindow(rule.left, current) {
          // A chain rule rewrites a window of a longer chain: L P R ⇒ L P′ R.
          let factors = current.matrixFactors
          let replaced = try matcher.instantiate(rule.right, bindings)
          next =
            try Expr.product(
              of: factors[..<window.lowerBound] + [replaced] + factors[window.upperBound...])
            ?? replaced
        } else {
          continue
        }
        guard next.shape == current.shape else {
          throw MatcalcError.internalError("rule \(rule.name) changed the shape of \(current)")
        }
        steps.append(Step(rule: rule.name, before: current, after: next))
        // The result's children may now simplify further.
        current = try withSimplifiedChildren(next)
        continue rewriting
      }
      break
    }
    if rounds >= limit { outcome = .iterationLimit(limit) }
    memo[e] = current
    // The result is a fixpoint: simplifying it again (as part of a larger expression) is free.
    memo[current] = current
    return current
  }
}
