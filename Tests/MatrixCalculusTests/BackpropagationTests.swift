import TensorKernel
import Testing

@testable import MatrixCalculus

/// One backward pass for every weight gives the same numbers as one derivation per weight,
/// and its joint certificate passes.
@Test func sharedBackwardPassAgreesWithSingleDerivations() throws {
  var statements = ["L : function", "X : matrix(d0, b)"]
  var previous = "X"
  for layer in 1...4 {
    statements.append("W\(layer) : matrix(d\(layer), d\(layer - 1))")
    statements.append("H\(layer) = sigmoid(W\(layer)*\(previous))")
    previous = "H\(layer)"
  }
  statements.append("l = L(\(previous))")
  let source = statements.joined(separator: "; ")
  let weights = (1...4).map { "W\($0)" }
  let shared = try deriveUnchecked("l", wrt: weights, where: source)
  #expect(try shared.check().passed)
  // Every gradient is stated through the δ's: its printed size does not grow with depth.
  for gradient in shared.gradients {
    #expect(MathRenderer(.text).render(gradient).count < 40)
  }
  let problem = shared.problem
  let sizes = Sampler.sizes(for: problem.inputs.map(\.expr.shape))
  var generator = SplitMix64(seed: 3)
  var values: [String: Tensor] = [:]
  for input in problem.inputs {
    values[input.name] = try Sampler.draw(
      input.expr.shape, requirements: [], symmetric: false, sizes: sizes, generator: &generator)
  }
  var evaluator = Evaluator(sizes: sizes, values: values)
  try evaluator.bind(
    problem.definitions + shared.intermediates.asDefinitions)
  for (index, weight) in weights.enumerated() {
    let single = try deriveUnchecked("l", wrt: weight, where: source)
    var alone = Evaluator(sizes: sizes, values: values)
    try alone.bind(problem.definitions)
    let expected = try alone.evaluate(single.result)
    let actual = try evaluator.evaluate(shared.gradients[index])
    let gap = expected.zip(actual, -)?.maxAbs ?? .infinity
    #expect(gap <= 1e-12 * max(1, expected.maxAbs), "\(weight)")
  }
}

/// Several variables of an objective defined on part of the space (a log barrier): the
/// joint check moves the point inside the domain, variable by variable.
@Test func logBarrierGradientsAreCheckedJointly() throws {
  let derivation = try deriveUnchecked(
    "-sum(log(b - A*x))", wrt: ["x", "b"],
    where: "A : matrix(m, n); b : vector(m); x : vector(n)")
  #expect(try derivation.check().passed)
}
