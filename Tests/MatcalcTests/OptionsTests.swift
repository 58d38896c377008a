import Foundation
import Testing

@testable import matcalc

/// `--flag=value` is `--flag value`, for every flag that takes a value.
@Test(arguments: [
  ["--wrt", "x"], ["--where", "x : vector(n)"], ["--order", "2"], ["--format", "json"],
  ["--layout", "numerator"], ["--rules", "/tmp/rules"], ["--sizes", "n=10,m=3"],
  ["--max-depth", "100"], ["--max-input", "1000"], ["--time-limit", "60"],
])
func attachedValueIsTheSameAsASeparateOne(_ flag: [String]) throws {
  let wrt = flag[0] == "--wrt" ? [] : ["--wrt", "x"]
  let separate = try Options.parse(["derive", "x'*x"] + wrt + flag)
  let attached = try Options.parse(["derive", "x'*x"] + wrt + [flag[0] + "=" + flag[1]])
  #expect(attached == separate)
  #expect(separate != (try Options.parse(["derive", "x'*x", "--wrt", "x"])) || flag[0] == "--wrt")
}

/// A value may itself contain '=' (`--sizes=n=10`) and begin with '-' (`--where=-`).
@Test func attachedValueKeepsEverythingAfterTheFirstEquals() throws {
  let options = try Options.parse(["derive", "x'*x", "--wrt=x", "--sizes=n=10,m=3"])
  #expect(options.sizes == ["n": 10, "m": 3])
  #expect(options.mode == .derive(expression: "x'*x", wrt: "x"))
}

/// Format and layout names are case-insensitive, as other tools take them.
@Test(arguments: [
  (["--format", "LaTeX"], "\\frac{\\partial f}{\\partial x}"),
  (["--format=JSON"], "\"layout\""),
  (["--format", "NumPy"], "x"),
  (["--layout", "Numerator"], "layout: numerator"),
])
func formatAndLayoutNamesIgnoreCase(_ flags: [String], contains: String) {
  let result = run(["derive", "x'*x", "--wrt", "x", "--where", "x : vector(n)"] + flags)
  #expect(result.status == 0, "\(result.error)")
  #expect(result.output.contains(contains), "\(result.output)")
  let lower = run(
    ["derive", "x'*x", "--wrt", "x", "--where", "x : vector(n)"] + flags.map { $0.lowercased() })
  #expect(result.output == lower.output)
}

/// `--wrt x --wrt A` is `--wrt x,A`: one backward pass, a tuple in that order.
@Test func repeatedWrtAccumulates() {
  let statements = ["--where", "x : vector(n); A : matrix(n, n)", "--format", "numpy"]
  let repeated = run(["derive", "x'*A*x", "--wrt", "x", "--wrt=A"] + statements)
  let listed = run(["derive", "x'*A*x", "--wrt", "x,A"] + statements)
  #expect(repeated.status == 0, "\(repeated.error)")
  #expect(repeated.output == listed.output)
  #expect(repeated.output.hasPrefix("(") && repeated.output.contains("np.outer"))
}

/// Every usage error exits 2 with a message naming the problem, and prints nothing.
@Test(arguments: [
  (["--format", "json", "--format", "text"], "--format is given twice ('json' and 'text')"),
  (["--order", "1", "--order=2"], "--order is given twice"),
  (["--layout", "numerator", "--layout", "numerator"], "--layout is given twice"),
  (["--sizes", "n=3", "--sizes", "n=4"], "--sizes is given twice"),
  (["--wrt", "x"], "--wrt names x twice"),
  (["--wrt=x,"], "--wrt takes NAME"),
  (["--steps=yes"], "--steps takes no value"),
  (["--format=pdf"], "--format takes"),
  (["--format="], "--format takes"),
  (["-w", "x"], "unknown option '-w' (did you mean --where or --wrt?)"),
  (["-v"], "unknown option '-v' (did you mean --version?)"),
  (["-wrt", "x"], "unknown option '-wrt' (did you mean --wrt?)"),
  (["-q"], "unknown option '-q' (see matcalc --help)"),
  (["--wrtt=x"], "unknown option '--wrtt'"),
  (["--sizes", "q=10"], "--sizes names q, which is not a dimension of the problem"),
  (["--sizes=q=10", "--format", "numpy"], "--sizes names q"),
])
func usageErrorsExitTwoAndNameTheProblem(_ flags: [String], message: String) {
  let result = run(["derive", "x'*x", "--wrt", "x"] + flags)
  #expect(result.status == 2)
  #expect(
    result.error == "error: \(message)\n" || result.error.hasPrefix("error: \(message)"),
    "\(result.error)")
  #expect(result.output.isEmpty)
}

/// A short option anywhere is named as an unknown option; an expression in the place of the
/// expression may begin with '-', and one given where no expression goes keeps the hint to quote.
@Test(arguments: [
  (["-w"], 2, "unknown option '-w'"),
  (["derive", "x'*x", "-w", "x"], 2, "unknown option '-w'"),
  (["derive", "-x", "--wrt", "x"], 0, "∂f/∂x = −I"),
  (["derive", "--wrt", "x", "-x"], 0, "∂f/∂x = −I"),
  (["derive", "--wrt", "x", "--", "-x"], 0, "∂f/∂x = −I"),
  (["derive", "x'*x", "-x'*x", "--wrt", "x"], 2, "derive takes one expression; quote it"),
  (["derive", "x'*x", "- x", "--wrt", "x"], 2, "derive takes one expression; quote it"),
])
func shortOptionsAreUnknownOptionsAndExpressionsMayBeginWithMinus(
  _ arguments: [String], status: Int32, message: String
) {
  let result = run(arguments)
  #expect(result.status == status, "\(result.error)")
  #expect((status == 0 ? result.output : result.error).contains(message), "\(result)")
}

/// A problem file takes --sizes too, and a size of no dimension is a usage error there.
@Test func sizesOfAProblemFileAreUsageErrors() {
  let problem = "x : vector(n)\nf = x'*x\nderive f wrt x\n"
  var output = Matcalc.Output()
  let status = Matcalc.run(["-", "--sizes=q=3"], output: &output) { Data(problem.utf8) }
  #expect(status == 2)
  #expect(output.standardError.contains("--sizes names q"), "\(output.standardError)")
}
