/// Contracts products of indexed factors to matrix operations: Σ_k A_ik B_kj → (AB)_ij; an
/// index summed in one factor only becomes a product with 𝟏; equal index sets multiply as ⊙;
/// disjoint vectors make an outer product; δ_ik with k summed renames k to i; a free δ_ik
/// is the identity (s I, diag(v), diag(diag(M))). What cannot be raised (three free indices,
/// an index shared by three factors with different partners) is reported as unsupported,
/// never guessed.
enum IndexContraction {
  /// Multiplies factors and sums over `summed`, raising everything to one matrix expression.
  static func contract(_ input: [IndexedTensor], _ summed: [String]) throws -> IndexedTensor {
    var result = IndexedTensor(expr: .constant(1), row: nil, col: nil)
    let factors = try contractSums(input, summed)
    // Free deltas last: δ_ij x_i is diag(x) whatever the order written.
    for factor in factors.filter({ !$0.isDelta }) + factors.filter(\.isDelta) {
      result = try combine(result, factor)
    }
    return result
  }

  /// The term with the sums over `indices` (all its sums when nil) contracted; a sum no
  /// matrix product absorbs stays in index form.
  static func contracted(_ term: IndexTerm, over indices: [String]? = nil) throws -> IndexTerm {
    let over = indices ?? term.summed
    var kept: [String] = []
    let factors = try contractSums(term.factors, over, keeping: &kept)
    return IndexTerm(
      coefficient: term.coefficient, summed: term.summed.filter { !over.contains($0) } + kept,
      factors: factors)
  }

  /// Sums over `summed` and leaves the remaining factors (free indices only) uncombined; an
  /// index shared by three factors in a way no matrix product absorbs is refused.
  static func contractSums(_ input: [IndexedTensor], _ summed: [String]) throws -> [IndexedTensor] {
    var kept: [String] = []
    let factors = try contractSums(input, summed, keeping: &kept)
    if let k = kept.first {
      throw MatcalcError.unsupported(
        "index \(k) is shared by three or more factors in a way that has no matrix form", nil)
    }
    return factors
  }

  /// Sums over `summed` and leaves the remaining factors uncombined; an index no matrix
  /// product can absorb is left in `kept` (still summed over, in index form).
  static func contractSums(
    _ input: [IndexedTensor], _ summed: [String], keeping kept: inout [String]
  ) throws -> [IndexedTensor] {
    var factors = input
    var pending = summed
    while let k = pending.first {
      let holders = factors.indices.filter { factors[$0].indices.contains(k) }
      if let deltaAt = holders.first(where: { factors[$0].isDelta }) {
        // Σ_k δ_ik B_k… C_k… = B_i… C_i…: rename k in every other holder.
        let delta = factors[deltaAt]
        let partner = delta.row == k ? delta.col : delta.row
        for other in holders where other != deltaAt {
          factors[other] = try renamed(factors[other], k, to: partner)
        }
        factors.remove(at: deltaAt)
        factors.removeAll { $0.isDelta && $0.row == $0.col }  // δ_ii = 1
        pending.removeFirst()
      } else if holders.count == 2,
        Set(factors[holders[0]].indices) == Set(factors[holders[1]].indices),
        factors[holders[0]].indices.count == 2
      {
        // Σ_k A_ik B_ik: both indices shared, so entry by entry first ((A ⊙ B)_ik), then
        // the sum over k alone.
        let combined = try combine(factors[holders[0]], factors[holders[1]])
        factors.remove(at: holders[1])
        factors.remove(at: holders[0])
        factors.append(combined)
      } else if holders.count == 2 {
        // Σ_k X_·k Y_k· in the order that needs the fewest transposes.
        func transposes(_ x: IndexedTensor, _ y: IndexedTensor) -> Int {
          (x.col == k ? 0 : 1) + (y.row == k ? 0 : 1)
        }
        let (first, second) =
          transposes(factors[holders[1]], factors[holders[0]])
            < transposes(factors[holders[0]], factors[holders[1]])
          ? (factors[holders[1]], factors[holders[0]])
          : (factors[holders[0]], factors[holders[1]])
        let a = try first.withColumn(k)
        let b = try second.withRow(k)
        let product = IndexedTensor(
          expr: try RaiseRules.apply("matmul", ["A": a.expr, "B": b.expr]), row: a.row,
          col: b.col)
        factors.remove(at: holders[1])
        factors.remove(at: holders[0])
        factors.append(product)
        pending.removeFirst()
      } else if holders.count == 1 {
        let t = factors[holders[0]]
        let reduced: IndexedTensor
        if case .call(.diagonal, let m) = t.expr.node, t.indices == [k] {
          reduced = IndexedTensor(
            expr: try RaiseRules.apply("trace", ["S": m]), row: nil, col: nil)
        } else if t.row == k {
          reduced = IndexedTensor(
            expr: try RaiseRules.apply("row-sum", ["M": t.expr]), row: nil, col: t.col)
        } else {
          reduced = IndexedTensor(
            expr: try RaiseRules.apply("column-sum", ["M": t.expr]), row: t.row, col: nil)
        }
        factors[holders[0]] = reduced
        pending.removeFirst()
      } else if holders.count > 2 {
        // Combine two holders with the same index set entry by entry, or a vector v_k into
        // a matrix as A diag(v), then retry.
        guard
          let (x, y) = samePair(holders.map { factors[$0] })
            ?? vectorPair(holders.map { factors[$0] })
        else {
          // The caller may keep the sum in index form (a three- or four-index result).
          kept.append(k)
          pending.removeFirst()
          continue
        }
        let combined = try combine(factors[holders[x]], factors[holders[y]])
        factors.remove(at: holders[y])
        factors.remove(at: holders[x])
        factors.append(combined)
      } else {
        throw MatcalcError.unsupported("summation index \(k) does not occur in the summand", nil)
      }
    }
    return factors
  }

  /// `t` with index `k` renamed `kept`; an entry whose two indices become equal is read on
  /// the diagonal (A_ii → diag(A)_i).
  private static func renamed(_ t: IndexedTensor, _ k: String, to kept: String?) throws
    -> IndexedTensor
  {
    var t = t
    if t.row == k { t.row = kept }
    if t.col == k { t.col = kept }
    if !t.isDelta, t.row == t.col, let index = t.row {
      t = IndexedTensor(
        expr: try RaiseRules.apply("diagonal", ["S": t.expr]), row: index, col: nil)
    }
    return t
  }

  static func samePair(_ tensors: [IndexedTensor]) -> (Int, Int)? {
    for x in tensors.indices {
      for y in tensors.indices where y > x {
        if Set(tensors[x].indices) == Set(tensors[y].indices) { return (x, y) }
      }
    }
    return nil
  }

  /// A vector and a matrix that share the vector's index.
  static func vectorPair(_ tensors: [IndexedTensor]) -> (Int, Int)? {
    for x in tensors.indices where tensors[x].indices.count == 1 {
      for y in tensors.indices where y != x && tensors[y].indices.count == 2 {
        if tensors[y].indices.contains(tensors[x].indices[0]) { return (min(x, y), max(x, y)) }
      }
    }
    return nil
  }

  static func align(_ t: IndexedTensor, to reference: IndexedTensor) throws -> IndexedTensor {
    if t.row == reference.row && t.col == reference.col { return t }
    if t.indices.count == 1 {
      return reference.row == t.indices.first ? try t.asColumn() : try t.withColumn(t.indices[0])
    }
    return try t.transposed()
  }

  static func hadamard(_ a: IndexedTensor, _ b: IndexedTensor) throws -> IndexedTensor {
    let aligned = try align(b, to: a)
    return IndexedTensor(
      expr: try RaiseRules.apply("hadamard", ["M": a.expr, "N": aligned.expr]), row: a.row,
      col: a.col)
  }

  /// A free δ_ik times `other`, whose indices are among i and k: s I, diag(v), diag(diag(M)).
  /// `nil` for s δ_ik when the delta's size is not known (an index formula's `delta(i, j)`).
  private static func freeDelta(_ delta: IndexedTensor, _ other: IndexedTensor) throws
    -> IndexedTensor?
  {
    guard let row = delta.row, let col = delta.col else { return nil }
    let otherIndices = Set(other.indices)
    guard otherIndices.isSubset(of: [row, col]) else { return nil }
    let matrix: Expr
    switch other.indices.count {
    case 0:
      guard case .identity(let d) = delta.expr.node else { return nil }
      matrix = try RaiseRules.apply("scaled-identity", ["s": other.expr], dimensions: ["m": d])
    case 1:
      matrix = try RaiseRules.apply("diag", ["u": try other.asColumn().expr])
    default:
      matrix = try RaiseRules.apply("diagonal-part", ["S": other.expr])
    }
    return IndexedTensor(expr: matrix, row: row, col: col)
  }

  /// The product of two factors with no index summed between them.
  static func combine(_ a: IndexedTensor, _ b: IndexedTensor) throws -> IndexedTensor {
    if a.isDelta || b.isDelta {
      let (delta, other) = a.isDelta ? (a, b) : (b, a)
      if !other.isDelta, let product = try freeDelta(delta, other) { return product }
      if other.isDelta, Set(a.indices) == Set(b.indices) { return a }  // δ_ik δ_ik = δ_ik
      throw MatcalcError.unsupported(
        "a delta whose indices are not summed; contract it with sum(k, …)", nil)
    }
    if a.indices.isEmpty {
      return IndexedTensor(
        expr: try RaiseRules.apply("scale", ["s": a.expr, "M": b.expr]), row: b.row, col: b.col)
    }
    if b.indices.isEmpty {
      return IndexedTensor(
        expr: try RaiseRules.apply("scale", ["s": b.expr, "M": a.expr]), row: a.row, col: a.col)
    }
    if Set(a.indices) == Set(b.indices) { return try hadamard(a, b) }
    let shared = Set(a.indices).intersection(b.indices)
    if shared.isEmpty && a.indices.count == 1 && b.indices.count == 1 {
      // a_i b_j = (a bᵀ)_ij
      let column = try a.asColumn()
      let other = try b.asColumn()
      return IndexedTensor(
        expr: try RaiseRules.apply("outer", ["u": column.expr, "v": other.expr]), row: column.row,
        col: other.row)
    }
    if shared.count == 1, let i = shared.first {
      // x_i A_ij = (diag(x) A)_ij and A_ij y_j = (A diag(y))_ij
      let (vector, matrix) = a.indices.count == 1 ? (a, b) : (b, a)
      guard vector.indices.count == 1, matrix.indices.count == 2 else {
        throw MatcalcError.unsupported("a product with no matrix form", nil)
      }
      let v = try vector.asColumn().expr
      if matrix.col == i {
        return IndexedTensor(
          expr: try RaiseRules.apply("column-scaling", ["M": matrix.expr, "v": v]),
          row: matrix.row, col: matrix.col)
      }
      return IndexedTensor(
        expr: try RaiseRules.apply("row-scaling", ["u": v, "M": matrix.expr]), row: matrix.row,
        col: matrix.col)
    }
    throw MatcalcError.unsupported(
      "a product with free indices {\((a.indices + b.indices).joined(separator: ","))}: more "
        + "than two free indices has no matrix form", nil)
  }
}
