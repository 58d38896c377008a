/// Runs the Python that emitted code is written in, with NumPy's semantics (shapes, 1-D
/// vectors, broadcasting, `@`, einsum subscripts, solves): `jax.numpy` is NumPy here. What
/// it does not know (a function, a syntax) is a thrown error, as is every error Python or
/// NumPy would raise (a shape mismatch, a name not bound).
///
/// ```swift
/// var interpreter = PythonInterpreter()
/// let value = try interpreter.evaluate(
///   "np.outer(x, x).T @ x", globals: ["x": .array(try NDArray(shape: [2], storage: [1, 2]))])
/// ```
struct PythonInterpreter {
  /// Every scope made, emptied at the end (a closure in a scope that holds it is a cycle).
  private var scopes: [PythonScope] = []
  /// Calls deeper than this are refused (Python's recursion limit).
  static let maximumCalls = 200
  private var calls = 0

  /// Evaluates one expression (`--format numpy`) with `np` and `globals` bound.
  mutating func evaluate(_ source: String, globals: [String: PythonValue]) throws -> PythonValue {
    var parser = try PythonParser(source)
    let expression = try parser.singleExpression()
    let scope = makeScope(["np": .module("numpy")].merging(globals) { $1 }, parent: nil)
    defer { release() }
    return try evaluate(expression, in: scope)
  }

  /// Runs a module (`--format python|jax`) and calls its function `name` (by default the
  /// last one it defines) with `arguments` by parameter name; a parameter without one is an
  /// error.
  mutating func call(
    module source: String, function name: String? = nil, arguments: [String: PythonValue]
  ) throws -> PythonValue {
    defer { close() }
    let module = try load(module: source)
    guard let last = name ?? module.lastFunction,
      case .closure(let closure) = module.names[last]
    else {
      throw Self.error("the module defines no function \(name ?? "")")
    }
    return try invoke(closure, try Self.positional(closure, arguments, name: last))
  }

  /// A module run: its global names, and the last plain `def` it makes.
  struct Module {
    var names: [String: PythonValue]
    var lastFunction: String?
  }

  /// Runs a module; what it defines stays callable (``callValue(_:_:)``) until ``close()``.
  mutating func load(module source: String) throws -> Module {
    var parser = try PythonParser(source)
    let program = try parser.program()
    let scope = makeScope([:], parent: nil)
    var last: String?
    for statement in program.statements {
      if case .function(let name, _, _) = statement { last = name }
      if try execute(statement, in: scope) != nil {
        throw Self.error("SyntaxError: 'return' outside function")
      }
    }
    return Module(names: scope.names, lastFunction: last)
  }

  /// Calls what a loaded module defines (a function, a `jax.custom_vjp`) with positional
  /// arguments.
  mutating func callValue(_ callee: PythonValue, _ arguments: [PythonValue]) throws
    -> PythonValue
  {
    try call(callee, arguments, [:], scope: makeScope([:], parent: nil))
  }

  /// The arguments of `closure` in the order of its parameters, from `arguments` by name.
  static func positional(
    _ closure: PythonClosure, _ arguments: [String: PythonValue], name: String
  ) throws -> [PythonValue] {
    try closure.parameters.map { parameter -> PythonValue in
      guard let value = arguments[parameter] else {
        throw error("TypeError: \(name)() parameter '\(parameter)' has no value to call with")
      }
      return value
    }
  }

  /// Releases what ``load(module:)`` made (scopes that hold closures over themselves).
  mutating func close() { release() }

  static func error(_ message: String) -> MatcalcError { .numeric("Python: " + message) }

  private mutating func makeScope(_ names: [String: PythonValue], parent: PythonScope?)
    -> PythonScope
  {
    let scope = PythonScope(names, parent: parent)
    scopes.append(scope)
    return scope
  }

  private mutating func release() {
    for scope in scopes { scope.names = [:] }
    scopes = []
  }

  // MARK: - Statements

  /// Runs `statement`; the value of a `return`, else `nil`.
  private mutating func execute(_ statement: PythonProgram.Statement, in scope: PythonScope)
    throws -> PythonValue?
  {
    switch statement {
    case .importModule(let path, let alias):
      let module = try Self.module(path)
      if let alias {
        scope.names[alias] = module
      } else if let first = path.first {
        scope.names[first] = try Self.module([first])
      }
    case .importNames(let path, let names):
      let module = try Self.module(path)
      for (name, alias) in names {
        scope.names[alias ?? name] = try attribute(module, name)
      }
    case .function(let name, let parameters, let body):
      scope.names[name] = .closure(
        PythonClosure(parameters: parameters, body: .statements(body), scope: scope))
    case .decorated(let decorators, let function):
      guard case .function(let name, _, _) = function else {
        throw Self.error("SyntaxError: a decorator decorates a definition")
      }
      _ = try execute(function, in: scope)
      // The decorator nearest the def applies first.
      for decorator in decorators.reversed() {
        let wrapper = try evaluate(decorator, in: scope)
        scope.names[name] = try call(wrapper, [scope.names[name] ?? .none], [:], scope: scope)
      }
    case .assignment(let targets, let unpacks, let expression):
      let value = try evaluate(expression, in: scope)
      if unpacks {
        let items: [PythonValue]
        switch value {
        case .tuple(let values), .list(let values): items = values
        default: throw Self.error("TypeError: cannot unpack non-iterable \(value.typeName)")
        }
        guard items.count == targets.count else {
          throw Self.error(
            "ValueError: expected \(targets.count) values to unpack, got \(items.count)")
        }
        for (target, item) in zip(targets, items) { scope.names[target] = item }
      } else if let target = targets.first {
        scope.names[target] = value
      }
    case .returnValue(let expression):
      return try expression.map { try evaluate($0, in: scope) } ?? PythonValue.none
    case .expression(let expression):
      _ = try evaluate(expression, in: scope)
    case .pass:
      break
    case .conditional(let condition, let body, let otherwise):
      for statement in try evaluate(condition, in: scope).truth() ? body : otherwise {
        if let value = try execute(statement, in: scope) { return value }
      }
    }
    return nil
  }

  /// The module a path names: NumPy under any of its names, or the parts of JAX and SciPy
  /// that emitted code uses.
  static func module(_ path: [String]) throws -> PythonValue {
    let name = path.joined(separator: ".")
    let known = [
      "numpy", "numpy.linalg", "jax", "jax.numpy", "jax.numpy.linalg", "jax.scipy",
      "jax.scipy.linalg", "jax.scipy.special", "jax.nn", "scipy", "scipy.special",
      "scipy.linalg", "math",
    ]
    guard known.contains(name) else {
      throw error("ModuleNotFoundError: No module named '\(name)'")
    }
    return .module(canonical(name))
  }

  /// `jax.numpy…` is `numpy…`.
  static func canonical(_ name: String) -> String {
    if name == "jax.numpy" { return "numpy" }
    if name.hasPrefix("jax.numpy.") { return "numpy." + name.dropFirst("jax.numpy.".count) }
    return name
  }

  // MARK: - Expressions

  mutating func evaluate(_ expression: PythonProgram.Expression, in scope: PythonScope) throws
    -> PythonValue
  {
    switch expression {
    case .name(let name):
      if let value = scope.lookUp(name) { return value }
      if Self.builtins.contains(name) { return .function(name) }
      throw Self.error("NameError: name '\(name)' is not defined")
    case .integer(let n): return .integer(n)
    case .float(let x): return .array(NDArray(scalar: x))
    case .string(let s): return .string(s)
    case .none: return .none
    case .boolean(let b): return .boolean(b)
    case .ellipsis: return .ellipsis
    case .tuple(let items): return .tuple(try items.map { try evaluate($0, in: scope) })
    case .list(let items): return .list(try items.map { try evaluate($0, in: scope) })
    case .unary(let op, let operand):
      let value = try evaluate(operand, in: scope)
      return try unary(op, value)
    case .binary(let op, let left, let right):
      let a = try evaluate(left, in: scope)
      let b = try evaluate(right, in: scope)
      return try binary(op, a, b)
    case .comparison(let first, let rest):
      var left = try evaluate(first, in: scope)
      var result: PythonValue = .boolean(true)
      for (op, operand) in rest {
        let right = try evaluate(operand, in: scope)
        result = try compare(op, left, right)
        if rest.count > 1, !(try result.truth()) { return result }
        left = right
      }
      return result
    case .logical(let op, let left, let right):
      let a = try evaluate(left, in: scope)
      let truth = try a.truth()
      if op == "and" { return truth ? try evaluate(right, in: scope) : a }
      return truth ? a : try evaluate(right, in: scope)
    case .conditional(let then, let condition, let otherwise):
      return try evaluate(condition, in: scope).truth()
        ? try evaluate(then, in: scope) : try evaluate(otherwise, in: scope)
    case .lambda(let parameters, let body):
      return .closure(PythonClosure(parameters: parameters, body: .expression(body), scope: scope))
    case .call(let function, let arguments, let keywords):
      let callee = try evaluate(function, in: scope)
      var values: [PythonValue] = []
      for argument in arguments {
        guard case .starred(let items) = argument else {
          values.append(try evaluate(argument, in: scope))
          continue
        }
        switch try evaluate(items, in: scope) {
        case .tuple(let parts), .list(let parts): values += parts
        case let other:
          throw Self.error(
            "TypeError: argument after * must be an iterable, not \(other.typeName)")
        }
      }
      var named: [String: PythonValue] = [:]
      for (name, argument) in keywords {
        guard named[name] == nil else {
          throw Self.error("SyntaxError: keyword argument repeated: \(name)")
        }
        named[name] = try evaluate(argument, in: scope)
      }
      return try call(callee, values, named, scope: scope)
    case .index(let base, let index):
      return try subscripted(try evaluate(base, in: scope), try evaluate(index, in: scope), scope)
    case .slice(let start, let stop, let step):
      func bound(_ e: PythonProgram.Expression?) throws -> Int? {
        guard let e else { return nil }
        let value = try evaluate(e, in: scope)
        if case .none = value { return nil }
        return try value.asInteger()
      }
      return .slice(try bound(start), try bound(stop), try bound(step))
    case .attribute(let base, let name):
      return try attribute(try evaluate(base, in: scope), name)
    case .starred:
      throw Self.error("SyntaxError: can't use starred expression here")
    }
  }

  /// Calls a closure with positional arguments.
  mutating func invoke(_ closure: PythonClosure, _ arguments: [PythonValue]) throws
    -> PythonValue
  {
    guard arguments.count == closure.parameters.count else {
      throw Self.error(
        "TypeError: a function of \(closure.parameters.count) parameters called with "
          + "\(arguments.count) arguments")
    }
    calls += 1
    defer { calls -= 1 }
    guard calls <= Self.maximumCalls else {
      throw Self.error("RecursionError: maximum recursion depth exceeded")
    }
    let scope = makeScope(
      Dictionary(zip(closure.parameters, arguments), uniquingKeysWith: { $1 }),
      parent: closure.scope)
    switch closure.body {
    case .expression(let body):
      return try evaluate(body, in: scope)
    case .statements(let statements):
      for statement in statements {
        if let value = try execute(statement, in: scope) { return value }
      }
      return PythonValue.none
    }
  }

  private mutating func call(
    _ callee: PythonValue, _ arguments: [PythonValue], _ keywords: [String: PythonValue],
    scope: PythonScope
  ) throws -> PythonValue {
    switch callee {
    case .closure(let closure):
      guard keywords.isEmpty else {
        throw Self.error("TypeError: keyword arguments to a lambda are not evaluated here")
      }
      return try invoke(closure, arguments)
    case .function(let name):
      if name == "globals" { return .globals }
      if name == "jax.custom_vjp" {
        guard arguments.count == 1, keywords.isEmpty, case .closure(let primal) = arguments[0]
        else { throw Self.error("TypeError: jax.custom_vjp wraps one function here") }
        return .customVJP(PythonCustomVJP(primal: primal))
      }
      return try NumpyFunctions.call(name, arguments, keywords)
    case .customVJP(let wrapped):
      guard keywords.isEmpty else {
        throw Self.error("TypeError: keyword arguments to a custom_vjp are not evaluated here")
      }
      return try invoke(wrapped.primal, arguments)
    case .vjpDefinition(let wrapped):
      guard arguments.count == 2, keywords.isEmpty, case .closure(let forward) = arguments[0],
        case .closure(let backward) = arguments[1]
      else { throw Self.error("TypeError: defvjp(fwd, bwd) takes two functions") }
      wrapped.forward = forward
      wrapped.backward = backward
      return PythonValue.none
    case .method(let array, let name):
      return try NumpyFunctions.call(
        "ndarray." + name, [.array(array)] + arguments, keywords)
    default:
      throw Self.error("TypeError: '\(callee.typeName)' object is not callable")
    }
  }

  /// The builtins emitted code may use.
  static let builtins: Set<String> = [
    "float", "int", "len", "abs", "min", "max", "globals", "tuple", "list",
  ]

  // MARK: - Attributes and subscripts

  private func attribute(_ base: PythonValue, _ name: String) throws -> PythonValue {
    switch base {
    case .module(let path):
      let full = Self.canonical(path + "." + name)
      if full == "jax.custom_vjp" { return .function(full) }
      if let constant = NumpyFunctions.constants[full] { return constant }
      if NumpyFunctions.modules.contains(full) { return .module(full) }
      if NumpyFunctions.names.contains(full) { return .function(full) }
      throw Self.error("AttributeError: module '\(path)' has no attribute '\(name)'")
    case .array(let array):
      switch name {
      case "T": return .array(try array.transposed())
      case "shape": return .tuple(array.shape.map { .integer($0) })
      case "ndim": return .integer(array.rank)
      case "size": return .integer(array.count)
      default:
        guard NumpyFunctions.names.contains("ndarray." + name) else {
          throw Self.error("AttributeError: 'numpy.ndarray' object has no attribute '\(name)'")
        }
        return .method(array, name)
      }
    case .customVJP(let wrapped) where name == "defvjp":
      return .vjpDefinition(wrapped)
    default:
      throw Self.error("AttributeError: '\(base.typeName)' object has no attribute '\(name)'")
    }
  }

  private func subscripted(_ base: PythonValue, _ index: PythonValue, _ scope: PythonScope) throws
    -> PythonValue
  {
    switch base {
    case .tuple(let items), .list(let items):
      switch index {
      case .slice(let start, let stop, let step):
        let picked = try Self.sliceIndices(start, stop, step, count: items.count).map { items[$0] }
        if case .list = base { return .list(picked) }
        return .tuple(picked)
      default:
        let i = try index.asInteger()
        let position = i < 0 ? i + items.count : i
        guard position >= 0 && position < items.count else {
          throw Self.error("IndexError: tuple index out of range")
        }
        return items[position]
      }
    case .globals:
      guard case .string(let name) = index else {
        throw Self.error("TypeError: globals() is subscripted by a name")
      }
      guard let value = scope.global.names[name] else {
        throw Self.error("KeyError: '\(name)'")
      }
      return value
    case .array(let array):
      return .array(try Self.indexed(array, index))
    default:
      throw Self.error("TypeError: '\(base.typeName)' object is not subscriptable")
    }
  }

  /// The positions a slice picks from `count` items (Python's `slice.indices`).
  static func sliceIndices(_ start: Int?, _ stop: Int?, _ step: Int?, count: Int) throws -> [Int] {
    let step = step ?? 1
    guard step != 0 else { throw error("ValueError: slice step cannot be zero") }
    func clamp(_ value: Int?, _ defaultValue: Int, low: Int, high: Int) -> Int {
      guard var v = value else { return defaultValue }
      if v < 0 { v += count }
      return min(max(v, low), high)
    }
    var result: [Int] = []
    if step > 0 {
      var i = clamp(start, 0, low: 0, high: count)
      let end = clamp(stop, count, low: 0, high: count)
      while i < end {
        result.append(i)
        i += step
      }
    } else {
      var i = clamp(start, count - 1, low: -1, high: count - 1)
      let end = clamp(stop, -1, low: -1, high: count - 1)
      while i > end {
        result.append(i)
        i += step
      }
    }
    return result
  }

  /// NumPy's basic indexing: integers, slices, `None` (a new axis) and `...`.
  static func indexed(_ array: NDArray, _ index: PythonValue) throws -> NDArray {
    var items: [PythonValue]
    if case .tuple(let parts) = index { items = parts } else { items = [index] }
    let consuming = items.filter {
      switch $0 {
      case .none, .ellipsis: return false
      default: return true
      }
    }.count
    guard consuming <= array.rank else {
      throw error(
        "IndexError: too many indices for array: array is \(array.rank)-dimensional, but "
          + "\(consuming) were indexed")
    }
    if let ellipsis = items.firstIndex(where: {
      if case .ellipsis = $0 { return true }
      return false
    }) {
      items.replaceSubrange(
        ellipsis...ellipsis,
        with: [PythonValue](repeating: .slice(nil, nil, nil), count: array.rank - consuming))
    } else {
      items += [PythonValue](repeating: .slice(nil, nil, nil), count: array.rank - consuming)
    }
    // Per source axis: the positions picked, and whether the axis stays.
    var picks: [[Int]] = []
    var resultShape: [Int] = []
    var axis = 0
    for item in items {
      switch item {
      case .none:
        resultShape.append(1)
      case .slice(let start, let stop, let step):
        let positions = try sliceIndices(start, stop, step, count: array.shape[axis])
        picks.append(positions)
        resultShape.append(positions.count)
        axis += 1
      case .integer, .boolean:
        let i = try item.asInteger()
        let size = array.shape[axis]
        let position = i < 0 ? i + size : i
        guard position >= 0 && position < size else {
          throw error(
            "IndexError: index \(i) is out of bounds for axis \(axis) with size \(size)")
        }
        picks.append([position])
        axis += 1
      case .ellipsis:
        throw error("IndexError: an index can only have a single ellipsis ('...')")
      default:
        throw error("IndexError: indexing with \(item.typeName) is not evaluated here")
      }
    }
    let strides = NDArray.strides(array.shape)
    var storage: [Double] = []
    storage.reserveCapacity(try NDArray.count(of: picks.map(\.count)))
    func gather(_ axis: Int, _ offset: Int) {
      if axis == picks.count {
        storage.append(array.storage[offset])
        return
      }
      for position in picks[axis] { gather(axis + 1, offset + position * strides[axis]) }
    }
    gather(0, 0)
    return try NDArray(shape: resultShape, storage: storage)
  }

  // MARK: - Operators

  private func unary(_ op: String, _ value: PythonValue) throws -> PythonValue {
    switch (op, value) {
    case ("not", _): return .boolean(!(try value.truth()))
    case ("-", .integer(let n)):
      guard n != Int.min else { throw Self.error("OverflowError") }
      return .integer(-n)
    case ("+", .integer): return value
    case ("-", _): return .array(try value.asArray().map { -$0 })
    case ("+", _): return .array(try value.asArray())
    default: throw Self.error("TypeError: bad operand type for unary \(op): '\(value.typeName)'")
    }
  }

  private func binary(_ op: String, _ a: PythonValue, _ b: PythonValue) throws -> PythonValue {
    if case .integer(let x) = a, case .integer(let y) = b {
      switch op {
      case "+", "-", "*":
        let (value, overflow) =
          op == "+"
          ? x.addingReportingOverflow(y)
          : op == "-" ? x.subtractingReportingOverflow(y) : x.multipliedReportingOverflow(by: y)
        guard !overflow else { throw Self.error("OverflowError: integer too large here") }
        return .integer(value)
      case "/":
        guard y != 0 else { throw Self.error("ZeroDivisionError: division by zero") }
        return .array(NDArray(scalar: Double(x) / Double(y)))
      case "//", "%":
        guard y != 0 else {
          throw Self.error("ZeroDivisionError: integer division or modulo by zero")
        }
        guard !(x == Int.min && y == -1) else { throw Self.error("OverflowError") }
        var quotient = x / y
        if (x % y != 0) && ((x < 0) != (y < 0)) { quotient -= 1 }
        return .integer(op == "//" ? quotient : x - quotient * y)
      case "**" where y >= 0:
        var result = 1
        for _ in 0..<min(y, 64) {
          let (value, overflow) = result.multipliedReportingOverflow(by: x)
          guard !overflow else { throw Self.error("OverflowError: integer too large here") }
          result = value
        }
        guard y <= 64 || abs(x) <= 1 else {
          throw Self.error("OverflowError: integer too large here")
        }
        return .integer(result)
      default: break
      }
    }
    if op == "+", case .tuple(let x) = a, case .tuple(let y) = b { return .tuple(x + y) }
    if op == "+", case .list(let x) = a, case .list(let y) = b { return .list(x + y) }
    if op == "@" {
      if case .integer = a, case .integer = b {
        throw Self.error("TypeError: unsupported operand type(s) for @: 'int' and 'int'")
      }
      return .array(try NDArray.matmul(try a.asArray(), try b.asArray()))
    }
    let x = try a.asArray()
    let y = try b.asArray()
    let combine: (Double, Double) -> Double
    switch op {
    case "+": combine = { $0 + $1 }
    case "-": combine = { $0 - $1 }
    case "*": combine = { $0 * $1 }
    case "/": combine = { $0 / $1 }
    case "**": combine = { NumpyFunctions.power($0, $1) }
    case "//": combine = { ($0 / $1).rounded(.down) }
    case "%":
      combine = { p, q in
        let r = p.truncatingRemainder(dividingBy: q)
        return r != 0 && (r < 0) != (q < 0) ? r + q : r
      }
    default: throw Self.error("SyntaxError: operator \(op) is not evaluated here")
    }
    return .array(try NDArray.binary(x, y, combine))
  }

  private func compare(_ op: String, _ a: PythonValue, _ b: PythonValue) throws -> PythonValue {
    switch (op, a, b) {
    case ("is", .none, .none), ("==", .none, .none): return .boolean(true)
    case ("is not", .none, .none), ("!=", .none, .none): return .boolean(false)
    case ("is", .none, _), ("is", _, .none): return .boolean(false)
    case ("is not", .none, _), ("is not", _, .none): return .boolean(true)
    case ("==", .string(let x), .string(let y)): return .boolean(x == y)
    case ("!=", .string(let x), .string(let y)): return .boolean(x != y)
    case (_, .integer(let x), .integer(let y)):
      switch op {
      case "<": return .boolean(x < y)
      case ">": return .boolean(x > y)
      case "<=": return .boolean(x <= y)
      case ">=": return .boolean(x >= y)
      case "==": return .boolean(x == y)
      case "!=": return .boolean(x != y)
      default: break
      }
    case ("==", .tuple, .tuple), ("!=", .tuple, .tuple):
      guard case .tuple(let x) = a, case .tuple(let y) = b else { break }
      var equal = x.count == y.count
      if equal {
        for (p, q) in zip(x, y) where !(try compare("==", p, q).truth()) { equal = false }
      }
      return .boolean(op == "==" ? equal : !equal)
    default: break
    }
    let combine: (Double, Double) -> Bool
    switch op {
    case "<": combine = { $0 < $1 }
    case ">": combine = { $0 > $1 }
    case "<=": combine = { $0 <= $1 }
    case ">=": combine = { $0 >= $1 }
    case "==": combine = { $0 == $1 }
    case "!=": combine = { $0 != $1 }
    default: throw Self.error("TypeError: '\(op)' between \(a.typeName) and \(b.typeName)")
    }
    return .array(try NDArray.binary(try a.asArray(), try b.asArray()) { combine($0, $1) ? 1 : 0 })
  }
}
