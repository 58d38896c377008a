/// One dimension of a shape: a positive integer or a symbol such as `n`.
public enum Dim: Hashable, Sendable, Comparable, CustomStringConvertible {
  /// A fixed size.
  case size(Int)
  /// A symbolic size, as declared (`n`, `batch`).
  case symbol(String)

  /// The dimension 1.
  public static let one = Dim.size(1)

  /// Whether this is the dimension 1 (read from the payload: no shared `one` to load and no
  /// general comparison, on a test nearly every constructor makes).
  public var isOne: Bool {
    if case .size(1) = self { return true }
    return false
  }

  /// The size or the symbol's name.
  public var description: String {
    switch self {
    case .size(let n): return "\(n)"
    case .symbol(let name): return name
    }
  }
}

/// The shape of a matrix expression: rows × columns. Scalars are 1×1, vectors n×1.
public struct Shape: Hashable, Sendable, CustomStringConvertible {
  /// Number of rows.
  public var rows: Dim
  /// Number of columns.
  public var cols: Dim

  /// Creates a shape.
  public init(_ rows: Dim, _ cols: Dim) {
    self.rows = rows
    self.cols = cols
  }

  /// The 1×1 shape.
  public static let scalar = Shape(.one, .one)

  /// Whether this is 1×1.
  public var isScalar: Bool { rows.isOne && cols.isOne }
  /// Whether this is n×1 with n ≠ 1.
  public var isColumn: Bool { cols.isOne && !rows.isOne }
  /// Whether this is 1×n with n ≠ 1.
  public var isRow: Bool { rows.isOne && !cols.isOne }
  /// Whether both dimensions are equal.
  public var isSquare: Bool { rows == cols }

  /// The transposed shape.
  public var transposed: Shape { Shape(cols, rows) }

  /// `m×n`, `n` for a column vector, `1` for a scalar.
  public var description: String {
    if isScalar { return "scalar" }
    if isColumn { return "vector(\(rows))" }
    return "\(rows)×\(cols)"
  }
}
