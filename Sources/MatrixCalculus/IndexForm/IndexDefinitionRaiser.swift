/// Raises an index definition (`D[i,j] = sum(k, W[i,k]*X[k,j])`) to matrix form (`W*X`).
///
/// Products of factors are contracted pairwise: Σ_k A_ik B_kj → (AB)_ij; an index summed in
/// one factor only becomes a product with 𝟏; equal index sets multiply as ⊙; disjoint
/// vectors make an outer product; δ_ik with k summed renames k to i. What cannot be raised
/// (three free indices, an index shared by three factors with different partners) is
/// reported as unsupported, never guessed.
enum IndexDefinitionRaiser {
  static func raise(
    name: String, indices: [String], body: SyntaxExpr, checker: TypeChecker
  ) throws -> Expr {
    guard indices.count <= 2, Set(indices).count == indices.count else {
      throw MatcalcError.unsupported(
        "'\(name)[\(indices.joined(separator: ","))]': index definitions take one or two "
          + "distinct indices", body.range)
    }
    let raiser = Raiser(checker: checker)
    let tensor = try raiser.raise(body)
    let free = Set(tensor.indices)
    guard free == Set(indices) else {
      throw MatcalcError.shapeMismatch(
        "the right side has free indices {\(tensor.indices.sorted().joined(separator: ","))} but "
          + "\(name) has [\(indices.joined(separator: ","))]", body.range)
    }
    var ordered = try tensor.ordered(indices)
    if indices.count == 1 { ordered = try ordered.asColumn() }
    return ordered.expr
  }

  private struct Raiser {
    let checker: TypeChecker

    func raise(_ node: SyntaxExpr) throws -> IndexedTensor {
      if !node.usesIndexNotation {
        let value = try checker.expression(node)
        guard value.isScalar else {
          throw MatcalcError.syntax(
            "in an index formula, write entries such as \(checker.text(node.range))[i,j]",
            node.range)
        }
        return IndexedTensor(expr: value, row: nil, col: nil)
      }
      switch node.kind {
      case .negate(let a):
        var t = try raise(a)
        t.expr = try -t.expr
        return t
      case .binary("+", let a, let b), .binary("-", let a, let b):
        let left = try raise(a)
        var right = try raise(b)
        if !left.expr.isScalar && !right.expr.isScalar {
          guard Set(left.indices) == Set(right.indices) else {
            throw MatcalcError.shapeMismatch(
              "\(checker.text(node.range)): the terms have free indices "
                + "{\(left.indices.joined(separator: ","))} and "
                + "{\(right.indices.joined(separator: ","))}", node.range)
          }
          right = try align(right, to: left)
        }
        let indexSource = left.expr.isScalar ? right : left
        let sum: Expr
        if case .binary("+", _, _) = node.kind {
          sum = try left.expr + right.expr
        } else {
          sum = try left.expr - right.expr
        }
        return IndexedTensor(expr: sum, row: indexSource.row, col: indexSource.col)
      case .binary("/", let a, let b):
        var t = try raise(a)
        let divisor = try raise(b)
        guard divisor.indices.isEmpty else {
          return try contract(
            [t, try elementwise(divisor) { try Expr.power($0, .constant(-1)) }], [])
        }
        t.expr = try t.expr * Expr.power(divisor.expr, .constant(-1))
        return t
      case .binary("^", let a, let b), .binary(".^", let a, let b):
        let exponent = try checker.expression(b)
        guard exponent.isScalar else {
          throw MatcalcError.shapeMismatch("the exponent must be a scalar", b.range)
        }
        return try elementwise(try raise(a)) { try Expr.power($0, exponent) }
      case .binary("*", _, _):
        return try contract(try factors(node).map(raise), [])
      case .call("sum", let arguments) where arguments.count == 2:
        var summed: [String] = []
        var inner = node
        while case .call("sum", let args) = inner.kind, args.count == 2 {
          guard case .name(let index) = args[0].kind else {
            throw MatcalcError.syntax("sum(k, …) needs an index name first", args[0].range)
          }
          summed.append(index)
          inner = args[1]
        }
        return try contract(try factors(inner).map(raise), summed)
      case .call("delta", let arguments):
        let names = arguments.compactMap { arg -> String? in
          if case .name(let n) = arg.kind { return n } else { return nil }
        }
        guard names.count == 2 else {
          throw MatcalcError.syntax("delta takes two indices: delta(i, j)", node.range)
        }
        return IndexedTensor(expr: .constant(1), row: names[0], col: names[1], isDelta: true)
      case .call(let name, let arguments) where arguments.count == 1:
        guard let function = Function(rawValue: name), function.isElementwise else {
          throw MatcalcError.unsupported(
            "\(name)(…) of an indexed expression; only element-wise functions apply entry by "
              + "entry", node.range)
        }
        return try elementwise(try raise(arguments[0])) { try Expr.call(function, $0) }
      case .index(let tensorName, let names):
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
      default:
        throw MatcalcError.unsupported(
          "\(checker.text(node.range)) in an index formula", node.range)
      }
    }

    func elementwise(_ t: IndexedTensor, _ f: (Expr) throws -> Expr) throws -> IndexedTensor {
      IndexedTensor(expr: try f(t.expr), row: t.row, col: t.col)
    }

    /// The factors of a product `a*b*c` (flattened).
    func factors(_ node: SyntaxExpr) -> [SyntaxExpr] {
      if case .binary("*", let a, let b) = node.kind { return factors(a) + factors(b) }
      return [node]
    }

    func align(_ t: IndexedTensor, to reference: IndexedTensor) throws -> IndexedTensor {
      if t.indices == reference.indices { return t }
      if t.indices.count == 1 {
        return reference.row == t.indices.first ? try t.asColumn() : try t.withColumn(t.indices[0])
      }
      return try t.transposed()
    }

    /// Multiplies factors and sums over `summed`, raising to matrix operations.
    func contract(_ input: [IndexedTensor], _ summed: [String]) throws -> IndexedTensor {
      var factors = input
      var pending = summed
      while let k = pending.first {
        let holders = factors.indices.filter { factors[$0].indices.contains(k) }
        if holders.count == 2,
          let deltaAt = holders.first(where: { factors[$0].isDelta })
        {
          // Σ_k δ_ik B_k… = B_i…: rename k in the other factor.
          let delta = factors[deltaAt]
          let other = holders[0] == deltaAt ? holders[1] : holders[0]
          let kept = delta.row == k ? delta.col : delta.row
          if factors[other].row == k { factors[other].row = kept }
          if factors[other].col == k { factors[other].col = kept }
          if factors[other].row == factors[other].col, let index = factors[other].row {
            factors[other] = IndexedTensor(
              expr: try Expr.call(.diagonal, factors[other].expr), row: index, col: nil)
          }
          factors.remove(at: deltaAt)
          pending.removeFirst()
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
          let product = IndexedTensor(expr: try a.expr * b.expr, row: a.row, col: b.col)
          factors.remove(at: holders[1])
          factors.remove(at: holders[0])
          factors.append(product)
          pending.removeFirst()
        } else if holders.count == 1 {
          let t = factors[holders[0]]
          let reduced: IndexedTensor
          if t.row == k {
            let ones = try Expr.ones(Shape(.one, t.expr.shape.rows))
            reduced = IndexedTensor(expr: try ones * t.expr, row: nil, col: t.col)
          } else {
            let ones = try Expr.ones(Shape(t.expr.shape.cols, .one))
            reduced = IndexedTensor(expr: try t.expr * ones, row: t.row, col: nil)
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
            throw MatcalcError.unsupported(
              "index \(k) is shared by \(holders.count) factors in a way that has no matrix form",
              nil)
          }
          let combined = try combine(factors[holders[x]], factors[holders[y]])
          factors.remove(at: holders[y])
          factors.remove(at: holders[x])
          factors.append(combined)
        } else {
          throw MatcalcError.unsupported("summation index \(k) does not occur in the summand", nil)
        }
      }
      // No sums left: combine what remains.
      var result = IndexedTensor(expr: .constant(1), row: nil, col: nil)
      for factor in factors { result = try combine(result, factor) }
      return result
    }

    func samePair(_ tensors: [IndexedTensor]) -> (Int, Int)? {
      for x in tensors.indices {
        for y in tensors.indices where y > x {
          if Set(tensors[x].indices) == Set(tensors[y].indices) { return (x, y) }
        }
      }
      return nil
    }

    /// A vector and a matrix that share the vector's index.
    func vectorPair(_ tensors: [IndexedTensor]) -> (Int, Int)? {
      for x in tensors.indices where tensors[x].indices.count == 1 {
        for y in tensors.indices where y != x && tensors[y].indices.count == 2 {
          if tensors[y].indices.contains(tensors[x].indices[0]) { return (min(x, y), max(x, y)) }
        }
      }
      return nil
    }

    func hadamard(_ a: IndexedTensor, _ b: IndexedTensor) throws -> IndexedTensor {
      let aligned = try align(b, to: a)
      return IndexedTensor(expr: try Expr.hadamard(a.expr, aligned.expr), row: a.row, col: a.col)
    }

    /// The product of two factors with no index summed between them.
    func combine(_ a: IndexedTensor, _ b: IndexedTensor) throws -> IndexedTensor {
      if a.isDelta || b.isDelta {
        throw MatcalcError.unsupported(
          "a delta whose indices are not summed; contract it with sum(k, …)", nil)
      }
      if a.indices.isEmpty {
        return IndexedTensor(expr: try a.expr * b.expr, row: b.row, col: b.col)
      }
      if b.indices.isEmpty {
        return IndexedTensor(expr: try b.expr * a.expr, row: a.row, col: a.col)
      }
      if Set(a.indices) == Set(b.indices) { return try hadamard(a, b) }
      let shared = Set(a.indices).intersection(b.indices)
      if shared.isEmpty && a.indices.count == 1 && b.indices.count == 1 {
        // a_i b_j = (a bᵀ)_ij
        let column = try a.asColumn()
        let row = try b.asColumn().transposed()
        return IndexedTensor(expr: try column.expr * row.expr, row: column.row, col: row.col)
      }
      if shared.count == 1, let i = shared.first {
        // x_i A_ij = (diag(x) A)_ij and A_ij y_j = (A diag(y))_ij
        let (vector, matrix) = a.indices.count == 1 ? (a, b) : (b, a)
        guard vector.indices.count == 1, matrix.indices.count == 2 else {
          throw MatcalcError.unsupported("a product with no matrix form", nil)
        }
        let d = try Expr.call(.diag, try vector.asColumn().expr)
        if matrix.col == i {
          return IndexedTensor(expr: try matrix.expr * d, row: matrix.row, col: matrix.col)
        }
        return IndexedTensor(expr: try d * matrix.expr, row: matrix.row, col: matrix.col)
      }
      throw MatcalcError.unsupported(
        "a product with free indices {\((a.indices + b.indices).joined(separator: ","))}: more "
          + "than two free indices has no matrix form", nil)
    }
  }
}
