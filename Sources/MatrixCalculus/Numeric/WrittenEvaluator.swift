import Foundation
import TensorKernel

/// Evaluates a problem exactly as the user wrote it: matrix syntax operation by operation,
/// index definitions entry by entry (`D_ij = Σ_k W_ik X_kj` as a loop over i, j, k), with no
/// rewriting, raising or simplification in between. The certificate compares the printed
/// formula with finite differences of this value, so a misreading of the input by the engine
/// cannot certify itself.
struct WrittenEvaluator {
  let written: WrittenProblem
  let functions: [String: TypeSpec]
  let sizes: [String: Int]
  /// Inputs, then definitions as they are evaluated.
  var values: [String: Tensor]
  /// Three-index definitions, which have no matrix value, over their own indices.
  private var arrays: [String: IndexedArray] = [:]
  /// The largest magnitude met: the scale of the rounding error of a cancelling result.
  private(set) var largestMagnitude = 0.0

  init(
    _ written: WrittenProblem, functions: [String: TypeSpec], sizes: [String: Int],
    values: [String: Tensor]
  ) {
    self.written = written
    self.functions = functions
    self.sizes = sizes
    self.values = values
  }

  /// What the written form cannot evaluate is unsupported (not a point outside the domain,
  /// which the checker would move away from).
  private func fail(_ text: String) -> MatcalcError { .unsupported(text, nil) }

  /// Evaluates every definition in order; one already bound (a definition held free as the
  /// variable) keeps its value.
  mutating func bindDefinitions() throws {
    for definition in written.definitions where values[definition.name] == nil {
      let value: Tensor
      if definition.indices.count == 3 {
        let array = try indexed(definition.body, definition.ranges)
        arrays[definition.name] = try Self.broadcast(array, to: definition.indices) { index in
          guard let d = definition.ranges[index] else { throw fail("no range for \(index)") }
          return try size(d)
        }.transposed(to: definition.indices)
        continue
      } else if definition.isIndexFormula {
        value = try indexDefinition(definition)
      } else {
        value = try matrix(definition.body)
      }
      values[definition.name] = value
      largestMagnitude = max(largestMagnitude, value.maxAbs)
    }
  }

  /// The value of the written objective, or of a name.
  mutating func objective(_ expression: Expr) throws -> Tensor? {
    if let objective = written.objective, objective.typed == expression {
      try bindDefinitions()
      return try matrix(objective.syntax)
    }
    if case .variable(let name, _, _) = expression.node {
      try bindDefinitions()
      return values[name]
    }
    return nil
  }

  private func size(_ d: Dim) throws -> Int {
    switch d {
    case .size(let n): return n
    case .symbol(let name):
      guard let n = sizes[name] else { throw fail("no size for dimension \(name)") }
      return n
    }
  }

  // MARK: - Matrix syntax

  /// The value of a matrix-syntax node, operation by operation as LANGUAGE.md defines it.
  mutating func matrix(_ node: SyntaxExpr) throws -> Tensor {
    let result = try computeMatrix(node)
    largestMagnitude = max(largestMagnitude, result.maxAbs)
    return result
  }

  private mutating func computeMatrix(_ node: SyntaxExpr) throws -> Tensor {
    switch node.kind {
    case .number(let value): return Tensor(scalar: value)
    case .name(let name):
      if let value = values[name] { return value }
      if name == "I", let d = written.identitySizes[ObjectIdentifier(node)] {
        return Tensor.identity(try size(d))
      }
      throw fail("no value for \(name)")
    case .negate(let a): return try matrix(a).map { -$0 }
    case .transpose(let a): return try matrix(a).transposed
    case .index:
      throw fail("an entry outside an index formula")
    case .binary(let op, let a, let b):
      let left = try matrix(a)
      let right = try matrix(b)
      func elementwise(_ f: (Double, Double) -> Double) throws -> Tensor {
        guard let result = left.zip(right, f) else { throw fail("\(op) shapes") }
        return result
      }
      switch op {
      case "+": return try elementwise(+)
      case "-": return try elementwise(-)
      case ".*": return try elementwise(*)
      case "./", "/": return try elementwise(/)
      case ".^": return try elementwise { pow($0, $1) }
      case "*":
        if left.isScalar || right.isScalar { return try elementwise(*) }
        try Evaluator.ensureAllocatable([left.rows, right.cols])
        guard let product = left.matmul(right) else { throw fail("product shapes") }
        return product
      default:  // ^: a scalar power, or an integer matrix power
        if left.isScalar { return try elementwise { pow($0, $1) } }
        let k = right.scalar
        guard k == k.rounded(), abs(k) <= 64 else { throw fail("matrix power \(k)") }
        let base = k < 0 ? try Evaluator.apply(.inverse, left) : left
        var result = Tensor.identity(left.rows)
        for _ in 0..<Int(abs(k)) {
          guard let next = result.matmul(base) else { throw fail("power shapes") }
          result = next
        }
        return result
      }
    case .call(let name, let arguments) where TypeChecker.constantMatrices.contains(name):
      let dims = try arguments.map { argument -> Int in
        switch argument.kind {
        case .name(let symbol): return try size(.symbol(symbol))
        case .number(let value): return Int(value)
        default: throw fail("\(name)(…) takes dimensions")
        }
      }
      switch name {
      case "I":
        try Evaluator.ensureAllocatable([dims[0], dims[0]])
        return Tensor.identity(dims[0])
      case "ones":
        try Evaluator.ensureAllocatable([dims[0], dims[1]])
        return Tensor(rows: dims[0], cols: dims[1], repeating: 1)
      default:
        try Evaluator.ensureAllocatable([dims[0], dims[1]])
        return Tensor(rows: dims[0], cols: dims[1])
      }
    case .call(let name, let arguments):
      guard arguments.count == 1 else { throw fail("\(name) with \(arguments.count) arguments") }
      let argument = try matrix(arguments[0])
      if let definition = written.functions[name] {
        var result = argument
        result.storage = try applied(definition, to: argument.storage)
        return result
      }
      if let type = functions[name] {
        if type == .function { return Tensor(scalar: TestFunctions.opaque(name, argument)) }
        return argument.map { TestFunctions.mapped(0, $0) }
      }
      guard var function = Function(rawValue: name) else { throw fail("unknown \(name)") }
      if function == .diag && argument.cols != 1 { function = .diagonal }
      return try Evaluator.apply(function, argument)
    }
  }

  /// A function defined by its meaning (`sp(t) = log(1 + exp(t))`), applied to each entry:
  /// its body as written, evaluated with the parameter bound to the entry.
  private func applied(
    _ definition: (parameters: [String], body: SyntaxExpr), to entries: [Double]
  ) throws -> [Double] {
    guard let parameter = definition.parameters.first else { throw fail("no parameter") }
    return try entries.map { entry in
      var inner = WrittenEvaluator(
        written, functions: functions, sizes: sizes, values: [parameter: Tensor(scalar: entry)])
      return try inner.matrix(definition.body).scalar
    }
  }

  // MARK: - Index formulas

  /// `NAME[i,j] = …` evaluated entry by entry: rows i, columns j (one index: a column).
  private mutating func indexDefinition(_ definition: WrittenProblem.Definition) throws -> Tensor {
    let value = try Self.broadcast(
      try indexed(definition.body, definition.ranges), to: definition.indices
    ) { index in
      guard let d = definition.ranges[index] else { throw fail("no range for \(index)") }
      return try size(d)
    }
    guard Set(value.indices) == Set(definition.indices) else {
      throw fail("free indices \(value.indices) of \(definition.name)")
    }
    let ordered = value.transposed(to: definition.indices)
    switch definition.indices.count {
    case 0: return Tensor(scalar: ordered.data.first ?? 0)
    case 1: return Tensor(rows: ordered.sizes[0], cols: 1, storage: ordered.data)
    default:
      guard definition.indices.count == 2 else {
        throw fail("\(definition.name) has \(definition.indices.count) indices")
      }
      return Tensor(rows: ordered.sizes[0], cols: ordered.sizes[1], storage: ordered.data)
    }
  }

  /// `value` repeated along each index of `indices` it does not use (x_i over j).
  private static func broadcast(
    _ value: IndexedArray, to indices: [String], size: (String) throws -> Int
  ) throws -> IndexedArray {
    var value = value
    for index in indices where !value.indices.contains(index) {
      value = try value.combined(
        with: IndexedArray(indices: [index], sizes: [try size(index)], repeating: 1), *)
    }
    return value
  }

  /// The value of an index expression over its free indices (NumPy broadcasting by name).
  private mutating func indexed(_ node: SyntaxExpr, _ ranges: [String: Dim]) throws
    -> IndexedArray
  {
    if !node.usesIndexNotation {
      let value = try matrix(node)
      guard value.isScalar else { throw fail("a matrix inside an index formula") }
      return IndexedArray(scalar: value.scalar)
    }
    let result = try computeIndexed(node, ranges)
    largestMagnitude = max(largestMagnitude, result.data.reduce(0) { max($0, abs($1)) })
    return result
  }

  private mutating func computeIndexed(_ node: SyntaxExpr, _ ranges: [String: Dim]) throws
    -> IndexedArray
  {
    switch node.kind {
    case .negate(let a): return try indexed(a, ranges).mapped { -$0 }
    case .binary(let op, let a, let b):
      let left = try indexed(a, ranges)
      let right = try indexed(b, ranges)
      switch op {
      case "+": return try left.combined(with: right, +)
      case "-": return try left.combined(with: right, -)
      case "*", ".*": return try left.combined(with: right, *)
      case "/", "./": return try left.combined(with: right, /)
      case "^", ".^":
        guard right.indices.isEmpty else { throw fail("an indexed exponent") }
        return try left.combined(with: right) { pow($0, $1) }
      default: throw fail("\(op) in an index formula")
      }
    case .call("sum", let arguments) where arguments.count == 2:
      guard case .name(let index) = arguments[0].kind else { throw fail("sum without an index") }
      let body = try indexed(arguments[1], ranges)
      if body.indices.contains(index) { return body.summed(over: index) }
      guard let d = ranges[index] else {
        throw fail("summation index \(index) does not occur in the summand")
      }
      return body.mapped { $0 * Double((try? size(d)) ?? 0) }
    case .call("delta", let arguments):
      let names = arguments.compactMap { argument -> String? in
        if case .name(let name) = argument.kind { return name } else { return nil }
      }
      guard names.count == 2, let d = ranges[names[0]] else { throw fail("delta's range") }
      let n = try size(d)
      if names[0] == names[1] { return IndexedArray(scalar: 1) }
      var delta = IndexedArray(indices: names, sizes: [n, n], repeating: 0)
      for i in 0..<n { delta.data[i * n + i] = 1 }
      return delta
    case .call(let name, let arguments) where arguments.count == 1:
      var argument = try indexed(arguments[0], ranges)
      if let definition = written.functions[name] {
        argument.data = try applied(definition, to: argument.data)
        return argument
      }
      if functions[name] == .elementwise { return argument.mapped { TestFunctions.mapped(0, $0) } }
      guard let function = Function(rawValue: name), function.isElementwise else {
        throw fail("\(name) of an indexed expression")
      }
      let table = Tensor(rows: 1, cols: argument.data.count, storage: argument.data)
      var result = argument
      result.data = try Evaluator.apply(function, table).storage
      return result
    case .index(let name, let names):
      if let array = arrays[name] {
        guard names.count == array.indices.count else {
          throw fail(
            "\(name)[\(names.joined(separator: ","))]: \(name) has \(array.indices.count) indices")
        }
        return try array.diagonal(names)
      }
      guard let tensor = values[name] else { throw fail("no value for \(name)") }
      if names.count == 1 {
        guard tensor.cols == 1 else { throw fail("\(name)[\(names[0])] of a matrix") }
        return IndexedArray(indices: names, sizes: [tensor.rows], data: tensor.storage)
      }
      guard names.count == 2 else { throw fail("\(name) with \(names.count) indices") }
      if names[0] == names[1] {
        let n = min(tensor.rows, tensor.cols)
        return IndexedArray(indices: [names[0]], sizes: [n], data: (0..<n).map { tensor[$0, $0] })
      }
      return IndexedArray(indices: names, sizes: [tensor.rows, tensor.cols], data: tensor.storage)
    case .name, .number, .transpose, .call:
      throw fail("\(node.kind) in an index formula")
    }
  }
}

/// A dense array over named indices, row-major in the order of `indices`.
struct IndexedArray {
  var indices: [String]
  var sizes: [Int]
  var data: [Double]

  init(indices: [String], sizes: [Int], data: [Double]) {
    self.indices = indices
    self.sizes = sizes
    self.data = data
  }

  init(indices: [String], sizes: [Int], repeating value: Double) {
    self.init(
      indices: indices, sizes: sizes, data: Array(repeating: value, count: sizes.reduce(1, *)))
  }

  init(scalar: Double) { self.init(indices: [], sizes: [], data: [scalar]) }

  /// Row-major strides of `indices`.
  private var strides: [Int] {
    var result = Array(repeating: 1, count: sizes.count)
    var stride = 1
    for axis in sizes.indices.reversed() {
      result[axis] = stride
      stride *= sizes[axis]
    }
    return result
  }

  func mapped(_ f: (Double) -> Double) -> IndexedArray {
    var result = self
    result.data = data.map(f)
    return result
  }

  /// The offset into `data` of each entry of an array over `target` (a superset of
  /// `indices`), in `target`'s row-major order.
  private func offsets(over target: [String], sizes targetSizes: [Int]) -> [Int] {
    let own = strides
    let stepOf = target.map { name in indices.firstIndex(of: name).map { own[$0] } ?? 0 }
    let count = targetSizes.reduce(1, *)
    var result = [Int](repeating: 0, count: count)
    var counter = [Int](repeating: 0, count: target.count)
    var offset = 0
    for position in 0..<count {
      result[position] = offset
      var axis = target.count - 1
      while axis >= 0 {
        counter[axis] += 1
        offset += stepOf[axis]
        if counter[axis] < targetSizes[axis] { break }
        offset -= stepOf[axis] * targetSizes[axis]
        counter[axis] = 0
        axis -= 1
      }
    }
    return result
  }

  /// Entry by entry over the union of both index sets (an index missing on one side
  /// repeats that side along it).
  func combined(with other: IndexedArray, _ f: (Double, Double) -> Double) throws
    -> IndexedArray
  {
    var names = indices
    var extents = sizes
    for (name, extent) in zip(other.indices, other.sizes) {
      if let axis = names.firstIndex(of: name) {
        guard extents[axis] == extent else {
          throw MatcalcError.numeric("index \(name) ranges over \(extents[axis]) and \(extent)")
        }
      } else {
        names.append(name)
        extents.append(extent)
      }
    }
    try Evaluator.ensureAllocatable(extents)
    let left = offsets(over: names, sizes: extents)
    let right = other.offsets(over: names, sizes: extents)
    var data = [Double](repeating: 0, count: left.count)
    for position in data.indices {
      data[position] = f(self.data[left[position]], other.data[right[position]])
    }
    return IndexedArray(indices: names, sizes: extents, data: data)
  }

  /// The entries with the axes named `names`; a name given twice reads the diagonal of those
  /// axes (T[i,k,k] over i and k).
  func diagonal(_ names: [String]) throws -> IndexedArray {
    var unique: [String] = []
    var extents: [Int] = []
    for (name, extent) in zip(names, sizes) {
      if let position = unique.firstIndex(of: name) {
        guard extents[position] == extent else {
          throw MatcalcError.unsupported(
            "index \(name) ranges over \(extents[position]) and \(extent)", nil)
        }
      } else {
        unique.append(name)
        extents.append(extent)
      }
    }
    if unique.count == names.count { return IndexedArray(indices: names, sizes: sizes, data: data) }
    var result = IndexedArray(indices: unique, sizes: extents, repeating: 0)
    let own = strides
    let axisOf = names.map { name in unique.firstIndex(of: name) ?? 0 }
    var counter = [Int](repeating: 0, count: unique.count)
    for position in result.data.indices {
      var offset = 0
      for (axis, owner) in axisOf.enumerated() { offset += counter[owner] * own[axis] }
      result.data[position] = data[offset]
      var axis = unique.count - 1
      while axis >= 0 {
        counter[axis] += 1
        if counter[axis] < extents[axis] { break }
        counter[axis] = 0
        axis -= 1
      }
    }
    return result
  }

  /// Σ over one index.
  func summed(over index: String) -> IndexedArray {
    guard let axis = indices.firstIndex(of: index) else { return self }
    var names = indices
    var extents = sizes
    names.remove(at: axis)
    extents.remove(at: axis)
    var result = IndexedArray(indices: names, sizes: extents, repeating: 0)
    let outer = sizes[..<axis].reduce(1, *)
    let inner = sizes[(axis + 1)...].reduce(1, *)
    let extent = sizes[axis]
    for o in 0..<outer {
      for k in 0..<extent {
        let source = (o * extent + k) * inner
        let target = o * inner
        for i in 0..<inner { result.data[target + i] += data[source + i] }
      }
    }
    return result
  }

  /// The same values with the axes in the order `target` (a permutation of `indices`).
  func transposed(to target: [String]) -> IndexedArray {
    if target == indices { return self }
    let targetSizes = target.map { name in indices.firstIndex(of: name).map { sizes[$0] } ?? 1 }
    let source = offsets(over: target, sizes: targetSizes)
    return IndexedArray(indices: target, sizes: targetSizes, data: source.map { data[$0] })
  }
}
