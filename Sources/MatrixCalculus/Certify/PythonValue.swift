/// A value of the Python that emitted code runs: NumPy arrays (a Python float is a 0-d
/// array), integers (sizes, axes, indices), and what the code names and calls.
indirect enum PythonValue {
  case array(NDArray)
  case integer(Int)
  case boolean(Bool)
  case none
  case string(String)
  case tuple([PythonValue])
  case list([PythonValue])
  case slice(Int?, Int?, Int?)
  case ellipsis
  /// A module by its canonical path (`numpy`, `numpy.linalg`; `jax.numpy` is `numpy`).
  case module(String)
  /// A function of a module (`numpy.exp`) or a builtin (`float`), by canonical name.
  case function(String)
  /// A method bound to an array (`X.reshape`).
  case method(NDArray, String)
  /// A lambda or a `def` function with the scope it closes over.
  case closure(PythonClosure)
  /// What `globals()` returns: subscripted by a name, that global.
  case globals
  /// A function wrapped by `jax.custom_vjp`: called, its primal; its rule set by `defvjp`.
  case customVJP(PythonCustomVJP)
  /// The `defvjp` method of a ``customVJP`` value.
  case vjpDefinition(PythonCustomVJP)

  /// What the value is, in Python's words.
  var typeName: String {
    switch self {
    case .array(let a): return a.rank == 0 ? "float" : "ndarray of shape \(a.shape)"
    case .integer: return "int"
    case .boolean: return "bool"
    case .none: return "NoneType"
    case .string: return "str"
    case .tuple: return "tuple"
    case .list: return "list"
    case .slice: return "slice"
    case .ellipsis: return "ellipsis"
    case .module(let path): return "module '\(path)'"
    case .function(let name): return "function \(name)"
    case .method(_, let name): return "method \(name)"
    case .closure: return "function"
    case .globals: return "dict"
    case .customVJP: return "jax.custom_vjp"
    case .vjpDefinition: return "method defvjp"
    }
  }

  /// The value as an array (NumPy's `asarray`: numbers, booleans, nested lists and tuples).
  func asArray() throws -> NDArray {
    switch self {
    case .array(let a): return a
    case .integer(let n): return NDArray(scalar: Double(n))
    case .boolean(let b): return NDArray(scalar: b ? 1 : 0)
    case .tuple(let items), .list(let items):
      let arrays = try items.map { try $0.asArray() }
      guard let first = arrays.first else { return try NDArray(shape: [0]) }
      guard arrays.allSatisfy({ $0.shape == first.shape }) else {
        throw NDArray.error("setting an array element with a sequence (inhomogeneous shape)")
      }
      return try NDArray(shape: [arrays.count] + first.shape, storage: arrays.flatMap(\.storage))
    default:
      throw NDArray.error("cannot convert \(typeName) to an array")
    }
  }

  /// The value as a Python int (an index, a size, an axis).
  func asInteger() throws -> Int {
    switch self {
    case .integer(let n): return n
    case .boolean(let b): return b ? 1 : 0
    default:
      throw MatcalcError.numeric(
        "Python: TypeError: '\(typeName)' object cannot be interpreted as an integer")
    }
  }

  /// An axis or a tuple of axes (`None`: all).
  func asAxes() throws -> [Int]? {
    switch self {
    case .none: return nil
    case .tuple(let items), .list(let items): return try items.map { try $0.asInteger() }
    default: return [try asInteger()]
    }
  }

  /// A shape argument: an int or a tuple of ints.
  func asShape() throws -> [Int] {
    switch self {
    case .tuple(let items), .list(let items): return try items.map { try $0.asInteger() }
    default: return [try asInteger()]
    }
  }

  /// Python's truth value; an array of more than one entry has none.
  func truth() throws -> Bool {
    switch self {
    case .boolean(let b): return b
    case .integer(let n): return n != 0
    case .none: return false
    case .array(let a):
      guard let value = a.scalar else {
        throw MatcalcError.numeric(
          "Python: ValueError: The truth value of an array with more than one element is "
            + "ambiguous")
      }
      return value != 0
    case .tuple(let items), .list(let items): return !items.isEmpty
    case .string(let s): return !s.isEmpty
    default: return true
    }
  }
}
