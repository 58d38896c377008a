/// Raises an index definition (`D[i,j] = sum(k, W[i,k]*X[k,j])`) to matrix form (`W*X`).
///
/// The right side is first expanded into a sum of terms, each a coefficient × Σ over bound
/// indices × indexed factors (entries, Kronecker deltas, element-wise functions of raised
/// index expressions): products distribute over sums, so Σ_k (X_ik − X_jk)² becomes
/// Σ_k X_ik X_ik − 2 Σ_k X_ik X_jk + Σ_k X_jk X_jk. Each term is contracted to matrix form
/// (Σ_k A_ik B_kj → (AB)_ij, a free δ_ij → I) and broadcast to the left side's indices with
/// 𝟏 (a_i over j is (a 𝟏ᵀ)_ij), as NumPy broadcasts. What cannot be raised (three free
/// indices, an index shared by three factors with different partners) is reported as
/// unsupported, never guessed.
enum IndexDefinitionRaiser {
  static func raise(
    name: String, indices: [String], body: SyntaxExpr, checker: TypeChecker
  ) throws -> Expr {
    guard indices.count <= 2, Set(indices).count == indices.count else {
      throw MatcalcError.unsupported(
        "'\(name)[\(indices.joined(separator: ","))]': index definitions take up to three "
          + "distinct indices", body.range)
    }
    // v[i] = sum(i, x[i]): a free index summed inside its own definition is a mistake.
    func checkSums(_ node: SyntaxExpr) throws {
      switch node.kind {
      case .call("sum", let arguments) where arguments.count == 2:
        if case .name(let index) = arguments[0].kind, indices.contains(index) {
          throw MatcalcError.syntax(
            "\(index) is an index of \(name)[\(indices.joined(separator: ","))]; sum over "
              + "another name", arguments[0].range)
        }
        try arguments.forEach(checkSums)
      case .call(_, let arguments): try arguments.forEach(checkSums)
      case .binary(_, let a, let b):
        try checkSums(a)
        try checkSums(b)
      case .negate(let a), .transpose(let a): try checkSums(a)
      case .name, .number, .index: return
      }
    }
    try checkSums(body)
    let raiser = Raiser(checker: checker, ranges: checker.indexRanges(of: name))
    var terms = try raiser.expand(body)
    for index in terms.indices { try raiser.rename(&terms[index], avoiding: Set(indices)) }
    let tensor = try raiser.raise(terms, to: indices, at: body)
    var ordered = try tensor.ordered(indices)
    if indices.count == 1 { ordered = try ordered.asColumn() }
    return ordered.expr
  }

  private struct Raiser {
    let checker: TypeChecker
    /// The range of each index of the definition.
    let ranges: [String: Dim]

    /// The terms of an index expression (products distributed over sums).
    func expand(_ node: SyntaxExpr) throws -> [IndexTerm] {
      if !node.usesIndexNotation {
        let value = try checker.expression(node)
        guard value.isScalar else {
          throw MatcalcError.syntax(
            "in an index formula, write entries such as \(checker.text(node.range))[i,j]",
            node.range)
        }
        if let c = value.constantValue { return c == 0 ? [] : [IndexTerm(coefficient: c)] }
        return [IndexTerm(factors: [IndexedTensor(expr: value, row: nil, col: nil)])]
      }
      switch node.kind {
      case .negate(let a):
        return try expand(a).map {
          var t = $0; t.coefficient = -t.coefficient; return t
        }
      case .binary("+", let a, let b):
        return try expand(a) + expand(b)
      case .binary("-", let a, let b):
        return try expand(a)
          + expand(b).map {
            var t = $0; t.coefficient = -t.coefficient; return t
          }
      case .binary("*", let a, let b), .binary(".*", let a, let b):
        return try product(expand(a), expand(b))
      case .binary("/", let a, let b), .binary("./", let a, let b):
        let divisor = try raise(expand(b), at: b)
        if divisor.indices.isEmpty, let c = divisor.expr.constantValue, c != 0 {
          return try expand(a).map {
            var t = $0; t.coefficient /= c; return t
          }
        }
        let reciprocal = try elementwise(divisor) { try Expr.power($0, .constant(-1)) }
        return try product(expand(a), [IndexTerm(factors: [reciprocal])])
      case .binary("^", let a, let b), .binary(".^", let a, let b):
        let exponent = try checker.expression(b)
        guard exponent.isScalar else {
          throw MatcalcError.shapeMismatch("the exponent must be a scalar", b.range)
        }
        let base = try expand(a)
        // (a − b)² multiplies out, so that broadcast terms can be raised one by one.
        if base.count > 1, let k = exponent.constantValue, k == k.rounded(), k >= 1, k <= 4 {
          var result = base
          for _ in 1..<Int(k) { result = try product(result, base) }
          return result
        }
        let raised = try raise(base, at: a)
        return [IndexTerm(factors: [try elementwise(raised) { try Expr.power($0, exponent) }])]
      case .call("sum", let arguments) where arguments.count == 2:
        guard case .name(let index) = arguments[0].kind else {
          throw MatcalcError.syntax("sum(k, …) needs an index name first", arguments[0].range)
        }
        return try expand(arguments[1]).map { term in
          var term = term
          // An inner sum over the same name is a different index.
          if term.summed.contains(index) { try rename(&term, avoiding: [index]) }
          if !term.free.contains(index) {
            // Σ_k c = c 𝟏ᵀ𝟏: the sum over an index the term does not use counts it.
            term.factors.append(try ones(index, at: arguments[0]))
          }
          term.summed.append(index)
          return term
        }
      case .call("delta", let arguments):
        let names = arguments.compactMap { arg -> String? in
          if case .name(let n) = arg.kind { return n } else { return nil }
        }
        guard names.count == 2, arguments.count == 2 else {
          throw MatcalcError.syntax("delta takes two indices: delta(i, j)", node.range)
        }
        if names[0] == names[1] { return [IndexTerm()] }  // δ_ii = 1
        // A free δ_ij is the identity of the indices' range.
        guard let d = ranges[names[0]] ?? ranges[names[1]] else {
          throw MatcalcError.shapeMismatch(
            "the range of \(names[0]) and \(names[1]) is not known: use them in an entry",
            node.range)
        }
        let delta = IndexedTensor(
          expr: try Expr.identity(d), row: names[0], col: names[1], isDelta: true)
        return [IndexTerm(factors: [delta])]
      case .call(let name, let arguments)
      where arguments.count == 1
        && (checker.problem.operation(named: name) != nil
          || checker.problem.functions[name] == .elementwise):
        // A function applied entry by entry, defined by its meaning or opaque.
        let operation =
          checker.problem.operation(named: name) ?? ElementwiseOperation(opaque: name)
        let argument = try raise(expand(arguments[0]), at: arguments[0])
        return [
          IndexTerm(factors: [
            try elementwise(argument) { try Expr.make(.mapped(operation, 0, $0)) }
          ])
        ]
      case .call(let name, let arguments) where arguments.count == 1:
        guard let function = Function(rawValue: name), function.isElementwise else {
          throw MatcalcError.unsupported(
            "\(name)(…) of an indexed expression; only element-wise functions apply entry by "
              + "entry", node.range)
        }
        let argument = try raise(expand(arguments[0]), at: arguments[0])
        return [IndexTerm(factors: [try elementwise(argument) { try Expr.call(function, $0) }])]
      case .index(let tensorName, let names):
        if let definition = checker.threeIndexDefinition(tensorName) {
          return try inlined(definition.indices, definition.body, tensorName, as: names)
        }
        return [IndexTerm(factors: [try entry(tensorName, names, node)])]
      default:
        throw MatcalcError.unsupported(
          "\(checker.text(node.range)) in an index formula", node.range)
      }
    }

    /// The terms of a three-index definition's entry `T[a,b,c]`: its right side with its
    /// indices renamed to a, b, c and its bound indices renamed apart.
    func inlined(_ own: [String], _ body: SyntaxExpr, _ name: String, as names: [String])
      throws -> [IndexTerm]
    {
      let inner = Raiser(checker: checker, ranges: checker.indexRanges(of: name))
      var substitution: [String: String] = [:]
      for (from, to) in zip(own, names) { substitution[from] = to }
      return try inner.expand(body).map { term in
        var term = term
        try rename(&term, avoiding: Set(names).union(own))
        term.factors = try term.factors.compactMap { factor in
          var factor = factor
          factor.row = factor.row.map { substitution[$0] ?? $0 }
          factor.col = factor.col.map { substitution[$0] ?? $0 }
          guard factor.row == factor.col, let index = factor.row else { return factor }
          // T[i,i,k]: δ_ii = 1, A_ii = diag(A)_i.
          if factor.isDelta { return nil }
          return IndexedTensor(expr: try Expr.call(.diagonal, factor.expr), row: index, col: nil)
        }
        return term
      }
    }

    /// An entry `W[i,k]` or `x[i]` (W[i,i] is diag(W)_i).
    func entry(_ tensorName: String, _ names: [String], _ node: SyntaxExpr) throws
      -> IndexedTensor
    {
      let tensor = try checker.expression(SyntaxExpr(.name(tensorName), node.range))
      if names.count == 2 {
        if tensor.shape.cols == .one && tensor.shape.rows != .one {
          throw MatcalcError.shapeMismatch(
            "\(tensorName) is a vector: write \(tensorName)[i]", node.range)
        }
        if names[0] == names[1] {
          return IndexedTensor(expr: try Expr.call(.diagonal, tensor), row: names[0], col: nil)
        }
        return IndexedTensor(expr: tensor, row: names[0], col: names[1])
      }
      guard tensor.shape.cols == .one else {
        throw MatcalcError.shapeMismatch(
          "\(tensorName) is \(checker.describe(tensor.shape)): write \(tensorName)[i,j]",
          node.range)
      }
      return IndexedTensor(expr: tensor, row: names[0], col: nil)
    }

    /// 𝟏_k, the vector of ones over k's range.
    func ones(_ index: String, at node: SyntaxExpr) throws -> IndexedTensor {
      guard let d = ranges[index] else {
        throw MatcalcError.unsupported(
          "summation index \(index) does not occur in the summand", node.range)
      }
      return IndexedTensor(expr: try Expr.ones(Shape(d, .one)), row: index, col: nil)
    }

    /// The terms of a product: every term of one side times every term of the other, bound
    /// indices renamed apart.
    func product(_ left: [IndexTerm], _ right: [IndexTerm]) throws -> [IndexTerm] {
      var result: [IndexTerm] = []
      for a in left {
        for b in right {
          var b = b
          try rename(&b, avoiding: a.allIndices)
          var a = a
          try rename(&a, avoiding: Set(b.free))
          result.append(a * b)
        }
      }
      return result
    }

    /// Renames the term's bound indices that occur in `taken` to fresh names.
    func rename(_ term: inout IndexTerm, avoiding taken: Set<String>) throws {
      for (position, index) in term.summed.enumerated() where taken.contains(index) {
        var fresh = index + "'"
        while taken.contains(fresh) || term.allIndices.contains(fresh) { fresh += "'" }
        term.summed[position] = fresh
        term.factors = term.factors.map { factor in
          var factor = factor
          if factor.row == index { factor.row = fresh }
          if factor.col == index { factor.col = fresh }
          return factor
        }
      }
    }

    /// The terms raised to matrix form over `target` (or every free index, in order of
    /// appearance), errors placed at `node`.
    func raise(_ terms: [IndexTerm], to target: [String]? = nil, at node: SyntaxExpr) throws
      -> IndexedTensor
    {
      var free: [String] = []
      for term in terms { free += term.free.filter { !free.contains($0) } }
      let indices = target ?? free
      guard Set(free).isSubset(of: indices) else {
        throw MatcalcError.shapeMismatch(
          "the right side has free indices {\(free.sorted().joined(separator: ","))} but the "
            + "left side has [\(indices.joined(separator: ","))]", node.range)
      }
      guard indices.count <= 2 else {
        throw MatcalcError.unsupported(
          "\(checker.text(node.range)): free indices {\(indices.joined(separator: ","))}: more "
            + "than two free indices has no matrix form", node.range)
      }
      do {
        return try IndexRaising.raise(terms, to: indices, ranges: ranges)
      } catch MatcalcError.unsupported(let message, nil) {
        throw MatcalcError.unsupported(message, node.range)
      }
    }

    func elementwise(_ t: IndexedTensor, _ f: (Expr) throws -> Expr) throws -> IndexedTensor {
      IndexedTensor(expr: try f(t.expr), row: t.row, col: t.col)
    }
  }
}
