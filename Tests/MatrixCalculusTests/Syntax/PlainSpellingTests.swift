import Foundation
import TensorKernel
import Testing

@testable import MatrixCalculus

/// A problem whose derivative is spelled in the input language.
private let plainProblems: [(expression: String, wrt: String, statements: String)] = [
  ("x'*A*x", "x", "x : vector(n); A : matrix(n, n)"),
  ("tr(X*A)", "X", "X : matrix(m, n); A : matrix(n, m)"),
  ("logdet(X)", "X", "X : matrix(n, n)"),
  ("norm2(W*x - y)^2", "W", "W : matrix(m, n); x : vector(n); y : vector(m)"),
  ("sum(exp(W*x))", "x", "W : matrix(m, n); x : vector(n)"),
  ("l", "W", "W : matrix(m, n); x : vector(n); h = tanh(W*x); l = sum(h .* h)"),
  ("tr(inv(X)*A)", "X", "X : matrix(n, n); A : matrix(n, n)"),
  ("logsumexp(W*x) - y'*W*x", "W", "W : matrix(m, n); x : vector(n); y : vector(m)"),
  ("sigmoid(W*x)", "x", "W : matrix(m, n); x : vector(n)"),
  ("x .* sqrt(x)", "x", "x : vector(n)"),
  ("a'*X*b / s", "s", "a : vector(m); X : matrix(m, n); b : vector(n); s : scalar"),
  ("relu(W*x)'*relu(W*x) + s^3", "s", "W : matrix(m, n); x : vector(n); s : scalar"),
]

/// JSON's `plain` parses back, as a definition next to the same declarations, to the values
/// of the result at random points.
@Test(arguments: plainProblems.indices)
func plainParsesBackToTheSameValues(_ index: Int) throws {
  let (expression, wrt, statements) = plainProblems[index]
  let derivation = try deriveUnchecked(expression, wrt: wrt, where: statements)
  let json = try JSONSerialization.jsonObject(with: Data(try derivation.render(.json).utf8))
  let plain = try #require((json as? [String: Any])?["plain"] as? String, "\(expression)")
  #expect(try derivation.plain() == plain)
  for seed: UInt64 in 1...2 {
    let (sizes, values) = try sampledInputs(derivation, seed: seed)
    var evaluator = Evaluator(sizes: sizes, values: values)
    try evaluator.bind(derivation.problem.definitions)
    let expected = try evaluator.evaluate(derivation.result)
    let actual = try value(ofPlain: plain, statements: statements, sizes: sizes, values: values)
    expectClose(actual, expected, "\(expression) wrt \(wrt): \(plain)")
  }
}

/// Several variables: each gradient's `plain` (the δ's inlined) gives the gradient's values.
@Test(arguments: [
  ("x'*A*x", ["x", "A"], "x : vector(n); A : matrix(n, n)"),
  (
    "l", ["W1", "W2"],
    "W1 : matrix(h, n); W2 : matrix(m, h); x : vector(n); y : vector(m); "
      + "a = tanh(W1*x); z = W2*a; l = norm2(z - y)^2"
  ),
])
func severalVariablesPlainParsesBack(_ expression: String, wrt: [String], statements: String)
  throws
{
  let backpropagation = try deriveUnchecked(expression, wrt: wrt, where: statements)
  let json = try JSONSerialization.jsonObject(with: Data(try backpropagation.render(.json).utf8))
  let plain = try #require((json as? [String: Any])?["plain"] as? [String])
  #expect(try backpropagation.plain() == plain)
  let problem = backpropagation.problem
  let sizes = Sampler.sizes(for: problem.inputs.map(\.expr.shape))
  var generator = SplitMix64(seed: 7)
  let values = try Sampler.draw(
    inputsOf: problem,
    requirements: Sampler.requirements(
      of: [backpropagation.objective], definitions: problem.definitions),
    sizes: sizes, generator: &generator)
  var evaluator = Evaluator(sizes: sizes, values: values)
  try evaluator.bind(problem.definitions + backpropagation.intermediates.asDefinitions)
  for (gradient, spelling) in zip(backpropagation.gradients, plain) {
    let actual = try value(ofPlain: spelling, statements: statements, sizes: sizes, values: values)
    expectClose(actual, try evaluator.evaluate(gradient), "\(expression): \(spelling)")
  }
}

/// A result with three or more indices has no matrix form: `plain` is null with a reason.
@Test func tensorResultHasNoPlainButSaysWhy() throws {
  let derivation = try deriveUnchecked("W*X", wrt: "W", where: "W : matrix(m, n); X : matrix(n, p)")
  let json = try JSONSerialization.jsonObject(with: Data(try derivation.render(.json).utf8))
  let object = try #require(json as? [String: Any])
  #expect(object["plain"] is NSNull)
  #expect((object["plain_reason"] as? String)?.contains("4-index result") == true)
  #expect(try derivation.plain() == nil)
}

/// The upstream gradient of an opaque function has no spelling: null with a reason.
@Test func opaqueUpstreamGradientHasNoPlain() throws {
  let derivation = try deriveUnchecked(
    "L(W*x)", wrt: "W", where: "W : matrix(m, n); x : vector(n); L : function")
  #expect(try derivation.plain() == nil)
  #expect(try derivation.plainUnavailableReason()?.contains("upstream gradient") == true)
}

/// A second derivative and the numerator layout: `plain` is the printed (laid-out) result.
@Test(arguments: [
  ("x'*A*x + sum(exp(x))", "x", "x : vector(n); A : matrix(n, n)", 2, Layout.standard),
  ("sum(sigmoid(W*x))", "x", "W : matrix(m, n); x : vector(n)", 2, Layout.standard),
  ("tr(X*A)", "X", "X : matrix(m, n); A : matrix(n, m)", 1, Layout.numerator),
  ("tanh(W*x)", "x", "W : matrix(m, n); x : vector(n)", 1, Layout.denominator),
])
func plainIsTheLaidOutResult(
  _ expression: String, wrt: String, statements: String, order: Int, layout: Layout
) throws {
  let derivation = try deriveUnchecked(expression, wrt: wrt, where: statements, order: order)
  let plain = try #require(try derivation.plain(layout: layout))
  let (sizes, values) = try sampledInputs(derivation, seed: 3)
  var evaluator = Evaluator(sizes: sizes, values: values)
  try evaluator.bind(derivation.problem.definitions)
  let expected = try evaluator.evaluate(try derivation.laidOut(layout))
  let actual = try value(ofPlain: plain, statements: statements, sizes: sizes, values: values)
  expectClose(actual, expected, "\(expression) (\(layout)): \(plain)")
}

/// `PlainSpelling.tokenCount` is the number of tokens the lexer reads in the spelling, for the
/// results of the textbook corpus and their subexpressions.
@Test func tokenCountIsTheLexersCount() throws {
  for textbookCase in Textbook.cases {
    let derivation = try deriveUnchecked(
      textbookCase.objective, wrt: textbookCase.wrt, where: textbookCase.statements,
      order: textbookCase.order)
    var seen = Set<Expr>()
    func visit(_ e: Expr) throws {
      guard seen.insert(e).inserted else { return }
      let spelling = PlainSpelling.spell(e)
      #expect(PlainSpelling.tokenCount(e) == (try Textbook.size(spelling)), "\(spelling)")
      try e.children.forEach(visit)
    }
    try visit(derivation.result)
  }
}
