import TensorKernel

/// An n-dimensional array of doubles with NumPy's semantics: a shape (`[]` for a 0-d array or
/// a Python float, `[n]` for a 1-D vector, `[m, n]` for a matrix, more for `np.einsum`
/// results) and its entries in row-major order.
///
/// `a[i₀, …, i_{r−1}] = storage[Σ_k i_k · stride_k]`, `stride_k = Π_{k' > k} shape_{k'}`.
struct NDArray: Sendable, Equatable {
  /// The size of each axis.
  var shape: [Int]
  /// The entries, row-major.
  var storage: [Double]

  /// An array of `shape` filled with `value`.
  init(shape: [Int], repeating value: Double = 0) throws {
    let count = try Self.count(of: shape)
    self.shape = shape
    self.storage = [Double](repeating: value, count: count)
  }

  /// An array of `shape` holding `storage` (its count must be the product of the shape).
  init(shape: [Int], storage: [Double]) throws {
    guard try Self.count(of: shape) == storage.count else {
      throw NDArray.error("cannot reshape array of size \(storage.count) into shape \(shape)")
    }
    self.shape = shape
    self.storage = storage
  }

  /// A 0-d array (a Python float).
  init(scalar: Double) {
    shape = []
    storage = [scalar]
  }

  /// A matrix of the kernel as a 2-D array.
  init(_ tensor: Tensor) {
    shape = [tensor.rows, tensor.cols]
    storage = tensor.storage
  }

  /// The number of entries of an array of `shape`; throws on a negative axis or an array past
  /// the numeric check's limit.
  static func count(of shape: [Int]) throws -> Int {
    var count = 1
    for d in shape {
      guard d >= 0 else { throw error("negative dimensions are not allowed: \(shape)") }
      let (product, overflow) = count.multipliedReportingOverflow(by: d)
      guard !overflow, product <= Evaluator.maximumEntries else {
        throw MatcalcError.limit("an array of shape \(shape) is too large to check", nil)
      }
      count = product
    }
    return count
  }

  /// A NumPy error, as Python would raise it.
  static func error(_ message: String) -> MatcalcError { .numeric("NumPy: " + message) }

  /// The number of axes.
  var rank: Int { shape.count }
  /// The number of entries.
  var count: Int { storage.count }
  /// The single entry of a one-entry array.
  var scalar: Double? { storage.count == 1 ? storage[0] : nil }

  /// The row-major strides of `shape`.
  static func strides(_ shape: [Int]) -> [Int] {
    var strides = [Int](repeating: 1, count: shape.count)
    var step = 1
    for axis in shape.indices.reversed() {
      strides[axis] = step
      step *= shape[axis]
    }
    return strides
  }

  /// The array as a kernel matrix (2-D only).
  func matrix() throws -> Tensor {
    guard rank == 2 else { throw Self.error("expected a 2-D array, got shape \(shape)") }
    return Tensor(rows: shape[0], cols: shape[1], storage: storage)
  }

  /// Each entry transformed.
  func map(_ transform: (Double) -> Double) -> NDArray {
    var copy = self
    for index in copy.storage.indices { copy.storage[index] = transform(copy.storage[index]) }
    return copy
  }

  // MARK: - Broadcasting

  /// The shape `a` and `b` broadcast to (NumPy: axes aligned from the right, a size-1 axis
  /// stretched), or an error naming both.
  static func broadcastShape(_ shapes: [[Int]]) throws -> [Int] {
    let rank = shapes.map(\.count).max() ?? 0
    var result = [Int](repeating: 1, count: rank)
    for shape in shapes {
      let offset = rank - shape.count
      for (axis, d) in shape.enumerated() {
        let current = result[offset + axis]
        if current == d || d == 1 { continue }
        guard current == 1 else {
          throw error(
            "operands could not be broadcast together with shapes "
              + shapes.map { "(" + $0.map(String.init).joined(separator: ",") + ")" }
              .joined(separator: " "))
        }
        result[offset + axis] = d
      }
    }
    return result
  }

  /// The storage index in `self` of each entry of an array of `target` shape it is
  /// broadcast to, in row-major order of `target`.
  func broadcastIndices(to target: [Int]) throws -> [Int] {
    guard rank <= target.count, try Self.broadcastShape([shape, target]) == target else {
      throw Self.error("could not broadcast input array from shape \(shape) into shape \(target)")
    }
    let total = try Self.count(of: target)
    let offset = target.count - rank
    let ownStrides = Self.strides(shape)
    // Stride 0 where an axis is stretched or absent.
    var strides = [Int](repeating: 0, count: target.count)
    for axis in shape.indices where shape[axis] != 1 || target[offset + axis] == 1 {
      strides[offset + axis] = shape[axis] == 1 ? 0 : ownStrides[axis]
    }
    var indices = [Int](repeating: 0, count: total)
    if total == 0 { return indices }
    var counter = [Int](repeating: 0, count: target.count)
    var position = 0
    for k in 0..<total {
      indices[k] = position
      var axis = target.count - 1
      while axis >= 0 {
        counter[axis] += 1
        position += strides[axis]
        if counter[axis] < target[axis] { break }
        position -= strides[axis] * counter[axis]
        counter[axis] = 0
        axis -= 1
      }
    }
    return indices
  }

  /// `self` broadcast to `target`.
  func broadcast(to target: [Int]) throws -> NDArray {
    if shape == target { return self }
    let indices = try broadcastIndices(to: target)
    return try NDArray(shape: target, storage: indices.map { storage[$0] })
  }

  /// Entry by entry over the operands broadcast together.
  static func elementwise(_ operands: [NDArray], _ combine: ([Double]) -> Double) throws
    -> NDArray
  {
    let shape = try broadcastShape(operands.map(\.shape))
    let indices = try operands.map { try $0.broadcastIndices(to: shape) }
    let count = try Self.count(of: shape)
    var storage = [Double](repeating: 0, count: count)
    var arguments = [Double](repeating: 0, count: operands.count)
    for k in 0..<count {
      for (o, operand) in operands.enumerated() { arguments[o] = operand.storage[indices[o][k]] }
      storage[k] = combine(arguments)
    }
    return try NDArray(shape: shape, storage: storage)
  }

  /// `a ∘ b` entry by entry, broadcast.
  static func binary(_ a: NDArray, _ b: NDArray, _ combine: (Double, Double) -> Double) throws
    -> NDArray
  {
    if a.shape == b.shape {
      var result = a
      for k in result.storage.indices { result.storage[k] = combine(a.storage[k], b.storage[k]) }
      return result
    }
    return try elementwise([a, b]) { combine($0[0], $0[1]) }
  }

  // MARK: - Axes

  /// An axis argument (negative counts from the end) as an index below `rank`.
  static func normalized(axis: Int, rank: Int) throws -> Int {
    let value = axis < 0 ? axis + rank : axis
    guard value >= 0 && value < rank else {
      throw error("axis \(axis) is out of bounds for array of dimension \(rank)")
    }
    return value
  }

  /// The axes permuted: result axis k is axis `axes[k]` of `self`.
  func transposed(_ axes: [Int]? = nil) throws -> NDArray {
    let order = try (axes ?? Array(shape.indices.reversed())).map {
      try Self.normalized(axis: $0, rank: rank)
    }
    guard order.count == rank, Set(order).count == rank else {
      throw Self.error("axes don't match array")
    }
    let newShape = order.map { shape[$0] }
    let ownStrides = Self.strides(shape)
    var result = try NDArray(shape: newShape)
    var counter = [Int](repeating: 0, count: rank)
    for k in 0..<result.count {
      var position = 0
      for axis in 0..<rank { position += counter[axis] * ownStrides[order[axis]] }
      result.storage[k] = storage[position]
      var axis = rank - 1
      while axis >= 0 {
        counter[axis] += 1
        if counter[axis] < newShape[axis] { break }
        counter[axis] = 0
        axis -= 1
      }
    }
    return result
  }

  /// The same entries in a new shape; one axis may be -1 (inferred).
  func reshaped(_ newShape: [Int]) throws -> NDArray {
    var target = newShape
    let unknown = target.indices.filter { target[$0] == -1 }
    guard unknown.count <= 1, target.allSatisfy({ $0 >= -1 }) else {
      throw Self.error("can only specify one unknown dimension")
    }
    if let axis = unknown.first {
      let known = target.enumerated().filter { $0.offset != axis }.reduce(1) { $0 * $1.element }
      guard known > 0, count % known == 0 else {
        throw Self.error("cannot reshape array of size \(count) into shape \(newShape)")
      }
      target[axis] = count / known
    }
    return try NDArray(shape: target, storage: storage)
  }

  /// A reduction over `axes` (all when `nil`), optionally keeping them as size 1.
  func reduced(
    over axes: [Int]?, keepDimensions: Bool, initial: Double?,
    _ combine: (Double, Double) -> Double, finish: (Double, Int) -> Double = { value, _ in value }
  ) throws -> NDArray {
    let reducing = Set(
      try (axes ?? Array(shape.indices)).map { try Self.normalized(axis: $0, rank: rank) })
    let kept = shape.indices.filter { !reducing.contains($0) }
    let reducedCount = reducing.reduce(1) { $0 * shape[$1] }
    if reducedCount == 0 && initial == nil {
      throw Self.error("zero-size array to reduction operation which has no identity")
    }
    let resultShape = kept.map { shape[$0] }
    var result = try NDArray(shape: resultShape)
    var started = [Bool](repeating: false, count: result.count)
    if let initial {
      for k in result.storage.indices { result.storage[k] = initial }
      started = [Bool](repeating: true, count: result.count)
    }
    let resultStrides = Self.strides(resultShape)
    var counter = [Int](repeating: 0, count: rank)
    for k in 0..<count {
      var target = 0
      for (position, axis) in kept.enumerated() {
        target += counter[axis] * resultStrides[position]
      }
      if started[target] {
        result.storage[target] = combine(result.storage[target], storage[k])
      } else {
        result.storage[target] = storage[k]
        started[target] = true
      }
      var axis = rank - 1
      while axis >= 0 {
        counter[axis] += 1
        if counter[axis] < shape[axis] { break }
        counter[axis] = 0
        axis -= 1
      }
    }
    result = result.map { finish($0, reducedCount) }
    if keepDimensions {
      result.shape = shape.indices.map { reducing.contains($0) ? 1 : shape[$0] }
    }
    return result
  }
}
