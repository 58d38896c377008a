import Foundation

/// The NumPy functions emitted code calls (`jnp` is `np`; the few of JAX, SciPy and Python's
/// builtins besides), each with NumPy's shapes and errors. A name not listed here is an error
/// where it is looked up, never a guess.
enum NumpyFunctions {
  /// Element-wise functions of one array: `out_i = f(a_i)`.
  static let unary: [String: @Sendable (Double) -> Double] = [
    "exp": { Foundation.exp($0) }, "log": { Foundation.log($0) },
    "log1p": { Foundation.log1p($0) }, "expm1": { Foundation.expm1($0) },
    "tanh": { Foundation.tanh($0) }, "sinh": { Foundation.sinh($0) },
    "cosh": { Foundation.cosh($0) }, "sin": { Foundation.sin($0) },
    "cos": { Foundation.cos($0) }, "tan": { Foundation.tan($0) },
    "sqrt": { $0.squareRoot() }, "abs": { Swift.abs($0) }, "absolute": { Swift.abs($0) },
    "sign": { $0 > 0 ? 1 : $0 < 0 ? -1 : $0 }, "square": { $0 * $0 },
    "negative": { -$0 }, "reciprocal": { 1 / $0 }, "log2": { Foundation.log2($0) },
    "log10": { Foundation.log10($0) }, "floor": { $0.rounded(.down) },
    "ceil": { $0.rounded(.up) },
  ]

  /// Functions outside NumPy proper, by canonical name, and the NumPy-style operation each is.
  static let aliases: [String: String] = [
    "scipy.special.erf": "erf", "jax.scipy.special.erf": "erf", "math.erf": "erf",
    "scipy.special.expit": "sigmoid", "jax.nn.sigmoid": "sigmoid",
    "jax.scipy.special.expit": "sigmoid", "jax.nn.softplus": "softplus",
    "jax.nn.relu": "relu", "jax.nn.log_sigmoid": "log_sigmoid",
    "scipy.special.logsumexp": "logsumexp", "jax.scipy.special.logsumexp": "logsumexp",
    "jax.nn.logsumexp": "logsumexp", "jax.nn.softmax": "softmax",
    "jax.nn.log_softmax": "log_softmax", "scipy.special.softmax": "softmax",
    "scipy.special.log_softmax": "log_softmax", "math.sqrt": "sqrt", "math.log": "log",
    "math.exp": "exp",
  ]

  /// Attributes of modules that are values.
  static var constants: [String: PythonValue] {
    [
      "numpy.pi": .array(NDArray(scalar: Double.pi)), "numpy.e": .array(NDArray(scalar: M_E)),
      "numpy.inf": .array(NDArray(scalar: .infinity)), "numpy.nan": .array(NDArray(scalar: .nan)),
      "numpy.newaxis": .none, "math.pi": .array(NDArray(scalar: Double.pi)),
      "math.inf": .array(NDArray(scalar: .infinity)),
    ]
  }

  /// Submodules reachable as attributes.
  static let modules: Set<String> = [
    "numpy.linalg", "jax.scipy", "jax.scipy.linalg", "jax.scipy.special", "jax.nn",
    "scipy.special", "scipy.linalg", "jax.numpy",
  ]

  /// The NumPy functions by name (without `numpy.`), with `ndarray.` methods.
  static let numpyNames: Set<String> = Set(unary.keys).union([
    "asarray", "array", "outer", "eye", "identity", "ones", "zeros", "ones_like", "zeros_like",
    "full", "diag", "diagonal", "trace", "sum", "mean", "max", "min", "amax", "amin", "prod",
    "logaddexp", "maximum", "minimum", "where", "reshape", "transpose", "kron", "einsum",
    "tensordot", "dot", "matmul", "multiply", "add", "subtract", "divide", "power",
    "heaviside", "squeeze", "ravel", "expand_dims", "swapaxes", "clip", "float64", "isfinite",
    "linalg.solve", "linalg.inv", "linalg.det", "linalg.slogdet", "linalg.multi_dot",
    "linalg.norm",
  ])

  /// Every function name a module attribute or a method may have, canonical.
  static let names: Set<String> = Set(numpyNames.map { "numpy." + $0 })
    .union(aliases.keys)
    .union(["jax.scipy.linalg.lu_factor", "jax.scipy.linalg.lu_solve", "scipy.linalg.solve"])
    .union(
      [
        "reshape", "sum", "mean", "max", "min", "ravel", "flatten", "transpose", "squeeze",
        "copy", "dot", "astype", "prod",
      ].map { "ndarray." + $0 })

  /// `x ** y` as NumPy computes it for doubles.
  static func power(_ x: Double, _ y: Double) -> Double {
    if y == 2 { return x * x }
    if y == 1 { return x }
    return Foundation.pow(x, y)
  }

  private static func fail(_ message: String) -> MatcalcError { NDArray.error(message) }

  /// Calls the function named `name` (canonical: `numpy.exp`, `ndarray.reshape`, `float`).
  static func call(_ name: String, _ arguments: [PythonValue], _ keywords: [String: PythonValue])
    throws -> PythonValue
  {
    var arguments = Arguments(name: name, positional: arguments, keywords: keywords)
    let short: String
    if let alias = aliases[name] {
      short = alias
    } else if name.hasPrefix("numpy.") {
      short = String(name.dropFirst("numpy.".count))
    } else if name.hasPrefix("ndarray.") {
      short = "method." + name.dropFirst("ndarray.".count)
    } else if !name.contains(".") {
      short = "builtin." + name
    } else {
      short = name
    }
    let result = try dispatch(short, &arguments)
    try arguments.finish()
    return result
  }

  /// Positional and keyword arguments, taken one by one; what is left over is an error.
  struct Arguments {
    let name: String
    var positional: [PythonValue]
    var keywords: [String: PythonValue]
    private var next = 0

    init(name: String, positional: [PythonValue], keywords: [String: PythonValue]) {
      self.name = name
      self.positional = positional
      self.keywords = keywords
    }

    /// The next positional argument, or the keyword `keyword`; `nil` when neither is given.
    mutating func optional(_ keyword: String) -> PythonValue? {
      if next < positional.count {
        next += 1
        return positional[next - 1]
      }
      return keywords.removeValue(forKey: keyword)
    }

    /// The next positional argument or the keyword; an error when missing.
    mutating func required(_ keyword: String) throws -> PythonValue {
      guard let value = optional(keyword) else {
        throw MatcalcError.numeric(
          "Python: TypeError: \(name)() missing required argument '\(keyword)'")
      }
      return value
    }

    mutating func array(_ keyword: String) throws -> NDArray { try required(keyword).asArray() }

    /// Every remaining positional argument.
    mutating func rest() -> [PythonValue] {
      defer { next = positional.count }
      return Array(positional[min(next, positional.count)...])
    }

    /// An error for arguments not taken.
    func finish() throws {
      guard next >= positional.count, keywords.isEmpty else {
        let extra = keywords.keys.sorted().map { "'\($0)'" }
        throw MatcalcError.numeric(
          "Python: TypeError: \(name)() got unexpected arguments "
            + (extra.isEmpty ? "(\(positional.count) positional)" : extra.joined(separator: ", ")))
      }
    }
  }

  private static func reduction(
    _ arguments: inout Arguments, initial: Double?, _ combine: (Double, Double) -> Double,
    finish: (Double, Int) -> Double = { value, _ in value }
  ) throws -> PythonValue {
    let a = try arguments.array("a")
    let axes = try arguments.optional("axis")?.asAxes()
    let keep = try arguments.optional("keepdims")?.truth() ?? false
    return .array(
      try a.reduced(over: axes, keepDimensions: keep, initial: initial, combine, finish: finish))
  }

  private static func logSumExp(_ a: NDArray, axes: [Int]?, keep: Bool) throws -> NDArray {
    let top = try a.reduced(over: axes, keepDimensions: true, initial: nil) { max($0, $1) }
      .map { $0.isFinite ? $0 : 0 }
    let shifted = try NDArray.binary(a, top) { Foundation.exp($0 - $1) }
    let total = try shifted.reduced(over: axes, keepDimensions: true, initial: 0, +)
    var result = try NDArray.binary(total, top) { Foundation.log($0) + $1 }
    if !keep {
      let reducing = Set(
        try (axes ?? Array(a.shape.indices)).map {
          try NDArray.normalized(axis: $0, rank: a.rank)
        })
      result.shape = a.shape.indices.filter { !reducing.contains($0) }.map { a.shape[$0] }
    }
    return result
  }

  private static func dispatch(_ name: String, _ arguments: inout Arguments) throws -> PythonValue {
    if let f = unary[name] {
      return .array(try arguments.array("x").map(f))
    }
    switch name {
    // Python builtins.
    case "builtin.float":
      let a = try arguments.array("x")
      // NumPy 2.4 converts only a 0-d array (a size-1 array with axes is a TypeError).
      guard a.rank == 0, let value = a.scalar else {
        throw MatcalcError.numeric(
          "Python: TypeError: only 0-dimensional arrays can be converted to Python scalars "
            + "(shape \(a.shape))")
      }
      return .array(NDArray(scalar: value))
    case "builtin.int":
      let value = try arguments.required("x")
      if case .integer = value { return value }
      let a = try value.asArray()
      guard a.rank == 0, let x = a.scalar, x.isFinite, Swift.abs(x) < 1e15 else {
        throw MatcalcError.numeric("Python: ValueError: cannot convert to an integer")
      }
      return .integer(Int(x.rounded(.towardZero)))
    case "builtin.len":
      switch try arguments.required("x") {
      case .tuple(let items), .list(let items): return .integer(items.count)
      case .array(let a) where a.rank > 0: return .integer(a.shape[0])
      case let other: throw MatcalcError.numeric("Python: TypeError: len() of \(other.typeName)")
      }
    case "builtin.tuple", "builtin.list":
      let value = try arguments.required("x")
      let items: [PythonValue]
      switch value {
      case .tuple(let values), .list(let values): items = values
      default: throw MatcalcError.numeric("Python: TypeError: \(name)() of \(value.typeName)")
      }
      return name == "builtin.tuple" ? .tuple(items) : .list(items)
    case "builtin.abs":
      let value = try arguments.required("x")
      if case .integer(let n) = value, n != Int.min { return .integer(Swift.abs(n)) }
      return .array(try value.asArray().map { Swift.abs($0) })
    case "builtin.min", "builtin.max":
      let isMin = name == "builtin.min"
      let values = arguments.rest()
      guard let first = values.first else {
        throw MatcalcError.numeric("Python: TypeError: \(name) expected an argument")
      }
      if values.allSatisfy({ if case .integer = $0 { return true } else { return false } }) {
        let ints = try values.map { try $0.asInteger() }
        return .integer((isMin ? ints.min() : ints.max()) ?? 0)
      }
      var best = try first.asArray()
      guard best.scalar != nil else {
        throw MatcalcError.numeric("Python: builtin \(name)() of arrays is not evaluated here")
      }
      for value in values.dropFirst() {
        let x = try value.asArray()
        guard let a = x.scalar, let b = best.scalar else {
          throw MatcalcError.numeric("Python: builtin \(name)() of arrays is not evaluated here")
        }
        if isMin ? a < b : a > b { best = x }
      }
      return .array(best)
    // Construction.
    case "asarray", "array", "float64":
      let value = try arguments.required("a")
      _ = arguments.keywords.removeValue(forKey: "dtype")
      return .array(try value.asArray())
    case "eye", "identity":
      let n = try arguments.required("N").asInteger()
      let m =
        try arguments.optional("M").flatMap { value -> Int? in
          if case .none = value { return nil }
          return try value.asInteger()
        } ?? n
      if let k = arguments.optional("k"), try k.asInteger() != 0 {
        throw fail("eye with k ≠ 0 is not evaluated here")
      }
      _ = arguments.keywords.removeValue(forKey: "dtype")
      var result = try NDArray(shape: [n, m])
      for i in 0..<min(n, m) { result.storage[i * m + i] = 1 }
      return .array(result)
    case "ones", "zeros", "full":
      let shape = try arguments.required("shape").asShape()
      let fill = name == "full" ? try arguments.array("fill_value") : nil
      _ = arguments.keywords.removeValue(forKey: "dtype")
      if let fill { return .array(try fill.broadcast(to: shape)) }
      return .array(try NDArray(shape: shape, repeating: name == "ones" ? 1 : 0))
    case "ones_like", "zeros_like":
      let a = try arguments.array("a")
      _ = arguments.keywords.removeValue(forKey: "dtype")
      return .array(try NDArray(shape: a.shape, repeating: name == "ones_like" ? 1 : 0))
    case "outer":
      return .array(try NDArray.outer(try arguments.array("a"), try arguments.array("b")))
    case "diag":
      let v = try arguments.array("v")
      if let k = arguments.optional("k"), try k.asInteger() != 0 {
        throw fail("diag with k ≠ 0 is not evaluated here")
      }
      switch v.rank {
      case 1:
        var result = try NDArray(shape: [v.count, v.count])
        for i in 0..<v.count { result.storage[i * v.count + i] = v.storage[i] }
        return .array(result)
      case 2:
        let n = min(v.shape[0], v.shape[1])
        return .array(
          try NDArray(shape: [n], storage: (0..<n).map { v.storage[$0 * v.shape[1] + $0] }))
      default:
        throw fail("Input must be 1- or 2-d.")
      }
    case "diagonal", "trace":
      let a = try arguments.array("a")
      guard a.rank == 2 else {
        throw fail(
          "\(name) of a \(a.rank)-D array is not evaluated here (diag requires an array of at least two dimensions)"
        )
      }
      let n = min(a.shape[0], a.shape[1])
      let entries = (0..<n).map { a.storage[$0 * a.shape[1] + $0] }
      if name == "trace" { return .array(NDArray(scalar: entries.reduce(0, +))) }
      return .array(try NDArray(shape: [n], storage: entries))
    // Reductions.
    case "sum", "method.sum":
      return try reduction(&arguments, initial: 0, +)
    case "prod", "method.prod":
      return try reduction(&arguments, initial: 1, *)
    case "mean", "method.mean":
      return try reduction(&arguments, initial: 0, +) { $0 / Double($1) }
    case "max", "amax", "method.max":
      return try reduction(&arguments, initial: nil) { $0.isNaN || $1.isNaN ? .nan : max($0, $1) }
    case "min", "amin", "method.min":
      return try reduction(&arguments, initial: nil) { $0.isNaN || $1.isNaN ? .nan : min($0, $1) }
    case "logsumexp":
      let a = try arguments.array("a")
      let axes = try arguments.optional("axis")?.asAxes()
      let keep = try arguments.optional("keepdims")?.truth() ?? false
      return .array(try logSumExp(a, axes: axes, keep: keep))
    case "softmax", "log_softmax":
      let a = try arguments.array("x")
      // jax.nn's default axis is the last; SciPy's is every axis.
      let defaultAxes: [Int]? = arguments.name.hasPrefix("jax.") ? [-1] : nil
      let given = arguments.optional("axis")
      let axes = try given.map { try $0.asAxes() } ?? defaultAxes
      let lse = try logSumExp(a, axes: axes, keep: true)
      let logs = try NDArray.binary(a, lse, -)
      return .array(name == "softmax" ? logs.map { Foundation.exp($0) } : logs)
    // Element-wise of several.
    case "erf": return .array(try arguments.array("x").map { Foundation.erf($0) })
    case "sigmoid": return .array(try arguments.array("x").map { 1 / (1 + Foundation.exp(-$0)) })
    case "softplus":
      return .array(
        try arguments.array("x").map {
          max($0, 0) + Foundation.log1p(Foundation.exp(-Swift.abs($0)))
        })
    case "log_sigmoid":
      return .array(
        try arguments.array("x").map {
          min($0, 0) - Foundation.log1p(Foundation.exp(-Swift.abs($0)))
        })
    case "relu": return .array(try arguments.array("x").map { max($0, 0) })
    case "logaddexp":
      return .array(
        try NDArray.binary(try arguments.array("x1"), try arguments.array("x2")) { a, b in
          let top = max(a, b)
          guard top.isFinite else { return top }
          return top + Foundation.log1p(Foundation.exp(-Swift.abs(a - b)))
        })
    case "maximum", "minimum":
      let isMax = name == "maximum"
      return .array(
        try NDArray.binary(try arguments.array("x1"), try arguments.array("x2")) { a, b in
          a.isNaN || b.isNaN ? .nan : isMax ? max(a, b) : min(a, b)
        })
    case "add", "subtract", "multiply", "divide", "power":
      let a = try arguments.array("x1")
      let b = try arguments.array("x2")
      let ops: [String: (Double, Double) -> Double] = [
        "add": { $0 + $1 }, "subtract": { $0 - $1 }, "multiply": { $0 * $1 },
        "divide": { $0 / $1 }, "power": { power($0, $1) },
      ]
      guard let op = ops[name] else { throw fail("unknown \(name)") }
      return .array(try NDArray.binary(a, b, op))
    case "heaviside":
      return .array(
        try NDArray.binary(try arguments.array("x1"), try arguments.array("x2")) { x, h in
          x.isNaN ? .nan : x < 0 ? 0 : x > 0 ? 1 : h
        })
    case "where":
      let condition = try arguments.array("condition")
      let a = try arguments.array("x")
      let b = try arguments.array("y")
      return .array(try NDArray.elementwise([condition, a, b]) { $0[0] != 0 ? $0[1] : $0[2] })
    case "clip":
      let a = try arguments.array("a")
      let low = try arguments.array("a_min")
      let high = try arguments.array("a_max")
      return .array(try NDArray.elementwise([a, low, high]) { min(max($0[0], $0[1]), $0[2]) })
    case "isfinite":
      return .array(try arguments.array("x").map { $0.isFinite ? 1 : 0 })
    // Shapes.
    case "reshape", "method.reshape":
      let a = try arguments.array("a")
      let rest = arguments.rest()
      let shape: [Int]
      if name == "method.reshape" && rest.count > 1 {
        shape = try rest.map { try $0.asInteger() }
      } else if let first = rest.first {
        shape = try first.asShape()
      } else {
        shape = try arguments.required("shape").asShape()
      }
      return .array(try a.reshaped(shape))
    case "ravel", "method.ravel", "method.flatten":
      let a = try arguments.array("a")
      return .array(try a.reshaped([a.count]))
    case "transpose", "method.transpose":
      let a = try arguments.array("a")
      let rest = arguments.rest()
      var axes: [Int]?
      if rest.count > 1 {
        axes = try rest.map { try $0.asInteger() }
      } else if let first = rest.first {
        axes = try first.asAxes()
      } else {
        axes = try arguments.keywords.removeValue(forKey: "axes")?.asAxes()
      }
      return .array(try a.transposed(axes))
    case "swapaxes":
      let a = try arguments.array("a")
      let i = try NDArray.normalized(
        axis: try arguments.required("axis1").asInteger(), rank: a.rank)
      let j = try NDArray.normalized(
        axis: try arguments.required("axis2").asInteger(), rank: a.rank)
      var order = Array(a.shape.indices)
      order.swapAt(i, j)
      return .array(try a.transposed(order))
    case "squeeze", "method.squeeze":
      let a = try arguments.array("a")
      if let axes = try arguments.optional("axis")?.asAxes() {
        let dropped = Set(try axes.map { try NDArray.normalized(axis: $0, rank: a.rank) })
        for axis in dropped where a.shape[axis] != 1 {
          throw fail("cannot select an axis to squeeze out which has size not equal to one")
        }
        return .array(
          try a.reshaped(a.shape.indices.filter { !dropped.contains($0) }.map { a.shape[$0] }))
      }
      return .array(try a.reshaped(a.shape.filter { $0 != 1 }))
    case "expand_dims":
      let a = try arguments.array("a")
      let axis = try NDArray.normalized(
        axis: try arguments.required("axis").asInteger(), rank: a.rank + 1)
      var shape = a.shape
      shape.insert(1, at: axis)
      return .array(try a.reshaped(shape))
    case "method.copy":
      return .array(try arguments.array("a"))
    case "method.astype":
      let a = try arguments.array("a")
      _ = arguments.rest()
      return .array(a)
    // Products.
    case "kron":
      return .array(try NDArray.kron(try arguments.array("a"), try arguments.array("b")))
    case "matmul":
      return .array(try NDArray.matmul(try arguments.array("x1"), try arguments.array("x2")))
    case "dot", "method.dot":
      let a = try arguments.array("a")
      let b = try arguments.array("b")
      if a.rank == 0 || b.rank == 0 { return .array(try NDArray.binary(a, b, *)) }
      guard a.rank <= 2 && b.rank <= 2 else {
        throw fail("dot of arrays with more than two axes is not evaluated here")
      }
      return .array(try NDArray.matmul(a, b))
    case "einsum":
      guard case .string(let subscripts) = try arguments.required("subscripts") else {
        throw fail("einsum: the first argument must be the subscripts string")
      }
      let operands = try arguments.rest().map { try $0.asArray() }
      _ = arguments.keywords.removeValue(forKey: "optimize")
      return .array(try NDArray.einsum(subscripts, operands))
    case "tensordot":
      let a = try arguments.array("a")
      let b = try arguments.array("b")
      let axes = arguments.optional("axes") ?? .integer(2)
      let pair: ([Int], [Int])
      switch axes {
      case .integer(let n):
        guard n >= 0, n <= a.rank, n <= b.rank else { throw fail("tensordot: bad axes \(n)") }
        pair = (Array((a.rank - n)..<a.rank), Array(0..<n))
      case .tuple(let items), .list(let items):
        guard items.count == 2 else { throw fail("tensordot: axes must be a pair") }
        pair = (try items[0].asShape(), try items[1].asShape())
      default:
        throw fail("tensordot: bad axes")
      }
      return .array(try NDArray.tensordot(a, b, axes: pair))
    // Linear algebra.
    case "linalg.solve", "scipy.linalg.solve":
      return .array(try NDArray.solve(try arguments.array("a"), try arguments.array("b")))
    case "linalg.inv":
      return .array(try arguments.array("a").inverse())
    case "linalg.det":
      let lu = try arguments.array("a").factorised()
      return .array(NDArray(scalar: lu.isSingular ? 0 : lu.determinant))
    case "linalg.slogdet":
      let (sign, log) = try arguments.array("a").signAndLogDeterminant()
      return .tuple([.array(NDArray(scalar: sign)), .array(NDArray(scalar: log))])
    case "linalg.norm":
      let a = try arguments.array("x")
      return .array(NDArray(scalar: a.storage.reduce(0) { $0 + $1 * $1 }.squareRoot()))
    case "linalg.multi_dot":
      let value = try arguments.required("arrays")
      guard case .list(let items) = value, items.count >= 2 else {
        throw fail("multi_dot: expecting at least two arrays in a list")
      }
      var arrays = try items.map { try $0.asArray() }
      guard let first = arrays.first, let last = arrays.last else { throw fail("multi_dot") }
      let (firstIsVector, lastIsVector) = (first.rank == 1, last.rank == 1)
      if firstIsVector { arrays[0] = try first.reshaped([1, first.count]) }
      if lastIsVector { arrays[arrays.count - 1] = try last.reshaped([last.count, 1]) }
      guard arrays.allSatisfy({ $0.rank == 2 }) else {
        throw fail("multi_dot: inner arrays must be 2-dimensional")
      }
      var product = arrays[0]
      for next in arrays.dropFirst() { product = try NDArray.matmul(product, next) }
      var shape = product.shape
      if lastIsVector { shape.removeLast() }
      if firstIsVector { shape.removeFirst() }
      return .array(try product.reshaped(shape))
    case "jax.scipy.linalg.lu_factor":
      // The factorisation is represented by its matrix; lu_solve solves with it.
      let a = try arguments.array("a")
      _ = try a.factorised()
      return .tuple([.array(a), .string("pivots")])
    case "jax.scipy.linalg.lu_solve":
      guard case .tuple(let parts) = try arguments.required("lu_and_piv"), parts.count == 2,
        case .array(let a) = parts[0], case .string("pivots") = parts[1]
      else {
        throw fail("lu_solve: the first argument must come from lu_factor")
      }
      let b = try arguments.array("b")
      let trans = try arguments.optional("trans")?.asInteger() ?? 0
      guard trans == 0 || trans == 1 else {
        throw fail("lu_solve: trans \(trans) is not evaluated here")
      }
      return .array(try NDArray.solve(trans == 1 ? try a.transposed() : a, b))
    default:
      throw MatcalcError.numeric("Python: \(name) is not a function the emitted code may call")
    }
  }
}
