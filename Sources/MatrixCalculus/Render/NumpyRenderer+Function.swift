// MARK: - A self-contained Python function (--format python, --format jax)

extension NumpyRenderer {
  /// The module line the function needs.
  var importLine: String {
    style == .jaxFunction ? "import jax.numpy as jnp" : "import numpy as np"
  }

  /// A Python identifier made of `parts` (`grad_l_W`): other characters become `_`.
  static func functionName(_ parts: [String]) -> String {
    let name = parts.joined(separator: "_").unicodeScalars.map { scalar -> String in
      scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar))
        ? String(scalar) : "_"
    }.joined()
    return pythonKeywords.contains(name) ? name + "_" : name
  }

  /// `(m, n)`, `(n,)` or `float`, for a shape given as its axes' sizes.
  static func shapeText(_ axes: [String]) -> String {
    switch axes.count {
    case 0: return "float"
    case 1: return "(\(axes[0]),) array"
    default: return "(" + axes.joined(separator: ", ") + ") array"
    }
  }

  /// `code` as a Python function: the import, `def name(inputs…):` with the inputs in
  /// declaration order, a docstring (`summary`, each parameter's shape, `returns`), a comment
  /// stating the sizes the order is planned for, one statement per intermediate, and the
  /// result (a tuple for several).
  func function(
    named name: String, summary: [String], returns: String, code: Code, wrapper: String? = nil
  ) -> String {
    let indent = "    "
    var lines = [importLine]
    // jax.custom_vjp, and jax.nn.sigmoid (a stable σ).
    let texts = code.statements.map(\.value) + code.results.map(\.text) + [wrapper ?? ""]
    if wrapper != nil || texts.contains(where: { $0.contains("jax.nn.") }) {
      lines.append("import jax")
    }
    // A shared LU factorisation (``NumpyRenderer``) is jax.scipy's.
    if code.allStatements.contains(where: { $0.value.hasPrefix("jax.scipy.linalg.") }) {
      lines.append("import jax.scipy.linalg")
    }
    let upstream = code.upstream.map(\.name)
    lines += ["", "", "def \(name)(\((parameters + upstream).joined(separator: ", "))):"]
    var doc = summary.map { $0.replacingOccurrences(of: "\\", with: "\\\\") }
    doc += ["", "Parameters:"]
    for input in problem.inputs {
      doc.append("    \(inputReference(input.name)): \(Self.shapeText(Self.axisNames(of: input)))")
    }
    for gradient in code.upstream {
      let input = (gradient.name, gradient.variable, gradient.type)
      let argument = MathRenderer(.text).render(gradient.argument)
      let upstream =
        gradient.argument.children.isEmpty
        ? "∂\(gradient.function)/∂\(argument)" : "∇\(gradient.function) at \(argument)"
      doc.append(
        "    \(gradient.name): \(Self.shapeText(Self.axisNames(of: input))), \(upstream), the "
          + "upstream gradient")
    }
    doc += ["Returns:", "    " + returns]
    lines.append(indent + "\"\"\"" + doc[0])
    lines += doc.dropFirst().map { $0.isEmpty ? "" : indent + $0 }
    lines.append(indent + "\"\"\"")
    if code.alternatives.isEmpty { lines.append(indent + "# " + orderAssumption) }
    lines += body(of: code, indent: indent)
    if let wrapper { lines += ["", "", wrapper] }
    return lines.joined(separator: "\n")
  }

  /// For `l = L(Y)`, the objective an opaque function of Y and nothing more, a JAX function
  /// computing Y whose derivative is the derived backward (`jax.custom_vjp`): the layer Y,
  /// differentiated by `backward` (the function of `code`, which takes `grad_Y`) instead of
  /// autodiff. `l = L(layer_Y(…))` then differentiates through it. The inputs not in `wrt`
  /// get a zero cotangent (held constant, as `jax.lax.stop_gradient` would). `nil` when the
  /// objective is not such an L(Y) or the code is not JAX.
  ///
  /// - Parameters:
  ///   - objective: the objective, a name of a definition or an expression.
  ///   - backward: the name of the backward function.
  ///   - code: the backward's code (its ``Code/upstream`` names grad_Y).
  ///   - wrt: the variables the backward returns the gradients of, in its order.
  func customVJP(objective: Expr, backward: String, code: Code, wrt: [String]) throws -> String? {
    guard style == .jaxFunction, code.upstream.count == 1, let upstream = code.upstream.first
    else { return nil }
    var body = objective
    while let definition = problem.definitions.first(where: { $0.variable == body }) {
      body = definition.body
    }
    guard case .opaque(let function, let argument) = body.node, function == upstream.function,
      argument == upstream.argument
    else { return nil }
    let forward = try self.code([(argument, Self.axes(of: upstream.type))])
    let name = Self.functionName(["layer", String(upstream.name.dropFirst("grad_".count))])
    let inputs = parameters.joined(separator: ", ")
    let text = MathRenderer(.text)
    var argumentText = text.render(argument)
    if let definition = problem.definitions.first(where: { $0.variable == argument }) {
      argumentText += " = " + text.render(definition.body)
    }
    let held = problem.inputs.map(\.name).filter { !wrt.contains($0) }
    let indent = "    "
    var lines = [
      "@jax.custom_vjp",
      "def \(name)(\(inputs)):",
      indent + "\"\"\"The layer \(argumentText), differentiated by \(backward) "
        + "(jax.custom_vjp): \(function)(\(name)(\(inputs))) uses the derived backward.",
    ]
    if !held.isEmpty {
      lines += [
        "",
        indent + "Held constant (zero cotangent): \(held.joined(separator: ", ")); derive with "
          + "--wrt naming every input to differentiate.",
      ]
    }
    lines.append(indent + "\"\"\"")
    for (variable, value) in forward.statements {
      lines.append(indent + "\(variable) = \(modular(value))")
    }
    for result in forward.results {
      lines.append(indent + "return " + modular(shaped(result.text, rank: result.rank)))
    }
    // The cotangent of each input, in the order of the parameters.
    let cotangents = problem.inputs.map { input -> String in
      guard let position = wrt.firstIndex(of: input.name) else { return "None" }
      return wrt.count == 1 ? "gradients" : "gradients[\(position)]"
    }
    lines += [
      "", "",
      "def _\(name)_fwd(\(inputs)):",
      indent + "return \(name)(\(inputs)), (\(inputs)\(problem.inputs.count == 1 ? "," : ""))",
      "", "",
      "def _\(name)_bwd(residuals, \(upstream.name)):",
      indent + "gradients = \(backward)(*residuals, \(upstream.name))",
      indent + "return (\(cotangents.joined(separator: ", "))\(cotangents.count == 1 ? "," : ""))",
      "", "",
      "\(name).defvjp(_\(name)_fwd, _\(name)_bwd)",
    ]
    return lines.joined(separator: "\n")
  }

  /// The parameters of the function: the inputs in declaration order.
  var parameters: [String] { problem.inputs.map { inputReference($0.name) } }

  /// Which sizes the evaluation order was chosen for.
  var orderAssumption: String {
    let given = model.sizes.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
    return given.isEmpty
      ? "Evaluation order planned for every symbolic dimension large (--sizes to change)."
      : "Evaluation order planned for \(given.joined(separator: ", ")); other symbolic "
        + "dimensions taken as large."
  }

  /// NumPy code as written for the module of the style: `np.` becomes `jnp.` under JAX
  /// (only where `np` is a whole name).
  func modular(_ text: String) -> String {
    guard style == .jaxFunction else { return text }
    var result = ""
    var previous: Character?
    var rest = Substring(text)
    while let first = rest.first {
      let isNameCharacter = previous.map { $0.isLetter || $0.isNumber || $0 == "_" } ?? false
      if !isNameCharacter && rest.hasPrefix("np.") {
        result += "jnp."
        rest = rest.dropFirst(3)
        previous = "."
        continue
      }
      result.append(first)
      previous = first
      rest = rest.dropFirst()
    }
    return result
  }
}
