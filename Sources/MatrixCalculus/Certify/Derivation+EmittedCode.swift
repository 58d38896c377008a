import TensorKernel

extension Derivation {
  /// Checks emitted code (`--format numpy|python|jax`) as printed against the result at the
  /// certificate's sizes (``EmittedCodeCheck``): shape S_F + S_X and values; a backward
  /// function is called with ∇L(Y) for its `grad_Y`, and its JAX layer's rule is checked too.
  ///
  /// - Throws: ``MatcalcError/internalError(_:)`` when the code does not run or disagrees.
  func checkEmitted(
    _ text: String, format: OutputFormat, layout: Layout, certificate: Certificate
  ) throws {
    let formula = try laidOut(layout)
    var check = EmittedCodeCheck(
      problem: problem, objective: objective, variables: [variableName],
      formulas: [tensor == nil ? formula : objective], definitions: problem.definitions)
    if tensor == nil, format == .python || format == .jax {
      // The backward's grad_… parameters, named as the function's code names them.
      check.upstream = try NumpyRenderer(
        problem: problem, style: format == .jax ? .jaxFunction : .numpyFunction
      ).upstreamGradients(in: [formula])
    }
    let tensor = self.tensor
    let expected = EmittedCodeCheck.Expected(
      label: "∂\(objectiveName)/∂\(variableName)", axes: resultShape(in: layout)
    ) { evaluator in
      if let tensor { return try tensor.jacobian(&evaluator) }
      return try evaluator.evaluate(formula)
    }
    try check.verify(
      text, format: format,
      function: NumpyRenderer.functionName(["grad", objectiveName, variableName]),
      expected: [expected], tuple: false, certificate: certificate)
  }
}
