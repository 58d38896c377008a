/// The estimated cost of evaluating a formula with NumPy: floating-point operations plus a
/// charge for every element read or written, over the dimension symbols of the problem.
///
/// A symbolic dimension is taken as large (``largeDimension``) unless ``sizes`` gives it; an
/// integer dimension is its value. Memory traffic matters as much as arithmetic: a
/// matrix-vector product does 2n² flops but reads n² elements, and `A + Aᵀ` reads and writes
/// 3n² (strided) elements, so element moves are charged ``memoryWeight`` flops each. LAPACK's
/// factorisations and triangular solves run at about a third of the matrix product's rate
/// (measured with OpenBLAS at n = 300 and 2000: an inverse takes 3–4 products' time, not 1), so
/// their flops are charged ``factorisationWeight`` each.
///
/// - cost(A B) = 2 m k n + w (m k + k n + m n) for A m×k, B k×n
/// - cost(solve(A, B)) = f (⅔ n³ + 2 n² k) + w (n² + 2 n k) for A n×n, B n×k
/// - cost(inv(A)) = 2 f n³ + 2 w n², cost(det(A)) = ⅔ f n³ + w n²
///
/// The same formulas over ``CostPolynomial`` give a cost in the dimension symbols, which code
/// emitted without sizes compares once its arrays' shapes are known.
struct CostModel: ExpressionCost {
  /// The size a symbolic dimension stands for when none is given.
  static let largeDimension = 1000.0
  /// Flops charged per element moved to or from memory.
  static let memoryWeight = 8.0
  /// Matrix-product flops charged per flop of a factorisation or triangular solve.
  static let factorisationWeight = 3.0

  /// Sizes of symbolic dimensions, where known (`--sizes n=2000`).
  var sizes: [String: Int] = [:]

  /// The size of a dimension.
  func size(_ d: Dim) -> Double {
    switch d {
    case .size(let n): return Double(n)
    case .symbol(let name): return sizes[name].map(Double.init) ?? Self.largeDimension
    }
  }

  /// The number of entries of a shape.
  func elements(_ shape: Shape) -> Double { size(shape.rows) * size(shape.cols) }

  /// `(A B)_ij = Σ_k A_ik B_kj` for A m×k, B k×n.
  func product<N: CostArithmetic>(_ m: N, _ k: N, _ n: N) -> N {
    N(2) * m * k * n + N(Self.memoryWeight) * (m * k + k * n + m * n)
  }

  /// `A⁻¹ B` by an LU solve, A n×n, B n×k.
  func solve<N: CostArithmetic>(_ n: N, _ k: N) -> N {
    N(Self.factorisationWeight) * (N(2.0 / 3) * n * n * n + N(2) * n * n * k)
      + N(Self.memoryWeight) * (n * n + N(2) * n * k)
  }

  /// `A⁻¹` materialised, A n×n.
  func inverse<N: CostArithmetic>(_ n: N) -> N {
    N(Self.factorisationWeight * 2) * n * n * n + N(2 * Self.memoryWeight) * n * n
  }

  /// An entry-by-entry operation with `operands` inputs producing `count` entries
  /// (a sum, a Hadamard product, a scaling, a row or column scaling by a vector).
  func elementwise<N: CostArithmetic>(_ count: N, operands: Int) -> N {
    count * N(1 + Self.memoryWeight * Double(operands + 1))
  }

  /// The cost of computing `e` from its (already computed) children.
  func local(_ e: Expr) -> Double { local(e, size: size) }

  /// The cost of computing `e` from its children, with each dimension's size given by `size`
  /// (a number, or a ``CostPolynomial`` in the dimension symbols).
  func local<N: CostArithmetic>(_ e: Expr, size: (Dim) -> N) -> N {
    let count = size(e.shape.rows) * size(e.shape.cols)
    switch e.node {
    case .variable, .constant, .differential: return N(0)
    case .identity, .ones, .zero: return N(Self.memoryWeight) * count
    case .add(let terms): return elementwise(count, operands: terms.count)
    case .product: return elementwise(count, operands: 1)  // a scaling
    case .chain(let factors):  // left to right
      let rows = size(e.shape.rows)
      return factors.dropFirst().reduce(N(0)) {
        $0 + product(rows, size($1.shape.rows), size($1.shape.cols))
      }
    case .hadamard, .power: return elementwise(count, operands: 2)
    // A transpose is a view; what reads it pays.
    case .transpose: return N(0)
    case .call(let f, let a):
      let n = size(a.shape.rows)
      let entries = size(a.shape.rows) * size(a.shape.cols)
      switch f {
      case .inverse: return inverse(n)
      case .det, .logdet:
        return N(Self.factorisationWeight * 2 / 3) * n * n * n + N(Self.memoryWeight) * n * n
      case .trace, .diagonal: return N(2) * n
      case .diag: return N(Self.memoryWeight) * n * n
      case .sum, .norm1, .norm2, .softmax, .logsumexp:
        return elementwise(entries, operands: 1)
      // Transcendental functions cost a few tens of flops an entry.
      case .exp, .log, .sin, .cos, .tanh, .sigmoid, .sqrt:
        return count * N(20) + elementwise(count, operands: 1)
      case .relu, .abs, .step, .sign: return elementwise(count, operands: 1)
      }
    case .opaque(_, let a), .gradient(_, let a), .mapped(_, _, let a):
      return elementwise(size(a.shape.rows) * size(a.shape.cols), operands: 1)
    }
  }

  /// Emitted code computes a repeated subexpression once.
  var paysRepeatsOnce: Bool { true }
}

/// A number ``CostModel`` computes with: a `Double` for sizes known now, a ``CostPolynomial``
/// in the dimension symbols for a cost compared at run time, once the shapes are known.
protocol CostArithmetic {
  init(_ value: Double)
  static func + (lhs: Self, rhs: Self) -> Self
  static func * (lhs: Self, rhs: Self) -> Self
}

extension Double: CostArithmetic {}
