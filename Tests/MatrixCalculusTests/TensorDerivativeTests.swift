import Foundation
import TensorKernel
import Testing

@testable import MatrixCalculus

let tensorDeclarations =
  "A : matrix(m, n); B : matrix(p, q); X : matrix(n, p); Y : matrix(n, n); x : vector(p); "
  + "W : matrix(m, n); v : vector(n); S : symmetric(n)"

/// Results with three or four indices (shape S_F + S_X), in index form; each checked on
/// numbers and its NumPy einsum run by Python.
let tensorCases: [(String, String, Int, String)] = [
  ("A*X*B", "X", 1, "∂f_ij/∂X_kl = A_ik B_lj"),  // Cookbook: d(AXB) = A dX B
  ("X'", "X", 1, "∂f_ij/∂X_kl = δ_kj δ_il"),
  ("W*v", "W", 1, "∂f_i/∂W_kl = δ_ki v_l"),
  ("inv(Y)", "Y", 1, "∂f_ij/∂Y_kl = −(Y⁻¹)_ik (Y⁻¹)_lj"),  // Cookbook (59)
  ("Y*Y", "Y", 1, "∂f_ij/∂Y_kl = δ_ki Y_lj + Y_ik δ_jl"),
  ("tr(Y)*Y", "Y", 1, "∂f_ij/∂Y_kl = Y_ij δ_kl + tr(Y) δ_ki δ_jl"),
  ("X .* X", "X", 1, "∂f_ij/∂X_kl = 2 δ_ki δ_jl X_kl"),
  ("tanh(W)", "W", 1, ""),
  ("x'*x*X", "X", 1, ""),
  ("W'*W", "W", 1, ""),
  ("tr(Y^3)", "Y", 2, ""),
  ("logdet(Y)", "Y", 2, ""),
  ("sum(W .* W)", "W", 2, "∂f_ij/∂W_kl = 2 δ_ki δ_jl"),
]

@Test(arguments: tensorCases.indices)
func tensorDerivativeIsCheckedAndItsEinsumAgrees(_ index: Int) throws {
  let (expression, wrt, order, expected) = tensorCases[index]
  let derivation = try derive(expression, wrt: wrt, where: tensorDeclarations, order: order)
  let tensor = try #require(derivation.tensor)
  let certificate = try derivation.check(points: 3)
  #expect(certificate.passed, "\(certificate) \(certificate.worstEntry)")
  if !expected.isEmpty {
    #expect(tensor.render(MathRenderer(.text), function: "f", variable: wrt) == expected)
  }
  // NumPy: the einsum line against the tensor's values here, flattened as (F, X).
  let line = try derivation.render(.numpy)
  let problem = derivation.problem
  let sizes = certificate.sizes
  let requirements = Sampler.requirements(
    of: [derivation.objective], definitions: problem.definitions)
  var generator = SplitMix64(seed: 23)
  var values: [String: Tensor] = [:]
  var script = "import numpy as np, json\n"
  for input in problem.inputs {
    let value = try Sampler.draw(
      input.expr.shape, requirements: requirements[input.name] ?? [],
      symmetric: Matcher.isSymmetric(input.expr), sizes: sizes, generator: &generator)
    values[input.name] = value
    script += "globals()['\(input.name)'] = \(PythonRunner.literal(value, input.type))\n"
  }
  script += "print(json.dumps(np.asarray(\(line), dtype=float).ravel().tolist()))\n"
  var evaluator = Evaluator(sizes: sizes, values: values)
  try evaluator.bind(problem.definitions)
  let expectedValues = try tensor.jacobian(&evaluator)
  let numbers = try JSONDecoder().decode(
    [Double].self, from: Data(try PythonRunner.run(script).utf8))
  #expect(numbers.count == expectedValues.count, "\(line)")
  let gap = zip(numbers, expectedValues.storage).map { abs($0 - $1) }.max() ?? .infinity
  #expect(gap <= 1e-9 * max(1, expectedValues.maxAbs), "\(line)")
}
