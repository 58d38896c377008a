/// The built-in functions of the language that take one argument.
public enum Function: String, Hashable, Sendable, CaseIterable {
  /// `tr(A) = Σ_i A_ii`.
  case trace = "tr"
  /// `det(A)`.
  case det
  /// `log det(A)`.
  case logdet
  /// `A⁻¹`.
  case inverse = "inv"
  /// `diag(x)_ij = δ_ij x_i` (vector to diagonal matrix).
  case diag
  /// `diag(A)_i = A_ii` (matrix to its diagonal; written `diag(A)` in the language).
  case diagonal
  /// `sum(A) = Σ_ij A_ij`.
  case sum
  /// `norm1(A) = Σ_ij |A_ij|`.
  case norm1
  /// `norm2(A) = (Σ_ij A_ij²)^½`.
  case norm2
  /// `softmax(x)_i = exp(x_i) / Σ_j exp(x_j)`.
  case softmax
  /// `logsumexp(x) = log Σ_i exp(x_i)`.
  case logsumexp
  /// Element-wise functions.
  case exp, log, sin, cos, tanh, sigmoid, relu, sqrt, abs
  /// Element-wise Heaviside step (1 where x > 0, else 0): the derivative of relu.
  case step
  /// Element-wise sign: the derivative of abs.
  case sign

  /// Whether the function acts entry by entry.
  public var isElementwise: Bool {
    switch self {
    case .exp, .log, .sin, .cos, .tanh, .sigmoid, .relu, .sqrt, .abs, .step, .sign: return true
    case .trace, .det, .logdet, .inverse, .diag, .diagonal, .sum, .norm1, .norm2, .softmax,
      .logsumexp:
      return false
    }
  }

  /// The name as written in the language.
  public var spelling: String { self == .diagonal ? "diag" : rawValue }
}

extension Function {
  /// The case's stored tag: a raw-value enum would otherwise hash and compare its spelling,
  /// a string, on every rule lookup and every pool probe of a call node.
  var tag: UInt8 { withUnsafeBytes(of: self) { $0.first ?? 0 } }

  /// Same case.
  public static func == (lhs: Function, rhs: Function) -> Bool { lhs.tag == rhs.tag }

  /// Hashes the case.
  public func hash(into hasher: inout Hasher) { hasher.combine(tag) }
}
