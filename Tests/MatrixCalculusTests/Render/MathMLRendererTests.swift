import Foundation
import Testing

#if canImport(FoundationXML)
  import FoundationXML
#endif

@testable import MatrixCalculus

private let n = Dim.symbol("n")

private func square(_ name: String) throws -> Expr { try Expr.variable(name, Shape(n, n)) }

/// Whether `markup` is one well-formed XML element.
private func wellFormed(_ markup: String) -> Bool {
  XMLParser(data: Data(markup.utf8)).parse()
}

/// One expression of every node kind, each with what its MathML must contain.
private func everyKind() throws -> [(Expr, String)] {
  let x = try square("X")
  let w1 = try square("W1")
  let v = try Expr.variable("v", Shape(n, .one))
  let s = try Expr.variable("lambda", Shape(.one, .one))
  return [
    (x, "<mi>X</mi>"),
    (try Expr.make(.constant(-0.5)), "<mo>−</mo><mfrac><mn>1</mn><mn>2</mn></mfrac>"),
    (try Expr.make(.identity(n)), "<mi>I</mi>"),
    (try Expr.make(.ones(Shape(.one, n))), "<mi mathvariant=\"normal\">T</mi>"),
    (try Expr.make(.zero(Shape(n, n))), "<mn>0</mn>"),
    (try Expr.make(.add([x, try Expr.make(.transpose(x))])), "<mo>+</mo>"),
    (try Expr.make(.product(s, x)), "<mi>λ</mi>"),
    (try Expr.make(.chain([x, w1])), "<msub><mi>W</mi><mn>1</mn></msub>"),
    (try Expr.make(.hadamard(x, w1)), "<mo>⊙</mo>"),
    (try Expr.make(.power(x, .constant(2))), "<mo>∘</mo><mn>2</mn>"),
    (
      try Expr.make(.transpose(w1)),
      "<msubsup><mi>W</mi><mn>1</mn><mi mathvariant=\"normal\">T</mi></msubsup>"
    ),
    (try Expr.make(.call(.inverse, x)), "<msup><mi>X</mi><mrow><mo>−</mo><mn>1</mn></mrow></msup>"),
    (try Expr.make(.call(.logdet, x)), "<mi>log</mi>"),
    (try Expr.make(.opaque("L", x)), "<mi>L</mi>"),
    (try Expr.make(.gradient("L", x)), "<msub><mo>∇</mo><mi>X</mi></msub>"),
    (try Expr.make(.mapped(ElementwiseOperation(opaque: "f"), 1, v)), "<mo>′</mo>"),
    (try Expr.make(.differential(x)), "<mi mathvariant=\"normal\">d</mi><mi>X</mi>"),
  ]
}

/// Every node kind prints as well-formed MathML with its own notation.
@Test func everyNodeKindIsWellFormedMathML() throws {
  let renderer = MathMLRenderer()
  for (e, expected) in try everyKind() {
    let markup = MathMLRenderer.math(renderer.render(e))
    #expect(wellFormed(markup), "\(e): \(markup)")
    #expect(markup.contains(expected), "\(e): \(markup)")
  }
}

/// Transposes, inverses and Hadamard products as the text renderer parenthesises them.
@Test(arguments: [
  ("x'*A*x", "x", "<mrow><mo stretchy=\"false\">(</mo>"),
  ("tr(inv(X)*A)", "X", "<mrow><mo>−</mo><mi mathvariant=\"normal\">T</mi></mrow>"),
  ("sum(tanh(W*x))", "W", "<mrow><mo>∘</mo><mn>2</mn></mrow></msup>"),
  ("z'*tanh(W*x)", "W", "<mo>⊙</mo>"),
  ("1/2*yhat'*yhat", "yhat", "<mover accent=\"true\"><mi>y</mi><mo>^</mo></mover>"),
])
func derivedResultsAsMathML(_ expression: String, wrt: String, expected: String) throws {
  let d = try derive(
    expression, wrt: wrt,
    where: "x : vector(n); A : matrix(n, n); X : matrix(n, n); W : matrix(m, n); "
      + "yhat : vector(n); z : vector(m)")
  let markup = MathMLRenderer.math(MathMLRenderer().render(d.result))
  #expect(wellFormed(markup), "\(markup)")
  #expect(markup.contains(expected), "\(markup)")
}

/// Names: Greek letters, hats, subscripts, adjoints, and escaped markup.
@Test func namesAsMathML() {
  let renderer = MathMLRenderer()
  #expect(renderer.name("alpha") == "<mi>α</mi>")
  #expect(renderer.name("W_2") == "<msub><mi>W</mi><mn>2</mn></msub>")
  #expect(renderer.name("δH") == "<mrow><mi>δ</mi><mi>H</mi></mrow>")
  #expect(MathMLRenderer.escaped("a<b & \"c\"") == "a&lt;b &amp; &quot;c&quot;")
}

/// The LaTeX the renderers print (index forms, steps) translates to well-formed MathML.
@Test(arguments: [
  ("\\frac{\\partial f_{ij}}{\\partial X_{kl}} = A_{ik} \\, B_{lj}", "<mfrac>"),
  ("\\frac12 \\sum_{s} \\left(\\hat{y} - y\\right)_{s}", "<munder><mo>∑</mo>"),
  ("\\mathrm{d}\\operatorname{vec} f = (B^\\top \\otimes A) \\mathrm{d}\\operatorname{vec} X", "⊗"),
  ("\\log\\det\\left(K\\right) + \\lambda \\mathbf{1}^\\top", "<mi>λ</mi>"),
  ("\\text{inferred: } x : \\text{vector}(n) < 1 & {", "<mtext>inferred: </mtext>"),
])
func latexTranslatesToMathML(_ latex: String, expected: String) {
  let markup = MathMLRenderer.math(LatexMathML.convert(latex))
  #expect(wellFormed(markup), "\(markup)")
  #expect(markup.contains(expected), "\(markup)")
}

/// The example of ``MathMLRenderer``'s documentation.
@Test func documentedExample() throws {
  let d = try derive("x'*A*x", wrt: "x", where: "x : vector(n); A : matrix(n, n)")
  let markup = MathMLRenderer().render(d.result)
  #expect(
    markup.hasPrefix(
      "<mrow><mrow><mo stretchy=\"false\">(</mo><mrow><mi>A</mi><mo>+</mo><msup>"))
  #expect(markup.hasSuffix("<mi>x</mi></mrow>"))
}
