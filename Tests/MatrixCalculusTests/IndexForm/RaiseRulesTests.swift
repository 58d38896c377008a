import TensorKernel
import Testing

@testable import MatrixCalculus

/// Checks a raise rule on numbers: its pattern evaluated entry by entry (as the certificate
/// evaluates index definitions) against its right side, at two orderings of the dimensions.
func raiseRuleHolds(_ rule: RaiseRule) throws -> Bool {
  let problem = try parseProblem(rule.declarations)
  // Every index's range: the right side's axes, then the axes of the entries it indexes.
  var ranges: [String: Dim] = [:]
  let axes = [rule.right.shape.rows, rule.right.shape.cols].filter { $0 != .one }
  for (index, dim) in zip(rule.indices, axes) { ranges[index] = dim }
  func collect(_ node: SyntaxExpr) {
    switch node.kind {
    case .index(let name, let names):
      guard let shape = rule.variables[name]?.shape else { return }
      let dims = shape.cols == .one ? [shape.rows] : [shape.rows, shape.cols]
      for (index, dim) in zip(names, dims) where ranges[index] == nil { ranges[index] = dim }
    case .call(_, let arguments): arguments.forEach(collect)
    case .binary(_, let a, let b):
      collect(a)
      collect(b)
    case .negate(let a), .transpose(let a): collect(a)
    case .name, .number: return
    }
  }
  let patternSyntax = try rule.pattern
  collect(patternSyntax)
  var written = WrittenProblem()
  written.definitions = [
    .init(
      name: "R", indices: rule.indices, body: patternSyntax, isIndexFormula: true,
      ranges: ranges)
  ]
  for reversed in [false, true] {
    let sizes = Sampler.sizes(for: problem.inputs.map(\.expr.shape), reversed: reversed)
    var generator = SplitMix64(seed: TestFunctions.stableHash(rule.name))
    let values = try Sampler.draw(
      inputsOf: problem, requirements: [:], sizes: sizes, generator: &generator)
    var entries = WrittenEvaluator(written, functions: [:], sizes: sizes, values: values)
    do { try entries.bindDefinitions() } catch is MatcalcError { return false }
    let pattern = try #require(entries.values["R"])
    var evaluator = Evaluator(sizes: sizes, values: values)
    let matrix = try evaluator.evaluate(rule.right)
    guard pattern.count == matrix.count else { return false }
    for (x, y) in zip(pattern.storage, matrix.storage) where abs(x - y) > 1e-12 * max(1, abs(y)) {
      return false
    }
  }
  return true
}

@Test(arguments: RaiseRules.embedded.keys.sorted())
func raiseRuleHoldsNumerically(_ name: String) throws {
  let rule = try #require(RaiseRules.embedded[name])
  #expect(try raiseRuleHolds(rule), "\(rule.file):\(rule.line) \(name)")
}

@Test func everyRaiseRuleIsLoaded() {
  #expect(RaiseRules.embedded.count == 14)
}

/// A wrong raising rule fails the numeric check: a transposed product, the sum of all entries
/// for the trace, a sum over the wrong index.
@Test(arguments: [
  "matmul: sum(k, A[i,k]*B[k,j]) => (B'*A')[i,j]",
  "trace: sum(i, S[i,i]) => sum(S)[]",
  "row-sum: sum(i, M[i,j]) => (M*ones(n, 1))[i]",
])
func wrongRaiseRuleFailsTheCheck(_ line: String) throws {
  let text =
    "let A : matrix(m, p); B : matrix(p, n); M : matrix(m, n); S : matrix(m, m)\n"
    + line
  let rule = try #require(try RaiseRules.parse(text, file: "wrong.rules").first)
  #expect(!(try raiseRuleHolds(rule)))
}

@Test(arguments: [
  "matmul: sum(k, A[i,k]*B[k,j]) => (A*B)",  // no entry
  "matmul: sum(k, A[i,k]*B[k,j]) => (A*B)[i]",  // one index for two axes
  "matmul: sum(k, A[i,k]*B[k,j]) => (A*C)[i,j]",  // undeclared
])
func malformedRaiseRuleIsRejectedWithItsLine(_ line: String) {
  let text = "let A : matrix(m, p); B : matrix(p, n)\n" + line
  #expect {
    _ = try RaiseRules.parse(text, file: "bad.rules")
  } throws: { error in
    guard case .rule(_, let file, let line) = error as? MatcalcError else { return false }
    return file == "bad.rules" && line == 2
  }
}
