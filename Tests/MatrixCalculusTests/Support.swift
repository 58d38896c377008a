import Foundation
import TensorKernel
import Testing

@testable import MatrixCalculus

/// Derives and checks; fails the test when the check fails. Returns the derivation.
@discardableResult
func derivedAndChecked(
  _ expression: String, wrt: String, where statements: String = "", order: Int = 1,
  sourceLocation: SourceLocation = #_sourceLocation
) throws -> Derivation {
  let derivation = try deriveUnchecked(expression, wrt: wrt, where: statements, order: order)
  let certificate = try derivation.check(points: 3)
  #expect(
    certificate.passed, "\(expression) wrt \(wrt): \(certificate) \(certificate.worstEntry)",
    sourceLocation: sourceLocation)
  return derivation
}

/// Splits a test input at its 1️⃣ marker: the text without it and the marker's column.
func marked(_ text: String) -> (String, Int) {
  guard let range = text.range(of: "1️⃣") else { return (text, 0) }
  let column = text.distance(from: text.startIndex, to: range.lowerBound) + 1
  return (text.replacingCharacters(in: range, with: ""), column)
}

extension Rule: CustomTestStringConvertible {
  /// The rule's name, shown for each parameterized case.
  public var testDescription: String { name }
}

/// Sizes and values for every input of a derivation's problem, inside the domains its
/// objective needs, drawn from `seed`.
func sampledInputs(_ derivation: Derivation, seed: UInt64) throws
  -> (sizes: [String: Int], values: [String: Tensor])
{
  let problem = derivation.problem
  let sizes = Sampler.sizes(for: problem.inputs.map(\.expr.shape))
  let requirements = Sampler.requirements(
    of: [derivation.objective], definitions: problem.definitions)
  var generator = SplitMix64(seed: seed)
  let values = try Sampler.draw(
    inputsOf: problem, requirements: requirements, sizes: sizes, generator: &generator)
  return (sizes, values)
}

/// The value of `plain`, a formula in the input language, next to the problem `statements`
/// (as the definition `G = plain`) at the point `values`.
func value(
  ofPlain plain: String, statements: String, sizes: [String: Int], values: [String: Tensor]
) throws -> Tensor {
  let problem = try parseProblem(statements + "\nG = " + plain)
  guard let g = problem.expr(named: "G") else { throw MatcalcError.internalError("no G") }
  var evaluator = Evaluator(sizes: sizes, values: values)
  try evaluator.bind(problem.definitions)
  return try evaluator.evaluate(g)
}

/// Fails unless `a` and `b` have one shape and agree entry by entry to 1e-9 of the larger
/// magnitude.
func expectClose(
  _ a: Tensor, _ b: Tensor, _ what: String, sourceLocation: SourceLocation = #_sourceLocation
) {
  #expect(a.rows == b.rows && a.cols == b.cols, "\(what): shapes", sourceLocation: sourceLocation)
  let scale = max(1, a.storage.map(abs).max() ?? 0, b.storage.map(abs).max() ?? 0)
  let worst = zip(a.storage, b.storage).map { abs($0 - $1) }.max() ?? 0
  #expect(worst <= 1e-9 * scale, "\(what): differs by \(worst)", sourceLocation: sourceLocation)
}
