import Testing

@testable import MatrixCalculus

let shapes =
  "W : matrix(m, n); X : matrix(p, q); x : vector(n); s : scalar; L : function; Q : matrix(n, n)"

/// Each bad input names its problem at the marked position (1️⃣) and never crashes.
@Test(arguments: [
  ("1️⃣W*X", "W*X: W is m×n but X is p×q"),
  ("1️⃣W + X", "W + X: W is m×n but X is p×q"),
  ("1️⃣W .* X", "W .* X: W is m×n but X is p×q"),
  ("x'*1️⃣*x", "expected an expression, found '*'"),
  ("tr(W*x1️⃣", "expected ')'"),
  ("1️⃣tr(W)", "tr needs a square matrix, but W is m×n"),
  ("1️⃣inv(X)", "inv needs a square matrix"),
  ("1️⃣foo(x)", "unknown function 'foo'"),
  ("x'*x 1️⃣x", "unexpected 'x' after expression"),
  ("1️⃣", "empty expression"),
  ("x'1️⃣$x", "unexpected character '$'"),
  ("1️⃣W^2", "matrix power needs a square matrix"),
  (
    "sum(1️⃣(W*x)^2)",
    "(W*x)^2: matrix power needs a square matrix, but (W*x) is m×1; for the element-wise "
      + "square write (W*x).^2, for the squared norm norm2(W*x)^2"
  ),
  (
    "1️⃣W^3",
    "W^3: matrix power needs a square matrix, but W is m×n; for the element-wise power "
      + "write W.^3"
  ),
  ("x'*1️⃣(W + X)*x", "(W + X): W is m×n but X is p×q"),
  ("1️⃣x / W", "divide by scalars only"),
  ("1️⃣softmax(W)", "softmax needs a vector"),
  ("1️⃣tr(W, X)", "takes one argument"),
  ("1️⃣W[i,j]", "index notation"),
  ("1e999999 1️⃣", "out of range"),
])
func badExpressionIsReportedAtItsPosition(_ input: String, message: String) {
  let (text, column) = marked(input)
  do {
    _ = try deriveUnchecked(text, wrt: "x", where: shapes)
    Issue.record("\(text) was accepted")
  } catch let error as MatcalcError {
    #expect(error.message.contains(message), "\(error)")
    if let range = error.range {
      #expect(range.line == 1 && range.part == .expression, "\(error)")
      if !message.contains("out of range") {
        #expect(range.column == column, "\(error)")
      }
    } else {
      Issue.record("no position in \(error)")
    }
  } catch {
    Issue.record("untyped error \(error)")
  }
}

@Test func unknownVariableIsNamed() {
  #expect(throws: MatcalcError.self) { try deriveUnchecked("x'*x", wrt: "y", where: shapes) }
}

/// Third derivatives (up to six indices are built) are refused with a message.
@Test(arguments: [("W*x", "W", 3), ("tanh(W*x)", "W", 3), ("x'*x", "x", 3)])
func resultsBeyondSixIndicesAreRefusedNotGuessed(_ expression: String, wrt: String, order: Int) {
  do {
    _ = try deriveUnchecked(expression, wrt: wrt, where: shapes, order: order)
    Issue.record("\(expression) wrt \(wrt) was accepted")
  } catch let error as MatcalcError {
    #expect(
      error.message.contains("not built yet") || error.message.contains("does not read yet")
        || error.message.contains("no matrix form"),
      "\(error)")
  } catch {
    Issue.record("\(error)")
  }
}

@Test func absurdNestingIsALimitNotACrash() {
  let deep = String(repeating: "(", count: 100_000) + "x" + String(repeating: ")", count: 100_000)
  #expect(throws: MatcalcError.self) { try deriveUnchecked("x'*" + deep, wrt: "x", where: shapes) }
  let long = Array(repeating: "s", count: 100_000).joined(separator: "+")
  #expect(throws: MatcalcError.self) { try deriveUnchecked(long, wrt: "s", where: shapes) }
}

@Test func declarationErrorsPointIntoTheStatements() {
  do {
    _ = try deriveUnchecked("x'*x", wrt: "x", where: "x : vectr(n)")
    Issue.record("accepted")
  } catch let error as MatcalcError {
    #expect(error.range == SourceRange(line: 1, column: 5, length: 5, part: .statements))
    #expect(error.message.contains("unknown type"))
  } catch {
    Issue.record("\(error)")
  }
}

/// A spelling from NumPy, MATLAB or LaTeX is refused at its position (1️⃣) with its
/// translation into this language.
@Test(arguments: [
  ("x1️⃣.T*x", "x.T: write x' for the transpose"),
  ("1️⃣x^T*Q*x", "x^T: write x' for the transpose"),
  ("W1️⃣@x", "write W*x for the matrix product"),
  ("x1️⃣**2", "write x.^2 for the element-wise power, or x^2"),
  ("1️⃣||W*x||", "write norm2(W*x)"),
  ("x'1️⃣x", "x'x: write x'*x"),
  ("1️⃣trace(Q)", "write tr(Q) for the trace"),
  ("1️⃣Tr(Q)", "write tr(Q) for the trace"),
  ("1️⃣norm(x)", "write norm2(x) for the Euclidean (Frobenius) norm, or norm1(x)"),
  ("sum(1️⃣max(0, x))", "unknown function 'max': write relu(x) for max(0, x)"),
  ("sum(1️⃣maximum(x, 0))", "write relu(x) for max(0, x)"),
  ("sum(1️⃣kron(Q, Q))", "unknown function 'kron'; the functions are"),
  ("sum(Q 1️⃣\\ x)", "for A⁻¹ B write inv(A)*B"),
  ("sum(np1️⃣.exp(x))", "write a function by its name alone (exp(x), not np.exp(x))"),
  ("sum(1️⃣softmax(x, 2))", "a dimension argument, as in softmax(A, 2), is not built yet"),
])
func foreignSpellingIsTranslatedAtItsPosition(_ input: String, translation: String) {
  let (text, column) = marked(input)
  do {
    _ = try deriveUnchecked(text, wrt: "x", where: shapes)
    Issue.record("\(text) was accepted")
  } catch let error as MatcalcError {
    #expect(error.message.contains(translation), "\(error)")
    #expect(error.range?.line == 1 && error.range?.part == .expression, "\(error)")
    #expect(error.range?.column == column, "\(error)")
  } catch {
    Issue.record("untyped error \(error)")
  }
}

/// `x^T` is a power when the user declares T.
@Test func declaredTIsAnExponent() throws {
  let derivation = try deriveUnchecked("s^T", wrt: "s", where: "s : scalar; T : scalar")
  #expect(try derivation.check().passed)
}

/// Problem-file statements: `w.r.t.`, and a name used before (or in) its definition.
@Test(arguments: [
  ("x : vector(n)\nl = x'*x\nderive l 1️⃣w.r.t. x", 3, "write 'wrt' for 'w.r.t.'"),
  ("x : vector(n)\nderive l 1️⃣of x", 2, "expected 'wrt', found 'of': write derive l wrt"),
  (
    "x : vector(n)\nl = 1️⃣H*2\nH = x'*x\nderive l wrt x", 2,
    "'H' is used at 2:5 before its definition at 3:1; definitions must come before their use"
  ),
  ("x : vector(n)\nH = x'*1️⃣H\nderive H wrt x", 2, "'H' is used in its own definition"),
  // A name is a value or a dimension, not both; the error is at the value, naming the other.
  (
    "1️⃣d : scalar\nW : matrix(d, n)\nl = d*sum(W)\nderive l wrt W", 1,
    "'d' is declared as scalar here and used as a dimension in 'W : matrix(d, n)' at 2:1"
  ),
  (
    "W : matrix(n, d); x : vector(n); 1️⃣d : scalar\nl = d*sum(W)", 1,
    "'d' is declared as scalar here and used as a dimension in 'W : matrix(n, d)' at 1:1"
  ),
  (
    "W : matrix(d, n)\n1️⃣d = sum(W)\nderive d wrt W", 2,
    "'d' is defined here and used as a dimension in 'W : matrix(d, n)' at 1:1"
  ),
  ("1️⃣n : vector(n)", 1, "'n' is declared as vector(n) here and used as a dimension"),
])
func problemFileErrorSaysHowToFixIt(_ input: String, line: Int, message: String) {
  let lines = input.split(separator: "\n", omittingEmptySubsequences: false)
  let column = lines.first { $0.contains("1️⃣") }.map { marked(String($0)).1 } ?? 0
  let (text, _) = marked(input)
  do {
    _ = try parseProblem(text)
    Issue.record("accepted")
  } catch let error as MatcalcError {
    #expect(error.message.contains(message), "\(error)")
    #expect(error.range?.line == line, "\(error)")
    #expect(error.range?.column == column, "\(error)")
  } catch {
    Issue.record("untyped error \(error)")
  }
}

/// A dimension used as a value is an error naming it, not a new scalar input (which the
/// check would draw at random and the NumPy line could not bind).
@Test func dimensionUsedAsAValueIsAnError() {
  #expect {
    _ = try deriveUnchecked("v'*v", wrt: "x", where: "x : vector(n); v[i] = x[i] - sum(j, x[j])/n")
  } throws: { error in
    (error as? MatcalcError)?.message.contains("'n' is a dimension (of x), not a value") == true
  }
}
