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
  func function(named name: String, summary: [String], returns: String, code: Code) -> String {
    let indent = "    "
    var lines = [importLine]
    // A shared LU factorisation (``NumpyRenderer``) is jax.scipy's.
    if code.allStatements.contains(where: { $0.value.hasPrefix("jax.scipy.linalg.") }) {
      lines.append("import jax.scipy.linalg")
    }
    lines += ["", "", "def \(name)(\(parameters.joined(separator: ", "))):"]
    var doc = summary.map { $0.replacingOccurrences(of: "\\", with: "\\\\") }
    doc += ["", "Parameters:"]
    for input in problem.inputs {
      let axes: [String]
      switch input.type {
      case .scalar: axes = []
      case .vector: axes = [input.expr.shape.rows.description]
      default: axes = [input.expr.shape.rows.description, input.expr.shape.cols.description]
      }
      doc.append("    \(inputReference(input.name)): \(Self.shapeText(axes))")
    }
    doc += ["Returns:", "    " + returns]
    lines.append(indent + "\"\"\"" + doc[0])
    lines += doc.dropFirst().map { $0.isEmpty ? "" : indent + $0 }
    lines.append(indent + "\"\"\"")
    if code.alternatives.isEmpty { lines.append(indent + "# " + orderAssumption) }
    lines += body(of: code, indent: indent)
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
