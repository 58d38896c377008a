import TensorKernel

extension Backpropagation {
  /// Checks emitted code as printed against the gradients at the certificate's sizes
  /// (``EmittedCodeCheck``): the NumPy line is a tuple in the order of the variables, as is a
  /// function of several; `only` checks one gradient's own line (JSON's per-gradient `numpy`).
  /// A backward function is called with ∇L(Y) for its `grad_Y`, and its JAX layer's
  /// `jax.custom_vjp` rule is checked too.
  ///
  /// - Throws: ``MatcalcError/internalError(_:)`` when the code does not run or disagrees.
  func checkEmitted(
    _ text: String, format: OutputFormat, layout: Layout, certificate: Certificate
  ) throws {
    try checkEmitted(text, format: format, layout: layout, certificate: certificate, only: nil)
  }

  /// ``checkEmitted(_:format:layout:certificate:)`` of one gradient's own line when `only`
  /// is its index.
  func checkEmitted(
    _ text: String, format: OutputFormat, layout: Layout, certificate: Certificate,
    only: Int?
  ) throws {
    let formulas = try laidOut(layout)
    var check = EmittedCodeCheck(
      problem: problem, objective: objective, variables: variables.map(\.name),
      formulas: formulas, definitions: problem.definitions + intermediates.asDefinitions)
    if format == .python || format == .jax {
      // The backward's grad_… parameters, named as the function's code names them (its roots:
      // the gradients, then the intermediates).
      check.upstream = try NumpyRenderer(
        problem: problem, style: format == .jax ? .jaxFunction : .numpyFunction
      ).upstreamGradients(in: formulas + intermediates.map(\.value))
    }
    var expected: [EmittedCodeCheck.Expected] = []
    for (index, (variable, formula)) in zip(variables, formulas).enumerated()
    where only == nil || only == index {
      expected.append(
        EmittedCodeCheck.Expected(
          label: "∂\(objectiveName)/∂\(variable.name)",
          axes: codeAxes(of: variable.name, in: layout)
        ) { evaluator in try evaluator.evaluate(formula) })
    }
    let tuple = only == nil && (format == .numpy || expected.count > 1)
    try check.verify(
      text, format: format,
      function: NumpyRenderer.functionName(["grad", objectiveName] + variables.map(\.name)),
      expected: expected, tuple: tuple, certificate: certificate)
  }

  /// The axes of ∂f/∂X as code returns it: those of the array bound to the input X
  /// (shared/LANGUAGE.md: none for a scalar, one for a vector, two for a matrix), swapped in
  /// numerator layout.
  func codeAxes(of name: String, in layout: Layout) -> [String] {
    guard let input = problem.inputs.first(where: { $0.name == name }) else { return [] }
    let (rows, cols) = (input.expr.shape.rows.description, input.expr.shape.cols.description)
    switch input.type {
    case .scalar, .function, .elementwise: return []
    case .vector, .simplex: return [rows]
    case .matrix, .symmetric: return layout == .numerator ? [cols, rows] : [rows, cols]
    }
  }
}
