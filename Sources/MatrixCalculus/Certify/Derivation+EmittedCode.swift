import TensorKernel

extension Derivation {
  /// Checks emitted code (`--format numpy|python|jax`) as printed against the result at the
  /// certificate's sizes (``EmittedCodeCheck``): shape S_F + S_X and values.
  ///
  /// - Throws: ``MatcalcError/internalError(_:)`` when the code does not run or disagrees.
  func checkEmitted(
    _ text: String, format: OutputFormat, layout: Layout, certificate: Certificate
  ) throws {
    let formula = try laidOut(layout)
    let check = EmittedCodeCheck(
      problem: problem, objective: objective, variables: [variableName],
      formulas: [tensor == nil ? formula : objective], definitions: problem.definitions)
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
