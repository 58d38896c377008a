/// A dense matrix of `Double`s, row-major. Scalars are 1×1 and vectors n×1.
///
/// `T_ij = storage[i * cols + j]`.
public struct Tensor: Sendable, Equatable {
  /// Number of rows.
  public let rows: Int
  /// Number of columns.
  public let cols: Int
  /// The entries, row-major.
  public var storage: [Double]

  /// A tensor of the given shape filled with `value`.
  public init(rows: Int, cols: Int, repeating value: Double = 0) {
    self.rows = rows
    self.cols = cols
    self.storage = Array(repeating: value, count: rows * cols)
  }

  /// A tensor with the given entries, row-major; `storage.count` must be `rows * cols`.
  public init(rows: Int, cols: Int, storage: [Double]) {
    precondition(storage.count == rows * cols, "storage does not match the shape")
    self.rows = rows
    self.cols = cols
    self.storage = storage
  }

  /// A 1×1 tensor.
  public init(scalar: Double) {
    self.init(rows: 1, cols: 1, storage: [scalar])
  }

  /// The n×n identity.
  public static func identity(_ n: Int) -> Tensor {
    var result = Tensor(rows: n, cols: n)
    for i in 0..<n { result.storage[i * n + i] = 1 }
    return result
  }

  /// Entry `(i, j)`.
  public subscript(i: Int, j: Int) -> Double {
    get { storage[i * cols + j] }
    set { storage[i * cols + j] = newValue }
  }

  /// Whether this is 1×1.
  public var isScalar: Bool { rows == 1 && cols == 1 }

  /// The single entry of a 1×1 tensor (the first entry otherwise).
  public var scalar: Double { storage.first ?? 0 }

  /// The number of entries.
  public var count: Int { storage.count }
}

// MARK: - Element-wise arithmetic

extension Tensor {
  /// Applies `transform` to every entry: `(f(T))_ij = f(T_ij)`.
  public func map(_ transform: (Double) -> Double) -> Tensor {
    Tensor(rows: rows, cols: cols, storage: storage.map(transform))
  }

  /// Combines two tensors entry by entry; a 1×1 operand is broadcast.
  public func zip(_ other: Tensor, _ combine: (Double, Double) -> Double) -> Tensor? {
    if rows == other.rows && cols == other.cols {
      var result = self
      for index in storage.indices {
        result.storage[index] = combine(storage[index], other.storage[index])
      }
      return result
    }
    if other.isScalar {
      let value = other.scalar
      return map { combine($0, value) }
    }
    if isScalar {
      let value = scalar
      return other.map { combine(value, $0) }
    }
    return nil
  }

  /// `(Tᵀ)_ij = T_ji`.
  public var transposed: Tensor {
    var result = Tensor(rows: cols, cols: rows)
    for i in 0..<rows {
      for j in 0..<cols { result.storage[j * rows + i] = storage[i * cols + j] }
    }
    return result
  }

  /// The sum of all entries.
  public var sum: Double { storage.reduce(0, +) }

  /// The largest absolute entry (0 for an empty tensor).
  public var maxAbs: Double { storage.reduce(0) { max($0, abs($1)) } }

  /// The Frobenius norm.
  public var frobeniusNorm: Double { storage.reduce(0) { $0 + $1 * $1 }.squareRoot() }
}

// MARK: - Products

extension Tensor {
  /// The matrix product, `(AB)_ij = Σ_k A_ik B_kj`, or `nil` when the shapes do not conform.
  public func matmul(_ other: Tensor) -> Tensor? {
    guard cols == other.rows else { return nil }
    var result = Tensor(rows: rows, cols: other.cols)
    storage.withUnsafeBufferPointer { a in
      other.storage.withUnsafeBufferPointer { b in
        result.storage.withUnsafeMutableBufferPointer { c in
          guard let a = a.baseAddress, let b = b.baseAddress, let c = c.baseAddress else {
            return
          }
          MatrixProduct.multiply(m: rows, n: other.cols, k: cols, a: a, b: b, c: c)
        }
      }
    }
    return result
  }
}
