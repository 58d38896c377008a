/// A function value: its parameters, its body (an expression for a lambda, statements for a
/// `def`) and the scope it was created in.
struct PythonClosure {
  /// The body.
  enum Body {
    case expression(PythonProgram.Expression)
    case statements([PythonProgram.Statement])
  }

  var parameters: [String]
  var body: Body
  var scope: PythonScope
}

/// A function wrapped by `jax.custom_vjp` (a reference: `defvjp` sets its rule in place).
final class PythonCustomVJP {
  /// The function itself, what a call computes.
  let primal: PythonClosure
  /// `fwd(*inputs) -> (value, residuals)`, once `defvjp` has run.
  var forward: PythonClosure?
  /// `bwd(residuals, cotangent) -> one cotangent per input`, once `defvjp` has run.
  var backward: PythonClosure?

  init(primal: PythonClosure) {
    self.primal = primal
  }
}
