import Foundation
import Testing

/// One bad input: the expression (1️⃣ marks where the error must point), the variable, the
/// statements, and a phrase the message must contain.
struct BadInput: CustomTestStringConvertible, Sendable {
  let expression: String
  let wrt: String
  let statements: String
  let phrase: String
  /// The input as typed.
  var testDescription: String { "\(expression) | \(statements)" }
}

let declared =
  "W : matrix(m, n); X : matrix(p, q); x : vector(n); y : vector(m); s : scalar; "
  + "S : symmetric(n); L : function; f : elementwise; Q : matrix(n, n)"

func bad(_ expression: String, _ phrase: String, wrt: String = "x", statements: String = declared)
  -> BadInput
{
  BadInput(expression: expression, wrt: wrt, statements: statements, phrase: phrase)
}

/// Syntax errors at every kind of position, unknown names, shape mismatches in every operator,
/// wrong arity, unsupported constructs, empty and absurd input.
let badInputs: [BadInput] = [
  // Syntax, at every kind of position.
  bad("1️⃣", "empty expression"), bad("   1️⃣", "empty expression"),
  bad("x'*1️⃣", "expected an expression"), bad("x'*1️⃣*x", "expected an expression"),
  bad("1️⃣*x", "expected an expression"), bad("x'*x 1️⃣x", "unexpected 'x' after expression"),
  bad("x'*x1️⃣)", "unexpected ')'"), bad("(x'*x1️⃣", "expected ')'"), bad("tr(Q1️⃣", "expected ')'"),
  bad("tr(Q,1️⃣)", "expected an expression"), bad("x'1️⃣$x", "unexpected character '$'"),
  bad("x'1️⃣@x", "unexpected character '@'"), bad("# only a comment1️⃣", "empty expression"),
  bad("1️⃣^2", "expected an expression"), bad("x 1️⃣.x", "unexpected character '.'"),
  bad("x'*x +1️⃣", "expected an expression"), bad("x'*(1️⃣)", "expected an expression"),
  bad("sum(k, 1️⃣)", "expected an expression"), bad("x'1️⃣[i]", "expected"),
  bad("x'*x1️⃣; x", "unexpected"), bad("x'*x 1️⃣= 2", "unexpected"),
  bad("1️⃣: x", "expected an expression"),
  bad("x'1️⃣“x”", "unexpected character"), bad("x'*1️⃣λ", "unexpected character 'λ'"),
  bad("1️⃣∑(x)", "unexpected character"), bad("x'*x 1️⃣😀", "unexpected character"),
  bad("2 1️⃣3", "unexpected"), bad("1️⃣1e999", "out of range"), bad("x'*1️⃣1e400*x", "out of range"),
  // Spellings of other tools, translated (the CLI refuses them with status 1).
  bad("1️⃣x^T*Q*x", "x^T: write x' for the transpose"),
  bad("x1️⃣.T*x", "x.T: write x' for the transpose"),
  bad("x'*W1️⃣@x", "write W*x for the matrix product"), bad("x1️⃣**2", "write x.^2"),
  bad("1️⃣||x||", "write norm2(x)"), bad("x'1️⃣x", "write x'*x"),
  bad("1️⃣trace(Q)", "write tr(Q)"), bad("1️⃣norm(x)", "write norm2(x)"),
  bad("x'*x", "definitions must come before their use", statements: "H = G*2; G = x"),
  // Unknown names and functions.
  bad("1️⃣max(x)", "unknown function 'max'"), bad("1️⃣foo(x) + 1", "unknown function 'foo'"),
  bad("x'*1️⃣exp2(x)", "unknown function"), bad("1️⃣Tr(Q)", "unknown function 'Tr'"),
  bad("1️⃣trace(Q)", "unknown function"), bad("1️⃣delta(x)", "unknown function"),
  bad("x'*x", "cannot differentiate with respect to 'z'", wrt: "z"),
  bad("x'*x", "cannot differentiate with respect to 'L'", wrt: "L"),
  bad("1️⃣L + s", "is a function"), bad("x'*1️⃣f", "is a function"), bad("1️⃣tr", "is a function"),
  // Shape mismatches in every operator.
  bad("1️⃣W*X", "W is m×n but X is p×q"), bad("1️⃣W + X", "W is m×n but X is p×q"),
  bad("1️⃣W - X", "W is m×n but X is p×q"), bad("1️⃣W .* X", "W is m×n but X is p×q"),
  bad("1️⃣W ./ X", "W is m×n but X is p×q"), bad("1️⃣x / W", "divide by scalars only"),
  bad("1️⃣x + y", "x is n×1 but y is m×1"), bad("1️⃣x'*y", "x' is 1×n but y is m×1"),
  bad("1️⃣W*y", "W is m×n but y is m×1"), bad("1️⃣W^2", "matrix power needs a square matrix"),
  bad("1️⃣x .^ x", "need a scalar"), bad("1️⃣Q ^ x", "need a scalar"),
  bad("1️⃣tr(W)", "tr needs a square matrix"), bad("1️⃣det(W)", "det needs a square matrix"),
  bad("1️⃣logdet(W)", "logdet needs a square matrix"), bad("1️⃣inv(W)", "inv needs a square matrix"),
  bad("1️⃣diag(W)", "diag needs a square matrix"), bad("1️⃣softmax(W)", "softmax needs a vector"),
  bad("1️⃣softmax(x')", "softmax needs a vector"), bad("sum(1️⃣W*W)", "W is m×n but W is m×n"),
  bad("exp(1️⃣W*X)", "W is m×n"), bad("x'*1️⃣(W + X)*x", "(W + X): W is m×n"),
  bad("Q^1️⃣s", "integer"), bad("Q^1️⃣0.5", "integer"), bad("Q^1️⃣100", "integer"),
  // Wrong arity.
  bad("1️⃣tr(Q, Q)", "takes one argument, found 2"), bad("1️⃣exp()", "takes one argument, found 0"),
  bad("1️⃣norm2(x, x)", "takes one argument"), bad("1️⃣L(x, x)", "takes one argument"),
  bad("1️⃣sum(x, x, x)", "takes one argument"), bad("1️⃣f()", "takes one argument"),
  // Unsupported constructs, refused rather than guessed.
  bad("x'*Q*x + 1️⃣diag(W)", "diag needs a square matrix"), bad("1️⃣inv(x)", "inv needs a square"),
  bad("1️⃣W[i,j]", "index notation"), bad("x'*1️⃣x[i]", "index notation"),
  bad("D", "index", wrt: "x", statements: declared + "; D[i,j,k] = W[i,j]*x[k]"),
  bad("D", "free indices", wrt: "x", statements: declared + "; D[i] = W[i,j]"),
  bad("D", "does not occur", wrt: "x", statements: declared + "; D[i,j] = x[i]"),
  bad("D", "summation index", wrt: "x", statements: declared + "; D[i] = sum(k, x[i])"),
  bad("D", "delta", wrt: "x", statements: declared + "; D[i,j] = delta(i,j)*s"),
  // Statements.
  bad("x'*x", "unknown type 'vectr'", statements: "x : vectr(n)"),
  bad("x'*x", "declared twice", statements: "x : vector(n); x : vector(m)"),
  bad("x'*x", "defined twice", statements: "x : vector(n); H = x; H = x"),
  bad("x'*x", "is declared as an input", statements: "x : vector(n); x = 2"),
  bad("x'*x", "built-in name", statements: "tr : scalar"),
  bad("x'*x", "expected ':' (declaration) or '='", statements: "x vector(n)"),
  bad("x'*x", "positive integer", statements: "x : vector(0)"),
  bad("x'*x", "positive integer", statements: "x : vector(2.5)"),
  bad("x'*x", "expected a dimension", statements: "x : vector()"),
  bad("x'*x", "expected ','", statements: "A : matrix(n)"),
  bad("x'*x", "expected 'wrt'", statements: "derive l of x"),
  bad("x'*x", "expected order 1 or 2", statements: "derive l wrt x order 3"),
  bad("x'*x", "expected a name", statements: "1 = 2"),
  bad("x'*x", "x is n×1 but y is m×1", statements: "x : vector(n); H = x + y; y : vector(m)"),
  // Numbers, Unicode and size.
  bad("1️⃣x'*x/0", "division by zero"), bad("1️⃣x ./ (s - s)", "division by zero"),
  bad("logdet(1️⃣-Q*Q')", ""), bad("x'*x*1e308*1e308", ""),
  bad("1️⃣Ω'*x", "unexpected character 'Ω'"),
  bad("1️⃣\u{FEFF}x'*x", "unexpected character"), bad("x'*1️⃣é", "unexpected character 'é'"),
]

/// Launches the built binary with a hang guard; nil status means it had to be killed.
func runGuarded(_ arguments: [String], seconds: Double = 20) throws -> (Int32?, String) {
  let process = Process()
  process.executableURL = Binary.url
  process.arguments = arguments
  let errorURL = FileManager.default.temporaryDirectory
    .appendingPathComponent("matcalc-bad-\(UUID().uuidString)")
  _ = FileManager.default.createFile(atPath: errorURL.path, contents: nil)
  defer { try? FileManager.default.removeItem(at: errorURL) }
  process.standardError = try FileHandle(forWritingTo: errorURL)
  process.standardOutput = FileHandle.nullDevice
  try process.run()
  let deadline = Date().addingTimeInterval(seconds)
  while process.isRunning && Date() < deadline { usleep(2_000) }
  if process.isRunning {
    process.terminate()
    process.waitUntilExit()
    return (nil, "")
  }
  return (process.terminationStatus, try String(contentsOf: errorURL, encoding: .utf8))
}

@Test func badInputCorpusIsLarge() {
  #expect(badInputs.count >= 100)
}

@Test(arguments: badInputs)
func badInputIsRefusedWithAMessage(_ input: BadInput) throws {
  let (expression, column) = marked(input.expression)
  let (status, message) = try runGuarded(
    ["derive", expression, "--wrt", input.wrt, "--where", input.statements])
  if input.phrase.isEmpty {
    // Numerically undefined inputs: refused (not evaluable) or derived and checked, never a crash.
    #expect(status == 0 || status == 1, "status \(String(describing: status)): \(message)")
    return
  }
  #expect(status == 1, "status \(String(describing: status)): \(message)")
  #expect(message.hasPrefix("error: "), "\(message)")
  #expect(message.contains(input.phrase), "\(message)")
  if column > 0 {
    #expect(message.hasPrefix("error: 1:\(column):"), "\(message)")
  }
}

@Test(arguments: [100_000, 1_000_000])
func hugeInputsAreRefusedQuickly(_ length: Int) throws {
  // A 1 MB expression is too long for one argument; it goes through a problem file.
  let file = FileManager.default.temporaryDirectory
    .appendingPathComponent("matcalc-huge-\(UUID().uuidString).mc")
  let terms = Array(repeating: "x'*x", count: length / 5).joined(separator: "+")
  try "x : vector(n)\nl = \(terms)\nderive l wrt x\n".write(
    to: file, atomically: true, encoding: .utf8)
  defer { try? FileManager.default.removeItem(at: file) }
  let (status, message) = try runGuarded([file.path])
  #expect(status == 1)
  #expect(message.contains("nested more than"), "\(message.prefix(300))")
  #expect(message.contains(":2:"), "\(message.prefix(300))")
}

/// Limits are clear errors with the option that raises them, and raising them is safe.
@Test(arguments: [
  (
    ["--max-depth", "10"],
    String(repeating: "exp(", count: 20) + "x" + String(repeating: ")", count: 20),
    "nested more than 10 levels deep (raise it with --max-depth)"
  ),
  (["--max-input", "10"], "x'*x + x'*x + x'*x", "the limit is 10 (raise it with --max-input)"),
  (
    ["--time-limit", "0.001"],
    "sum(" + String(repeating: "exp(", count: 300) + "x" + String(repeating: ")", count: 300) + ")",
    "took longer than"
  ),
])
func limitIsAClearErrorNamingItsOption(_ options: [String], expression: String, phrase: String)
  throws
{
  let (status, message) = try runGuarded(["derive", expression, "--wrt", "x"] + options)
  #expect(status == 1, "\(message)")
  #expect(message.contains(phrase), "\(message.prefix(300))")
}

@Test func raisedDepthRunsWithoutOverflow() throws {
  // 1500 nested functions: beyond the default 400, within the raised limit, on the CLI's
  // large-stack thread; derived, checked (or refused on numbers), never a crash.
  let deep =
    "sum(" + String(repeating: "sin(", count: 1500) + "x" + String(repeating: ")", count: 1500)
    + ")"
  let (status, message) = try runGuarded(
    ["derive", deep, "--wrt", "x", "--max-depth", "2000", "--time-limit", "60"], seconds: 120)
  #expect(status == 0 || status == 1, "\(message.prefix(300))")
  if status == 1 { #expect(message.hasPrefix("error: "), "\(message.prefix(300))") }
}

@Test func depthBeyondTheSafeMaximumIsAUsageError() throws {
  let (status, message) = try runGuarded(["derive", "x'*x", "--wrt", "x", "--max-depth", "100000"])
  #expect(status == 2)
  #expect(message.contains("--max-depth is at most 4000"))
}
