import Foundation
import TensorKernel

/// The certificate of emitted code: the program exactly as printed (`--format numpy`'s line,
/// `--format python|jax`'s function) is run by ``PythonInterpreter`` with NumPy's semantics at
/// sample points drawn as the certificate draws them, and each result must have the shape
/// S_F + S_X (shared/LANGUAGE.md) and the values of the checked formula. A disagreement is a
/// ``MatcalcError/internalError(_:)``: the code is never printed.
struct EmittedCodeCheck {
  /// One result the code returns: its name in messages, its axes (dimension names or sizes)
  /// and its value from the checked formula.
  struct Expected {
    var label: String
    var axes: [String]
    var value: (inout Evaluator) throws -> Tensor
  }

  /// The problem whose inputs the code takes.
  var problem: Problem
  /// The objective, whose domain the points are drawn in.
  var objective: Expr
  /// The variables moved into the objective's domain (as the certificate moves them).
  var variables: [String]
  /// The checked formulas (for the domains their inverses and logarithms need).
  var formulas: [Expr]
  /// What the formulas refer to: the problem's definitions, then named intermediates.
  var definitions: [Problem.Definition]

  /// The largest accepted difference, relative to the largest magnitude involved.
  static let tolerance = 1e-8

  /// Runs `text` (printed in `format`; for a function, `function` is called) at the
  /// certificate's sizes and compares what it returns (a tuple when `tuple`) with `expected`.
  ///
  /// - Throws: ``MatcalcError/internalError(_:)`` naming the format and the shape or the worst
  ///   entry when the code does not run or disagrees; limit errors as they come.
  func verify(
    _ text: String, format: OutputFormat, function: String? = nil, expected: [Expected],
    tuple: Bool, certificate: Certificate
  ) throws {
    // An opaque function (L : function) has no NumPy value to call the code with: a backward
    // function takes its upstream gradient as a parameter. Such code is not evaluated here.
    guard problem.functions.isEmpty else { return }
    var assignments: [[String: Int]] = []
    for sizes in certificate.checkedSizes + [certificate.sizes] where !assignments.contains(sizes) {
      assignments.append(sizes)
    }
    if certificate.checkedSizes.isEmpty {
      let shapes = problem.inputs.map(\.expr.shape)
      for sizes in [Sampler.sizes(for: shapes), Sampler.sizes(for: shapes, reversed: true)]
      where !assignments.contains(sizes) {
        assignments.append(sizes)
      }
    }
    let requirements = Sampler.requirements(
      of: [objective] + formulas, definitions: problem.definitions)
    var checked = 0
    var lastReason = "no sizes to check at"
    for sizes in assignments.prefix(2) {
      for attempt in 0..<4 {
        var generator = SplitMix64(
          seed: TestFunctions.stableHash("\(objective) emitted") &+ UInt64(attempt))
        let values: [String: Tensor]
        let results: [Tensor]
        let magnitude: Double
        do {
          var drawn = try Sampler.draw(
            inputsOf: problem, requirements: requirements, sizes: sizes, generator: &generator)
          drawn = try Checker.movedIntoDomain(
            drawn, variables: variables, of: PlainSpelling.spell(objective), sizes: sizes
          ) { candidate in
            var magnitude = 0.0
            return try Checker.value(
              of: objective, in: problem, sizes: sizes, values: candidate, magnitude: &magnitude)
          }
          var evaluator = Evaluator(sizes: sizes, values: drawn)
          try evaluator.bind(definitions)
          var computed: [Tensor] = []
          for item in expected { computed.append(try item.value(&evaluator)) }
          guard computed.allSatisfy({ $0.storage.allSatisfy(\.isFinite) }) else {
            lastReason = "the formula is not finite at the points drawn"
            continue
          }
          values = drawn
          results = computed
          magnitude = evaluator.largestMagnitude
        } catch MatcalcError.numeric(let reason) {
          // Outside the formula's domain here: another point.
          lastReason = reason
          continue
        }
        try compare(
          text, format: format, function: function, values: values, sizes: sizes,
          expected: expected,
          formulas: results, magnitude: magnitude, tuple: tuple)
        checked += 1
        break
      }
    }
    guard checked > 0 else {
      throw MatcalcError.internalError(
        "the emitted --format \(format.rawValue) code could not be checked: no point where the "
          + "formula evaluates (\(lastReason)); it is not printed")
    }
  }

  /// The inputs as the code receives them (shared/LANGUAGE.md): a scalar a float, a vector a
  /// 1-D array, a matrix a 2-D array; keyed by input name.
  func arguments(_ values: [String: Tensor]) throws -> [String: PythonValue] {
    var result: [String: PythonValue] = [:]
    for input in problem.inputs {
      guard let value = values[input.name] else { continue }
      switch input.type {
      case .scalar:
        result[input.name] = .array(NDArray(scalar: value.scalar))
      case .vector, .simplex:
        result[input.name] = .array(try NDArray(shape: [value.count], storage: value.storage))
      case .matrix, .symmetric:
        result[input.name] = .array(NDArray(value))
      case .function, .elementwise:
        continue
      }
    }
    return result
  }

  private func compare(
    _ text: String, format: OutputFormat, function: String?, values: [String: Tensor],
    sizes: [String: Int],
    expected: [Expected], formulas: [Tensor], magnitude: Double, tuple: Bool
  ) throws {
    let at = sizes.isEmpty ? "" : " (at sizes \(Checker.describe(sizes)))"
    let code = "the emitted --format \(format.rawValue) code"
    let inputs = try arguments(values)
    var interpreter = PythonInterpreter()
    let value: PythonValue
    do {
      switch format {
      case .python, .jax:
        let renderer = NumpyRenderer(
          problem: problem, style: format == .jax ? .jaxFunction : .numpyFunction)
        var byParameter: [String: PythonValue] = [:]
        for input in problem.inputs {
          byParameter[renderer.inputReference(input.name)] = inputs[input.name]
        }
        value = try interpreter.call(module: text, function: function, arguments: byParameter)
      default:
        value = try interpreter.evaluate(text, globals: inputs)
      }
    } catch let error as MatcalcError {
      if case .limit = error { throw error }
      throw MatcalcError.internalError(
        "\(code) does not run\(at): \(error.message); it is not printed")
    }
    let items: [PythonValue]
    if tuple {
      guard case .tuple(let parts) = value, parts.count == expected.count else {
        throw MatcalcError.internalError(
          "\(code) returns \(value.typeName), not a tuple of \(expected.count)\(at); it "
            + "is not printed")
      }
      items = parts
    } else {
      items = [value]
    }
    for (item, (expectation, formula)) in zip(items, zip(expected, formulas)) {
      let got: NDArray
      switch item {
      case .array(let a): got = a
      case .integer(let n): got = NDArray(scalar: Double(n))
      default:
        throw MatcalcError.internalError(
          "\(code) returns \(item.typeName) for \(expectation.label)\(at); it is not printed")
      }
      let shape = try expectation.axes.map { axis -> Int in
        if let n = Int(axis) { return n }
        guard let n = sizes[axis] else {
          throw MatcalcError.internalError("no size for dimension \(axis) of the result")
        }
        return n
      }
      guard got.shape == shape else {
        throw MatcalcError.internalError(
          "\(code) gives shape \(Self.shapeText(got.shape)) for \(expectation.label), whose "
            + "shape is \(Self.shapeText(shape)) = (\(expectation.axes.joined(separator: ", ")))"
            + "\(at); it is not printed")
      }
      guard got.count == formula.count else {
        throw MatcalcError.internalError(
          "\(code) gives \(got.count) entries for \(expectation.label), the formula "
            + "\(formula.count)\(at); it is not printed")
      }
      var worst = 0.0
      var worstIndex = 0
      // Rounding in either scales with the largest value the formula's evaluation met.
      var scale = magnitude
      for (k, (a, b)) in zip(got.storage, formula.storage).enumerated() {
        scale = max(scale, Swift.abs(a), Swift.abs(b))
        let gap = Swift.abs(a - b)
        if !(gap <= worst) {
          worst = gap.isNaN ? .infinity : gap
          worstIndex = k
        }
      }
      guard worst <= Self.tolerance * max(scale, 1e-300) || worst == 0 else {
        var index: [Int] = []
        var rest = worstIndex
        for d in shape.reversed() {
          index.insert(d > 0 ? rest % d : 0, at: 0)
          rest = d > 0 ? rest / d : 0
        }
        throw MatcalcError.internalError(
          "\(code) differs from the checked formula for \(expectation.label) at entry "
            + "\(Self.shapeText(index)): code \(got.storage[worstIndex]), formula "
            + "\(formula.storage[worstIndex])\(at); it is not printed")
      }
    }
  }

  /// `(3, 2)`, `(3,)`, `()`.
  static func shapeText(_ shape: [Int]) -> String {
    shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
  }
}
