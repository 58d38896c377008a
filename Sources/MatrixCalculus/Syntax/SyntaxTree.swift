/// An untyped expression as written, with its source range. The type checker turns it
/// into an ``Expr``.
final class SyntaxExpr: Sendable {
  enum Kind: Sendable {
    case name(String)
    case number(Double)
    case negate(SyntaxExpr)
    case binary(String, SyntaxExpr, SyntaxExpr)  // + - * / .* ./ .^ ^
    case transpose(SyntaxExpr)
    case call(String, [SyntaxExpr])
    case index(String, [String])  // W[i,k]
  }

  let kind: Kind
  let range: SourceRange
  /// Height of the tree below and including this node; bounded by the parser.
  let height: Int
  /// Whether the tree uses index notation: `W[i,k]`, `sum(k, …)` or `delta(i, j)`. Kept
  /// with the node, as the height is, since every pass over the statements asks.
  let usesIndexNotation: Bool

  init(_ kind: Kind, _ range: SourceRange) {
    self.kind = kind
    self.range = range
    switch kind {
    case .name, .number:
      height = 1
      usesIndexNotation = false
    case .index:
      height = 1
      usesIndexNotation = true
    case .negate(let a), .transpose(let a):
      height = a.height + 1
      usesIndexNotation = a.usesIndexNotation
    case .binary(_, let a, let b):
      height = max(a.height, b.height) + 1
      usesIndexNotation = a.usesIndexNotation || b.usesIndexNotation
    case .call(let name, let arguments):
      height = arguments.reduce(0) { max($0, $1.height) } + 1
      usesIndexNotation =
        name == "delta" || (name == "sum" && arguments.count == 2)
        || arguments.contains { $0.usesIndexNotation }
    }
  }
}

/// The declared type of a name (shared/LANGUAGE.md).
public enum TypeSpec: Hashable, Sendable {
  /// A 1×1 scalar.
  case scalar
  /// A column vector of dimension `d`.
  case vector(Dim)
  /// A `d1`×`d2` matrix.
  case matrix(Dim, Dim)
  /// A square matrix known to equal its transpose.
  case symmetric(Dim)
  /// A probability vector of dimension `d`: entries ≥ 0 summing to 1 (`sum(y)` is 1).
  case simplex(Dim)
  /// An opaque differentiable scalar function of one argument (e.g. a loss L).
  case function
  /// An opaque differentiable function applied entry by entry (prints its derivative f′).
  case elementwise
}

extension TypeSpec {
  /// Whether the type is `symmetric(n)`.
  var isSymmetric: Bool {
    if case .symmetric = self { return true }
    return false
  }
}

extension TypeSpec: CustomStringConvertible {
  /// The type as written in a declaration: `scalar`, `vector(n)`, `matrix(m, n)`.
  public var description: String {
    switch self {
    case .scalar: return "scalar"
    case .vector(let d): return "vector(\(d))"
    case .matrix(let r, let c): return "matrix(\(r), \(c))"
    case .symmetric(let d): return "symmetric(\(d))"
    case .simplex(let d): return "simplex(\(d))"
    case .function: return "function"
    case .elementwise: return "elementwise"
    }
  }
}

extension SyntaxExpr {
  /// The range of the first call of `name` in this expression, if any.
  func firstCall(of name: String) -> SourceRange? {
    switch kind {
    case .name, .number, .index: return nil
    case .negate(let a), .transpose(let a): return a.firstCall(of: name)
    case .binary(_, let a, let b): return a.firstCall(of: name) ?? b.firstCall(of: name)
    case .call(let called, let arguments):
      if called == name { return range }
      for argument in arguments {
        if let found = argument.firstCall(of: name) { return found }
      }
      return nil
    }
  }
}

/// One statement of a problem. Indirect: each pass over the statements copies them, and a
/// boxed statement copies as one reference.
indirect enum Statement: Sendable {
  case declaration(name: String, type: TypeSpec, range: SourceRange)
  case definition(name: String, body: SyntaxExpr, range: SourceRange)
  case indexDefinition(name: String, indices: [String], body: SyntaxExpr, range: SourceRange)
  case goal(of: String, wrt: String, order: Int, range: SourceRange)
  /// `NAME(t, …) = EXPR`: a function applied entry by entry, defined by its meaning over
  /// scalar parameters local to it.
  case function(
    name: String, parameters: [(name: String, range: SourceRange)], body: SyntaxExpr,
    range: SourceRange)
}
