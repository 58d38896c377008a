import Foundation
import TestSupport
import Testing

@testable import matcalc

/// One `$ matcalc …` line of the README and the output shown under it.
struct ReadmeExample: CustomTestStringConvertible, Sendable {
  let command: String
  let expected: String

  /// The command line.
  var testDescription: String { command }

  static let packageRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

  static func all() throws -> [ReadmeExample] {
    let readme = try String(
      contentsOf: packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
    var examples: [ReadmeExample] = []
    var inConsole = false
    var command: String?
    var output: [String] = []
    func flush() {
      if let command {
        examples.append(ReadmeExample(command: command, expected: output.joined(separator: "\n")))
      }
      command = nil
      output = []
    }
    for line in readme.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
      if line == "```console" {
        inConsole = true
      } else if inConsole && line == "```" {
        flush()
        inConsole = false
      } else if inConsole && line.hasPrefix("$ ") {
        flush()
        command = String(line.dropFirst(2))
      } else if inConsole {
        output.append(line)
      }
    }
    return examples
  }
}

func run(_ arguments: [String]) -> (status: Int32, output: String, error: String) {
  var output = Matcalc.Output()
  let status = Matcalc.run(arguments, output: &output)
  return (status, output.standardOutput, output.standardError)
}

@Test func readmeHasExamples() throws {
  #expect(try ReadmeExample.all().count >= 8)
}

@Test(arguments: try ReadmeExample.all())
func readmeExampleIsRealOutput(_ example: ReadmeExample) throws {
  let words = shellWords(example.command)
  #expect(words.first == "matcalc")
  let result = run(Array(words.dropFirst()))
  let printed = (result.output + result.error).trimmingCharacters(in: .newlines)
  #expect(printed == example.expected)
  #expect(result.status == (example.expected.hasPrefix("error:") ? 1 : 0))
}

@Test(arguments: [
  (["derive", "x'*x"], "needs --wrt"),
  (["derive", "--wrt", "x"], "needs an expression"),
  (["derive", "x'*x", "--wrt", "x", "--format", "pdf"], "--format takes"),
  (["derive", "x'*x", "--wrt", "x", "--order", "3"], "--order takes 1 or 2"),
  (["derive", "x'*x", "--wrt", "x", "--frobnicate"], "unknown option"),
  (["derive", "x'*x", "--wrt"], "--wrt needs a value"),
  (["a.mc", "b.mc"], "expected 'derive' or one problem file"),
  (["derive", "x'*x", "--wrt", "x", "--sizes", "n=0"], "--sizes takes"),
  (["derive", "x'*x", "--wrt", "x", "--sizes", "n"], "--sizes takes"),
  (["derive", "x'*x", "--wrt", "x", "--sizes", "n=2,=3"], "--sizes takes"),
  (["derive", "x'*x", "--wrt", "x", "--sizes"], "--sizes needs a value"),
])
func usageErrorsExitTwo(_ arguments: [String], message: String) {
  let result = run(arguments)
  #expect(result.status == 2)
  #expect(result.error.contains(message), "\(result.error)")
  #expect(result.output.isEmpty)
}

@Test func helpAndVersion() {
  #expect(run(["--help"]).output.contains("usage:"))
  #expect(run([]).status == 0)
  #expect(run(["--version"]).output.hasPrefix("matcalc "))
}

@Test(arguments: [
  ("-y'*log(p)", "p", "∂f/∂p = −(y ⊘ p)"),
  ("-x'*x", "x", "∂f/∂x = −2 x"),
])
func expressionMayBeginWithMinus(_ expression: String, wrt: String, line: String) {
  let result = run(["derive", expression, "--wrt", wrt])
  #expect(result.status == 0, "\(result.error)")
  #expect(result.output.contains(line), "\(result.output)")
  #expect(result.output.contains("checked: max rel. error"))
}

@Test(arguments: [
  (["derive", "x'*(A*x", "--wrt", "x"], "error: 1:8: expected ')'"),
  (
    ["derive", "tr(W)", "--wrt", "W", "--where", "W : matrix(m, n)"], "error: 1:1: tr(W): tr needs"
  ),
  (
    ["derive", "x'*x", "--wrt", "x", "--where", "x : vectr(n)"], "error: --where 1:5: unknown type"
  ),
  (["derive", "x'*x", "--wrt", "q"], "cannot differentiate with respect to 'q'"),
  (
    ["derive", "sum(T)", "--wrt", "W", "--where", "W : matrix(m, n); T[i,j,k] = W[i,j]*W[i,k]"],
    "T has three indices and no matrix form"
  ),
  (["derive", "x'*x", "--wrt", "x", "--format", "numpy", "--where", "L : function; l = L(x)"], ""),
  (
    ["derive", "l", "--wrt", "x", "--format", "numpy", "--where", "L : function; l = L(x)"],
    "NumPy output cannot evaluate the opaque function L"
  ),
])
func inputErrorsExitOneWithPosition(_ arguments: [String], message: String) {
  let result = run(arguments)
  if message.isEmpty {
    #expect(result.status == 0)
    return
  }
  #expect(result.status == 1)
  #expect(result.error.contains(message), "\(result.error)")
  #expect(result.output.isEmpty)
}

@Test func problemFileRunsEveryGoal() throws {
  let file = FileManager.default.temporaryDirectory
    .appendingPathComponent("matcalc-\(UUID().uuidString).mc")
  try """
  # a linear layer
  W : matrix(m, n); X : matrix(n, p); L : function
  D = W*X
  l = L(D)
  derive l wrt W
  derive l wrt X
  """.write(to: file, atomically: true, encoding: .utf8)
  defer { try? FileManager.default.removeItem(at: file) }
  let result = run([file.path])
  #expect(result.status == 0, "\(result.error)")
  #expect(result.output.contains("∂l/∂W = (∇_D L) Xᵀ"))
  #expect(result.output.contains("∂l/∂X = Wᵀ (∇_D L)"))
}

@Test func problemFileErrorNamesFileLineAndColumn() throws {
  let file = FileManager.default.temporaryDirectory
    .appendingPathComponent("matcalc-\(UUID().uuidString).mc")
  try "W : matrix(m, n); X : matrix(p, q)\nD = W*X\nderive D wrt W\n"
    .write(to: file, atomically: true, encoding: .utf8)
  defer { try? FileManager.default.removeItem(at: file) }
  let result = run([file.path])
  #expect(result.status == 1)
  #expect(result.error.hasPrefix("error: \(file.path):2:5: W*X: W is m×n but X is p×q"))
}

@Test(arguments: [
  (["derive", "x'*A*x", "--wrt", "x", "--order", "2"], "∂²f/∂x² = A + Aᵀ"),
  (["derive", "W*x", "--wrt", "x"], "∂f/∂x = W"),
])
func jacobianAndHessianFromTheCommandLine(_ arguments: [String], line: String) {
  let result = run(arguments)
  #expect(result.status == 0, "\(result.error)")
  #expect(result.output.contains(line), "\(result.output)")
}

@Test func symmetricVariablesStateTheirConventionAndOfferTheCookbooks() {
  let statements = "S : symmetric(n); x : vector(n)"
  let plain = run(["derive", "x'*S*x", "--wrt", "S", "--where", statements])
  #expect(plain.output.contains("∂f/∂S = x xᵀ"))
  #expect(plain.output.contains("convention: every entry of a symmetric variable independent"))
  let symmetric = run(
    ["derive", "x'*S*x", "--wrt", "S", "--symmetric-gradient", "--where", statements])
  #expect(symmetric.status == 0)
  #expect(symmetric.output.contains("(symmetric) = 2 x xᵀ − diag(diag(x xᵀ))"))
  #expect(symmetric.output.contains("checked: max rel. error"))
}

@Test func outputIsByteIdenticalAcrossRuns() {
  let arguments = ["derive", "logdet(X) + x'*X*x", "--wrt", "X", "--format", "json"]
  #expect(run(arguments).output == run(arguments).output)
}

/// JSON's `shape` is S_F + S_X (+ S_X for a second derivative), as NumPy's array shape.
@Test(arguments: [
  ("A*X*B", "X", "1", ["m", "q", "n", "p"]),
  ("x'*S*x", "x", "1", ["n"]),
  ("x'*S*x", "x", "2", ["n", "n"]),
  ("tanh(W*x)", "W", "2", ["m", "m", "n", "m", "n"]),
  ("x'*x", "x", "1", ["n"]),
])
func jsonShapeIsTheResultsShape(_ expression: String, wrt: String, order: String, shape: [String])
  throws
{
  let statements =
    "A : matrix(m, n); X : matrix(n, p); B : matrix(p, q); x : vector(n); W : matrix(m, n); S : matrix(n, n)"
  let result = run([
    "derive", expression, "--wrt", wrt, "--order", order, "--where", statements, "--format",
    "json",
  ])
  #expect(result.status == 0, "\(result.error)")
  let object = try JSONSerialization.jsonObject(with: Data(result.output.utf8))
  let printed = (object as? [String: Any])?["shape"] as? [String]
  #expect(printed == shape)
}

/// `matcalc -` reads the problem from standard input only, and reads it once.
@Test func dashReadsTheProblemFromStandardInput() {
  var output = Matcalc.Output()
  var reads = 0
  let status = Matcalc.run(["-", "--format", "numpy"], output: &output) {
    reads += 1
    return Data("s : scalar\nl = s^3\nderive l wrt s\n".utf8)
  }
  #expect(status == 0, "\(output.standardError)")
  #expect(reads == 1)
  #expect(output.standardOutput.contains("3.0 * np.power(s, 2.0)"), "\(output.standardOutput)")
}

/// Positions as the CLI prints them: a --where error on its own line of --where, an
/// expression error on line 1 of the expression, each with its line and a caret.
@Test func errorPositionsAreRelativeToTheArgument() {
  let inWhere = run(["derive", "x'*x", "--wrt", "x", "--where", "x : vector(n)\nW : matrx(m, n)"])
  #expect(inWhere.error.hasPrefix("error: --where 2:5: unknown type 'matrx'"), "\(inWhere.error)")
  #expect(inWhere.error.hasSuffix("\n  W : matrx(m, n)\n      ^^^^^\n"), "\(inWhere.error)")
  let inExpression = run([
    "derive", "x'*(W*x", "--wrt", "x", "--where", "x : vector(n); W : matrix(n, n)",
  ])
  #expect(
    inExpression.error
      == "error: 1:8: expected ')' to close '(' at 1:4, found 'end of input'\n  x'*(W*x\n"
      + "         ^\n",
    "\(inExpression.error)")
}

/// `--format json` carries `plain` (shared/LANGUAGE.md): a string for one variable, a list in
/// `--wrt` order for several, `null` with `plain_reason` for a four-index result.
@Test(arguments: [(["--wrt", "x"], ["(A + A')*x"]), (["--wrt", "x,A"], ["(A + A')*x", "x*x'"])])
func jsonCarriesPlain(_ wrt: [String], plain: [String]) throws {
  let result = run(
    ["derive", "x'*A*x"] + wrt + ["--format", "json", "--where", "x : vector(n); A : matrix(n, n)"])
  #expect(result.status == 0, "\(result.error)")
  let object = try #require(
    try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
  if plain.count == 1 {
    #expect(object["plain"] as? String == plain[0])
  } else {
    #expect(object["plain"] as? [String] == plain)
  }
}

@Test func jsonPlainOfAFourIndexResultIsNullWithAReason() throws {
  let result = run([
    "derive", "A*X", "--wrt", "X", "--format", "json", "--where",
    "A : matrix(m, n); X : matrix(n, p)",
  ])
  #expect(result.status == 0, "\(result.error)")
  let object = try #require(
    try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
  #expect(object["plain"] is NSNull)
  #expect(
    object["plain_reason"] as? String
      == "a 4-index result has no matrix form; text and latex give its index form")
}

/// ‖T − U Vᵀ‖² wrt U is −2 (T − U Vᵀ) V: n = 2000 and r = 10 take Vᵀ V (r × r) first; without
/// sizes the line holds both orders and chooses by the shapes. Both lines have the same value
/// in Python.
@Test(.needs(.numpy)) func sizesChooseTheEmittedOrder() throws {
  let problem = [
    "derive", "norm2(T - U*V')^2", "--wrt", "U", "--format", "numpy", "--where",
    "T : matrix(n, n); U : matrix(n, r); V : matrix(n, r)",
  ]
  let large = run(problem)
  let small = run(problem + ["--sizes", "n=2000,r=10"])
  #expect(large.status == 0 && small.status == 0, "\(large.error) \(small.error)")
  #expect(small.output.contains("(V.T @ V)"), "\(small.output)")
  #expect(!small.output.contains(" if ") && !small.output.contains("(U @ V.T)"))
  #expect(large.output.contains(" if ") && large.output.contains("(U @ V.T)"), "\(large.output)")
  let script = """
    import numpy as np, json
    rng = np.random.default_rng(3)
    T = rng.uniform(-1, 1, (5, 5)); U = rng.uniform(-1, 1, (5, 2)); V = rng.uniform(-1, 1, (5, 2))
    a = np.asarray(\(large.output.trimmingCharacters(in: .newlines)))
    b = np.asarray(\(small.output.trimmingCharacters(in: .newlines)))
    print(json.dumps([float(np.max(np.abs(a - b))), float(np.max(np.abs(a)))]))
    """
  let output = try Subprocess.run(["python3", "-c", script]).output
  let numbers = try JSONDecoder().decode([Double].self, from: Data(output.utf8))
  #expect(numbers.count == 2 && numbers[0] <= 1e-9 * max(1, numbers[1]), "\(numbers)")
}

/// Repeated or unknown names in --wrt and --sizes are errors, not silently ignored.
@Test(arguments: [
  (["derive", "x'*x", "--wrt", "x,x", "--where", "x : vector(n)"], "--wrt names x twice", 2),
  (["derive", "x'*x", "--wrt", "x", "--sizes", "n=2,n=3", "--format", "numpy"], "twice", 2),
  (
    ["derive", "x'*x", "--wrt", "x", "--sizes", "zz=5", "--format", "numpy"],
    "--sizes names zz, which is not a dimension", 2
  ),
])
func repeatedOrUnknownNamesAreErrors(_ arguments: [String], message: String, status: Int32) {
  let result = run(arguments)
  #expect(result.status == status)
  #expect(result.error.contains(message), "\(result.error)")
}

/// A goal of a problem file whose variable is unknown points at the goal.
@Test func unknownGoalVariableHasItsPosition() throws {
  let file = FileManager.default.temporaryDirectory
    .appendingPathComponent("matcalc-goal-\(UUID().uuidString).mc")
  try "x : vector(n)\nf = x'*x\nderive f wrt y\n".write(
    to: file, atomically: true, encoding: .utf8)
  defer { try? FileManager.default.removeItem(at: file) }
  let result = run([file.path])
  #expect(result.status == 1)
  #expect(result.error.contains(":3:1: "), "\(result.error)")
}

/// A subexpression several einsum terms use is computed once, in every backend (X⁻¹ in each
/// term of the second derivative of X⁻¹).
@Test(arguments: ["numpy", "python", "jax"])
func einsumOperandsAreComputedOnce(_ format: String) {
  let result = run([
    "derive", "inv(X)", "--wrt", "X", "--order", "2", "--where", "X : matrix(n, n)", "--format",
    format,
  ])
  #expect(result.status == 0, "\(result.error)")
  #expect(result.output.components(separatedBy: "linalg.inv(").count == 2, "\(result.output)")
}

/// Emitted code is checked as printed: code that does not run in NumPy (a 3-index result's
/// einsum term without operands, today) is an internal error with nothing on standard output,
/// or, once the emitter writes it correctly, printed; `--no-check` evaluates nothing.
@Test(arguments: ["numpy", "python", "jax", "json"])
func emittedCodeIsCheckedUnlessNoCheck(_ format: String) {
  let arguments = [
    "derive", "X - sum(X)/12", "--wrt", "X", "--where", "X : matrix(m, n)", "--format", format,
  ]
  let checked = run(arguments)
  if checked.status != 0 {
    #expect(checked.output.isEmpty)
    #expect(checked.error.contains("internal error: the emitted --format "), "\(checked.error)")
  }
  let unchecked = run(arguments + ["--no-check"])
  #expect(unchecked.status == 0, "\(unchecked.error)")
  #expect(unchecked.output.contains("einsum"), "\(unchecked.output)")
}

/// `--no-check` says so in text, Markdown and JSON (shared/LANGUAGE.md), for one and several
/// variables.
@Test(arguments: [["--wrt", "x"], ["--wrt", "x,A"]])
func noCheckSaysSo(_ wrt: [String]) throws {
  let base =
    ["derive", "x'*A*x"] + wrt + ["--where", "x : vector(n); A : matrix(n, n)", "--no-check"]
  for format in ["text", "markdown", "json"] {
    let (status, output, _) = run(base + ["--format", format])
    #expect(status == 0)
    #expect(output.contains("not checked (--no-check)"), "\(format): \(output)")
  }
  #expect(!run(Array(base.dropLast())).output.contains("not checked"))
}

/// A --rules directory that cannot be read is named in the message.
@Test func unreadableRulesDirectoryIsNamed() {
  let (status, _, error) = run(["derive", "x'*x", "--wrt", "x", "--rules=/nonexistent-matcalc"])
  #expect(status != 0)
  #expect(error.contains("'/nonexistent-matcalc' (--rules)"), "\(error)")
}
