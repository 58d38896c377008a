/// One rewrite rule from a file under Rules/: `name: left => right [when …]`.
///
/// Declared names are pattern variables; dimension symbols are per rule and must unify for
/// the rule to fire. A rule whose left side is `d(E)` is a differential rule.
///
/// A class: rules are looked up and handed around at every node the simplifier visits, and
/// copying the fields of a struct each time was a measurable part of a small derivation.
public final class Rule: Sendable, CustomStringConvertible {
  /// What a rule is for.
  public enum Kind: String, Sendable {
    /// `E => E'`, applied by the simplifier.
    case simplification
    /// `d(f(X)) => linear expression in d(X)`, used by differentiation.
    case differential
  }

  /// Domains on which both sides are defined (used to sample inputs when checking).
  public enum Domain: String, Sendable, CaseIterable {
    /// A square matrix with an inverse.
    case invertible
    /// Symmetric positive definite.
    case posdef
    /// Entry-wise positive.
    case positive
    /// Entry-wise nonzero.
    case nonzero
  }

  /// The unique kebab-case name.
  public let name: String
  /// The kind, from the left side.
  public let kind: Kind
  /// The pattern.
  public let left: Expr
  /// The replacement.
  public let right: Expr
  /// Pattern variables by name.
  public let variables: [String: Expr]
  /// Domains of pattern variables.
  public let domains: [(Domain, String)]
  /// The file it came from.
  public let file: String
  /// The line in that file.
  public let line: Int

  init(
    name: String, kind: Kind, left: Expr, right: Expr, variables: [String: Expr],
    domains: [(Domain, String)], file: String, line: Int
  ) {
    self.name = name
    self.kind = kind
    self.left = left
    self.right = right
    self.variables = variables
    self.domains = domains
    self.file = file
    self.line = line
    isElementwise = Self.elementwise(kind, left, variables)
    let patternVariables = Set(variables.values)
    self.patternVariables = patternVariables
    // A chain's rule may apply to a window further along a longer chain: any first factor.
    if kind == .simplification, Self.head(of: left) != .chain,
      let operand = Self.firstOperand(of: left), !patternVariables.contains(operand)
    {
      operandHead = Self.head(of: operand)
    } else {
      operandHead = nil
    }
    reversesChains = Self.reversesChains(left, right, patternVariables)
    if case .chain(let factors) = left.node {
      chainHeads = factors.filter { !patternVariables.contains($0) }.map(Rule.head(of:))
    } else {
      chainHeads = []
    }
  }

  /// For a rule whose left side is a chain, the heads of its factors that are not variables:
  /// a target chain lacking one of them cannot match (checked before any binding is made).
  let chainHeads: [Head]

  /// Whether `target` could match the left side, by ``chainHeads`` alone.
  func mayMatch(_ target: Expr) -> Bool {
    guard !chainHeads.isEmpty, case .chain(let factors) = target.node else { return true }
    return chainHeads.allSatisfy { head in factors.contains { Rule.head(of: $0) == head } }
  }

  /// Whether the rule is `(A B)ᵀ ⇒ Bᵀ Aᵀ` for pattern variables A and B (transpose-product):
  /// the simplifier then reverses a whole chain at once (``Simplifier``).
  let reversesChains: Bool

  private static func reversesChains(_ left: Expr, _ right: Expr, _ variables: Set<Expr>) -> Bool {
    guard case .transpose(let product) = left.node, case .chain(let factors) = product.node,
      factors.count == 2, factors.allSatisfy(variables.contains),
      let reversed = try? Expr.transposedChain(factors)
    else { return false }
    return reversed === right
  }

  /// `file:line`.
  public var location: String { "\(file):\(line)" }

  /// Whether every pattern variable is a scalar and the rule differentiates an element-wise
  /// function: it then applies entry by entry to matrices ("lifted").
  public let isElementwise: Bool
  /// The pattern variables as expressions (a pattern's variable nodes are these).
  let patternVariables: Set<Expr>
  /// The head of a simplification pattern's first operand when that operand is not a
  /// pattern variable (`nil`: any). The matcher pairs operands in order, so a target whose
  /// first operand has another head cannot match: the simplifier turns most candidates
  /// away by this before trying a match.
  let operandHead: Head?

  /// The first operand of `e`, or `nil` for a leaf.
  static func firstOperand(of e: Expr) -> Expr? {
    var first: Expr?
    _ = e.anyChild {
      first = $0
      return true
    }
    return first
  }

  private static func elementwise(_ kind: Kind, _ left: Expr, _ variables: [String: Expr]) -> Bool {
    guard kind == .differential, case .differential(let inner) = left.node else { return false }
    let elementwise: Bool
    switch inner.node {
    case .call(let f, _): elementwise = f.isElementwise
    case .power: elementwise = true
    default: elementwise = false
    }
    return elementwise && variables.values.allSatisfy(\.isScalar)
  }

  /// What the matcher indexes rules by: the kind of the pattern's top node.
  enum Head: Hashable {
    case variable, constant, identity, ones, zero, add, product, chain, hadamard, power, transpose
    case opaque, gradient, mapped, differential
    case call(Function)
  }

  /// The head the matcher indexes rules by.
  var head: Head { Rule.head(of: kind == .differential ? (left.children.first ?? left) : left) }

  static func head(of e: Expr) -> Head {
    switch e.node {
    case .variable: return .variable
    case .constant: return .constant
    case .identity: return .identity
    case .ones: return .ones
    case .zero: return .zero
    case .add: return .add
    case .product: return .product
    case .chain: return .chain
    case .hadamard: return .hadamard
    case .power: return .power
    case .transpose: return .transpose
    case .call(let f, _): return .call(f)
    case .opaque: return .opaque
    case .gradient: return .gradient
    case .mapped: return .mapped
    case .differential: return .differential
    }
  }

  /// `name (file:line)`.
  public var description: String { "\(name) (\(location))" }
}
