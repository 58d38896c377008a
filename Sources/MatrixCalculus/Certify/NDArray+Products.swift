import Foundation
import TensorKernel

// MARK: - Products and linear algebra, as NumPy computes them

extension NDArray {
  /// `a @ b` with NumPy's rules: a 1-D left operand is a row (the axis removed after), a 1-D
  /// right operand a column; further leading axes broadcast as batches.
  /// `(A B)_…ij = Σ_k A_…ik B_…kj`.
  static func matmul(_ a: NDArray, _ b: NDArray) throws -> NDArray {
    guard a.rank > 0, b.rank > 0 else {
      throw error("matmul: Input operand \(a.rank == 0 ? 0 : 1) does not have enough dimensions")
    }
    let left = a.rank == 1 ? try a.reshaped([1, a.shape[0]]) : a
    let right = b.rank == 1 ? try b.reshaped([b.shape[0], 1]) : b
    let (m, k) = (left.shape[left.rank - 2], left.shape[left.rank - 1])
    let (k2, n) = (right.shape[right.rank - 2], right.shape[right.rank - 1])
    guard k == k2 else {
      throw error(
        "matmul: Input operand 1 has a mismatch in its core dimension 0 (size \(k2) is "
          + "different from \(k)); shapes \(a.shape) and \(b.shape)")
    }
    let batch = try broadcastShape([Array(left.shape.dropLast(2)), Array(right.shape.dropLast(2))])
    let l = try left.broadcast(to: batch + [m, k])
    let r = try right.broadcast(to: batch + [k, n])
    let batches = try count(of: batch)
    var result = try NDArray(shape: batch + [m, n])
    for p in 0..<batches {
      let (lo, ro, out) = (p * m * k, p * k * n, p * m * n)
      for i in 0..<m {
        for t in 0..<k {
          let factor = l.storage[lo + i * k + t]
          for j in 0..<n {
            result.storage[out + i * n + j] += factor * r.storage[ro + t * n + j]
          }
        }
      }
    }
    var shape = result.shape
    if b.rank == 1 { shape.removeLast() }
    if a.rank == 1 { shape.remove(at: shape.count - (b.rank == 1 ? 1 : 2)) }
    result.shape = shape
    return result
  }

  /// `np.einsum(subscripts, *operands)`: `out[o] = Σ_s Π_k operand_k[labels_k]`, with an
  /// explicit `->` or NumPy's implicit output (the labels used once, sorted).
  static func einsum(_ subscripts: String, _ operands: [NDArray]) throws -> NDArray {
    let spec = subscripts.filter { $0 != " " }
    guard !operands.isEmpty else {
      throw error("must specify the einstein sum subscripts string and at least one operand")
    }
    guard !spec.contains(".") else { throw error("einsum with '...' is not evaluated here") }
    let parts = spec.components(separatedBy: "->")
    guard parts.count <= 2 else { throw error("einsum: more than one '->' in '\(subscripts)'") }
    let inputs = parts[0].split(separator: ",", omittingEmptySubsequences: false).map(Array.init)
    guard inputs.count == operands.count else {
      throw error(
        "einsum: \(inputs.count) operand subscripts in '\(subscripts)' for \(operands.count) "
          + "operands")
    }
    var sizes: [Character: Int] = [:]
    var order: [Character] = []
    var uses: [Character: Int] = [:]
    for (k, (labels, operand)) in zip(inputs, operands).enumerated() {
      guard labels.count == operand.rank else {
        throw error(
          "einsum: operand \(k) has \(operand.rank) axes but subscripts '\(String(labels))'")
      }
      for (axis, label) in labels.enumerated() {
        guard label.isLetter, label.isASCII else {
          throw error("einsum: invalid subscript '\(label)' in '\(subscripts)'")
        }
        uses[label, default: 0] += 1
        let d = operand.shape[axis]
        if let known = sizes[label] {
          if known == 1 {
            sizes[label] = d
          } else if d != known && d != 1 {
            throw error(
              "einsum: operands could not be broadcast together: subscript '\(label)' has "
                + "sizes \(known) and \(d)")
          }
        } else {
          sizes[label] = d
          order.append(label)
        }
      }
    }
    let output: [Character]
    if parts.count == 2 {
      output = Array(parts[1])
      for label in output where sizes[label] == nil {
        throw error(
          "einsum(): output subscript '\(label)' in '\(subscripts)' never appeared in an input")
      }
      guard Set(output).count == output.count else {
        throw error("einsum(): output subscript in '\(subscripts)' appears more than once")
      }
    } else {
      output = order.filter { uses[$0] == 1 }.sorted()
    }
    let summed = order.filter { !output.contains($0) }
    let all = output + summed
    let limits = all.map { sizes[$0] ?? 1 }
    let position = Dictionary(uniqueKeysWithValues: all.enumerated().map { ($1, $0) })
    // For each operand: the loop position and stride of each of its axes (0 for a size-1
    // axis broadcast).
    let access: [[(Int, Int)]] = zip(inputs, operands).map { labels, operand in
      let strides = Self.strides(operand.shape)
      return labels.enumerated().map { axis, label in
        (position[label] ?? 0, operand.shape[axis] == 1 ? 0 : strides[axis])
      }
    }
    let outputShape = output.map { sizes[$0] ?? 1 }
    var result = try NDArray(shape: outputShape)
    let outputCount = result.count
    let summedCount = try count(of: summed.map { sizes[$0] ?? 1 })
    guard outputCount > 0, summedCount > 0 else { return result }
    _ = try count(of: [outputCount, summedCount])
    var counter = [Int](repeating: 0, count: all.count)
    var target = 0
    var inner = 0
    outer: while true {
      var product = 1.0
      for (k, operand) in operands.enumerated() {
        var index = 0
        for (slot, stride) in access[k] { index += counter[slot] * stride }
        product *= operand.storage[index]
      }
      result.storage[target] += product
      var slot = all.count - 1
      while slot >= 0 {
        counter[slot] += 1
        if counter[slot] < limits[slot] { break }
        counter[slot] = 0
        slot -= 1
      }
      if slot < 0 { break outer }
      inner += 1
      if inner == summedCount {
        inner = 0
        target += 1
      }
    }
    return result
  }

  /// `np.tensordot(a, b, axes)`: the listed axes of `a` contracted with those of `b`, the
  /// remaining axes of `a` then of `b`.
  static func tensordot(_ a: NDArray, _ b: NDArray, axes: ([Int], [Int])) throws -> NDArray {
    guard axes.0.count == axes.1.count, a.rank + b.rank <= 26 else {
      throw error("tensordot: shape-mismatch for sum")
    }
    let letters = Array("abcdefghijklmnopqrstuvwxyz")
    let left = Array(letters[0..<a.rank])
    var right = Array(letters[a.rank..<(a.rank + b.rank)])
    for (i, j) in zip(axes.0, axes.1) {
      let ia = try normalized(axis: i, rank: a.rank)
      let jb = try normalized(axis: j, rank: b.rank)
      guard a.shape[ia] == b.shape[jb] else { throw error("tensordot: shape-mismatch for sum") }
      right[jb] = left[ia]
    }
    let contracted = Set(try axes.0.map { left[try normalized(axis: $0, rank: a.rank)] })
    let output =
      left.filter { !contracted.contains($0) } + right.filter { !contracted.contains($0) }
    return try einsum(String(left) + "," + String(right) + "->" + String(output), [a, b])
  }

  /// `np.outer(a, b)`: both flattened, `out_ij = a_i b_j`.
  static func outer(_ a: NDArray, _ b: NDArray) throws -> NDArray {
    var result = try NDArray(shape: [a.count, b.count])
    for i in 0..<a.count {
      for j in 0..<b.count { result.storage[i * b.count + j] = a.storage[i] * b.storage[j] }
    }
    return result
  }

  /// `np.kron(a, b)`: the axes of the one with fewer prefixed with 1s, then
  /// `out[i·sb + j] = a[i] b[j]` on every axis.
  static func kron(_ a: NDArray, _ b: NDArray) throws -> NDArray {
    let rank = max(a.rank, b.rank)
    let sa = [Int](repeating: 1, count: rank - a.rank) + a.shape
    let sb = [Int](repeating: 1, count: rank - b.rank) + b.shape
    let shape = zip(sa, sb).map { $0 * $1 }
    var result = try NDArray(shape: shape)
    let (stridesA, stridesB) = (Self.strides(sa), Self.strides(sb))
    var counter = [Int](repeating: 0, count: rank)
    for k in 0..<result.count {
      var (ia, ib) = (0, 0)
      for axis in 0..<rank {
        ia += counter[axis] / sb[axis] * stridesA[axis]
        ib += counter[axis] % sb[axis] * stridesB[axis]
      }
      result.storage[k] = a.storage[ia] * b.storage[ib]
      var axis = rank - 1
      while axis >= 0 {
        counter[axis] += 1
        if counter[axis] < shape[axis] { break }
        counter[axis] = 0
        axis -= 1
      }
    }
    return result
  }

  /// The LU factorisation of a square 2-D array.
  func factorised() throws -> LUDecomposition {
    guard rank == 2, shape[0] == shape[1], let lu = LUDecomposition(try matrix()) else {
      throw Self.error("Last 2 dimensions of the array must be square (shape \(shape))")
    }
    return lu
  }

  /// `np.linalg.solve(a, b)`: X with A X = B (b 1-D: one right side).
  static func solve(_ a: NDArray, _ b: NDArray) throws -> NDArray {
    let lu = try a.factorised()
    let n = a.shape[0]
    let rhs: Tensor
    switch b.rank {
    case 1: rhs = Tensor(rows: b.count, cols: 1, storage: b.storage)
    case 2: rhs = try b.matrix()
    default: throw error("linalg.solve with a \(b.rank)-D right side is not evaluated here")
    }
    guard rhs.rows == n else {
      throw error("solve: Input operand 1 has a mismatch in its core dimension 0 (\(b.shape))")
    }
    guard let x = lu.solve(rhs) else { throw error("Singular matrix") }
    return b.rank == 1 ? try NDArray(shape: [n], storage: x.storage) : NDArray(x)
  }

  /// `np.linalg.inv(a)`.
  func inverse() throws -> NDArray {
    guard let x = try factorised().inverse else { throw Self.error("Singular matrix") }
    return NDArray(x)
  }

  /// `np.linalg.slogdet(a)`: the sign of det A and log |det A| (0 and −∞ when singular).
  func signAndLogDeterminant() throws -> (sign: Double, log: Double) {
    let lu = try factorised()
    var sign = lu.permutationSign
    var sum = 0.0
    for i in 0..<shape[0] {
      let u = lu.factors[i, i]
      if u == 0 { return (0, -.infinity) }
      if u < 0 { sign = -sign }
      sum += Foundation.log(Swift.abs(u))
    }
    return (sign, sum)
  }
}
