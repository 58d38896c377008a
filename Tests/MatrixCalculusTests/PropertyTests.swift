import Foundation
import TensorKernel
import Testing

@testable import MatrixCalculus

/// Random well-typed expressions over the language: shapes m×n, n×n (one symmetric), n×m,
/// vectors of n and m, scalars; functions, products, ⊙, transposes, powers, inverses.
struct ExpressionGenerator {
  enum Kind: CaseIterable { case scalar, vectorN, vectorM, matrixMN, squareN, matrixNM }

  static let declarations =
    "A : matrix(m, n); B : matrix(n, n); C : matrix(n, m); x : vector(n); y : vector(m); "
    + "z : vector(n); s : scalar; t : scalar; S : symmetric(n)"

  var random: SplitMix64

  mutating func pick<T>(_ options: [T]) -> T {
    options[Int(random.next() % UInt64(options.count))]
  }

  mutating func expression(_ kind: Kind, depth: Int) -> String {
    if depth == 0 || random.next() % 4 == 0 { return leaf(kind) }
    // Every compound is parenthesised: `*` and `.*` bind equally and would regroup.
    return "(" + compound(kind, depth - 1) + ")"
  }

  private mutating func compound(_ kind: Kind, _ d: Int) -> String {
    switch kind {
    case .scalar:
      switch random.next() % 17 {
      case 0: return "(\(expression(.vectorN, depth: d)))'*\(expression(.vectorN, depth: d))"
      case 1:
        return
          "\(expression(.vectorM, depth: d))'*\(expression(.matrixMN, depth: d))*\(expression(.vectorN, depth: d))"
      case 2: return "tr(\(expression(.squareN, depth: d)))"
      case 3: return "sum(\(expression(pick(Kind.allCases), depth: d)))"
      case 4: return "norm2(\(expression(pick([.vectorN, .matrixMN]), depth: d)))"
      case 5: return "\(expression(.scalar, depth: d))*\(expression(.scalar, depth: d))"
      case 6: return "(\(expression(.scalar, depth: d)) + \(expression(.scalar, depth: d)))"
      case 7: return "(\(expression(.scalar, depth: d)) - \(expression(.scalar, depth: d)))"
      case 8: return "sin(\(expression(.scalar, depth: d)))"
      case 9: return "tanh(\(expression(.scalar, depth: d)))"
      case 10: return "sigmoid(\(expression(.scalar, depth: d)))"
      case 11: return "(\(expression(.scalar, depth: d)))^2"
      case 12: return "logsumexp(\(expression(.vectorN, depth: d)))"
      case 13: return "log(1 + exp(\(expression(.scalar, depth: d))))"
      case 14: return "sqrt(1 + (\(expression(.scalar, depth: d)))^2)"
      case 15: return pick(["logdet(S)", "det(B)", "logdet(B*B' + S*S)", "tr(inv(S)*B)"])
      default: return "norm1(\(expression(.vectorM, depth: d)))"
      }
    case .vectorN:
      switch random.next() % 12 {
      case 0: return "\(expression(.squareN, depth: d))*\(expression(.vectorN, depth: d))"
      case 1: return "\(expression(.matrixNM, depth: d))*\(expression(.vectorM, depth: d))"
      case 2: return "(\(expression(.matrixMN, depth: d)))'*\(expression(.vectorM, depth: d))"
      case 3: return "(\(expression(.vectorN, depth: d)) + \(expression(.vectorN, depth: d)))"
      case 4: return "\(expression(.vectorN, depth: d)) .* \(expression(.vectorN, depth: d))"
      case 5: return "\(expression(.scalar, depth: d))*\(expression(.vectorN, depth: d))"
      case 6: return "tanh(\(expression(.vectorN, depth: d)))"
      case 7: return "sigmoid(\(expression(.vectorN, depth: d)))"
      case 8: return "softmax(\(expression(.vectorN, depth: d)))"
      case 9: return "diag(\(expression(.squareN, depth: d)))"
      case 10: return "sin(\(expression(.vectorN, depth: d)))"
      default: return "(\(expression(.vectorN, depth: d)) - \(expression(.vectorN, depth: d)))"
      }
    case .vectorM:
      switch random.next() % 5 {
      case 0: return "\(expression(.matrixMN, depth: d))*\(expression(.vectorN, depth: d))"
      case 1: return "(\(expression(.matrixNM, depth: d)))'*\(expression(.vectorN, depth: d))"
      case 2: return "\(expression(.vectorM, depth: d)) .* \(expression(.vectorM, depth: d))"
      case 3: return "tanh(\(expression(.vectorM, depth: d)))"
      default: return "\(expression(.scalar, depth: d))*\(expression(.vectorM, depth: d))"
      }
    case .matrixMN:
      switch random.next() % 8 {
      case 0: return "(\(expression(.matrixMN, depth: d)) + \(expression(.matrixMN, depth: d)))"
      case 1: return "\(expression(.matrixMN, depth: d))*\(expression(.squareN, depth: d))"
      case 2: return "\(expression(.vectorM, depth: d))*\(expression(.vectorN, depth: d))'"
      case 3: return "(\(expression(.matrixNM, depth: d)))'"
      case 4: return "\(expression(.matrixMN, depth: d)) .* \(expression(.matrixMN, depth: d))"
      case 5: return "tanh(\(expression(.matrixMN, depth: d)))"
      case 6: return "\(expression(.scalar, depth: d))*\(expression(.matrixMN, depth: d))"
      default: return "\(expression(.matrixMN, depth: d))*(\(expression(.squareN, depth: d)))'"
      }
    case .squareN:
      switch random.next() % 9 {
      case 0: return "\(expression(.squareN, depth: d))*\(expression(.squareN, depth: d))"
      case 1: return "(\(expression(.squareN, depth: d)))'"
      case 2: return "(\(expression(.squareN, depth: d)) + \(expression(.squareN, depth: d)))"
      case 3: return "\(expression(.matrixNM, depth: d))*\(expression(.matrixMN, depth: d))"
      case 4: return "\(expression(.vectorN, depth: d))*\(expression(.vectorN, depth: d))'"
      case 5: return "diag(\(expression(.vectorN, depth: d)))"
      case 6: return "\(expression(.scalar, depth: d))*\(expression(.squareN, depth: d))"
      case 7: return pick(["inv(S)", "B^2", "I(n)", "S^3"])
      default: return "(\(expression(.matrixMN, depth: d)))'*\(expression(.matrixMN, depth: d))"
      }
    case .matrixNM:
      switch random.next() % 4 {
      case 0: return "(\(expression(.matrixMN, depth: d)))'"
      case 1: return "(\(expression(.matrixNM, depth: d)) + \(expression(.matrixNM, depth: d)))"
      case 2: return "\(expression(.squareN, depth: d))*\(expression(.matrixNM, depth: d))"
      default: return "\(expression(.vectorN, depth: d))*\(expression(.vectorM, depth: d))'"
      }
    }
  }

  /// A random expression and one of its inputs to differentiate by (nil when it has none).
  mutating func problem(_ kind: Kind) throws -> (text: String, wrt: String)? {
    let text = expression(kind, depth: 3)
    let problem = try parseProblem(Self.declarations + "\nF = " + text)
    guard let body = problem.definitions.last?.body else { return nil }
    let candidates = names(in: body).sorted()
    guard !candidates.isEmpty else { return nil }
    return (text, pick(candidates))
  }

  mutating func leaf(_ kind: Kind) -> String {
    switch kind {
    case .scalar: return pick(["s", "t", "2", "0.5", "s", "t"])
    case .vectorN: return pick(["x", "z"])
    case .vectorM: return "y"
    case .matrixMN: return "A"
    case .squareN: return pick(["B", "S"])
    case .matrixNM: return "C"
    }
  }
}

/// What the property run saw.
struct PropertyTally {
  var derived = 0
  var refused = 0
  var secondOrder = 0
  var reparsed = 0
}

func names(in e: Expr) -> Set<String> {
  var result = Set<String>()
  var stack = [e]
  var seen = Set<Expr>()
  while let next = stack.popLast() {
    guard seen.insert(next).inserted else { continue }
    if case .variable(let name, _, _) = next.node { result.insert(name) }
    stack += next.children
  }
  return result
}

/// Derives, certifies, and re-reads one random expression; records an issue when anything
/// is wrong. Unsupported results count as refusals.
func exercise(_ text: String, wrt: String, tally: inout PropertyTally) throws {
  let declarations = ExpressionGenerator.declarations
  let derivation: Derivation
  do {
    derivation = try deriveUnchecked(text, wrt: wrt, where: declarations)
  } catch MatcalcError.unsupported {
    tally.refused += 1
    return
  }
  let certificate: Certificate
  do {
    certificate = try derivation.check(points: 1)
  } catch MatcalcError.numeric {
    tally.refused += 1  // e.g. a singular matrix at the point drawn: not printed, not wrong
    return
  }
  #expect(
    certificate.passed,
    "WRONG: ∂(\(text))/∂\(wrt) = \(derivation.result): \(certificate.worstEntry)")
  tally.derived += 1
  // A three- or four-index result prints in index form, not in the input language.
  if derivation.tensor != nil { return }
  // The printed result re-reads to an expression with the same values.
  let spelled = derivation.result.description
  let reread = try parseProblem(declarations + "\nR = " + spelled)
  let rereadBody = try #require(reread.definitions.last).body
  var generator = SplitMix64(seed: TestFunctions.stableHash(text))
  let sizes = certificate.sizes
  let requirements = Sampler.requirements(
    of: [derivation.objective, derivation.result], definitions: [])
  var values: [String: Tensor] = [:]
  for input in derivation.problem.inputs {
    values[input.name] = try Sampler.draw(
      input.expr.shape, requirements: requirements[input.name] ?? [],
      symmetric: Matcher.isSymmetric(input.expr), sizes: sizes, generator: &generator)
  }
  var evaluator = Evaluator(sizes: sizes, values: values)
  do {
    let original = try evaluator.evaluate(derivation.result)
    let again = try evaluator.evaluate(rereadBody)
    let gap = original.zip(again, -)?.maxAbs ?? .infinity
    #expect(gap <= 1e-9 * max(1, original.maxAbs), "\(text): \(spelled) re-read differently")
    tally.reparsed += 1
  } catch MatcalcError.numeric {
    // Singular at this point; the certificate above already judged the formula.
  }
  // Second order where it is defined (a scalar of a scalar or a vector).
  if derivation.objective.isScalar && derivation.variable.shape.cols == .one {
    do {
      let hessian = try deriveUnchecked(text, wrt: wrt, where: declarations, order: 2)
      let second = try hessian.check(points: 1)
      #expect(
        second.passed, "WRONG: ∂²(\(text))/∂\(wrt)² = \(hessian.result): \(second.worstEntry)")
      tally.secondOrder += 1
    } catch MatcalcError.unsupported {
      tally.refused += 1
    } catch MatcalcError.numeric {
      tally.refused += 1
    }
  }
}

@Test func randomExpressionsAreCertifiedOrRefused() throws {
  let count = Int(ProcessInfo.processInfo.environment["MATCALC_PROPERTY_COUNT"] ?? "") ?? 10_000
  var generator = ExpressionGenerator(random: SplitMix64(seed: 20_261_121))
  var tally = PropertyTally()
  for index in 0..<count {
    let kind: ExpressionGenerator.Kind = index % 5 == 4 ? .vectorN : .scalar
    guard let (text, wrt) = try generator.problem(kind) else { continue }
    try exercise(text, wrt: wrt, tally: &tally)
  }
  // Nearly every random expression must be derivable: 3/4-index results print in index
  // form, Jacobians with summed indices are raised; refusals are rare corner cases.
  #expect(tally.derived >= count * 85 / 100, "\(tally)")
  #expect(tally.refused <= count / 100, "\(tally)")
  print("property run: \(count) expressions, \(tally)")
}
