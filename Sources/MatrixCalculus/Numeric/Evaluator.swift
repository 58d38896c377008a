import Foundation
import TensorKernel

/// Evaluates matrix expressions on bound tensors.
///
/// Inputs are bound by name, definitions are evaluated in order, dimension symbols have
/// sizes, and `d(X)` evaluates to a bound direction. Opaque functions use ``TestFunctions``.
struct Evaluator {
  /// Sizes of the dimension symbols.
  var sizes: [String: Int]
  /// Values by variable name (inputs, then definitions as they are evaluated).
  var values: [String: Tensor]
  /// Directions for `d(X)` nodes, by the differentiated expression.
  var directions: [Expr: Tensor] = [:]
  private var memo: [Expr: Tensor] = [:]
  /// The largest magnitude of any value computed so far: the scale of the rounding error
  /// in a result whose terms cancel.
  private(set) var largestMagnitude = 0.0

  /// An evaluator with the given sizes and values.
  init(sizes: [String: Int], values: [String: Tensor]) {
    self.sizes = sizes
    self.values = values
  }

  /// The size of a dimension.
  func size(_ d: Dim) throws -> Int {
    switch d {
    case .size(let n): return n
    case .symbol(let name):
      guard let n = sizes[name] else { throw MatcalcError.numeric("no size for dimension \(name)") }
      return n
    }
  }

  /// Evaluates the definitions of a problem in order, binding each by name.
  mutating func bind(_ definitions: [Problem.Definition]) throws {
    for definition in definitions {
      values[definition.name] = try evaluate(definition.body)
    }
  }

  /// The most entries one value of a numeric check may have (160 MB of doubles): a fixed size
  /// such as `x : vector(1000000)` makes x xᵀ too large to check, an error, not a crash.
  static let maximumEntries = 20_000_000

  /// Throws a limit error when an array of `dimensions` would exceed ``maximumEntries``.
  static func ensureAllocatable(_ dimensions: [Int]) throws {
    var count = 1
    for d in dimensions {
      let (product, overflow) = count.multipliedReportingOverflow(by: max(d, 1))
      guard !overflow, product <= maximumEntries else {
        throw MatcalcError.limit(
          "the numeric check would need an array of "
            + dimensions.map(String.init).joined(separator: "×")
            + " entries (at most \(maximumEntries)); check at smaller sizes, or pass --no-check",
          nil)
      }
      count = product
    }
  }

  /// The value of `e`.
  mutating func evaluate(_ e: Expr) throws -> Tensor {
    if let known = memo[e] { return known }
    try Self.ensureAllocatable([try size(e.shape.rows), try size(e.shape.cols)])
    let result = try compute(e)
    memo[e] = result
    largestMagnitude = max(largestMagnitude, result.maxAbs)
    return result
  }

  private func fail(_ text: String) -> MatcalcError { .numeric(text) }

  private mutating func compute(_ e: Expr) throws -> Tensor {
    switch e.node {
    case .variable(let name, _, _):
      guard let value = values[name] else { throw fail("no value for \(name)") }
      return value
    case .constant(let value): return Tensor(scalar: value)
    case .identity(let d): return Tensor.identity(try size(d))
    case .ones(let s): return Tensor(rows: try size(s.rows), cols: try size(s.cols), repeating: 1)
    case .zero(let s): return Tensor(rows: try size(s.rows), cols: try size(s.cols))
    case .add(let terms):
      var total = try evaluate(terms[0])
      for term in terms.dropFirst() {
        guard let next = total.zip(try evaluate(term), +) else { throw fail("sum shapes") }
        total = next
      }
      return total
    case .product(let a, let b):
      let x = try evaluate(a)
      let y = try evaluate(b)
      if a.isScalar || b.isScalar {
        guard let scaled = x.zip(y, *) else { throw fail("scaling shapes") }
        return scaled
      }
      guard let product = x.matmul(y) else { throw fail("product shapes") }
      return product
    case .chain(let factors):  // left to right
      var product = try evaluate(factors[0])
      for factor in factors.dropFirst() {
        guard let next = product.matmul(try evaluate(factor)) else { throw fail("product shapes") }
        product = next
      }
      return product
    case .hadamard(let a, let b):
      guard let result = try evaluate(a).zip(try evaluate(b), *) else { throw fail("⊙ shapes") }
      return result
    case .power(let a, let p):
      let exponent = try evaluate(p).scalar
      return try evaluate(a).map { pow($0, exponent) }
    case .transpose(let a): return try evaluate(a).transposed
    case .call(let function, let a): return try Self.apply(function, try evaluate(a))
    case .opaque(let name, let a):
      return Tensor(scalar: TestFunctions.opaque(name, try evaluate(a)))
    case .gradient(let name, let a): return TestFunctions.gradient(name, try evaluate(a))
    case .mapped(let f, let order, let a):
      if order == 0, let meaning = try f.applied(to: a) { return try evaluate(meaning) }
      return try evaluate(a).map { TestFunctions.mapped(order, $0) }
    case .differential(let a):
      guard let direction = directions[a] else { throw fail("no direction for d(\(a))") }
      return direction
    }
  }

  static func apply(_ function: Function, _ x: Tensor) throws -> Tensor {
    switch function {
    case .trace:
      var total = 0.0
      for i in 0..<min(x.rows, x.cols) { total += x[i, i] }
      return Tensor(scalar: total)
    case .det:
      guard let lu = LUDecomposition(x) else {
        throw MatcalcError.numeric("det of a non-square matrix")
      }
      return Tensor(scalar: lu.determinant)
    case .logdet:
      guard let lu = LUDecomposition(x), let value = lu.logDeterminant else {
        throw MatcalcError.numeric("log det of a matrix whose determinant is not positive")
      }
      // log det of a nearly singular matrix (XᵀX of a wide X) is rounding noise, not a value.
      guard let inverse = lu.inverse, x.frobeniusNorm * inverse.frobeniusNorm < 1e8 else {
        throw MatcalcError.numeric("log det of a nearly singular matrix")
      }
      return Tensor(scalar: value)
    case .inverse:
      guard let lu = LUDecomposition(x), let inverse = lu.inverse else {
        throw MatcalcError.numeric("inverse of a singular matrix")
      }
      // A nearly singular matrix (a rank-deficient XᵀAX at the sizes drawn) gives an inverse
      // of rounding noise; nothing evaluated through it can be trusted.
      let condition = x.frobeniusNorm * inverse.frobeniusNorm
      if !(condition < 1e8) { throw MatcalcError.numeric("inverse of a nearly singular matrix") }
      return inverse
    case .diag:
      var result = Tensor(rows: x.rows, cols: x.rows)
      for i in 0..<x.rows { result[i, i] = x[i, 0] }
      return result
    case .diagonal:
      var result = Tensor(rows: x.rows, cols: 1)
      for i in 0..<x.rows { result[i, 0] = x[i, i] }
      return result
    case .sum: return Tensor(scalar: x.sum)
    case .norm1: return Tensor(scalar: x.storage.reduce(0) { $0 + abs($1) })
    case .norm2: return Tensor(scalar: x.frobeniusNorm)
    case .softmax:
      let top = x.storage.max() ?? 0
      let exps = x.map { exp($0 - top) }
      let total = exps.sum
      return exps.map { $0 / total }
    case .logsumexp:
      let top = x.storage.max() ?? 0
      return Tensor(scalar: top + log(x.storage.reduce(0) { $0 + exp($1 - top) }))
    case .exp: return x.map(exp)
    case .log: return x.map(log)
    case .sin: return x.map(sin)
    case .cos: return x.map(cos)
    case .tanh: return x.map(tanh)
    case .sigmoid: return x.map { 1 / (1 + exp(-$0)) }
    case .relu: return x.map { max($0, 0) }
    case .sqrt: return x.map { $0.squareRoot() }
    case .abs: return x.map { abs($0) }
    case .step: return x.map { $0 > 0 ? 1 : 0 }
    case .sign: return x.map { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) }
    }
  }
}
