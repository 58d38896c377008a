import Testing

@testable import MatrixCalculus

/// An error in the expression of `derive` counts from the expression's first line and renders
/// that line with a caret under the marked position (1️⃣).
@Test(arguments: [
  ("x'*1️⃣*x", "expected an expression, found '*'", 1),
  ("1️⃣W*Q", "W*Q: W is m×n but Q is p×q", 3),
  ("x'*(W*x1️⃣", "expected ')' to close '(' at 1:4, found 'end of input'", 1),
])
func expressionErrorRendersAgainstTheExpression(_ input: String, message: String, marks: Int) {
  let (text, column) = marked(input)
  let statements = "x : vector(n)\nW : matrix(m, n)\nQ : matrix(p, q)"
  do {
    _ = try deriveUnchecked(text, wrt: "x", where: statements)
    Issue.record("\(text) was accepted")
  } catch let error as MatcalcError {
    #expect(error.range?.part == .expression)
    #expect(error.range?.line == 1)
    #expect(error.range?.column == column)
    let caret = String(repeating: " ", count: column - 1) + String(repeating: "^", count: marks)
    #expect(
      error.rendered(expression: text, statements: statements)
        == "error: 1:\(column): \(message)\n  \(text)\n  \(caret)")
  } catch {
    Issue.record("untyped error \(error)")
  }
}

/// An error in the `where:` statements points at their own line (here the second).
@Test func statementErrorRendersAgainstTheStatements() {
  let statements = "x : vector(n)\nW : matrx(m, n)"
  do {
    _ = try deriveUnchecked("x'*x", wrt: "x", where: statements)
    Issue.record("accepted")
  } catch let error as MatcalcError {
    #expect(error.range == SourceRange(line: 2, column: 5, length: 5, part: .statements))
    let rendered = error.rendered(expression: "x'*x", statements: statements)
    #expect(rendered.hasPrefix("error: where 2:5: unknown type 'matrx'"))
    #expect(rendered.hasSuffix("\n  W : matrx(m, n)\n      ^^^^^"))
  } catch {
    Issue.record("untyped error \(error)")
  }
}

/// Several variables: the same positions as one.
@Test func severalVariablesReportTheSamePositions() {
  do {
    _ = try deriveUnchecked("x'*W*", wrt: ["x", "W"], where: "x : vector(n); W : matrix(n, n)")
    Issue.record("accepted")
  } catch let error as MatcalcError {
    #expect(error.range?.part == .expression)
    #expect(error.range?.line == 1)
    #expect(error.range?.column == 6)
  } catch {
    Issue.record("untyped error \(error)")
  }
}

/// A problem's positions count in the whole problem text.
@Test func problemErrorsCountInTheProblem() {
  do {
    _ = try parseProblem("x : vector(n)\nl = x'*")
    Issue.record("accepted")
  } catch let error as MatcalcError {
    #expect(error.range?.part == .problem)
    #expect(error.range?.line == 2)
  } catch {
    Issue.record("untyped error \(error)")
  }
}
