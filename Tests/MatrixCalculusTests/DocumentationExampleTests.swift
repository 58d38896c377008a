import Testing

import MatrixCalculus

// Every example in a public doc comment and in Documentation.docc, run as written (a plain
// `import`: the examples use the public API only).

let quadratic = "x : vector(n); A : matrix(n, n)"

/// ``derive(_:wrt:where:order:rules:)`` and ``Derivation``.
@Test func deriveExample() throws {
  let d = try derive("x'*A*x", wrt: "x", where: "x : vector(n); A : matrix(n, n)")
  let text = try d.render(.text)
  #expect(
    text.hasPrefix(
      "f = xᵀ A x\n∂f/∂x = (A + Aᵀ) x\n  layout: a gradient has the shape of the variable, "
        + "a Jacobian's rows are the outputs\nchecked: max rel. error "))
  #expect(d.certificate?.passed == true)
  #expect(d.result.description == "(A + A')*x")
  #expect(d.resultShape == ["n"])
  let h = try derive("x'*A*x", wrt: "x", where: "x : vector(n); A : matrix(n, n)", order: 2)
  #expect(h.result.description == "A + A'")
}

/// ``Derivation/tensor``.
@Test func tensorExample() throws {
  let d = try derive("W*x", wrt: "W", where: "W : matrix(m, n); x : vector(n)")
  #expect(d.tensor != nil)
  #expect(
    try d.render(.text).hasPrefix("f = W x\n∂f_i/∂W_kl = δ_ki x_l\nchecked: max rel. error "))
  #expect(d.resultShape == ["m", "m", "n"])
}

/// ``Derivation/check(points:)``.
@Test func checkExample() throws {
  let d = try derive("logdet(X)", wrt: "X", where: "X : matrix(n, n)")
  let certificate = try d.check()
  #expect(certificate.passed)
  #expect(certificate.points == 2)
}

/// ``Derivation/render(_:certificate:layout:standalone:steps:sizes:)`` and
/// ``Derivation/plain(layout:)``.
@Test func renderAndPlainExamples() throws {
  let d = try derive("x'*A*x", wrt: "x", where: quadratic)
  #expect(
    try d.render(.latex) == "\\frac{\\partial f}{\\partial x} = \\left(A + A^\\top\\right) x")
  #expect(try d.render(.numpy) == "np.reshape(((A @ x[:, None]) + (A.T @ x[:, None])), (-1,))")
  #expect(try d.plain() == "(A + A')*x")
}

/// ``parseProblem(_:)``.
@Test func parseProblemExample() throws {
  let problem = try parseProblem("W : matrix(m, n); x : vector(n); l = sum(W*x)\nderive l wrt W")
  #expect(problem.goals.map(\.wrt) == ["W"])
  #expect(problem.definitions.map(\.body.description) == ["sum(W*x)"])
}

/// ``derive(_:wrt:where:rules:)`` and ``Backpropagation/plain(layout:)``.
@Test func severalVariablesExample() throws {
  let b = try derive("x'*A*x", wrt: ["x", "A"], where: "x : vector(n); A : matrix(n, n)")
  #expect(b.certificate?.passed == true)
  #expect(try b.render(.text).hasPrefix("f = xᵀ A x\n∂f/∂x = (A + Aᵀ) x\n∂f/∂A = x xᵀ\nchecked: "))
  #expect(try b.plain() == ["(A + A')*x", "x*x'"])
}

/// ``SourceRange`` and ``MatcalcError/rendered(source:)``,
/// ``MatcalcError/rendered(expression:statements:)``.
@Test func errorExamples() {
  let range = SourceRange(line: 1, column: 3, length: 1, part: .expression)
  #expect(range.description == "1:3")
  #expect(
    MatcalcError.syntax("expected ')'", SourceRange(line: 1, column: 7, length: 1))
      .rendered(source: "tr(W*x") == "error: 1:7: expected ')'\n  tr(W*x\n        ^")
  do {
    _ = try derive("x'*x", wrt: "x", where: "x : vectr(n)")
    Issue.record("accepted")
  } catch let error as MatcalcError {
    let text = error.rendered(expression: "x'*x", statements: "x : vectr(n)")
    #expect(text.hasPrefix("error: where 1:5: unknown type 'vectr'"))
    #expect(text.hasSuffix("\n  x : vectr(n)\n      ^^^^^"))
  } catch {
    Issue.record("\(error)")
  }
}

/// Documentation.docc/GettingStarted.md, in order.
@Test func gettingStartedExample() throws {
  let shapes = "W : matrix(m, n); x : vector(n); y : vector(m)"
  let d = try derive("norm2(W*x - y)^2", wrt: "W", where: shapes)
  #expect(d.result.description == "2*(W*x - y)*x'")
  #expect(d.resultShape == ["m", "n"])
  #expect(d.certificate?.passed == true)
  #expect(d.certificate?.points == 2)
  #expect(
    try d.render(.latex)
      == "\\frac{\\partial f}{\\partial W} = 2 \\left(W x - y\\right) x^\\top")
  #expect(
    try d.render(.numpy)
      == "np.asarray(np.outer((2.0 * ((W @ x[:, None]) - y[:, None])), x[:, None].T))")
  let b = try derive("norm2(W*x - y)^2", wrt: ["W", "x"], where: shapes)
  #expect(b.certificate?.passed == true)
}

/// Documentation.docc/MatrixCalculus.md.
@Test func landingPageExample() throws {
  let d = try derive("x'*A*x", wrt: "x", where: "x : vector(n); A : matrix(n, n)")
  #expect(d.certificate?.passed == true)
  #expect(
    try d.render(.latex) == "\\frac{\\partial f}{\\partial x} = \\left(A + A^\\top\\right) x")
}

/// ``deriveUnchecked(_:wrt:where:order:rules:)`` and ``Derivation/certified(points:layout:)``.
@Test func uncheckedExample() throws {
  let d = try deriveUnchecked("x'*A*x", wrt: "x", where: "x : vector(n); A : matrix(n, n)")
  #expect(d.certificate == nil)
  #expect(try d.check().passed)
  #expect(try d.certified().certificate?.passed == true)
  let u = try deriveUnchecked("logdet(X)", wrt: "X", where: "X : matrix(n, n)")
  #expect(try u.certified().certificate?.passed == true)
}
