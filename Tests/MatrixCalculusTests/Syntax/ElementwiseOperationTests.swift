import Foundation
import TensorKernel
import Testing

@testable import MatrixCalculus

/// A function defined by its meaning derives to the same values as its body written out
/// inline (the engine's element-wise differentiation of that body), at pairwise-distinct
/// sizes, and its derivative prints in the function's own terms.
@Test(arguments: [
  // (objective with the function, the same written out, variable, order, definitions)
  ("sum(sp(W*x))", "sum(log(1 + exp(W*x)))", "W", 1, "sp(t) = log(1 + exp(t))"),
  ("sum(sp(W*x))", "sum(log(1 + exp(W*x)))", "x", 2, "sp(t) = log(1 + exp(t))"),
  ("y'*qgelu(W*x)", "y'*((W*x) .* sigmoid(1.702*(W*x)))", "x", 1, "qgelu(t) = t*sigmoid(1.702*t)"),
  ("sum(cube(X))", "sum(X.^3)/3", "X", 2, "cube(t) = t^3/3"),
  ("sum(lg(x))", "sum(log(1 - x))", "x", 1, "lg(t) = log(1 - t)"),
  ("y'*sq(tanh(W*x))", "y'*(tanh(W*x) .* tanh(W*x))", "W", 1, "sq(t) = t*t"),
  ("sum(softplus(W*x))", "sum(log(1 + exp(W*x)))", "W", 1, ""),
  ("y'*silu(W*x)", "y'*((W*x) .* sigmoid(W*x))", "W", 1, ""),
  ("sum(P)", "sum(log(1 + exp(S)))", "S", 1, "sp(t) = log(1 + exp(t)); P[i,j] = sp(S[i,j])"),
])
func definedFunctionDerivesAsItsMeaning(
  _ expression: String, inline: String, wrt: String, order: Int, definitions: String
) throws {
  let statements =
    "W : matrix(m, n); x : vector(n); y : vector(m); X : matrix(m, n); S : matrix(m, n)"
    + (definitions.isEmpty ? "" : "; " + definitions)
  let defined = try derive(expression, wrt: wrt, where: statements, order: order)
  let written = try derive(inline, wrt: wrt, where: statements, order: order)
  #expect(defined.certificate?.passed == true)
  let (sizes, values) = try sampledInputs(defined, seed: 11)
  func evaluated(_ derivation: Derivation) throws -> Tensor {
    var evaluator = Evaluator(sizes: sizes, values: values)
    try evaluator.bind(derivation.problem.definitions)
    return try evaluator.evaluate(derivation.result)
  }
  expectClose(try evaluated(defined), try evaluated(written), expression)
}

/// sp′ prints as what its meaning differentiates to (sigmoid), not as exp(t) / (1 + exp(t)),
/// and sp itself stays named where the result holds it.
@Test func definedFunctionPrintsInItsOwnTerms() throws {
  let statements = "W : matrix(m, n); x : vector(n); sp(t) = log(1 + exp(t))"
  let byW = try derive("sum(sp(W*x))", wrt: "W", where: statements)
  #expect(MathRenderer(.text).render(byW.result) == "sigmoid(W x) xᵀ")
  let named = try derive("sp(x)'*sp(x)", wrt: "x", where: statements)
  #expect(MathRenderer(.text).render(named.result).contains("sp(x)"))
  #expect(try named.render(.text).hasPrefix("f = sp(x)ᵀ sp(x)\n"))
  let softplus = try derive(
    "sum(softplus(W*x))", wrt: "W", where: "W : matrix(m, n); x : vector(n)")
  #expect(MathRenderer(.text).render(softplus.result) == "sigmoid(W x) xᵀ")
}

/// A functions.rules in a --rules directory adds functions (using the built-in ones), and a
/// wrong one is refused with its file and line.
@Test func addedFunctionRulesDefineFunctions() throws {
  let folder = FileManager.default.temporaryDirectory
    .appendingPathComponent("matcalc-functions-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(at: folder) }
  let file = folder.appendingPathComponent("functions.rules")
  try "# mish\nmish(t) = t*tanh(softplus(t))\n".write(to: file, atomically: true, encoding: .utf8)
  let rules = try RuleSet.embedded(plus: folder.path)
  let mish = try derive("sum(mish(x))", wrt: "x", where: "x : vector(n)", rules: rules)
  let inline = try derive(
    "sum(x .* tanh(log(1 + exp(x))))", wrt: "x", where: "x : vector(n)")
  let (sizes, values) = try sampledInputs(mish, seed: 3)
  var evaluator = Evaluator(sizes: sizes, values: values)
  expectClose(try evaluator.evaluate(mish.result), try evaluator.evaluate(inline.result), "mish")
  #expect(throws: MatcalcError.self) {
    _ = try derive("sum(mish(x))", wrt: "x", where: "x : vector(n)")
  }
  try "mish(t) = t*tanh(softplus(t))\n\nbad(t) = t*q\n".write(
    to: file, atomically: true, encoding: .utf8)
  do {
    _ = try RuleSet.embedded(plus: folder.path)
    Issue.record("a function using an unknown name was loaded")
  } catch MatcalcError.rule(let message, let name, let line) {
    #expect(name == "functions.rules" && line == 3, "\(message)")
    #expect(message.contains("'q' is not a parameter of 'bad'"))
  }
}

/// Definitions that cannot be functions are errors at their position.
@Test(arguments: [
  ("sp(t) = log(1 + exp(1️⃣sp(t)))", "calls itself"),
  ("1️⃣exp(t) = t", "is a built-in function"),
  ("1️⃣softplus(t) = t", "is a built-in function (Rules/functions.rules)"),
  ("sp(t) = log(1 + exp(1️⃣u))", "'u' is not a parameter of 'sp'"),
  ("sp(t, 1️⃣u) = t*u", "several parameters are not built yet"),
  ("rsm(1️⃣S : matrix(m, n))[i,j] = exp(S[i,j])", "operator by its index meaning"),
  ("sp(t) = log(1 + exp(t)); 1️⃣sp(t) = t", "defined twice"),
  ("sp(t) = log(1 + exp(t)); y = 1️⃣sp(x, x)", "takes one argument, found 2"),
  ("sp(t) = 1️⃣t*ones(2, 3)", "a scalar formula of its parameters"),
  ("sp(t) = 1️⃣2^t", "does not apply entry by entry (an exponent depends on the parameter)"),
  ("sp(t) = 1️⃣inv(t)", "does not apply entry by entry (inv is not applied entry by entry)"),
])
func badFunctionDefinitionIsAnError(_ marked: String, message: String) throws {
  let (text, column) = MatrixCalculusTests.marked(marked)
  do {
    _ = try parseProblem("x : vector(n); " + text)
    Issue.record("accepted: \(text)")
  } catch let error as MatcalcError {
    #expect(error.message.contains(message), "\(error.message)")
    #expect(error.range?.column == column + 15, "\(String(describing: error.range))")
  }
}

/// The steps say where a defined function's derivative comes from.
@Test func definedFunctionHasAStepOfItsOwn() throws {
  let d = try derive(
    "y'*sp(W*x)", wrt: "W",
    where: "W : matrix(m, n); x : vector(n); y : vector(m); sp(t) = log(1 + exp(t))")
  let steps = try d.renderSteps()
  #expect(steps.contains("derived from its meaning sp(t) = log(1 + exp(t))"), "\(steps)")
  #expect(steps.contains("d(sp(W x)) = sigmoid(W x) ⊙ d(W x)"), "\(steps)")
}

/// Functions composed so that, written out, they nest past the depth limit are refused where
/// they are defined (f₈ = f₀ composed 256 times), not overflowed where they are used.
@Test func deeplyComposedFunctionsAreALimit() throws {
  var statements = "x : vector(n); f0(t) = sin(t)"
  for k in 1...8 { statements += "; f\(k)(t) = f\(k - 1)(f\(k - 1)(t))" }
  do {
    _ = try derive("sum(f8(x))", wrt: "x", where: statements)
    Issue.record("a function nested 256 deep was accepted")
  } catch MatcalcError.limit(let message, _) {
    #expect(message.contains("'f8' nests its functions"), "\(message)")
  }
  let shallow = try derive(
    "sum(f3(x))", wrt: "x",
    where: "x : vector(n); f0(t) = sin(t); f1(t) = f0(f0(t)); "
      + "f2(t) = f1(f1(t)); f3(t) = f2(f2(t))")
  #expect(shallow.certificate?.passed == true)
}
