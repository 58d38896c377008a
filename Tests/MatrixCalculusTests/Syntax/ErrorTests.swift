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
  ("1️⃣x / W", "divide by scalars only"),
  ("1️⃣softmax(W)", "softmax needs a vector"),
  ("1️⃣tr(W, X)", "takes one argument"),
  ("1️⃣W[i,j]", "index notation"),
  ("1e999999 1️⃣", "out of range"),
])
func badExpressionIsReportedAtItsPosition(_ input: String, message: String) {
  let (text, column) = marked(input)
  do {
    _ = try derive(text, wrt: "x", where: shapes)
    Issue.record("\(text) was accepted")
  } catch let error as MatcalcError {
    #expect(error.message.contains(message), "\(error)")
    if let range = error.range {
      #expect(range.line == 2)
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
  #expect(throws: MatcalcError.self) { try derive("x'*x", wrt: "y", where: shapes) }
}

/// Third derivatives (up to six indices are built) are refused with a message.
@Test(arguments: [("W*x", "W", 3), ("tanh(W*x)", "W", 3), ("x'*x", "x", 3)])
func resultsBeyondSixIndicesAreRefusedNotGuessed(_ expression: String, wrt: String, order: Int) {
  do {
    _ = try derive(expression, wrt: wrt, where: shapes, order: order)
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
  #expect(throws: MatcalcError.self) { try derive("x'*" + deep, wrt: "x", where: shapes) }
  let long = Array(repeating: "s", count: 100_000).joined(separator: "+")
  #expect(throws: MatcalcError.self) { try derive(long, wrt: "s", where: shapes) }
}

@Test func declarationErrorsPointIntoTheStatements() {
  do {
    _ = try derive("x'*x", wrt: "x", where: "x : vectr(n)")
    Issue.record("accepted")
  } catch let error as MatcalcError {
    #expect(error.range == SourceRange(line: 1, column: 5, length: 5))
    #expect(error.message.contains("unknown type"))
  } catch {
    Issue.record("\(error)")
  }
}
