extension Expr {
  /// The same node over new children, through the canonical constructors.
  func rebuilt(_ children: [Expr], elementwise: Bool = false) throws -> Expr {
    switch node {
    case .variable, .constant, .identity, .ones, .zero: return self
    case .add: return try Expr.add(children)
    case .product:
      if elementwise && !children[0].isScalar && !children[1].isScalar {
        return try Expr.hadamard(children[0], children[1])
      }
      return try Expr.multiply(children[0], children[1])
    case .chain: return try Expr.product(of: children[...]) ?? self
    case .hadamard: return try Expr.hadamard(children[0], children[1])
    case .power: return try Expr.power(children[0], children[1])
    case .transpose: return try Expr.transpose(children[0])
    case .call(let f, _): return try Expr.call(f, children[0])
    case .opaque(let f, _): return try Expr.make(.opaque(f, children[0]))
    case .gradient(let f, _): return try Expr.make(.gradient(f, children[0]))
    case .mapped(let f, let order, _): return try Expr.make(.mapped(f, order, children[0]))
    case .differential: return try Expr.make(.differential(children[0]))
    }
  }
}

extension Expr {
  /// The node over `transform` of each child, through the canonical constructors; itself
  /// when no child changes (no array is made for the one or two children most nodes have).
  func mappingChildren(_ transform: (Expr) throws -> Expr) throws -> Expr {
    switch node {
    case .variable, .constant, .identity, .ones, .zero: return self
    case .add(let terms), .chain(let terms):
      // An array is made only once a child changes.
      var mapped: [Expr]?
      for (index, term) in terms.enumerated() {
        let new = try transform(term)
        if mapped == nil && new !== term {
          mapped = Array(terms[..<index])
          mapped?.reserveCapacity(terms.count)
        }
        mapped?.append(new)
      }
      return try mapped.map { try rebuilt($0) } ?? self
    case .product(let a, let b), .hadamard(let a, let b), .power(let a, let b):
      let x = try transform(a)
      let y = try transform(b)
      return x === a && y === b ? self : try rebuilt([x, y])
    case .transpose(let a), .call(_, let a), .opaque(_, let a), .gradient(_, let a),
      .mapped(_, _, let a), .differential(let a):
      let x = try transform(a)
      return x === a ? self : try rebuilt([x])
    }
  }

  /// The expression with every key of `replacements` replaced by its value.
  func substituting(_ replacements: [Expr: Expr]) throws -> Expr {
    if replacements.isEmpty { return self }
    var memo: [Expr: Expr] = [:]
    func walk(_ e: Expr) throws -> Expr {
      if let value = replacements[e] { return value }
      if let done = memo[e] { return done }
      let result = try e.mappingChildren(walk)
      memo[e] = result
      return result
    }
    return try walk(self)
  }
}
