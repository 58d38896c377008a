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
          right = try IndexContraction.align(right, to: left)
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
          return try IndexContraction.contract(
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
        return try IndexContraction.contract(try factors(node).map(raise), [])
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
        return try IndexContraction.contract(try factors(inner).map(raise), summed)
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
  }
}
