import Foundation
import Testing

@testable import MatrixCalculus

/// The embedded rules plus a rule directory as `--rules DIR` reads it (each file's text by
/// name), written to a temporary directory, loaded and removed.
private func embeddedRules(plus files: [String: String]) throws -> RuleSet {
  let directory = FileManager.default.temporaryDirectory
    .appendingPathComponent("matcalc-rules-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(at: directory) }
  for (name, text) in files {
    try text.write(
      to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
  }
  return try RuleSet.embedded(plus: directory.path)
}

/// A wrong raising identity, replacing the embedded one by name, misreads an index
/// definition (X ⊙ Y read as X + Y); the certificate evaluates the definition as written, so
/// it rejects the result, which with the embedded rules it accepts.
@Test func certificateRejectsAWrongRaiseRule() throws {
  let wrong = try embeddedRules(plus: [
    "raise.rules":
      "let M : matrix(m, n); N : matrix(m, n)\nhadamard: M[i,j]*N[i,j] => (M + N)[i,j]\n"
  ])
  let statements = "X : matrix(m, n); Y : matrix(m, n); E[i,j] = X[i,j]*Y[i,j]"
  let misread = try deriveUnchecked("sum(E)", wrt: "X", where: statements, rules: wrong)
  #expect(MathRenderer(.text).render(misread.result) == "𝟏𝟏ᵀ")
  #expect(try !misread.check().passed)
  let right = try deriveUnchecked("sum(E)", wrt: "X", where: statements)
  #expect(MathRenderer(.text).render(right.result) == "Y")
  #expect(try right.check().passed)
}

/// A differential rule with its sign flipped, replacing `d-inverse` by name: the certificate
/// rejects aᵀX⁻¹b's gradient, for one variable and in a joint backward pass.
@Test func certificateRejectsAWrongDifferentialRule() throws {
  let wrong = try embeddedRules(plus: [
    "differentials.rules":
      "let X : matrix(n, n)\nd-inverse: d(inv(X)) => inv(X)*d(X)*inv(X)   when invertible(X)\n"
  ])
  #expect(wrong.rules.count == RuleSet.embedded.rules.count)
  let statements = "a : vector(n); X : matrix(n, n); b : vector(n)"
  #expect(
    try !deriveUnchecked("a'*inv(X)*b", wrt: "X", where: statements, rules: wrong).check().passed)
  #expect(try deriveUnchecked("a'*inv(X)*b", wrt: "X", where: statements).check().passed)
  let joint = try deriveUnchecked("a'*inv(X)*b", wrt: ["X", "a"], where: statements, rules: wrong)
  #expect(try !joint.check().passed)
  // The library returns nothing the check rejects: derive throws, for one and several.
  for attempt in [
    { _ = try derive("a'*inv(X)*b", wrt: "X", where: statements, rules: wrong) },
    { _ = try derive("a'*inv(X)*b", wrt: ["X", "a"], where: statements, rules: wrong) },
  ] as [() throws -> Void] {
    do {
      try attempt()
      Issue.record("a wrong gradient was returned")
    } catch MatcalcError.checkFailed(let message) {
      #expect(message.contains("not returned") || message.contains("nothing is returned"))
    }
  }
  let right = try derive("a'*inv(X)*b", wrt: "X", where: statements)
  #expect(right.certificate?.passed == true)
  #expect(try right.render(.text).contains("checked: max rel. error"))
}

/// A wrong `transpose-sum`, replacing the embedded one by name: the gradient of xᵀAx never
/// transposes a sum, so its standard form (A + Aᵀ) x is right and passes; numerator layout
/// prints its transpose, where the rule fires, and the certificate checks that form as
/// printed, so it rejects it; also when several variables share one backward pass.
@Test func certificateChecksTheLayoutAsPrinted() throws {
  let wrong = try embeddedRules(plus: [
    "simplify.rules": "let A : matrix(m, n); C : matrix(m, n)\ntranspose-sum: (A + C)' => A' - C'\n"
  ])
  let statements = "A : matrix(n, n); x : vector(n)"
  let derivation = try deriveUnchecked("x'*A*x", wrt: "x", where: statements, rules: wrong)
  #expect(try derivation.check().passed)
  #expect(try !derivation.check(layout: .numerator).passed)
  let right = try deriveUnchecked("x'*A*x", wrt: "x", where: statements)
  #expect(try right.laidOut(.numerator) != derivation.laidOut(.numerator))
  #expect(try right.check(layout: .numerator).passed)
  // The same for several variables in one backward pass.
  let several = "A : matrix(n, n); x : vector(n); b : vector(n)"
  let joint = try deriveUnchecked("x'*A*x + b'*x", wrt: ["x", "b"], where: several, rules: wrong)
  #expect(try joint.check().passed)
  #expect(try !joint.check(layout: .numerator).passed)
  #expect(
    try deriveUnchecked("x'*A*x + b'*x", wrt: ["x", "b"], where: several).check(layout: .numerator)
      .passed)
  // A checked result rendered in another layout is checked there: the wrong transpose is
  // refused, the right one prints with its certificate.
  let certified = try derive("x'*A*x", wrt: "x", where: statements, rules: wrong)
  #expect(throws: MatcalcError.self) { try certified.render(.text, layout: .numerator) }
  let jointly = try derive("x'*A*x + b'*x", wrt: ["x", "b"], where: several, rules: wrong)
  #expect(throws: MatcalcError.self) { try jointly.render(.text, layout: .numerator) }
  let printed = try derive("x'*A*x", wrt: "x", where: statements).render(.text, layout: .numerator)
  #expect(printed.contains("checked: max rel. error"), "\(printed)")
}
