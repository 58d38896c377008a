import TensorKernel

extension Backpropagation {
  /// Checks emitted code as printed against the gradients at the certificate's sizes
  /// (``EmittedCodeCheck``): the NumPy line is a tuple in the order of the variables, as is a
  /// function of several; `only` checks one gradient's own line (JSON's per-gradient `numpy`).
  ///
  /// - Throws: ``MatcalcError/internalError(_:)`` when the code does not run or disagrees.
  func checkEmitted(
    _ text: String, format: OutputFormat, layout: Layout, certificate: Certificate,
    only: Int? = nil
  ) throws {
    let formulas = try laidOut(layout)
    let check = EmittedCodeCheck(
      problem: problem, objective: objective, variables: variables.map(\.name),
      formulas: formulas, definitions: problem.definitions + intermediates.asDefinitions)
    var expected: [EmittedCodeCheck.Expected] = []
    for (index, (variable, formula)) in zip(variables, formulas).enumerated()
    where only == nil || only == index {
      expected.append(
        EmittedCodeCheck.Expected(
          label: "∂\(objectiveName)/∂\(variable.name)", axes: shape(of: variable.expr, in: layout)
        ) { evaluator in try evaluator.evaluate(formula) })
    }
    let tuple = only == nil && (format == .numpy || expected.count > 1)
    try check.verify(
      text, format: format,
      function: NumpyRenderer.functionName(["grad", objectiveName] + variables.map(\.name)),
      expected: expected, tuple: tuple, certificate: certificate)
  }
}
