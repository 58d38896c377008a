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
  let derivation = try derive(expression, wrt: wrt, where: statements, order: order)
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
