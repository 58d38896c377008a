import Testing

@testable import MatrixCalculus

@Test func embeddedRulesAreAllLoaded() {
  // A broken rule file makes the embedded set empty (and logs); every file must load.
  let files = Set(RuleSet.embedded.rules.map(\.file))
  #expect(files == ["differentials.rules", "simplify.rules"])
}

@Test(arguments: RuleSet.embedded.rules)
func ruleHoldsNumerically(_ rule: Rule) throws {
  let report = try Checker.check(rule, points: 3)
  #expect(report.passed, "\(rule.name) at \(rule.location): \(report.worstEntry)")
}

@Test(arguments: [
  "wrong-transpose: (A*B)' => A'*B'",
  "wrong-inverse: d(inv(A)) => inv(A) * d(A) * inv(A)     when invertible(A)",
  "wrong-tanh: d(tanh(x)) => (1 + tanh(x)^2) * d(x)",
  "wrong-logdet: d(logdet(A)) => tr(A * d(A))     when posdef(A)",
  "wrong-trace: tr(A*B) => tr(A)*tr(B)",
])
func wrongRuleFailsTheCheck(_ line: String) throws {
  let text = "let A : matrix(n, n); B : matrix(n, n); x : scalar\n\(line)"
  let rules = try RuleFile.parse(text, file: "wrong.rules")
  let report = try Checker.check(try #require(rules.first), points: 3)
  #expect(!report.passed)
}

@Test(arguments: [
  ("let A : matrix(m, n)\na: A => A\na: A' => A'", 3, "duplicate rule name"),
  ("let A : matrix(m, n); B : matrix(m, n)\nb: A => B", 2, "right side only"),
  ("let A : matrix(m, n)\nc: A => A'", 2, "different shapes"),
  ("let A : matrix(m, n)\nd: A => Q", 2, "unknown name"),
  ("let A : matrix(n, n)\ne: inv(A) => inv(A)  when happy(A)", 2, "unknown domain"),
  ("let A : matrix(n, n)\nNotKebab: A => A", 2, "kebab-case"),
])
func brokenRuleFileReportsLine(_ text: String, line: Int, message: String) throws {
  do {
    _ = try RuleSet(try RuleFile.parse(text, file: "broken.rules"))
    Issue.record("\(message) was accepted")
  } catch let error as MatcalcError {
    guard case .rule(let text, let file, let at) = error else {
      Issue.record("unexpected \(error)")
      return
    }
    #expect(file == "broken.rules")
    #expect(at == line)
    #expect(text.contains(message), "\(text)")
  }
}
