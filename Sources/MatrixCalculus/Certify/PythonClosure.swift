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
