/// The Python that emitted code is written in, as a syntax tree: the subset `--format numpy`
/// prints (one expression) and `--format python|jax` print (imports, `def`s with a docstring,
/// comments, `name = expr` statements, `if` blocks and a `return`; under JAX a layer decorated
/// with `@jax.custom_vjp`, its `defvjp`, and calls such as `f(*residuals, g)`).
struct PythonProgram {
  /// One statement.
  indirect enum Statement {
    /// `import a.b` (binds `a`) or `import a.b as c` (binds `c` to `a.b`).
    case importModule(path: [String], alias: String?)
    /// `from a.b import c as d`.
    case importNames(path: [String], names: [(name: String, alias: String?)])
    /// `def name(parameters): body`.
    case function(name: String, parameters: [String], body: [Statement])
    /// `@decorator` lines (outermost first) above a `def`.
    case decorated(decorators: [Expression], function: Statement)
    /// `a = value` or `a, b = value`.
    case assignment(targets: [String], unpacks: Bool, value: Expression)
    /// `return value` (`None` without one).
    case returnValue(Expression?)
    /// An expression evaluated for nothing (a docstring).
    case expression(Expression)
    /// `pass`.
    case pass
    /// `if condition: body` with an optional `else: otherwise` (code that chooses its order
    /// from the shapes it is called with).
    case conditional(condition: Expression, body: [Statement], otherwise: [Statement])
  }

  /// One expression.
  indirect enum Expression {
    case name(String)
    case integer(Int)
    case float(Double)
    case string(String)
    case none
    case boolean(Bool)
    case ellipsis
    case tuple([Expression])
    case list([Expression])
    /// `-a`, `+a`, `not a`.
    case unary(String, Expression)
    /// `a + b`, `a @ b`, `a ** b`, …
    case binary(String, Expression, Expression)
    /// `a < b <= c`: each operator with its right operand.
    case comparison(Expression, [(String, Expression)])
    /// `a and b`, `a or b`.
    case logical(String, Expression, Expression)
    /// `then if condition else otherwise`.
    case conditional(then: Expression, condition: Expression, otherwise: Expression)
    /// `lambda a, b: body`.
    case lambda(parameters: [String], body: Expression)
    /// `f(positional…, keyword=value…)`.
    case call(Expression, arguments: [Expression], keywords: [(String, Expression)])
    /// `a[index]` (a tuple index for `a[i, j]`).
    case index(Expression, Expression)
    /// `start:stop:step` inside a subscript.
    case slice(Expression?, Expression?, Expression?)
    /// `a.name`.
    case attribute(Expression, String)
    /// `*a` among a call's arguments: the items of a tuple or list.
    case starred(Expression)
  }

  /// The statements, in order.
  var statements: [Statement]
}
