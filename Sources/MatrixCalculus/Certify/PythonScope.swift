/// Names bound in one scope (a module, a call), and the scope around it.
final class PythonScope {
  var names: [String: PythonValue]
  let parent: PythonScope?

  init(_ names: [String: PythonValue] = [:], parent: PythonScope? = nil) {
    self.names = names
    self.parent = parent
  }

  /// The value of `name` here or in an enclosing scope.
  func lookUp(_ name: String) -> PythonValue? {
    var scope: PythonScope? = self
    while let current = scope {
      if let value = current.names[name] { return value }
      scope = current.parent
    }
    return nil
  }

  /// The outermost scope (the module's globals).
  var global: PythonScope {
    var scope = self
    while let parent = scope.parent { scope = parent }
    return scope
  }
}
