import Foundation
import TensorKernel

/// The numeric certificate of a derived formula: central finite differences of the original
/// against the formula, on random inputs with pairwise-distinct dimension sizes.
public struct Certificate: Sendable, CustomStringConvertible {
  /// The largest relative error: ‖fd − formula‖∞ / max(‖fd‖∞, ‖formula‖∞).
  public var maxRelativeError: Double
  /// The sizes the dimension symbols had (at the worst seed).
  public var sizes: [String: Int]
  /// The worst entry, in words.
  public var worstEntry: String
  /// Whether every seed passed.
  public var passed: Bool
  /// The number of random points checked.
  public var points: Int
  /// Every size assignment a point was checked at, in order (the dimensions' orderings
  /// alternate).
  public var checkedSizes: [[String: Int]] = []
  /// Where the objective is defined but the formula is not (an inverse that exists only
  /// for a tall X), when it held at the other sizes: the condition the formula needs.
  public var undefinedAt: (sizes: [String: Int], reason: String)?
  /// Why the check failed when it is not a numeric disagreement.
  public var failure: String?

  /// Every distinct size assignment checked, in order (the sizes at the worst seed when no
  /// list was kept): what the certificate's line and JSON's `check.sizes` state.
  public var sizeDraws: [[String: Int]] {
    var assignments: [[String: Int]] = []
    for assignment in checkedSizes.isEmpty ? [sizes] : checkedSizes
    where !assignments.contains(assignment) {
      assignments.append(assignment)
    }
    return assignments
  }

  /// `checked: max rel. error 3e-10 at sizes m=3, n=4`.
  public var description: String {
    let sizeText = sizeDraws.map(Checker.describe).filter { !$0.isEmpty }
      .joined(separator: " and ")
    let error = String(format: "%.0e", maxRelativeError)
    let head = passed ? "checked" : "CHECK FAILED"
    var text =
      "\(head): max rel. error \(error)" + (sizeText.isEmpty ? "" : " at sizes \(sizeText)")
    if let undefinedAt {
      text +=
        " (at sizes \(Checker.describe(undefinedAt.sizes)) f is defined but the formula is not: "
        + "\(undefinedAt.reason))"
    }
    return text
  }
}

/// Compares derived formulas with central finite differences.
enum Checker {
  /// Largest accepted relative error for central differences.
  static let tolerance = 1e-6

  /// Checks that `gradient` is ∂objective/∂variable at `points` random points.
  ///
  /// - Parameters:
  ///   - objective: a scalar expression over the problem's inputs and definitions.
  ///   - variable: an input of the problem.
  ///   - gradient: the formula, shaped like `variable`; may use the definitions.
  ///   - problem: gives inputs, shapes and definitions.
  ///   - intermediates: named values the formula uses beyond the definitions (adjoints δD).
  ///   - points: how many random points to check.
  /// - Returns: the certificate (passed or not); throws only when nothing can be evaluated.
  static func checkGradient(
    of objective: Expr, withRespectTo variable: Expr, gradient: Expr, in problem: Problem,
    intermediates: [Problem.Definition] = [], points: Int = 2
  ) throws -> Certificate {
    try check(
      of: objective, withRespectTo: variable, formula: gradient, isJacobian: false, in: problem,
      intermediates: intermediates, points: points)
  }

  /// Checks that `jacobian` is the derivative of a vector (or scalar) `function` with
  /// respect to a vector or scalar variable: `J_ij = ∂F_i/∂x_j`, rows the entries of F.
  ///
  /// - Returns: the certificate, comparing J v with (F(x + hv) − F(x − hv)) / 2h.
  static func checkJacobian(
    of function: Expr, withRespectTo variable: Expr, jacobian: Expr, in problem: Problem,
    points: Int = 2
  ) throws -> Certificate {
    try check(
      of: function, withRespectTo: variable, formula: jacobian, isJacobian: true, in: problem,
      intermediates: [], points: points)
  }

  /// Checks a derivative whose value comes from `jacobian` (rows the entries of F, columns
  /// the entries of X) against central differences of `function`.
  static func checkJacobian(
    of function: Expr, withRespectTo variable: Expr, in problem: Problem, points: Int = 2,
    jacobian: @escaping (inout Evaluator) throws -> Tensor
  ) throws -> Certificate {
    try check(
      of: function, withRespectTo: variable, formula: variable, isJacobian: true, in: problem,
      intermediates: [], points: points, custom: jacobian)
  }

  /// Checks a derivative whose value comes from `jacobian` against central differences of
  /// a function given by its values (a first derivative in index form, flattened to one
  /// column); `objective` names the inputs' domains.
  static func checkJacobian(
    values function: @escaping (inout Evaluator) throws -> Tensor, requiring objective: Expr,
    withRespectTo variable: Expr, in problem: Problem, points: Int = 2,
    jacobian: @escaping (inout Evaluator) throws -> Tensor
  ) throws -> Certificate {
    try check(
      of: objective, withRespectTo: variable, formula: variable, isJacobian: true, in: problem,
      intermediates: [], points: points, custom: jacobian, function: function)
  }

  private static func check(
    of objective: Expr, withRespectTo variable: Expr, formula gradient: Expr,
    isJacobian: Bool, in problem: Problem, intermediates: [Problem.Definition], points: Int,
    custom: ((inout Evaluator) throws -> Tensor)? = nil,
    function: ((inout Evaluator) throws -> Tensor)? = nil
  ) throws -> Certificate {
    var worst = Certificate(
      maxRelativeError: 0, sizes: [:], worstEntry: "", passed: true, points: 0)
    guard case .variable(let name, _, let symmetric) = variable.node else {
      throw MatcalcError.internalError("checking a gradient with respect to \(variable)")
    }
    let requirements = Sampler.requirements(
      of: [objective, gradient], definitions: problem.definitions)
    let shapes = problem.inputs.map(\.expr.shape)
    var lastError: Error?
    var checked = 0
    var attempt = 0
    let deadline = Deadline()
    let maximumAttempts = points + 6
    var failed = false
    var undefinedAt: (sizes: [String: Int], reason: String)?
    while checked < points && attempt < maximumAttempts {
      attempt += 1
      // The orderings of the dimensions alternate (sizes 2, 3, 4, … forward, then reversed):
      // a structural rank deficiency (det(AB) with a thin inner dimension) shows at one of
      // them, and an objective defined at one only (log det(XᵀX) needs a tall X) is checked
      // where it is defined.
      let sizes = Sampler.sizes(for: shapes, reversed: attempt % 2 == 0)
      var generator = SplitMix64(
        seed: TestFunctions.stableHash("\(objective) wrt \(name)") &+ UInt64(attempt))
      do {
        var values = try Sampler.draw(
          inputsOf: problem, requirements: requirements, sizes: sizes, generator: &generator)
        guard var point = values[name] else {
          throw MatcalcError.internalError("\(name) is not an input")
        }
        // The largest value met while evaluating F: its rounding error scales with this
        // (not with |F|, which may be a cancellation to nearly zero).
        var magnitude = 0.0
        func objectiveValue(at x: Tensor) throws -> Tensor {
          var inputs = values
          inputs[name] = x
          if let function {
            var evaluator = Evaluator(sizes: sizes, values: inputs)
            try evaluator.bind(problem.definitions)
            let result = try function(&evaluator)
            magnitude = max(magnitude, evaluator.largestMagnitude)
            return result
          }
          return try Self.value(
            of: objective, in: problem, sizes: sizes, values: inputs, magnitude: &magnitude)
        }
        values = try Self.movedIntoDomain(
          values, variables: [name], of: PlainSpelling.spell(objective), sizes: sizes
        ) { candidate in try candidate[name].map { try objectiveValue(at: $0) } }
        guard let moved = values[name] else {
          throw MatcalcError.internalError("\(name) is not an input")
        }
        point = moved
        func value(at x: Tensor, _ expression: Expr, _ extra: [Problem.Definition] = [])
          throws -> Tensor
        {
          var evaluator = Evaluator(sizes: sizes, values: values)
          evaluator.values[name] = x
          try evaluator.bind(problem.definitions + extra)
          let result = try evaluator.evaluate(expression)
          magnitude = max(magnitude, evaluator.largestMagnitude)
          return result
        }
        let formula: Tensor
        do {
          if let custom {
            var evaluator = Evaluator(sizes: sizes, values: values)
            try evaluator.bind(problem.definitions + intermediates)
            formula = try custom(&evaluator)
          } else {
            formula = try value(at: point, gradient, intermediates)
          }
        } catch let error as MatcalcError {
          if case .limit = error { throw error }
          // F is defined here and the formula is not (the inverse of a singular A B): it is
          // not F's derivative at these sizes. Certified only where it holds, and saying so.
          undefinedAt = (sizes, error.message)
          continue
        }
        magnitude = 0  // only F's own evaluations set the scale of its rounding
        let directions = Self.directions(
          rows: point.rows, cols: point.cols, symmetric: symmetric, generator: &generator)
        let h = 1e-5 * max(1, point.frobeniusNorm)
        var largest = 0.0
        var noise = 0.0
        var worstDifference = 0.0
        var worstExcess = 0.0
        var worstText = ""
        for (label, direction) in directions {
          try deadline.checkNow()
          func shifted(_ step: Double) throws -> [Double] {
            guard let moved = point.zip(direction, { $0 + step * $1 }) else {
              throw MatcalcError.internalError("direction shape")
            }
            return try objectiveValue(at: moved).storage
          }
          let (up, down) = (try shifted(h), try shifted(-h))
          let (farUp, farDown) = (try shifted(2 * h), try shifted(-2 * h))
          // Richardson: (4 D(h) − D(2h)) / 3 cancels the h² error of the central difference.
          var differences: [Double] = []
          var allowances: [Double] = []
          for i in up.indices {
            let near = (up[i] - down[i]) / (2 * h)
            let far = (farUp[i] - farDown[i]) / (4 * h)
            differences.append((4 * near - far) / 3)
            // Rounding in F itself limits what a difference can resolve, about ε |F| / h;
            // where F loses digits (1 − tanh² near saturation) the two step sizes disagree,
            // and that disagreement bounds the error of the extrapolated value.
            let rounding = 64 * Double.ulpOfOne * magnitude / h
            noise = max(noise, rounding)
            allowances.append(rounding + abs(near - far))
          }
          // J v for a Jacobian (rows the entries of F); Σ G ⊙ V for a gradient.
          let predictions: [Double]
          if isJacobian {
            guard formula.rows == differences.count, formula.cols == direction.count else {
              throw MatcalcError.internalError(
                "Jacobian is \(formula.rows)×\(formula.cols), expected "
                  + "\(differences.count)×\(direction.count)")
            }
            predictions = (0..<formula.rows).map { i in
              (0..<formula.cols).reduce(0) { $0 + formula[i, $1] * direction.storage[$1] }
            }
          } else {
            guard let along = formula.zip(direction, *) else {
              throw MatcalcError.internalError("gradient shape")
            }
            predictions = [along.sum]
          }
          for (output, (difference, predicted)) in zip(differences, predictions).enumerated() {
            largest = max(largest, abs(difference), abs(predicted))
            // Only what exceeds the difference's own error counts (a wrong formula is off by
            // far more than that).
            let allowance = output < allowances.count ? allowances[output] : 0
            let raw = abs(difference - predicted)
            // Written out so that a NaN propagates (max(0, NaN) would drop it).
            let excess = raw - allowance
            if excess.isNaN || excess > worstExcess { worstExcess = excess }
            if !(raw <= worstDifference) {
              worstDifference = raw
              let entry = isJacobian ? " of output \(output + 1)" : ""
              worstText =
                "\(label)\(entry): formula \(predicted), finite difference \(difference)"
            }
          }
        }
        // Scaled by the larger norm, but never finer than the differences can resolve.
        let scale = max(largest, noise)
        let relative = scale > 0 ? worstDifference / scale : worstDifference
        let excess = scale > 0 ? worstExcess / scale : worstExcess
        // Both sides exactly zero proves nothing (relu off, a dead branch): draw another
        // point while attempts remain; only the last attempt may count such a point.
        if largest == 0 && attempt < maximumAttempts { continue }
        checked += 1
        worst.checkedSizes.append(sizes)
        // The certificate reports the raw error; it fails only where the error exceeds what
        // the differences can resolve by more than the tolerance.
        // NaN or infinity anywhere (an overflow at the point drawn) proves nothing: a failure.
        if !(excess <= tolerance) || !relative.isFinite || !worstExcess.isFinite { failed = true }
        if !(relative <= worst.maxRelativeError) || checked == 1 {
          worst.maxRelativeError = relative.isNaN ? .infinity : relative
          worst.sizes = sizes
          worst.worstEntry = worstText
        }
      } catch let error as MatcalcError {
        if case .limit = error { throw error }
        lastError = error
      } catch {
        lastError = error
      }
    }
    if checked == 0, let undefinedAt {
      let at = undefinedAt.sizes.isEmpty ? "" : " at sizes \(Self.describe(undefinedAt.sizes))"
      worst.passed = false
      worst.maxRelativeError = .infinity
      worst.sizes = undefinedAt.sizes
      worst.failure =
        "f is defined\(at) but the formula cannot be evaluated there (\(undefinedAt.reason))"
      worst.worstEntry = worst.failure ?? ""
      return worst
    }
    if checked == 0 {
      throw lastError ?? MatcalcError.numeric("no point could be evaluated")
    }
    worst.undefinedAt = undefinedAt
    worst.points = checked
    worst.passed = !failed
    return worst
  }

  /// The value of `objective` at `values`: from the problem as written (index definitions
  /// entry by entry) when the objective is the written one or a name, else from its
  /// expression over the problem's definitions.
  static func value(
    of objective: Expr, in problem: Problem, sizes: [String: Int], values: [String: Tensor],
    magnitude: inout Double
  ) throws -> Tensor {
    if let written = problem.written {
      var evaluator = WrittenEvaluator(
        written, functions: problem.functions, sizes: sizes, values: values)
      if let result = try evaluator.objective(objective) {
        magnitude = max(magnitude, evaluator.largestMagnitude)
        return result
      }
    }
    var evaluator = Evaluator(sizes: sizes, values: values)
    try evaluator.bind(problem.definitions)
    let result = try evaluator.evaluate(objective)
    magnitude = max(magnitude, evaluator.largestMagnitude)
    return result
  }

  /// `values` moved inside the objective's domain (log, sqrt, log det of a difference): each
  /// variable in turn is halved, toward 0, until `objective` is finite there (x before b in
  /// −Σ log(b − A x)), then halved once more as margin.
  ///
  /// - Throws: "no point found where … is defined" after 16 tries per variable; errors of
  ///   `objective` other than numeric ones (outside the domain) propagate.
  static func movedIntoDomain(
    _ values: [String: Tensor], variables: [String], of name: String, sizes: [String: Int],
    objective: ([String: Tensor]) throws -> Tensor?
  ) throws -> [String: Tensor] {
    var values = values
    func inside() throws -> Bool {
      do {
        return try objective(values)?.storage.allSatisfy(\.isFinite) == true
      } catch MatcalcError.numeric {
        return false  // log det of a matrix with a negative determinant
      }
    }
    for variable in variables {
      for attempt in 0..<16 {
        if try inside() {
          if attempt > 0 { values[variable] = values[variable]?.map { $0 / 2 } }
          return values
        }
        values[variable] = values[variable]?.map { $0 / 2 }
      }
    }
    throw MatcalcError.numeric(
      "no point found where \(name) is defined (at sizes \(describe(sizes)))")
  }

  static func describe(_ sizes: [String: Int]) -> String {
    sizes.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
  }

  /// Unit directions for small variables (every entry checked), else random ones.
  private static func directions(
    rows: Int, cols: Int, symmetric: Bool, generator: inout SplitMix64
  ) -> [(String, Tensor)] {
    var result: [(String, Tensor)] = []
    if rows * cols <= 64 {
      for i in 0..<rows {
        for j in 0..<cols where !symmetric || j >= i {
          var e = Tensor(rows: rows, cols: cols)
          e[i, j] = 1
          if symmetric { e[j, i] = 1 }
          result.append(("entry (\(i + 1), \(j + 1))", e))
        }
      }
      return result
    }
    for k in 0..<8 {
      var v = Tensor(rows: rows, cols: cols)
      for index in v.storage.indices { v.storage[index] = generator.symmetricUnit() }
      if symmetric { v = v.zip(v.transposed, +) ?? v }
      result.append(("random direction \(k + 1)", v))
    }
    return result
  }
}
