/// A matrix expression together with the index each axis carries: `(A, i, j)` is A_ij,
/// `(x, i, nil)` is x_i, `(s, nil, nil)` a scalar. Transposing swaps the indices.
struct IndexedTensor {
  var expr: Expr
  var row: String?
  var col: String?
  /// A Kronecker delta δ_row,col (expr unused until contracted away).
  var isDelta = false

  var indices: [String] { [row, col].compactMap { $0 } }

  func transposed() throws -> IndexedTensor {
    IndexedTensor(
      expr: try RaiseRules.apply("transpose", ["M": expr]), row: col, col: row, isDelta: isDelta)
  }

  /// The same tensor with `index` on the column axis (for a left operand of a product).
  func withColumn(_ index: String) throws -> IndexedTensor {
    col == index ? self : try transposed()
  }

  /// The same tensor with `index` on the row axis (for a right operand).
  func withRow(_ index: String) throws -> IndexedTensor {
    row == index ? self : try transposed()
  }

  /// Oriented as a column when it has one index (x_i as an n×1 vector).
  func asColumn() throws -> IndexedTensor {
    row == nil && col != nil ? try transposed() : self
  }

  /// The same tensor with its free indices in the given order.
  func ordered(_ target: [String]) throws -> IndexedTensor {
    if indices == target { return self }
    let flipped = try transposed()
    if flipped.indices == target { return flipped }
    if target.count == 1, let only = target.first, indices == [only] { return self }
    throw MatcalcError.internalError("cannot order \(indices) as \(target)")
  }
}
