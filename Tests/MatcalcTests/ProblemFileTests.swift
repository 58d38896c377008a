import Foundation
import Testing

@testable import matcalc

/// Runs `matcalc - ARGUMENTS` on `problem` as standard input.
private func runProblem(_ problem: String, _ arguments: [String] = [])
  -> (status: Int32, output: String, error: String)
{
  var output = Matcalc.Output()
  let status = Matcalc.run(["-"] + arguments, output: &output) { Data(problem.utf8) }
  return (status, output.standardOutput, output.standardError)
}

private let threeGoals = """
  x : vector(n); A : matrix(n, n)
  f = x'*A*x
  derive f wrt x
  derive f wrt q
  derive f wrt A
  """

/// A failing goal does not hide the others: each one that succeeds is printed, each one that
/// fails is reported with its line and column, and the status is 1.
@Test func problemFilePrintsEveryGoalThatSucceeds() {
  let result = runProblem(threeGoals)
  #expect(result.status == 1)
  #expect(result.output.contains("∂f/∂x = (A + Aᵀ) x"), "\(result.output)")
  #expect(result.output.contains("∂f/∂A = x xᵀ"), "\(result.output)")
  #expect(result.error.hasPrefix("error: <stdin>:4:1: "), "\(result.error)")
  #expect(result.error.contains("cannot differentiate with respect to 'q'"))
  #expect(result.error.contains("  derive f wrt q\n  ^"), "\(result.error)")
  #expect(result.error.contains("1 of 3 goals failed"), "\(result.error)")
}

/// The reported case: the last goal fails, the ones before it are printed; in every format.
@Test(arguments: ["text", "json", "numpy", "latex", "markdown"])
func problemFileWhoseLastGoalFailsPrintsTheOthers(_ format: String) throws {
  let problem = "x : vector(n)\nf = x'*x\ng = sum(exp(x))\nderive f wrt x\nderive g wrt x\n"
  let good = runProblem(problem, ["--format", format])
  #expect(good.status == 0, "\(good.error)")
  let failing = runProblem(problem + "derive g wrt y\n", ["--format", format])
  #expect(failing.status == 1)
  #expect(failing.output == good.output, "\(failing.output)")
  #expect(failing.error.hasPrefix("error: <stdin>:6:1: "), "\(failing.error)")
  if format == "json" {
    let array = try JSONSerialization.jsonObject(with: Data(failing.output.utf8)) as? [Any]
    #expect(array?.count == 2)
  }
}

/// A goal whose certificate fails (here through a wrong rule given by --rules) is withheld and
/// reported at its position; the goals before and after it are printed.
@Test func problemFileReportsAFailedCheckAtItsGoal() throws {
  let directory = FileManager.default.temporaryDirectory
    .appendingPathComponent("matcalc-rules-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(at: directory) }
  try "let X : matrix(n, n)\nd-inverse: d(inv(X)) => inv(X)*d(X)*inv(X)   when invertible(X)\n"
    .write(
      to: directory.appendingPathComponent("differentials.rules"), atomically: true,
      encoding: .utf8)
  let problem = """
    a : vector(n); X : matrix(n, n); b : vector(n)
    f = a'*X*b
    g = a'*inv(X)*b
    derive f wrt X
      derive g wrt X
    derive f wrt a
    """
  let result = runProblem(problem, ["--rules", directory.path])
  #expect(result.status == 1)
  #expect(result.output.contains("∂f/∂X = a bᵀ"), "\(result.output)")
  #expect(result.output.contains("∂f/∂a = X b"), "\(result.output)")
  #expect(!result.output.contains("∂g/∂X"), "\(result.output)")
  #expect(
    result.error.hasPrefix("error: <stdin>:5:3: numeric check failed for ∂g/∂X"), "\(result.error)")
}

/// Every goal failing prints nothing and exits 1, each goal reported.
@Test func problemFileWithEveryGoalFailingPrintsNothing() {
  let result = runProblem("x : vector(n)\nf = x'*x\nderive f wrt y\nderive f wrt z\n")
  #expect(result.status == 1)
  #expect(result.output.isEmpty)
  #expect(result.error.contains("<stdin>:3:1: ") && result.error.contains("<stdin>:4:1: "))
  #expect(result.error.contains("2 of 2 goals failed"), "\(result.error)")
}
