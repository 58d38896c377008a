import Synchronization

/// An operation applied entry by entry, `f(Z)_ij = f(Z_ij)`: either opaque (`f : elementwise`,
/// known by its name only, its derivatives `f′`, `f″` symbols too) or defined by its meaning
/// over a scalar parameter, in the problem or in `Rules/functions.rules`
/// (`sp(t) = log(1 + exp(t))`). A defined operation's derivatives are derived from its meaning
/// by the engine, once, and print in the function's own terms (sp′ is `sigmoid`).
public struct ElementwiseOperation: Hashable, Sendable, CustomStringConvertible {
  /// The name as written.
  public let name: String
  /// The meaning, or nil for an opaque function.
  let meaning: Meaning?

  /// An opaque function of this name.
  init(opaque name: String) {
    self.name = name
    meaning = nil
  }

  /// A function defined as `name(parameter) = body`.
  init(name: String, parameter: Expr, body: Expr) {
    self.name = name
    meaning = Meaning(parameter: parameter, body: body)
  }

  /// The name.
  public var description: String { name }

  /// Whether the function is defined by its meaning (not opaque).
  public var isDefined: Bool { meaning != nil }

  /// Same name and same meaning (the one definition object).
  public static func == (lhs: ElementwiseOperation, rhs: ElementwiseOperation) -> Bool {
    lhs.name == rhs.name && lhs.meaning === rhs.meaning
  }

  /// Hashes the name (the meaning is compared by identity).
  public func hash(into hasher: inout Hasher) { hasher.combine(name) }

  /// `f(t) = body` over the 1×1 variable `parameter`, with its derivatives by t, derived when
  /// first asked for (``derivative(_:derive:)``) and kept.
  final class Meaning: Sendable {
    let parameter: Expr
    let body: Expr
    /// The body's height with every defined function it calls written out: f₁(t) = f₀(f₀(t))
    /// twice f₀'s. Its values and derivatives nest this deep.
    let expandedHeight: Int
    private let derivatives = Mutex<[DerivativeKey: Expr]>([:])

    /// A derivative's order and the rules it was derived with (``RuleSet`` identities).
    struct DerivativeKey: Hashable {
      let order: Int
      let rules: Int
    }

    init(parameter: Expr, body: Expr) {
      self.parameter = parameter
      self.body = body
      var memo: [Expr: Int] = [:]
      func expanded(_ e: Expr) -> Int {
        if let known = memo[e] { return known }
        var height = 1
        if case .mapped(let f, _, let a) = e.node {
          height = (f.meaning?.expandedHeight ?? 1) + expanded(a)
        } else {
          e.forEachChild { height = max(height, 1 + expanded($0)) }
        }
        memo[e] = height
        return height
      }
      expandedHeight = expanded(body)
    }

    /// `dᵏf/dtᵏ` over the parameter, derived by `derive` (d/dt of the previous order) the
    /// first time it is asked for with the rules identified by `rules`.
    func derivative(_ order: Int, rules: Int, derive: (Expr, Expr) throws -> Expr) throws
      -> Expr
    {
      if order == 0 { return body }
      let key = DerivativeKey(order: order, rules: rules)
      if let known = derivatives.withLock({ $0[key] }) { return known }
      let previous = try derivative(order - 1, rules: rules, derive: derive)
      let made = try derive(previous, parameter)
      derivatives.withLock { $0[key] = made }
      return made
    }
  }
}

extension ElementwiseOperation {
  /// `f(Z)` by its meaning, entry by entry (``lifted(_:parameter:to:)`` of the body), or nil
  /// for an opaque function.
  func applied(to argument: Expr) throws -> Expr? {
    guard let meaning else { return nil }
    return try Self.lifted(meaning.body, parameter: meaning.parameter, to: argument)
  }

  /// `body` with the parameter replaced by `argument` entry by entry: `t·σ(t)` at Z is
  /// `Z ⊙ σ(Z)`. The body is a scalar formula in the parameter, so each product of two parts
  /// that both depend on it becomes an entry-wise product, and everything else keeps its
  /// meaning (a 1×1 part is added to, or multiplies, every entry).
  static func lifted(_ body: Expr, parameter: Expr, to argument: Expr) throws -> Expr {
    var memo: [Expr: Expr] = [:]
    func lift(_ e: Expr) throws -> Expr {
      if e === parameter { return argument }
      if let done = memo[e] { return done }
      let result: Expr
      switch e.node {
      case .constant, .variable, .identity, .ones, .zero, .differential, .opaque, .gradient:
        result = e
      case .add(let terms): result = try Expr.add(terms.map(lift))
      case .product(let a, let b):
        let (x, y) = (try lift(a), try lift(b))
        result = x.isScalar || y.isScalar ? try x * y : try Expr.hadamard(x, y)
      case .hadamard(let a, let b): result = try Expr.hadamard(try lift(a), try lift(b))
      case .power(let a, let p):
        let exponent = try lift(p)
        guard exponent.isScalar else {
          throw MatcalcError.unsupported("an exponent depends on the parameter", nil)
        }
        result = try Expr.power(try lift(a), exponent)
      case .call(let function, let a):
        guard function.isElementwise else {
          throw MatcalcError.unsupported("\(function.spelling) is not applied entry by entry", nil)
        }
        result = try Expr.call(function, try lift(a))
      case .mapped(let operation, let order, let a):
        result = try Expr.make(.mapped(operation, order, try lift(a)))
      case .chain, .transpose:
        // A scalar body has no matrix product or transpose of its parameter.
        result = try e.mappingChildren { try lift($0) }
      }
      memo[e] = result
      return result
    }
    return try lift(body)
  }
}
